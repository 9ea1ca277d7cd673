"""Machine-readable results: the ``fit.json`` contract.

Keys (other tools rely on them):

- ``law``, ``likelihood``, ``ci``, ``version``
- ``parameters``: name -> {mean, sd, lower, upper, r_hat, ess_bulk} for the
  recipe-level law parameters (``A[recipe]`` when there are several recipes)
- ``runs``: run -> {parameter -> stats} for the parameters that vary by run
- ``hyperparameters``: run-to-run spreads and noise parameters, same stats
- ``predictions``: list of {x, decades_beyond, mean, lower, upper, obs_lower,
  obs_upper, law_error_sd, extrapolation} (``recipe`` too when there are several;
  by default at 2x and 10x each recipe's own largest x; ``extrapolation`` = x /
  that largest x; ``decades_beyond``: decades outside the fitted range, where
  ``obs_lower``/``obs_upper`` include the law's own error, of sd ``law_error_sd``)
- ``law_error``: the law-error scale learned by internal leave-largest-out
  folds: {scale, sd_per_decade, axis, folds}, or null for laws of a rate
  (:mod:`bayescale.inference.law_error`)
- ``prediction_notes``: one line per prediction beyond 10x its recipe's data
- ``targets``: list of {target, p_reachable, median, lower, upper}
- ``allocations`` (chinchilla): list of {compute, decades_beyond, n_opt, d_opt, ratio, loss_opt},
  each quantity a dict {mean, median, lower, upper} (``recipe`` too when there
  are several); see :mod:`bayescale.results.allocation`
- ``inference_allocations`` (chinchilla, with inference tokens): list of
  {inference_tokens, loss_target or budget, p_reachable, n, d, ratio, loss,
  training_flops, inference_flops, total_flops, chinchilla_n, chinchilla_d,
  chinchilla_total_flops, saving, saving_flops}, each quantity a dict {mean,
  median, lower, upper}: the inference-aware allocation at each target loss and
  each total budget; see :mod:`bayescale.results.inference_allocation`
- ``diagnostics``: {max_r_hat, min_ess_bulk, divergences, warnings, prior_reliance,
  predictive, law_check, notes, attempts, converged}: ``converged`` is false when
  R-hat > 1.01, there were divergences or the bulk ESS is below 400 (the CLI then
  exits with status 3); ``attempts`` lists each sampling attempt (a second one with
  longer tuning when the first failed); see ``docs/warnings.md``
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

from bayescale.data.curves import CurveData, DataError
from bayescale.inference.law_error import LawError
from bayescale.results.allocation import allocation_records
from bayescale.results.fit_result import Fit
from bayescale.results.inference_allocation import inference_records

STAT_COLUMNS = ["mean", "sd", "lower", "upper", "r_hat", "ess_bulk"]


def _stats(row: pd.Series) -> dict[str, float]:
    return {column: float(row[column]) for column in STAT_COLUMNS}


FAR_EXTRAPOLATION = 10.0
"""Predictions beyond this multiple of a recipe's largest fitted input get a note."""


def largest_inputs(fit: Fit) -> dict[str, float]:
    """Recipe -> its largest fitted input (one-input laws)."""
    return {str(k): float(v) for k, v in fit.data.frame.groupby("recipe")["x"].max().items()}


def default_prediction_inputs(fit: Fit, recipe: str | None = None) -> list[float]:
    """2x and 10x the largest observed input of ``recipe`` (of all data when ``None``)."""
    return data_prediction_inputs(fit.data, recipe)


def data_prediction_inputs(data: CurveData, recipe: str | None = None) -> list[float]:
    """2x and 10x the largest input of ``recipe`` in ``data`` (all rows when ``None``).

    Raises
    ------
    DataError
        Naming the source and row when those points overflow (an x near 1e308).
    """
    rows = data.frame if recipe is None else data.frame[data.frame["recipe"] == recipe]
    top = rows.loc[rows["x"].idxmax()]
    largest = float(top["x"])
    if not np.isfinite(10 * largest):
        raise DataError(
            f"{data.source}: x = {largest:g} (row {int(top['row'])}, column "
            f"'{data.columns.get('x', 'x')}') is so large that the default prediction points "
            "(2x and 10x the largest x) overflow; give the points to predict at (--predict)"
        )
    return [2 * largest, 10 * largest]


