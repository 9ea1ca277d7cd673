"""Simulated RL training curves with a known truth.

The simulator draws, for each run (seed) of a recipe, run-level law parameters around
the recipe-level ones, evaluates the noiseless curve with the registered law, adds a
slow AR(1) drift within the run, and measures the result the way RL papers do: the
mean@k pass rate over a set of held-out prompts.

Noise model, per evaluation ``t`` of run ``r``:

1. ``true_mean[r, t] = law.curve({"x": log(gpu_hours[t])}, params_r)``.
2. ``drift[r, t] = drift_corr * drift[r, t-1] + sqrt(1 - drift_corr**2) * drift_sd * e``
   with ``drift[r, 0] ~ Normal(0, drift_sd)`` (stationary AR(1), sd ``drift_sd``).
3. ``m = clip(true_mean + drift, 0, 1)``.
4. Each of ``n_prompts`` prompts gets a solve probability
   ``p ~ Beta(m * kappa, (1 - m) * kappa)`` (``kappa = prompt_concentration``; the
   mean is ``m``), then ``Binomial(samples_per_prompt, p)`` successes; the pass rate
   is the total number of successes over ``n_prompts * samples_per_prompt``.

Step 4 is drawn exactly but without one draw per prompt: the prompts are i.i.d., so
the number of prompts solved ``j`` times out of ``samples_per_prompt`` is multinomial
with beta-binomial cell probabilities. The cost is independent of ``n_prompts``.

Examples
--------
>>> from bayescale.studies.simulate import simulate_runs
>>> df = simulate_runs(params={"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}, rng=0)
>>> df.shape
(300, 6)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bayescale.model.laws import Law, get_law

__all__ = ["simulate_recipes", "simulate_runs"]

COLUMNS = ("seed", "step", "gpu_hours", "pass_rate", "held_out", "true_mean")
"""Columns of :func:`simulate_runs`, in order."""

DEFAULT_SEED_SD: dict[str, float] = {"A": 0.01}
"""Default run-to-run spread: the asymptote A varies by 0.01 between seeds."""

_EPS = 1e-9


def simulate_runs(
    *,
    law: str = "sigmoid",
    params: Mapping[str, float],
    n_runs: int = 3,
    seed_sd: Mapping[str, float] | None = None,
    x_max: float = 100_000.0,
    gpu_hours_per_step: float = 10.0,
    eval_every: int = 100,
    n_prompts: int = 1000,
    samples_per_prompt: int = 16,
    prompt_concentration: float = 2.0,
    drift_sd: float = 0.01,
    drift_corr: float = 0.9,
    held_out_from: float | None = 50_000.0,
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate pass-rate curves of several runs (seeds) of one recipe.

    Parameters
    ----------
    law : str, default "sigmoid"
        Name of a registered law with the single input ``"x"`` (compute) and a
        bounded metric, e.g. ``"sigmoid"``.
    params : mapping of str to float
        Recipe-level law parameters in natural units (for the sigmoid: ``A``, ``B``,
        ``C_mid`` in GPU-hours, ``R0``). Must hold exactly the law's parameters.
    n_runs : int, default 3
        Number of independent runs (seeds).
    seed_sd : mapping of str to float, optional
        Run-to-run spread of the parameters. Parameters the law declares positive
        vary on the log scale (``B_run = B * exp(sd * z)``), the others additively
        (``A_run = A + sd * z``), with ``z ~ Normal(0, 1)`` per run. Parameters not
        named do not vary. Default ``{"A": 0.01}``; ``{}`` gives identical runs.
    x_max : float, default 100_000.0
        Largest compute (GPU-hours) evaluated.
    gpu_hours_per_step : float, default 10.0
        GPU-hours per training step; ``gpu_hours = step * gpu_hours_per_step``.
    eval_every : int, default 100
        Training steps between evaluations. Evaluations happen at steps
        ``eval_every, 2 * eval_every, ...`` while ``gpu_hours <= x_max``.
    n_prompts : int, default 1000
        Number of held-out evaluation prompts.
    samples_per_prompt : int, default 16
        Generations per prompt (the k of mean@k).
    prompt_concentration : float, default 2.0
        Concentration ``kappa`` of the Beta distribution of per-prompt solve
        probabilities around the curve value (smaller: more heterogeneous prompts,
        noisier pass rates). ``numpy.inf`` makes every prompt equally hard (pure
        binomial noise).
    drift_sd : float, default 0.01
        Stationary standard deviation of the slow AR(1) drift within a run.
    drift_corr : float, default 0.9
        Correlation of the drift between consecutive evaluations, in [0, 1).
    held_out_from : float or None, default 50_000.0
        Points with ``gpu_hours > held_out_from`` are marked ``held_out``; ``None``
        marks none.
    rng : int, numpy.random.Generator or None
        Seed or generator for reproducible draws.

    Returns
    -------
    pandas.DataFrame
        One row per run and evaluation, with columns ``seed`` (``"seed0"``, ...),
        ``step`` (int), ``gpu_hours`` (float), ``pass_rate`` (float in [0, 1]),
        ``held_out`` (bool) and ``true_mean`` (the run's noiseless curve, without
        drift). ``df.attrs["run_params"]`` maps each seed to its drawn parameters.

    Raises
    ------
    ValueError
        If the law is unknown or unsuitable, ``params`` or ``seed_sd`` name missing or
        unknown parameters, or a setting is out of range.

    Examples
    --------
    >>> from bayescale.studies.simulate import simulate_runs
    >>> truth = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
    >>> df = simulate_runs(params=truth, n_runs=2, x_max=20_000.0, rng=1)
    >>> sorted(df["seed"].unique())
    ['seed0', 'seed1']
    >>> bool(df["pass_rate"].between(0, 1).all())
    True
    """
    law_obj = _check_law(law)
    recipe_params = _check_params(law_obj, params)
    spread = _check_seed_sd(law_obj, DEFAULT_SEED_SD if seed_sd is None else seed_sd)
    _check_settings(
        n_runs=n_runs,
        x_max=x_max,
        gpu_hours_per_step=gpu_hours_per_step,
        eval_every=eval_every,
        n_prompts=n_prompts,
        samples_per_prompt=samples_per_prompt,
        prompt_concentration=prompt_concentration,
        drift_sd=drift_sd,
        drift_corr=drift_corr,
    )
    generator = np.random.default_rng(rng)

    steps = _evaluation_steps(x_max, gpu_hours_per_step, eval_every)
    gpu_hours = steps * float(gpu_hours_per_step)
    run_params = _draw_run_params(law_obj, recipe_params, spread, n_runs, generator)
    true_mean = law_obj.curve({"x": np.log(gpu_hours)[None, :]}, run_params)
    drift = _ar1_drift((n_runs, steps.size), drift_sd, drift_corr, generator)
    observed_mean = np.clip(true_mean + drift, 0.0, 1.0)
    pass_rate = _measure_pass_rate(
        observed_mean, n_prompts, samples_per_prompt, prompt_concentration, generator
    )

    seeds = [f"seed{i}" for i in range(n_runs)]
    frame = pd.DataFrame(
        {
            "seed": np.repeat(seeds, steps.size),
            "step": np.tile(steps, n_runs),
            "gpu_hours": np.tile(gpu_hours, n_runs),
            "pass_rate": pass_rate.ravel(),
            "held_out": np.tile(_held_out(gpu_hours, held_out_from), n_runs),
            "true_mean": np.asarray(true_mean, dtype=float).ravel(),
        }
    )
    frame.attrs["run_params"] = {
        seed: {name: float(value[i, 0]) for name, value in run_params.items()}
        for i, seed in enumerate(seeds)
    }
    return frame


