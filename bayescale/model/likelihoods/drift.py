"""Slow drift plus fresh measurement noise: a state-space observation model.

Evaluations of one run on the same prompts move together (the policy's hidden
state drifts between checkpoints), and each evaluation adds sampling noise of its
own. ``"drift"`` models both, per observation ``t`` of a run::

    y_t = mu_t + d_t + e_t,             e_t ~ Normal(0, sigma)
    d_t = drift_corr * d_(t-1) + w_t,   w_t ~ Normal(0, drift_sd * sqrt(1 - drift_corr**2))

with ``d`` stationary (standard deviation ``drift_sd``) at the first evaluation of
each run. This is the model of :mod:`bayescale.studies.simulate`. A single AR(1) process
(``"ar1"``) fitted to such data sees the lag-one correlation of drift and noise
together, ``drift_corr * drift_sd**2 / (drift_sd**2 + sigma**2)``, which is smaller
than the drift's own: it believes the drift dies out sooner than it does and gives
extrapolation intervals that are too narrow.

The sampled noise parameters are the ones the data pin down separately:

- ``residual_sd``: the total scatter around the curve, ``sqrt(sigma**2 + drift_sd**2)``;
- ``drift_share``: the drift's share of the residual variance,
  ``drift_sd**2 / residual_sd**2`` (0: independent noise, 1: drift only);
- ``drift_corr``: the drift's step-to-step correlation.

``sigma`` and ``drift_sd`` are kept in the posterior as derived quantities.
Sampled as ``sigma`` and ``drift_sd`` directly, the two trade off against each
other and against ``drift_corr`` (measured: minimum bulk ESS 255-1500 at 1000
draws x 4 chains on 3 x 125 evaluations, against 1350-1850 in this form).

The drift is integrated out exactly by a scalar Kalman filter run along each run's
evaluations, in linear time, as a PyTensor Op with its exact gradient
(:mod:`bayescale.model.likelihoods.kalman`); the same numba kernel gives the pointwise terms for
PSIS-LOO. The log-likelihood is the sum of the one-step predictive densities
``log p(y_t | y_1..y_(t-1))``. The correlation is per evaluation step, so it
assumes evaluations evenly spaced within a run (as ``"ar1"`` does).

The priors lean towards slow drift that dominates the scatter
(``drift_corr`` ``Beta(6, 1)``, ``drift_share`` ``Beta(2, 1)``): with a few
dozen evaluations per run the data cannot tell slow drift from a run's own level,
and a prior that allows fast drift reads part of it as the run's level, which
makes the curve's interval too narrow; fast or weak drift is what the data do
identify, and they move the posterior away from these priors.

A new observation of a fitted run after its last evaluation is drawn given the
run (``Likelihood.forecast``): the drift filtered at the last evaluation decays
towards 0 and its variance returns to ``drift_sd**2``. Any other new observation
(a new seed, or a point inside the data's range) is drawn from the stationary
distribution: the curve plus Normal noise of standard deviation ``residual_sd``.

Examples
--------
>>> import numpy as np
>>> from bayescale.model.likelihoods.registry import get_likelihood
>>> drift = get_likelihood("drift")
>>> y = np.array([0.50, 0.52])
>>> params = {"residual_sd": np.array([[0.01]]), "drift_share": np.array([[1e-12]]),
...           "drift_corr": np.array([[0.5]])}
>>> arrays = {"step_in_run": np.array([0, 1])}
>>> ll = drift.log_likelihood(y, np.array([[0.5, 0.5]]), params, arrays)
>>> np.round(ll, 3)  # no drift: two independent Normal(0.5, 0.01) terms
array([[3.686, 1.686]])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayescale.data.curves import CurveData
from bayescale.model.laws import Law
from bayescale.model.likelihoods.gaussian import predecessor_arrays, standard_normal_like
from bayescale.model.likelihoods.registry import Likelihood, noise_scale, register_likelihood
from bayescale.model.priors import Prior


def natural_parameters(params: Mapping[str, Any]) -> tuple[Any, Any]:
    """``(sigma, drift_sd)`` from ``residual_sd`` and ``drift_share`` (tensors,
    arrays or DataArrays alike).

    Examples
    --------
    >>> natural_parameters({"residual_sd": 0.5, "drift_share": 0.64})
    (0.3, 0.4)
    """
    total, share = params["residual_sd"], params["drift_share"]
    return total * (1.0 - share) ** 0.5, total * share**0.5


def _drift_arrays(data: CurveData) -> dict[str, np.ndarray]:
    """``step_in_run``: each observation's position in its run (0, 1, ...); a run
    starts where ``"ar1"`` starts one (:func:`bayescale.model.likelihoods.gaussian.predecessor_arrays`)."""
    position = np.arange(len(data.frame))
    run_start = np.where(predecessor_arrays(data)["has_prev"] == 0, position, 0)
    return {"step_in_run": position - np.maximum.accumulate(run_start)}


def _add_drift(mu, observed, data_vars, params) -> None:
    """The Kalman filter runs along the observations (runs one after another),
    as one PyTensor Op with an exact gradient (:mod:`bayescale.model.likelihoods.kalman`); the run
    offsets are integrated out in it when the model passes their loading."""
    import pymc as pm
    import pytensor.tensor as pt

    from bayescale.model.likelihoods.kalman import drift_log_densities

    sigma, drift_sd = natural_parameters(params)
    step_in_run = data_vars["step_in_run"]
    loading = params.get("offset_loading", pt.zeros_like(mu))
    offset_sd = params.get("offset_sd", pt.constant(0.0))

    def logp(value, mean, loading, *scalars):
        # CustomDist hands scalar parameters over with one broadcastable dimension.
        scalars = [pt.squeeze(v) for v in scalars]
        return drift_log_densities(value - mean, loading, step_in_run, *scalars)

    pm.CustomDist(
        "obs",
        mu,
        loading,
        pm.Deterministic("sigma", sigma),
        pm.Deterministic("drift_sd", drift_sd),
        params["drift_corr"],
        offset_sd,
        logp=logp,
        observed=observed,
    )


def _log_drift(y, mu, params, arrays):
    """The one-step predictive terms ``log p(y_t | earlier y of the run)``, per draw
    (given the run's own curve: ``mu`` includes the run's offset)."""
    from bayescale.model.likelihoods.kalman import kalman_filter

    residual = y - mu
    sigma, drift_sd = (np.ravel(value) for value in natural_parameters(params))
    corr = np.ravel(params["drift_corr"])
    step = np.asarray(arrays["step_in_run"], dtype="int64")
    zero = np.zeros(residual.shape[1])
    out = np.empty_like(residual)
    for i in range(residual.shape[0]):
        out[i] = kalman_filter(residual[i], zero, step, sigma[i], drift_sd[i], corr[i], 0.0)[0]
    return out


def _drift_run_offsets(y, mu, loading, params, arrays):
    """Posterior mean and variance of each run's offset, for one draw, indexed
    like the runs (the filter meets them in data order)."""
    from bayescale.model.likelihoods.kalman import kalman_filter, offset_posterior

    sigma, drift_sd = natural_parameters(params)
    step = np.asarray(arrays["step_in_run"], dtype="int64")
    scalars = (sigma, drift_sd, params["drift_corr"], params["offset_sd"])
    _, filtered = kalman_filter(y - mu, loading, step, *(float(value) for value in scalars))
    mean, variance = offset_posterior(filtered, step, float(params["offset_sd"]))
    order = np.asarray(arrays["run_idx"])[step == 0]
    by_run = np.empty((2, len(arrays["recipe_of_run"])))
    by_run[:, order] = mean, variance
    return by_run[0], by_run[1]


def _draw_drift(mu, params, rng, trials):
    return mu + params["residual_sd"] * standard_normal_like(mu, rng)


def filtered_drift(
    residual: np.ndarray, sigma: np.ndarray, drift_sd: np.ndarray, corr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the drift at a run's last evaluation, given the run.

    Read off the last observation of the module's Kalman filter
    (:func:`~bayescale.model.likelihoods.kalman.kalman_filter`, run once per draw):
    the filtered drift is the residual minus the part of its innovation the gain
    leaves to noise, and its variance is the predicted drift variance times
    ``1 - gain``.

    Parameters
    ----------
    residual : ndarray, shape (samples, obs)
        The run's observations minus its curve (its own offset included), in
        evaluation order.
    sigma, drift_sd, corr : ndarray, shape (samples,)
        Noise parameters per draw.

    Returns
    -------
    mean, variance : ndarray, shape (samples,)

    Examples
    --------
    >>> one = np.ones(1)
    >>> mean, variance = filtered_drift(np.array([[0.02]]), one * 0.01, one * 0.01, one * 0.9)
    >>> np.round([mean[0], variance[0]], 12)  # equal noise and drift: half of each
    array([1.e-02, 5.e-05])
    """
    from bayescale.model.likelihoods.kalman import kalman_filter

    n_samples, n_obs = residual.shape
    steps = np.arange(n_obs)
    zero = np.zeros(n_obs)
    mean = np.empty(n_samples)
    variance = np.empty(n_samples)
    for i in range(n_samples):
        if sigma[i] == 0.0 and drift_sd[i] == 0.0:  # no drift and no noise: nothing to filter
            mean[i] = variance[i] = 0.0
            continue
        _, filtered = kalman_filter(residual[i], zero, steps, sigma[i], drift_sd[i], corr[i], 0.0)
        gain, inverse, innovation = filtered[-1, 4], filtered[-1, 5], filtered[-1, 6]
        mean[i] = residual[i, -1] - (1.0 - gain) * innovation
        variance[i] = (1.0 - gain) * (1.0 / inverse - sigma[i] ** 2)
    return mean, variance


