"""``bayescale.fit``: from a table to a :class:`~bayescale.results.fit_result.Fit`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
import xarray as xr

from bayescale._version import __version__
from bayescale.data.curves import CurveData, load_curves
from bayescale.inference.convergence import attempt_record, can_converge, retry_settings
from bayescale.inference.diagnostics import (
    ConvergenceWarning,
    ExtrapolationWarning,
    IdentificationWarning,
    LawMisfitWarning,
    PredictiveCheckWarning,
    check_convergence,
    check_identification,
    emit,
)
from bayescale.inference.identification import (
    check_prior_reliance,
    nuisance_notes,
    single_run_notes,
)
from bayescale.inference.law_checks import (
    check_direction,
    check_prior_ranges,
    learning_curve_message,
)
from bayescale.inference.law_error import LawError, estimate_law_error
from bayescale.inference.law_misfit import check_law_fit
from bayescale.inference.predictive_check import predictive_check
from bayescale.inference.sampler_settings import checked_settings
from bayescale.inference.sampling import sample_posterior
from bayescale.model.build import ModelSpec, model_arrays
from bayescale.model.laws import Law, available_laws, get_law, register_law
from bayescale.model.likelihoods.registry import get_likelihood
from bayescale.model.likelihoods.run_offsets import restore_run_draws
from bayescale.model.priors import Prior, hierarchy_prior, hierarchy_prior_name, merge_priors
from bayescale.results.fit_result import Diagnostics, Fit
from bayescale.results.pointwise import curve_at_observations
from bayescale.results.provenance import SamplerSettings, SamplingTimes


def resolve_likelihood(likelihood: str, law: Law, data: CurveData) -> str:
    """The observation model to use; ``"auto"`` picks the honest default.

    ``"auto"`` gives (see :func:`auto_likelihood`):

    - ``"student_t"`` for losses (unbounded laws): real loss tables contain
      outlying runs, and a Normal fit lets a few of them move the exponents (on
      the 245 Chinchilla rows: beta 0.61 under Normal, 0.37 under Student-t);
    - ``"student_t"`` for bounded metrics without a run column when the rows
      are separate models (one point per model): several recipes, or inputs
      spaced geometrically (each at least :data:`LADDER_RATIO` times the one
      before, in the median, as a ladder of model sizes or training budgets is,
      while checkpoints of one run are evenly spaced steps); there is no
      within-run drift to model;
    - ``"drift"`` for other bounded metrics (pass rates evaluated at consecutive
      checkpoints of a run: slow drift within the run plus fresh measurement
      noise), also when ``trials`` are given: the binomial models treat
      checkpoints as independent, and on curves with within-run drift their
      extrapolation intervals under-cover like the iid Normal's (see
      ``docs/honest_intervals.md``); choose them for independent evaluations.
    """
    if likelihood != "auto":
        chosen = get_likelihood(likelihood)
        if chosen.needs_trials and "trials" not in data.frame:
            raise ValueError(
                f"likelihood {likelihood!r} needs the number of evaluation prompts: pass trials="
            )
        return likelihood
    return auto_likelihood(law, data)[0]


def auto_likelihood(law: Law, data: CurveData) -> tuple[str, str]:
    """The ``"auto"`` observation model and one line saying why it was chosen.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayescale.model.laws import get_law
    >>> frame = pd.DataFrame({"n": [1e8, 2e8, 4e8, 8e8, 2e9, 4e9, 8e9],
    ...                       "loss": [3.1, 2.9, 2.8, 2.7, 2.6, 2.55, 2.5]})
    >>> auto_likelihood(get_law("power_e"), load_curves(frame, x="n", y="loss", bounded=False))[0]
    'student_t'
    """
    if not law.bounded:
        return "student_t", (
            "likelihood auto -> student_t: losses, robust to outlying runs "
            "(pass likelihood='normal' for Gaussian noise)"
        )
    keys = ["run", *data.input_roles]
    if data.frame.duplicated(subset=keys).any():
        return "student_t", (
            "likelihood auto -> student_t: rows repeat points of a run, so they are "
            "independent observations, not consecutive checkpoints (pass likelihood= to change)"
        )
    if "run" not in data.columns and len(data.recipes) > 1:
        return "student_t", (
            "likelihood auto -> student_t: no run column, so each recipe's rows are separate "
            "models with independent noise, not checkpoints of one run (pass likelihood= to change)"
        )
    if "run" not in data.columns and _ladder(data):
        return "student_t", (
            "likelihood auto -> student_t: no run column and the inputs grow geometrically "
            f"(median step x{_median_ratio(data):.1f}), so each row is a separate model with "
            "independent noise, not a checkpoint of one run (checkpoints of a run: pass "
            "likelihood='drift')"
        )
    return "drift", (
        "likelihood auto -> drift: checkpoints of a run drift together; one point per "
        "model? pass likelihood='student_t'"
    )


LADDER_RATIO = 1.5
"""Median ratio of consecutive inputs from which rows without a run column are taken
for separate models (a ladder of sizes or budgets) rather than checkpoints of a run."""


def _median_ratio(data: CurveData) -> float:
    ratios = [
        np.median(np.diff(np.log(np.sort(rows[role].unique()))))
        for role in data.input_roles
        for _, rows in data.frame.groupby("run", sort=False)
        if rows[role].nunique() > 1
    ]
    return float(np.exp(np.median(ratios))) if ratios else 1.0


def _ladder(data: CurveData) -> bool:
    """Whether the rows look like separate models: inputs spaced geometrically."""
    return _median_ratio(data) >= LADDER_RATIO


def resolve_varying(varying: str | Iterable[str], law: Law, data: CurveData) -> tuple[str, ...]:
    """Parameters with run-level deviations; ``"auto"`` uses the law's default
    when some recipe has more than one run, and none otherwise."""
    if varying == "auto":
        several = len(data.runs) > len(data.recipes)
        return law.default_varying if several else ()
    names = (varying,) if isinstance(varying, str) else tuple(varying)
    if names == ("none",):
        return ()
    _check_parameters(names, law, "varying")
    return names


def _check_parameters(
    names: Iterable[str], law: Law, option: str, allowed: tuple[str, ...] | None = None
) -> None:
    allowed = law.parameters if allowed is None else allowed
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(
            f"{option}: {', '.join(unknown)} not a parameter of {law.name}; "
            f"choose from {', '.join(allowed)}"
        )


def registered(law: Law) -> Law:
    """``law``, registered under its name if no law is yet (saved fits find it by name).

    Raises
    ------
    ValueError
        If another law is registered under the same name.
    """
    if law.name not in available_laws():
        return register_law(law)
    if get_law(law.name) is not law:
        raise ValueError(f"another law is registered as {law.name!r}; give this one another name")
    return law


LOAD_OPTIONS = (
    *("x", "y", "run", "recipe", "n", "d", "compute", "trials", "repeats", "drop_highest"),
    *("runs", "format", "compute_per_step"),
)
"""The options of :func:`fit` that say how to read the data (the rest say how to fit it)."""


def curves_for_law(
    data: pd.DataFrame | str | Path | CurveData,
    law: Law,
    *,
    min_x: float | None = None,
    max_x: float | None = None,
    min_points: int | None = None,
    **load_options: Any,
) -> CurveData:
    """Read and validate ``data`` once for ``law`` (its inputs, metric range, run sizes).

    Parameters
    ----------
    data : DataFrame, path or CurveData
    law : Law
    min_x, max_x : float, optional
        The compute window.
    min_points : int, optional
        Fewest points per run (default: one more than the law has parameters).
    **load_options
        Column names and ``repeats``/``drop_highest`` (:data:`LOAD_OPTIONS`); none
        for a ``CurveData``.

    Returns
    -------
    CurveData
        Windowed by ``min_x``/``max_x``; :meth:`CurveData.window` gives other windows
        of the same rows without reading them again.
    """
    if isinstance(data, CurveData):
        check_inputs(law, **dict.fromkeys(data.input_roles, "given"))
    else:
        check_inputs(law, **{role: load_options.get(role) for role in ("x", "n", "d", "compute")})
    return load_curves(
        data,
        **load_options,
        bounded=law.bounded,
        positive_y=law.response == "log",
        min_x=min_x,
        max_x=max_x,
        min_points=len(law.parameters) + 1 if min_points is None else min_points,
    )


def check_inputs(law: Law, **columns: str | None) -> None:
    """Refuse input columns that do not match the law's inputs.

    Raises
    ------
    ValueError
        Naming the options the law needs (``compute`` stands in for ``d``).

    Examples
    --------
    >>> from bayescale.model.laws import get_law
    >>> check_inputs(get_law("chinchilla"), n="Model Size", compute="Training FLOP")
    >>> check_inputs(get_law("chinchilla"), x="Model Size")
    Traceback (most recent call last):
    ...
    ValueError: law 'chinchilla' needs n= and d= (or n= and compute=); got x=
    """
    given = {role for role, column in columns.items() if column is not None}
    if "compute" in given:
        given = (given - {"compute"}) | {"d"}
    if given != set(law.inputs):
        needs = " and ".join(f"{role}=" for role in law.inputs)
        alternative = " (or n= and compute=)" if law.inputs == ("n", "d") else ""
        got = ", ".join(f"{role}=" for role, c in columns.items() if c is not None) or "none"
        raise ValueError(f"law {law.name!r} needs {needs}{alternative}; got {got}")


def build_spec(
    law: Law,
    data: CurveData,
    *,
    likelihood: str = "auto",
    varying: str | Iterable[str] = "auto",
    shared: Iterable[str] = (),
    priors: Mapping[str, Prior | str | Mapping[str, Any]] | None = None,
) -> ModelSpec:
    """Resolve options and priors into a :class:`~bayescale.model.build.ModelSpec`."""
    likelihood = resolve_likelihood(likelihood, law, data)
    varying = resolve_varying(varying, law, data)
    shared = tuple(shared)
    _check_parameters(shared, law, "shared", law.free_parameters)
    defaults = {
        **law.priors_for(data, shared),
        **{hierarchy_prior_name(law, name): hierarchy_prior(law, name) for name in varying},
        **get_likelihood(likelihood).default_priors(law),
    }
    merged = merge_priors(defaults, priors)
    check_prior_ranges(law, merged)
    return ModelSpec(
        law=law.name,
        likelihood=likelihood,
        varying=varying,
        shared=shared,
        priors=merged,
    )


@overload
def fit(
    data: pd.DataFrame | str | Path | CurveData,
    law: str | Law = ...,
    *,
    check_only: Literal[False] = ...,
    **options: Any,
) -> Fit: ...
@overload
def fit(
    data: pd.DataFrame | str | Path | CurveData,
    law: str | Law = ...,
    *,
    check_only: Literal[True],
    **options: Any,
) -> None: ...
def fit(
    data: pd.DataFrame | str | Path | CurveData,
    law: str | Law = "sigmoid",
    *,
    x: str | None = None,
    y: str | None = None,
    run: str | None = None,
    recipe: str | None = None,
    n: str | None = None,
    d: str | None = None,
    compute: str | None = None,
    trials: str | int | None = None,
    likelihood: str = "auto",
    varying: str | Iterable[str] = "auto",
    shared: Iterable[str] = (),
    priors: Mapping[str, Prior | str | Mapping[str, Any]] | None = None,
    min_x: float | None = None,
    max_x: float | None = None,
    repeats: str = "error",
    drop_highest: int = 0,
    draws: int = SamplerSettings.draws,
    tune: int = SamplerSettings.tune,
    chains: int = SamplerSettings.chains,
    seed: int | None = None,
    cores: int | None = None,
    target_accept: float | None = None,
    check_only: bool = False,
) -> Fit | None:
    """Fit a scaling law to curve data and return the posterior.

    Parameters
    ----------
    data : DataFrame, path or CurveData
        Observations, a CSV/TSV/Parquet file, or curves loaded before with
        :func:`bayescale.load_curves` (then without column options; ``min_x`` and
        ``max_x`` re-window them).
    law : str or Law
        ``"sigmoid"`` (ScaleRL), ``"saturating"``, ``"power"``, ``"power_e"``,
        ``"power_up"`` (increasing, ``G X^a``), ``"chinchilla"`` (see
        :mod:`bayescale.model.laws`) or another registered law. Data that clearly move
        against the law's direction are refused.
    x, y, run, recipe, n, d, compute, trials : str
        Column names (see :func:`bayescale.data.curves.load_curves`); ``trials`` may be
        one number for all rows; ``compute`` with ``n`` gives tokens
        ``d = compute / (6 n)`` for the ``"chinchilla"`` law.
    likelihood : str
        ``"auto"``, ``"normal"``, ``"student_t"``, ``"ar1"``, ``"drift"``, ...
        (see :mod:`bayescale.model.likelihoods.registry`).
    varying : "auto", "none" or sequence of str
        Law parameters that vary by run (partially pooled across seeds).
    shared : sequence of str
        Law parameters shared by all recipes (for reparametrised laws, their
        sampled parameters, e.g. ``alpha`` or ``A_ref``).
    priors : dict, optional
        Overrides: name -> ``Prior``, ``{"dist": ..., ...}`` or ``"Dist(arg=v, ...)"``;
        reparametrised laws take priors on their sampled parameters
        (``Law.default_priors``; :mod:`bayescale.model.law_priors`).
    min_x : float, optional
        Exclude rows with smaller ``x`` (ScaleRL skips the first ~1.5k GPU-hours).
    max_x : float, optional
        Exclude rows with larger ``x`` (hold out the tail to check extrapolation).
    repeats : {"error", "independent", "mean", "best"}
        Rows repeating a (run, input) point: refuse (default, naming them), keep as
        independent observations, average, or keep the best (see
        :func:`bayescale.data.curves.load_curves`).
    drop_highest : int
        Drop this many rows with the highest metric first (e.g. 5 for the
        Chinchilla data, as the published refit did).
    draws, tune, chains, seed, cores, target_accept
        NUTS settings (nutpie); see :class:`~bayescale.inference.sampling.SamplerSettings`.
        ``target_accept`` defaults to the observation model's (0.95 for ``"drift"``,
        0.9 for the others).
    check_only : bool
        Only check the data, priors and options (everything that can be
        refused before compiling and sampling) and return ``None``.

    Returns
    -------
    Fit

    Warns
    -----
    ConvergenceWarning
        When R-hat > 1.01, there are divergences, or the bulk ESS is low.
    IdentificationWarning
        When the data end before the sigmoid's midpoint, or a law parameter's
        posterior barely moved from its prior (see :mod:`bayescale.inference.identification`).
    PredictiveCheckWarning
        When many observations lie outside their predictive intervals or PSIS-LOO
        finds observations the fit hinges on (see :mod:`bayescale.inference.predictive_check`).

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.fit(bs.example_path("scalerl_3seeds"), x="gpu_hours", y="pass_rate",
    ...              run="seed", min_x=1500)  # doctest: +SKIP
    >>> fit.summary().loc["A"]  # doctest: +SKIP
    """
    law_obj = registered(law) if isinstance(law, Law) else get_law(law)
    curves = curves_for_law(
        data,
        law_obj,
        x=x,
        y=y,
        run=run,
        recipe=recipe,
        n=n,
        d=d,
        compute=compute,
        trials=trials,
        min_x=min_x,
        max_x=max_x,
        repeats=repeats,
        drop_highest=drop_highest,
    )
    check_direction(law_obj, curves)
    spec = build_spec(
        law_obj, curves, likelihood=likelihood, varying=varying, shared=shared, priors=priors
    )
    settings = SamplerSettings(
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        cores=cores,
        target_accept=target_accept,
    )
    if check_only:
        checked_settings(settings)
        return None
    notes = [auto_likelihood(law_obj, curves)[1]] if likelihood == "auto" else []
    return fit_curves(curves, spec, settings, notes)


def fit_curves(
    curves: CurveData,
    spec: ModelSpec,
    settings: SamplerSettings,
    notes: Sequence[str] = (),
    *,
    retry: bool = True,
) -> Fit:
    """Sample ``spec`` on validated ``curves`` (the layer under :func:`fit`).

    ``settings.target_accept=None`` becomes the observation model's default and
    ``settings.seed=None`` a fresh random seed; the returned fit records the
    values used. ``notes`` are kept in the fit's diagnostics (e.g. which
    observation model ``"auto"`` chose).

    When the first attempt fails its convergence checks
    (:func:`bayescale.inference.convergence.is_converged`) and ``retry`` is true,
    the same model is sampled once more with longer tuning, more draws and a
    higher target acceptance (:func:`~bayescale.inference.convergence.retry_settings`;
    never another model); the fit is the second attempt's, both are recorded in
    ``diagnostics.attempts`` and a note says so. Fits with fewer draws than
    could reach the ESS threshold are not retried.

    Raises
    ------
    bayescale.inference.interrupts.SamplingInterrupted
        When sampling was interrupted (Ctrl-C): a partial trace is never a fit.
    """
    settings = checked_settings(settings)
    if settings.target_accept is None:
        settings = dataclasses.replace(settings, target_accept=spec.likelihood_obj.target_accept)
    arrays = model_arrays(spec, curves)
    tree, times = _sample(curves, spec, arrays, settings)
    r_hat, ess, divergences, convergence = check_convergence(tree, spec, settings)
    attempts = [attempt_record(settings, r_hat, ess, divergences)]
    notes = list(notes)
    if retry and not attempts[0]["converged"] and can_converge(settings):
        first = settings
        settings = retry_settings(settings)
        tree, again = _sample(curves, spec, arrays, settings)
        times = SamplingTimes(compile=times.compile, sample=times.sample + again.sample)
        r_hat, ess, divergences, convergence = check_convergence(tree, spec, settings, retried=True)
        attempts.append(attempt_record(settings, r_hat, ess, divergences))
        notes.append(retry_note(first, attempts))
    reliance, leaning = check_prior_reliance(tree, spec, curves)
    weak_nuisance = nuisance_notes(reliance, spec, curves)
    identification = check_identification(tree, spec, curves) + leaning
    fitted = Fit(
        tree=tree,
        data=curves,
        spec=spec,
        sampler=settings,
        diagnostics=Diagnostics(max_r_hat=r_hat, min_ess_bulk=ess, divergences=divergences),
        times=times,
        version=__version__,
    )
    predictive = predictive_check(fitted)
    law_check = check_law_fit(fitted, curve_at_observations(fitted).to_numpy())
    fitted.law_error = learn_law_error(fitted)
    drift = None if fitted.law_error is None else fitted.law_error.message()
    extrapolation = [m for m in [drift, learning_curve_message(spec.law_obj, curves)] if m]
    emit(convergence, ConvergenceWarning)
    emit(identification, IdentificationWarning)
    emit(predictive.messages(), PredictiveCheckWarning)
    emit(law_check.messages(), LawMisfitWarning)
    emit(extrapolation, ExtrapolationWarning)
    fitted.diagnostics = Diagnostics(
        max_r_hat=r_hat,
        min_ess_bulk=ess,
        divergences=divergences,
        warnings=[
            *convergence,
            *identification,
            *predictive.messages(),
            *law_check.messages(),
            *extrapolation,
        ],
        prior_reliance=[row.to_dict() for row in reliance],
        predictive=predictive.to_dict(),
        law_check=law_check.to_dict(),
        notes=[
            *notes,
            *weak_nuisance,
            *predictive.notes(),
            *single_run_notes(spec, curves),
            *([] if fitted.law_error is None else fitted.law_error.notes),
        ],
        attempts=attempts,
    )
    return fitted


def _sample(
    curves: CurveData, spec: ModelSpec, arrays: Mapping[str, np.ndarray], settings: SamplerSettings
) -> tuple[xr.DataTree, SamplingTimes]:
    """One sampling attempt: the posterior with run draws restored and the data attached."""
    tree, times = sample_posterior(
        spec, arrays, n_runs=len(curves.runs), n_recipes=len(curves.recipes), settings=settings
    )
    tree = restore_run_draws(tree, spec, arrays, np.random.default_rng(settings.seed))
    return attach_data(tree, curves), times


def retry_note(first: SamplerSettings, attempts: Sequence[Mapping[str, Any]]) -> str:
    """One line: the first attempt failed, what the second used and how it came out."""
    before, after = attempts
    outcome = "passed its checks" if after["converged"] else "still failed (see the warning)"
    return (
        f"first attempt (--tune {first.tune} --draws {first.draws} --target-accept "
        f"{first.target_accept:g}) failed its convergence checks (R-hat {before['max_r_hat']:.3f}, "
        f"{before['divergences']} divergences, bulk ESS {before['min_ess_bulk']:.0f}); "
        f"an automatic second attempt (--tune {after['tune']} --draws {after['draws']} "
        f"--target-accept {after['target_accept']:g}) {outcome}"
    )


def learn_law_error(fitted: Fit) -> LawError | None:
    """The law-error scale of ``fitted`` from internal leave-largest-out folds,
    started at its posterior medians (:mod:`bayescale.inference.law_error`).

    Learned for laws of a loss (log response), where the real-data and simulated
    backtests checked it; ``None`` for rates, whose curves' extrapolation is the
    observation model's (the drift forecast) and whose internal folds mistake a
    run's persistent drift for the law's error."""
    if fitted.law.response != "log":
        return None
    start = {
        recipe: {
            name: float(draws.median())
            for name, draws in fitted.parameter_draws(recipe=recipe).items()
        }
        for recipe in fitted.recipes
    }
    return estimate_law_error(fitted.data, fitted.law, start)


def attach_data(tree: xr.DataTree, curves: CurveData) -> xr.DataTree:
    """Label ``run``/``recipe`` coordinates and add the ``observed_data`` group."""
    posterior = tree["posterior"].to_dataset().assign_coords(run=curves.runs, recipe=curves.recipes)
    frame = curves.frame
    observed = xr.Dataset(
        {column: ("obs", frame[column].to_numpy()) for column in frame.columns},
        coords={"obs": range(len(frame))},
    )
    return xr.DataTree.from_dict(
        {
            "/posterior": posterior,
            "/sample_stats": tree["sample_stats"].to_dataset(),
            "/observed_data": observed,
        }
    )
