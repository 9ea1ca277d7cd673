"""Fit many independent data sets: compile once per model structure, fan out.

:func:`fit_many` fits every data set of a collection with :func:`bayescale.fit`
and the same options. The work goes through an executor:

- ``executor=None`` (default): local worker processes
  (:class:`concurrent.futures.ProcessPoolExecutor`, ``spawn`` start method).
- ``executor="serial"``: in this process, one after the other; reuses the
  models this process has already compiled (e.g. in a notebook).
- any object with a ``submit(fn, *args)`` method returning futures with
  ``result()`` and ``add_done_callback()``: a
  :class:`~concurrent.futures.ThreadPoolExecutor`, a
  :class:`~concurrent.futures.ProcessPoolExecutor`, or a
  ``dask.distributed.Client`` connected to a cluster.

Why it is fast: compiling a model costs seconds to tens of seconds, sampling a
curve family well under a few. :mod:`bayescale.inference.sampling` keeps one compiled model
per structure (law x likelihood x hierarchy x prior families x numbers of runs
and recipes) in each process and swaps the data in. Worker processes (and Dask
workers) live for the whole batch, so each worker compiles a structure once, on
its first data set, and every later data set it receives is a warm fit. Data sets
that differ only in their number of points, or in prior values, share a
structure; a different number of runs or recipes is a different structure.

Fits travel back from workers pickled (a :class:`~bayescale.results.fit_result.Fit` is an
xarray DataTree plus small dataclasses). Pickle is only used between your own
processes; files on disk stay netCDF (:mod:`bayescale.results.persistence`).

Examples
--------
The same runs cut at three compute budgets share one structure: in this
process (``"serial"``) the first fit compiles it, or none does if an earlier fit
already has, and the others only sample:

>>> import pandas as pd
>>> import bayescale as bs
>>> df = pd.read_csv(bs.example_path("scalerl_3seeds"))
>>> cuts = {c: df[df["gpu_hours"] <= c] for c in (10_000, 20_000, 40_000)}
>>> fits = bs.fit_many(cuts, executor="serial", x="gpu_hours", y="pass_rate",
...                    run="seed", min_x=1500, seed=1)  # doctest: +SKIP
>>> [fit.times.compile for fit in fits][1:]  # doctest: +SKIP
[0.0, 0.0]
"""

from __future__ import annotations

import contextlib
import inspect
import multiprocessing
import os
import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd

from bayescale.inference.diagnostics import (
    ConvergenceWarning,
    IdentificationWarning,
    PredictiveCheckWarning,
)
from bayescale.inference.fitting import fit
from bayescale.inference.progress import Progress
from bayescale.results.fit_result import Fit
from bayescale.user_warnings import BayescaleWarning, warn

__all__ = ["FitManyWarning", "ManyFits", "fit_many"]

Dataset = pd.DataFrame | str | Path
#: One task item: (position, name, data, seed).
_Item = tuple[int, str, Dataset, int | None]
#: One task result item: (position, fit or None, error message or None).
_Outcome = tuple[int, Fit | None, str | None]


class FitManyWarning(BayescaleWarning):
    """Some fits of a batch failed or have diagnostic warnings."""


class Executor(Protocol):
    """What :func:`fit_many` needs from an executor: ``submit(fn, *args)``."""

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...


