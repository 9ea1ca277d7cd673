"""Compile once per model structure, swap data in, sample with nutpie.

Compiling a PyMC model for nutpie takes seconds on a small machine while
sampling a curve family takes well under a second. :func:`sample_posterior`
keeps one compiled model per structure in this process (a
:class:`SampledModel`'s key: for the law models
:func:`~bayescale.model.build.structure_key`) and reuses it with
``compiled.with_data(...)`` for every new data set (also when the number of
points changes); every sampling call of bayescale goes through here. Models are compiled by
:func:`bayescale.inference.compile_cache.compile_pymc_model`: without numba fast-math (the
same seed gives the same numbers whatever the state of the compile caches) and
with nutpie's C callbacks and the compiled model's layout cached on disk, so a
new process that fits a structure this machine has fitted before rewrites no
graph and compiles nothing (:func:`~bayescale.inference.compile_cache.model_entry_key`).
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from bayescale.inference.compile_cache import compile_pymc_model, model_entry_key
from bayescale.inference.interrupts import SamplingInterrupted, check_complete, interruptible
from bayescale.model.build import ModelSpec, build_model, structure_key
from bayescale.results.provenance import SamplerSettings, SamplingTimes

_CACHE: dict[tuple, tuple[Any, Any]] = {}
_LOCK = threading.Lock()
#: Held while a model's data containers are set and its starting point drawn.
_START_LOCK = threading.Lock()

#: Fewest observations for which a fit on a terminal announces its duration.
ANNOUNCE_FROM = 10_000
#: Leapfrog steps per NUTS iteration assumed by the estimate: tree depths 3 to 5,
#: what the built-in models take on curves (measured: mostly depth 3-4).
STEPS_PER_ITERATION = (7, 31)


@dataclasses.dataclass(frozen=True)
class SampledModel:
    """A model for the core sampler: compiled once per ``key``, sampled on any data set.

    Law models are described by :func:`law_model`; other models (the isoFLOP
    model, :func:`bayescale.analysis.isoflop.isoflop_model`) build one themselves.

    Attributes
    ----------
    key : tuple
        Everything the compiled graph depends on that ``definitions`` and the
        package source do not fix (hashable, JSON-serialisable): the key of the
        in-process cache, and part of the on-disk layout's.
    build : callable
        ``build(arrays)``: the PyMC model on the data set ``arrays`` (every
        number that varies between data sets in a ``pm.Data`` container).
    definitions : tuple or None
        The definitions the graph is built from, for the on-disk layout cache
        (:func:`~bayescale.inference.compile_cache.model_entry_key`: bayescale's
        own dataclasses or module-level functions); ``None`` keeps the layout
        off the disk.
    adaptation : {"diag", "low_rank"}
        nutpie's mass-matrix adaptation.
    """

    key: tuple
    build: Callable[[Mapping[str, np.ndarray]], Any]
    definitions: tuple | None = None
    adaptation: str = "diag"


def law_model(spec: ModelSpec, n_runs: int, n_recipes: int) -> SampledModel:
    """The law model of ``spec`` for ``n_runs`` runs of ``n_recipes`` recipes.

    Examples
    --------
    >>> model = law_model(ModelSpec("sigmoid", "normal"), n_runs=3, n_recipes=1)
    >>> model.key[0], model.adaptation
    ('sigmoid', 'low_rank')
    """

    def build(arrays: Mapping[str, np.ndarray]) -> Any:
        return build_model(spec, arrays, n_runs, n_recipes)

    return SampledModel(
        key=structure_key(spec, n_runs, n_recipes),
        build=build,
        definitions=(spec.law_obj, spec.likelihood_obj),
        adaptation=spec.law_obj.adaptation,
    )


def sampled_model(
    spec: ModelSpec | SampledModel, n_runs: int | None = None, n_recipes: int | None = None
) -> SampledModel:
    """``spec`` as a :class:`SampledModel` (a law model needs ``n_runs`` and ``n_recipes``)."""
    if isinstance(spec, SampledModel):
        return spec
    if n_runs is None or n_recipes is None:
        raise TypeError("a ModelSpec is sampled with its n_runs and n_recipes")
    return law_model(spec, n_runs, n_recipes)


def compiled_model(
    spec: ModelSpec | SampledModel,
    arrays: Mapping[str, np.ndarray],
    n_runs: int | None = None,
    n_recipes: int | None = None,
):
    """The compiled nutpie model for this structure, compiling it on first use.

    Parameters
    ----------
    spec : ModelSpec or SampledModel
        A law model (with ``n_runs`` and ``n_recipes``) or any model to sample.
    arrays : mapping
        The data set a first compile builds the model with.
    n_runs, n_recipes : int, optional
        Only with a ``ModelSpec``.

    Returns
    -------
    compiled : nutpie compiled model
    model : pymc.Model
        The PyMC model it was compiled from (its data containers hold whatever
        data set was swapped in last, see :func:`_data_start`).
    seconds : float
        Time spent compiling now (0.0 on a cache hit).
    """
    sampled = sampled_model(spec, n_runs, n_recipes)
    with _LOCK:
        if sampled.key in _CACHE:
            return (*_CACHE[sampled.key], 0.0)
        start = time.perf_counter()
        model = sampled.build(arrays)
        entry = (
            None
            if sampled.definitions is None
            else model_entry_key(sampled.key, sampled.definitions)
        )
        _CACHE[sampled.key] = compile_pymc_model(model, entry=entry), model
        return (*_CACHE[sampled.key], time.perf_counter() - start)


def _data_start(model: Any, start: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """PyMC's default starting point (each prior's support point, jittered) for
    the data set ``arrays``.

    The starting point is a function of the PyMC model's data containers (the
    priors' data-centred arguments among them), while ``with_data`` swaps data
    into the compiled callbacks only. Without setting them, a model reused in one
    process would start each later data set's chains where the first data set's
    priors are centred, and the same seed would give other numbers depending on
    what ran before (measured: a 48-row Chinchilla fit with 250 iterations after
    another Chinchilla fit, R-hat 1.87 instead of 1.03).
    """

    def data_start(seed: Any) -> np.ndarray:
        with _START_LOCK:
            _set_data(model, arrays)
            return start(seed)

    return data_start


def _set_data(model: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Set the PyMC model's data containers to the data set ``arrays`` (hold
    ``_START_LOCK``: the cached model is shared by threads)."""
    for var in model.data_vars:
        if var.name in arrays:
            model.set_data(var.name, arrays[var.name])


