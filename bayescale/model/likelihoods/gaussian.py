"""Gaussian observation models: ``"normal"``, ``"student_t"`` and ``"ar1"``.

Examples
--------
>>> from bayescale.model.likelihoods.registry import get_likelihood
>>> get_likelihood("ar1").parameters
('sigma', 'phi')
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from bayescale.data.curves import CurveData
from bayescale.model.laws import Law
from bayescale.model.likelihoods.registry import (
    Likelihood,
    no_arrays,
    noise_scale,
    register_likelihood,
)
from bayescale.model.priors import Prior


def standard_normal_like(like: xr.DataArray, rng: np.random.Generator) -> xr.DataArray:
    """Independent standard Normal draws with the shape, dims and coords of ``like``."""
    return xr.DataArray(rng.standard_normal(like.shape), dims=like.dims, coords=like.coords)


def _add_normal(mu, observed, data_vars, params) -> None:
    import pymc as pm

    pm.Normal("obs", mu=mu, sigma=params["sigma"], observed=observed)


def _draw_normal(mu, params, rng, trials):
    return mu + params["sigma"] * standard_normal_like(mu, rng)


def _log_normal(y, mu, params, arrays):
    import scipy.stats

    return scipy.stats.norm.logpdf(y, loc=mu, scale=params["sigma"])


def _sigma_prior(law: Law) -> dict[str, Prior]:
    return {"sigma": Prior("HalfNormal", sigma=noise_scale(law))}


def _white_noise(values: Mapping[str, float]) -> dict[str, float]:
    return {"drift_sd": 0.0, "drift_corr": 0.0, "sd": values["sigma"]}


NORMAL = register_likelihood(
    Likelihood(
        name="normal",
        parameters=("sigma",),
        needs_trials=False,
        arrays=no_arrays,
        add=_add_normal,
        draw=_draw_normal,
        log_likelihood=_log_normal,
        default_priors=_sigma_prior,
        simulation_noise=_white_noise,
    )
)


def _add_student_t(mu, observed, data_vars, params) -> None:
    import pymc as pm

    pm.StudentT("obs", nu=params["nu"], mu=mu, sigma=params["sigma"], observed=observed)


def _draw_student_t(mu, params, rng, trials):
    nu = params["nu"].broadcast_like(mu)
    t = xr.DataArray(rng.standard_t(nu.to_numpy()), dims=nu.dims, coords=nu.coords)
    return mu + params["sigma"] * t


def _log_student_t(y, mu, params, arrays):
    import scipy.stats

    return scipy.stats.t.logpdf(y, params["nu"], loc=mu, scale=params["sigma"])


def _student_t_priors(law: Law) -> dict[str, Prior]:
    return {**_sigma_prior(law), "nu": Prior("Gamma", alpha=2.0, beta=0.1)}


STUDENT_T = register_likelihood(
    Likelihood(
        name="student_t",
        parameters=("sigma", "nu"),
        needs_trials=False,
        arrays=no_arrays,
        add=_add_student_t,
        draw=_draw_student_t,
        log_likelihood=_log_student_t,
        default_priors=_student_t_priors,
    )
)


def predecessor_arrays(data: CurveData) -> dict[str, np.ndarray]:
    """``prev_idx`` and ``has_prev``: index of each observation's predecessor in its run (itself for the first)."""
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
    return mu + stationary_sd * standard_normal_like(mu, rng)


def _log_ar1(y, mu, params, arrays):
    """The conditional terms ``log p(y_t | y_(t-1))`` (the first point of a run: stationary)."""
    import scipy.stats

    phi, sigma = params["phi"], params["sigma"]
    has_prev = arrays["has_prev"]
    residual = y - mu
    conditional_mean = mu + phi * residual[:, arrays["prev_idx"]] * has_prev
    sd = has_prev * sigma + (1.0 - has_prev) * sigma / np.sqrt(1.0 - phi**2)
    return scipy.stats.norm.logpdf(y, loc=conditional_mean, scale=sd)


def _ar1_priors(law: Law) -> dict[str, Prior]:
    return {**_sigma_prior(law), "phi": Prior("Uniform", lower=-0.5, upper=0.99)}


def _ar1_as_drift(values: Mapping[str, float]) -> dict[str, float]:
    phi = values["phi"]
    return {"drift_sd": values["sigma"] / np.sqrt(1.0 - phi**2), "drift_corr": phi, "sd": 0.0}


AR1 = register_likelihood(
    Likelihood(
        name="ar1",
        parameters=("sigma", "phi"),
        needs_trials=False,
        arrays=predecessor_arrays,
        add=_add_ar1,
        draw=_draw_ar1,
        log_likelihood=_log_ar1,
        default_priors=_ar1_priors,
        simulation_noise=_ar1_as_drift,
    )
)
