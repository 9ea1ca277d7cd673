"""``bayescale next-run``: the runs that most shrink the interval at a target budget."""

from __future__ import annotations

import argparse
import warnings

from bayescale.cli.common import (
    CommandError,
    add_output_options,
    add_sampler_options,
    check_numbers,
    convergence_line,
    exit_status,
    file_names,
    format_table,
    output_folder,
    sampler_kwargs,
    stage_json,
)
from bayescale.cli.isoflop_command import add_sweep_options, fit_chinchilla, sweep_data

NAME = "next-run"
HELP = "which runs to train next: most shrinkage of the target interval per FLOP"
OUTPUTS = ("next_run.json", "next_run.png")
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale next-run "$(bayescale examples isoflop)" --compute compute --n n --y loss --target-compute 3.8e25 --run-budget 3e23 --out out/next-run'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale next-run``."""
    add_sweep_options(parser)
    parser.add_argument(
        "--model",
        choices=["isoflop", "chinchilla"],
        default="isoflop",
        help="isoFLOP profiles (Approach 2, default) or the Chinchilla law (Approach 3)",
    )
    parser.add_argument(
        "--target-compute", type=float, required=True, metavar="C", help="target budget (FLOP)"
    )
    parser.add_argument(
        "--run-budget", type=float, required=True, metavar="F", help="FLOP for the new runs"
    )
    parser.add_argument(
        "--target",
        choices=["n_opt", "loss_opt"],
        default="n_opt",
        help="ln N* at the target (default) or the optimal loss (chinchilla only)",
    )
    parser.add_argument(
        "--candidates",
        help="CSV of candidate runs: columns candidate, compute, n (rows sharing a "
        "candidate are trained together); default: a generated grid",
    )
    add_sampler_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fit, design, print, write next_run.json and next_run.png; returns the exit status."""
    settings = sampler_kwargs(args)
    check_numbers("--target-compute", args.target_compute, positive=True)
    check_numbers("--run-budget", args.run_budget, positive=True)
    if args.target == "loss_opt" and args.model != "chinchilla":
        raise CommandError(
            "--target loss_opt needs --model chinchilla (isoFLOP fits have no loss law)"
        )
    data = sweep_data(args)
    candidates = _read_candidates(args.candidates) if args.candidates else None
    with output_folder(args, OUTPUTS) as out:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = _fit(data, args.model, settings)
        from bayescale.analysis.next_run import suggest_runs

        design = suggest_runs(
            fitted,
            target_compute=args.target_compute,
            run_budget=args.run_budget,
            target=args.target,
            candidates=candidates,
            seed=args.seed or 0,
        )
        payload = {"model": args.model, "data": args.data, **design.to_dict()}
        payload["files"] = file_names(out)
        from bayescale.reporting.isoflop_plots import plot_design, save_png

        figure = plot_design(design)
        out.stage("next_run.png", lambda path: save_png(figure, path))
        written = stage_json(out, "next_run.json", payload)
    reduction = 1 - design.expected_sd / design.prior_sd
    print(
        f"target {args.target} at {args.target_compute:.3g} FLOP: posterior sd now "
        f"{design.prior_sd:.4g}, expected {design.expected_sd:.4g} after the chosen runs "
        f"({reduction:.0%} smaller) for {design.chosen['cost'].sum():.3g} of "
        f"{args.run_budget:.3g} FLOP"
    )
    print(format_table(design.chosen.set_index("step")[["label", "cost", "expected_sd"]]))
    for message in design.warnings:
        print(f"warning: {message}")
    print(convergence_line(design.converged))
    print(f"wrote {written}")
    return exit_status(design.converged)


def _fit(data, model: str, settings: dict):
    if model == "isoflop":
        from bayescale.analysis.isoflop import fit_isoflop

        return fit_isoflop(data, **settings)
    return fit_chinchilla(data, settings)


def _read_candidates(path: str):
    from bayescale.data.curves import ColumnChecker, check_columns_exist
    from bayescale.data.sources import DataError, read_source

    frame, info = read_source(path)
    if frame.empty:
        raise DataError(f"{path}: no rows")
    check_columns_exist(frame, {"candidate": "candidate", "compute": "compute", "n": "n"}, path)
    frame = frame.reset_index(drop=True)
    frame["row"] = range(len(frame))
    check = ColumnChecker(frame, path, info.lines)
    for column in ("compute", "n"):
        values = check.numeric(column)
        check.fail(column, "must be > 0", (values <= 0).to_numpy())
        frame[column] = values
    frame["candidate"] = check.labels("candidate")
    return frame[["candidate", "compute", "n"]]
