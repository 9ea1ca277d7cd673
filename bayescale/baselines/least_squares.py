"""The ScaleRL least-squares procedure, as a non-Bayesian baseline.

Khatri et al. (2025, arXiv 2510.13786) fit the sigmoid law
``R(C) = R0 + (A - R0) / (1 + (C_mid / C)^B)`` to one RL run by a grid search:
A over 0.450, 0.455, ..., 0.800, C_mid over 100 values in [100, 40000] GPU-hours,
B by least squares for each (A, C_mid) pair, and the pair with the smallest sum of
squared residuals wins. R0, the pass rate at the start of training, is given.
This module reproduces that procedure with NumPy only, so the Bayesian fits can be
set side by side with it (point estimates, seed spread, bootstrap spread, cost).

How the search is organised
---------------------------
The procedure minimises the sum of squared residuals (SSE) jointly over A on its
grid, C_mid on its grid and B in ``b_bounds``. Looping over the 7,100 pairs with a
scalar optimiser takes seconds; the code gets the same answer in milliseconds:

1. The curve is evaluated only through :data:`bayescale.model.laws.SIGMOID`. It is affine
   in A: ``base + A * slope``, with ``base`` the curve at ``A = 0`` and ``slope`` the
   curve at ``A = 1`` minus ``base``. For fixed C_mid and B the SSE is therefore a
   parabola in A whose coefficients are (weighted) sums of per-point products,
   computed once per data set on a coarse log-spaced B grid (:data:`B_GRID_SIZE`
   points over ``b_bounds``) for every C_mid.
2. A and B are strongly correlated, so the best grid A at a coarse B value can be
   several steps from the best one once B is refined. For every C_mid the
   continuous A that minimises the SSE jointly with B is estimated (parabolic
   interpolation between coarse B values), and the :data:`A_PER_SIDE` grid values
   of A on each side of it are paired with that C_mid. Each pair's least SSE over
   B is estimated by a parabola through its coarse-grid values.
3. When the data end before the curve saturates, a long valley of nearly tied
   (A, C_mid) pairs is common, and the coarse estimates cannot rank them. The
   :data:`N_SCREENED` pairs with the smallest estimates are re-estimated through the
   law at their estimated best B and an eighth of a coarse step either side.
4. The :data:`N_CANDIDATES` best pairs get a golden-section search on log B within
   one coarse step either side of their estimate; the smallest SSE wins.

Checked against a naive implementation (every pair, B on a 1,500-point grid then
``scipy.optimize.minimize_scalar``) on 160 simulated data sets (10 to 80 points,
compute ranges ending before or after C_mid, noise 0.002 to 0.03), and against the
same search with exhaustive settings (every pair screened, 300 B values, 40 pairs
refined) on 300 data sets ending before C_mid (where ties are common): the same A
and C_mid and the same SSE to 1e-10 relative in every case. With 64 instead of 128
pairs screened, 2 of the 300 differed. The search over B is local around the
coarse grid, so an SSE with several minima in B closer together than a grid step
could in principle be missed.

The same weighted code fits one curve (unit weights) and all bootstrap resamples
at once (weights = how often each point was drawn).

Examples
--------
>>> import numpy as np
>>> from bayescale.model.laws import SIGMOID
>>> from bayescale.baselines.least_squares import DEFAULT_C_MID_GRID, fit_scalerl_least_squares
>>> x = np.geomspace(1500.0, 8000.0, 50)
>>> truth = {"A": 0.61, "B": 1.92, "C_mid": DEFAULT_C_MID_GRID[54], "R0": 0.3}
>>> y = SIGMOID.curve({"x": np.log(x)}, truth)
>>> fit = fit_scalerl_least_squares(x, y, r0=0.3)
>>> round(fit.A, 3), round(fit.B, 3), bool(fit.C_mid == truth["C_mid"])
(0.61, 1.92, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayescale.model.laws import SIGMOID

__all__ = [
    "DEFAULT_A_GRID",
    "DEFAULT_B_BOUNDS",
    "DEFAULT_C_MID_GRID",
    "LeastSquaresResult",
    "bootstrap_least_squares",
    "fit_scalerl_least_squares",
    "grids_for",
    "least_squares_by_run",
    "least_squares_summary",
]


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values


DEFAULT_A_GRID = _read_only(np.round(np.linspace(0.45, 0.80, 71), 3))
"""The paper's A grid: 0.450, 0.455, ..., 0.800 (71 values)."""