@dataclass
class ManyFits:
    """The fits of :func:`fit_many`, in the order of the data sets.

    Attributes
    ----------
    names : list of str
        Data set names (list positions ``"0"``, ``"1"``, ... for a list; keys for
        a dict; group values for ``by=``).
    fits : list of Fit or None
        ``None`` where the fit failed.
    errors : list of str or None
        ``"ExceptionType: message"`` where the fit failed, else ``None``.
    seconds : float
        Wall-clock time of the whole batch.

    Examples
    --------
    >>> fits = bs.fit_many({"a": df_a, "b": df_b}, x="gpu_hours", y="pass_rate",
    ...                    run="seed", executor="serial")  # doctest: +SKIP
    >>> fits["a"].summary()  # doctest: +SKIP
    >>> fits.failed  # {} when every fit succeeded  # doctest: +SKIP
    """

    names: list[str]
    fits: list[Fit | None]
    errors: list[str | None]
    seconds: float = 0.0
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[Fit | None]:
        return iter(self.fits)

    def __getitem__(self, key: int | str) -> Fit:
        """The fit at a position or with a name; raises if that fit failed."""
        position = self._index[key] if isinstance(key, str) else key
        result = self.fits[position]
        if result is None:
            raise RuntimeError(f"fit {self.names[position]!r} failed: {self.errors[position]}")
        return result

    @property
    def failed(self) -> dict[str, str]:
        """Name -> error message of every failed fit."""
        return {n: e for n, e in zip(self.names, self.errors, strict=True) if e is not None}

    def table(self) -> pd.DataFrame:
        """One row per data set: status, timings and convergence diagnostics.

        Returns
        -------
        pandas.DataFrame
            Index ``name``; columns ``ok``, ``error``, ``points``, ``compile_s``,
            ``sample_s``, ``max_r_hat``, ``min_ess_bulk``, ``divergences``,
            ``warnings`` (number of diagnostic warnings).
        """
        rows = []
        for name, result, error in zip(self.names, self.fits, self.errors, strict=True):
            row: dict[str, Any] = {"name": name, "ok": result is not None, "error": error}
            if result is not None:
                times, diag = result.times, result.diagnostics
                row |= {
                    "points": len(result.data),
                    "compile_s": times.compile if times else float("nan"),
                    "sample_s": times.sample if times else float("nan"),
                    "max_r_hat": diag.max_r_hat,
                    "min_ess_bulk": diag.min_ess_bulk,
                    "divergences": diag.divergences,
                    "warnings": len(diag.warnings),
                }
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")


