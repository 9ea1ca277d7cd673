"""Plan the next runs: which extra seeds or compute would settle a comparison?

:func:`plan` is a preposterior analysis of one comparison (a recipe against a
baseline, Delta = recipe - baseline). For each candidate option (add ``k`` new
seeds to a recipe, extend its runs to compute ``X``, or both) it repeats, ``sims``
times:

1. take a posterior draw of the fitted model (law parameters, seed spread, noise);
2. draw the option's future data from it (:mod:`bayescale.analysis.future_data`: new seeds
   from the fitted seed distribution, continuations of the existing runs with
   their own fitted drift);
3. refit the model to the data plus the future data, warm: the compiled model of
   that structure is reused (:mod:`bayescale.inference.sampling`), the chain starts at
   the present fit's posterior mean (:func:`start_point`), and the short sampler
   settings :data:`REFIT_SAMPLER` are used;
4. apply the comparison's decision rule (:func:`bayescale.analysis.recipes.rope_decision`).

The refits of an option run ``workers`` at a time in threads (default: one per
core; nutpie samples outside Python's lock). Each simulation has its own seed,
so the plan is the same whatever the number of workers.

The shares of the ``sims`` decisions estimate P(higher), P(lower),
P(equivalent), P(undecided) and P(resolved) = 1 - P(undecided); their Monte
Carlo error is the binomial standard error ``sqrt(p (1 - p) / sims)``, at most
``0.5 / sqrt(sims)`` (0.05 for 100 simulations, :func:`sims_for`). Every option
uses the same posterior draws and random seeds (common random numbers), so
differences between options are estimated more precisely than each probability.

Extra compute of an option: each new seed costs its last compute value (it
starts from zero), each extended run ``extend_to`` minus its last compute; the
sum is multiplied by ``cost_per_x`` (1 when ``x`` is GPU-hours; the GPU-hours of
one unit of ``x`` otherwise, e.g. per step).

Stopping a run early: :func:`stop_probability` is the plan of the single option
"continue this recipe's runs to the final compute": its P(higher) is the
posterior predictive probability that the final decision will be ``higher``.
The documented rule (:data:`STOP_THRESHOLD`) stops when it is below 0.1; its
error rate and savings are measured in :mod:`bayescale.studies.planning_study`.

Examples
--------
>>> import bayescale as bs
>>> cmp = bs.compare_recipes(bs.example_path("recipes"), recipe="recipe", x="gpu_hours", y="pass_rate",
...                  run="seed", baseline="baseline", min_x=1500, seed=1)  # doctest: +SKIP
>>> p = bs.plan(cmp, recipe="baseline_repeat", add_seeds=[3, 6],
...             extend_to=[100_000], sims=100, seed=0)  # doctest: +SKIP
>>> p.ranked()[["add_seeds", "extend_to", "extra_compute", "p_resolved"]]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import html
import math
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayescale.analysis.future_data import Draw, check_plannable, future_frame, with_future
from bayescale.analysis.recipes import (
    DECISION_RULE,
    Comparison,
    check_options,
    difference_summary,
    recipe_draws,
)
from bayescale.data.curves import CurveData
from bayescale.inference.progress import Progress
from bayescale.inference.sampling import sample_draws, unconstrained_point
from bayescale.model.build import ModelSpec, model_arrays
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import DEFAULT_CI
from bayescale.results.provenance import SamplerSettings

__all__ = [
    "REFIT_SAMPLER",
    "STOP_THRESHOLD",
    "Plan",
    "PlanOption",
    "candidate_options",
    "plan",
    "ranked_options",
    "sims_for",
    "start_point",
    "stop_probability",
]

REFIT_SAMPLER = SamplerSettings(draws=400, tune=150, chains=1, cores=1, target_accept=0.9)
"""NUTS settings of every simulated refit: one chain of 400 draws after 150
tuning steps, target acceptance 0.9 (divergent refits are counted in the plan).
The chain starts at the present fit's posterior mean (:func:`start_point`), which
is what makes 150 tuning steps enough (from nutpie's default start, 300 were
used). ``docs/planning.md`` measures how often such refits reach the decision of
a full 4 x 1000 refit (``benchmarks/refit_accuracy.py``)."""

STOP_THRESHOLD = 0.1
"""Stop a recipe's runs when P(final decision = higher) is below this."""

