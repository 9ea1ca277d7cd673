"""isoFLOP backtests: fit the budgets up to a cut, predict the larger budgets' optima.

For each cut the isoFLOP model (:func:`bayescale.analysis.isoflop.fit_isoflop`) is
fitted to the budgets ``<= cut``; each larger budget's own optimum, the vertex of
a least-squares parabola of its loss in ``ln N``, is checked against the predicted
optimal size for that budget: the frontier ``N* = G C^a`` with the budget-to-budget
scatter ``tau`` a new budget's optimum has around it. Reported per cut:
``coverage_50``/``coverage_90`` of those optima, ``error_decades`` (median
``|log10(predicted median / observed)|``) and ``max_decades`` (how far the held-out
budgets lie beyond the fitted ones, in decades of compute).

Examples
--------
>>> from bayescale.studies.isoflop_simulate import simulate_isoflop
>>> result = backtest_isoflop(simulate_isoflop(rng=1), [1e21], n="n")  # doctest: +SKIP
>>> result.table()[["cut", "n_heldout", "coverage_90"]]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.analysis.isoflop import IsoflopData, fit_isoflop, isoflop_data
from bayescale.data.curves import DataError
from bayescale.results.intervals import eti

INTERVALS = (0.5, 0.9)


@dataclass
class IsoflopBacktest:
    """Result of :func:`backtest_isoflop`.

    Attributes
    ----------
    budgets : pandas.DataFrame
        One row per cut and held-out budget: ``cut``, ``compute``, ``decades_beyond``,
        ``observed_n_opt`` (the budget's own vertex), ``n_opt_median`` and the 50%
        and 90% interval bounds, ``inside_50``, ``inside_90``.
    notes : list of str
        Cuts skipped (too few budgets below, or none above) and budgets whose
        parabola has no minimum.
    """

    budgets: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per cut: ``cut``, ``n_heldout``, ``coverage_50``, ``coverage_90``,
        ``error_decades``, ``max_decades``."""
        rows = []
        for cut, group in self.budgets.groupby("cut", sort=True):
            error = np.abs(np.log10(group["n_opt_median"] / group["observed_n_opt"]))
            rows.append(
                {
                    "cut": cut,
                    "n_heldout": len(group),
                    "coverage_50": float(group["inside_50"].mean()),
                    "coverage_90": float(group["inside_90"].mean()),
                    "error_decades": float(np.median(error)),
                    "max_decades": float(group["decades_beyond"].max()),
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The ``backtest.json`` payload."""
        return {
            "law": "isoflop",
            "cuts": self.table().to_dict(orient="records"),
            "budgets": self.budgets.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def vertex(log_n: np.ndarray, loss: np.ndarray) -> float | None:
    """``ln N`` at the minimum of the least-squares parabola of ``loss`` in ``log_n``
    (``None`` when the parabola opens downwards).

    Examples
    --------
    >>> x = np.log([1e8, 2e8, 4e8, 8e8])
    >>> round(float(np.exp(vertex(x, (x - np.log(3e8)) ** 2 + 2.0))) / 1e8, 3)
    3.0
    """
    curvature, slope, _ = np.polyfit(log_n, loss, 2)
    return None if curvature <= 0 else float(-slope / (2 * curvature))


def below_budget(data: IsoflopData, cut: float) -> IsoflopData:
    """The budgets ``<= cut`` of ``data`` (budget indices kept: budgets increase)."""
    keep = data.budgets <= cut
    return IsoflopData(
        frame=data.frame[data.frame["compute"] <= cut],
        budgets=data.budgets[keep],
        source=data.source,
    )


def backtest_isoflop(
    data: pd.DataFrame | str | Path | IsoflopData,
    cuts: Sequence[float],
    *,
    compute: str = "compute",
    y: str = "loss",
    n: str | None = None,
    d: str | None = None,
    budget_tolerance: float = 0.0,
    seed: int | None = None,
    **fit_options: Any,
) -> IsoflopBacktest:
    """Fit the budgets up to each cut and score the larger budgets' optima.

    Parameters
    ----------
    data : DataFrame, path or IsoflopData
        Runs, as for :func:`bayescale.analysis.isoflop.fit_isoflop`.
    cuts : sequence of float
        Cut-offs on the budget (FLOP).
    compute, y, n, d, budget_tolerance
        See :func:`bayescale.analysis.isoflop.isoflop_data`.
    seed : int, optional
        Sampler seed of every fit.
    **fit_options
        NUTS settings for :func:`~bayescale.analysis.isoflop.fit_isoflop`.

    Returns
    -------
    IsoflopBacktest

    Raises
    ------
    DataError
        When no cut leaves two budgets to fit and one to hold out.
    """
    if not isinstance(data, IsoflopData):
        data = isoflop_data(data, compute=compute, y=y, n=n, d=d, budget_tolerance=budget_tolerance)
    rng = np.random.default_rng(seed)
    rows, notes = [], []
    for cut in sorted(float(c) for c in cuts):
        fitted, held = int((data.budgets <= cut).sum()), data.budgets[data.budgets > cut]
        if fitted < 2 or not len(held):
            why = "fewer than 2 budgets below it" if fitted < 2 else "no budget above it"
            notes.append(f"cut {cut:g} skipped: {why}")
            continue
        result = fit_isoflop(below_budget(data, cut), seed=seed, **fit_options)
        scatter = result.draws["tau"][:, None] * rng.standard_normal(
            (len(result.draws["tau"]), len(held))
        )
        log_n = result.log_n_opt(held) + scatter
        for k, budget in enumerate(held):
            runs = data.frame[data.frame["compute"] == budget]
            observed = vertex(np.log(runs["n"].to_numpy()), runs["loss"].to_numpy())
            if observed is None:
                notes.append(f"budget {budget:.3g}: its losses have no minimum in ln N; not scored")
                continue
            row: dict[str, Any] = {
                "cut": cut,
                "compute": float(budget),
                "decades_beyond": float(np.log10(budget / data.budgets[data.budgets <= cut].max())),
                "observed_n_opt": float(np.exp(observed)),
                "n_opt_median": float(np.exp(np.median(log_n[:, k]))),
            }
            for ci in INTERVALS:
                low, high = eti(log_n[:, k], ci)
                row[f"n_opt_lower_{ci:.0%}"], row[f"n_opt_upper_{ci:.0%}"] = (
                    np.exp(low),
                    np.exp(high),
                )
                row[f"inside_{ci * 100:.0f}"] = bool(low <= observed <= high)
            rows.append(row)
    if not rows:
        raise DataError(
            f"{data.source}: no cut left budgets to fit and to score ({'; '.join(notes)})"
        )
    return IsoflopBacktest(budgets=pd.DataFrame(rows), notes=notes)
