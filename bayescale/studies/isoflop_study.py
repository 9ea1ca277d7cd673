"""Coverage of the isoFLOP model's intervals on simulated sweeps with known truth.

Each data set draws a truth (frontier exponent, coefficient, the Chinchilla
``beta`` that sets the profiles' asymmetry, noise) from :func:`draw_truth`,
simulates sweeps (:func:`bayescale.studies.isoflop_simulate.simulate_isoflop`), fits
:func:`bayescale.analysis.isoflop.fit_isoflop` and records where the truth falls in the
posterior: its quantile (SBC-style rank, uniform when the intervals are
calibrated) and whether the 50% and 90% intervals hold it. The usual two-step
recipe (least-squares parabola per budget, then least squares of ``ln N*`` on
``ln C`` with a t interval) is scored on the same data for comparison.

Examples
--------
>>> row = coverage_run(0, draws=300, tune=300)  # doctest: +SKIP
>>> sorted(row)[:3]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bayescale.analysis.isoflop import fit_isoflop
from bayescale.results.allocation import FLOP_PER_PARAMETER_TOKEN, optimal_allocation
from bayescale.results.intervals import eti
from bayescale.studies.isoflop_simulate import (
    DEFAULT_BUDGETS,
    chinchilla_for_frontier,
    simulate_isoflop,
)

TARGET = 3.8e25
"""Budget the frontier is extrapolated to (Llama 3 405B)."""

LEVELS = (0.5, 0.9)


def draw_truth(rng: np.random.Generator) -> dict[str, float]:
    """A plausible truth: ``b`` in U(0.45, 0.6), D*/N* at 1e20 FLOP log-uniform in
    (10, 40), ``beta`` in U(0.25, 0.4), noise sd log-uniform in (0.005, 0.02).

    Examples
    --------
    >>> sorted(draw_truth(np.random.default_rng(0)))
    ['b', 'beta', 'h', 'noise_sd']
    """
    b = rng.uniform(0.45, 0.6)
    ratio = np.exp(rng.uniform(np.log(10), np.log(40)))
    c0 = 1e20
    d0 = np.sqrt(ratio * c0 / FLOP_PER_PARAMETER_TOKEN)
    return {
        "b": float(b),
        "h": float(d0 / c0**b),
        "beta": float(rng.uniform(0.25, 0.4)),
        "noise_sd": float(np.exp(rng.uniform(np.log(0.005), np.log(0.02)))),
    }


def simulate_world(
    seed: int,
) -> tuple[np.random.Generator, dict[str, float], dict[str, float], pd.DataFrame]:
    """A truth from :func:`draw_truth` and its sweeps (10 budgets, 12 sizes each).

    Returns
    -------
    rng : numpy.random.Generator
        The generator that drew the truth (for further draws in the same world).
    truth : dict
        ``b``, ``h``, ``beta``, ``noise_sd``.
    params : dict
        The Chinchilla-law parameters of that truth.
    frame : pandas.DataFrame
        ``compute``, ``n``, ``d``, ``loss``, ``true_loss``.

    Examples
    --------
    >>> _, truth, params, frame = simulate_world(0)
    >>> len(frame)
    120
    """
    rng = np.random.default_rng(seed)
    truth = draw_truth(rng)
    frame = simulate_isoflop(
        DEFAULT_BUDGETS,
        h=truth["h"],
        b=truth["b"],
        beta=truth["beta"],
        noise_sd=truth["noise_sd"],
        rng=seed,
    )
    params = chinchilla_for_frontier(truth["h"], truth["b"], beta=truth["beta"])
    return rng, truth, params, frame


def two_step(frame: pd.DataFrame, level: float) -> dict[str, tuple[float, float]]:
    """Least-squares parabola per budget, then least squares of ln N* on ln C.

    Returns the ``level`` t intervals of ``a`` and of ``ln D*`` at :data:`TARGET`.
    """
    from scipy import stats as st

    log_c, log_n = [], []
    for compute, rows in frame.groupby("compute"):
        x = np.log(rows["n"].to_numpy())
        c2, c1, _ = np.polyfit(x, rows["loss"].to_numpy(), 2)
        log_c.append(np.log(compute))
        log_n.append(-c1 / (2 * c2))
    log_c, log_n = np.array(log_c), np.array(log_n)
    design = np.column_stack([np.ones_like(log_c), log_c])
    coef, *_ = np.linalg.lstsq(design, log_n, rcond=None)
    resid = log_n - design @ coef
    dof = len(log_c) - 2
    cov = np.linalg.inv(design.T @ design) * (resid @ resid / dof)
    t = st.t.ppf((1 + level) / 2, dof)
    point = np.array([1.0, np.log(TARGET)])
    log_n_target = point @ coef
    sd_target = np.sqrt(point @ cov @ point)
    log_d = np.log(TARGET / FLOP_PER_PARAMETER_TOKEN) - log_n_target
    return {
        "a": (coef[1] - t * np.sqrt(cov[1, 1]), coef[1] + t * np.sqrt(cov[1, 1])),
        "log_d_target": (log_d - t * sd_target, log_d + t * sd_target),
    }


def coverage_run(
    seed: int, *, draws: int = 1000, tune: int = 1000, chains: int = 2
) -> dict[str, Any]:
    """Simulate one data set, fit it, score the intervals (one row of the study).

    Returns
    -------
    dict
        The truth, ``rank_<q>`` (posterior quantile of the truth) and
        ``cover<level>_<q>`` for ``q`` in ``a`` and ``log_d_target`` (and the
        per-budget optima ``log_n_budgets`` pooled over budgets), the same
        coverage for the two-step recipe (``twostep<level>_<q>``) and diagnostics.
    """
    _, truth, params, frame = simulate_world(seed)
    result = fit_isoflop(frame, n="n", draws=draws, tune=tune, chains=chains, seed=seed, cores=1)
    true_a = 1 - truth["b"]
    true_log_d = float(np.log(optimal_allocation(params, TARGET)["d_opt"]))
    true_log_n_budgets = np.log(optimal_allocation(params, result.data.budgets)["n_opt"])
    log_n_target = result.log_n_opt(TARGET)[:, 0]
    posterior = {
        "a": (result.draws["a"], true_a),
        "log_d_target": (np.log(TARGET / FLOP_PER_PARAMETER_TOKEN) - log_n_target, true_log_d),
    }
    row: dict[str, Any] = {"seed": seed, **truth}
    for name, (values, true) in posterior.items():
        row[f"rank_{name}"] = float(np.mean(values < true))
        for level in LEVELS:
            low, high = eti(values, level)
            row[f"cover{level:g}_{name}"] = bool(low <= true <= high)
    budget_draws = result.draws["log_n_opt"]
    for level in LEVELS:
        low, high = eti(budget_draws, level, axis=0)
        row[f"cover{level:g}_log_n_budgets"] = float(
            np.mean((low <= true_log_n_budgets) & (true_log_n_budgets <= high))
        )
        baseline = two_step(frame, level)
        for name, true in (("a", true_a), ("log_d_target", true_log_d)):
            low, high = baseline[name]
            row[f"twostep{level:g}_{name}"] = bool(low <= true <= high)
    row["width90_log_d_target"] = float(
        np.diff(np.quantile(posterior["log_d_target"][0], [0.05, 0.95]))[0]
    )
    row["twostep_width90_log_d_target"] = float(np.diff(two_step(frame, 0.9)["log_d_target"])[0])
    row.update({k: v for k, v in result.diagnostics.items() if k != "warnings"})
    return row


def coverage_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Coverage of each interval over the data sets (rows of :func:`coverage_run`).

    Examples
    --------
    >>> rows = pd.DataFrame({"cover0.9_a": [True, False], "twostep0.9_a": [True, True]})
    >>> float(coverage_table(rows).loc["a", "isoflop_0.9"])
    0.5
    """
    out = {}
    for column in rows.columns:
        for prefix, method in (("cover", "isoflop"), ("twostep", "two_step")):
            if (
                column.startswith(prefix)
                and "_" in column
                and not column.startswith("twostep_width")
            ):
                level, name = column[len(prefix) :].split("_", 1)
                out.setdefault(name, {})[f"{method}_{level}"] = float(rows[column].mean())
    return pd.DataFrame(out).T.sort_index(axis=1)