OPTION_COLUMNS = [
    "recipe",
    "add_seeds",
    "extend_to",
    "kind",
    "extra_compute",
    "p_resolved",
    "p_higher",
    "p_lower",
    "p_equivalent",
    "p_undecided",
    "interval_width",
    "mc_error",
    "resolved_per_compute",
    "sims",
    "divergent_refits",
]


@dataclass(frozen=True)
class PlanOption:
    """One candidate: add ``add_seeds`` new seeds to ``recipe`` and/or extend its runs.

    Examples
    --------
    >>> PlanOption("better", add_seeds=3).kind, PlanOption("better", extend_to=1e5).kind
    ('add seeds', 'extend')
    """

    recipe: str
    add_seeds: int = 0
    extend_to: float | None = None

    @property
    def kind(self) -> str:
        """``"add seeds"``, ``"extend"`` or ``"both"``."""
        if self.add_seeds and self.extend_to is not None:
            return "both"
        return "add seeds" if self.add_seeds else "extend"


def candidate_options(
    recipe: str,
    add_seeds: Iterable[int] = (3,),
    extend_to: Iterable[float] = (),
    *,
    both: bool = False,
) -> list[PlanOption]:
    """Every ``k`` new seeds alone, every extension to ``X`` alone and, with ``both``,
    every pair (``k`` new seeds, all runs to ``X``).

    Examples
    --------
    >>> [(o.add_seeds, o.extend_to) for o in candidate_options("r", [3], [1e5])]
    [(3, None), (0, 100000.0)]
    >>> [o.kind for o in candidate_options("r", [3], [1e5], both=True)]
    ['add seeds', 'extend', 'both']
    """
    seeds = [int(k) for k in add_seeds if int(k) > 0]
    computes = [float(x) for x in extend_to]
    pairs = [PlanOption(recipe, add_seeds=k, extend_to=x) for k in seeds for x in computes]
    return [
        *(PlanOption(recipe, add_seeds=k) for k in seeds),
        *(PlanOption(recipe, extend_to=x) for x in computes),
        *(pairs if both else []),
    ]


def sims_for(mc_error: float) -> int:
    """Simulations for a binomial standard error of at most ``mc_error`` (at p = 0.5).

    Examples
    --------
    >>> sims_for(0.05), sims_for(0.025)
    (100, 400)
    """
    if not (0 < mc_error < 0.5):
        raise ValueError(f"mc_error must be in (0, 0.5), got {mc_error!r}")
    return math.ceil(0.25 / mc_error**2 - 1e-9)


