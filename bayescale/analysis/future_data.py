"""Data a plan has not run yet, drawn from a fit's posterior predictive distribution.

Two kinds of future data, for one posterior draw at a time (the draw's law
parameters, seed spread and noise parameters):

- **new seeds** of a recipe: the varying parameters (the sigmoid's ``A``) of a new
  run are drawn around the recipe's value with the fitted seed spread
  (``sigma_A``; positive parameters on the log scale), the run is evaluated on the
  recipe's evaluation grid (extended to ``extend_to`` if given) and measured
  with the fitted observation noise;
- **continuations** of existing runs to ``extend_to``: each run keeps its own
  fitted parameters (``A_run`` of the draw) and, under the ``"drift"`` model,
  its own drift: the drift state at the run's last evaluation is drawn from its
  filtered distribution given the run's residuals (a scalar Kalman filter), then
  carried forward by the fitted AR(1) and measured with fresh noise.

Under observation models other than ``"drift"`` new points get the model's own
independent noise (:attr:`bayescale.model.likelihoods.registry.Likelihood.draw`); models that
need the number of evaluation prompts are refused.

Examples
--------
>>> import bayescale as bs
>>> fit = bs.fit(bs.example_path("recipes"), x="gpu_hours", y="pass_rate", run="seed",
...              recipe="recipe", min_x=1500)  # doctest: +SKIP
>>> frame = future_frame(fit, Draw.of(fit, 0), "better", add_seeds=2,
...                      extend_to=None, rng=np.random.default_rng(0))  # doctest: +SKIP
>>> frame["run"].unique()  # doctest: +SKIP
array(['better/new0', 'better/new1'], dtype=object)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import CurveData
from bayescale.model.likelihoods.drift import filtered_drift
from bayescale.model.priors import hierarchy_prior_name
from bayescale.results.fit_result import Fit

__all__ = ["Draw", "check_plannable", "evaluation_grid", "future_frame", "with_future"]


@dataclass(frozen=True)
class Draw:
    """One posterior draw of everything the future data depend on.

    Attributes
    ----------
    recipe : dict of str to dict of str to float
        Recipe -> law parameter -> value.
    run : dict of str to dict of str to float
        Fitted run -> its own law parameters.
    spread : dict of str to float
        Varying parameter -> seed spread (``sigma_A``, ``sigma_log_B``, ...).
    noise : dict of str to float
        Noise parameters of the observation model, with ``sigma``/``drift_sd``
        under ``"drift"``.
    """

    recipe: dict[str, dict[str, float]]
    run: dict[str, dict[str, float]]
    spread: dict[str, float]
    noise: dict[str, float]

    @classmethod
    def of(cls, fit: Fit, index: int) -> Draw:
        """The posterior draw at flat position ``index`` (chains stacked)."""
        post = fit.draws_dataset
        law = fit.law

        def flat(name: str) -> np.ndarray:
            value = post[name].to_numpy()
            return value.reshape(value.shape[0] * value.shape[1], -1)[index]

        recipes, runs = fit.recipes, fit.runs
        recipe_values = {}
        for name in law.parameters:
            value = flat(name)
            recipe_values[name] = np.broadcast_to(value, (len(recipes),))
        recipe = {
            r: {name: float(recipe_values[name][k]) for name in law.parameters}
            for k, r in enumerate(recipes)
        }
        run_of = fit.data.run_recipe
        run = {}
        for k, label in enumerate(runs):
            values = dict(recipe[run_of[label]])
            for name in fit.spec.varying:
                values[name] = float(flat(f"{name}_run")[k])
            run[label] = values
        spread = {
            name: float(flat(hierarchy_prior_name(law, name))[0]) for name in fit.spec.varying
        }
        names = [*fit.likelihood.parameters, *fit.likelihood.derived]
        noise = {name: float(flat(name)[0]) for name in names}
        return cls(recipe=recipe, run=run, spread=spread, noise=noise)


def check_plannable(fit: Fit) -> None:
    """Refuse fits whose future data this module cannot draw.

    Raises
    ------
    ValueError
        For laws with more than one input (``chinchilla``) and observation models
        that need the number of evaluation prompts.
    """
    if fit.law.inputs != ("x",):
        raise ValueError(f"planning needs a law of one input (compute); {fit.law.name!r} has two")
    if fit.likelihood.needs_trials:
        raise ValueError(
            f"planning cannot draw future data for likelihood {fit.likelihood.name!r} "
            "(it needs the number of prompts); refit with likelihood='drift'"
        )


def evaluation_grid(curves: CurveData, recipe: str, extend_to: float | None = None) -> np.ndarray:
    """The compute values a new seed of ``recipe`` is evaluated at.

    The grid of the recipe's longest run; with ``extend_to``, continued with its
    median spacing up to ``extend_to``.

    Examples
    --------
    >>> from bayescale.data.curves import load_curves
    >>> from bayescale.data.examples import example_path
    >>> curves = load_curves(example_path("recipes"), x="gpu_hours", y="pass_rate",
    ...                      run="seed", recipe="recipe", min_x=1500)
    >>> grid = evaluation_grid(curves, "better", extend_to=60_000)
    >>> float(grid[0]), float(grid[-1]), grid.size
    (2000.0, 60000.0, 59)
    """
    frame = curves.frame[curves.frame["recipe"] == recipe]
    longest = frame.groupby("run", sort=False)["x"].max().idxmax()
    grid = np.sort(frame.loc[frame["run"] == longest, "x"].to_numpy(float))
    return _continue(grid, extend_to)


def _continue(grid: np.ndarray, extend_to: float | None) -> np.ndarray:
    """``grid`` continued with its median spacing up to ``extend_to`` (inclusive)."""
    if extend_to is None or extend_to <= grid[-1] or grid.size < 2:
        return grid
    step = float(np.median(np.diff(grid)))
    more = grid[-1] + step * np.arange(1, int(np.floor((extend_to - grid[-1]) / step + 1e-9)) + 1)
    return np.concatenate([grid, more])


def future_frame(
    fit: Fit,
    draw: Draw,
    recipe: str,
    *,
    add_seeds: int,
    extend_to: float | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Canonical rows (``recipe``, ``run``, ``x``, ``y``) of one simulated future.

    Parameters
    ----------
    fit : Fit
    draw : Draw
        The posterior draw the future is drawn from.
    recipe : str
        The recipe that gets the new seeds and whose runs are extended.
    add_seeds : int
        Number of new seeds (runs ``<recipe>/new0``, ...).
    extend_to : float or None
        Continue the recipe's runs (and evaluate the new seeds) up to this compute.
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        New rows only, in run order and evaluation order.
    """
    curves = fit.data
    law = fit.law
    frames = []
    if extend_to is not None:
        for run in curves.runs:
            if curves.run_recipe[run] != recipe:
                continue
            rows = curves.frame[curves.frame["run"] == run]
            x_seen = rows["x"].to_numpy(float)
            x_new = _continue(x_seen, extend_to)[x_seen.size :]
            if x_new.size == 0:
                continue
            params = draw.run[run]
            residual = rows["y"].to_numpy(float) - law.curve(_log(x_seen), params)
            y = _measure(law.curve(_log(x_new), params), draw, fit, rng, _filtered(residual, draw))
            frames.append(_rows(recipe, run, x_new, y))
    grid = evaluation_grid(curves, recipe, extend_to)
    for k in range(add_seeds):
        params = _new_run_parameters(fit, draw, recipe, rng)
        y = _measure(law.curve(_log(grid), params), draw, fit, rng, start=None)
        frames.append(_rows(recipe, f"{recipe}/new{k}", grid, y))
    if not frames:
        return pd.DataFrame(columns=["recipe", "run", "x", "y"])
    out = pd.concat(frames, ignore_index=True)
    if law.bounded:
        out["y"] = out["y"].clip(0.0, 1.0)
    return out


