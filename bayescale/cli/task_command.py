"""``bayescale task``: task accuracy at a target scale, from a model ladder."""

from __future__ import annotations

import argparse

import pandas as pd

from bayescale.analysis.task import METHODS, compute_to_reach_accuracy, fit_task, predict_task
from bayescale.cli.common import (
    CommandError,
    add_output_options,
    add_sampler_options,
    check_numbers,
    exit_status,
    file_names,
    format_table,
    output_folder,
    records,
    sampler_kwargs,
    stage_json,
    unconverged_line,
)
from bayescale.data.sources import DataError, read_table

NAME = "task"
HELP = "predict benchmark accuracy at a larger scale (loss -> accuracy, or accuracy vs compute)"
EXAMPLE = 'bayescale task "$(bayescale examples task_ladder)" --task smooth emergent --loss loss --compute compute --chance 0.25 --questions 1000 --hold-out-above 1e22 --out out/task'
OUTPUTS = ("task.json", "task.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale task``."""
    parser.add_argument("data", help="CSV/TSV/Parquet, one row per model")
    parser.add_argument(
        "--task",
        nargs="+",
        required=True,
        metavar="COLUMN",
        help="accuracy columns (in [0, 1]), one per task",
    )
    parser.add_argument("--compute", required=True, help="training FLOP column")
    parser.add_argument("--loss", help="loss column (needed by --method two_step)")
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="two_step",
        help="two_step: compute -> loss -> accuracy (default); direct: accuracy against compute",
    )
    parser.add_argument("--chance", type=float, help="known chance level (e.g. 0.25)")
    parser.add_argument(
        "--questions", type=int, help="questions per evaluation: binomial noise in new evaluations"
    )
    parser.add_argument(
        "--predict",
        nargs="+",
        type=float,
        default=[],
        metavar="C",
        help="training FLOPs to predict at (default: 10x and 100x the largest)",
    )
    parser.add_argument(
        "--reach",
        nargs="+",
        type=float,
        default=[],
        metavar="ACC",
        help="accuracies to reach: compute needed with P(reachable)",
    )
    parser.add_argument(
        "--hold-out-above",
        type=float,
        metavar="C",
        help="fit only models with compute <= C; predict and score the others",
    )
    add_sampler_options(parser)
    add_output_options(parser)


def _check(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    sampler_kwargs(args)
    if args.method == "two_step" and args.loss is None:
        raise CommandError("--method two_step needs --loss (or use --method direct)")
    if args.chance is not None and not 0 <= args.chance < 1:
        raise CommandError(f"--chance {args.chance:g}: must lie in [0, 1)")
    if args.questions is not None and args.questions < 1:
        raise CommandError(f"--questions {args.questions}: must be >= 1")
    check_numbers("--predict", args.predict, positive=True)
    check_numbers("--hold-out-above", args.hold_out_above, positive=True)
    for value in args.reach:
        if not 0 < value < 1:
            raise CommandError(f"--reach {value:g}: must lie in (0, 1)")
    frame = read_table(args.data)
    for column in [*args.task, args.compute, args.loss]:
        if column is not None and column not in frame:
            raise DataError(
                f"{args.data}: no column {column!r}; columns: {', '.join(frame.columns)}"
            )
    if args.hold_out_above is None:
        return frame, None
    fitted = frame[frame[args.compute] <= args.hold_out_above]
    held = frame[frame[args.compute] > args.hold_out_above]
    if held.empty:
        raise CommandError(f"--hold-out-above {args.hold_out_above:g}: no model above it")
    return fitted, held


def run(args: argparse.Namespace) -> int:
    """Fit, predict, write task.json and task.png; returns the exit status."""
    fitted, held = _check(args)
    settings = sampler_kwargs(args)
    with output_folder(args, OUTPUTS) as out:
        result = fit_task(
            fitted,
            args.task,
            loss=args.loss,
            compute=args.compute,
            method=args.method,
            chance=args.chance,
            questions=args.questions,
            **settings,
        )
        largest = float(fitted[args.compute].max())
        points = args.predict or [10 * largest, 100 * largest]
        predictions = predict_task(result, compute=points, ci=args.ci)
        reach = (
            [
                compute_to_reach_accuracy(result, args.reach, task=t, ci=args.ci)
                for t in result.tasks
            ]
            if args.reach
            else []
        )
        payload = {
            "method": args.method,
            "ci": args.ci,
            "tasks": result.tasks,
            "chance": args.chance,
            "questions": args.questions,
            "predictions": records(predictions),
            "reach": records(pd.concat(reach, ignore_index=True)) if reach else [],
            "warnings": result.warnings(),
            "fits": records(result.diagnostics()),
            "unconverged": result.unconverged,
        }
        if held is not None:
            scored = _score(result, held, args)
            payload["held_out"] = records(scored)
            payload["held_out_coverage"] = float(scored["covered"].mean())
        payload["files"] = file_names(out)
        stage_json(out, "task.json", payload)
        out.stage("task.png", lambda path: _save_figure(result, held, args, path))
    print(f"{args.method}: {len(fitted)} models fitted, tasks {', '.join(result.tasks)}")
    print(f"\naccuracy ({args.ci:.0%} credible interval; eval_* for a new evaluation):")
    print(format_table(predictions))
    if reach:
        print("\ncompute to reach (interval over draws that reach it):")
        print(format_table(pd.concat(reach, ignore_index=True)))
    if held is not None:
        print(f"\nheld-out models (coverage {payload['held_out_coverage']:.0%}):")
        print(format_table(scored))
    for step, messages in result.warnings().items():
        for message in messages:
            print(f"warning ({step}): {message}")
    print(unconverged_line(result.unconverged, "step"))
    print(f"wrote {', '.join(payload['files'].values())}")
    return exit_status(not result.unconverged)


def _score(result, held: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    table = predict_task(result, compute=held[args.compute].to_numpy(), ci=args.ci)
    table["observed"] = pd.concat([held[t] for t in result.tasks], ignore_index=True)
    table["covered"] = (table["eval_lower"] <= table["observed"]) & (
        table["observed"] <= table["eval_upper"]
    )
    return table


def _save_figure(result, held, args: argparse.Namespace, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayescale.reporting.task_plots import plot_task

    columns = {"compute": args.compute, "loss": args.loss or args.compute}
    axes = plot_task(result, held_out=held, columns=columns, ci=args.ci)
    axes[0].figure.savefig(path, format="png", dpi=120)
    plt.close(axes[0].figure)
