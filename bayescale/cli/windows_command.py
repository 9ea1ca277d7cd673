"""``bayescale windows``: refit over compute windows and show how the parameters move."""

from __future__ import annotations

import argparse
import math

import pandas as pd

from bayescale.analysis.windows import Window, fit_windows
from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_model_options,
    add_output_options,
    add_recipe_option,
    add_sampler_options,
    check_fit,
    check_law,
    curves_from_args,
    exit_status,
    file_names,
    fit_kwargs,
    format_table,
    output_folder,
    records,
    sampler_kwargs,
    stage_json,
    unconverged_line,
)

NAME = "windows"
HELP = "refit over compute windows (early-compute exclusions) and tabulate A, B, C_mid"
OUTPUTS = ("windows.json",)
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale windows "$(bayescale examples scalerl_3seeds)" --x gpu_hours --y pass_rate --run seed --window 1500:50000 5000:50000 --out out/windows'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale windows``."""
    add_data_options(parser)
    add_recipe_option(parser)
    parser.add_argument(
        "--window",
        nargs="+",
        required=True,
        metavar="MIN:MAX",
        help="compute windows, e.g. 1500:50000 0:50000 5000:50000 (an empty end is open)",
    )
    add_model_options(parser)
    add_sampler_options(parser)
    add_output_options(parser, progress=True)


def parse_window(text: str) -> Window:
    """``"1500:50000"`` -> (1500.0, 50000.0); ``"5000:"`` -> (5000.0, None)."""
    low, sep, high = text.partition(":")
    if not sep:
        raise CommandError(f"--window {text!r}: write it as MIN:MAX, e.g. 1500:50000")
    try:
        window = (float(low) if low.strip() else None, float(high) if high.strip() else None)
    except ValueError:
        raise CommandError(f"--window {text!r}: MIN and MAX must be numbers") from None
    if any(end is not None and not math.isfinite(end) for end in window):
        raise CommandError(f"--window {text!r}: MIN and MAX must be finite")
    if None not in window and window[0] > window[1]:
        raise CommandError(f"--window {text!r}: MIN is above MAX")
    return window


def run(args: argparse.Namespace) -> int:
    """Fit every window, print the table, write windows.json; returns the exit status."""
    sampler_kwargs(args)
    if args.min_x is not None or args.max_x is not None:
        raise CommandError("--min-x/--max-x do not apply: give the windows with --window")
    windows = [parse_window(text) for text in args.window]
    lows = [low for low, _ in windows]
    # read inside the widest window: rows below every window (x = 0) are excluded, not refused
    widest = None if None in lows else min(lows)
    curves = curves_from_args(args, check_law("--law", args.law), min_x=widest)
    for text, (low, high) in zip(args.window, windows, strict=True):
        check_fit(f"--window {text}", args, curves, args.law, min_x=low, max_x=high)
    with output_folder(args, OUTPUTS) as out:
        table = fit_windows(
            curves, windows, args.law, ci=args.ci, progress=not args.quiet, **fit_kwargs(args)
        )
        payload = {
            "data": args.data,
            "law": args.law,
            "ci": args.ci,
            "windows": records(table),
            "unconverged": unconverged(table),
            "files": file_names(out),
        }
        written = stage_json(out, "windows.json", payload)
    print(f"recipe-level parameters per window ({args.ci:.0%} intervals; shift from the first):")
    print(format_table(table.set_index(["window", "parameter"]).drop(columns=["min_x", "max_x"])))
    print(unconverged_line(payload["unconverged"], "window"))
    print(f"wrote {written}")
    return exit_status(not payload["unconverged"])


def unconverged(table: pd.DataFrame) -> list[str]:
    """Labels of the windows whose fit did not converge, in table order."""
    return list(dict.fromkeys(table.loc[table["converged"] == False, "window"]))  # noqa: E712