def _per_recipe(fit: Fit, function, **kwargs) -> pd.DataFrame:
    if len(fit.recipes) == 1:
        return function(**kwargs)
    frames = [function(recipe=recipe, **kwargs).assign(recipe=recipe) for recipe in fit.recipes]
    return pd.concat(frames, ignore_index=True)


def predictions_with_distance(
    fit: Fit, predict_x: Sequence[float] | None, ci: float
) -> tuple[pd.DataFrame, list[str]]:
    """Predictions of every recipe (default: 2x and 10x *its own* largest input),
    with ``extrapolation`` = x / the recipe's largest fitted x, and a note for
    each prediction beyond :data:`FAR_EXTRAPOLATION` times the data."""
    largest = largest_inputs(fit)
    frames = []
    for recipe in fit.recipes:
        xs = list(predict_x) if predict_x else default_prediction_inputs(fit, recipe)
        frame = fit.predict(np.asarray(xs, dtype=float), recipe=recipe, ci=ci)
        if len(fit.recipes) > 1:
            frame = frame.assign(recipe=recipe)
        frames.append(frame.assign(extrapolation=frame["x"] / largest[recipe]))
    table = pd.concat(frames, ignore_index=True)
    notes = []
    for row in table[table["extrapolation"] > FAR_EXTRAPOLATION].itertuples():
        recipe = getattr(row, "recipe", fit.recipes[0])
        where = f" of recipe '{recipe}'" if len(fit.recipes) > 1 else ""
        notes.append(
            f"x = {row.x:g} is {row.extrapolation:.0f}x the largest fitted x{where} "
            f"({largest[recipe]:g}): that far out the prediction rests on the law's form, "
            "not on the data"
        )
    return table, notes


def law_error_summary(error: LawError) -> dict[str, Any]:
    """The ``law_error`` entry of ``fit.json``: scale, sd one decade out, folds."""
    return {
        "scale": error.scale,
        "sd_per_decade": error.sd_per_decade,
        "axis": error.axis,
        "folds": [dict(fold) for fold in error.folds],
    }


def fit_to_dict(
    fit: Fit,
    *,
    ci: float,
    predict_x: Sequence[float] | None = None,
    targets: Sequence[float] = (),
    budgets: Sequence[float] = (),
    inference_tokens: Sequence[float] = (),
) -> dict[str, Any]:
    """The ``fit.json`` payload for ``fit``.

    Parameters
    ----------
    fit : Fit
    ci : float
        Credible mass of every interval.
    predict_x : sequence of float, optional
        Inputs to predict at; default 2x and 10x each recipe's largest observed input.
    targets : sequence of float
        Metric values for compute-to-target.
    budgets : sequence of float
        Compute budgets (FLOP) for compute-optimal allocation (chinchilla fits).
    inference_tokens : sequence of float
        Tokens to be served (chinchilla fits): adds the inference-aware allocation
        at each target loss and at each budget, taken as training + inference FLOPs.
    """
    table = fit.summary(ci=ci)
    parameters = {name: _stats(row) for name, row in table[table["level"] == "recipe"].iterrows()}
    by_run = table[table["level"] == "run"].set_index(["name", "coordinate"])
    runs: dict[str, dict[str, Any]] = {run: {} for run in fit.runs}
    for name in fit.spec.varying:
        for run in fit.runs:
            runs[run][name] = _stats(by_run.loc[(name, run)])
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
        "inference_allocations": [],
        "diagnostics": fit.diagnostics.to_dict(),
        "law_error": None if fit.law_error is None else law_error_summary(fit.law_error),
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
        predictions, notes = predictions_with_distance(fit, predict_x, ci)
        payload["predictions"] = predictions.drop(columns="median").to_dict(orient="records")
        payload["prediction_notes"] = notes
    if targets:
        reach = _per_recipe(fit, fit.compute_to_reach, target=list(targets), ci=ci)
        payload["targets"] = reach.to_dict(orient="records")
    if budgets:
        optimal = _per_recipe(fit, fit.compute_optimal, compute=list(budgets), ci=ci)
        payload["allocations"] = allocation_records(optimal)
    if inference_tokens:
        for key, values in (("loss", targets), ("budget", budgets)):
            if values:
                frame = _per_recipe(
                    fit,
                    fit.inference_optimal,
                    inference_tokens=list(inference_tokens),
                    **{key: list(values)},
                    ci=ci,
                )
                payload["inference_allocations"] += inference_records(frame)
    return payload
