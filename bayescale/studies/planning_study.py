"""Is the planner calibrated, and what does the stopping rule cost? (simulation study)

Each experiment simulates two ScaleRL-like recipes with a known truth
(:func:`bayescale.studies.simulate.simulate_recipes`): ``base`` (three seeds) and ``new``
(true A higher by ``delta``), fits the two-recipe model to the part of the data
the experimenter has, asks :func:`bayescale.analysis.planning.plan` for P(resolved) and
P(higher) of one option, then *actually* runs the option: the held-back part of
the simulated truth is added and the model refitted (with the planner's refit
settings), and its decision recorded. Two kinds of experiment alternate:

- ``add seeds``: ``new`` has 3 seeds to ``x_max``; the option adds 3 seeds (the
  truth simulated 6 and the planner saw 3). ``delta`` is uniform on [0, 0.05].
- ``extend``: the runs of ``new`` stopped at ``x_now`` (``base`` ran to
  ``x_max``); the option continues them to ``x_max``. ``delta`` alternates 0 and
  0.03: these experiments also measure the stopping rule (stop when
  P(higher at ``x_max``) < :data:`bayescale.analysis.planning.STOP_THRESHOLD`).

:func:`calibration_table` bins the predicted P(resolved) and compares each bin's
mean prediction with the observed share of resolved decisions, with the
binomial band; :func:`stopping_table` gives the rule's stop rates and the compute
saved.

Examples
--------
>>> table = planning_study(2, sims=4)  # doctest: +SKIP
>>> calibration_table(table)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pandas as pd

from bayescale.analysis.future_data import with_future
from bayescale.analysis.planning import (
    REFIT_SAMPLER,
    STOP_THRESHOLD,
    PlanOption,
    extra_compute,
    plan,
    refit_draws,
    start_point,
)
from bayescale.analysis.recipes import difference_summary, recipe_draws
from bayescale.inference.fitting import fit
from bayescale.studies.decision_rates import BASE
from bayescale.studies.simulate import simulate_recipes

STUDY_SETTINGS = {
    "x_max": 40_000.0,
    "x_now": 20_000.0,
    "eval_every": 400,
    "min_x": 1500.0,
    "rope": 0.02,
}
"""Simulation settings: evaluations every 4,000 GPU-hours (10 per run up to 40k)."""

FIT_SAMPLER = {"draws": 400, "tune": 300, "chains": 2}
"""NUTS settings of each experiment's present fit (the planner draws from it)."""


def experiment_truth(index: int, rng: np.random.Generator) -> tuple[str, float]:
    """Kind and true Delta A of experiment ``index`` (see the module docstring)."""
    if index % 2 == 0:
        return "add seeds", float(rng.uniform(0.0, 0.05))
    return "extend", 0.03 if index % 4 == 1 else 0.0