DEFAULT_C_MID_GRID = _read_only(np.geomspace(100.0, 40000.0, 100))
"""100 C_mid values in [100, 40000] GPU-hours, log-spaced.

The paper says only "100 values". Log spacing is used because the sigmoid depends
on C_mid only through ``log C - log C_mid``: it gives the same relative resolution
(about 6 % between neighbours) everywhere. A linear grid would step by about 403
GPU-hours: wider than C_mid itself below 400, and finer than 1 % near 40000. Note
that the published C_mid values (2818, 2896, 2936, 3054, ...) lie closer together
than either a linear or a log-spaced 100-point grid allows (2896 and 2936 differ by
40 GPU-hours, 1.4 %), so they cannot all come from such a grid; the paper's exact
values are not reproducible here.
"""

DEFAULT_B_BOUNDS = (0.05, 10.0)
"""Bounds of the least-squares search over B."""

B_GRID_SIZE = 80
"""Points of the coarse log-spaced B grid evaluated for every (A, C_mid) pair."""

A_PER_SIDE = 2
"""Grid values of A on each side of the best continuous A that are paired with a C_mid."""

N_SCREENED = 128
"""Pairs (by coarse estimate of their least SSE) whose least SSE is estimated precisely."""

N_CANDIDATES = 5
"""Pairs (by precise estimate) whose B is refined by golden-section search."""

_GOLDEN_STEPS = 40
_RESAMPLE_CHUNK = 128
_MIN_POINTS = 4
_PARAMETERS = ("A", "B", "C_mid")
_BY_RUN_COLUMNS = [
    "run",
    "A",
    "B",
    "C_mid",
    "R0",
    "sse",
    "n_points",
    "a_at_grid_edge",
    "c_mid_at_grid_edge",
]


@dataclass(frozen=True)
class LeastSquaresResult:
    """Best sigmoid fit found by the ScaleRL grid search.

    Parameters
    ----------
    A : float
        Asymptote, a value of the A grid.
    B : float
        Efficiency exponent, fitted by least squares within ``b_bounds``.
    C_mid : float
        Midpoint compute, a value of the C_mid grid.
    R0 : float
        Starting pass rate (given, not fitted).
    sse : float
        Sum of squared residuals at the fitted parameters.
    n_points : int
        Number of points fitted.
    a_at_grid_edge : bool
        Whether A is the first or last value of the A grid. The true asymptote may
        then lie outside the grid (the paper's grid stops at 0.80) and the other
        parameters are distorted to compensate: treat the fit as unreliable.
    c_mid_at_grid_edge : bool
        Whether C_mid is the first or last value of its grid (e.g. the paper's
        GPU-hour grid applied to FLOPs): the fit is then a grid bound, not an estimate.
    """

    A: float
    B: float
    C_mid: float
    R0: float
    sse: float
    n_points: int
    a_at_grid_edge: bool
    c_mid_at_grid_edge: bool = False

    def params(self) -> dict[str, float]:
        """Parameters in the form :meth:`bayescale.model.laws.Law.curve` takes."""
        return {"A": self.A, "B": self.B, "C_mid": self.C_mid, "R0": self.R0}

    def predict(self, x: Any) -> np.ndarray:
        """Fitted pass rate at compute ``x`` (same units as the fitted data)."""
        return np.asarray(SIGMOID.curve({"x": np.log(np.asarray(x, float))}, self.params()))


@dataclass(frozen=True)
class _Grids:
    a: np.ndarray
    c_mid: np.ndarray
    log_b: np.ndarray


@dataclass(frozen=True)
class _Estimates:
    a: np.ndarray
    b: np.ndarray
    c_mid: np.ndarray
    sse: np.ndarray


