"""Exact log-likelihood of slow drift plus fresh noise, in linear time.

Per observation ``t`` of a run (residual ``r_t`` from the curve)::

    r_t = loading_t * offset + d_t + e_t,   e_t ~ Normal(0, sigma)
    d_t = corr * d_(t-1) + w_t,             w_t ~ Normal(0, drift_sd * sqrt(1 - corr**2))

with ``d`` stationary (standard deviation ``drift_sd``) at each run's first
evaluation, and ``offset ~ Normal(0, offset_sd)`` one value per run: a run-level
deviation of a law parameter that the curve is linear in (the sigmoid's asymptote
``A``, whose loading is ``1 / (1 + (C_mid / C)^B)``). A scalar Kalman filter
integrates the drift out: one pass over the observations gives the one-step
predictive log-densities ``log p(r_t | r_(run start) .. r_(t-1))`` given the
offset. The offset is integrated out exactly as well: the same filter run on the
loadings whitens them with the same gains, and the rank-one update of each run's
covariance (``offset_sd**2 * loading loading'``) adds one term per run, placed on
the run's last observation (matrix determinant lemma and Sherman-Morrison). The
sum is the exact marginal log-likelihood; cost and memory are linear in the
number of observations. ``offset_sd = 0`` gives the drift-plus-noise model alone.

:func:`kalman_filter` runs the filter and, in the same pass, forward-mode
tangents of every term with respect to the four scalar parameters.
:func:`filter_gradient` turns that pass into the gradient: the reverse (adjoint)
recursions for the residuals and the loadings, the weighted tangents for the
parameters. :class:`DriftLogDensities` wraps both as a PyTensor Op with a numba
implementation, so nutpie samples it compiled, with its exact gradient, and the
gradient reuses the filter's pass instead of running it again.
:func:`offset_posterior` reads each run's offset posterior off the same pass.

Examples
--------
>>> import numpy as np
>>> r = np.array([0.01, -0.02, 0.005])
>>> zero = np.zeros(3)
>>> log_density, _ = kalman_filter(r, zero, np.array([0, 1, 2]), 0.01, 1e-12, 0.5, 0.0)
>>> np.allclose(log_density, -0.5 * (np.log(2 * np.pi * 1e-4) + r**2 / 1e-4))  # iid Normal
True
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from bayescale.model.op_versions import source_version

_LOG_2PI = float(np.log(2.0 * np.pi))

#: Columns of the filter's second output (per observation). ``d_*``: derivatives
#: of the observation's log-density term (residuals and loadings held fixed);
#: ``offset_*``: at a run's last observation, the derivatives of the run's offset
#: term with respect to ``q_lr`` and ``q_ll`` (0 elsewhere); ``q_lr``, ``q_ll``:
#: the whitened products loading'Sigma^-1 residual and loading'Sigma^-1 loading
#: accumulated over the run so far.
FILTER_COLUMNS = (
    "d_sigma",
    "d_drift_sd",
    "d_corr",
    "d_offset_sd",
    "gain",
    "inverse_variance",
    "innovation",
    "loading_innovation",
    "offset_lr",
    "offset_ll",
    "q_lr",
    "q_ll",
)
_N_PARAMETERS = 4


@numba.njit(cache=True)
def kalman_filter(
    residual: np.ndarray,
    loading: np.ndarray,
    step_in_run: np.ndarray,
    sigma: float,
    drift_sd: float,
    corr: float,
    offset_sd: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-density terms of the residuals, and what their gradient needs.

    Parameters
    ----------
    residual : ndarray of float, shape (n,)
        Observation minus curve, runs one after another, each in evaluation order.
    loading : ndarray of float, shape (n,)
        How much a unit run offset moves each observation (zeros: no offset).
    step_in_run : ndarray of int, shape (n,)
        Position of each observation in its run; 0 starts a new run.
    sigma, drift_sd, corr, offset_sd : float
        Measurement noise, stationary drift standard deviation, step-to-step
        drift correlation (``|corr| < 1``), standard deviation of the run offset.

    Returns
    -------
    log_density : ndarray, shape (n,)
        ``log p(r_t | earlier r of the run, offset)``, plus the run's offset
        term on its last observation; the sum is the marginal log-likelihood.
    filtered : ndarray, shape (n, 12)
        Columns :data:`FILTER_COLUMNS`.
    """
    n = residual.shape[0]
    log_density = np.empty(n)
    filtered = np.zeros((n, 12))
    noise_var = sigma * sigma
    drift_var = drift_sd * drift_sd
    corr2 = corr * corr
    one_minus = 1.0 - corr2
    innovation_var = drift_var * one_minus
    offset_var = offset_sd * offset_sd
    state = state_l = state_var = 0.0
    # tangents with respect to sigma, drift_sd, corr (index 0, 1, 2) of the filtered
    # state (a), the filtered loading state (b), the filtered variance (f), and of
    # the run's accumulated q_lr (x) and q_ll (z)
    a = np.zeros(3)
    b = np.zeros(3)
    f = np.zeros(3)
    x = np.zeros(3)
    z = np.zeros(3)
    m = np.zeros(3)
    m_l = np.zeros(3)
    p = np.zeros(3)
    q_lr = q_ll = 0.0
    for t in range(n):
        if step_in_run[t] == 0:
            mean = mean_l = 0.0
            var = drift_var
            q_lr = q_ll = 0.0
            for k in range(3):
                m[k] = m_l[k] = p[k] = x[k] = z[k] = 0.0
            p[1] = 2.0 * drift_sd
        else:
            mean, mean_l = corr * state, corr * state_l
            var = corr2 * state_var + innovation_var
            for k in range(3):
                m[k], m_l[k], p[k] = corr * a[k], corr * b[k], corr2 * f[k]
            m[2] += state
            m_l[2] += state_l
            p[1] += 2.0 * drift_sd * one_minus
            p[2] += 2.0 * corr * (state_var - drift_var)
        inverse = 1.0 / (var + noise_var)
        v = residual[t] - mean
        v_l = loading[t] - mean_l
        gain = var * inverse
        keep = 1.0 - gain
        log_density[t] = -0.5 * (_LOG_2PI - np.log(inverse) + v * v * inverse)
        # d log_density = -0.5 (1/total - v**2/total**2) d total + v / total d mean
        half = -0.5 * inverse * (1.0 - v * v * inverse)
        q_lr += v_l * v * inverse
        q_ll += v_l * v_l * inverse
        for k in range(3):
            d_total = p[k] + (2.0 * sigma if k == 0 else 0.0)
            filtered[t, k] = half * d_total + v * inverse * m[k]
            x[k] += -(m_l[k] * v + v_l * m[k]) * inverse - v_l * v * inverse * inverse * d_total
            z[k] += -2.0 * v_l * m_l[k] * inverse - v_l * v_l * inverse * inverse * d_total
            d_gain = (p[k] - gain * d_total) * inverse
            a[k] = keep * m[k] + d_gain * v
            b[k] = keep * m_l[k] + d_gain * v_l
            f[k] = p[k] * keep - var * d_gain
        state = mean + gain * v
        state_l = mean_l + gain * v_l
        state_var = var * keep
        filtered[t, 4], filtered[t, 5], filtered[t, 6], filtered[t, 7] = gain, inverse, v, v_l
        filtered[t, 10], filtered[t, 11] = q_lr, q_ll
        if t == n - 1 or step_in_run[t + 1] == 0:
            # the run's offset term 0.5 u q_lr^2 / D - 0.5 log D, D = 1 + u q_ll
            spread = 1.0 + offset_var * q_ll
            log_density[t] += 0.5 * offset_var * q_lr * q_lr / spread - 0.5 * np.log(spread)
            by_lr = offset_var * q_lr / spread
            by_ll = -0.5 * (by_lr * by_lr + offset_var / spread)
            for k in range(3):
                filtered[t, k] += by_lr * x[k] + by_ll * z[k]
            filtered[t, 3] = offset_sd * (q_lr * q_lr / (spread * spread) - q_ll / spread)
            filtered[t, 8], filtered[t, 9] = by_lr, by_ll
    return log_density, filtered