def fit_many(
    datasets: Sequence[Dataset] | Mapping[Any, Dataset] | pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    executor: Executor | Literal["serial"] | None = None,
    workers: int | None = None,
    chunk_size: int = 1,
    progress: bool | str = True,
    seed: int | None = None,
    cores: int | None = None,
    **fit_options: Any,
) -> ManyFits:
    """Fit a collection of independent data sets with the same model options.

    Parameters
    ----------
    datasets : list, dict or DataFrame
        A list of DataFrames or file paths; a dict name -> DataFrame or path; or
        one DataFrame split into data sets by the ``by`` column(s) (e.g. one data
        set per recipe). Paths are read by the workers, so on a remote cluster
        pass DataFrames or paths every worker can read.
    by : str or list of str, optional
        Grouping column(s) when ``datasets`` is a DataFrame.
    executor : None, "serial" or executor
        ``None``: a local process pool made for this call (``workers`` processes).
        ``"serial"``: this process, one fit after the other. Otherwise any object
        with ``submit(fn, *args)`` returning futures with ``result()`` and
        ``add_done_callback()``: a ``concurrent.futures`` executor or a
        ``dask.distributed.Client``. Workers must have bayescale installed.
    workers : int, optional
        Processes of the default pool; by default ``os.cpu_count() // chains``
        (at least 1), so each worker runs its chains in parallel on its own cores.
    chunk_size : int
        Data sets per task. Workers keep their compiled models between tasks, so
        1 (finest progress and load balance) already compiles once per worker;
        larger chunks only save scheduling overhead on big clusters.
    progress : bool or str
        Show a progress bar with the time left on stderr when it is a terminal
        (a string: the bar's label, default ``"fit_many"``).
    seed : int, optional
        Data set ``i`` is fitted with seed ``seed + i`` (so the first data set
        gives the same draws as ``bs.fit(..., seed=seed)``); ``None``: random.
    cores : int, optional
        Parallel chains per fit; with the default pool ``os.cpu_count() // workers``.
    **fit_options
        Everything else :func:`bayescale.fit` takes: ``law``, ``x``, ``y``,
        ``run``, ``recipe``, ``likelihood``, ``varying``, ``priors``, ``min_x``,
        ``max_x``, ``draws``, ``tune``, ``chains``, ...

    Returns
    -------
    ManyFits
        Fits in the order of ``datasets``; a failed fit is ``None`` with its
        error message recorded, and the others go on.

    Raises
    ------
    TypeError
        If ``fit_options`` has an option :func:`bayescale.fit` does not take, or
        ``executor`` is not an executor.
    ValueError
        For an empty collection, a DataFrame without ``by`` or a missing ``by``
        column.

    Warns
    -----
    FitManyWarning
        Once per batch, counting failed fits and fits with diagnostic warnings
        (each fit's own warnings are in ``fit.diagnostics.warnings`` and
        :meth:`ManyFits.table`, not repeated per fit, except for fits run on
        executor threads, which warn as usual).

    Notes
    -----
    The default pool starts its workers with ``spawn``: in a script, call
    ``fit_many`` under ``if __name__ == "__main__":`` (as for any
    multiprocessing code). Batch studies (calibration, backtests, sweeps) can
    call this function to spread their fits over processes or a cluster. To run
    on a Dask cluster::

        from dask.distributed import Client
        client = Client("tcp://scheduler:8786")   # or Client(LocalCluster(...))
        fits = bs.fit_many(frames, executor=client, y="pass_rate", x="gpu_hours")

    Examples
    --------
    >>> import pandas as pd
    >>> import bayescale as bs
    >>> df = pd.read_csv(bs.example_path("recipes"))
    >>> fits = bs.fit_many(df, by="recipe", x="gpu_hours", y="pass_rate",
    ...                    run="seed", seed=1)  # doctest: +SKIP
    >>> fits.table()[["ok", "max_r_hat", "sample_s"]]  # doctest: +SKIP
    """
    _check_fit_options(fit_options)
    named = _named_datasets(datasets, by)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    if executor is not None and executor != "serial" and not hasattr(executor, "submit"):
        raise TypeError(
            f"fit_many: executor must be None, 'serial' or have a submit method, got {executor!r}"
        )
    items = [
        (i, name, data, None if seed is None else seed + i)
        for i, (name, data) in enumerate(named.items())
    ]
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    label = progress if isinstance(progress, str) else "fit_many"
    bar = Progress(len(items), label=label, enabled=bool(progress))
    start = time.perf_counter()
    outcomes: dict[int, _Outcome] = {}
    try:
        if executor == "serial":
            for chunk in chunks:
                _record(outcomes, _fit_chunk(chunk, {**fit_options, "cores": cores}), bar)
        elif executor is None:
            _run_on_local_pool(chunks, fit_options, workers, cores, outcomes, bar)
        else:
            _run_on(executor, chunks, {**fit_options, "cores": cores}, outcomes, bar)
    finally:
        bar.close()
    result = ManyFits(
        names=list(named),
        fits=[outcomes[i][1] for i in range(len(items))],
        errors=[outcomes[i][2] for i in range(len(items))],
        seconds=time.perf_counter() - start,
    )
    _warn_summary(result)
    return result


def _check_fit_options(options: Mapping[str, Any]) -> None:
    parameters = inspect.signature(fit).parameters
    unknown = sorted(set(options) - set(parameters) | ({"data"} & set(options)))
    if unknown:
        raise TypeError(f"fit_many: unknown fit option(s): {', '.join(unknown)}")


