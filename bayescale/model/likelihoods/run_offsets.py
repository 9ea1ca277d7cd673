"""Run-level deviations integrated out of the model, and drawn back after sampling.

With partial pooling over seeds, each run's asymptote is ``A_run = A + delta``,
``delta ~ Normal(0, sigma_A)``. Sampled as a parameter, ``A_run`` meets a funnel:
where ``sigma_A`` is small, the slow within-run drift takes over the runs' offsets
and the sampler diverges (measured on 3 seeds x 125 evaluations under the drift
model: divergent transitions in 2-6 of 10 fits at any target acceptance from
0.9 to 0.98, all at the smallest ``sigma_A`` draws). The sigmoid is linear in
``A`` (:attr:`bayescale.model.laws.Law.linear`), and the drift model is Gaussian, so
``delta`` can be integrated out exactly inside the likelihood
(:mod:`bayescale.model.likelihoods.kalman`): the sampler never sees it
(:func:`bayescale.model.build.integrated_parameter` says when).

After sampling, :func:`restore_run_draws` draws ``A_run`` for every posterior
draw from its exact conditional posterior (Normal, from the same Kalman pass),
so the fit's posterior holds ``A_run`` as if it had been sampled: summaries,
predictions and comparisons use it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from bayescale.model.build import ModelSpec, integrated_parameter
from bayescale.model.laws import NUMPY_OPS
from bayescale.model.priors import hierarchy_prior_name

__all__ = ["restore_run_draws"]


def restore_run_draws(
    tree: xr.DataTree,
    spec: ModelSpec,
    arrays: Mapping[str, np.ndarray],
    rng: np.random.Generator,
) -> xr.DataTree:
    """Add ``<P>_run`` draws of the integrated parameter to the posterior.

    Parameters
    ----------
    tree : xarray.DataTree
        The sampler's output (``posterior`` with integer ``run``/``recipe``).
    spec : ModelSpec
    arrays : mapping
        The model's data arrays (:func:`bayescale.model.build.model_arrays`).
    rng : numpy.random.Generator
        For the draws from each run's conditional posterior.

    Returns
    -------
    xarray.DataTree
        ``tree`` itself when nothing is integrated, else a copy whose posterior
        has ``<P>_run`` (dims ``chain``, ``draw``, ``run``).
    """
    name = integrated_parameter(spec)
    if name is None:
        return tree
    law, likelihood = spec.law_obj, spec.likelihood_obj
    post = tree["posterior"].to_dataset()
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    n_runs = len(arrays["recipe_of_run"])
    run_idx = arrays["run_idx"]
    per_run = {p: _per_run_draws(post, p, arrays["recipe_of_run"]) for p in law.parameters}
    noise = {p: post[p].to_numpy().reshape(-1) for p in likelihood.parameters}
    noise["offset_sd"] = post[hierarchy_prior_name(law, name)].to_numpy().reshape(-1)
    log_inputs = {role: arrays[f"log_{role}"] for role in law.inputs}
    values = np.empty((chains * draws, n_runs))
    for i in range(chains * draws):
        params = {p: value[i][run_idx] for p, value in per_run.items()}
        mu = law.mean(NUMPY_OPS, log_inputs, params)
        loading = law.mean(NUMPY_OPS, log_inputs, {**params, name: params[name] + 1.0}) - mu
        draw_noise = {p: value[i] for p, value in noise.items()}
        mean, variance = likelihood.run_offsets(arrays["y"], mu, loading, draw_noise, arrays)
        values[i] = per_run[name][i] + mean + np.sqrt(variance) * rng.standard_normal(n_runs)
    post[f"{name}_run"] = (("chain", "draw", "run"), values.reshape(chains, draws, n_runs))
    post = post.assign_coords(run=np.arange(n_runs))
    children = {f"/{key}": node.to_dataset() for key, node in tree.children.items()}
    return xr.DataTree.from_dict({**children, "/posterior": post})


def _per_run_draws(post: xr.Dataset, name: str, recipe_of_run: np.ndarray) -> np.ndarray:
    """``(samples, runs)`` draws of a parameter: its run-level values where it
    varies by run, else its recipe's (or the shared) value."""
    if f"{name}_run" in post:
        values = post[f"{name}_run"].to_numpy()
        return values.reshape(-1, values.shape[-1])
    values = post[name].to_numpy()
    samples = values.shape[0] * values.shape[1]
    if values.ndim == 2:  # shared by all recipes
        return np.repeat(values.reshape(samples, 1), len(recipe_of_run), axis=1)
    return values.reshape(samples, -1)[:, recipe_of_run]
