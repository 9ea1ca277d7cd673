"""Figures of the isoFLOP fit (profiles, optima, frontier with bands) and of a run design.

Examples
--------
>>> from bayescale.reporting.isoflop_plots import plot_isoflop
>>> figure = plot_isoflop(result, extend_to=3.8e25)  # doctest: +SKIP
>>> figure.savefig("isoflop.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescale.analysis.isoflop import IsoflopFit
from bayescale.results.allocation import FLOP_PER_PARAMETER_TOKEN
from bayescale.results.intervals import DEFAULT_CI, eti

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bayescale.analysis.next_run import Design
    from bayescale.results.fit_result import Fit

APPROACH2_COLOR = "tab:blue"
APPROACH3_COLOR = "tab:orange"


def plot_isoflop(
    result: IsoflopFit,
    *,
    ci: float = DEFAULT_CI,
    extend_to: float | None = None,
    approach3: Fit | None = None,
    truth: pd.DataFrame | None = None,
) -> Figure:
    """IsoFLOP profiles, the frontier ``N*(C)`` and tokens per parameter, with bands.

    Left: each budget's points, the posterior median profile with its band and
    the optimum with its interval. Middle: ``N*(C)`` with its band, the per-budget
    optima, extended to ``extend_to``. Right: ``D*/N*`` along the frontier, where
    the band is visible at a glance (log-log axes over many decades hide it).

    Parameters
    ----------
    result : IsoflopFit
    ci : float
        Credible mass of the bands and error bars.
    extend_to : float, optional
        Draw the frontier up to this budget (FLOP), e.g. the target run.
    approach3 : Fit, optional
        A ``"chinchilla"`` law fit of the same data: its frontier is drawn too.
    truth : DataFrame, optional
        Columns ``compute`` and ``n_opt`` of a known frontier (simulated data).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> plot_isoflop(result, extend_to=3.8e25).savefig("frontier.png")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    figure, (left, right, ratio_ax) = plt.subplots(1, 3, figsize=(15, 4.4))
    data = result.data
    frame = data.frame
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(data.budgets)))
    table = result.budget_table(ci)
    for k, budget in enumerate(data.budgets):
        rows = frame[frame["budget"] == k]
        log_n = np.log(rows["n"].to_numpy())
        grid = np.linspace(log_n.min(), log_n.max(), 60)
        curves = (
            result.draws["loss_opt"][:, k, None]
            + result.draws["curvature"][:, k, None]
            * (grid[None, :] - result.draws["log_n_opt"][:, k, None]) ** 2
        )
        color = colors[k]
        left.fill_between(np.exp(grid), *eti(curves, ci, axis=0), color=color, alpha=0.25)
        left.plot(np.exp(grid), np.median(curves, 0), color=color, lw=1)
        left.scatter(rows["n"], rows["loss"], s=8, color=color, label=f"{budget:.2g}")
        row = table.iloc[k]
        left.errorbar(
            row["n_opt_median"],
            row["loss_opt_median"],
            xerr=[
                [row["n_opt_median"] - row["n_opt_lower"]],
                [row["n_opt_upper"] - row["n_opt_median"]],
            ],
            fmt="x",
            color="black",
            ms=5,
            lw=1,
        )
    left.set_xscale("log")
    left.set_xlabel("parameters N")
    left.set_ylabel("final loss")
    left.set_title(f"isoFLOP profiles ({ci:.0%} bands, optima x)", fontsize=9)
    left.legend(fontsize=6, title="C (FLOP)", title_fontsize=6, ncol=2)

    top = max(float(data.budgets.max()), extend_to or 0.0)
    budgets = np.geomspace(data.budgets.min(), top, 80)
    frontier = result.allocation(budgets, ci)
    other = approach3.compute_optimal(budgets, ci=ci) if approach3 is not None else None
    for ax, quantity in ((right, "n_opt"), (ratio_ax, "ratio")):
        _frontier_panel(ax, quantity, budgets, frontier, other, table, ci, labelled=ax is right)
    if truth is not None:
        right.plot(truth["compute"], truth["n_opt"], "k--", lw=1, label="truth")
        true_ratio = truth["compute"] / (FLOP_PER_PARAMETER_TOKEN * truth["n_opt"] ** 2)
        ratio_ax.plot(truth["compute"], true_ratio, "k--", lw=1)
    ratio_ax.set_xscale("log")
    ratio_ax.set_xlabel("compute C (FLOP)")
    ratio_ax.set_ylabel("tokens per parameter D*/N*")
    ratio_ax.set_title("D*/N* = C / (6 N*^2) along the frontier", fontsize=9)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("compute C (FLOP)")
    right.set_ylabel("compute-optimal parameters N*")
    right.set_title("frontier N*(C) = G C^a", fontsize=9)
    right.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return figure


