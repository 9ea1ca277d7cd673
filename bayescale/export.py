"""Machine-readable results: the ``fit.json`` contract.

Keys (other tools rely on them):

- ``law``, ``likelihood``, ``ci``, ``version``
- ``parameters``: name -> {mean, sd, lower, upper, r_hat, ess_bulk} for the
  recipe-level law parameters (``A[recipe]`` when there are several recipes)
- ``runs``: run -> {parameter -> stats} for the parameters that vary by run
- ``hyperparameters``: run-to-run spreads and noise parameters, same stats
- ``predictions``: list of {x, mean, lower, upper, obs_lower, obs_upper} (plus the
  inputs of two-input laws, and ``recipe`` when there are several)
- ``targets``: list of {target, p_reachable, median, lower, upper}
- ``allocations`` (chinchilla): list of {compute, n_opt, d_opt, ratio, loss_opt},
  each quantity a dict {mean, median, lower, upper} (``recipe`` too when there
  are several); see :mod:`bayescale.allocation`
- ``diagnostics``: {max_r_hat, min_ess_bulk, divergences, warnings}
- ``data``: {source, path, sha256, columns, n_points, runs, recipes, notes}: the
  source as given, its absolute path and the SHA-256 of the bytes fitted
- ``spec`` and ``sampler``: the model and NUTS settings (with the seed used,
  drawn when none was given), to reproduce the fit
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayescale.allocation import allocation_records
from bayescale.result import Fit

STAT_COLUMNS = ["mean", "sd", "lower", "upper", "r_hat", "ess_bulk"]


def _stats(row: pd.Series) -> dict[str, float]:
    return {column: float(row[column]) for column in STAT_COLUMNS}


def default_prediction_inputs(fit: Fit) -> list[float]:
    """2x and 10x the largest observed input (for one-input laws)."""
    largest = float(fit.data.frame["x"].max())
    return [2 * largest, 10 * largest]


def _per_recipe(fit: Fit, function, **kwargs) -> pd.DataFrame:
    if len(fit.recipes) == 1:
        return function(**kwargs)
    frames = [function(recipe=recipe, **kwargs).assign(recipe=recipe) for recipe in fit.recipes]
    return pd.concat(frames, ignore_index=True)


def fit_to_dict(
    fit: Fit,
    *,
    ci: float,
    predict_x: Sequence[float] | None = None,
    targets: Sequence[float] = (),
    budgets: Sequence[float] = (),
) -> dict[str, Any]:
    """The ``fit.json`` payload for ``fit``.

    Parameters
    ----------
    fit : Fit
    ci : float
        Credible mass of every interval.
    predict_x : sequence of float, optional
        Inputs to predict at; default 2x and 10x the largest observed input.
    targets : sequence of float
        Metric values for compute-to-target.
    budgets : sequence of float
        Compute budgets (FLOP) for compute-optimal allocation (chinchilla fits).
    """
    table = fit.summary(ci=ci)
    parameters = {name: _stats(row) for name, row in table[table["level"] == "recipe"].iterrows()}
    runs: dict[str, dict[str, Any]] = {run: {} for run in fit.runs}
    for name in fit.spec.varying:
        for run in fit.runs:
            runs[run][name] = _stats(table.loc[f"{name}[{run}]"])
    hyper = table[table["level"].isin(["spread", "noise"])]
    payload: dict[str, Any] = {
        "law": fit.law.name,
        "formula": fit.law.formula,
        "likelihood": fit.spec.likelihood,
        "ci": ci,
        "version": fit.version,
        "parameters": parameters,
        "runs": runs,
        "hyperparameters": {name: _stats(row) for name, row in hyper.iterrows()},
        "predictions": [],
        "targets": [],
        "allocations": [],
        "diagnostics": fit.diagnostics.to_dict(),
        "data": {
            "source": fit.data.source,
            "path": fit.data.path,
            "sha256": fit.data.sha256,
            "columns": fit.data.columns,
            "n_points": len(fit.data),
            "runs": fit.runs,
            "recipes": fit.recipes,
            "notes": fit.data.notes,
        },
        "spec": fit.spec.to_dict(),
        "sampler": fit.sampler.to_dict(),
    }
    if fit.law.inputs == ("x",):
        xs = list(predict_x) if predict_x else default_prediction_inputs(fit)
        predictions = _per_recipe(fit, fit.predict, x=np.asarray(xs, dtype=float), ci=ci)
        payload["predictions"] = predictions.drop(columns="median").to_dict(orient="records")
    if targets:
        reach = _per_recipe(fit, fit.compute_to_reach, target=list(targets), ci=ci)
        payload["targets"] = reach.to_dict(orient="records")
    if budgets:
        optimal = _per_recipe(fit, fit.compute_optimal, compute=list(budgets), ci=ci)
        payload["allocations"] = allocation_records(optimal)
    return payload