@dataclass
class Plan:
    """Preposterior analysis of a comparison: what each option would likely decide.

    Attributes
    ----------
    options : pandas.DataFrame
        One row per option (:data:`OPTION_COLUMNS`): ``recipe`` (gets the seeds /
        extension), ``add_seeds``, ``extend_to``, ``kind``, ``extra_compute``,
        ``p_resolved``, ``p_higher``, ``p_lower``, ``p_equivalent``,
        ``p_undecided``, ``interval_width`` (expected width of the Delta
        interval), ``mc_error`` (binomial standard error of ``p_resolved``),
        ``resolved_per_compute`` (``p_resolved`` per 1,000 units of extra
        compute), ``sims``, ``divergent_refits``.
    outcomes : pandas.DataFrame
        One row per option and simulation: ``option`` (row of ``options``),
        ``sim``, ``draw``, ``decision``, ``lower``, ``upper``, ``mean``.
    pair : tuple of str
        ``(recipe, baseline)``: Delta = recipe - baseline.
    current : dict
        The comparison's present summary of Delta (``mean``, ``lower``, ``upper``,
        ``decision``, ...).
    parameter : str
    rope, ci, cost_per_x : float
    sims : int
    refit : SamplerSettings
    seconds : float
        Wall-clock time of the plan.
    notes : list of str
    """

    options: pd.DataFrame
    outcomes: pd.DataFrame
    pair: tuple[str, str]
    current: dict[str, Any]
    parameter: str
    rope: float
    ci: float
    cost_per_x: float
    sims: int
    refit: SamplerSettings
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def max_mc_error(self) -> float:
        """Largest binomial standard error of any probability: ``0.5 / sqrt(sims)``."""
        return 0.5 / math.sqrt(self.sims)

    def ranked(self) -> pd.DataFrame:
        """Options sorted by ``p_resolved`` per extra compute (best first)."""
        return ranked_options(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the ``plan.json`` contract).

        Returns
        -------
        dict
            ``pair``, ``parameter``, ``rope``, ``ci``, ``decision_rule``,
            ``current`` (the present decision), ``sims``, ``max_mc_error``,
            ``refit`` (sampler settings), ``cost_per_x``, ``seconds``,
            ``options`` (list of {recipe, add_seeds, extend_to, kind,
            extra_compute, p_resolved, p_higher, p_lower, p_equivalent,
            p_undecided, interval_width, mc_error, ...}, ranked) and ``notes``.
        """
        options = self.ranked().astype(object)
        options = options.where(pd.notna(options), None)
        return {
            "pair": list(self.pair),
            "parameter": self.parameter,
            "rope": self.rope,
            "ci": self.ci,
            "decision_rule": DECISION_RULE,
            "current": self.current,
            "sims": self.sims,
            "max_mc_error": self.max_mc_error,
            "refit": self.refit.to_dict(),
            "cost_per_x": self.cost_per_x,
            "seconds": self.seconds,
            "options": options.to_dict(orient="records"),
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        a, b = self.pair
        return (
            f"<bayescale.Plan {a} vs {b}: now {self.current['decision']}, "
            f"{len(self.options)} options x {self.sims} simulations>"
        )

    def _repr_html_(self) -> str:
        a, b = self.pair
        table = self.ranked().round(4).to_html(index=False, escape=True)
        return (
            f"<div><b>bayescale plan</b>: {html.escape(a)} vs {html.escape(b)} "
            f"({html.escape(self.parameter)}, ROPE +/-{self.rope:g}), now "
            f"{html.escape(str(self.current['decision']))}; {self.sims} simulations per "
            f"option (Monte Carlo error at most {self.max_mc_error:.3f}){table}</div>"
        )


def plan(
    source: Comparison | Fit,
    options: Sequence[PlanOption] | None = None,
    *,
    recipe: str | None = None,
    baseline: str | None = None,
    add_seeds: Iterable[int] = (3,),
    extend_to: Iterable[float] = (),
    both: bool = False,
    sims: int | None = None,
    mc_error: float = 0.05,
    rope: float | None = None,
    ci: float | None = None,
    refit: SamplerSettings = REFIT_SAMPLER,
    cost_per_x: float = 1.0,
    seed: int | None = None,
    progress: bool = True,
    workers: int | None = None,
    warm_start: bool = True,
) -> Plan:
    """Preposterior analysis: the decision each option would likely reach, and its cost.

    Parameters
    ----------
    source : Comparison or Fit
        A comparison (its parameter, ROPE, interval and baseline are used) or a
        multi-recipe fit (then give ``baseline``; parameter ``A``).
    options : sequence of PlanOption, optional
        Candidates; default :func:`candidate_options` of ``recipe`` with
        ``add_seeds`` and ``extend_to``.
    recipe : str, optional
        The recipe compared with the baseline (Delta = recipe - baseline); default
        the only non-baseline recipe, else required.
    baseline : str, optional
        Default: the comparison's baseline.
    add_seeds, extend_to, both
        Candidate numbers of new seeds and final computes, and whether to pair
        them (for the default options, :func:`candidate_options`).
    sims : int, optional
        Simulations per option; default :func:`sims_for` of ``mc_error``.
    mc_error : float
        Wanted largest binomial standard error of the probabilities (0.05: 100
        simulations).
    rope, ci : float, optional
        Override the comparison's.
    refit : SamplerSettings
        NUTS settings of the simulated refits (default :data:`REFIT_SAMPLER`).
    cost_per_x : float
        GPU-hours per unit of the ``x`` column (1 when ``x`` is GPU-hours).
    seed : int, optional
        Seed of the posterior draws, future data and refits.
    progress : bool
        Show a progress bar over the options, with the time left, on a
        terminal (stderr).
    workers : int, optional
        Refits run at once, in threads (default: the number of cores). The plan
        does not depend on it.
    warm_start : bool
        Start each refit's chain at the present posterior mean
        (:func:`start_point`; :data:`REFIT_SAMPLER`'s 150 tuning steps assume it);
        ``False`` starts from nutpie's default initial point.

    Returns
    -------
    Plan

    Raises
    ------
    ValueError
        For an unknown recipe or baseline, a ``compute`` comparison, a two-input
        law, count likelihoods, or options out of range.

    Examples
    --------
    >>> p = plan(cmp, recipe="baseline_repeat", add_seeds=[3], extend_to=[100_000],
    ...          sims=20, seed=0)  # doctest: +SKIP
    >>> p.options[["kind", "extra_compute", "p_resolved", "mc_error"]]  # doctest: +SKIP
    """
    start = time.perf_counter()
    fit, parameter, rope, ci, baseline = _comparison_settings(source, baseline, rope, ci)
    check_plannable(fit)
    recipe = _compared_recipe(fit, recipe, baseline)
    if options is None:
        options = candidate_options(recipe, add_seeds, extend_to, both=both)
    _check_options(fit, options, cost_per_x)
    sims = sims_for(mc_error) if sims is None else int(sims)
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    n_draws = _n_draws(fit)
    if not 1 <= sims <= n_draws:
        raise ValueError(f"sims must be between 1 and the fit's {n_draws} posterior draws")
    rng = np.random.default_rng(seed)
    draw_index = rng.choice(n_draws, size=sims, replace=False)
    sim_seeds = rng.integers(2**31 - 1, size=sims)
    pair = (recipe, baseline)
    current = difference_summary(_delta(recipe_draws(fit, parameter), pair), rope, ci)
    rows, outcomes = [], []
    bar = Progress(len(options), label="plan", enabled=progress)
    for k, option in enumerate(options):
        sims_out = simulate_option(
            fit,
            option,
            pair,
            draw_index,
            sim_seeds,
            parameter=parameter,
            rope=rope,
            ci=ci,
            refit=refit,
            workers=workers,
            warm_start=warm_start,
        )
        outcomes.append(sims_out.assign(option=k))
        rows.append(option_summary(option, sims_out, extra_compute(fit.data, option, cost_per_x)))
        bar.advance()
    bar.close()
    start_note = "from the present posterior mean" if warm_start else "from nutpie's default start"
    notes = [
        f"refits use {refit.chains} chain(s) x {refit.draws} draws ({refit.tune} tuning steps, "
        f"{start_note}), {workers} at a time",
        f"Monte Carlo error of every probability at most {0.5 / math.sqrt(sims):.3f} "
        f"({sims} simulations per option)",
    ]
    return Plan(
        options=pd.DataFrame(rows, columns=OPTION_COLUMNS),
        outcomes=pd.concat(outcomes, ignore_index=True),
        pair=pair,
        current=current,
        parameter=parameter,
        rope=rope,
        ci=ci,
        cost_per_x=cost_per_x,
        sims=sims,
        refit=refit,
        seconds=time.perf_counter() - start,
        notes=notes,
    )


def ranked_options(plans: Plan | Sequence[Plan]) -> pd.DataFrame:
    """The options of one or several plans, ranked by P(resolved) per extra compute
    (then by P(resolved)), best first.

    Examples
    --------
    >>> ranked_options([plan_a, plan_b])[["recipe", "p_resolved"]]  # doctest: +SKIP
    """
    plans = [plans] if isinstance(plans, Plan) else list(plans)
    table = pd.concat([p.options for p in plans], ignore_index=True)
    return table.sort_values(
        ["resolved_per_compute", "p_resolved"], ascending=False, kind="stable"
    ).reset_index(drop=True)


SHOWN_COLUMNS = [
    "recipe",
    "add_seeds",
    "extend_to",
    "extra_compute",
    "p_resolved",
    "mc_error",
    "p_higher",
    "p_lower",
    "p_equivalent",
    "interval_width",
    "resolved_per_compute",
]
"""The option columns printed by the CLI and shown in reports."""


def stop_probability(
    source: Comparison | Fit,
    recipe: str,
    final_x: float,
    *,
    baseline: str | None = None,
    sims: int = 40,
    threshold: float = STOP_THRESHOLD,
    seed: int | None = None,
    refit: SamplerSettings = REFIT_SAMPLER,
    workers: int | None = None,
) -> dict[str, Any]:
    """P(the decision at ``final_x`` will be ``higher``) for a recipe whose runs go on.

    The plan of the single option "continue every run of ``recipe`` to
    ``final_x``"; the rule says ``stop`` when that probability is below
    ``threshold``.

    Returns
    -------
    dict
        ``p_higher``, ``mc_error``, ``p_resolved``, ``extra_compute`` (still to
        spend), ``threshold``, ``action`` (``"stop"`` or ``"continue"``).

    Examples
    --------
    >>> stop_probability(cmp, "better", 100_000, sims=40, seed=0)  # doctest: +SKIP
    {'p_higher': 0.85, ..., 'action': 'continue'}
    """
    option = PlanOption(recipe, extend_to=float(final_x))
    result = plan(
        source,
        [option],
        recipe=recipe,
        baseline=baseline,
        sims=sims,
        seed=seed,
        refit=refit,
        workers=workers,
    )
    row = result.options.iloc[0]
    p_higher = float(row["p_higher"])
    return {
        "p_higher": p_higher,
        "mc_error": math.sqrt(p_higher * (1 - p_higher) / sims),
        "p_resolved": float(row["p_resolved"]),
        "extra_compute": float(row["extra_compute"]),
        "threshold": threshold,
        "action": "stop" if p_higher < threshold else "continue",
    }


def simulate_option(
    fit: Fit,
    option: PlanOption,
    pair: tuple[str, str],
    draw_index: np.ndarray,
    sim_seeds: np.ndarray,
    *,
    parameter: str = "A",
    rope: float = 0.02,
    ci: float = DEFAULT_CI,
    refit: SamplerSettings = REFIT_SAMPLER,
    workers: int = 1,
    warm_start: bool = True,
) -> pd.DataFrame:
    """Simulate one option: one row per simulation (``sim``, ``draw``, ``decision``,
    ``lower``, ``upper``, ``mean``, ``divergences``).

    The future data of every simulation are drawn first (each from its own seed),
    then the refits run ``workers`` at a time in threads; the rows do not depend on
    ``workers``. With ``warm_start`` every refit starts at the present posterior
    mean (:func:`start_point`; one point per option, since all its simulations
    share the structure)."""
    grown = [
        with_future(
            fit.data,
            future_frame(
                fit,
                Draw.of(fit, int(index)),
                option.recipe,
                add_seeds=option.add_seeds,
                extend_to=option.extend_to,
                rng=np.random.default_rng(int(sim_seed)),
            ),
        )
        for index, sim_seed in zip(draw_index, sim_seeds, strict=True)
    ]
    init = start_point(fit, grown[0]) if warm_start and grown else None

    def one(sim: int) -> dict[str, Any]:
        settings = dataclasses.replace(refit, seed=int(sim_seeds[sim]))
        draws, divergences = refit_draws(fit.spec, grown[sim], settings, parameter, init=init)
        stats = difference_summary(_delta(draws, pair), rope, ci)
        return {
            "sim": sim,
            "draw": int(draw_index[sim]),
            "decision": stats["decision"],
            "lower": stats["lower"],
            "upper": stats["upper"],
            "mean": stats["mean"],
            "divergences": divergences,
        }

    if workers <= 1 or len(grown) <= 1:
        rows = [one(sim) for sim in range(len(grown))]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(grown))) as pool:
            rows = list(pool.map(one, range(len(grown))))
    return pd.DataFrame(rows)


def default_workers() -> int:
    """Refits run at once by default: the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def start_point(fit: Fit, curves: CurveData) -> np.ndarray:
    """Where a refit of ``fit``'s model on ``curves`` starts: the present posterior
    mean of every free variable, on the compiled model's unconstrained scale.

    ``curves`` is the data grown by an option (same recipes, maybe more runs). A
    run-level variable keeps each existing run's posterior mean; a new run starts
    at the mean of its recipe's existing runs.
    """
    post = fit.draws_dataset
    old_runs = {run: k for k, run in enumerate(fit.data.runs)}
    run_recipe = curves.run_recipe
    values: dict[str, np.ndarray] = {}
    for name, var in post.data_vars.items():
        mean = var.mean(("chain", "draw"))
        if "run" not in mean.dims:
            values[name] = mean.to_numpy()
            continue
        per_run = mean.transpose("run", ...).to_numpy()
        by_recipe = {
            recipe: per_run[
                [old_runs[r] for r in fit.data.runs if fit.data.run_recipe[r] == recipe]
            ]
            for recipe in fit.data.recipes
        }
        values[name] = np.stack(
            [
                per_run[old_runs[run]]
                if run in old_runs
                else by_recipe.get(run_recipe[run], per_run).mean(axis=0)
                for run in curves.runs
            ]
        )
    return unconstrained_point(
        fit.spec,
        model_arrays(fit.spec, curves),
        len(curves.runs),
        len(curves.recipes),
        values,
    )


def refit_draws(
    spec: ModelSpec,
    curves: CurveData,
    settings: SamplerSettings,
    parameter: str,
    init: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], int]:
    """Warm refit of ``spec`` on ``curves``: recipe -> flat draws of ``parameter``,
    and the number of divergent transitions. Only samples (no diagnostics, no
    run-level draws): the compiled model of the structure is reused. ``init``:
    the chain's unconstrained starting point (:func:`start_point`); default
    nutpie's."""
    if settings.target_accept is None:
        settings = dataclasses.replace(settings, target_accept=spec.likelihood_obj.target_accept)
    draws, divergences = sample_draws(
        spec,
        model_arrays(spec, curves),
        n_runs=len(curves.runs),
        n_recipes=len(curves.recipes),
        settings=settings,
        names=(parameter,),
        init=init,
    )
    values = np.broadcast_to(draws[parameter], (len(draws[parameter]), len(curves.recipes)))
    return {r: values[:, k] for k, r in enumerate(curves.recipes)}, divergences


