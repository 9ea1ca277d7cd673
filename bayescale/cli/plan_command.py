"""``bayescale plan``: which extra seeds or compute would settle a comparison, at what cost."""

from __future__ import annotations

import argparse
import time

from bayescale.analysis.planning import SHOWN_COLUMNS, Plan, plan, ranked_options, sims_for
from bayescale.analysis.recipes import Comparison, compare_recipes
from bayescale.cli.common import (
    CommandError,
    add_data_options,
    add_model_options,
    add_output_options,
    add_recipe_option,
    add_sampler_options,
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

NAME = "plan"
HELP = "plan the next runs: P(the comparison resolves) per option of extra seeds or compute"
OUTPUTS = ("plan.json",)
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = 'bayescale plan "$(bayescale examples recipes)" --recipe recipe --x gpu_hours --y pass_rate --run seed --min-x 1500 --baseline baseline --plan-for baseline_repeat --add-seeds 3 6 --sims 25 --out out/plan'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale plan``."""
    add_data_options(parser)
    add_recipe_option(parser, default="recipe")
    parser.add_argument("--baseline", required=True, help="recipe the others are compared with")
    parser.add_argument(
        "--plan-for",
        nargs="+",
        metavar="NAME",
        help="recipes to plan for (default: every recipe whose decision is undecided)",
    )
    parser.add_argument("--parameter", default="A", help="compared law parameter (default: A)")
    parser.add_argument("--rope", type=float, help="ROPE half-width (default 0.02 for A)")
    parser.add_argument(
        "--add-seeds",
        type=int,
        nargs="+",
        default=[3],
        metavar="K",
        help="candidate numbers of new seeds (default: 3)",
    )
    parser.add_argument(
        "--extend-to",
        type=float,
        nargs="+",
        default=[],
        metavar="X",
        help="candidate final computes for the recipe's runs (and the new seeds)",
    )
    parser.add_argument(
        "--both",
        action="store_true",
        help="also plan every --add-seeds K together with every --extend-to X",
    )
    parser.add_argument(
        "--sims",
        type=int,
        help="simulations per option (default: enough for --mc-error)",
    )
    parser.add_argument(
        "--mc-error",
        type=float,
        default=0.05,
        help="largest binomial Monte Carlo error of the probabilities (default 0.05: 100 sims)",
    )
    parser.add_argument(
        "--cost-per-x",
        type=float,
        default=1.0,
        help="GPU-hours per unit of the x column (default 1: x is GPU-hours)",
    )
    add_model_options(parser)
    add_sampler_options(parser)
    add_output_options(parser, progress=True)


def check_plan_args(args: argparse.Namespace) -> None:
    """Refuse bad planning options before anything is sampled."""
    if any(k < 0 for k in args.add_seeds):
        raise CommandError("--add-seeds: numbers of seeds must be >= 0")
    check_numbers("--extend-to", args.extend_to, positive=True)
    check_numbers("--rope", args.rope, positive=True)
    check_numbers("--cost-per-x", args.cost_per_x, positive=True)
    if args.sims is not None and args.sims < 1:
        raise CommandError("--sims must be at least 1")
    if args.sims is None:
        try:
            sims_for(args.mc_error)
        except ValueError as err:
            raise CommandError(f"--mc-error: {err}") from None
    if args.parameter == "compute":
        raise CommandError("--parameter compute cannot be planned; compare A or B")
    if not any(args.add_seeds) and not args.extend_to:
        raise CommandError("no options to plan: give --add-seeds K (> 0) and/or --extend-to X")


def run(args: argparse.Namespace) -> int:
    """Check, fit, compare, plan, print and write plan.json; returns the exit status."""
    sampler_kwargs(args)
    law = check_law("--law", args.law)
    check_window(args)
    check_plan_args(args)
    curves = curves_from_args(args, law)
    _check_plan_for(args, curves.recipes, f"{curves.source}: column '{args.recipe}'")
    options = {"parameter": args.parameter, "rope": args.rope, "baseline": args.baseline}
    options |= {"ci": args.ci, "law": law.name, "min_x": args.min_x, **fit_kwargs(args)}
    compare_recipes(curves, check_only=True, **options)
    _check_against_data(args, curves)
    start = time.perf_counter()
    with output_folder(args, OUTPUTS) as out:
        comparison = compare_recipes(curves, **options)
        recipes = _recipes(args, comparison)
        plans = [
            plan(
                comparison,
                recipe=recipe,
                add_seeds=[k for k in args.add_seeds if k > 0],
                extend_to=args.extend_to,
                both=args.both,
                sims=args.sims,
                mc_error=args.mc_error,
                cost_per_x=args.cost_per_x,
                seed=args.seed,
                progress=not args.quiet,
            )
            for recipe in recipes
        ]
        written = file_names(out)["plan.json"]
        payload = plan_payload(comparison, plans, time.perf_counter() - start)
        stage_json(out, "plan.json", {**payload, "file": written})
    if plans:
        print(render(plans, payload))
    else:
        print(f"{payload['note']}:\n{format_table(comparison.pairs)}")
    for message in comparison.fit.diagnostics.warnings:
        print(f"warning: {message}")
    print(convergence_line(payload["converged"]))
    print(f"wrote {written}")
    return exit_status(payload["converged"])


def _check_plan_for(args: argparse.Namespace, recipes: list[str], where: str) -> None:
    """The baseline and the recipes to plan for are recipes of the data (``where``
    names the file and column)."""
    if args.baseline not in recipes:
        raise CommandError(
            f"--baseline: baseline {args.baseline!r} is not a recipe of {where}; "
            f"choose from {', '.join(recipes)}"
        )
    others = [r for r in recipes if r != args.baseline]
    if not others:
        raise CommandError(
            f"{where} holds only the baseline recipe {args.baseline!r}: "
            "planning compares it with at least one other recipe"
        )
    unknown = [r for r in args.plan_for or [] if r not in others]
    if unknown:
        raise CommandError(
            f"--plan-for: {', '.join(unknown)} not a recipe other than the baseline; "
            f"choose from {', '.join(others)}"
        )


def _check_against_data(args: argparse.Namespace, curves) -> None:
    """--sims within the posterior draws the fit will have, --extend-to beyond the
    last compute of every recipe it may plan for."""
    draws = args.chains * args.draws
    sims = args.sims if args.sims is not None else sims_for(args.mc_error)
    if sims > draws:
        given = f"--sims {args.sims}" if args.sims is not None else f"--mc-error {args.mc_error:g}"
        raise CommandError(
            f"{given} needs {sims} simulations, more than the fit's {draws} posterior draws "
            "(--chains x --draws); raise --draws or lower the simulations"
        )
    last = curves.frame.groupby("recipe")["x"].max()
    recipes = args.plan_for or [r for r in curves.recipes if r != args.baseline]
    for x in args.extend_to:
        short = [r for r in recipes if not x > last[r]]
        if short:
            raise CommandError(
                f"--extend-to {x:g} is not beyond the last {curves.columns.get('x', 'x')} of "
                f"recipe {short[0]!r} ({last[short[0]]:g}) in {curves.source}"
            )


#: What plan.json and the output say when no comparison is left to resolve.
ALL_DECIDED = "every comparison is already decided (name recipes with --plan-for to plan anyway)"


def _recipes(args: argparse.Namespace, comparison) -> list[str]:
    """The recipes to plan for: --plan-for, or every undecided one (maybe none)."""
    if args.plan_for:
        return list(args.plan_for)
    decisions = comparison.pairs.set_index("a")["decision"]
    return [r for r, word in decisions.items() if word == "undecided"]


def plan_payload(comparison: Comparison, plans: list[Plan], seconds: float) -> dict:
    """The ``plan.json`` content: current decisions, ranked options of every plan
    (only the decisions, with a note, when every comparison is decided), and
    ``converged``: whether the comparison's fit, which every plan starts from,
    converged (the simulated refits are not counted; see ``divergent_refits``)."""
    current = comparison.pairs.to_dict(orient="records")
    converged = comparison.fit.diagnostics.converged
    if not plans:
        return {
            "current": current,
            "plans": [],
            "options": [],
            "note": ALL_DECIDED,
            "converged": converged,
        }
    first = plans[0]
    options = ranked_options(plans)
    return {
        "baseline": first.pair[1],
        "parameter": first.parameter,
        "rope": first.rope,
        "ci": first.ci,
        "current": current,
        "sims": first.sims,
        "max_mc_error": first.max_mc_error,
        "refit": first.refit.to_dict(),
        "cost_per_x": first.cost_per_x,
        "seconds": seconds,
        "options": options.to_dict(orient="records"),
        "plans": [p.to_dict() for p in plans],
        "converged": converged,
    }


def render(plans: list[Plan], payload: dict) -> str:
    """The readable report printed on stdout."""
    first = plans[0]
    lines = [
        f"Delta {first.parameter} vs {first.pair[1]}, ROPE +/-{first.rope:.4g}, "
        f"{first.ci:.0%} interval; {first.sims} simulations per option "
        f"(Monte Carlo error at most {first.max_mc_error:.3f})",
    ]
    for p in plans:
        now = p.current
        lines.append(
            f"now: {p.pair[0]}: {now['decision']} (Delta {now['mean']:.4f}, "
            f"interval {now['lower']:.4f} to {now['upper']:.4f})"
        )
    lines += [
        "",
        "options ranked by P(resolved) per 1,000 extra GPU-hours (resolved_per_compute):",
        format_table(ranked_options(plans)[SHOWN_COLUMNS]),
        "",
        f"note: {first.notes[0]}; fit, comparison and planning took {payload['seconds']:.0f} s",
    ]
    return "\n".join(lines)
