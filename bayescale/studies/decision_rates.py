"""How often does the recipe-comparison rule decide, on data with known truth?

Each replicate simulates four ScaleRL-like recipes with
:func:`bayescale.studies.simulate.simulate_recipes` and compares them against ``base``
with :func:`bayescale.analysis.recipes.compare`:

- ``same``: three seeds, the same true A as ``base`` (true difference 0);
- ``single``: one seed, the same true A (true difference 0, seed spread borrowed);
- ``better``: three seeds, true A higher by ``difference`` (default 0.05).

All replicates share one model structure (four recipes, ten runs), so the model
is compiled once and every further replicate only samples. The rates of
``higher``/``lower`` on the equal pairs are the rule's false-decision rates; the
rate of ``higher`` on ``better`` is its power. The least-squares point rule of the
paper is tallied beside it.

Examples
--------
>>> table = decision_study(2, seed=0)  # doctest: +SKIP
>>> decision_rates(table)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bayescale.analysis.recipes import DECISIONS, compare_recipes
from bayescale.inference.many import without_fit_warnings
from bayescale.results.intervals import DEFAULT_CI
from bayescale.studies.simulate import simulate_recipes

BASE = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
"""True parameters of ``base`` (ScaleRL 8B; R0 our choice, as in the bundled data)."""

STUDY_SAMPLER = {"draws": 300, "tune": 300, "chains": 2}
"""NUTS settings per replicate (600 draws suffice for an 89 % interval's decision)."""


def study_recipes(difference: float = 0.05) -> dict[str, dict[str, Any]]:
    """The four simulated recipes of one replicate (see the module docstring).

    Examples
    --------
    >>> {name: spec["n_runs"] for name, spec in study_recipes().items()}
    {'base': 3, 'same': 3, 'better': 3, 'single': 1}
    """
    better = {**BASE, "A": BASE["A"] + difference}
    return {
        "base": {"params": BASE, "n_runs": 3},
        "same": {"params": BASE, "n_runs": 3},
        "better": {"params": better, "n_runs": 3},
        "single": {"params": BASE, "n_runs": 1},
    }


def decision_study(
    n_replicates: int,
    *,
    difference: float = 0.05,
    rope: float = 0.02,
    ci: float = DEFAULT_CI,
    eval_every: int = 200,
    x_max: float = 50_000.0,
    min_x: float = 1500.0,
    sampler: Mapping[str, int] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate ``n_replicates`` data sets and record every decision.

    Parameters
    ----------
    n_replicates : int
        Number of simulated data sets.
    difference : float
        True A of ``better`` minus that of ``base``.
    rope, ci : float
        Passed to :func:`bayescale.analysis.recipes.compare`.
    eval_every : int
        Steps between evaluations (10 GPU-hours per step); 200 gives 24 points
        per run between ``min_x`` and ``x_max``, keeping each fit small.
    x_max, min_x : float
        Last compute simulated; early compute excluded from both methods.
    sampler : mapping, optional
        NUTS settings; default :data:`STUDY_SAMPLER`.
    seed : int
        Replicate ``i`` simulates with seed ``seed + i`` and samples with the
        same seed.

    Returns
    -------
    pandas.DataFrame
        One row per replicate and compared recipe: ``replicate``, ``recipe``,
        ``true_difference``, ``mean``, ``lower``, ``upper``, ``decision``,
        ``ls_difference``, ``ls_decision``, ``max_r_hat``, ``divergences``,
        ``seconds`` (compare call, including any compilation).
    """
    settings = {**STUDY_SAMPLER, **(sampler or {})}
    recipes = study_recipes(difference)
    base_a = recipes["base"]["params"]["A"]
    rows = []
    for replicate in range(n_replicates):
        replicate_seed = seed + replicate
        frame = simulate_recipes(
            recipes, x_max=x_max, eval_every=eval_every, held_out_from=None, rng=replicate_seed
        )
        start = time.perf_counter()
        with without_fit_warnings():
            result = compare_recipes(
                frame,
                x="gpu_hours",
                y="pass_rate",
                run="seed",
                baseline="base",
                rope=rope,
                ci=ci,
                min_x=min_x,
                seed=replicate_seed,
                **settings,
            )
        seconds = time.perf_counter() - start
        diagnostics = result.fit.diagnostics
        for pair in result.pairs.itertuples():
            rows.append(
                {
                    "replicate": replicate,
                    "recipe": pair.a,
                    "true_difference": recipes[pair.a]["params"]["A"] - base_a,
                    "mean": pair.mean,
                    "lower": pair.lower,
                    "upper": pair.upper,
                    "decision": pair.decision,
                    "ls_difference": pair.ls_difference,
                    "ls_decision": pair.ls_decision,
                    "max_r_hat": diagnostics.max_r_hat,
                    "divergences": diagnostics.divergences,
                    "seconds": seconds,
                }
            )
    return pd.DataFrame(rows)


def decision_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Share of each decision word per compared recipe, Bayesian rule and least squares.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`decision_study`.

    Returns
    -------
    pandas.DataFrame
        Index ``recipe``; columns ``true_difference``, ``n``, the shares of
        ``higher``, ``lower``, ``equivalent``, ``undecided`` (Bayesian rule) and
        ``ls_higher``, ``ls_lower``, ``ls_equivalent`` (the paper's point rule).

    Examples
    --------
    >>> table = pd.DataFrame({"recipe": ["same", "same"], "true_difference": [0.0, 0.0],
    ...                       "decision": ["undecided", "equivalent"],
    ...                       "ls_decision": ["equivalent", "higher"]})
    >>> decision_rates(table).loc["same", ["n", "equivalent", "ls_higher"]].tolist()
    [2.0, 0.5, 0.5]
    """
    grouped = table.groupby("recipe", sort=False)
    rates = pd.DataFrame(
        {"true_difference": grouped["true_difference"].first(), "n": grouped.size().astype(float)}
    )
    for word in DECISIONS:
        rates[word] = grouped["decision"].apply(lambda d, w=word: float(np.mean(d == w)))
    for word in ("higher", "lower", "equivalent"):
        rates[f"ls_{word}"] = grouped["ls_decision"].apply(lambda d, w=word: float(np.mean(d == w)))
    return rates