def option_summary(option: PlanOption, outcomes: pd.DataFrame, extra: float) -> dict[str, Any]:
    """The row of :attr:`Plan.options` for one simulated option."""
    n = len(outcomes)
    share = outcomes["decision"].value_counts(normalize=True)
    p = {word: float(share.get(word, 0.0)) for word in ("higher", "lower", "equivalent")}
    resolved = sum(p.values())
    return {
        "recipe": option.recipe,
        "add_seeds": option.add_seeds,
        "extend_to": option.extend_to,
        "kind": option.kind,
        "extra_compute": extra,
        "p_resolved": resolved,
        "p_higher": p["higher"],
        "p_lower": p["lower"],
        "p_equivalent": p["equivalent"],
        "p_undecided": 1.0 - resolved,
        "interval_width": float((outcomes["upper"] - outcomes["lower"]).mean()),
        "mc_error": math.sqrt(resolved * (1 - resolved) / n),
        "resolved_per_compute": resolved / extra * 1000 if extra > 0 else float("nan"),
        "sims": n,
        "divergent_refits": int((outcomes["divergences"] > 0).sum()),
    }


def extra_compute(curves: CurveData, option: PlanOption, cost_per_x: float = 1.0) -> float:
    """GPU-hours an option adds: new seeds from zero to their last compute, extended
    runs from their last compute to ``extend_to``; times ``cost_per_x``.

    Examples
    --------
    >>> from bayescale.data.curves import load_curves
    >>> from bayescale.data.examples import example_path
    >>> curves = load_curves(example_path("recipes"), x="gpu_hours", y="pass_rate",
    ...                      run="seed", recipe="recipe")
    >>> extra_compute(curves, PlanOption("better", add_seeds=2))
    100000.0
    >>> extra_compute(curves, PlanOption("better", add_seeds=1, extend_to=60_000))
    90000.0
    """
    frame = curves.frame[curves.frame["recipe"] == option.recipe]
    last = frame.groupby("run", sort=False)["x"].max()
    final = float(last.max()) if option.extend_to is None else max(option.extend_to, last.max())
    extended = 0.0 if option.extend_to is None else float((option.extend_to - last).clip(0).sum())
    return float((option.add_seeds * final + extended) * cost_per_x)