def simulate_recipes(recipes: Mapping[str, Mapping[str, Any]], **kwargs: Any) -> pd.DataFrame:
    """Simulate several recipes into one frame with a ``recipe`` column.

    Parameters
    ----------
    recipes : mapping of str to mapping
        Recipe name to ``{"params": {...}, "n_runs": int}``; ``n_runs`` defaults
        to 3. A recipe may also set ``"seed_sd"`` to override the shared one.
    **kwargs
        Passed to :func:`simulate_runs` for every recipe (``law``, ``x_max``,
        ``drift_sd``, ..., ``rng``). One generator is made from ``rng`` and used for
        all recipes in order, so a fixed seed reproduces the whole frame.

    Returns
    -------
    pandas.DataFrame
        Column ``recipe`` followed by the columns of :func:`simulate_runs`. Seeds
        are unique across recipes: ``"<recipe>/seed0"``, ``"<recipe>/seed1"``, ...
        ``df.attrs["run_params"]`` maps each of these seeds to its parameters.

    Raises
    ------
    ValueError
        If ``recipes`` is empty, a recipe lacks ``params`` or has unknown keys, or
        :func:`simulate_runs` rejects its settings (the message names the recipe).

    Examples
    --------
    >>> from bayescale.studies.simulate import simulate_recipes
    >>> base = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
    >>> df = simulate_recipes(
    ...     {"base": {"params": base, "n_runs": 2}, "one": {"params": base, "n_runs": 1}},
    ...     x_max=10_000.0,
    ...     rng=0,
    ... )
    >>> df.groupby("recipe")["seed"].nunique().to_dict()
    {'base': 2, 'one': 1}
    """
    if not recipes:
        raise ValueError("recipes is empty: give at least one recipe")
    if "params" in kwargs or "n_runs" in kwargs:
        raise ValueError("give params and n_runs per recipe, not as keyword arguments")
    generator = np.random.default_rng(kwargs.pop("rng", None))
    frames = []
    run_params: dict[str, dict[str, float]] = {}
    for name, spec in recipes.items():
        frame = _simulate_recipe(str(name), spec, generator, kwargs)
        run_params.update(frame.attrs["run_params"])
        frames.append(frame)
    combined = pd.concat(frames, ignore_index=True)
    combined.attrs = {"run_params": run_params}
    return combined