def _named_datasets(
    datasets: Sequence[Dataset] | Mapping[Any, Dataset] | pd.DataFrame,
    by: str | Sequence[str] | None,
) -> dict[str, Dataset]:
    if isinstance(datasets, pd.DataFrame):
        if by is None:
            raise ValueError("fit_many: pass by= to split a DataFrame (for one data set use fit)")
        columns = [by] if isinstance(by, str) else list(by)
        missing = [c for c in columns if c not in datasets.columns]
        if missing:
            raise ValueError(
                f"fit_many: no column {', '.join(missing)} to group by; "
                f"columns are {', '.join(map(str, datasets.columns))}"
            )
        groups = datasets.groupby(columns if len(columns) > 1 else columns[0], sort=False)
        named = {
            "/".join(map(str, key)) if isinstance(key, tuple) else str(key): group
            for key, group in groups
        }
    elif by is not None:
        raise ValueError("fit_many: by= needs a single DataFrame to split")
    elif isinstance(datasets, Mapping):
        named = {str(key): value for key, value in datasets.items()}
    else:
        named = {str(i): value for i, value in enumerate(datasets)}
    if not named:
        raise ValueError("fit_many: no data sets given")
    return named


def _fit_chunk(chunk: Sequence[_Item], options: Mapping[str, Any]) -> list[_Outcome]:
    """Fit each item of a task (this runs on a worker); failures become messages."""
    outcomes: list[_Outcome] = []
    for position, _name, data, seed in chunk:
        try:
            with without_fit_warnings():
                result = fit(data, **options, seed=seed)
            outcomes.append((position, result, None))
        except Exception as err:
            outcomes.append((position, None, _message(err)))
    return outcomes


@contextlib.contextmanager
def without_fit_warnings() -> Iterator[None]:
    """Silence per-fit diagnostic warnings (they are kept in each fit's diagnostics).

    Warning filters are global to a process and ``catch_warnings`` is not
    thread-safe (it could leave the filters changed), so this only acts on a
    main thread: serial runs and process-pool workers. Fits on executor threads
    (a thread pool, Dask workers) warn as usual.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", IdentificationWarning)
        warnings.simplefilter("ignore", PredictiveCheckWarning)
        yield


def _message(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _run_on(
    executor: Executor,
    chunks: Sequence[Sequence[_Item]],
    options: Mapping[str, Any],
    outcomes: dict[int, _Outcome],
    bar: Progress,
) -> None:
    """Submit every chunk; collect results as they finish, in any order."""
    finished: queue.Queue = queue.Queue()
    for chunk in chunks:
        future = executor.submit(_fit_chunk, chunk, options)
        future.add_done_callback(lambda f, chunk=chunk: finished.put((chunk, f)))
    for _ in chunks:
        chunk, future = finished.get()
        try:
            results = future.result()
        except Exception as err:
            results = [(item[0], None, _message(err)) for item in chunk]
        _record(outcomes, results, bar)


def _run_on_local_pool(
    chunks: Sequence[Sequence[_Item]],
    fit_options: Mapping[str, Any],
    workers: int | None,
    cores: int | None,
    outcomes: dict[int, _Outcome],
    bar: Progress,
) -> None:
    """A spawned process pool sharing the machine's cores: workers x cores = cpus."""
    chains = int(fit_options.get("chains", inspect.signature(fit).parameters["chains"].default))
    cpus = os.cpu_count() or 1
    workers = min(workers or max(1, cpus // chains), len(chunks))
    options = {**fit_options, "cores": cores or max(1, cpus // workers)}
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        _run_on(pool, chunks, options, outcomes, bar)
    finally:  # on an interrupt, drop the data sets not yet started
        pool.shutdown(cancel_futures=True)


def _record(outcomes: dict[int, _Outcome], results: list[_Outcome], bar: Progress) -> None:
    for outcome in results:
        outcomes[outcome[0]] = outcome
    bar.advance(len(results), failed=sum(error is not None for _, _, error in results))


def _warn_summary(result: ManyFits) -> None:
    flagged = sum(bool(f.diagnostics.warnings) for f in result.fits if f is not None)
    failed = len(result.failed)
    if failed or flagged:
        warn(
            f"fit_many: {failed} of {len(result)} fits failed, {flagged} with diagnostic "
            "warnings; see ManyFits.table() and ManyFits.failed",
            FitManyWarning,
        )
