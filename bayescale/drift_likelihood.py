"""Slow drift plus fresh measurement noise: a state-space observation model.

Evaluations of one run on the same prompts move together (the policy's hidden
state drifts between checkpoints), and each evaluation adds sampling noise of its
own. ``"drift"`` models both, per observation ``t`` of a run::

    y_t = mu_t + d_t + e_t,             e_t ~ Normal(0, sigma)
    d_t = drift_corr * d_(t-1) + w_t,   w_t ~ Normal(0, drift_sd * sqrt(1 - drift_corr**2))

with ``d`` stationary (standard deviation ``drift_sd``) at the first evaluation of
each run. This is the model of :mod:`bayescale.simulate`. A single AR(1) process
(``"ar1"``) fitted to such data sees the lag-one correlation of drift and noise
together, ``drift_corr * drift_sd**2 / (drift_sd**2 + sigma**2)``, which is smaller
than the drift's own: it believes the drift dies out sooner than it does and gives
extrapolation intervals that are too narrow.

The drift is integrated out exactly by a scalar Kalman filter run along each run's
evaluations: in closed form inside the model (:func:`_one_step_log_densities`,
no loop for the sampler to differentiate through), and as the plain recursion,
vectorised over posterior draws, in NumPy. The log-likelihood is
the sum of the one-step predictive densities ``log p(y_t | y_1..y_(t-1))``, which
are also the pointwise terms used for PSIS-LOO. The correlation is per evaluation
step, so it assumes evaluations evenly spaced within a run (as ``"ar1"`` does).

A new observation (for predictive intervals) is drawn from the stationary
distribution: the curve plus Normal noise of standard deviation
``sqrt(drift_sd**2 + sigma**2)``.

Examples
--------
>>> import numpy as np
>>> from bayescale.likelihoods import get_likelihood
>>> drift = get_likelihood("drift")
>>> y = np.array([0.50, 0.52])
>>> params = {"sigma": np.array([[0.01]]), "drift_sd": np.array([[1e-9]]),
...           "drift_corr": np.array([[0.5]])}
>>> arrays = {"step_in_run": np.array([0, 1])}
>>> ll = drift.log_likelihood(y, np.array([[0.5, 0.5]]), params, arrays)
>>> np.round(ll, 3)  # no drift: two independent Normal(0.5, 0.01) terms
array([[3.686, 1.686]])
"""

from __future__ import annotations

import numpy as np

from bayescale.data import CurveData
from bayescale.likelihoods import Likelihood, _ar1_arrays, _standard_normal, register_likelihood

_LOG_2PI = float(np.log(2.0 * np.pi))


def _filter_step(residual, first, state, variance, params):
    """One Kalman step in NumPy: predict the drift, score the residual, update.

    ``first`` is true at a run's first evaluation, which restarts the drift from its
    stationary distribution. Returns the filtered state and variance and the
    one-step predictive log-density of ``residual``.
    """
    corr, drift_var = params["drift_corr"], params["drift_sd"] ** 2
    prior_state = 0.0 if first else corr * state
    prior_variance = drift_var if first else corr**2 * variance + drift_var * (1.0 - corr**2)
    innovation = residual - prior_state
    total_variance = prior_variance + params["sigma"] ** 2
    log_density = -0.5 * (_LOG_2PI + np.log(total_variance) + innovation**2 / total_variance)
    gain = prior_variance / total_variance
    return prior_state + gain * innovation, prior_variance * (1.0 - gain), log_density


def _predicted_variances(n_steps, sigma, drift_sd, drift_corr):
    """The Kalman filter's predicted drift variances ``p_0 .. p_(n_steps - 1)``
    in closed form (tensors).

    The Riccati recursion ``p_(t+1) = corr**2 p_t sigma**2 / (p_t + sigma**2) + q``
    with ``q = drift_sd**2 (1 - corr**2)`` and ``p_0 = drift_sd**2`` is a Moebius map:
    ``p_t = x_t / y_t`` with ``(x, y)_(t+1) = M (x, y)_t`` and
    ``M = [[corr**2 sigma**2 + q, q sigma**2], [1, sigma**2]]``. ``M`` has real
    eigenvalues ``l1 > l2 >= 0`` (its discriminant is positive while ``q > 0``, i.e.
    ``|corr| < 1``), so ``M**t`` is a sum of two geometric terms; dividing by
    ``l1**t`` keeps it stable. Near ``|corr| = 1`` the two eigenvalues meet and the
    form loses accuracy, which is why the default prior stops at 0.99.
    """
    import pytensor.tensor as pt

    noise_var, drift_var = sigma**2, drift_sd**2
    q = drift_var * (1.0 - drift_corr**2)
    trace, det = drift_corr**2 * noise_var + q + noise_var, drift_corr**2 * noise_var**2
    # trace**2 - 4 det, factored so that nothing cancels when |corr| is near 1 (the
    # product is the same for corr and -corr)
    corr = drift_corr
    root = pt.sqrt((noise_var * (1 - corr) ** 2 + q) * (noise_var * (1 + corr) ** 2 + q))
    big = 0.5 * (trace + root)
    small = det / big
    weight_big = (drift_var + noise_var - small) / root
    # (small / big) ** t; the floor keeps the gradient finite when small = 0 (corr = 0)
    decay = pt.maximum(small / big, 1e-300) ** pt.arange(n_steps)
    numerator = weight_big * (big - noise_var) + (1.0 - weight_big) * (small - noise_var) * decay
    return numerator / (weight_big + (1.0 - weight_big) * decay)