def clear_cache() -> None:
    """Forget every compiled model (mainly for benchmarks)."""
    with _LOCK:
        _CACHE.clear()


def cache_size() -> int:
    """Number of compiled models kept in this process."""
    return len(_CACHE)


def sample_posterior(
    spec: ModelSpec | SampledModel,
    arrays: Mapping[str, np.ndarray],
    *,
    n_runs: int | None = None,
    n_recipes: int | None = None,
    settings: SamplerSettings,
    init: np.ndarray | None = None,
) -> tuple[xr.DataTree, SamplingTimes]:
    """Sample the posterior of ``spec`` on ``arrays``.

    ``spec``: a law model (with ``n_runs`` and ``n_recipes``) or any
    :class:`SampledModel`. ``init``: the chains' starting point on the
    unconstrained scale (the compiled model's flat parameter vector,
    :func:`unconstrained_point`), jittered by up to +/-0.1 per chain; default
    PyMC's initial point for these data jittered by +/-1 (nutpie's default).

    Returns
    -------
    tree : xarray.DataTree
        nutpie's output (groups ``posterior``, ``sample_stats``, warm-up groups
        dropped) with integer ``run``/``recipe`` coordinates.
    times : SamplingTimes

    Raises
    ------
    bayescale.inference.interrupts.SamplingInterrupted
        When sampling was interrupted (Ctrl-C) before every draw was made.
    """
    sampled = sampled_model(spec, n_runs, n_recipes)
    compiled, model, compile_seconds = compiled_model(sampled, arrays)
    if len(arrays["y"]) >= ANNOUNCE_FROM and sys.stderr.isatty():
        print(f"bayescale: {duration_note(compiled, arrays, settings)}", file=sys.stderr)
    start = time.perf_counter()
    with interruptible():
        tree = _run_nutpie(compiled, model, sampled, arrays, settings, init)
        seconds = time.perf_counter() - start
        keep = {name: tree[name] for name in ("posterior", "sample_stats") if name in tree.children}
        tree = xr.DataTree.from_dict({f"/{name}": node.to_dataset() for name, node in keep.items()})
    check_complete(tree, settings)
    return tree, SamplingTimes(compile=compile_seconds, sample=seconds)