def with_future(curves: CurveData, future: pd.DataFrame) -> CurveData:
    """``curves`` with the future rows added, in model order (recipes keep their order).

    Examples
    --------
    >>> from bayescale.data.curves import load_curves
    >>> from bayescale.data.examples import example_path
    >>> curves = load_curves(example_path("recipes"), x="gpu_hours", y="pass_rate",
    ...                      run="seed", recipe="recipe")
    >>> more = pd.DataFrame({"recipe": ["better"], "run": ["better/new0"],
    ...                      "x": [1000.0], "y": [0.3]})
    >>> grown = with_future(curves, more)
    >>> len(grown), grown.recipes == curves.recipes, grown.runs[-1] == curves.runs[-1]
    (501, True, True)
    """
    if future.empty:
        return curves
    frame = pd.concat([curves.frame, future], ignore_index=True)
    runs = list(dict.fromkeys([*curves.runs, *future["run"]]))
    order = pd.DataFrame(
        {
            "recipe": frame["recipe"].map({r: i for i, r in enumerate(curves.recipes)}),
            "run": frame["run"].map({r: i for i, r in enumerate(runs)}),
            "x": frame["x"],
        }
    ).sort_values(["recipe", "run", "x"], kind="stable")
    frame = frame.loc[order.index].reset_index(drop=True)
    return CurveData(frame=frame, columns=dict(curves.columns), source=curves.source)


