"""Simulated model ladders and the backtest of task-accuracy predictions across sizes.

A ladder (after the OLMo ladder, Bhagia et al. 2024) trains sizes 60M-1B at 1, 2,
5 and 10 times the Chinchilla token count (20 tokens per parameter); the 7B (4T
tokens) and 13B (5T tokens) models are held out. The loss follows
``L(C) = E + G (C / 1e18)^-alpha`` with model-to-model scatter; two tasks with
four choices (chance 0.25) follow the bounded sigmoid in the loss
(:mod:`bayescale.model.task_law`) with model-to-model scatter and binomial
noise on ``questions`` questions:

- ``"smooth"``: the rise lies inside the ladder's losses;
- ``"emergent"``: near chance over most of the ladder, a steep rise that starts
  at its largest models and ends before the held-out ones (a jump against
  compute, smooth in the loss);
- ``"beyond"``: as steep, but the rise starts after the ladder: near chance at
  every fitted size. No fit of the ladder can locate it; the study keeps it to
  show how that fails.

Each data set draws its own true parameters around these archetypes.
:func:`task_backtest` fits the ladder (:func:`bayescale.fit_task`) and checks the
held-out evaluations against their new-evaluation intervals.

Examples
--------
>>> ladder = simulate_ladder(rng=0)
>>> sorted(ladder["n"].unique().tolist())[-2:]
[7000000000.0, 13000000000.0]
>>> bool(ladder["held_out"].sum() == 2)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.special
import scipy.stats

from bayescale.analysis.task import fit_task, predict_task

LADDER_SIZES = (60e6, 150e6, 300e6, 530e6, 750e6, 1e9)
"""Fitted model sizes (parameters)."""
TOKEN_MULTIPLIERS = (1, 2, 5, 10)
"""Token counts of each ladder size, in multiples of 20 tokens per parameter."""
HELD_OUT = ((7e9, 4e12), (13e9, 5e12))
"""Held-out models: (parameters, tokens)."""
TASKS = {
    "smooth": {"ceiling": 0.9, "L_mid": 2.9, "k": 3.0},
    "emergent": {"ceiling": 0.8, "L_mid": 2.45, "k": 10.0},
    "beyond": {"ceiling": 0.8, "L_mid": 2.25, "k": 12.0},
}
"""Archetypes of the two tasks' true laws (chance 0.25)."""
LOSS_LAW = {"E": 1.7, "G": 2.0, "alpha": 0.15}
"""Centre of the true loss law ``E + G (C / 1e18)^-alpha``."""


def simulate_ladder(
    *,
    rng: np.random.Generator | int | None = None,
    questions: int = 1000,
    loss_scatter: float = 0.01,
    task_scatter: float = 0.01,
    jitter: bool = True,
) -> pd.DataFrame:
    """One simulated ladder: a row per model with ``n``, ``d``, ``compute``, ``loss``,
    the tasks' accuracies, ``held_out`` and the truth (``true_loss``, ``true_<task>``).

    Parameters
    ----------
    rng : Generator or int, optional
    questions : int
        Questions per task evaluation (binomial noise).
    loss_scatter : float
        Model-to-model sd of the log loss around the law.
    task_scatter : float
        Model-to-model sd of the accuracy around the task law.
    jitter : bool
        Draw this data set's true parameters around the archetypes.
    """
    rng = np.random.default_rng(rng)
    spread = (lambda sd: float(np.exp(sd * rng.standard_normal()))) if jitter else (lambda sd: 1.0)
    law = {"E": LOSS_LAW["E"] * spread(0.03), "G": LOSS_LAW["G"] * spread(0.1)}
    law["alpha"] = LOSS_LAW["alpha"] * spread(0.1)
    models = [(n, 20 * m * n, False) for n in LADDER_SIZES for m in TOKEN_MULTIPLIERS]
    models += [(n, d, True) for n, d in HELD_OUT]
    frame = pd.DataFrame(models, columns=["n", "d", "held_out"])
    frame["compute"] = 6 * frame["n"] * frame["d"]
    true_loss = law["E"] + law["G"] * (frame["compute"] / 1e18) ** -law["alpha"]
    frame["true_loss"] = true_loss
    frame["loss"] = true_loss * np.exp(loss_scatter * rng.standard_normal(len(frame)))
    for task, centre in TASKS.items():
        ceiling = min(0.98, centre["ceiling"] * spread(0.05))
        mid, k = centre["L_mid"] * spread(0.03), centre["k"] * spread(0.2)
        truth = 0.25 + (ceiling - 0.25) * scipy.special.expit(k * (mid - frame["loss"]))
        frame[f"true_{task}"] = 0.25 + (ceiling - 0.25) * scipy.special.expit(
            k * (mid - frame["true_loss"])
        )
        model = np.clip(truth + task_scatter * rng.standard_normal(len(frame)), 0.0, 1.0)
        frame[task] = rng.binomial(questions, model) / questions
    return frame