def _simulate_recipe(
    name: str, spec: Mapping[str, Any], generator: np.random.Generator, kwargs: Mapping
) -> pd.DataFrame:
    """Simulate one recipe of :func:`simulate_recipes` and prefix its seeds."""
    unknown = set(spec) - {"params", "n_runs", "seed_sd"}
    if "params" not in spec or unknown:
        raise ValueError(
            f"recipe {name!r} must be a dict with 'params' and optionally 'n_runs' and "
            f"'seed_sd'; got keys {sorted(spec)}"
        )
    options = {**kwargs, "n_runs": spec.get("n_runs", 3)}
    if "seed_sd" in spec:
        options["seed_sd"] = spec["seed_sd"]
    try:
        frame = simulate_runs(params=spec["params"], rng=generator, **options)
    except ValueError as err:
        raise ValueError(f"recipe {name!r}: {err}") from None
    frame["seed"] = name + "/" + frame["seed"]
    frame.insert(0, "recipe", name)
    frame.attrs["run_params"] = {
        f"{name}/{seed}": values for seed, values in frame.attrs["run_params"].items()
    }
    return frame


def _check_law(name: str) -> Law:
    """Return the law, checking it is a bounded law of compute alone."""
    law = get_law(name)
    if tuple(law.inputs) != ("x",):
        raise ValueError(
            f"law {name!r} has inputs {law.inputs}; simulate_runs needs a law of compute "
            "alone (input 'x')"
        )
    if not law.bounded:
        raise ValueError(f"law {name!r} is not a bounded metric; simulate_runs makes pass rates")
    return law


