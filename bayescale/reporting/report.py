"""Uncertainty reports: one self-contained HTML file and the same as Markdown.

A report reads a :class:`~bayescale.results.fit_result.Fit` (and, for several recipes, a
recipe comparison) and never samples. It holds the data summary, the law and its
priors, the parameter table with intervals, predictions and compute-to-target (or
the compute-optimal allocation for Chinchilla fits), comparisons and decisions,
convergence diagnostics with plain-language warnings, and the settings and
package version that make it reproducible.

The HTML embeds every figure as a base64 PNG, so it opens without a network or
any file beside it; the Markdown references the same PNGs in ``figures/``. Every
user-provided name (run, recipe, column, file) is escaped.

Examples
--------
>>> import bayescale as bs
>>> fit = bs.load("fit.nc")  # doctest: +SKIP
>>> paths = bs.report(fit, "report/", targets=[0.6])  # doctest: +SKIP
>>> sorted(paths)  # doctest: +SKIP
['figures', 'report.html', 'report.md']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale._version import __version__
from bayescale.reporting import plots
from bayescale.reporting.document import (
    Block,
    Items,
    Report,
    Section,
    Table,
    figure_image,
)
from bayescale.results.export import fit_to_dict
from bayescale.results.fit_result import LOCATORS, Fit
from bayescale.results.intervals import DEFAULT_CI, readable_summary


def _panels(count: int, width: float = 5.0, height: float = 3.6):
    import matplotlib.pyplot as plt

    columns = min(count, 2)
    rows = -(-count // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(width * columns, height * rows), layout="constrained", squeeze=False
    )
    for extra in axes.ravel()[count:]:
        extra.set_visible(False)
    return figure, list(axes.ravel()[:count])


# ---------------------------------------------------------------- sections
def data_section(fit: Fit) -> Section:
    """Source, columns, runs, points per run and what was excluded."""
    data = fit.data
    frame = data.frame
    roles = data.input_roles
    per_run = frame.groupby(["recipe", "run"], sort=False).agg(
        points=("y", "size"),
        **{f"{data.columns.get(r, r)} min": (r, "min") for r in roles},
        **{f"{data.columns.get(r, r)} max": (r, "max") for r in roles},
        **{
            f"{data.columns['y']} first": ("y", "first"),
            f"{data.columns['y']} last": ("y", "last"),
        },
    )
    if len(fit.recipes) == 1:
        per_run = per_run.droplevel("recipe")
    mapping = ", ".join(f"{role} = {column}" for role, column in data.columns.items())
    blocks: list[Block] = [
        f"Source: {data.source}. Columns: {mapping}.",
        f"{len(data)} points in {len(fit.runs)} runs and {len(fit.recipes)} recipes were fitted.",
        Table(per_run, index=True),
    ]
    if data.notes:
        blocks += ["Excluded rows and other notes:", Items(list(data.notes))]
    else:
        blocks.append("No rows were excluded.")
    return Section("Data", blocks)


def model_section(fit: Fit) -> Section:
    """The law, observation model, hierarchy and every prior."""
    spec = fit.spec
    varying = ", ".join(spec.varying) or "none (runs pooled)"
    priors = pd.DataFrame(
        {"parameter": list(spec.priors), "prior": [str(p) for p in spec.priors.values()]}
    )
    return Section(
        "Law and priors",
        [
            f"Law {fit.law.name}: {fit.law.formula}.",
            f"Observation model: {spec.likelihood}. Parameters varying by run: {varying}. "
            f"Shared by all recipes: {', '.join(spec.shared) or 'none'}.",
            Table(priors),
        ],
    )


def parameter_section(fit: Fit, ci: float) -> Section:
    """The summary table and the forest plot."""
    table, heavy = readable_summary(fit.summary(ci=ci).drop(columns=["ess_tail", *LOCATORS]))
    return Section(
        "Parameters",
        [
            f"Posterior mean, median, sd and {ci:.0%} equal-tailed interval; 'recipe' rows are "
            "the typical seed of a recipe, 'run' rows each seed, 'spread' the run-to-run "
            "standard deviation, 'noise' the observation model."
            + "".join(f" Note: {note}." for note in heavy),
            Table(table, index=True),
            figure_image(
                "forest",
                plots.plot_forest(fit, ci=ci),
                f"Forest plot: {ci:.0%} intervals per recipe (black) and per run (grey).",
            ),
        ],
    )


def prediction_section(
    fit: Fit, payload: Mapping[str, Any], ci: float, held_out: pd.DataFrame | None
) -> Section:
    """Fitted curves with bands, predictions and compute-to-target."""
    blocks: list[Block] = []
    if fit.law.inputs == ("x",):
        figure, axes = _panels(len(fit.recipes))
        for ax, recipe in zip(axes, fit.recipes, strict=True):
            plots.plot_fit(fit, recipe=recipe, held_out=held_out, ci=ci, ax=ax)
        held = (
            "; black crosses: held-out points not used in the fit" if held_out is not None else ""
        )
        blocks.append(
            figure_image(
                "fit",
                figure,
                f"Fitted curve with the {ci:.0%} band of the curve (dark) and of a new "
                f"observation from a new seed (light); grey: extrapolation{held}.",
            )
        )
    if payload["predictions"]:
        blocks += [
            "Predictions (lower/upper: the curve; obs_lower/obs_upper: a new observation):",
            Table(pd.DataFrame(payload["predictions"])),
        ]
    if payload["targets"]:
        blocks += [
            "Compute to reach each target (interval over the draws that reach it; "
            "p_reachable is the share of draws that reach it at all):",
            Table(pd.DataFrame(payload["targets"])),
        ]
    blocks += _allocation_blocks(fit, payload, ci)
    return Section("Predictions", blocks)


def _allocation_blocks(fit: Fit, payload: Mapping[str, Any], ci: float) -> list[Block]:
    if fit.law.name != "chinchilla":
        return []
    from bayescale.results.allocation import allocation_table

    contour, frontier = _panels(2, width=5.5, height=4.2)[1]
    figure = contour.figure
    plots.plot_loss_contours(fit, ax=contour)
    plots.plot_frontier(fit, ci=ci, ax=frontier)
    blocks: list[Block] = [
        figure_image(
            "chinchilla",
            figure,
            f"Left: posterior median loss contours in (N, D) with the data and the "
            f"compute-optimal frontier. Right: N_opt(C) with its {ci:.0%} band.",
        )
    ]
    if payload.get("allocations"):
        blocks += [
            "Compute-optimal allocation (median and interval over draws):",
            Table(allocation_table(payload["allocations"])),
        ]
    if payload.get("inference_allocations"):
        from bayescale.results.inference_allocation import inference_table

        blocks += [
            "Inference-aware allocation (Sardana et al.): least total cost 6ND + 2N x tokens "
            "served at each target loss, or least loss at each total budget; saving against "
            "the compute-optimal allocation of the same loss (median and interval over draws):",
        ]
        for key in ("loss_target", "budget"):
            chosen = [r for r in payload["inference_allocations"] if key in r]
            if chosen:
                blocks.append(Table(inference_table(chosen)))
    return blocks


def comparison_section(comparison: Any) -> Section:
    """Pairwise decisions with the ROPE rule, beside the least-squares procedure."""
    from bayescale.analysis.recipes import DECISION_RULE

    fit, parameter, rope = comparison.fit, comparison.parameter, comparison.rope
    blocks: list[Block] = [
        f"Compared: {parameter}, region of practical equivalence +/-{rope:g}, "
        f"{comparison.ci:.0%} interval. Rule: {DECISION_RULE}.",
        Table(comparison.pairs),
    ]
    if comparison.notes:
        blocks.append(Items(list(comparison.notes)))
    if parameter in fit.law.parameters:
        blocks.append(
            figure_image(
                "recipes",
                plots.plot_parameter_by_recipe(
                    fit, parameter, reference=comparison.baseline, rope=rope
                ).figure,
                f"Posterior of {parameter} per recipe; band: the reference recipe's median "
                f"+/- {rope:g}.",
            )
        )
    blocks.append(
        figure_image(
            "differences",
            difference_figure(comparison),
            "Posterior of each difference with the ROPE (grey).",
        )
    )
    return Section("Comparisons and decisions", blocks)


def difference_figure(comparison: Any) -> Any:
    """The posterior of each difference of a comparison with its ROPE and decision,
    one panel a pair (a matplotlib ``Figure``)."""
    from bayescale.analysis.recipes import recipe_draws

    parameter = comparison.parameter
    draws = recipe_draws(comparison.fit, parameter, comparison.target)
    figure, axes = _panels(len(comparison.pairs), width=4.6, height=3.2)
    for ax, row in zip(axes, comparison.pairs.itertuples(), strict=True):
        difference = draws[row.a] - draws[row.b]
        plots.plot_difference(
            difference[np.isfinite(difference)],
            rope=comparison.rope,
            decision=row.decision,
            label=f"{parameter}: {row.a} - {row.b}",
            ci=comparison.ci,
            ax=ax,
        )
    return figure


def diagnostics_section(fit: Fit) -> Section:
    """Convergence numbers, warnings in plain words, and rank plots."""
    diagnostics = fit.diagnostics
    blocks: list[Block] = [
        f"Largest R-hat {diagnostics.max_r_hat:.3f} (want <= 1.01), smallest bulk effective "
        f"sample size {diagnostics.min_ess_bulk:.0f} (want >= 400), "
        f"{diagnostics.divergences} divergent transitions (want 0)."
    ]
    blocks += predictive_blocks(diagnostics)
    leaning = diagnostics.leaning_on_prior()
    if leaning:
        listed = "; ".join(f"{recipe}: {', '.join(names)}" for recipe, names in leaning.items())
        blocks.append(f"Parameters whose intervals lean on the prior: {listed}.")
    if diagnostics.notes:
        blocks += ["Notes:", Items(list(diagnostics.notes))]
    if diagnostics.warnings:
        blocks += ["Warnings:", Items(list(diagnostics.warnings))]
    else:
        blocks.append(
            "No warnings: the chains agree, the effective sample sizes suffice, there were "
            "no divergences, the data look like draws from the fitted model and every law "
            "parameter is informed by the data."
        )
    blocks.append(
        figure_image(
            "rank",
            plots.plot_diagnostics(fit),
            f"Rank plots (fractional-rank ECDF minus the uniform): each chain's line should "
            f"stay inside the {plots.RANK_ENVELOPE:.0%} envelope drawn.",
        )
    )
    return Section("Diagnostics", blocks)


def predictive_blocks(diagnostics) -> list[Block]:
    """One sentence on the posterior predictive check (nothing for fits made without it)."""
    check = diagnostics.predictive
    if not check:
        return []
    k_text = (
        ""
        if not check["n_bad_pareto_k"]
        else f" {check['n_bad_pareto_k']} have a PSIS-LOO Pareto k above 0.7 (a note on "
        "LOO's reliability there, not a failure)."
    )
    if check["passed"]:
        verdict = (
            f"passed: {check['n_outside']} of {check['n_obs']} observations lie outside their "
            f"{check['mass']:.0%} predictive interval, within what data drawn from the fitted "
            f"model give (up to {check['max_share']:.1%})"
        )
    else:
        reason = check.get("reason") or (
            f"{check['n_outside']} of {check['n_obs']} observations lie outside their "
            f"{check['mass']:.0%} predictive interval"
        )
        verdict = f"FAILED, do not trust the intervals as computed: {reason}"
    return [f"Posterior predictive check {verdict}.{k_text}"]


def settings_section(fit: Fit, ci: float) -> Section:
    """Sampler settings, the model spec and versions: what reproduces the fit."""
    items = [
        f"bayescale {fit.version or 'unknown'} made the fit; bayescale {__version__} wrote "
        f"this report on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Sampler (nutpie NUTS): {json.dumps(fit.sampler.to_dict())}.",
        f"Credible mass of every interval: {ci:g}.",
        f"Model: {json.dumps(fit.spec.to_dict())}.",
    ]
    return Section("Settings and reproducibility", [Items(items)])


# ------------------------------------------------------------------- API
def build_report(
    fit: Fit,
    *,
    comparison: Any | None = None,
    plan: Any | None = None,
    held_out: pd.DataFrame | None = None,
    predict_x: Sequence[float] | None = None,
    targets: Sequence[float] = (),
    budgets: Sequence[float] = (),
    inference_tokens: Sequence[float] = (),
    ci: float = DEFAULT_CI,
    title: str | None = None,
) -> Report:
    """Assemble the report of ``fit`` (figures are rendered here, once).

    Parameters
    ----------
    fit : Fit
    comparison : bayescale.analysis.recipes.Comparison, optional
        Recipe comparison to report; for a fit with several recipes, default
        :func:`bayescale.analysis.recipes.compare_fit` of the asymptote ``A`` (or of the
        law's first parameter) with its default ROPE.
    plan : bayescale.analysis.planning.Plan or list of Plan, optional
        Adds the section of :func:`bayescale.reporting.plan_report.plan_section`.
    held_out : DataFrame, optional
        Points not used in the fit (see :func:`bayescale.reporting.plots.held_out_points`);
        default: the rows of the fitted file beyond the fitted range.
    predict_x : sequence of float, optional
        Inputs to predict at (default 2x and 10x the largest observed).
    targets : sequence of float
        Metric values for compute-to-target.
    budgets : sequence of float
        Compute budgets (FLOP) for the compute-optimal allocation (Chinchilla).
    inference_tokens : sequence of float
        Tokens to be served: adds the inference-aware allocation at each target
        loss and budget (Chinchilla; :mod:`bayescale.results.inference_allocation`).
    ci : float
        Credible mass of every interval.
    title : str, optional

    Returns
    -------
    Report

    Examples
    --------
    >>> report = build_report(fit, targets=[0.6])  # doctest: +SKIP
    >>> html_text = report.to_html()  # doctest: +SKIP
    """
    if held_out is None and fit.law.inputs == ("x",):
        held_out = plots.held_out_points(fit)
    if held_out is not None and held_out.empty:
        held_out = None
    payload = fit_to_dict(
        fit,
        ci=ci,
        predict_x=predict_x,
        targets=targets,
        budgets=budgets,
        inference_tokens=inference_tokens,
    )
    if comparison is None and len(fit.recipes) > 1:
        comparison = default_comparison(fit, ci)
    sections = [
        data_section(fit),
        model_section(fit),
        parameter_section(fit, ci),
        prediction_section(fit, payload, ci, held_out),
    ]
    if comparison is not None:
        sections.append(comparison_section(comparison))
    if plan is not None:
        from bayescale.reporting.plan_report import plan_section

        sections.append(plan_section(plan))
    sections += [diagnostics_section(fit), settings_section(fit, ci)]
    return Report(title=title or f"bayescale report: {fit.law.name} fit", sections=sections)


def default_comparison(fit: Fit, ci: float = DEFAULT_CI) -> Any:
    """The comparison a report shows for a multi-recipe fit when none is given.

    The asymptote ``A`` when the law has one per recipe, else the first law
    parameter that is not shared, each with its default ROPE from
    :func:`bayescale.analysis.recipes.default_rope` (0.1 for parameters without one).
    """
    from bayescale.analysis.recipes import compare_fit, default_rope

    parameter = next(p for p in fit.law.parameters if p not in fit.spec.shared)
    rope = default_rope(fit.law, parameter)
    return compare_fit(fit, parameter=parameter, rope=0.1 if rope is None else rope, ci=ci)


def report(
    fit: Fit, out: str | Path, *, overwrite: bool = False, **options: Any
) -> dict[str, Path]:
    """Write the HTML and Markdown report of ``fit`` into the folder ``out``.

    Parameters
    ----------
    fit : Fit
    out : str or Path
        Folder for ``report.html``, ``report.md`` and ``figures/``.
    overwrite : bool
        Replace an existing report (refused otherwise, as on the command line).
    **options
        Passed to :func:`build_report`.

    Returns
    -------
    dict
        ``report.html``, ``report.md`` and ``figures`` -> paths.

    Examples
    --------
    >>> import bayescale as bs
    >>> bs.report(bs.load("fit.nc"), "report/")  # doctest: +SKIP
    """
    return build_report(fit, **options).write(out, overwrite=overwrite)
