"""Pointwise quantities of a fit at its observations: the curve and the log-likelihood.

nutpie does not store the pointwise log-likelihood, so it is computed here from
the posterior: the law gives each run's curve at every observation for every
draw, and the observation model's NumPy ``log_likelihood`` scores the data. Used
by LOO (:mod:`bayescale.analysis.law_comparison`) and the posterior predictive
check (:mod:`bayescale.inference.predictive_check`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayescale.model.build import model_arrays
from bayescale.model.laws import NUMPY_OPS
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import SAMPLE_DIMS

VAR_NAME = "y"
"""Name of the pointwise log-likelihood variable in the ``log_likelihood`` group."""


def curve_at_observations(fit: Fit) -> xr.DataArray:
    """Each run's curve on the response scale at its own observations.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, obs)``, ``obs`` in the order of ``fit.data.frame``.

    Examples
    --------
    >>> mu = curve_at_observations(fit)  # doctest: +SKIP
    >>> mu.sizes["obs"] == len(fit.data)  # doctest: +SKIP
    True
    """
    frame = fit.data.frame
    pieces = []
    for run in fit.runs:
        rows = frame.index[frame["run"] == run]
        log_inputs = {
            role: xr.DataArray(np.log(frame.loc[rows, role].to_numpy(float)), dims="obs")
            for role in fit.law.inputs
        }
        mean = fit.law.mean(NUMPY_OPS, log_inputs, fit.parameter_draws(run=run))
        pieces.append(mean.assign_coords(obs=rows.to_numpy()))
    return xr.concat(pieces, dim="obs").sortby("obs").transpose(*SAMPLE_DIMS, "obs")


def pointwise_log_likelihood(fit: Fit) -> xr.DataArray:
    """Log-likelihood of every observation under every posterior draw.

    On the metric's own scale (Jacobian ``-log y`` for laws fitted to ``log y``);
    for ``"ar1"`` and ``"drift"`` the conditional terms (see the module notes).

    Returns
    -------
    xarray.DataArray
        Named ``y``, dims ``(chain, draw, obs)``.

    Examples
    --------
    >>> ll = pointwise_log_likelihood(fit)  # doctest: +SKIP
    >>> float(ll.sum("obs").mean())  # doctest: +SKIP
    """
    likelihood = fit.likelihood
    if likelihood.log_likelihood is None:
        raise ValueError(f"likelihood {likelihood.name!r} has no pointwise log-likelihood")
    mu = curve_at_observations(fit)
    n_chain, n_draw, n_obs = mu.shape
    samples = n_chain * n_draw
    params = {
        name: value.transpose(*SAMPLE_DIMS).to_numpy().reshape(samples, 1)
        for name, value in fit.noise_draws().items()
    }
    arrays = model_arrays(fit.spec, fit.data)
    values = likelihood.log_likelihood(
        arrays["y"], mu.to_numpy().reshape(samples, n_obs), params, arrays
    )
    if fit.law.response == "log":
        values = values - np.log(fit.data.frame["y"].to_numpy(float))
    return xr.DataArray(
        values.reshape(n_chain, n_draw, n_obs),
        dims=(*SAMPLE_DIMS, "obs"),
        coords={"chain": mu["chain"], "draw": mu["draw"], "obs": np.arange(n_obs)},
        name=VAR_NAME,
    )


def with_log_likelihood(fit: Fit) -> xr.DataTree:
    """The fit's posterior tree plus a ``log_likelihood`` group (variable ``y``).

    Examples
    --------
    >>> tree = with_log_likelihood(fit)  # doctest: +SKIP
    >>> sorted(tree.children)  # doctest: +SKIP
    ['log_likelihood', 'observed_data', 'posterior', 'sample_stats']
    """
    groups = {f"/{name}": node.to_dataset() for name, node in fit.tree.children.items()}
    groups["/log_likelihood"] = pointwise_log_likelihood(fit).to_dataset()
    return xr.DataTree.from_dict(groups)