def fit_scalerl_least_squares(
    x: Any,
    y: Any,
    *,
    r0: float,
    a_grid: Sequence[float] | np.ndarray | None = None,
    c_mid_grid: Sequence[float] | np.ndarray | None = None,
    b_bounds: tuple[float, float] = DEFAULT_B_BOUNDS,
) -> LeastSquaresResult:
    """Fit the sigmoid law to one run by the ScaleRL grid search.

    Parameters
    ----------
    x : array_like
        Compute of each point (e.g. GPU-hours), strictly positive.
    y : array_like
        Metric of each point (e.g. mean@16 pass rate).
    r0 : float
        Pass rate at the start of training; fixed, not fitted.
    a_grid : array_like, optional
        Values searched for A; default :data:`DEFAULT_A_GRID` (0.450 to 0.800 by 0.005).
    c_mid_grid : array_like, optional
        Values searched for C_mid; default :data:`DEFAULT_C_MID_GRID` (100 log-spaced
        values in [100, 40000]).
    b_bounds : tuple of float, default (0.05, 10.0)
        Bounds of the least-squares search over B.

    Returns
    -------
    LeastSquaresResult
        The best (A, B, C_mid), the given R0, the sum of squared residuals, the number
        of points and whether A sits on the edge of its grid.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in length, have fewer than 4 points, contain
        non-finite values, or ``x`` is not positive; or if a grid or the bounds are
        invalid.

    Notes
    -----
    A and C_mid are values of their grids; B is continuous within ``b_bounds``. The
    search is organised to avoid a loop over the grid pairs (see the module
    docstring); one fit on 50 points takes about 20 ms. The reported ``sse`` is
    recomputed through :data:`bayescale.model.laws.SIGMOID` at the returned parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescale.model.laws import SIGMOID
    >>> x = np.geomspace(1500.0, 8000.0, 40)
    >>> truth = {"A": 0.645, "B": 1.7, "C_mid": DEFAULT_C_MID_GRID[50], "R0": 0.3}
    >>> y = SIGMOID.curve({"x": np.log(x)}, truth)
    >>> fit = fit_scalerl_least_squares(x, y, r0=0.3)
    >>> fit.A, round(fit.B, 4), fit.a_at_grid_edge
    (0.645, 1.7, False)

    Off the C_mid grid, even noiseless data can move A by a grid step:

    >>> truth = {"A": 0.645, "B": 1.7, "C_mid": 2500.0, "R0": 0.3}
    >>> y = SIGMOID.curve({"x": np.log(x)}, truth)
    >>> fit_scalerl_least_squares(x, y, r0=0.3).A
    0.64
    """
    x_arr, y_arr = _validate_xy(x, y)
    r0 = _validate_r0(r0)
    grids = _make_grids(a_grid, c_mid_grid, b_bounds)
    log_x = np.log(x_arr)
    weights = np.ones((1, x_arr.size))
    terms = _grid_terms(log_x, y_arr, r0, grids)
    best = _fit_weighted(log_x, y_arr, weights, r0, grids, terms)
    params = {"A": float(best.a[0]), "B": float(best.b[0]), "C_mid": float(best.c_mid[0])}
    residuals = y_arr - SIGMOID.curve({"x": log_x}, {**params, "R0": r0})
    return LeastSquaresResult(
        **params,
        R0=r0,
        sse=float(np.sum(residuals**2)),
        n_points=int(x_arr.size),
        a_at_grid_edge=_on_edge(params["A"], grids.a),
        c_mid_at_grid_edge=_on_edge(params["C_mid"], grids.c_mid),
    )


def least_squares_by_run(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    run: str,
    r0: float | Mapping[Any, float] | None = None,
    min_x: float | None = None,
    a_grid: Sequence[float] | np.ndarray | None = None,
    c_mid_grid: Sequence[float] | np.ndarray | None = None,
    b_bounds: tuple[float, float] = DEFAULT_B_BOUNDS,
) -> pd.DataFrame:
    """Fit every run of a long table separately by the ScaleRL procedure.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per evaluation, in long format.
    x, y, run : str
        Columns holding compute, metric and run label.
    r0 : float, mapping or None, default None
        Starting pass rate. A float is used for every run; a mapping gives one value
        per run label. ``None`` uses each run's metric at its smallest compute (the
        mean if several rows share that compute), taken *before* the ``min_x``
        exclusion. That is the true start only if the table holds the evaluation at
        the start of training (e.g. compute 0); otherwise pass ``r0``.
    min_x : float, optional
        Rows with ``x < min_x`` are dropped before fitting (the paper excluded the
        first ~1.5k GPU-hours).
    a_grid, c_mid_grid, b_bounds
        Passed to :func:`fit_scalerl_least_squares`.

    Returns
    -------
    pandas.DataFrame
        One row per run, sorted by run label, with columns ``run, A, B, C_mid, R0,
        sse, n_points, a_at_grid_edge``.

    Raises
    ------
    ValueError
        If a column is missing, a run label is missing, a mapping lacks a run, or a
        run cannot be fitted (the message names the run).

    Notes
    -----
    Rows at zero compute are never fitted: the curve equals R0 there, so they carry
    no information on A, B or C_mid (they still define the default R0).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from bayescale.model.laws import SIGMOID
    >>> x = np.concatenate([[0.0], np.geomspace(500.0, 8000.0, 30)])
    >>> truth = {"A": 0.61, "B": 1.92, "C_mid": DEFAULT_C_MID_GRID[54], "R0": 0.3}
    >>> y = SIGMOID.curve({"x": np.log(np.maximum(x, 1e-300))}, truth)
    >>> df = pd.DataFrame({"gpu_hours": np.tile(x, 2), "pass_rate": np.tile(y, 2),
    ...                    "seed": np.repeat([1, 2], x.size)})
    >>> per_run = least_squares_by_run(df, x="gpu_hours", y="pass_rate", run="seed",
    ...                                min_x=1500.0)
    >>> per_run[["run", "A", "R0", "n_points"]].to_dict("list")
    {'run': [1, 2], 'A': [0.61, 0.61], 'R0': [0.3, 0.3], 'n_points': [18, 18]}
    """
    _require_columns(df, [x, y, run])
    if df[run].isna().any():
        raise ValueError(f"column {run!r} has missing run labels")
    grid_kwargs = {"a_grid": a_grid, "c_mid_grid": c_mid_grid, "b_bounds": b_bounds}
    rows = []
    for label, group in df.groupby(run, sort=True):
        run_r0 = _run_r0(group, x, y, label, r0)
        kept = group[group[x] != 0]
        if min_x is not None:
            kept = kept[kept[x] >= min_x]
        try:
            fit = fit_scalerl_least_squares(
                kept[x].to_numpy(float), kept[y].to_numpy(float), r0=run_r0, **grid_kwargs
            )
        except ValueError as err:
            raise ValueError(f"run {label!r}: {err}") from err
        rows.append({"run": label, **asdict(fit)})
    return pd.DataFrame(rows, columns=_BY_RUN_COLUMNS)


