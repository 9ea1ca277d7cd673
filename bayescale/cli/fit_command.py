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
    convergence_line,
    curves_from_args,
    exit_status,
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
from bayescale.results.display import plural
from bayescale.results.export import data_prediction_inputs, fit_to_dict
from bayescale.results.fit_result import LOCATORS
from bayescale.results.inference_allocation import inference_table
from bayescale.results.intervals import readable_summary
from bayescale.results.persistence import netcdf_bytes

NAME = "fit"
HELP = "fit a scaling law and report its parameters with credible intervals"
OUTPUTS = ("fit.json", "posterior.nc")
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale fit "$(bayescale examples scalerl_3seeds)" --x gpu_hours --y pass_rate --run seed --min-x 1500 --max-x 50000 --target 0.6 --out out/fit'


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
    parser.add_argument(
        "--inference-tokens",
        nargs="+",
        type=float,
        default=[],
        metavar="T",
        help="tokens the model will serve (chinchilla): inference-aware allocation "
        "(Sardana et al.) at each --target loss and each --budget, then taken as "
        "training + inference FLOPs",
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
    if not args.predict and law.inputs == ("x",):
        for recipe in curves.recipes:
            data_prediction_inputs(curves, recipe)
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
    if args.inference_tokens:
        if law.name != "chinchilla":
            raise CommandError(f"--inference-tokens needs --law chinchilla, not {law.name!r}")
        if not (args.target or args.budget):
            raise CommandError("--inference-tokens needs --target (losses) or --budget (FLOPs)")
        check_numbers("--inference-tokens", args.inference_tokens, positive=False)
        negative = [value for value in args.inference_tokens if value < 0]
        if negative:
            raise CommandError(f"--inference-tokens {negative[0]:g}: must be a number >= 0")


def run(args: argparse.Namespace) -> int:
    """Fit, print, write outputs; returns the exit status."""
    curves = check_fit_args(args)
    with output_folder(args, OUTPUTS) as out:
        result = fit_from_args(args, curves)
        payload = fit_to_dict(
            result,
            ci=args.ci,
            predict_x=args.predict,
            targets=args.target,
            budgets=args.budget,
            inference_tokens=args.inference_tokens,
        )
        payload["files"] = file_names(out)
        out.stage_bytes("posterior.nc", netcdf_bytes(result))
        stage_json(out, "fit.json", payload)
    print(render(result, payload))
    return exit_status(result.diagnostics.converged)


def render(result, payload: dict) -> str:
    """The readable report printed on stdout."""
    import pandas as pd

    lines = [f"{result.law.formula}   likelihood: {result.spec.likelihood}"]
    lines.append(
        f"{plural(len(result.data), 'point')}, {plural(len(result.runs), 'run')}, "
        f"{plural(len(result.recipes), 'recipe')} from {result.data.source}"
    )
    lines += [f"note: {note}" for note in result.data.notes]
    ci = payload["ci"]
    lines += ["", f"parameters (mean, median, sd, {ci:.0%} interval, r_hat, ess_bulk):"]
    table, heavy = readable_summary(result.summary(ci=ci).drop(columns=["ess_tail", *LOCATORS]))
    lines.append(format_table(table))
    lines += [f"note: {note}" for note in heavy]
    if payload["predictions"]:
        lines += ["", "predictions (curve interval; obs_* for a new observation):"]
        lines.append(format_table(pd.DataFrame(payload["predictions"])))
        if payload["law_error"] is not None:
            error = payload["law_error"]
            lines.append(
                f"beyond the fitted range obs_* include the law's own error: sd "
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
    if payload["inference_allocations"]:
        lines += [
            "",
            "inference-aware allocation (cost 6ND + 2N x tokens served; saving against "
            "the compute-optimal allocation of the same loss; median and interval over draws):",
        ]
        for key in ("loss_target", "budget"):
            chosen = [r for r in payload["inference_allocations"] if key in r]
            if chosen:
                lines.append(format_table(inference_table(chosen)))
    diagnostics = result.diagnostics
    lines += [
        "",
        f"diagnostics: max r_hat {diagnostics.max_r_hat:.3f}, min ess_bulk "
        f"{diagnostics.min_ess_bulk:.0f}, divergences {diagnostics.divergences}",
    ]
    lines.append(convergence_line(diagnostics.converged))
    lines += [f"warning: {message}" for message in diagnostics.warnings]
    lines += [f"note: {note}" for note in diagnostics.notes]
    if "files" in payload:
        lines.append(f"wrote {', '.join(payload['files'].values())}")
    return "\n".join(lines)
