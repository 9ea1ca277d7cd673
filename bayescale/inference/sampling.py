"""Compile once per model structure, swap data in, sample with nutpie.

Compiling a PyMC model for nutpie takes seconds on a small machine while
sampling a curve family takes well under a second. :func:`sample_posterior`
keeps one compiled model per :func:`~bayescale.model.build.structure_key` in this
process and reuses it with ``compiled.with_data(...)`` for every new data set
(also when the number of points changes). Models are compiled by
:func:`bayescale.inference.compile_cache.compile_pymc_model`: without numba fast-math (the
same seed gives the same numbers whatever the state of the compile caches) and
with nutpie's C callbacks cached on disk, so a new process that fits a structure
this machine has fitted before skips most of the compile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from bayescale.inference.compile_cache import compile_pymc_model
from bayescale.model.build import ModelSpec, build_model, structure_key
from bayescale.results.provenance import SamplerSettings, SamplingTimes

_CACHE: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def compiled_model(spec: ModelSpec, arrays: Mapping[str, np.ndarray], n_runs: int, n_recipes: int):
    """The compiled nutpie model for this structure, compiling it on first use.

    Returns
    -------
    compiled : nutpie compiled model
    seconds : float
        Time spent compiling now (0.0 on a cache hit).
    """
    key = structure_key(spec, n_runs, n_recipes)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key], 0.0
        start = time.perf_counter()
        model = build_model(spec, arrays, n_runs, n_recipes)
        compiled = compile_pymc_model(model)
        _CACHE[key] = compiled
        return compiled, time.perf_counter() - start


def clear_cache() -> None:
    """Forget every compiled model (mainly for benchmarks)."""
    with _LOCK:
        _CACHE.clear()


def cache_size() -> int:
    """Number of compiled models kept in this process."""
    return len(_CACHE)


def sample_posterior(
    spec: ModelSpec,
    arrays: Mapping[str, np.ndarray],
    *,
    n_runs: int,
    n_recipes: int,
    settings: SamplerSettings,
) -> tuple[xr.DataTree, SamplingTimes]:
    """Sample the posterior of ``spec`` on ``arrays``.

    Returns
    -------
    tree : xarray.DataTree
        nutpie's output (groups ``posterior``, ``sample_stats``, warm-up groups
        dropped) with integer ``run``/``recipe`` coordinates.
    times : SamplingTimes
    """
    import nutpie

    compiled, compile_seconds = compiled_model(spec, arrays, n_runs, n_recipes)
    start = time.perf_counter()
    tree = nutpie.sample(
        compiled.with_data(**arrays),
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=settings.cores,
        seed=settings.seed,
        target_accept=settings.target_accept,
        adaptation=spec.law_obj.adaptation,
        save_warmup=False,
        progress_bar=False,
    )
    seconds = time.perf_counter() - start
    keep = {name: tree[name] for name in ("posterior", "sample_stats") if name in tree.children}
    return xr.DataTree.from_dict({f"/{name}": node.to_dataset() for name, node in keep.items()}), (
        SamplingTimes(compile=compile_seconds, sample=seconds)
    )
