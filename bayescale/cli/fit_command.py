"""``bayescale fit``: fit a law, print the table, write fit.json and the posterior."""

from __future__ import annotations

import argparse
import warnings

from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_model_options,
    add_output_options,
    add_recipe_option,
    add_sampler_options,
    add_size_options,
    check_law,
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
from bayescale.data.curves import CurveData
from bayescale.inference.fitting import fit
from bayescale.model.laws import Law
from bayescale.results.allocation import allocation_table
from bayescale.results.export import fit_to_dict
from bayescale.results.fit_result import LOCATORS
from bayescale.results.persistence import netcdf_bytes

NAME = "fit"
HELP = "fit a scaling law and report its parameters with credible intervals"
OUTPUTS = ("fit.json", "posterior.nc")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale fit``."""
    add_data_options(parser)
    add_fit_options(parser)
    add_sampler_options(parser)
    add_output_options(parser)


def add_fit_options(parser: argparse.ArgumentParser) -> None:
    """Recipe and input columns, model options, predictions, targets and budgets
    (shared with ``bayescale report``)."""
    add_recipe_option(parser)
    add_size_options(parser)
    add_model_options(parser)
    parser.add_argument(
        "--predict",
        nargs="+",
        type=float,
        metavar="X",
        help="inputs to predict at (default: 2x and 10x the largest observed)",
    )
    parser.add_argument(
        "--target", nargs="+", type=float, default=[], metavar="R", help="metric values to reach"
    )
    parser.add_argument(
        "--budget",
        nargs="+",
        type=float,
        default=[],
        metavar="C",
        help="compute budgets (FLOP) for compute-optimal allocation (chinchilla)",
    )


def fit_from_args(args: argparse.Namespace, curves: CurveData, *, check_only: bool = False):
    """Run :func:`bayescale.fit` on ``curves`` with the parsed options (shared by other
    commands); ``check_only`` checks priors and options without sampling."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        return fit(curves, args.law, min_x=args.min_x, **fit_kwargs(args), check_only=check_only)


def check_fit_args(args: argparse.Namespace) -> CurveData:
    """Refuse inconsistent fit options, data or priors before any output is written
    or anything sampled (shared by other commands); returns the data, read once."""
    sampler_kwargs(args)
    law = check_law("--law", args.law)
    check_result_options(args, law)
    check_window(args)
    curves = curves_from_args(args, law)
    fit_from_args(args, curves, check_only=True)
    return curves


def check_result_options(args: argparse.Namespace, law: Law) -> None:
    """--predict, --target and --budget: numbers the fitted ``law`` can answer."""
    if args.budget and law.name != "chinchilla":
        raise CommandError(f"--budget needs --law chinchilla, not {law.name!r}")
    if args.target and law.inverse is None:
        raise CommandError(f"--target: law {law.name!r} has no compute-to-target inverse")
    if args.predict and law.inputs != ("x",):
        raise CommandError(f"--predict: law {law.name!r} has no single input x to predict at")
    check_numbers("--predict", args.predict, positive=True)
    check_numbers("--target", args.target, positive=False)
    check_numbers("--budget", args.budget, positive=True)


def run(args: argparse.Namespace) -> int:
    """Fit, print, write outputs; returns the exit status."""
    curves = check_fit_args(args)
    with output_folder(args, OUTPUTS) as out:
        result = fit_from_args(args, curves)
        payload = fit_to_dict(
            result, ci=args.ci, predict_x=args.predict, targets=args.target, budgets=args.budget
        )
        payload["files"] = file_names(out)
        out.stage_bytes("posterior.nc", netcdf_bytes(result))
        stage_json(out, "fit.json", payload)
    print(render(result, payload))
    return 0


def render(result, payload: dict) -> str:
    """The readable report printed on stdout."""
    import pandas as pd

    lines = [f"{result.law.formula}   likelihood: {result.spec.likelihood}"]
    lines.append(
        f"{len(result.data)} points, {len(result.runs)} runs, {len(result.recipes)} recipes"
        f" from {result.data.source}"
    )
    lines += [f"note: {note}" for note in result.data.notes]
    ci = payload["ci"]
    lines += ["", f"parameters (mean, sd, {ci:.0%} interval, r_hat, ess_bulk):"]
    lines.append(format_table(result.summary(ci=ci).drop(columns=["ess_tail", *LOCATORS])))
    if payload["predictions"]:
        lines += ["", "predictions (curve interval; obs_* for a new observation):"]
        lines.append(format_table(pd.DataFrame(payload["predictions"])))
        if payload["law_error"] is not None:
            error = payload["law_error"]
            lines.append(
                f"beyond the fitted range the intervals include the law's own error: sd "
                f"{error['sd_per_decade']:.3g} one decade out ({error['scale']} scale, learned "
                f"from {len(error['folds'])} internal leave-largest-out folds)"
            )
        lines += [f"note: {note}" for note in payload.get("prediction_notes", [])]
    if payload["targets"]:
        lines += ["", "compute to reach target (interval over draws that reach it):"]
        lines.append(format_table(pd.DataFrame(payload["targets"])))
    if payload["allocations"]:
        lines += ["", "compute-optimal allocation (median and interval over draws):"]
        lines.append(format_table(allocation_table(payload["allocations"])))
    diagnostics = result.diagnostics
    lines += [
        "",
        f"diagnostics: max r_hat {diagnostics.max_r_hat:.3f}, min ess_bulk "
        f"{diagnostics.min_ess_bulk:.0f}, divergences {diagnostics.divergences}",
    ]
    lines += [f"warning: {message}" for message in diagnostics.warnings]
    lines += [f"note: {note}" for note in diagnostics.notes]
    lines.append(f"wrote {', '.join(payload['files'].values())}")
    return "\n".join(lines)