def _delta(draws: dict[str, np.ndarray], pair: tuple[str, str]) -> np.ndarray:
    return draws[pair[0]] - draws[pair[1]]


def _n_draws(fit: Fit) -> int:
    post = fit.draws_dataset
    return int(post.sizes["chain"] * post.sizes["draw"])


def _comparison_settings(
    source: Comparison | Fit, baseline: str | None, rope: float | None, ci: float | None
) -> tuple[Fit, str, float, float, str]:
    if isinstance(source, Comparison):
        fit, parameter = source.fit, source.parameter
        rope = source.rope if rope is None else rope
        ci = source.ci if ci is None else ci
        baseline = source.baseline if baseline is None else baseline
    elif isinstance(source, Fit):
        fit, parameter, ci = source, "A", DEFAULT_CI if ci is None else ci
    else:
        raise TypeError(f"plan needs a Comparison or a Fit, got {type(source).__name__}")
    if parameter == "compute":
        raise ValueError("plan compares law parameters; a 'compute' comparison is not supported")
    if baseline is None:
        raise ValueError("name the baseline: baseline=...")
    rope = check_options(
        fit.recipes, fit.law.name, parameter, rope, baseline, None, ci, fit.spec.shared
    )
    return fit, parameter, rope, ci, baseline


def _compared_recipe(fit: Fit, recipe: str | None, baseline: str) -> str:
    others = [r for r in fit.recipes if r != baseline]
    if recipe is None:
        if len(others) != 1:
            raise ValueError(f"name the recipe to plan for: recipe= one of {', '.join(others)}")
        return others[0]
    if recipe not in others:
        raise ValueError(
            f"recipe {recipe!r} is not a recipe other than the baseline; "
            f"choose from {', '.join(others)}"
        )
    return recipe


def _check_options(fit: Fit, options: Sequence[PlanOption], cost_per_x: float) -> None:
    if not options:
        raise ValueError("no options to plan: give add_seeds and/or extend_to")
    if not (np.isfinite(cost_per_x) and cost_per_x > 0):
        raise ValueError(f"cost_per_x must be a positive number, got {cost_per_x!r}")
    last = fit.data.frame.groupby("recipe")["x"].max()
    for option in options:
        if option.recipe not in fit.recipes:
            raise ValueError(f"option recipe {option.recipe!r} is not a recipe of the fit")
        if option.add_seeds < 0:
            raise ValueError(f"add_seeds must be >= 0, got {option.add_seeds}")
        if option.extend_to is not None and not option.extend_to > last[option.recipe]:
            raise ValueError(
                f"extend_to {option.extend_to:g} is not beyond recipe {option.recipe!r}'s "
                f"last compute {last[option.recipe]:g}"
            )
        if option.add_seeds == 0 and option.extend_to is None:
            raise ValueError(f"option for {option.recipe!r} adds no seeds and no compute")