def _one_step_log_densities(residuals, sigma, drift_sd, drift_corr):
    """Log-densities ``log p(r_t | r_0 .. r_(t-1))`` of a (step, run) grid of
    residuals (tensors), every run starting at step 0.

    The gains ``K_t`` are the same for all runs, and the predicted drift is linear
    in the earlier residuals: ``m_t = sum_(j<t) W[t, j] r_j`` with
    ``W[t, j] = corr K_j prod_(j<k<t) corr (1 - K_k)``. So the filter is one
    lower-triangular matrix product, without a loop over steps.
    """
    import pytensor.tensor as pt

    n_steps = residuals.shape[0]
    predicted = _predicted_variances(n_steps, sigma, drift_sd, drift_corr)
    total = predicted + sigma**2
    gain = predicted / total
    # prod_(j<k<t) corr (1 - K_k) = sign * exp(S_(t-1) - S_j), S the cumulative log.
    log_factor = 0.5 * pt.log(pt.maximum(drift_corr**2, 1e-24)) + pt.log1p(-gain)
    cumulative = pt.cumsum(log_factor)
    steps = pt.arange(n_steps)
    lag = steps[:, None] - steps[None, :]
    earlier = lag > 0
    exponent = pt.switch(earlier, cumulative[:, None] - log_factor[:, None] - cumulative, 0.0)
    sign = pt.switch((drift_corr < 0) & pt.eq(lag % 2, 0), -1.0, 1.0)
    weights = pt.switch(earlier, sign * pt.exp(exponent), 0.0) * (drift_corr * gain)[None, :]
    innovation = residuals - pt.dot(weights, residuals)
    return -0.5 * (_LOG_2PI + pt.log(total)[:, None] + innovation**2 / total[:, None])


def _drift_arrays(data: CurveData) -> dict[str, np.ndarray]:
    """``step_in_run``: each observation's position in its run (0, 1, ...); a run
    starts where ``"ar1"`` starts one (:func:`bayescale.likelihoods._ar1_arrays`)."""
    position = np.arange(len(data.frame))
    run_start = np.where(_ar1_arrays(data)["has_prev"] == 0, position, 0)
    return {"step_in_run": position - np.maximum.accumulate(run_start)}


def _add_drift(mu, observed, data_vars, params) -> None:
    """The Kalman filter runs over evaluation steps, all runs at once: the
    residuals are laid out on a (step, run) grid, padded with zeros after a run's
    last evaluation (padding comes after every real point, so it changes nothing)."""
    import pymc as pm
    import pytensor.tensor as pt

    step_in_run, run_idx = data_vars["step_in_run"], data_vars["run_idx"]

    def logp(value, mean, *noise):
        # CustomDist hands scalar parameters over with one broadcastable dimension.
        sigma, drift_sd, drift_corr = (pt.squeeze(v) for v in noise)
        shape = (pt.max(step_in_run) + 1, pt.max(run_idx) + 1)
        grid = pt.zeros(shape, dtype=value.dtype)[step_in_run, run_idx].set(value - mean)
        log_density = _one_step_log_densities(grid, sigma, drift_sd, drift_corr)
        return log_density[step_in_run, run_idx]

    pm.CustomDist(
        "obs",
        mu,
        params["sigma"],
        params["drift_sd"],
        params["drift_corr"],
        logp=logp,
        observed=observed,
    )


def _log_drift(y, mu, params, arrays):
    """The one-step predictive terms ``log p(y_t | earlier y of the run)``, per draw."""
    residual = y - mu
    state = np.zeros(mu.shape[0])
    variance = np.zeros(mu.shape[0])
    noise = {name: np.ravel(params[name]) for name in DRIFT.parameters}
    out = np.empty_like(residual)
    for t, has_prev in enumerate(arrays["step_in_run"] > 0):
        state, variance, out[:, t] = _filter_step(
            residual[:, t], not has_prev, state, variance, noise
        )
    return out


def _draw_drift(mu, params, rng, trials):
    total_sd = np.sqrt(params["drift_sd"] ** 2 + params["sigma"] ** 2)
    return mu + total_sd * _standard_normal(mu, rng)


DRIFT = register_likelihood(
    Likelihood(
        name="drift",
        parameters=("sigma", "drift_sd", "drift_corr"),
        needs_trials=False,
        arrays=_drift_arrays,
        add=_add_drift,
        draw=_draw_drift,
        log_likelihood=_log_drift,
        # 2-6 divergent transitions per fit of the bundled data at 0.9, 0-3 at 0.95
        target_accept=0.95,
    )
)
