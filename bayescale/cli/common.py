"""Pieces shared by the CLI commands: options and their checks, output folders, JSON, errors.

Every command checks all of its options (and the data, priors and seed of every
fit it will make) before it takes its output folder, and takes the folder
before it samples, so a refusal costs no sampling and a sampled result is never
lost to a folder that cannot be written.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.data.curves import CurveData
from bayescale.data.trackers import FORMATS
from bayescale.inference.fitting import curves_for_law, fit
from bayescale.inference.sampler_settings import check_seed
from bayescale.model.laws import Law, available_laws, get_law
from bayescale.model.likelihoods.registry import available_likelihoods
from bayescale.model.priors import parse_prior
from bayescale.results.intervals import DEFAULT_CI
from bayescale.results.output import OutputFolder
from bayescale.results.provenance import SamplerSettings


class CommandError(Exception):
    """A user error the CLI reports in one line with exit status 2."""


NOT_CONVERGED = 3
"""Exit status when the results were written but a fit behind them did not converge
(R-hat > 1.01, divergences or bulk ESS < 400, also after the automatic second
attempt): scripts must not take them for good results."""


def exit_status(*converged: bool | None) -> int:
    """0 when every fit converged, else :data:`NOT_CONVERGED`."""
    return 0 if all(flag is not False for flag in converged) else NOT_CONVERGED


def convergence_line(*converged: bool | None) -> str:
    """The printed verdict on convergence (one line)."""
    if all(flag is not False for flag in converged):
        return "converged: yes (R-hat <= 1.01, no divergences, bulk ESS >= 400)"
    return (
        f"converged: NO: results written but not trustworthy (exit status {NOT_CONVERGED}); "
        "see the warnings"
    )


def unconverged_line(labels: list[str], kind: str) -> str:
    """The convergence verdict of a command that fits several times, naming each fit
    that did not converge (``kind`` and label, e.g. ``cut 50000``; the label
    ``all-data fit`` stands alone)."""
    line = convergence_line(not labels)
    named = [label if label == "all-data fit" else f"{kind} {label}" for label in labels]
    return f"{line} (not converged: {', '.join(named)})" if labels else line


def add_data_options(
    parser: argparse.ArgumentParser, *, inputs: bool = True, required: bool = True
) -> None:
    """DATA plus the column options of the curve laws (optional when ``required=False``,
    for commands that can also read a saved fit)."""
    parser.add_argument(
        "data",
        nargs=None if required else "?",
        help="CSV, TSV or Parquet file (one row per evaluation, one column per run, or a W&B "
        "export), or a folder (TensorBoard logs, an MLflow mlruns/ store, W&B run histories); "
        "see docs/reading_curves.md",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="how DATA is laid out (default: detected from the file or folder)",
    )
    parser.add_argument(
        "--law",
        default="sigmoid",
        help=f"scaling law: {', '.join(available_laws())} (default: sigmoid)",
    )
    if inputs:
        parser.add_argument(
            "--x", help="input column: compute, GPU-hours, parameters, ... ('step' for trackers)"
        )
        parser.add_argument(
            "--compute-per-step",
            metavar="FACTOR_OR_COLUMN",
            help="--x counts steps: multiply it by this factor (or column) to get compute",
        )
    parser.add_argument(
        "--y",
        nargs="+",
        required=required,
        metavar="Y",
        help="metric column or tracker metric (e.g. eval/pass_rate); several columns or a "
        "pattern ('seed*') read a wide table, one column per run",
    )
    parser.add_argument("--run", help="column naming the run (seed); trackers name their runs")
    parser.add_argument(
        "--trials",
        help="number of evaluation prompts: a column name or one whole number for all rows",
    )
    parser.add_argument("--min-x", type=float, help="exclude rows with x below this")
    parser.add_argument("--max-x", type=float, help="exclude rows with x above this")
    parser.add_argument(
        "--repeats",
        choices=["error", "independent", "mean", "best"],
        default="error",
        help="rows repeating a (run, x) point: refuse (default), keep as independent, "
        "average, or keep the best (highest rate, lowest loss)",
    )
    parser.add_argument(
        "--drop-highest",
        type=int,
        default=0,
        metavar="K",
        help="drop the K rows with the highest metric (e.g. 5 for the Chinchilla data)",
    )


def add_size_options(parser: argparse.ArgumentParser) -> None:
    """--n and --d (or --compute): the input columns of laws of parameters and tokens."""
    parser.add_argument("--n", help="parameters column, for two-input laws (chinchilla)")
    tokens = parser.add_mutually_exclusive_group()
    tokens.add_argument("--d", help="tokens column, for two-input laws (chinchilla)")
    tokens.add_argument(
        "--compute", help="training FLOP column, with --n: tokens are compute / (6 n)"
    )


def add_recipe_option(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """--recipe: the column naming the recipe of each run (``default``: the column
    that commands comparing recipes read when none is given)."""
    suffix = f" (default: {default})" if default else ""
    parser.add_argument(
        "--recipe",
        default=default,
        help=f"column naming the recipe (runs are nested in recipes){suffix}",
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Likelihood, hierarchy and prior options."""
    parser.add_argument(
        "--likelihood",
        default="auto",
        help=f"observation model: auto, {', '.join(available_likelihoods())}",
    )
    parser.add_argument(
        "--vary",
        nargs="+",
        default=["auto"],
        metavar="PARAM",
        help="law parameters that vary by run (default: auto; 'none' pools runs fully)",
    )
    parser.add_argument(
        "--prior",
        action="append",
        default=[],
        metavar='NAME="Dist(arg=v, ...)"',
        help="override a prior, e.g. --prior 'A=Beta(alpha=2, beta=2)'",
    )


