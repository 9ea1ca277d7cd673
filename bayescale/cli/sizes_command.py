"""``bayescale fit-sizes``: one RL law across model sizes; predict an unseen size."""

from __future__ import annotations

import argparse

from bayescale.analysis.size_backtest import backtest_largest_size, split_largest_size
from bayescale.analysis.sizes import fit_sizes, size_records
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
    parse_priors,
    records,
    sampler_kwargs,
    stage_json,
)

NAME = "fit-sizes"
HELP = "fit RL curves of several model sizes with A, B, C_mid smooth in size; predict other sizes"
OUTPUTS = ("sizes.json", "a_vs_size.png")
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale fit-sizes "$(bayescale examples rl_sizes)" --x gpu_hours --y pass_rate --size size --run seed --predict-size 1.09e11 --out out/sizes'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale fit-sizes``."""
    parser.add_argument("data", help="CSV, TSV or Parquet file with one row per evaluation")
    parser.add_argument("--x", required=True, help="compute column (GPU-hours)")
    parser.add_argument("--y", required=True, help="metric column (pass rate in [0, 1])")
    parser.add_argument("--size", required=True, help="model size column (parameters)")
    parser.add_argument("--run", help="column naming the seed (labels may repeat across sizes)")
    parser.add_argument("--min-x", type=float, help="exclude rows with x below this")
    parser.add_argument("--max-x", type=float, help="exclude rows with x above this")
    parser.add_argument(
        "--predict-size",
        nargs="+",
        type=float,
        default=[],
        metavar="N",
        help="sizes to predict A, B, C_mid, R0 (and curves at --predict) for",
    )
    parser.add_argument(
        "--predict",
        nargs="+",
        type=float,
        default=[],
        metavar="X",
        help="compute values at which to predict each --predict-size's curve",
    )
    parser.add_argument(
        "--hold-out-largest",
        action="store_true",
        help="also fit without the largest size and check its predicted asymptote and curve "
        "against its data (the 'backtest' key of sizes.json)",
    )
    parser.add_argument(
        "--likelihood", default="auto", help="observation model (default auto: drift)"
    )
    parser.add_argument(
        "--prior",
        action="append",
        default=[],
        metavar='NAME="Dist(arg=v, ...)"',
        help="override a prior, e.g. --prior 'gap_share=Beta(alpha=2, beta=2)'",
    )
    add_sampler_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fit, print, write sizes.json and a_vs_size.png; returns the exit status."""
    settings = sampler_kwargs(args)
    check_numbers("--predict-size", args.predict_size, positive=True)
    check_numbers("--predict", args.predict, positive=True)
    check_numbers("--min-x", args.min_x, positive=False)
    check_numbers("--max-x", args.max_x, positive=False)
    if args.predict and not args.predict_size:
        raise CommandError("--predict needs --predict-size: the sizes whose curves to predict")
    priors = parse_priors(args.prior)
    columns = {"x": args.x, "y": args.y, "size": args.size, "run": args.run}
    window = {"min_x": args.min_x, "max_x": args.max_x}
    fit_sizes(
        args.data,
        **columns,
        **window,
        likelihood=args.likelihood,
        priors=priors,
        **settings,
        check_only=True,
    )
    if args.hold_out_largest:
        split_largest_size(args.data, **columns, **window, likelihood=args.likelihood)
    with output_folder(args, OUTPUTS) as out:
        result = fit_sizes(
            args.data,
            **columns,
            **window,
            likelihood=args.likelihood,
            priors=priors,
            **settings,
        )
        table = result.at_sizes([*result.sizes, *args.predict_size], ci=args.ci)
        curves = [  # --predict-size alone gives the parameters at those sizes only
            row
            for size in (args.predict_size if args.predict else [])
            for row in records(result.predict(size, args.predict, ci=args.ci))
        ]
        payload = {
            **result.to_dict(args.ci),
            "data": args.data,
            "columns": columns,
            "at_sizes": size_records(table),
            "predictions": curves,
            "sampler": {**settings, "seed": result.fit.sampler.seed},
            "files": file_names(out),
        }
        if args.hold_out_largest:
            back = backtest_largest_size(
                args.data,
                **columns,
                ci=args.ci,
                **window,
                likelihood=args.likelihood,
                priors=priors,
                **settings,
            )
            payload["backtest"] = records(back.table)[0]
        written = stage_json(out, "sizes.json", payload)
        out.stage("a_vs_size.png", lambda path: _save_figure(result, args, path))
    print(f"{result.fit.law.formula}   likelihood: {result.fit.spec.likelihood}")
    print(f"sizes: {', '.join(f'{s:g}' for s in result.sizes)}")
    print(format_table(result.summary(args.ci)[["mean", "median", "lower", "upper", "r_hat"]]))
    shown = table.set_index(["size", "parameter"])[["fitted", "median", "lower", "upper"]]
    print(f"\nparameters at each size ({args.ci:.0%} intervals):")
    print(format_table(shown))
    print(convergence_line(result.fit.diagnostics.converged))
    for message in result.fit.diagnostics.warnings:
        print(f"warning: {message}")
    if "backtest" in payload:
        print("\nlargest size held out (fit on the others, predicted vs its own data):")
        print(format_table(back.table.set_index("size")))
    print(f"wrote {written}")
    return exit_status(result.fit.diagnostics.converged)


def _save_figure(result, args: argparse.Namespace, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayescale.reporting.size_plots import plot_asymptote_by_size

    ax = plot_asymptote_by_size(result, ci=args.ci)
    ax.figure.savefig(path, format="png", dpi=120)
    plt.close(ax.figure)