def log_density_and_gradient(compiled: Any, point: np.ndarray) -> tuple[float, np.ndarray]:
    """The log density (unconstrained space) and its gradient at ``point``, through
    the compiled model's C callback (with the data it holds)."""
    pointer = ctypes.POINTER(ctypes.c_double)
    point = np.ascontiguousarray(point, dtype="float64")
    grad, logp = np.zeros(point.size), np.zeros(())
    status = compiled.compiled_logp_func.ctypes(
        point.size,
        point.ctypes.data_as(pointer),
        grad.ctypes.data_as(pointer),
        logp.ctypes.data_as(pointer),
        compiled.user_data.ctypes.data,
    )
    if status != 0:
        raise ValueError(f"the log density could not be evaluated (status {status})")
    return float(logp), grad


def gradient_seconds(compiled: Any, arrays: Mapping[str, np.ndarray], repeats: int = 5) -> float:
    """Median CPU seconds of one log density and gradient evaluation on ``arrays``,
    at the model's initial point (after one evaluation not counted).

    CPU time of this thread (the callback runs in it), not wall time: on a busy
    machine a long evaluation shares the cores and its wall time says more
    about the load than about the model.
    """
    compiled = compiled.with_data(**arrays)
    point = compiled.initial_point_func(0)
    log_density_and_gradient(compiled, point)
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        log_density_and_gradient(compiled, point)
        times.append(time.thread_time() - start)
    return float(np.median(times))


def duration_note(
    compiled: Any, arrays: Mapping[str, np.ndarray], settings: SamplerSettings
) -> str:
    """One line estimating the sampling time from a timed gradient.

    Each NUTS iteration takes :data:`STEPS_PER_ITERATION` gradient evaluations;
    chains run on ``settings.cores`` cores (default all).

    Examples
    --------
    The line for a model whose gradient takes a millisecond (an invented figure):

    >>> import bayescale.inference.sampling as sampling
    >>> real, sampling.gradient_seconds = sampling.gradient_seconds, lambda c, a: 1e-3
    >>> print(duration_note(None, {"y": np.zeros(10**6)}, SamplerSettings(cores=2)))
    one gradient on 1,000,000 points takes 1.0 ms: sampling 4 chains x 2000 iterations on 2 cores takes about 28 s to 2 min
    >>> sampling.gradient_seconds = real
    """
    seconds = gradient_seconds(compiled, arrays)
    cores = settings.cores or os.cpu_count() or 1
    rounds = math.ceil(settings.chains / min(cores, settings.chains))
    iterations = settings.draws + settings.tune
    low, high = (seconds * iterations * steps * rounds for steps in STEPS_PER_ITERATION)
    return (
        f"one gradient on {len(arrays['y']):,} points takes {seconds * 1e3:.1f} ms: sampling "
        f"{settings.chains} chains x {iterations} iterations on {min(cores, settings.chains)} "
        f"cores takes about {_duration(low)} to {_duration(high)}"
    )