def add_sampler_options(parser: argparse.ArgumentParser) -> None:
    """NUTS options and the credible mass."""
    parser.add_argument("--ci", type=float, default=DEFAULT_CI, help="credible mass (default 0.89)")
    parser.add_argument(
        "--draws",
        type=int,
        default=SamplerSettings.draws,
        help=f"draws per chain (default {SamplerSettings.draws})",
    )
    parser.add_argument(
        "--tune",
        type=int,
        default=SamplerSettings.tune,
        help=f"tuning steps per chain (default {SamplerSettings.tune})",
    )
    parser.add_argument(
        "--chains",
        type=int,
        default=SamplerSettings.chains,
        help=f"number of chains (default {SamplerSettings.chains})",
    )
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument(
        "--target-accept",
        type=float,
        help="NUTS target acceptance (default: 0.95 for the drift model, 0.9 otherwise)",
    )


def add_output_options(parser: argparse.ArgumentParser, *, progress: bool = False) -> None:
    """--out and --overwrite; with ``progress``, --quiet for a command that shows a
    progress bar on a terminal."""
    parser.add_argument(
        "--out",
        required=True,
        help="folder for the outputs: taken by this command while it runs; they appear "
        "all at once when it succeeds, and a failure or Ctrl-C leaves nothing",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace outputs that already exist in --out"
    )
    if progress:
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="no progress bar (it is only ever shown on a terminal, on stderr)",
        )


def parse_priors(items: Iterable[str]) -> dict[str, str]:
    """``NAME=Dist(...)`` strings -> {name: text}, each parsed and checked.

    Raises
    ------
    CommandError
        On a malformed item, or a parameter given twice.
    """
    priors: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise CommandError(
                f"--prior {item!r}: name the parameter first, as NAME='Dist(arg=value, ...)', "
                "e.g. --prior 'A=Beta(alpha=2, beta=2)'"
            )
        if name in priors:
            raise CommandError(f"--prior {name} is given twice; give each parameter once")
        try:
            parse_prior(text)
        except ValueError as err:
            raise CommandError(f"--prior {name}: {err}") from None
        priors[name] = text
    return priors


def parse_trials(value: str | None) -> str | int | float | None:
    """A number (``1000``, ``1e3``), or else a column name."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number) or not number.is_integer():
        raise CommandError(f"--trials {value}: must be a whole number of prompts or a column name")
    return int(number) if abs(number) < 2**53 else number  # exact, or shown as given


def parse_number_or_column(value: str | None) -> float | str | None:
    """A number, or else a column name."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def sampler_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Sampler settings from parsed options, checked."""
    for name in ("draws", "tune", "chains"):
        if getattr(args, name) < 1:
            raise CommandError(f"--{name} must be at least 1")
    for name in ("ci", "target_accept"):
        value = getattr(args, name)
        if value is not None and not 0 < value < 1:
            option = "--" + name.replace("_", "-")
            raise CommandError(f"{option} must lie strictly between 0 and 1, got {value}")
    try:
        check_seed(args.seed)
    except ValueError as err:
        raise CommandError(f"--{err}") from None
    return {
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "seed": args.seed,
        "target_accept": args.target_accept,
    }