@numba.njit(cache=True)
def filter_gradient(
    filtered: np.ndarray, step_in_run: np.ndarray, corr: float, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient of ``sum(weight * log_density)`` from :func:`kalman_filter`'s pass.

    The residuals' and loadings' parts are the filter's adjoint recursions, run
    backwards (the variances and gains do not depend on them); the parameters'
    part weights the per-observation tangents.

    Returns
    -------
    d_residual, d_loading : ndarray, shape (n,)
    d_parameters : ndarray, shape (4,)
        With respect to ``sigma``, ``drift_sd``, ``corr`` and ``offset_sd``.
    """
    n = weight.shape[0]
    d_residual = np.empty(n)
    d_loading = np.empty(n)
    d_parameters = np.zeros(_N_PARAMETERS)
    # d objective / d filtered state (residuals, loadings) of observation t
    adjoint = adjoint_l = 0.0
    end_weight = by_lr = by_ll = 0.0
    for t in range(n - 1, -1, -1):
        w = weight[t]
        for k in range(_N_PARAMETERS):
            d_parameters[k] += w * filtered[t, k]
        if t == n - 1 or step_in_run[t + 1] == 0:
            end_weight, by_lr, by_ll = w, filtered[t, 8], filtered[t, 9]
        gain, inverse = filtered[t, 4], filtered[t, 5]
        v, v_l = filtered[t, 6] * inverse, filtered[t, 7] * inverse
        adjoint_v = -w * v + end_weight * by_lr * v_l + adjoint * gain
        adjoint_v_l = end_weight * (by_lr * v + 2.0 * by_ll * v_l) + adjoint_l * gain
        d_residual[t], d_loading[t] = adjoint_v, adjoint_v_l
        if step_in_run[t]:
            adjoint = corr * (adjoint - adjoint_v)
            adjoint_l = corr * (adjoint_l - adjoint_v_l)
        else:
            adjoint = adjoint_l = 0.0
    return d_residual, d_loading, d_parameters


@numba.njit(cache=True)
def offset_posterior(filtered: np.ndarray, step_in_run: np.ndarray, offset_sd: float):
    """Mean and variance of each run's offset given its data (runs in order).

    ``Normal(0, offset_sd)`` a priori; given the run, ``Normal(v q_lr, v)`` with
    ``v = offset_sd**2 / (1 + offset_sd**2 q_ll)``, from the filter's pass.
    """
    n = step_in_run.shape[0]
    n_runs = 0
    for t in range(n):
        if step_in_run[t] == 0:
            n_runs += 1
    mean = np.empty(n_runs)
    variance = np.empty(n_runs)
    run = -1
    for t in range(n):
        if step_in_run[t] == 0:
            run += 1
        if t == n - 1 or step_in_run[t + 1] == 0:
            variance[run] = offset_sd**2 / (1.0 + offset_sd**2 * filtered[t, 11])
            mean[run] = variance[run] * filtered[t, 10]
    return mean, variance


def _float64(value):
    return pt.cast(pt.as_tensor_variable(value), "float64")


def _int64(value):
    return pt.cast(pt.as_tensor_variable(value), "int64")


class DriftLogDensitiesGrad(Op):
    """Vector-Jacobian product of :class:`DriftLogDensities` from its filtered output:
    ``(filtered, step_in_run, corr, weight) -> (d_residual, d_loading, d_parameters)``
    (:func:`filter_gradient`)."""

    __props__ = ()

    def make_node(self, filtered, step_in_run, corr, weight):
        inputs = [_float64(filtered), _int64(step_in_run), _float64(corr), _float64(weight)]
        return Apply(self, inputs, [pt.dvector(), pt.dvector(), pt.dvector()])

    def perform(self, node, inputs, output_storage):
        filtered, step, corr, weight = inputs
        values = filter_gradient(filtered, step, float(corr), weight)
        for storage, value in zip(output_storage, values, strict=True):
            storage[0] = value

    def infer_shape(self, node, shapes):
        return [shapes[3], shapes[3], (_N_PARAMETERS,)]


class DriftLogDensities(Op):
    """PyTensor Op: ``(residual, loading, step_in_run, sigma, drift_sd, corr, offset_sd)
    -> (log_density, filtered)`` (:func:`kalman_filter`).

    The scalar parameters are 0-d tensors. Use the first output; the second
    carries the filter's pass to the gradient.
    """

    __props__ = ()

    def make_node(self, residual, loading, step_in_run, sigma, drift_sd, corr, offset_sd):
        scalars = (sigma, drift_sd, corr, offset_sd)
        inputs = [
            _float64(residual),
            _float64(loading),
            _int64(step_in_run),
            *(_float64(value) for value in scalars),
        ]
        return Apply(self, inputs, [inputs[0].type(), pt.dmatrix()])

    def perform(self, node, inputs, output_storage):
        residual, loading, step, *scalars = inputs
        output_storage[0][0], output_storage[1][0] = kalman_filter(
            residual, loading, step, *(float(value) for value in scalars)
        )

    def infer_shape(self, node, shapes):
        return [shapes[0], (shapes[0][0], len(FILTER_COLUMNS))]

    def pullback(self, inputs, outputs, cotangents):
        if not isinstance(cotangents[1].type, DisconnectedType):
            raise NotImplementedError("the filter's second output has no gradient")
        step, corr = inputs[2], inputs[5]
        d_residual, d_loading, d_parameters = DriftLogDensitiesGrad()(
            outputs[1], step, corr, cotangents[0]
        )
        d_scalars = [d_parameters[i] for i in range(_N_PARAMETERS)]
        return [d_residual, d_loading, disconnected_type(), *d_scalars]

    if not hasattr(Op, "pullback"):  # PyTensor releases before ``pullback`` call it L_op
        L_op = pullback

    def connection_pattern(self, node):
        return [[True, False], [True, False], [False, False], *([[True, False]] * 4)]


@register_funcify_default_op_cache_key(DriftLogDensities)
def _numba_drift_log_densities(op, node=None, **kwargs):
    kernel = kalman_filter

    @numba_basic.numba_njit
    def drift_log_densities(residual, loading, step_in_run, sigma, drift_sd, corr, offset_sd):
        return kernel(
            residual,
            loading,
            step_in_run,
            sigma.item(),
            drift_sd.item(),
            corr.item(),
            offset_sd.item(),
        )

    # the kernel's source is part of the cache key: an edited kernel is never stale
    return drift_log_densities, source_version(kalman_filter)


@register_funcify_default_op_cache_key(DriftLogDensitiesGrad)
def _numba_drift_log_densities_grad(op, node=None, **kwargs):
    kernel = filter_gradient

    @numba_basic.numba_njit
    def drift_log_densities_grad(filtered, step_in_run, corr, weight):
        return kernel(filtered, step_in_run, corr.item(), weight)

    return drift_log_densities_grad, source_version(filter_gradient)


def drift_log_densities(residual, loading, step_in_run, sigma, drift_sd, corr, offset_sd):
    """Symbolic log-density terms (the first output of :class:`DriftLogDensities`).

    Parameters
    ----------
    residual, loading : tensor, shape (n,)
    step_in_run : integer tensor, shape (n,)
    sigma, drift_sd, corr, offset_sd : scalar tensors
    """
    return DriftLogDensities()(residual, loading, step_in_run, sigma, drift_sd, corr, offset_sd)[0]
