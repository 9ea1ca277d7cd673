"""``bayescale backtest``: fit on x <= each cut-off, score the held-out rest."""

from __future__ import annotations

import argparse
import warnings

from bayescale.analysis.backtest import backtest
from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_model_options,
    add_output_options,
    add_recipe_option,
    add_sampler_options,
    check_fit,
    check_law,
    check_metric_value,
    check_numbers,
    check_window,
    curves_from_args,
    file_names,
    fit_kwargs,
    format_table,
    output_folder,
    sampler_kwargs,
    stage_json,
)

NAME = "backtest"
HELP = "fit on compute up to each cut-off and check the predictions of the held-out rest"
OUTPUTS = ("backtest.json",)
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale backtest "$(bayescale examples scalerl_3seeds)" --x gpu_hours --y pass_rate --run seed --min-x 1500 --cut 20000 50000 --out out/backtest'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale backtest``."""
    add_data_options(parser)
    add_recipe_option(parser)
    parser.add_argument(
        "--cut", nargs="+", type=float, required=True, metavar="X", help="cut-offs on x"
    )
    parser.add_argument(
        "--true-asymptote",
        type=float,
        help="known asymptote (simulated data); default: the fit on all the data",
    )
    parser.add_argument(
        "--truth-column",
        help="column with the noiseless curve (simulated data) to measure final_error against",
    )
    add_model_options(parser)
    add_sampler_options(parser)
    add_output_options(parser, progress=True)


def run(args: argparse.Namespace) -> int:
    """Run the backtest, print the table, write backtest.json; returns the exit status."""
    sampler_kwargs(args)
    if args.max_x is not None:
        raise CommandError("--max-x does not apply: the cut-offs set the training window")
    if args.x is None:
        raise CommandError("--x is required: the cut-offs apply to it")
    law = check_law("--law", args.law)
    check_window(args)
    check_numbers("--cut", args.cut, positive=True)
    curves = curves_from_args(args, law)
    check_metric_value("--true-asymptote", args.true_asymptote, law)
    largest = float(curves.all_rows["x"].max())
    beyond = [cut for cut in args.cut if not cut < largest]
    if beyond:
        raise CommandError(
            f"--cut {beyond[0]:g}: no point of {curves.source} lies beyond it (largest "
            f"'{curves.columns['x']}' is {largest:g}), so nothing would be held out"
        )
    for cut in [None, *args.cut]:  # every fit the backtest makes, checked before any sampling
        if cut is not None and args.min_x is not None and cut <= args.min_x:
            raise CommandError(f"--cut {cut:g}: must lie above --min-x {args.min_x:g}")
        where = "the fit on all the data" if cut is None else f"--cut {cut:g}"
        check_fit(where, args, curves, args.law, min_x=args.min_x, max_x=cut)
    with output_folder(args, OUTPUTS) as out:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = backtest(
                curves,
                args.cut,
                args.law,
                min_x=args.min_x,
                true_asymptote=args.true_asymptote,
                truth_column=args.truth_column,
                progress=not args.quiet,
                **fit_kwargs(args),
            )
        payload = result.to_dict()
        payload["data"] = args.data
        payload["files"] = file_names(out)
        written = stage_json(out, "backtest.json", payload)
    print(f"likelihood {result.likelihood}; asymptote_error against the {result.reference}")
    print(format_table(result.table().set_index("cut")))
    for note in result.notes:
        print(f"note: {note}")
    for message in result.warnings:
        print(f"warning: {message}")
    print(f"wrote {written}")
    return 0