def least_squares_summary(per_run: pd.DataFrame) -> dict[str, Any]:
    """Mean and spread of the per-run fits.

    Parameters
    ----------
    per_run : pandas.DataFrame
        Output of :func:`least_squares_by_run` (at least columns A, B, C_mid).

    Returns
    -------
    dict
        ``n_runs``; for each of ``A``, ``B``, ``C_mid`` a dict with ``mean``, ``sd``
        (ddof=1; NaN for a single run), ``min``, ``max`` and ``half_range``
        (``(max - min) / 2``, the "+/-" the paper quotes, e.g. "A within +/-0.015
        over three seeds"); and ``any_a_at_grid_edge`` when that column is present.

    Raises
    ------
    ValueError
        If ``per_run`` is empty or lacks a parameter column.

    Examples
    --------
    >>> import pandas as pd
    >>> per_run = pd.DataFrame({"A": [0.60, 0.61, 0.63], "B": [1.9, 2.0, 2.1],
    ...                         "C_mid": [2400.0, 2500.0, 2600.0]})
    >>> summary = least_squares_summary(per_run)
    >>> summary["n_runs"], round(summary["A"]["mean"], 4), round(summary["A"]["half_range"], 3)
    (3, 0.6133, 0.015)
    """
    _require_columns(per_run, list(_PARAMETERS))
    if per_run.empty:
        raise ValueError("per_run has no rows to summarise")
    summary: dict[str, Any] = {"n_runs": len(per_run)}
    for name in _PARAMETERS:
        values = per_run[name].to_numpy(float)
        low, high = float(values.min()), float(values.max())
        summary[name] = {
            "mean": float(values.mean()),
            "sd": float(values.std(ddof=1)) if values.size > 1 else float("nan"),
            "min": low,
            "max": high,
            "half_range": (high - low) / 2,
        }
    for column in ("a_at_grid_edge", "c_mid_at_grid_edge"):
        if column in per_run:
            summary[f"any_{column}"] = bool(per_run[column].any())
    return summary


PAPER_GRID_UNITS = ("gpu",)
"""Column names containing one of these are in GPU-hours: the paper's grids apply."""


def grids_for(x: np.ndarray, column: str) -> dict[str, np.ndarray]:
    """The A and C_mid grids of the procedure for data whose input is ``x``.

    GPU-hours (a column name containing "gpu") keep the paper's grids. Any other
    input (FLOPs, steps, tokens) gets a C_mid grid scaled to the data as the
    paper's is to its fits (1.5k-8k GPU-hours against [100, 40000]): 100
    log-spaced values from the smallest ``x`` / 15 to the largest ``x`` * 5; and
    an A grid over the whole rate range (0.005 to 1.000 by 0.005), since the
    paper's [0.45, 0.80] is specific to its tasks.

    Examples
    --------
    >>> grids = grids_for(np.array([1e20, 1e22]), "flops")
    >>> float(grids["c_mid_grid"][0]), float(grids["c_mid_grid"][-1])
    (6.666666666666667e+18, 5e+22)
    >>> grids_for(np.array([1500.0, 8000.0]), "gpu_hours")["c_mid_grid"] is DEFAULT_C_MID_GRID
    True
    """
    if any(unit in column.lower() for unit in PAPER_GRID_UNITS):
        return {"a_grid": DEFAULT_A_GRID, "c_mid_grid": DEFAULT_C_MID_GRID}
    positive = x[x > 0]
    c_mid = np.geomspace(positive.min() / 15.0, positive.max() * 5.0, 100)
    return {"a_grid": np.round(np.arange(1, 201) * 0.005, 3), "c_mid_grid": c_mid}