def _duration(seconds: float) -> str:
    """``28 s``, ``4 min`` or ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _run_nutpie(
    compiled: Any,
    model: Any,
    sampled: SampledModel,
    arrays: Mapping[str, np.ndarray],
    settings: SamplerSettings,
    init: np.ndarray | None,
    **options: Any,
) -> Any:
    """nutpie's sampler on ``compiled`` (built from ``model``, described by
    ``sampled``) with ``arrays`` swapped in, started at ``init`` (jittered) when
    given, else at the default start for these data; ``options`` go to
    ``nutpie.sample``."""
    import nutpie

    compiled = compiled.with_data(**arrays)
    start = (
        _jittered(init, compiled.n_dim)
        if init is not None
        else _data_start(model, compiled.initial_point_func, arrays)
    )
    compiled = dataclasses.replace(compiled, initial_point_func=start)
    return nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=settings.cores,
        seed=settings.seed,
        target_accept=settings.target_accept,
        adaptation=sampled.adaptation,
        save_warmup=False,
        progress_bar=False,
        **options,
    )


def sample_draws(
    spec: ModelSpec,
    arrays: Mapping[str, np.ndarray],
    *,
    n_runs: int,
    n_recipes: int,
    settings: SamplerSettings,
    names: tuple[str, ...],
    init: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], int]:
    """Only the posterior draws of ``names``, and the number of divergent transitions.

    The same sampling as :func:`sample_posterior` (same draws for the same seed),
    but nutpie's raw trace is read directly instead of being converted to xarray
    (measured: 0.08 s of 0.68 s per planning refit).

    Returns
    -------
    draws : dict
        Name -> array of shape (chains x draws, size of the variable), chains
        concatenated.
    divergences : int
    """
    import pyarrow

    sampled = law_model(spec, n_runs, n_recipes)
    compiled, model, _ = compiled_model(sampled, arrays)
    with interruptible():
        trace = _run_nutpie(compiled, model, sampled, arrays, settings, init, return_raw_trace=True)
    draw_batches, stat_batches = trace.get_arrow_trace()
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}
    divergences = 0
    for draws, stats in zip(draw_batches, stat_batches, strict=True):
        keep = ~_column(pyarrow, stats, "tuning").astype(bool)
        divergences += int(_column(pyarrow, stats, "diverging")[keep].sum())
        for name in names:
            chunks[name].append(_column(pyarrow, draws, name).reshape(draws.num_rows, -1)[keep])
    made = sum(len(part) for part in chunks[names[0]]) if names else 0
    if names and made < settings.chains * settings.draws:
        raise SamplingInterrupted(
            f"sampling was interrupted after {made} of {settings.chains * settings.draws} draws"
        )
    return {name: np.concatenate(parts) for name, parts in chunks.items()}, divergences


def _column(pyarrow, batch, name: str) -> np.ndarray:
    """One column of a nutpie trace batch as numpy (list columns flattened)."""
    column = pyarrow.array(batch.column(name))
    if hasattr(column, "flatten"):
        column = column.flatten()
    return column.to_numpy(zero_copy_only=False)


def _jittered(point: np.ndarray, n_dim: int):
    """nutpie's initial-point function: ``point`` plus uniform(-0.1, 0.1) noise,
    seeded by nutpie's per-chain seed."""
    point = np.asarray(point, dtype="float64")
    if point.shape != (n_dim,):
        raise ValueError(f"init has shape {point.shape}, the model has {n_dim} parameters")

    def initial_point(seed=None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return point + rng.uniform(-0.1, 0.1, size=n_dim)

    return initial_point


def unconstrained_point(
    spec: ModelSpec,
    arrays: Mapping[str, np.ndarray],
    n_runs: int,
    n_recipes: int,
    values: Mapping[str, np.ndarray],
) -> np.ndarray:
    """The compiled model's flat unconstrained vector at the constrained ``values``
    (free variable name -> array of its shape).

    Variables missing from ``values`` (or of another shape) take PyMC's initial
    point (the support point of their prior).
    """
    from pymc.initial_point import make_initial_point_fn

    compiled, model, _ = compiled_model(spec, arrays, n_runs, n_recipes)
    with _START_LOCK:
        _set_data(model, arrays)
        default = model.initial_point()
        overrides = {}
        for rv in model.free_RVs:
            value = values.get(rv.name)
            shape = np.shape(default[model.rvs_to_values[rv].name])
            if value is not None and np.shape(value) == shape:
                overrides[rv] = np.asarray(value, dtype="float64")
        point = make_initial_point_fn(
            model=model, overrides=overrides, jitter_rvs=set(), return_transformed=True
        )(0)
    # nutpie's flat vector joins the value variables in the order of model.free_RVs
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    flat = np.concatenate([np.asarray(point[name], dtype="float64").ravel() for name in names])
    if flat.shape != (compiled.n_dim,):
        raise ValueError(f"point of {flat.size} values for a model of {compiled.n_dim} parameters")
    return flat
