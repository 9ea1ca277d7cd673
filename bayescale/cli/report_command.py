"""``bayescale report``: the HTML and Markdown uncertainty report of a fit.

Either fits the data first (the options of ``bayescale fit`` and, for several
recipes, the decision options of ``bayescale compare``), or reads a saved fit
with ``--from FIT_FILE`` (e.g. ``posterior.nc`` written by ``bayescale fit``)
without refitting.
"""

from __future__ import annotations

import argparse

from bayescale.analysis.recipes import check_options, compare_fit, compare_recipes
from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_output_options,
    add_sampler_options,
    file_names,
    fit_kwargs,
    output_folder,
    sampler_kwargs,
)
from bayescale.cli.compare_command import add_decision_options
from bayescale.cli.fit_command import (
    add_fit_options,
    check_fit_args,
    check_result_options,
    fit_from_args,
)
from bayescale.reporting.report import OUTPUTS, build_report
from bayescale.results.fit_result import Fit
from bayescale.results.persistence import load_fit

NAME = "report"
HELP = "write an HTML and a Markdown uncertainty report (fit DATA, or --from a saved fit)"

#: Options that describe data or a model: meaningless with --from.
DATA_OPTIONS = ("data", "y", "x", "run", "recipe", "n", "d", "compute", "trials")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale report``."""
    add_data_options(parser, required=False)
    parser.add_argument(
        "--from",
        dest="from_file",
        metavar="FIT_FILE",
        help="report on a fit saved by 'bayescale fit' (posterior.nc) or fit.save, without refitting",
    )
    add_fit_options(parser)
    add_decision_options(parser)
    add_sampler_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fit (or load), compare recipes, write the report; returns the exit status."""
    sampler_kwargs(args)
    curves = _check(args)
    saved = load_fit(args.from_file) if args.from_file else None
    if saved is not None:
        _check_saved(saved, args)
    with output_folder(args, OUTPUTS) as out:
        comparison = None
        if saved is not None:
            fit = saved
            if len(fit.recipes) > 1:
                comparison = compare_fit(fit, **_decision(args), ci=args.ci)
        elif len(curves.recipes) > 1:
            options = {"law": args.law, "min_x": args.min_x, **fit_kwargs(args)}
            comparison = compare_recipes(curves, **_decision(args), ci=args.ci, **options)
            fit = comparison.fit
        else:
            fit = fit_from_args(args, curves)
        report = build_report(
            fit,
            comparison=comparison,
            predict_x=args.predict,
            targets=args.target,
            budgets=args.budget,
            inference_tokens=args.inference_tokens,
            ci=args.ci,
        )
        report.stage(out)
    warnings = fit.diagnostics.warnings
    print(f"{fit!r}")
    print("\n".join(f"warning: {message}" for message in warnings) or "no warnings")
    print(f"wrote {', '.join(file_names(out).values())}")
    return 0


def _check(args: argparse.Namespace):
    """Refuse inconsistent options before any output or sampling.

    Returns the data, read once (None with ``--from``).
    """
    if args.from_file:
        given = [name for name in DATA_OPTIONS if getattr(args, name, None) is not None]
        if given:
            options = ", ".join("DATA" if name == "data" else f"--{name}" for name in given)
            raise CommandError(f"--from reads a saved fit: drop {options}")
        return None
    if args.data is None or args.y is None:
        raise CommandError("give DATA with --y (and the column options), or --from FIT_FILE")
    curves = check_fit_args(args)
    if len(curves.recipes) > 1:
        check_options(curves.recipes, args.law, **_decision(args), ci=args.ci)
    return curves


def _check_saved(fit: Fit, args: argparse.Namespace) -> None:
    """The options a saved fit must answer, checked before the output folder is taken."""
    check_result_options(args, fit.law)
    if len(fit.recipes) > 1:
        check_options(fit.recipes, fit.law.name, **_decision(args), ci=args.ci)


def _decision(args: argparse.Namespace) -> dict:
    target = args.target[0] if args.parameter == "compute" and args.target else None
    return {
        "parameter": args.parameter,
        "rope": args.rope,
        "baseline": args.baseline,
        "target": target,
    }
