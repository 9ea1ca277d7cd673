"""Show a plan: P(resolved) against extra GPU-hours, and the report section.

:func:`plot_plan` draws one line per kind of option (new seeds, longer runs,
both) and recipe, with the binomial Monte Carlo error as error bars;
:func:`plan_section` is the section :func:`bayescale.reporting.report.build_report` adds
when it is given a plan (``plan=``).

Examples
--------
>>> p = bs.plan(cmp, recipe="baseline_repeat", add_seeds=[3, 6],
...             extend_to=[75_000, 100_000], seed=1)  # doctest: +SKIP
>>> ax = plot_plan(p)  # doctest: +SKIP
>>> bs.report(cmp.fit, "report/", comparison=cmp, plan=p)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bayescale.analysis.planning import SHOWN_COLUMNS, Plan, ranked_options
from bayescale.reporting.document import Items, Section, Table, figure_image
from bayescale.reporting.plots import axes_for, plain

if TYPE_CHECKING:
    from matplotlib.axes import Axes

KIND_MARKERS = {"add seeds": "o", "extend": "s", "both": "^"}


def _plans(plan: Plan | Sequence[Plan]) -> list[Plan]:
    return [plan] if isinstance(plan, Plan) else list(plan)


def plot_plan(plan: Plan | Sequence[Plan], *, ax: Axes | None = None) -> Axes:
    """P(the comparison resolves) against the extra GPU-hours of each option.

    Parameters
    ----------
    plan : Plan or sequence of Plan
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per (recipe, kind of option), points at the options, error bars
        of one binomial standard error.

    Examples
    --------
    >>> ax = plot_plan(p)  # doctest: +SKIP
    >>> [line.get_label() for line in ax.get_lines()]  # doctest: +SKIP
    ['baseline_repeat: add seeds', 'baseline_repeat: extend']
    """
    ax = axes_for(ax)
    plans = _plans(plan)
    for p in plans:
        for kind, rows in p.options.groupby("kind", sort=False):
            rows = rows.sort_values("extra_compute")
            ax.errorbar(
                rows["extra_compute"],
                rows["p_resolved"],
                yerr=rows["mc_error"],
                marker=KIND_MARKERS.get(kind, "o"),
                capsize=3,
                label=plain(f"{p.pair[0]}: {kind}"),
            )
    first = plans[0]
    ax.set_xlabel("extra GPU-hours" if first.cost_per_x == 1 else "extra compute (GPU-hours)")
    ax.set_ylabel("P(decision resolves)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(
        plain(
            f"{first.parameter} vs {first.pair[1]}, ROPE ±{first.rope:g}; "
            f"{first.sims} simulations per option"
        ),
        fontsize=9,
    )
    ax.legend(fontsize=7)
    return ax


def plan_section(plan: Plan | Sequence[Plan]):
    """The report section of a plan: what it is, the ranked options, the figure."""
    plans = _plans(plan)
    first = plans[0]
    now = [
        f"{p.pair[0]} vs {p.pair[1]} now: {p.current['decision']} (Delta {p.current['mean']:.4f},"
        f" interval {p.current['lower']:.4f} to {p.current['upper']:.4f})"
        for p in plans
    ]
    blocks = [
        "What the next runs would likely decide (preposterior analysis): for each option "
        "the future data were simulated from the posterior predictive distribution and the "
        f"model refitted {first.sims} times; P(resolved) = P(higher, lower or equivalent). "
        f"Monte Carlo error of each probability at most {first.max_mc_error:.3f}.",
        Items(now + list(first.notes)),
        Table(ranked_options(plans)[SHOWN_COLUMNS]),
        figure_image(
            "plan",
            plot_plan(plans).figure,
            "P(the decision resolves) against the extra GPU-hours of each option "
            "(error bars: one binomial standard error).",
        ),
    ]
    return Section("Plan: what to run next", blocks)