def _check_params(law: Law, params: Mapping[str, float]) -> dict[str, float]:
    """Check ``params`` has exactly the law's parameters, finite and in range."""
    missing = [p for p in law.parameters if p not in params]
    unknown = sorted(set(params) - set(law.parameters))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing parameter(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown parameter(s) {', '.join(unknown)}")
        raise ValueError(
            f"params for law {law.name!r}: {'; '.join(parts)} "
            f"(expected exactly {', '.join(law.parameters)})"
        )
    checked = {}
    for name in law.parameters:
        value = float(params[name])
        if not np.isfinite(value):
            raise ValueError(f"parameter {name} must be finite, got {params[name]!r}")
        if name in law.positive and value <= 0:
            raise ValueError(f"parameter {name} must be > 0, got {value}")
        checked[name] = value
    return checked


def _check_seed_sd(law: Law, seed_sd: Mapping[str, float]) -> dict[str, float]:
    """Check the run-level spreads name law parameters and are >= 0."""
    unknown = sorted(set(seed_sd) - set(law.parameters))
    if unknown:
        raise ValueError(
            f"seed_sd names unknown parameter(s) {', '.join(unknown)} for law {law.name!r} "
            f"(choose from {', '.join(law.parameters)})"
        )
    checked = {name: float(sd) for name, sd in seed_sd.items()}
    negative = [name for name, sd in checked.items() if not sd >= 0]
    if negative:
        raise ValueError(f"seed_sd must be >= 0; check {', '.join(negative)}")
    return checked


def _check_settings(**settings: float) -> None:
    """Check the numeric settings of :func:`simulate_runs`."""
    rules = {
        "n_runs": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
        "eval_every": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
        "n_prompts": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
        "samples_per_prompt": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
        "x_max": (lambda v: np.isfinite(v) and v > 0, "> 0"),
        "gpu_hours_per_step": (lambda v: np.isfinite(v) and v > 0, "> 0"),
        "prompt_concentration": (lambda v: v > 0, "> 0 (or numpy.inf)"),
        "drift_sd": (lambda v: np.isfinite(v) and v >= 0, ">= 0"),
        "drift_corr": (lambda v: 0 <= v < 1, "in [0, 1)"),
    }
    for name, value in settings.items():
        is_valid, requirement = rules[name]
        if not is_valid(value):
            raise ValueError(f"{name} must be {requirement}, got {value!r}")
    if settings["x_max"] < settings["gpu_hours_per_step"] * settings["eval_every"]:
        raise ValueError(
            "x_max is below the first evaluation (gpu_hours_per_step * eval_every): "
            "no points to simulate"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _evaluation_steps(x_max: float, gpu_hours_per_step: float, eval_every: int) -> np.ndarray:
    """Training steps at which the runs are evaluated."""
    n_evals = int(np.floor(x_max / (gpu_hours_per_step * eval_every) + 1e-9))
    return eval_every * np.arange(1, n_evals + 1, dtype=np.int64)


def _draw_run_params(
    law: Law,
    params: Mapping[str, float],
    seed_sd: Mapping[str, float],
    n_runs: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Run-level parameters as ``(n_runs, 1)`` arrays (log scale for positive ones)."""
    z = rng.standard_normal((n_runs, len(law.parameters)))
    drawn = {}
    for k, name in enumerate(law.parameters):
        shift = seed_sd.get(name, 0.0) * z[:, k]
        if name in law.positive:
            drawn[name] = params[name] * np.exp(shift)
        else:
            drawn[name] = params[name] + shift
        drawn[name] = drawn[name][:, None]
    return drawn


def _ar1_drift(
    shape: tuple[int, int], sd: float, corr: float, rng: np.random.Generator
) -> np.ndarray:
    """Stationary AR(1) series along the last axis, marginal sd ``sd``."""
    import scipy.signal

    innovations = rng.standard_normal(shape) * sd
    innovations[:, 1:] *= np.sqrt(1.0 - corr**2)
    return scipy.signal.lfilter([1.0], [1.0, -corr], innovations, axis=-1)


def _measure_pass_rate(
    mean: np.ndarray,
    n_prompts: int,
    samples_per_prompt: int,
    concentration: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mean@k pass rate over ``n_prompts`` prompts whose solve rates average ``mean``.

    Draws how many prompts are solved ``j = 0..k`` times (multinomial over
    beta-binomial probabilities), which equals drawing every prompt and is exact.
    """
    import scipy.stats

    solved = np.arange(samples_per_prompt + 1)
    m = np.clip(mean, _EPS, 1.0 - _EPS)[..., None]
    if np.isinf(concentration):
        probs = scipy.stats.binom.pmf(solved, samples_per_prompt, m)
    else:
        a, b = m * concentration, (1.0 - m) * concentration
        probs = scipy.stats.betabinom.pmf(solved, samples_per_prompt, a, b)
    probs = probs / probs.sum(axis=-1, keepdims=True)
    counts = rng.multinomial(n_prompts, probs)
    return (counts @ solved) / (n_prompts * samples_per_prompt)


def _held_out(gpu_hours: np.ndarray, held_out_from: float | None) -> np.ndarray:
    """Mask of evaluations beyond the hold-out boundary."""
    if held_out_from is None:
        return np.zeros(gpu_hours.shape, dtype=bool)
    return gpu_hours > float(held_out_from)
