"""``bayescale compare-laws``: PSIS-LOO comparison of laws fitted to the same data."""

from __future__ import annotations

import argparse
import warnings

from bayescale.analysis.law_comparison import compare_laws
from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_model_options,
    add_output_options,
    add_recipe_option,
    add_sampler_options,
    check_fit,
    check_law,
    check_window,
    curves_from_args,
    exit_status,
    file_names,
    fit_kwargs,
    format_table,
    output_folder,
    sampler_kwargs,
    stage_json,
    unconverged_line,
)
from bayescale.model.laws import available_laws

NAME = "compare-laws"
HELP = "compare laws on the same data by PSIS-LOO, with Pareto-k warnings"
OUTPUTS = ("compare_laws.json",)
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale compare-laws "$(bayescale examples scalerl_3seeds)" --x gpu_hours --y pass_rate --run seed --min-x 1500 --max-x 50000 --laws sigmoid saturating --out out/laws'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale compare-laws``."""
    add_data_options(parser)
    add_recipe_option(parser)
    parser.add_argument(
        "--laws",
        nargs="+",
        default=["sigmoid", "saturating"],
        metavar="LAW",
        help=f"laws to compare, of: {', '.join(available_laws())} (default: sigmoid saturating)",
    )
    add_model_options(parser)
    add_sampler_options(parser)
    add_output_options(parser, progress=True)


def run(args: argparse.Namespace) -> int:
    """Fit every law, compare, print, write compare_laws.json; returns the exit status."""
    sampler_kwargs(args)
    check_window(args)
    for law in args.laws:
        check_law("--laws", law)
    curves = curves_from_args(args, check_law("--laws", args.laws[0]))
    if len(set(args.laws)) < 2:
        raise CommandError("--laws: name at least two different laws")
    for law in dict.fromkeys(args.laws):
        check_fit(f"--laws {law}", args, curves, law, min_x=args.min_x)
    with output_folder(args, OUTPUTS) as out:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = compare_laws(
                curves, args.laws, min_x=args.min_x, progress=not args.quiet, **fit_kwargs(args)
            )
        payload = {"data": args.data, **result.to_dict()}
        payload["files"] = file_names(out)
        written = stage_json(out, "compare_laws.json", payload)
    print("PSIS-LOO, best first (elpd: higher is better; elpd_diff and dse to the best):")
    print(format_table(result.frame))
    for message in result.warnings:
        print(f"warning: {message}")
    print(unconverged_line(result.unconverged, "law"))
    print(f"wrote {written}")
    return exit_status(not result.unconverged)