def bootstrap_least_squares(
    x: Any,
    y: Any,
    *,
    r0: float,
    n_resamples: int = 1000,
    rng: np.random.Generator | int | None = None,
    a_grid: Sequence[float] | np.ndarray | None = None,
    c_mid_grid: Sequence[float] | np.ndarray | None = None,
    b_bounds: tuple[float, float] = DEFAULT_B_BOUNDS,
) -> pd.DataFrame:
    """Bootstrap the ScaleRL fit by resampling points with replacement.

    Each resample draws ``len(x)`` points with replacement and is fitted by the same
    procedure as :func:`fit_scalerl_least_squares`; a point drawn k times enters the
    sum of squares with weight k. All resamples are fitted together, in chunks, with
    array operations: 1000 resamples of 50 points take about 1 s.

    Parameters
    ----------
    x, y : array_like
        Compute and metric, as in :func:`fit_scalerl_least_squares`.
    r0 : float
        Starting pass rate (fixed in every resample).
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    rng : numpy.random.Generator, int or None
        Random generator or seed.
    a_grid, c_mid_grid, b_bounds
        As in :func:`fit_scalerl_least_squares`.

    Returns
    -------
    pandas.DataFrame
        One row per resample, columns ``A``, ``B``, ``C_mid``.

    Raises
    ------
    ValueError
        On invalid data (as :func:`fit_scalerl_least_squares`) or ``n_resamples < 1``.

    Notes
    -----
    Resampling single checkpoints treats them as independent; neighbouring
    checkpoints of one run are correlated, so this spread understates the
    uncertainty (the drift likelihood of the Bayesian model addresses that). With
    few points a resample may contain fewer than 4 distinct compute values; it is
    still fitted, and its estimate is then poorly determined.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescale.model.laws import SIGMOID
    >>> x = np.geomspace(1500.0, 8000.0, 50)
    >>> truth = {"A": 0.61, "B": 1.92, "C_mid": 2500.0, "R0": 0.3}
    >>> y = SIGMOID.curve({"x": np.log(x)}, truth) + np.random.default_rng(0).normal(0, 0.01, 50)
    >>> draws = bootstrap_least_squares(x, y, r0=0.3, n_resamples=200, rng=1)
    >>> draws.shape, list(draws.columns)
    ((200, 3), ['A', 'B', 'C_mid'])
    """
    x_arr, y_arr = _validate_xy(x, y)
    r0 = _validate_r0(r0)
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    grids = _make_grids(a_grid, c_mid_grid, b_bounds)
    generator = np.random.default_rng(rng)
    n = x_arr.size
    counts = generator.multinomial(n, np.full(n, 1.0 / n), size=int(n_resamples))
    log_x = np.log(x_arr)
    terms = _grid_terms(log_x, y_arr, r0, grids)
    parts = [
        _fit_weighted(log_x, y_arr, counts[start : start + _RESAMPLE_CHUNK], r0, grids, terms)
        for start in range(0, counts.shape[0], _RESAMPLE_CHUNK)
    ]
    return pd.DataFrame(
        {
            "A": np.concatenate([p.a for p in parts]),
            "B": np.concatenate([p.b for p in parts]),
            "C_mid": np.concatenate([p.c_mid for p in parts]),
        }
    )


# --- validation ---------------------------------------------------------------------


def _validate_xy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x_arr = np.asarray(x, dtype=float)
    y_arr = np.asarray(y, dtype=float)
    if x_arr.ndim != 1 or y_arr.ndim != 1:
        raise ValueError("x and y must be one-dimensional")
    if x_arr.size != y_arr.size:
        raise ValueError(f"x and y have different lengths ({x_arr.size} and {y_arr.size})")
    if x_arr.size < _MIN_POINTS:
        raise ValueError(
            f"need at least {_MIN_POINTS} points to fit A, B and C_mid, got {x_arr.size}"
        )
    if not (np.all(np.isfinite(x_arr)) and np.all(np.isfinite(y_arr))):
        raise ValueError("x and y must be finite (no NaN or infinity)")
    if np.any(x_arr <= 0):
        raise ValueError("x (compute) must be strictly positive")
    return x_arr, y_arr