def run_experiment(index: int, *, sims: int, seed: int) -> dict:
    """One experiment: predicted and observed outcome of one option."""
    rng = np.random.default_rng(seed)
    kind, delta = experiment_truth(index, rng)
    settings = STUDY_SETTINGS
    recipes = {
        "base": {"params": BASE, "n_runs": 3},
        "new": {"params": {**BASE, "A": BASE["A"] + delta}, "n_runs": 6},
    }
    frame = simulate_recipes(
        recipes,
        x_max=settings["x_max"],
        eval_every=settings["eval_every"],
        held_out_from=None,
        rng=rng,
    )
    seen = ~frame["seed"].isin([f"new/seed{k}" for k in (3, 4, 5)])
    if kind == "extend":
        seen &= ~((frame["recipe"] == "new") & (frame["gpu_hours"] > settings["x_now"]))
        option = PlanOption("new", extend_to=settings["x_max"])
    else:
        option = PlanOption("new", add_seeds=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        present = fit(
            frame[seen],
            recipe="recipe",
            x="gpu_hours",
            y="pass_rate",
            run="seed",
            min_x=settings["min_x"],
            seed=seed,
            **FIT_SAMPLER,
        )
        predicted = plan(
            present,
            [option],
            recipe="new",
            baseline="base",
            sims=sims,
            rope=settings["rope"],
            seed=seed,
        ).options.iloc[0]
        future = frame[~seen & (frame["gpu_hours"] >= settings["min_x"])]
        if kind == "extend":
            future = future[future["seed"].isin(["new/seed0", "new/seed1", "new/seed2"])]
        future = future.rename(columns={"gpu_hours": "x", "pass_rate": "y"})
        future = future.assign(run=future["recipe"] + "/" + future["seed"])
        grown = with_future(present.data, future[["recipe", "run", "x", "y"]])
        draws, _ = refit_draws(
            present.spec,
            grown,
            REFIT_SAMPLER.__class__(**{**REFIT_SAMPLER.to_dict(), "seed": seed}),
            "A",
            init=start_point(present, grown),
        )
    now = difference_summary(
        recipe_draws(present, "A")["new"] - recipe_draws(present, "A")["base"],
        settings["rope"],
        0.89,
    )
    actual = difference_summary(draws["new"] - draws["base"], settings["rope"], 0.89)
    return {
        "experiment": index,
        "kind": kind,
        "delta": delta,
        "now": now["decision"],
        "p_resolved": float(predicted["p_resolved"]),
        "p_higher": float(predicted["p_higher"]),
        "observed": actual["decision"],
        "resolved": actual["decision"] != "undecided",
        "extra_compute": extra_compute(present.data, option),
        "seconds": time.perf_counter() - start,
    }


def planning_study(n_experiments: int, *, sims: int = 10, seed: int = 0) -> pd.DataFrame:
    """Run ``n_experiments`` experiments (experiment ``i`` uses seed ``seed + i``).

    Returns
    -------
    pandas.DataFrame
        One row per experiment: ``experiment``, ``kind``, ``delta``, ``now`` (the
        present decision), ``p_resolved`` and ``p_higher`` (predicted), ``observed``
        (decision after the option was run on the truth), ``resolved``,
        ``extra_compute``, ``seconds``.
    """
    return pd.DataFrame([run_experiment(i, sims=sims, seed=seed + i) for i in range(n_experiments)])


def calibration_table(
    table: pd.DataFrame, bins: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
) -> pd.DataFrame:
    """Predicted against observed P(resolved), by bins of the prediction.

    ``band`` is two binomial standard errors of a bin's observed share around its
    mean prediction, ``sqrt(p (1 - p) / n)`` with ``p`` the mean prediction
    (floored at ``0.5 / n`` so a bin predicted at 0 or 1 is not held to zero);
    ``within`` says whether the observed share lies inside it.

    Examples
    --------
    >>> t = pd.DataFrame({"p_resolved": [0.1, 0.1, 0.9, 0.9],
    ...                   "resolved": [False, False, True, True]})
    >>> calibration_table(t)[["n", "predicted", "observed", "within"]].to_dict("list")
    {'n': [2, 2], 'predicted': [0.1, 0.9], 'observed': [0.0, 1.0], 'within': [True, True]}
    """
    cut = pd.cut(table["p_resolved"], list(bins), include_lowest=True)
    grouped = table.groupby(cut, observed=True)
    out = pd.DataFrame(
        {
            "n": grouped.size(),
            "predicted": grouped["p_resolved"].mean(),
            "observed": grouped["resolved"].mean().astype(float),
        }
    )
    se = np.sqrt(np.maximum(out["predicted"] * (1 - out["predicted"]), 0.25 / out["n"]) / out["n"])
    out["band"] = 2 * se
    out["within"] = (out["observed"] - out["predicted"]).abs() <= out["band"]
    out.index = out.index.astype(str)
    out.index.name = "bin"
    return out


def stopping_table(table: pd.DataFrame, threshold: float = STOP_THRESHOLD) -> pd.DataFrame:
    """The stopping rule on the ``extend`` experiments, by true Delta A.

    Columns: ``n``, ``stopped`` (share with P(higher) < ``threshold``),
    ``stopped_se`` (its binomial standard error), ``final_higher`` (share whose
    decision at ``x_max`` was ``higher`` had they run on), ``compute_saved``
    (share of the remaining compute of all these recipes that stopping saved).
    """
    extend = table[table["kind"] == "extend"]
    rows = {}
    for delta, group in extend.groupby("delta"):
        stopped = group["p_higher"] < threshold
        n = len(group)
        share = float(stopped.mean())
        rows[float(delta)] = {
            "n": n,
            "stopped": share,
            "stopped_se": math.sqrt(max(share * (1 - share), 0.25 / n) / n),
            "final_higher": float((group["observed"] == "higher").mean()),
            "compute_saved": float(
                group.loc[stopped, "extra_compute"].sum() / group["extra_compute"].sum()
            ),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "true_delta"
    return out