def _forecast_drift(residual, steps_ahead, params, rng):
    """New observations after a run's last evaluation: the filtered drift decays
    towards 0 with ``drift_corr ** steps`` while its variance returns to
    ``drift_sd**2``; fresh measurement noise is added."""
    sigma, drift_sd = (np.asarray(value, dtype=float) for value in natural_parameters(params))
    corr = np.asarray(params["drift_corr"], dtype=float)
    mean, variance = filtered_drift(residual, sigma, drift_sd, corr)
    decay = corr[:, None] ** np.asarray(steps_ahead, dtype=float)[None, :]
    spread = decay**2 * variance[:, None] + (drift_sd**2)[:, None] * (1.0 - decay**2)
    noise = rng.standard_normal(decay.shape)
    return decay * mean[:, None] + np.sqrt(spread + (sigma**2)[:, None]) * noise


def _drift_priors(law: Law) -> dict[str, Prior]:
    return {
        "residual_sd": Prior("HalfNormal", sigma=noise_scale(law)),
        "drift_share": Prior("Beta", alpha=2.0, beta=1.0),
        "drift_corr": Prior("Beta", alpha=6.0, beta=1.0),
    }


def _as_simulated_drift(values: Mapping[str, float]) -> dict[str, float]:
    sigma, drift_sd = natural_parameters(values)
    return {"drift_sd": drift_sd, "drift_corr": values["drift_corr"], "sd": sigma}


DRIFT = register_likelihood(
    Likelihood(
        name="drift",
        parameters=("residual_sd", "drift_share", "drift_corr"),
        derived=("sigma", "drift_sd"),
        needs_trials=False,
        arrays=_drift_arrays,
        add=_add_drift,
        draw=_draw_drift,
        log_likelihood=_log_drift,
        run_offsets=_drift_run_offsets,
        forecast=_forecast_drift,
        target_accept=0.95,
        default_priors=_drift_priors,
        simulation_noise=_as_simulated_drift,
    )
)