def _validate_r0(r0: float) -> float:
    value = float(r0)
    if not np.isfinite(value):
        raise ValueError(f"r0 must be finite, got {r0!r}")
    return value


def _grid_values(values: Any, default: np.ndarray, name: str) -> np.ndarray:
    if values is None:
        return default
    grid = np.unique(np.asarray(values, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers")
    return grid


def _make_grids(a_grid: Any, c_mid_grid: Any, b_bounds: tuple[float, float]) -> _Grids:
    a = _grid_values(a_grid, DEFAULT_A_GRID, "a_grid")
    c_mid = _grid_values(c_mid_grid, DEFAULT_C_MID_GRID, "c_mid_grid")
    if np.any(c_mid <= 0):
        raise ValueError("c_mid_grid values must be positive")
    low, high = (float(b) for b in b_bounds)
    if not (np.isfinite(high) and 0 < low < high):
        raise ValueError(f"b_bounds must satisfy 0 < low < high, got {b_bounds!r}")
    log_b = np.linspace(np.log(low), np.log(high), B_GRID_SIZE)
    return _Grids(a=a, c_mid=c_mid, log_b=log_b)


def _require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; available: {list(df.columns)}")


def _run_r0(group: pd.DataFrame, x: str, y: str, label: Any, r0: Any) -> float:
    if r0 is None:
        first = group[x] == group[x].min()
        return float(group.loc[first, y].mean())
    if isinstance(r0, Mapping):
        if label not in r0:
            raise ValueError(f"r0 mapping has no value for run {label!r}")
        return float(r0[label])
    return float(r0)


def _on_edge(value: float, grid: np.ndarray) -> bool:
    return bool(value == grid[0] or value == grid[-1])


# --- the search -----------------------------------------------------------------------


def _base_and_slope(log_x: np.ndarray, c_mid: Any, b: Any, r0: float) -> tuple[Any, Any]:
    """The curve as ``base + A * slope``, both evaluated through SIGMOID."""
    params = {"A": 0.0, "B": b, "C_mid": c_mid, "R0": r0}
    base = SIGMOID.curve({"x": log_x}, params)
    slope = SIGMOID.curve({"x": log_x}, {**params, "A": 1.0}) - base
    return base, slope


def _grid_terms(log_x: np.ndarray, y: np.ndarray, r0: float, grids: _Grids) -> np.ndarray:
    """Per-point products whose weighted sums give the SSE on the (C_mid, B) grid.

    Returns shape ``(3, n_c * n_b, n)``: u^2, u * slope and slope^2 with u = y - base.
    """
    c_mid = grids.c_mid[:, None, None]
    b = np.exp(grids.log_b)[None, :, None]
    base, slope = _base_and_slope(log_x, c_mid, b, r0)
    u = np.subtract(y, base, out=base).reshape(-1, y.size)
    s = slope.reshape(-1, y.size)
    terms = np.empty((3, *u.shape))
    np.multiply(u, u, out=terms[0])
    np.multiply(u, s, out=terms[1])
    np.multiply(s, s, out=terms[2])
    return terms


@dataclass(frozen=True)
class _Candidates:
    """(A, C_mid) pairs with estimates of their best log B and least SSE; shape (R, m)."""

    a: np.ndarray
    c_index: np.ndarray
    log_b: np.ndarray
    sse: np.ndarray

    def keep(self, best: np.ndarray, sse: np.ndarray | None = None) -> _Candidates:
        """The pairs at column indices ``best`` (shape (R, k)) of every row."""

        def pick(values: np.ndarray) -> np.ndarray:
            return np.take_along_axis(values, best, axis=1)

        return _Candidates(
            a=pick(self.a),
            c_index=pick(self.c_index),
            log_b=pick(self.log_b),
            sse=pick(self.sse if sse is None else sse),
        )


def _smallest(values: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` smallest values of each row."""
    k = min(k, values.shape[1])
    return np.argpartition(values, k - 1, axis=1)[:, :k]


def _fit_weighted(
    log_x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    r0: float,
    grids: _Grids,
    terms: np.ndarray,
) -> _Estimates:
    """Fit every row of ``weights`` (shape ``(R, n)``); returns arrays of length R."""
    pairs = _grid_pairs(weights, grids, terms)
    candidates = _screen_pairs(pairs, log_x, y, weights, r0, grids)
    return _refine_b(log_x, y, weights, r0, grids, candidates)


def _grid_pairs(weights: np.ndarray, grids: _Grids, terms: np.ndarray) -> _Candidates:
    """For every C_mid, the grid values of A worth a B fit, and where B should be.

    A and B are strongly correlated, so the best grid A at a coarse B value can be
    several steps from the best grid A once B is refined. For every C_mid the A that
    minimises the SSE jointly with B is estimated (continuous A, parabolic
    interpolation between coarse B values); the :data:`A_PER_SIDE` grid values on
    each side of it are paired with that C_mid, and each pair's best B and least SSE
    are estimated by a parabola through its three smallest coarse-grid values.
    """
    n_resamples, n_c, n_b = weights.shape[0], grids.c_mid.size, grids.log_b.size
    sums = (weights @ terms.reshape(-1, weights.shape[1]).T).reshape(n_resamples, 3, n_c, n_b)
    a_star, profile = _continuous_a(sums[:, 0], sums[:, 1], sums[:, 2])  # (R, n_c, n_b)
    a_pairs = _a_candidates(_joint_best_a(a_star, profile), grids.a)  # (R, n_c, m)
    # SSE of each pair at each coarse B: profile + ss * (A - a_star)^2, in place.
    pair_sse = a_pairs[..., None] - a_star[:, :, None, :]
    np.square(pair_sse, out=pair_sse)
    pair_sse *= sums[:, 2, :, None, :]
    pair_sse += profile[:, :, None, :]
    index, offset, sse = _parabola_min(pair_sse)
    step = grids.log_b[1] - grids.log_b[0] if n_b > 1 else 0.0
    c_index = np.broadcast_to(np.arange(n_c)[:, None], a_pairs.shape)
    shape = (n_resamples, -1)
    return _Candidates(
        a=a_pairs.reshape(shape),
        c_index=c_index.reshape(shape),
        log_b=(grids.log_b[index] + offset * step).reshape(shape),
        sse=sse.reshape(shape),
    )


def _screen_pairs(
    pairs: _Candidates,
    log_x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    r0: float,
    grids: _Grids,
) -> _Candidates:
    """Keep the :data:`N_CANDIDATES` pairs with the smallest estimated least SSE.

    The :data:`N_SCREENED` pairs with the smallest coarse estimate have their SSE
    evaluated exactly (through the law) at the estimated best B and an eighth of a
    coarse step either side; the parabola through these three values estimates the
    pair's least SSE well enough to rank nearly tied pairs (a long, flat valley of
    (A, C_mid) pairs is common when the data end before the curve saturates).
    """
    screened = pairs.keep(_smallest(pairs.sse, N_SCREENED))
    low, high = grids.log_b[0], grids.log_b[-1]
    step = min((high - low) / max(grids.log_b.size - 1, 1) / 8, (high - low) / 2)
    centre = np.clip(screened.log_b, low + step, high - step)
    c_mid = grids.c_mid[screened.c_index]
    left, mid, right = (
        _pair_sse(centre + d * step, screened.a, c_mid, log_x, y, weights, r0) for d in (-1, 0, 1)
    )
    _, estimate = _parabola_vertex(left, mid, right)
    return screened.keep(_smallest(estimate, N_CANDIDATES), sse=estimate)


def _parabola_vertex(
    left: np.ndarray, mid: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest point of the parabola through three equally spaced values.

    Returns its offset from the middle value (in steps, within [-1, 1]) and its value
    (never above the smallest of the three).
    """
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curvature > 0, 0.5 * (left - right) / curvature, 0.0)
    offset = np.where(curvature > 0, np.clip(offset, -1.0, 1.0), np.where(left < right, -1.0, 1.0))
    value = mid + offset * (right - left) / 2 + offset * offset * curvature / 2
    return offset, np.minimum(value, np.minimum(np.minimum(left, mid), right))


def _parabola_min(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smallest value along the last axis: its index, and the parabolic refinement.

    Returns the index of the smallest value, the offset (in steps) of the vertex of
    the parabola through it and its neighbours (0 at either end of the axis), and
    the value at that vertex (the smallest value itself at either end).
    """
    index = np.argmin(values, axis=-1)
    smallest = np.take_along_axis(values, index[..., None], axis=-1)[..., 0]
    n = values.shape[-1]
    if n < 3:
        return index, np.zeros(index.shape), smallest
    j = np.clip(index, 1, n - 2)[..., None]
    left, mid, right = (np.take_along_axis(values, j + d, axis=-1)[..., 0] for d in (-1, 0, 1))
    offset, vertex = _parabola_vertex(left, mid, right)
    interior = (index > 0) & (index < n - 1)
    return index, np.where(interior, offset, 0.0), np.where(interior, vertex, smallest)


def _continuous_a(uu: np.ndarray, us: np.ndarray, ss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best continuous A (``us / ss``) and the SSE there (``uu - us^2 / ss``).

    With ``u = y - base`` and ``s = slope``, the weighted SSE at A is
    ``uu - 2 A us + A^2 ss = profile + ss (A - a_star)^2``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        a_star = np.where(ss > 0, us / ss, 0.0)
    return a_star, uu - us * a_star


def _joint_best_a(a_star: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Continuous A minimising the SSE jointly with B; B runs along the last axis.

    A parabola through the three coarse B values around the smallest ``profile``
    locates the best B, at which ``a_star`` is interpolated the same way.
    """
    index, offset, _ = _parabola_min(profile)
    n_b = profile.shape[-1]
    if n_b < 3:
        return np.take_along_axis(a_star, index[..., None], axis=-1)[..., 0]
    j = np.clip(index, 1, n_b - 2)[..., None]
    a_left, a_mid, a_right = (
        np.take_along_axis(a_star, j + d, axis=-1)[..., 0] for d in (-1, 0, 1)
    )
    t = offset + (index - j[..., 0])  # position relative to the middle of the three
    return a_mid + t * (a_right - a_left) / 2 + t * t * (a_left - 2 * a_mid + a_right) / 2


def _a_candidates(a_best: np.ndarray, a_grid: np.ndarray) -> np.ndarray:
    """The :data:`A_PER_SIDE` grid values of A on each side of each continuous A."""
    below = np.searchsorted(a_grid, a_best)[..., None] - 1  # last grid index below a_best
    offsets = np.arange(-A_PER_SIDE + 1, A_PER_SIDE + 1)
    return a_grid[np.clip(below + offsets, 0, a_grid.size - 1)]


def _pair_sse(
    log_b: np.ndarray,
    a: np.ndarray,
    c_mid: np.ndarray,
    log_x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    r0: float,
) -> np.ndarray:
    """Weighted SSE of each (resample, candidate) at its B; arrays of shape (R, m)."""
    params = {"A": a[..., None], "B": np.exp(log_b)[..., None], "C_mid": c_mid[..., None]}
    residual = y - SIGMOID.curve({"x": log_x}, {**params, "R0": r0})
    return np.matmul(residual * residual, weights[:, :, None])[..., 0]


def _refine_b(
    log_x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    r0: float,
    grids: _Grids,
    candidates: _Candidates,
) -> _Estimates:
    """Refine B of every candidate pair and keep the best pair of each resample.

    Golden-section search on log B, one coarse grid step either side of each
    candidate's estimated best B (within the bounds).
    """
    low, high = grids.log_b[0], grids.log_b[-1]
    step = (high - low) / max(grids.log_b.size - 1, 1)
    a, start = candidates.a, candidates.log_b
    c_mid = grids.c_mid[candidates.c_index]

    def objective(point: np.ndarray) -> np.ndarray:
        return _pair_sse(point, a, c_mid, log_x, y, weights, r0)

    refined = _golden_section(
        objective, np.maximum(start - step, low), np.minimum(start + step, high)
    )
    sse_refined, sse_start = objective(refined), objective(start)
    use_refined = sse_refined <= sse_start
    sse = np.where(use_refined, sse_refined, sse_start)
    b = np.exp(np.where(use_refined, refined, start))
    best = np.argmin(sse, axis=1)[:, None]

    def pick(values: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, best, axis=1)[:, 0]

    return _Estimates(a=pick(a), b=pick(b), c_mid=pick(c_mid), sse=pick(sse))


def _golden_section(objective: Any, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Element-wise golden-section minimisation on [low, high] (fixed step count)."""
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    left = high - ratio * (high - low)
    right = low + ratio * (high - low)
    f_left, f_right = objective(left), objective(right)
    for _ in range(_GOLDEN_STEPS):
        go_left = f_left < f_right
        high = np.where(go_left, right, high)
        low = np.where(go_left, low, left)
        new_point = np.where(go_left, high - ratio * (high - low), low + ratio * (high - low))
        f_new = objective(new_point)
        left, right = (
            np.where(go_left, new_point, right),
            np.where(go_left, left, new_point),
        )
        f_left, f_right = np.where(go_left, f_new, f_right), np.where(go_left, f_left, f_new)
    return (low + high) / 2
