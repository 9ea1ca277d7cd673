"""``bayescale backtest``: fit on the smaller scales up to each cut-off, score the held-out rest."""

from __future__ import annotations

import argparse
import math
import warnings

from bayescale.analysis.backtest import backtest, split_at_cuts
from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_model_options,
    add_output_options,
    add_recipe_option,
    add_sampler_options,
    add_size_options,
    check_fit,
    check_law,
    check_metric_value,
    check_numbers,
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
from bayescale.cli.isoflop_command import add_budget_tolerance_option, sweep_data
from bayescale.data.curves import CurveData
from bayescale.inference.law_error import fold_axis
from bayescale.model.laws import Law

NAME = "backtest"
HELP = (
    "fit on compute (or model size) up to each cut-off and check the predictions of the "
    "held-out rest"
)
OUTPUTS = ("backtest.json",)
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale backtest "$(bayescale examples scalerl_3seeds)" --x gpu_hours --y pass_rate --run seed --min-x 1500 --cut 20000 50000 --out out/backtest'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale backtest``."""
    add_data_options(parser)
    add_recipe_option(parser)
    add_size_options(parser)
    parser.add_argument(
        "--cut",
        nargs="+",
        type=float,
        required=True,
        metavar="VALUE",
        help="cut-offs on the axis (x; n for laws of parameters and tokens)",
    )
    add_budget_tolerance_option(parser)
    parser.add_argument(
        "--axis",
        choices=["x", "n", "d"],
        help="input the cut-offs apply to (default: x, or n for chinchilla)",
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
    if args.law == "isoflop":
        return run_isoflop(args)
    law = check_law("--law", args.law)
    axis = args.axis or fold_axis(law)
    if axis not in law.inputs:
        raise CommandError(f"--axis {axis}: law {args.law!r} has inputs {', '.join(law.inputs)}")
    if axis == "x" and args.x is None:
        raise CommandError("--x is required: the cut-offs apply to it")
    check_window(args)
    check_numbers("--cut", args.cut, positive=True)
    curves = curves_from_args(args, law)
    check_metric_value("--true-asymptote", args.true_asymptote, law)
    check_fit("the fit on all the data", args, curves, args.law, min_x=args.min_x)
    cuts, refused = checked_cuts(args, curves, law, axis)
    if not cuts:
        raise CommandError(f"--cut {refused[0][0]:g}: {refused[0][1]}")
    skipped = [f"--cut {cut:g} skipped: {reason}" for cut, reason in refused]
    with output_folder(args, OUTPUTS) as out:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = backtest(
                curves,
                cuts,
                args.law,
                axis=axis,
                min_x=args.min_x,
                true_asymptote=args.true_asymptote,
                truth_column=args.truth_column,
                progress=not args.quiet,
                **fit_kwargs(args),
            )
        payload = result.to_dict()
        payload["notes"] = [*skipped, *payload["notes"]]
        payload["data"] = args.data
        payload["files"] = file_names(out)
        written = stage_json(out, "backtest.json", payload)
    print(f"likelihood {result.likelihood}; asymptote_error against the {result.reference}")
    print(format_table(result.table().set_index("cut")))
    for note in [*skipped, *result.notes]:
        print(f"note: {note}")
    for message in result.warnings:
        print(f"warning: {message}")
    print(unconverged_line(result.unconverged, "cut"))
    print(f"wrote {written}")
    return exit_status(not result.unconverged)


def checked_cuts(
    args: argparse.Namespace, curves: CurveData, law: Law, axis: str
) -> tuple[list[float], list[tuple[float, str]]]:
    """The cut-offs that leave a fit to make and something to hold out, each checked
    before any sampling (:func:`~bayescale.analysis.backtest.split_at_cuts`, the rule
    the API applies, then the fit's own checks), and (cut, reason) for each one
    refused: with other cuts left, those are skipped with a note."""
    floor = args.min_x if axis == "x" and args.min_x is not None else -math.inf
    early = [(cut, f"must lie above --min-x {floor:g}") for cut in args.cut if cut <= floor]
    candidates = [cut for cut in args.cut if cut > floor]
    windows, refused = split_at_cuts(curves, axis, candidates, min_points=len(law.parameters) + 1)
    refused = [*early, *refused]
    cuts = []
    for cut, window in windows.items():
        where = f"--cut {cut:g}"
        try:
            check_fit(where, args, window, args.law, min_x=args.min_x)
        except (CommandError, ValueError) as err:
            refused.append((cut, str(err).removeprefix(where + ": ")))
            continue
        cuts.append(cut)
    return cuts, sorted(refused)


def run_isoflop(args: argparse.Namespace) -> int:
    """``--law isoflop``: fit the budgets up to each cut, score the larger budgets' optima."""
    from bayescale.analysis.isoflop_backtest import backtest_isoflop

    settings = sampler_kwargs(args)
    check_numbers("--cut", args.cut, positive=True)
    if args.compute is None:
        raise CommandError("--law isoflop needs --compute (the column of each run's FLOP)")
    if not isinstance(args.y, str):  # --y takes several run columns for curves
        if len(args.y) != 1:
            raise CommandError("--law isoflop: --y names one column, the final loss")
        args.y = args.y[0]
    data = sweep_data(args)
    below = [cut for cut in args.cut if 2 <= (data.budgets <= cut).sum() < len(data.budgets)]
    if not below:
        raise CommandError(
            f"--cut {args.cut[0]:g}: a cut must leave at least 2 budgets to fit and 1 to hold "
            f"out; the budgets are {', '.join(f'{b:.3g}' for b in data.budgets)}"
        )
    with output_folder(args, OUTPUTS) as out:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = backtest_isoflop(data, args.cut, **settings)
        payload = result.to_dict()
        payload["data"] = args.data
        payload["files"] = file_names(out)
        written = stage_json(out, "backtest.json", payload)
    print("isoFLOP optima of the held-out budgets against the frontier fitted below each cut")
    print(format_table(result.table().set_index("cut")))
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {written}")
    return 0
