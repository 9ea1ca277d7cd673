"""``bayescale isoflop``: isoFLOP profiles, per-budget optima and the frontier (Approach 2)."""

from __future__ import annotations

import argparse

import pandas as pd

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

NAME = "isoflop"
HELP = "fit isoFLOP profiles: each budget's optimal size and the frontier N*(C), D*(C)"
OUTPUTS = ("isoflop.json", "isoflop.png")
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale isoflop "$(bayescale examples isoflop)" --compute compute --n n --y loss --budget 1e23 3.8e25 --out out/isoflop'


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """DATA and the columns of isoFLOP sweeps (shared with ``next-run``)."""
    parser.add_argument("data", help="CSV, TSV or Parquet file with one row per trained run")
    parser.add_argument("--compute", required=True, help="column of the run's compute (FLOP)")
    parser.add_argument("--y", required=True, help="column of the final loss")
    parser.add_argument("--n", help="column of parameters")
    parser.add_argument("--d", help="column of tokens (with --n: kept as given)")
    add_budget_tolerance_option(parser)


def _tolerance(text: str) -> float | str:
    """A number of decades, or ``auto``."""
    return text if text == "auto" else float(text)


def add_budget_tolerance_option(parser: argparse.ArgumentParser) -> None:
    """--budget-tolerance: how runs group into budgets (isoflop, next-run, backtest)."""
    parser.add_argument(
        "--budget-tolerance",
        type=_tolerance,
        default=0.0,
        metavar="DEX",
        help="runs whose compute lie within this many decades form one budget (default 0: "
        "equal values; 'auto': the smallest that gives every budget three sizes)",
    )


def sweep_data(args: argparse.Namespace):
    """The sweeps named by :func:`add_sweep_options`, validated (before any fit)."""
    from bayescale.analysis.isoflop import isoflop_data

    if args.budget_tolerance != "auto":
        check_numbers("--budget-tolerance", args.budget_tolerance, positive=False)
        if args.budget_tolerance < 0:
            raise CommandError("--budget-tolerance must be >= 0")
    if args.n is None and args.d is None:
        raise CommandError("name the size column (--n) or the token column (--d)")
    return isoflop_data(
        args.data,
        compute=args.compute,
        y=args.y,
        n=args.n,
        d=args.d,
        budget_tolerance=args.budget_tolerance,
    )


def fit_chinchilla(data, settings: dict):
    """The Chinchilla law (Approach 3) fitted to the same runs."""
    from bayescale.inference.fitting import fit

    frame = data.frame[["n", "d", "loss"]]
    return fit(frame, "chinchilla", n="n", d="d", y="loss", repeats="independent", **settings)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale isoflop``."""
    add_sweep_options(parser)
    parser.add_argument(
        "--budget", nargs="+", type=float, default=[], metavar="C", help="budgets to allocate"
    )
    parser.add_argument(
        "--approach3",
        action="store_true",
        help="also fit the Chinchilla law to the same runs and report its allocations",
    )
    add_sampler_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fit, print the tables, write isoflop.json and isoflop.png; returns the exit status."""
    from bayescale.analysis.isoflop import approach_disagreements, compare_approaches, fit_isoflop

    settings = sampler_kwargs(args)
    check_numbers("--budget", args.budget, positive=True)
    data = sweep_data(args)
    with output_folder(args, OUTPUTS) as out:
        result = fit_isoflop(data, **settings)
        approach3 = fit_chinchilla(data, settings) if args.approach3 else None
        comparison = (
            None
            if approach3 is None
            else compare_approaches(result, approach3, _comparison_budgets(result, args), args.ci)
        )
        payload = result.to_dict(args.budget, ci=args.ci)
        payload["data"]["path"] = args.data
        if approach3 is not None:
            payload["approach3"] = _approach3_payload(approach3, result, args)
            payload["approach3"]["disagreements"] = approach_disagreements(comparison)
            payload["diagnostics"] = _with_subfit(payload["diagnostics"], approach3)
        payload["converged"] = _converged(payload)
        payload["files"] = file_names(out)
        from bayescale.reporting.isoflop_plots import save_png

        figure = _figure(result, approach3, args)
        out.stage("isoflop.png", lambda path: save_png(figure, path))
        written = stage_json(out, "isoflop.json", payload)
    print(_render(result, payload, approach3, comparison, args))
    print(f"wrote {written}")
    return exit_status(payload["converged"])


