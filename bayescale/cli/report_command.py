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
    check_law,
    check_numbers,
    convergence_line,
    exit_status,
    file_names,
    fit_kwargs,
    output_folder,
    sampler_kwargs,
)
from bayescale.cli.compare_command import add_decision_options
from bayescale.cli.compare_command import render as render_comparison
from bayescale.cli.fit_command import (
    add_fit_options,
    check_fit_args,
    check_result_options,
    fit_from_args,
    render,
)
from bayescale.model.laws import Law
from bayescale.reporting.document import OUTPUTS
from bayescale.reporting.report import build_report
from bayescale.results.export import fit_to_dict
from bayescale.results.fit_result import Fit
from bayescale.results.persistence import load_fit

NAME = "report"
HELP = "write an HTML and a Markdown uncertainty report (fit DATA, or --from a saved fit)"
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = "bayescale report --from out/fit/posterior.nc --out out/report"

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
    parser.add_argument(
        "--check-source",
        action="store_true",
        help="with --from: also refuse the fit when the data file it names has changed "
        "(reads and hashes that file; off by default, as the fit may come from someone else)",
    )
    add_fit_options(parser)
    add_decision_options(parser)
    add_sampler_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fit (or load), compare recipes, write the report; returns the exit status."""
    sampler_kwargs(args)
    curves = _check(args)
    if args.check_source and not args.from_file:
        raise CommandError("--check-source goes with --from FIT_FILE")
    saved = load_fit(args.from_file, check_source=args.check_source) if args.from_file else None
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
    if comparison is None:  # what `bayescale fit` prints
        payload = fit_to_dict(
            fit, ci=args.ci, predict_x=args.predict, targets=args.target, budgets=args.budget
        )
        print(render(fit, payload))
    else:  # what `bayescale compare` prints
        print(render_comparison(comparison))
        print(convergence_line(fit.diagnostics.converged))
    print(f"wrote {', '.join(file_names(out).values())}")
    return exit_status(fit.diagnostics.converged)


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
    _check_decision(args, check_law("--law", args.law))
    if len(curves.recipes) > 1:
        check_options(curves.recipes, args.law, **_decision(args), ci=args.ci)
    return curves


def _check_decision(args: argparse.Namespace, law: Law) -> None:
    """--rope and --parameter checked as ``compare`` checks them, even for a fit of
    one recipe (which has nothing to compare)."""
    check_numbers("--rope", args.rope, positive=True)
    if args.parameter not in (*law.parameters, "compute"):
        raise CommandError(
            f"--parameter {args.parameter!r} is not one of {', '.join(law.parameters)} or 'compute'"
        )


def _check_saved(fit: Fit, args: argparse.Namespace) -> None:
    """The options a saved fit must answer, checked before the output folder is taken."""
    check_result_options(args, fit.law)
    _check_decision(args, fit.law)
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
