"""Does the designed run set beat the naive next step? A simulation with known truth.

For each simulated world (truth from :func:`bayescale.studies.isoflop_study.draw_truth`):
fit the isoFLOP sweeps, take a naive next step
(:func:`bayescale.analysis.next_run.naive_candidate`), give the designer
(:func:`bayescale.analysis.next_run.suggest_runs`) the same FLOP, train both run sets in
the simulated world (true Chinchilla-law loss plus noise), refit, and compare the
90% interval width of ``ln N*`` at the target budget and whether it holds the truth.

Examples
--------
>>> row = design_vs_naive(0, kind="size", draws=300, tune=300)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bayescale.analysis.isoflop import IsoflopFit, fit_isoflop
from bayescale.analysis.next_run import (
    conditional_variance,
    isoflop_candidates,
    naive_candidate,
    predicted_losses,
    suggest_runs,
    target_draws,
)
from bayescale.results.allocation import optimal_allocation
from bayescale.results.intervals import eti
from bayescale.studies.isoflop_simulate import (
    true_loss,
)
from bayescale.studies.isoflop_study import TARGET, simulate_world


def _width(fit: IsoflopFit, level: float = 0.9) -> tuple[float, np.ndarray]:
    values = fit.log_n_opt(TARGET)[:, 0]
    low, high = eti(values, level)
    return float(high - low), np.array([low, high])


def design_vs_naive(
    seed: int, *, kind: str = "sweep", draws: int = 1000, tune: int = 1000, chains: int = 2
) -> dict[str, Any]:
    """One simulated world: interval of ``ln N*(3.8e25)`` after naive vs designed runs.

    Returns
    -------
    dict
        ``width_before``, ``width_naive``, ``width_design`` (90% widths),
        ``cover_naive``/``cover_design`` (truth inside), the linearised predicted
        sds (``linear_sd_*``) and the posterior sds after the refits (``sd_*``),
        the run budget and the design's labels.
    """
    rng, truth, params, frame = simulate_world(seed)
    frame = frame[["compute", "n", "loss"]]
    settings = {"draws": draws, "tune": tune, "chains": chains, "cores": 1}
    fit = fit_isoflop(frame, n="n", seed=seed, **settings)
    true_log_n = float(np.log(optimal_allocation(params, TARGET)["n_opt"]))
    naive = naive_candidate(fit, kind)
    budget = float(naive["compute"].sum())
    candidates = pd.concat([isoflop_candidates(fit), naive], ignore_index=True)
    design = suggest_runs(fit, target_compute=TARGET, run_budget=budget, candidates=candidates)
    goal = target_draws(fit, "n_opt", TARGET)
    width_before, _ = _width(fit)
    row: dict[str, Any] = {"seed": seed, "kind": kind, "run_budget": budget, **truth}
    row["width_before"], row["sd_before"] = width_before, float(np.std(goal))
    for name, runs in (("naive", naive), ("design", design.runs)):
        predictions, noise_var = predicted_losses(fit, runs, seed)
        row[f"linear_sd_{name}"] = float(
            np.sqrt(conditional_variance(goal, predictions, noise_var, range(len(runs))))
        )
        compute, n = runs["compute"].to_numpy(), runs["n"].to_numpy()
        loss = true_loss(params, compute, n) + rng.normal(0.0, truth["noise_sd"], len(runs))
        extra = pd.DataFrame({"compute": compute, "n": n, "loss": loss})
        refit = fit_isoflop(
            pd.concat([frame, extra], ignore_index=True), n="n", seed=seed, **settings
        )
        width, bounds = _width(refit)
        row[f"width_{name}"] = width
        row[f"sd_{name}"] = float(np.std(refit.log_n_opt(TARGET)[:, 0]))
        row[f"cover_{name}"] = bool(bounds[0] <= true_log_n <= bounds[1])
        row[f"runs_{name}"] = len(runs)
        row[f"cost_{name}"] = float(runs["compute"].sum())
    row["design"] = "; ".join(design.chosen["label"])
    return row