def _log(x: np.ndarray) -> dict[str, np.ndarray]:
    return {"x": np.log(x)}


def _rows(recipe: str, run: str, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"recipe": recipe, "run": run, "x": x, "y": np.asarray(y, float)})


def _new_run_parameters(
    fit: Fit, draw: Draw, recipe: str, rng: np.random.Generator
) -> dict[str, float]:
    params = dict(draw.recipe[recipe])
    for name in fit.spec.varying:
        z = rng.standard_normal()
        spread = draw.spread[name]
        if name in fit.law.positive:
            params[name] = params[name] * float(np.exp(spread * z))
        else:
            params[name] = params[name] + spread * z
    return params


def _filtered(residual: np.ndarray, draw: Draw) -> tuple[float, float] | None:
    """Mean and variance of the drift at a run's last evaluation given its residuals
    (``None`` without a drift model)."""
    noise = draw.noise
    if "drift_corr" not in noise:
        return None
    mean, variance = filtered_drift(
        np.asarray(residual, dtype=float)[None, :],
        *(np.array([noise[name]], dtype=float) for name in ("sigma", "drift_sd", "drift_corr")),
    )
    return float(mean[0]), float(variance[0])


def _measure(
    mu: np.ndarray,
    draw: Draw,
    fit: Fit,
    rng: np.random.Generator,
    start: tuple[float, float] | None,
) -> np.ndarray:
    """Observations around the curve ``mu``: drift plus noise under ``"drift"``
    (from ``start``, the filtered drift one evaluation earlier, or stationary),
    the observation model's own noise otherwise."""
    mu = np.asarray(mu, dtype=float)
    noise = draw.noise
    if "drift_corr" in noise:
        corr, drift_sd, sigma = noise["drift_corr"], noise["drift_sd"], noise["sigma"]
        innovation = drift_sd * np.sqrt(1 - corr * corr)
        if start is None:
            state = drift_sd * rng.standard_normal()
        else:
            state = start[0] + np.sqrt(start[1]) * rng.standard_normal()
            state = corr * state + innovation * rng.standard_normal()
        drift = np.empty(mu.size)
        for t in range(mu.size):
            if t:
                state = corr * state + innovation * rng.standard_normal()
            drift[t] = state
        return mu + drift + sigma * rng.standard_normal(mu.size)
    params = {name: xr.DataArray(noise[name]) for name in fit.likelihood.parameters}
    drawn = fit.likelihood.draw(xr.DataArray(mu, dims="obs"), params, rng, None)
    return np.asarray(drawn, dtype=float)
