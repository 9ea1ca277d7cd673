"""Decide between recipes: is a difference beyond the region of practical equivalence?

:func:`compare` fits the multi-recipe model (or takes a fitted one) and, for every
pair of recipes (or every recipe against a baseline), reports the posterior of the
difference of one quantity, the probabilities that it lies above, inside or below
a region of practical equivalence (ROPE), and one decision word. Next to it, the
ScaleRL least-squares procedure (:mod:`bayescale.baselines.least_squares`) is run on every
seed, so point estimates and credible intervals are seen together.

The decision rule (Kruschke's interval-and-ROPE rule)
----------------------------------------------------
With ``Delta = value(a) - value(b)``, its equal-tailed credible interval
``[lower, upper]`` of mass ``ci`` and the ROPE ``[-rope, +rope]``:

- ``higher``: the interval lies entirely above ``+rope`` (``lower > rope``);
- ``lower``: the interval lies entirely below ``-rope`` (``upper < -rope``);
- ``equivalent``: the interval lies entirely inside ``[-rope, +rope]``;
- ``undecided``: anything else (the interval overlaps a ROPE edge).

Compared quantities and their default ROPEs (:func:`default_rope`: the law's
``ropes``, and :data:`COMPUTE_ROPE`):

- ``"A"`` (asymptote), ROPE 0.02: ScaleRL's three seeds of one recipe spread over
  about +/-0.015 in A, so the paper treats differences below 0.02 as noise.
- ``"B"`` (efficiency exponent), ROPE 0.1: our choice (about 5 % of a typical
  B of 2); the paper gives no margin for B.
- ``"compute"``: the compute needed to reach ``target``, compared as the log ratio
  ``log(C_a / C_b)`` (positive: ``a`` needs more compute, so ``higher`` is worse),
  ROPE ``log(1.1)``, i.e. "within 10 %". A posterior draw in which a recipe never
  reaches the target counts as infinite compute; draws in which neither recipe
  reaches it leave the ratio undefined and are dropped (``p_defined`` is the share
  kept).

Any other parameter of the law that has a value per recipe can be compared too,
with an explicit ``rope``.

Examples
--------
>>> import bayescale as bs
>>> cmp = bs.compare_recipes(bs.example_path("recipes"), recipe="recipe", x="gpu_hours", y="pass_rate",
...                  run="seed", baseline="baseline", min_x=1500)  # doctest: +SKIP
>>> cmp.pairs[["a", "b", "mean", "lower", "upper", "decision"]]  # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.baselines.least_squares import (
    DEFAULT_C_MID_GRID,
    grids_for,
    least_squares_by_run,
    least_squares_summary,
)
from bayescale.data.curves import CurveData, run_label
from bayescale.inference.fitting import LOAD_OPTIONS, curves_for_law
from bayescale.inference.fitting import fit as fit_model
from bayescale.model.laws import SIGMOID, Law, get_law
from bayescale.results.display import result_table
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import DEFAULT_CI, check_ci, eti

COMPUTE_ROPE = math.log(1.1)
"""Default ROPE of the log compute ratio to reach a target: "within 10 %"."""


def default_rope(law: Law, parameter: str) -> float | None:
    """The default ROPE half-width for comparing ``parameter`` (``None``: the law has none).

    Examples
    --------
    >>> default_rope(SIGMOID, "A"), default_rope(SIGMOID, "C_mid")
    (0.02, None)
    """
    if parameter == "compute":
        return COMPUTE_ROPE
    return law.ropes.get(parameter)


DECISIONS = ("higher", "lower", "equivalent", "undecided")
"""The decision words, for Delta = value(a) - value(b)."""

DECISION_RULE = (
    "Delta = a - b (log(C_a / C_b) for compute); higher: interval above +rope; "
    "lower: interval below -rope; equivalent: interval inside [-rope, +rope]; "
    "undecided: otherwise"
)

PAIR_COLUMNS = [
    "a",
    "b",
    "mean",
    "median",
    "lower",
    "upper",
    "p_greater",
    "p_equivalent",
    "p_less",
    "p_defined",
    "decision",
    "ls_difference",
    "ls_decision",
]


#: Columns of ``pairs`` and ``recipes`` displayed first: the decision and the interval.
PAIRS_SHOWN = (
    "a",
    "b",
    "decision",
    "mean",
    "lower",
    "upper",
    "p_greater",
    "p_equivalent",
    "p_less",
)
RECIPES_SHOWN = ("mean", "lower", "upper", "n_seeds", "ls_mean")
#: The fields of a :class:`Comparison` that say what was decided and how.
DECISION_SETTINGS = ("parameter", "rope", "ci", "target", "baseline")


@dataclass
class Comparison:
    """Recipe comparison: Bayesian decisions with the least-squares procedure beside them.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per pair (``a``, ``b``), Delta = value(a) - value(b): posterior
        ``mean``, ``median``, ``lower``/``upper`` (equal-tailed ``ci`` interval),
        ``p_greater`` = P(Delta > rope), ``p_equivalent`` = P(abs(Delta) <= rope),
        ``p_less`` = P(Delta < -rope), ``p_defined`` (share of draws where Delta is
        defined; below 1 only for ``compute``), ``decision``; and the least-squares
        side: ``ls_difference`` (difference of the seed means of the per-seed fits)
        and ``ls_decision`` (the paper's point rule: beyond +/-rope or not).
    recipes : pandas.DataFrame
        One row per recipe: the compared quantity's posterior ``mean``, ``median``,
        ``lower``, ``upper`` and the least-squares seed ``ls_mean``, ``ls_sd`` and
        ``ls_half_range`` over ``n_seeds`` seeds.
    least_squares : pandas.DataFrame
        Per-seed least-squares fits (columns of
        :func:`bayescale.baselines.least_squares.least_squares_by_run` plus ``recipe``);
        empty when the law is not the sigmoid.
    fit : Fit
        The multi-recipe Bayesian fit.
    parameter : str
        Compared quantity: a law parameter or ``"compute"``.
    rope, ci : float
        ROPE half-width and credible mass.
    target : float or None
        Metric value of the ``compute`` comparison.
    baseline : str or None
        Recipe every other one was compared against (``None``: all pairs).
    notes : list of str
        What the user should know (e.g. how R0 was set for least squares).
    least_squares_options : dict
        ``least_squares_window``, ``min_x`` and ``r0`` of :func:`compare_fit`:
        with the fields above, what remakes the tables from ``fit``.

    Examples
    --------
    >>> cmp = compare_recipes(fit, parameter="B")  # doctest: +SKIP
    >>> cmp.to_dict()["pairs"][0]["decision"]  # doctest: +SKIP
    'undecided'
    >>> same = bs.load(cmp.save("cmp.nc"))  # doctest: +SKIP
    """

    pairs: pd.DataFrame
    recipes: pd.DataFrame
    least_squares: pd.DataFrame
    fit: Fit
    parameter: str
    rope: float
    ci: float
    target: float | None = None
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)
    least_squares_options: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        """The options of :func:`compare_fit` that remake this comparison from ``fit``."""
        return {name: getattr(self, name) for name in DECISION_SETTINGS} | dict(
            self.least_squares_options
        )

    def summary(self, ci: float | None = None) -> pd.DataFrame:
        """The ``pairs`` table; at another credible mass ``ci``, recomputed from ``fit``."""
        if ci is None or ci == self.ci:
            return self.pairs
        return compare_fit(self.fit, **(self.settings() | {"ci": ci})).pairs

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fit and :meth:`settings` to netCDF, atomically (see
        :func:`bayescale.analysis.comparison_file.save_comparison`); ``bs.load``
        reads it back as an equal comparison."""
        from bayescale.analysis.comparison_file import save_comparison

        return save_comparison(self, path, overwrite=overwrite)

    def plot(self) -> Any:
        """The posterior of each difference with the ROPE and the decision, one
        panel a pair (a matplotlib ``Figure``, as in the report)."""
        from bayescale.reporting.report import difference_figure

        return difference_figure(self)

    def least_squares_report(self) -> dict[str, dict[str, Any]]:
        """Recipe -> per-seed estimates and their mean and spread (the JSON ``least_squares``)."""
        out = {}
        for recipe, seeds in self.least_squares.groupby("recipe", sort=False):
            runs = seeds.drop(columns="recipe").to_dict(orient="records")
            out[str(recipe)] = {"seeds": runs, **least_squares_summary(seeds)}
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the ``compare.json`` contract).

        Returns
        -------
        dict
            ``parameter``, ``rope``, ``ci``, ``target``, ``baseline``,
            ``decision_rule``, ``pairs`` (list of {a, b, mean, lower, upper,
            p_greater, p_equivalent, p_less, decision, ...}), ``recipes``,
            ``least_squares`` (recipe -> {seeds, n_runs, A, B, C_mid, ...}),
            ``diagnostics`` and ``notes``.
        """
        return {name: getattr(self, name) for name in DECISION_SETTINGS} | {
            "decision_rule": DECISION_RULE,
            "pairs": self.pairs.to_dict(orient="records"),
            "recipes": self.recipes.reset_index().to_dict(orient="records"),
            "least_squares": self.least_squares_report(),
            "diagnostics": self.fit.diagnostics.to_dict(),
            "notes": list(self.notes),
        }

    def __post_init__(self) -> None:
        self.pairs = result_table(self.pairs, PAIRS_SHOWN)
        self.recipes = result_table(self.recipes, RECIPES_SHOWN)

    def __repr__(self) -> str:
        words = ", ".join(f"{r.a} vs {r.b}: {r.decision}" for r in self.pairs.itertuples())
        return (
            f"<bayescale.Comparison of {self.parameter}, ROPE +/-{self.rope:g}, "
            f"{self.ci:.0%} interval: {words}>\n{self.pairs!r}"
        )

    def _repr_html_(self) -> str:
        pairs = self.pairs._repr_html_()
        recipes = self.recipes._repr_html_()
        notes = "".join(
            f"<li>{html.escape(n)}</li>" for n in self.notes + self.fit.diagnostics.warnings
        )
        return (
            f"<div><b>bayescale comparison</b> of {html.escape(self.parameter)}, "
            f"ROPE +/-{self.rope:g}, {self.ci:.0%} interval<br>{html.escape(DECISION_RULE)}"
            f"<ul>{notes}</ul>{pairs}<br>{recipes}</div>"
        )


def compare_recipes(
    data: pd.DataFrame | str | Path | CurveData | Fit,
    *,
    recipe: str | None = None,
    x: str | None = None,
    y: str | None = None,
    run: str | None = None,
    parameter: str = "A",
    rope: float | None = None,
    baseline: str | None = None,
    target: float | None = None,
    ci: float = DEFAULT_CI,
    r0: float | None = None,
    check_only: bool = False,
    **fit_options: Any,
) -> Comparison | None:
    """Compare recipes on one quantity with the interval-and-ROPE rule.

    Parameters
    ----------
    data : DataFrame, path, CurveData or Fit
        A table with one row per evaluation, or curves loaded with their recipe
        column by :func:`bayescale.load_curves` (then the multi-recipe model is fitted
        with ``fit_options``), or an existing :class:`~bayescale.results.fit_result.Fit` with
        several recipes.
    recipe : str, optional
        Column naming the recipe (tables only; default ``"recipe"``).
    x, y, run : str
        Columns of compute, metric and seed (tables only).
    parameter : str
        ``"A"``, ``"B"``, another law parameter with a value per recipe, or
        ``"compute"`` (compute to reach ``target``, compared as a log ratio).
    rope : float, optional
        Half-width of the region of practical equivalence; default from
        :func:`default_rope` (0.02 for A, 0.1 for B, log(1.1) for compute).
    baseline : str, optional
        Compare every other recipe against this one (Delta = recipe - baseline);
        by default every pair in recipe order (Delta = earlier - later).
    target : float, optional
        Metric value to reach; required for ``parameter="compute"``.
    ci : float
        Credible mass of the equal-tailed interval the rule uses (default 0.89).
    r0 : float, optional
        Starting pass rate for the least-squares procedure (not fitted there). By
        default each seed's first evaluation, taken before ``min_x`` excludes early
        compute (for a Fit: its first fitted evaluation).
    check_only : bool
        Check the data, the comparison and the fit options (priors, sampler
        settings) without sampling, and return ``None``.
    **fit_options
        Passed to :func:`bayescale.fit` (``law``, ``min_x``, ``max_x``,
        ``likelihood``, ``shared``, ``priors``, ``draws``, ``tune``, ``chains``,
        ``seed``, ...). ``min_x`` also excludes early compute from the
        least-squares fits, as the paper did. Not allowed with a Fit.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        If there are fewer than two recipes, the baseline is not a recipe, the
        parameter is unknown, shared by all recipes or needs a ``target``, or
        ``rope``/``ci`` are out of range.
    bayescale.DataError
        On bad input data (naming the file, column and rows).

    Notes
    -----
    The decision rule is the module's (Kruschke): ``higher`` if the whole interval
    of Delta lies above +rope, ``lower`` if below -rope, ``equivalent`` if inside
    [-rope, +rope], else ``undecided``. In 200 simulated ScaleRL-like data sets
    (``benchmarks/compare_study.py``, :mod:`bayescale.studies.decision_rates`) with a true
    difference of 0 it said higher or lower in none (three seeds each, and one seed
    against three), and with a true difference of 0.05 and three seeds each it said
    higher in 77 %.

    Examples
    --------
    >>> import bayescale as bs
    >>> cmp = bs.compare_recipes(bs.example_path("recipes"), recipe="recipe", x="gpu_hours",
    ...                  y="pass_rate", run="seed", baseline="baseline",
    ...                  min_x=1500, seed=1)  # doctest: +SKIP
    >>> cmp.pairs.set_index("a")["decision"].to_dict()  # doctest: +SKIP
    {'baseline_repeat': 'undecided', 'better': 'higher', 'single_seed': 'undecided'}
    >>> bs.compare_recipes(cmp.fit, parameter="compute", target=0.58).pairs  # doctest: +SKIP
    """
    options = {"parameter": parameter, "rope": rope, "baseline": baseline, "target": target}
    if isinstance(data, Fit):
        if fit_options:
            raise ValueError(f"{', '.join(fit_options)}: fit options apply to a table, not a Fit")
        return None if check_only else compare_fit(data, ci=ci, r0=r0, **options)
    law = get_law(fit_options.pop("law", "sigmoid"))
    min_x = fit_options.pop("min_x", None)
    load = {key: fit_options.pop(key) for key in LOAD_OPTIONS if key in fit_options}
    if not isinstance(data, CurveData):
        load |= {"x": x, "y": y, "run": run, "recipe": recipe or "recipe"}
    elif recipe is not None or x is not None or y is not None or run is not None:
        raise ValueError(f"{data.source}: the columns were named when the data were loaded")
    # one read: the least-squares procedure takes early compute (it applies min_x
    # itself, after reading R0), the Bayesian fit the same rows windowed by min_x
    curves = curves_for_law(data, law, max_x=fit_options.pop("max_x", None), min_points=1, **load)
    check_options(curves.recipes, law.name, ci=ci, **options)
    if check_only:
        fit_model(curves, law, min_x=min_x, check_only=True, **fit_options)
        return None
    fitted = fit_model(curves, law, min_x=min_x, **fit_options)
    window = curves.bounds if law is SIGMOID else None
    return compare_fit(fitted, ci=ci, least_squares_window=window, min_x=min_x, r0=r0, **options)


def compare_fit(
    fit: Fit,
    *,
    parameter: str = "A",
    rope: float | None = None,
    baseline: str | None = None,
    target: float | None = None,
    ci: float = DEFAULT_CI,
    least_squares_window: tuple[float | None, float | None] | None = None,
    min_x: float | None = None,
    r0: float | None = None,
) -> Comparison:
    """Compare the recipes of a fitted multi-recipe model (the layer under :func:`compare`).

    Parameters
    ----------
    fit : Fit
        A fit with several recipes.
    parameter, rope, baseline, target, ci, r0
        As in :func:`compare`.
    least_squares_window : (float or None, float or None), optional
        The compute window ``(min_x, max_x)`` of the rows the least-squares
        procedure reads, from all the fit's rows, those its window excluded
        too: the window the data were loaded with, before the fit's ``min_x``
        excluded early compute (so R0 can be read from each seed's first
        evaluation). Default: the fit's own rows, already without those its
        ``min_x`` excluded, so the default R0 is then each seed's first
        *fitted* evaluation (a note says so); pass ``r0`` to set it.
    min_x : float, optional
        Early compute excluded from the least-squares fits.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> cmp = compare_fit(fit, parameter="compute", target=0.58)  # doctest: +SKIP
    """
    law = fit.law
    rope = check_options(
        fit.recipes, law.name, parameter, rope, baseline, target, ci, fit.spec.shared
    )
    notes = list(fit.data.notes)
    if law is not SIGMOID:
        per_seed = pd.DataFrame(columns=["recipe", "run", "A", "B", "C_mid"])
        notes.append(f"no least-squares procedure for law {law.name!r}")
    else:
        source = (
            fit.data if least_squares_window is None else rows_in(fit.data, least_squares_window)
        )
        if least_squares_window is None and r0 is None:
            notes.append("least squares: R0 is each seed's first fitted evaluation (pass r0=)")
        grids, grid_note = _least_squares_grids(source, min_x)
        notes.append(grid_note)
        per_seed = least_squares_by_recipe(source.frame, min_x=min_x, r0=r0, **grids)
        notes += _grid_edge_notes(per_seed)
    draws = recipe_draws(fit, parameter, target)
    ls_table = _least_squares_table(
        per_seed, least_squares_seed_values(per_seed, parameter, target)
    )
    edge = _recipes_at_grid_edge(per_seed)
    pairs = pd.DataFrame(
        [
            {
                "a": a,
                "b": b,
                **difference_summary(_subtract(draws[a], draws[b]), rope, ci),
                **_least_squares_pair(ls_table, a, b, rope, at_edge=bool({a, b} & edge)),
            }
            for a, b in recipe_pairs(fit.recipes, baseline)
        ],
        columns=PAIR_COLUMNS,
    )
    return Comparison(
        pairs=pairs,
        recipes=_recipe_table(draws, per_seed, ls_table, ci),
        least_squares=per_seed,
        fit=fit,
        parameter=parameter,
        rope=rope,
        ci=ci,
        target=target,
        baseline=baseline,
        notes=notes,
        least_squares_options={
            "least_squares_window": None
            if least_squares_window is None
            else list(least_squares_window),
            "min_x": min_x,
            "r0": r0,
        },
    )


def rows_in(data: CurveData, window: tuple[float | None, float | None]) -> CurveData:
    """All the rows of ``data`` inside the compute ``window``, those its own window
    excluded too (``None``: that end is open).

    Examples
    --------
    >>> import pandas as pd
    >>> from bayescale.data.curves import load_curves
    >>> df = pd.DataFrame({"c": [1.0, 2, 3, 4, 5, 6], "r": [.1, .2, .3, .35, .4, .42]})
    >>> len(rows_in(load_curves(df, x="c", y="r", min_x=3, min_points=3), (None, 5)))
    5
    """
    rows = data.all_rows
    low, high = (
        (-np.inf if window[0] is None else window[0]),
        (np.inf if window[1] is None else window[1]),
    )
    return CurveData(
        frame=rows[rows["x"].between(low, high)], columns=data.columns, source=data.source
    )


def check_options(
    recipes: list[str],
    law: str,
    parameter: str = "A",
    rope: float | None = None,
    baseline: str | None = None,
    target: float | None = None,
    ci: float = DEFAULT_CI,
    shared: tuple[str, ...] = (),
) -> float:
    """Check the comparison options before any sampling; returns the ROPE half-width.

    Raises
    ------
    ValueError
        With a one-line message for the first problem.

    Examples
    --------
    >>> check_options(["x", "y"], "sigmoid", "B")
    0.1
    >>> check_options(["x", "y"], "sigmoid", "A", baseline="z")
    Traceback (most recent call last):
    ...
    ValueError: baseline 'z' is not a recipe; the recipes are: x, y
    """
    check_ci(ci)
    if len(recipes) < 2:
        raise ValueError(f"need at least two recipes to compare, got {', '.join(recipes)}")
    if baseline is not None and baseline not in recipes:
        raise ValueError(
            f"baseline {baseline!r} is not a recipe; the recipes are: {', '.join(recipes)}"
        )
    law_obj = get_law(law)
    if parameter == "compute":
        if law_obj.inverse is None:
            raise ValueError(f"law {law!r} has no compute-to-target inverse")
        if target is None:
            raise ValueError("parameter 'compute' needs a target metric value to reach")
    elif parameter not in law_obj.parameters:
        raise ValueError(
            f"parameter {parameter!r} is not one of {', '.join(law_obj.parameters)} or 'compute'"
        )
    elif parameter in shared:
        raise ValueError(f"parameter {parameter!r} is shared by all recipes in this fit")
    if rope is None:
        rope = default_rope(law_obj, parameter)
        if rope is None:
            raise ValueError(f"give a rope for parameter {parameter!r} (no default ROPE)")
        return rope
    if not (np.isfinite(rope) and rope >= 0):
        raise ValueError(f"rope must be a finite number >= 0, got {rope!r}")
    return float(rope)


def rope_decision(lower: float, upper: float, rope: float) -> str:
    """The interval-and-ROPE decision word for an interval of Delta.

    Examples
    --------
    >>> rope_decision(0.03, 0.08, 0.02), rope_decision(-0.01, 0.015, 0.02)
    ('higher', 'equivalent')
    >>> rope_decision(-0.09, -0.03, 0.02), rope_decision(0.0, 0.05, 0.02)
    ('lower', 'undecided')
    """
    if lower > rope:
        return "higher"
    if upper < -rope:
        return "lower"
    if lower >= -rope and upper <= rope:
        return "equivalent"
    return "undecided"


def difference_summary(delta: np.ndarray, rope: float, ci: float) -> dict[str, Any]:
    """Posterior summary and decision for draws of a difference.

    Non-finite draws are allowed (infinite compute); NaN draws are undefined and
    dropped, ``p_defined`` being the share kept.

    Parameters
    ----------
    delta : numpy.ndarray
        Posterior draws of Delta (any shape).
    rope, ci : float
        ROPE half-width and credible mass.

    Returns
    -------
    dict
        ``mean``, ``median``, ``lower``, ``upper``, ``p_greater``,
        ``p_equivalent``, ``p_less``, ``p_defined``, ``decision``.

    Examples
    --------
    >>> delta = np.random.default_rng(0).normal(0.05, 0.01, 4000)
    >>> out = difference_summary(delta, 0.02, 0.89)
    >>> out["decision"], round(out["p_greater"], 3)
    ('higher', 0.999)
    """
    values = np.asarray(delta, dtype=float).ravel()
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        nan = float("nan")
        stats = dict.fromkeys(("mean", "median", "lower", "upper", "p_greater"), nan)
        return {
            **stats,
            "p_equivalent": nan,
            "p_less": nan,
            "p_defined": 0.0,
            "decision": "undecided",
        }
    method = "linear" if np.isfinite(defined).all() else "inverted_cdf"
    lower, upper = eti(defined, ci, method=method)
    median = np.quantile(defined, 0.5, method=method)
    return {
        "mean": float(_mean(defined)),
        "median": float(median),
        "lower": float(lower),
        "upper": float(upper),
        "p_greater": float(np.mean(defined > rope)),
        "p_equivalent": float(np.mean(np.abs(defined) <= rope)),
        "p_less": float(np.mean(defined < -rope)),
        "p_defined": defined.size / values.size,
        "decision": rope_decision(float(lower), float(upper), rope),
    }


def recipe_pairs(recipes: list[str], baseline: str | None) -> list[tuple[str, str]]:
    """Pairs (a, b) to compare: each recipe against ``baseline``, or all pairs in order.

    Examples
    --------
    >>> recipe_pairs(["x", "y", "z"], None)
    [('x', 'y'), ('x', 'z'), ('y', 'z')]
    >>> recipe_pairs(["x", "y", "z"], "y")
    [('x', 'y'), ('z', 'y')]
    """
    if baseline is not None:
        return [(recipe, baseline) for recipe in recipes if recipe != baseline]
    return [(a, b) for i, a in enumerate(recipes) for b in recipes[i + 1 :]]


def recipe_draws(fit: Fit, parameter: str, target: float | None = None) -> dict[str, np.ndarray]:
    """Flat posterior draws of the compared quantity for every recipe.

    Parameters
    ----------
    fit : Fit
    parameter : str
        A law parameter (recipe level) or ``"compute"``: the log of the compute
        needed to reach ``target``, ``+inf`` in draws where it is never reached.
    target : float, optional
        For ``"compute"``.

    Returns
    -------
    dict of str to numpy.ndarray
        Recipe -> draws (chains stacked), aligned across recipes.
    """
    out = {}
    for recipe in fit.recipes:
        params = {k: v.to_numpy().ravel() for k, v in fit.parameter_draws(recipe=recipe).items()}
        if parameter == "compute":
            compute, reachable = fit.law.inverse(params, target)
            out[recipe] = np.where(reachable, np.log(np.where(reachable, compute, 1.0)), np.inf)
        else:
            out[recipe] = params[parameter]
    return out


def least_squares_by_recipe(
    frame: pd.DataFrame,
    *,
    min_x: float | None = None,
    r0: float | None = None,
    **grids: Any,
) -> pd.DataFrame:
    """The ScaleRL least-squares procedure on every seed of every recipe.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical curve data (columns ``recipe``, ``run``, ``x``, ``y``), e.g.
        ``CurveData.frame``.
    min_x : float, optional
        Early compute excluded from the fits (R0 is read before the exclusion).
    r0 : float, optional
        Starting pass rate; default each seed's first evaluation.
    **grids
        ``a_grid``, ``c_mid_grid`` (see :func:`bayescale.baselines.least_squares.grids_for`).

    Returns
    -------
    pandas.DataFrame
        Columns ``recipe`` and those of
        :func:`bayescale.baselines.least_squares.least_squares_by_run`.

    Examples
    --------
    >>> import bayescale as bs
    >>> from bayescale.data.curves import CurveData, load_curves
    >>> curves = load_curves(bs.example_path("recipes"), x="gpu_hours", y="pass_rate",
    ...                      run="seed", recipe="recipe")
    >>> least_squares_by_recipe(curves.frame, min_x=1500).groupby("recipe").size().to_dict()
    {'baseline': 3, 'baseline_repeat': 3, 'better': 3, 'single_seed': 1}
    """
    frames = [
        least_squares_by_run(group, x="x", y="y", run="run", r0=r0, min_x=min_x, **grids).assign(
            recipe=recipe
        )
        for recipe, group in frame.groupby("recipe", sort=False)
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[["recipe", *table.columns.drop("recipe")]]


def least_squares_seed_values(
    per_seed: pd.DataFrame, parameter: str, target: float | None = None
) -> pd.Series | None:
    """Each seed's least-squares value of the compared quantity (``None`` if not fitted).

    For ``"compute"``: the log compute at which the seed's fitted curve reaches
    ``target`` (``inf`` if it never does). R0 is given to the procedure, not fitted.
    """
    if parameter == "compute":
        params = {name: per_seed[name].to_numpy(float) for name in SIGMOID.parameters}
        compute, reachable = SIGMOID.inverse(params, target)
        values = np.where(reachable, np.log(np.where(reachable, compute, 1.0)), np.inf)
        return pd.Series(values, index=per_seed.index)
    if parameter in ("A", "B", "C_mid") and parameter in per_seed:
        return per_seed[parameter].astype(float)
    return None


def _subtract(a: Any, b: Any) -> Any:
    """``a - b`` where infinite compute on both sides gives NaN (undefined) quietly."""
    with np.errstate(invalid="ignore"):
        return np.subtract(a, b)


def _mean(values: np.ndarray) -> float:
    """Mean that is NaN, without a warning, when draws hold both +inf and -inf."""
    with np.errstate(invalid="ignore"):
        return float(values.mean())


def _least_squares_pair(
    values: pd.DataFrame, a: str, b: str, rope: float, at_edge: bool = False
) -> dict[str, Any]:
    if a not in values.index or b not in values.index:
        return {"ls_difference": float("nan"), "ls_decision": "n/a"}
    difference = float(_subtract(values.loc[a, "ls_mean"], values.loc[b, "ls_mean"]))
    if not np.isfinite(difference):
        return {"ls_difference": difference, "ls_decision": "n/a"}
    if at_edge:
        return {"ls_difference": difference, "ls_decision": "grid edge"}
    word = "higher" if difference > rope else "lower" if difference < -rope else "equivalent"
    return {"ls_difference": difference, "ls_decision": word}


def _least_squares_grids(curves: CurveData, min_x: float | None) -> tuple[dict, str]:
    """The procedure's grids for these data (see :func:`bayescale.baselines.least_squares.grids_for`)."""
    x = curves.frame["x"].to_numpy(float)
    fitted = x[x >= min_x] if min_x is not None else x
    column = curves.columns["x"]
    grids = grids_for(fitted if fitted.size else x, column)
    c_mid = grids["c_mid_grid"]
    if c_mid is DEFAULT_C_MID_GRID:
        return grids, f"least squares: the paper's grids (column '{column}' is in GPU-hours)"
    return grids, (
        f"least squares: '{column}' is not GPU-hours, so C_mid is searched over "
        f"[{c_mid[0]:.3g}, {c_mid[-1]:.3g}] (scaled to the data) and A over [0.005, 1]"
    )