SUBFIT = "Approach 3 (Chinchilla law) fit: "
"""Prefix of the sub-fit's warnings in isoflop.json and the printout."""


def _with_subfit(diagnostics: dict, approach3) -> dict:
    """The isoFLOP fit's diagnostics with the Chinchilla sub-fit's warnings added."""
    extra = [SUBFIT + message for message in approach3.diagnostics.warnings]
    return {**diagnostics, "warnings": [*diagnostics["warnings"], *extra]}


def _converged(payload: dict) -> bool:
    """Whether the isoFLOP fit and the Approach 3 sub-fit (if any) both converged."""
    flags = [payload["diagnostics"]["converged"]]
    if "approach3" in payload:
        flags.append(payload["approach3"]["diagnostics"]["converged"])
    return all(flags)


def _approach3_payload(approach3, result, args) -> dict:
    from bayescale.analysis.isoflop import chinchilla_exponents, stats
    from bayescale.results.allocation import allocation_records

    exponents = chinchilla_exponents(approach3)
    budgets = _comparison_budgets(result, args)
    return {
        "law": "chinchilla",
        "frontier": {name: stats(values, args.ci) for name, values in exponents.items()},
        "allocations": allocation_records(approach3.compute_optimal(budgets, ci=args.ci)),
        "diagnostics": approach3.diagnostics.to_dict(),
    }


def _figure(result, approach3, args):
    from bayescale.reporting.isoflop_plots import plot_isoflop

    extend = max(args.budget) if args.budget else None
    return plot_isoflop(result, ci=args.ci, extend_to=extend, approach3=approach3)


def _render(result, payload: dict, approach3, comparison, args) -> str:
    ci = payload["ci"]
    lines = [
        f"{len(result.data.frame)} runs in {len(result.data.budgets)} budgets from "
        f"{result.data.source}",
        "",
        f"per-budget optima (median and {ci:.0%} interval):",
    ]
    table = result.budget_table(ci)
    columns = ["compute", "points", "n_opt_median", "n_opt_lower", "n_opt_upper"]
    lines.append(format_table(table[[*columns, "d_opt_median", "inside"]].set_index("compute")))
    lines += ["", "frontier N* = G C^a, D* = H C^b:", format_table(result.summary(ci))]
    if payload["allocations"]:
        lines += ["", "allocation at the given budgets (Approach 2):"]
        frame = result.allocation([r["compute"] for r in payload["allocations"]], ci)
        lines.append(format_table(_short(frame).set_index("compute")))
    if comparison is not None:
        lines += [
            "",
            "Approach 2 (isoFLOP profiles) beside Approach 3 (Chinchilla law), same runs:",
            format_table(comparison),
        ]
    lines.append("")
    fits = [("isoFLOP fit", payload["diagnostics"])]
    if "approach3" in payload:
        fits.append(("Approach 3 (Chinchilla law) fit", payload["approach3"]["diagnostics"]))
    for name, diagnostics in fits:
        lines.append(
            f"diagnostics, {name}: max r_hat {diagnostics['max_r_hat']:.3f}, min ess_bulk "
            f"{diagnostics['min_ess_bulk']:.0f}, divergences {diagnostics['divergences']}"
        )
    lines.append(convergence_line(payload["converged"]))
    lines += [f"warning: {message}" for message in payload["diagnostics"]["warnings"]]
    if approach3 is not None:
        lines += [f"note: {SUBFIT}{note}" for note in approach3.diagnostics.notes]
    lines += [f"warning: {m}" for m in payload.get("approach3", {}).get("disagreements", [])]
    return "\n".join(lines)


def _short(frame: pd.DataFrame) -> pd.DataFrame:
    keep = ["compute"]
    for name in ("n_opt", "d_opt", "ratio"):
        keep += [f"{name}_median", f"{name}_lower", f"{name}_upper"]
    return frame[keep]


def _comparison_budgets(result, args) -> list[float]:
    """The --budget values, or the largest fitted budget."""
    return list(args.budget) or [float(result.data.budgets.max())]