def column_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """How to read the data: the column options and ``repeats``/``drop_highest``."""
    return {
        "x": args.x,
        "y": args.y[0] if args.y is not None and len(args.y) == 1 else args.y,
        "format": getattr(args, "format", "auto"),
        "compute_per_step": parse_number_or_column(getattr(args, "compute_per_step", None)),
        "run": args.run,
        "recipe": getattr(args, "recipe", None),
        "n": getattr(args, "n", None),
        "d": getattr(args, "d", None),
        "compute": getattr(args, "compute", None),
        "trials": parse_trials(args.trials),
        "repeats": getattr(args, "repeats", "error"),
        "drop_highest": getattr(args, "drop_highest", 0),
    }


def fit_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """How to fit: the model options and the sampler settings."""
    return {
        "likelihood": args.likelihood,
        "varying": args.vary[0] if args.vary == ["auto"] else args.vary,
        "priors": parse_priors(args.prior),
        **sampler_kwargs(args),
    }


def curves_from_args(
    args: argparse.Namespace, law: Law, *, min_x: float | None = None
) -> CurveData:
    """The data read once for ``law`` inside ``--min-x`` (or ``min_x``) and ``--max-x``:
    the window applies before validation, so rows at x = 0 below it are excluded, not refused."""
    low = args.min_x if min_x is None else min_x
    return curves_for_law(
        args.data, law, min_x=low, max_x=args.max_x, min_points=1, **column_kwargs(args)
    )


def check_numbers(option: str, values: Iterable[float] | float | None, *, positive: bool) -> None:
    """Refuse values of ``option`` that are not finite (or not > 0 with ``positive``)."""
    if values is None:
        return
    for value in [values] if isinstance(values, (int, float)) else values:
        if not math.isfinite(value) or (positive and value <= 0):
            need = "a finite number > 0" if positive else "a finite number"
            raise CommandError(f"{option} {value:g}: must be {need}")


def check_metric_value(option: str, value: float | None, law: Law) -> None:
    """Refuse a metric value (a start value, an asymptote) outside [0, 1] for a law
    of pass rates (``law.bounded``), or not finite."""
    check_numbers(option, value, positive=False)
    if value is not None and law.bounded and not 0 <= value <= 1:
        raise CommandError(f"{option} {value:g}: a pass rate lies in [0, 1] (law {law.name!r})")


def check_law(option: str, name: str) -> Law:
    """The law called ``name``, or a one-line error naming ``option``."""
    try:
        return get_law(name)
    except ValueError as err:
        raise CommandError(f"{option}: {err}") from None


def check_window(args: argparse.Namespace) -> None:
    """--min-x and --max-x finite, and the window not empty."""
    check_numbers("--min-x", args.min_x, positive=False)
    check_numbers("--max-x", args.max_x, positive=False)
    if args.min_x is not None and args.max_x is not None and args.min_x > args.max_x:
        raise CommandError(f"--min-x {args.min_x:g} is above --max-x {args.max_x:g}")


def check_fit(
    where: str, args: argparse.Namespace, curves: CurveData, law: str, **window: Any
) -> None:
    """Check one fit a command will make of ``curves`` (window, priors, options, seed)
    without sampling; a refusal names ``where`` (e.g. ``--cut 20000``)."""
    try:
        fit(curves, law, **fit_kwargs(args), **window, check_only=True)
    except ValueError as err:
        raise CommandError(f"{where}: {err}") from None


def output_folder(args: argparse.Namespace, names: Iterable[str]) -> OutputFolder:
    """The command's ``--out`` folder, checked now (type, existing outputs).

    Use it as a context manager around the expensive work: entering creates
    the folder and takes it exclusively; leaving without an error renames the
    staged outputs into place; leaving with one (or an interrupt) removes them
    and any folder the run created.
    """
    if not args.out.strip():
        raise CommandError("--out is empty; name a folder ('--out .' for the current one)")
    folder = OutputFolder(args.out, names, overwrite=args.overwrite)
    folder.check_existing()
    return folder


def stage_json(out: OutputFolder, name: str, payload: dict[str, Any]) -> Path:
    """Stage ``payload`` as indented JSON output ``name``."""
    return out.stage_text(name, json.dumps(clean_json(payload), indent=2) + "\n")


def file_names(out: OutputFolder) -> dict[str, str]:
    """Output name -> path, for the ``files`` key of the JSON outputs."""
    return {name: str(path) for name, path in out.paths.items()}


def clean_json(value: Any) -> Any:
    """Make ``value`` JSON-safe: NumPy scalars to Python, NaN/inf to ``None``."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean_json(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-safe dicts."""
    return clean_json(frame.to_dict(orient="records"))


def format_table(frame: pd.DataFrame) -> str:
    """A readable fixed-width table with 4 significant digits."""
    return frame.to_string(float_format=lambda v: f"{v:.4g}")
