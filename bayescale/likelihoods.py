"""Observation models: how the metric scatters around the curve.

Each :class:`Likelihood` knows its noise parameters (their default priors live in
:mod:`bayescale.default_priors`), the extra data arrays it needs, how to add itself to a PyMC model, and how to draw a
new observation from posterior draws (for predictive intervals).

Choosing one:

- ``"normal"``: independent Gaussian noise. Right for losses and for curves whose
  checkpoints are far apart.
- ``"student_t"``: heavy tails; robust to outlier checkpoints (the Bayesian
  cousin of the Huber loss).
- ``"drift"``: slow AR(1) drift within a run plus fresh measurement noise at
  every evaluation, integrated out by a Kalman filter
  (:mod:`bayescale.drift_likelihood`); the ``"auto"`` default for pass rates.
  Evaluations 100 steps apart on the same prompts drift together; ignoring that
  makes intervals too narrow.
- ``"ar1"``: Gaussian noise with AR(1) correlation between consecutive
  checkpoints of a run (correlation ``phi`` estimated), without separate
  measurement noise. It mistakes drift plus noise for a faster-decaying drift,
  so its extrapolation intervals are a little too narrow on such data.
- ``"binomial"``, ``"beta_binomial"``: counts of successes out of ``trials``
  graded generations, for independent evaluations
  (:mod:`bayescale.count_likelihoods`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.stats
import xarray as xr

from bayescale.data import CurveData


@dataclass(frozen=True)
class Likelihood:
    """An observation model.

    Attributes
    ----------
    name : str
        Registry name.
    parameters : tuple of str
        Noise parameters that get priors.
    derived : tuple of str
        Deterministic noise quantities the model adds from ``parameters``
        (reported in summaries beside them).
    needs_trials : bool
        Whether the data must give the number of evaluation prompts.
    arrays : callable
        ``(data) -> {name: ndarray}``: extra data containers for the model.
    add : callable
        ``(mu, observed, data_vars, params) -> None``; adds the observed variable
        ``obs`` inside the model context. ``observed`` is the response-scale data.
        For a model that integrates run offsets, ``params`` also holds
        ``offset_loading`` (per observation) and ``offset_sd`` (see
        ``run_offsets``).
    draw : callable
        ``(mu, params, rng, trials) -> DataArray``: a new observation on the
        response scale, from draws of the mean ``mu`` and of the noise parameters.
    log_likelihood : callable or None
        ``(y, mu, params, arrays) -> ndarray``: pointwise log-likelihood in NumPy,
        for PSIS-LOO. ``y`` has shape ``(obs,)``, ``mu`` ``(samples, obs)``, each
        noise parameter ``(samples, 1)``, ``arrays`` are the model's data arrays
        (:func:`bayescale.model.model_arrays`); returns ``(samples, obs)``.
    target_accept : float
        NUTS target acceptance used when the user gives none (0.9; higher for
        models whose posterior needs smaller steps).
    run_offsets : callable or None
        For models that integrate out the run-level deviation of a parameter the
        curve is linear in (:attr:`bayescale.laws.Law.linear`):
        ``(y, mu, loading, params, arrays) -> (mean, variance)`` for one
        posterior draw (``mu`` and ``loading`` of shape ``(obs,)``, each noise
        parameter and ``offset_sd`` a float): each run's deviation's posterior
        mean and variance given the data (:mod:`bayescale.run_offsets`).
    """

    name: str
    parameters: tuple[str, ...]
    needs_trials: bool
    arrays: Callable[[CurveData], dict[str, np.ndarray]]
    add: Callable[[Any, Any, Mapping[str, Any], Mapping[str, Any]], None]
    draw: Callable[
        [xr.DataArray, Mapping[str, xr.DataArray], np.random.Generator, Any], xr.DataArray
    ]
    log_likelihood: Callable[..., np.ndarray] | None = None
    target_accept: float = 0.9
    derived: tuple[str, ...] = ()
    run_offsets: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None


def _no_arrays(data: CurveData) -> dict[str, np.ndarray]:
    return {}


def _standard_normal(like: xr.DataArray, rng: np.random.Generator) -> xr.DataArray:
    return xr.DataArray(rng.standard_normal(like.shape), dims=like.dims, coords=like.coords)


def _add_normal(mu, observed, data_vars, params) -> None:
    import pymc as pm

    pm.Normal("obs", mu=mu, sigma=params["sigma"], observed=observed)


def _draw_normal(mu, params, rng, trials):
    return mu + params["sigma"] * _standard_normal(mu, rng)


def _log_normal(y, mu, params, arrays):
    return scipy.stats.norm.logpdf(y, loc=mu, scale=params["sigma"])


NORMAL = Likelihood(
    name="normal",
    parameters=("sigma",),
    needs_trials=False,
    arrays=_no_arrays,
    add=_add_normal,
    draw=_draw_normal,
    log_likelihood=_log_normal,
)


def _add_student_t(mu, observed, data_vars, params) -> None:
    import pymc as pm

    pm.StudentT("obs", nu=params["nu"], mu=mu, sigma=params["sigma"], observed=observed)


def _draw_student_t(mu, params, rng, trials):
    nu = params["nu"].broadcast_like(mu)
    t = xr.DataArray(rng.standard_t(nu.to_numpy()), dims=nu.dims, coords=nu.coords)
    return mu + params["sigma"] * t


def _log_student_t(y, mu, params, arrays):
    return scipy.stats.t.logpdf(y, params["nu"], loc=mu, scale=params["sigma"])


STUDENT_T = Likelihood(
    name="student_t",
    parameters=("sigma", "nu"),
    needs_trials=False,
    arrays=_no_arrays,
    add=_add_student_t,
    draw=_draw_student_t,
    log_likelihood=_log_student_t,
)


def _ar1_arrays(data: CurveData) -> dict[str, np.ndarray]:
    """Index of each observation's predecessor in its run (itself for the first)."""
    run = data.frame["run"].to_numpy()
    position = np.arange(len(run))
    has_prev = np.r_[False, run[1:] == run[:-1]]
    prev_idx = np.where(has_prev, position - 1, position)
    return {"prev_idx": prev_idx.astype("int64"), "has_prev": has_prev.astype("float64")}


