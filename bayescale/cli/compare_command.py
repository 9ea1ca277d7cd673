"""``bayescale compare``: decide between recipes, with the least-squares procedure beside it."""

from __future__ import annotations

import argparse

from bayescale.analysis.recipes import DECISION_RULE, Comparison, compare_recipes
from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_model_options,
    add_output_options,
    add_recipe_option,
    add_sampler_options,
    check_law,
    check_metric_value,
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

NAME = "compare"
HELP = "compare recipes: posterior of the difference, P(beyond the ROPE) and a decision"
OUTPUTS = ("compare.json",)
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale compare "$(bayescale examples recipes)" --recipe recipe --x gpu_hours --y pass_rate --run seed --min-x 1500 --baseline baseline --out out/compare'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale compare``."""
    add_data_options(parser)
    add_recipe_option(parser, default="recipe")
    add_decision_options(parser)
    parser.add_argument("--target", type=float, help="metric value to reach (--parameter compute)")
    parser.add_argument(
        "--r0",
        type=float,
        help="start pass rate for the least-squares fits (default: each seed's first evaluation)",
    )
    add_model_options(parser)
    add_sampler_options(parser)
    add_output_options(parser)


def add_decision_options(parser: argparse.ArgumentParser) -> None:
    """--parameter, --rope and --baseline (shared with ``bayescale report``)."""
    parser.add_argument(
        "--parameter",
        default="A",
        help="what to compare: A, B (or another law parameter), or compute (needs --target)",
    )
    parser.add_argument(
        "--rope",
        type=float,
        help="half-width of the region of practical equivalence "
        "(default: 0.02 for A, 0.1 for B, log(1.1) for the compute log ratio)",
    )
    parser.add_argument("--baseline", help="compare every recipe against this one")


def run(args: argparse.Namespace) -> int:
    """Check, fit, compare, print and write compare.json; returns the exit status."""
    sampler_kwargs(args)
    law = check_law("--law", args.law)
    check_window(args)
    check_numbers("--target", args.target, positive=False)
    check_numbers("--rope", args.rope, positive=True)
    check_metric_value("--r0", args.r0, law)
    curves = curves_from_args(args, law)
    if len(curves.recipes) < 2:
        raise CommandError(
            f"{curves.source}: column '{args.recipe}' holds one recipe "
            f"({', '.join(curves.recipes)}); compare needs at least two"
        )
    options = {**_options(args), "ci": args.ci, "r0": args.r0, "law": law.name}
    options |= {"min_x": args.min_x, **fit_kwargs(args)}
    compare_recipes(curves, check_only=True, **options)
    with output_folder(args, OUTPUTS) as out:
        result = compare_recipes(curves, **options)
        written = file_names(out)["compare.json"]
        stage_json(out, "compare.json", {**result.to_dict(), "file": written})
    print(render(result))
    print(f"wrote {written}")
    return exit_status(result.fit.diagnostics.converged)


def _options(args: argparse.Namespace) -> dict:
    return {
        "parameter": args.parameter,
        "rope": args.rope,
        "baseline": args.baseline,
        "target": args.target,
    }


def render(result: Comparison) -> str:
    """The readable report printed on stdout."""
    what = result.parameter
    if what == "compute":
        what = f"log compute to reach {result.target:g}"
    lines = [
        f"Delta {what}, ROPE +/-{result.rope:.4g}, {result.ci:.0%} interval",
        f"rule: {DECISION_RULE}",
        "",
        format_table(result.pairs.set_index(["a", "b"])),
        "",
        "per recipe: posterior (mean, median, interval) and least squares over seeds (ls_*):",
        format_table(result.recipes),
    ]
    lines += [f"note: {note}" for note in result.notes]
    diagnostics = result.fit.diagnostics
    lines.append(
        f"diagnostics: max r_hat {diagnostics.max_r_hat:.3f}, min ess_bulk "
        f"{diagnostics.min_ess_bulk:.0f}, divergences {diagnostics.divergences}"
    )
    lines.append(convergence_line(diagnostics.converged))
    lines += [f"warning: {message}" for message in diagnostics.warnings]
    lines += [f"note: {note}" for note in diagnostics.notes]
    return "\n".join(lines)