def task_backtest(
    ladder: pd.DataFrame,
    *,
    method: str = "two_step",
    questions: int = 1000,
    ci: float = 0.9,
    sampler: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Fit the ladder's fitted rows; compare the held-out rows with their predictions.

    Returns
    -------
    pandas.DataFrame
        One row per task and held-out model: ``task``, ``n``, ``observed``,
        ``median``, ``lower``, ``upper``, ``eval_lower``, ``eval_upper``,
        ``covered`` (the observed evaluation inside the new-evaluation interval)
        and ``abs_error`` (|median - observed|, accuracy points x 100).
    """
    fitted = ladder[~ladder["held_out"]]
    held = ladder[ladder["held_out"]]
    tasks = list(TASKS)
    task_fit = fit_task(
        fitted,
        tasks,
        loss="loss",
        compute="compute",
        method=method,
        chance=0.25,
        questions=questions,
        **(sampler or {}),
    )
    table = predict_task(task_fit, compute=held["compute"].to_numpy(), ci=ci)
    table["n"] = np.tile(held["n"].to_numpy(), len(tasks))
    table["observed"] = np.concatenate([held[task].to_numpy() for task in tasks])
    table["covered"] = (table["eval_lower"] <= table["observed"]) & (
        table["observed"] <= table["eval_upper"]
    )
    table["abs_error"] = 100 * (table["median"] - table["observed"]).abs()
    return table


def binomial_band(trials: int, rate: float = 0.9, mass: float = 0.95) -> tuple[float, float]:
    """Range of coverage rates consistent with the nominal ``rate`` over ``trials``.

    Examples
    --------
    >>> binomial_band(100)
    (0.84, 0.95)
    """
    low, high = scipy.stats.binom.interval(mass, trials, rate)
    return float(low / trials), float(high / trials)


def run_task_study(
    n_datasets: int = 50,
    *,
    seed: int = 0,
    methods: Sequence[str] = ("two_step",),
    sampler: dict[str, Any] | None = None,
    ci: float = 0.9,
) -> pd.DataFrame:
    """Backtest ``n_datasets`` simulated ladders; one row per data set, method,
    task and held-out size (see :func:`task_backtest`)."""
    rows = []
    for index in range(n_datasets):
        ladder = simulate_ladder(rng=np.random.default_rng([seed, index]))
        for method in methods:
            table = task_backtest(ladder, method=method, ci=ci, sampler=sampler)
            rows.append(table.assign(dataset=index, method=method))
    return pd.concat(rows, ignore_index=True)


def summarise_study(results: pd.DataFrame, ci: float = 0.9) -> pd.DataFrame:
    """Coverage, its binomial band and the median absolute error per method, task and size."""
    groups = results.groupby(["method", "task", "n"])
    summary = groups.agg(
        datasets=("covered", "size"),
        coverage=("covered", "mean"),
        median_abs_error=("abs_error", "median"),
        mean_abs_error=("abs_error", "mean"),
    ).reset_index()
    bands = [binomial_band(int(count), ci) for count in summary["datasets"]]
    summary["band_lower"] = [band[0] for band in bands]
    summary["band_upper"] = [band[1] for band in bands]
    return summary