def _add_ar1(mu, observed, data_vars, params) -> None:
    import pymc as pm
    import pytensor.tensor as pt

    phi, sigma = params["phi"], params["sigma"]
    has_prev = data_vars["has_prev"]
    residual = observed - mu
    conditional_mean = mu + phi * residual[data_vars["prev_idx"]] * has_prev
    stationary_sd = sigma / pt.sqrt(1.0 - phi**2)
    sd = has_prev * sigma + (1.0 - has_prev) * stationary_sd
    pm.Normal("obs", mu=conditional_mean, sigma=sd, observed=observed)


def _draw_ar1(mu, params, rng, trials):
    stationary_sd = params["sigma"] / np.sqrt(1.0 - params["phi"] ** 2)
    return mu + stationary_sd * _standard_normal(mu, rng)


def _log_ar1(y, mu, params, arrays):
    """The conditional terms ``log p(y_t | y_(t-1))`` (the first point of a run: stationary)."""
    phi, sigma = params["phi"], params["sigma"]
    has_prev = arrays["has_prev"]
    residual = y - mu
    conditional_mean = mu + phi * residual[:, arrays["prev_idx"]] * has_prev
    sd = has_prev * sigma + (1.0 - has_prev) * sigma / np.sqrt(1.0 - phi**2)
    return scipy.stats.norm.logpdf(y, loc=conditional_mean, scale=sd)


AR1 = Likelihood(
    name="ar1",
    parameters=("sigma", "phi"),
    needs_trials=False,
    arrays=_ar1_arrays,
    add=_add_ar1,
    draw=_draw_ar1,
    log_likelihood=_log_ar1,
)

_LIKELIHOODS: dict[str, Likelihood] = {lk.name: lk for lk in (NORMAL, STUDENT_T, AR1)}


def register_likelihood(likelihood: Likelihood) -> Likelihood:
    """Add an observation model to the registry."""
    _LIKELIHOODS[likelihood.name] = likelihood
    return likelihood


def get_likelihood(name: str) -> Likelihood:
    """Return the registered observation model called ``name``.

    Raises
    ------
    ValueError
        If no observation model has that name; the message lists the known ones.
    """
    try:
        return _LIKELIHOODS[name]
    except KeyError:
        known = ", ".join(sorted(_LIKELIHOODS))
        raise ValueError(f"unknown likelihood {name!r}; choose one of: {known}") from None


def available_likelihoods() -> list[str]:
    """Names of the registered observation models."""
    return sorted(_LIKELIHOODS)