def _recipes_at_grid_edge(per_seed: pd.DataFrame) -> set[str]:
    columns = [c for c in ("a_at_grid_edge", "c_mid_at_grid_edge") if c in per_seed]
    if per_seed.empty or not columns:
        return set()
    hit = per_seed[columns].astype(bool).any(axis=1)
    return set(per_seed.loc[hit, "recipe"].astype(str))


def _grid_edge_notes(per_seed: pd.DataFrame) -> list[str]:
    notes = []
    for column, name in (("a_at_grid_edge", "A"), ("c_mid_at_grid_edge", "C_mid")):
        if column not in per_seed:
            continue
        hit = per_seed[per_seed[column].astype(bool)]
        if hit.empty:
            continue
        runs = ", ".join(run_label(r.recipe, r.run) for r in hit.head(5).itertuples())
        notes.append(
            f"least squares: {name} of {len(hit)} seed(s) ({runs}) sits on its grid edge: "
            "a grid bound, not an estimate; their ls_decision says 'grid edge'"
        )
    return notes


def _least_squares_table(per_seed: pd.DataFrame, values: pd.Series | None) -> pd.DataFrame:
    """Recipe -> seed mean, sd and half-range of the least-squares values."""
    columns = ["ls_mean", "ls_sd", "ls_half_range"]
    if values is None or per_seed.empty:
        return pd.DataFrame(columns=columns, dtype=float)
    grouped = values.groupby(per_seed["recipe"].to_numpy(), sort=False)
    with np.errstate(invalid="ignore"):
        table = pd.DataFrame(
            {
                "ls_mean": grouped.mean(),
                "ls_sd": grouped.std(ddof=1),
                "ls_half_range": (grouped.max() - grouped.min()) / 2,
            }
        )
    return table


def _recipe_table(
    draws: dict[str, np.ndarray], per_seed: pd.DataFrame, ls_table: pd.DataFrame, ci: float
) -> pd.DataFrame:
    rows = []
    for recipe, values in draws.items():
        stats = difference_summary(values, 0.0, ci)
        rows.append(
            {
                "recipe": recipe,
                "mean": stats["mean"],
                "median": stats["median"],
                "lower": stats["lower"],
                "upper": stats["upper"],
                "n_seeds": int((per_seed["recipe"] == recipe).sum()),
            }
        )
    table = pd.DataFrame(rows).set_index("recipe")
    return table.join(ls_table)[["mean", "median", "lower", "upper", *ls_table.columns, "n_seeds"]]