def plot_design(design: Design) -> Figure:
    """What each candidate would do to the target sd (left) and the greedy choice (right).

    Parameters
    ----------
    design : Design
        From :func:`bayescale.analysis.next_run.suggest_runs`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> plot_design(design).savefig("next_run.png")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    table = design.candidates
    chosen = table["candidate"].isin(design.chosen["candidate"])
    left.scatter(
        table.loc[~chosen, "cost"],
        table.loc[~chosen, "reduction"],
        s=14,
        color="grey",
        label="candidates",
    )
    left.scatter(
        table.loc[chosen, "cost"],
        table.loc[chosen, "reduction"],
        s=20,
        color=APPROACH2_COLOR,
        label="chosen",
    )
    left.axvline(design.run_budget, color="black", lw=1, ls="--", label="run budget")
    left.set_xscale("log")
    left.set_xlabel("candidate cost (FLOP)")
    left.set_ylabel("expected sd reduction, alone")
    left.set_title(f"target: {_target_label(design)}", fontsize=9)
    left.legend(fontsize=7)
    steps = design.chosen
    right.step(
        np.concatenate([[0.0], steps["total_cost"]]),
        np.concatenate([[design.prior_sd], steps["expected_sd"]]),
        where="post",
        color=APPROACH2_COLOR,
    )
    right.axhline(design.prior_sd, color="grey", lw=1, ls=":", label="now")
    right.set_xlabel("FLOP spent on new runs (greedy order)")
    right.set_ylabel("expected posterior sd of the target")
    right.set_title(f"{len(steps)} candidates chosen, {len(design.runs)} runs", fontsize=9)
    right.legend(fontsize=7)
    figure.tight_layout()
    return figure


def _target_label(design: Design) -> str:
    name = "ln N*" if design.target == "n_opt" else "optimal loss"
    return f"{name} at {design.target_compute:.3g} FLOP"


def save_png(figure: Figure, path: Path) -> None:
    """Write ``figure`` as PNG to ``path`` (any name: the format is explicit) and close it."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    plt.close(figure)
    Path(path).write_bytes(buffer.getvalue())


def _frontier_panel(ax, quantity, budgets, frontier, other, table, ci, *, labelled) -> None:
    """``quantity`` along the frontier: Approach 2's band and median, Approach 3's
    (``other``, when given) beside it, and the per-budget optima with their intervals."""
    lines = [(frontier, APPROACH2_COLOR, f"Approach 2 (this model), {ci:.0%}")]
    if other is not None:
        lines.append((other, APPROACH3_COLOR, f"Approach 3 (Chinchilla law), {ci:.0%}"))
    for values, color, label in lines:
        ax.fill_between(
            budgets,
            values[f"{quantity}_lower"],
            values[f"{quantity}_upper"],
            color=color,
            alpha=0.3,
            label=label if labelled else None,
        )
        ax.plot(budgets, values[f"{quantity}_median"], color=color)
    median = table[f"{quantity}_median"]
    ax.errorbar(
        table["compute"],
        median,
        yerr=[median - table[f"{quantity}_lower"], table[f"{quantity}_upper"] - median],
        fmt="o",
        ms=3,
        color="black",
        label="per-budget optima" if labelled else None,
    )
