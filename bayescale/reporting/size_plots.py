"""Figure of a fit across model sizes: the asymptote A against model size, with bands.

Reads a :class:`~bayescale.analysis.sizes.SizesFit`, never samples, draws on an optional
``ax`` and returns it (as :mod:`bayescale.reporting.plots`).

Examples
--------
>>> from bayescale.reporting.size_plots import plot_asymptote_by_size
>>> ax = plot_asymptote_by_size(sizes_fit, sizes=np.geomspace(5e8, 2e11, 60))  # doctest: +SKIP
>>> ax.figure.savefig("a_vs_size.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from bayescale.analysis.sizes import SizesFit
from bayescale.reporting.plots import CURVE_COLOR, HELD_OUT_COLOR, axes_for
from bayescale.results.intervals import DEFAULT_CI, SAMPLE_DIMS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SEED_COLOR = "grey"


def plot_asymptote_by_size(
    sizes_fit: SizesFit,
    *,
    sizes: Sequence[float] | np.ndarray | None = None,
    ci: float = DEFAULT_CI,
    held_out: Mapping[float, float] | None = None,
    truth: Mapping[float, float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """``A(N)`` with its credible band, a new seed's band and each fitted seed's ``A``.

    Parameters
    ----------
    sizes_fit : SizesFit
    sizes : array-like, optional
        Sizes to draw the bands over (default: from half the smallest fitted size
        to 15 times the largest).
    ci : float
        Credible mass of the bands.
    held_out : mapping of float to float, optional
        Size -> an asymptote not used in the fit (e.g. the held-out largest size's
        own estimate), drawn as black diamonds.
    truth : mapping of float to float, optional
        Size -> true asymptote (simulations), drawn as open circles.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Log-x axes: the band of ``A(N)`` (typical seed), the wider band of a new
        seed's asymptote, the median line, the fitted seeds' posterior medians and
        the ceiling ``A_max``'s median as a dashed line.
    """
    fitted = sizes_fit.sizes
    grid = (
        np.geomspace(fitted[0] / 2.0, fitted[-1] * 15.0, 80)
        if sizes is None
        else np.asarray(sizes, dtype=float)
    )
    table = sizes_fit.at_sizes(grid, ci=ci).query("parameter == 'A'")
    ax = axes_for(ax)
    ax.fill_between(
        grid,
        table["seed_lower"],
        table["seed_upper"],
        color=CURVE_COLOR,
        alpha=0.15,
        label=f"new seed, {ci:.0%}",
    )
    ax.fill_between(
        grid,
        table["lower"],
        table["upper"],
        color=CURVE_COLOR,
        alpha=0.35,
        label=f"A(N), {ci:.0%} interval",
    )
    ax.plot(grid, table["median"], color=CURVE_COLOR, label="posterior median A(N)")
    seeds = _seed_asymptotes(sizes_fit)
    ax.scatter(seeds[:, 0], seeds[:, 1], s=14, color=SEED_COLOR, zorder=3, label="fitted seeds")
    ceiling = float(sizes_fit.fit.parameter_draws()["A_max"].median())
    ax.axhline(ceiling, color=CURVE_COLOR, linestyle="--", linewidth=0.8, label="A_max (median)")
    if held_out:
        ax.scatter(
            list(held_out),
            list(held_out.values()),
            marker="D",
            s=30,
            color=HELD_OUT_COLOR,
            zorder=4,
            label="held-out size",
        )
    if truth:
        ax.scatter(
            list(truth),
            list(truth.values()),
            marker="o",
            s=40,
            facecolors="none",
            edgecolors="C3",
            zorder=4,
            label="truth",
        )
    ax.set_xscale("log")
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("asymptote A")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def _seed_asymptotes(sizes_fit: SizesFit) -> np.ndarray:
    """``(size, median A)`` of every fitted seed: its ``A_max`` offset at its size."""
    fit = sizes_fit.fit
    post = fit.draws_dataset
    ceiling = fit.parameter_draws()["A_max"]
    frame = fit.data.frame
    size_of_run = frame.groupby("run", sort=False)["n"].first()
    rows = []
    for run in fit.runs:
        size = float(size_of_run[run])
        offset = post["A_max_run"].sel(run=run, drop=True) - ceiling
        typical = sizes_fit.size_draws([size])["A"].isel(size=0, drop=True)
        rows.append((size, float((typical + offset).median(SAMPLE_DIMS))))
    return np.array(rows)
