"""Reading and validating curve data.

Turns a DataFrame, CSV or Parquet file (or a tracker's export or log folder, read
by :mod:`bayescale.data.trackers`) into :class:`CurveData`: numeric, finite,
positive inputs, one metric column, run and recipe labels, sorted by run and
compute. Every problem raises :class:`DataError` with a one-line message naming
the source, the column and the first offending rows; nothing is dropped silently.

Examples
--------
>>> import pandas as pd
>>> from bayescale.data.curves import load_curves
>>> df = pd.DataFrame({"c": [1.0, 2, 3, 4, 5], "r": [.1, .2, .3, .35, .4], "s": ["a"] * 5})
>>> data = load_curves(df, x="c", y="r", run="s", min_points=5)
>>> data.runs
['a']
>>> load_curves(df.assign(c=[1.0, 2, -3, 4, 5]), x="c", y="r", run="s")
Traceback (most recent call last):
...
bayescale.data.sources.DataError: DataFrame: column 'c' must be > 0; row 2 has -3.0
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.data.sources import (
    MAX_ROWS_NAMED,
    DataError,
    SourceFile,
)

logger = logging.getLogger("bayescale")

FLOP_PER_PARAMETER_TOKEN = 6.0
"""Training compute C = 6 N D (forward and backward pass), the one place it is stated."""


@dataclass(frozen=True)
class CurveData:
    """Validated curve data in canonical columns.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per observation with columns for each input role (``x``, or ``n``
        and ``d``), ``y``, ``run``, ``recipe``, optionally ``trials``, ``row``
        (the row's position in the source, for messages) and, when ``min_x``
        excluded early rows, ``y_start`` (each run's first evaluation before the
        exclusion, e.g. at step 0: it informs the start value R0). Sorted by recipe, run
        and the first input.
    columns : dict
        Role -> the user's column name (``{"x": "gpu_hours", "y": "pass_rate", ...}``).
    source : str
        File path, or ``"DataFrame"``.
    notes : list of str
        What validation did that a user should know (e.g. rows excluded by ``min_x``).
    path : str or None
        Absolute path of the source file (``None`` for a DataFrame).
    sha256 : str or None
        SHA-256 of the source file's bytes as read, to recognise it later.
    excluded : pandas.DataFrame
        The validated rows outside the compute window (``min_x``, ``max_x``), in
        the same canonical columns: the held-out tail a plot or a backtest shows
        beside the fit, and what :meth:`window` can bring back.
    bounds : (float or None, float or None)
        The compute window ``(min_x, max_x)`` of ``frame``.
    min_points : int
        Fewest points each run must keep in a window.
    base_notes : list of str
        The notes of validation before windowing (``notes`` adds the window's).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"c": [0.0, 1, 2, 3, 4, 5], "r": [.05, .1, .2, .3, .35, .4]})
    >>> data = load_curves(df, x="c", y="r", min_x=1, min_points=3)
    >>> len(data), len(data.excluded)
    (5, 1)
    >>> tail = data.window(max_x=3)
    >>> len(tail), tail.bounds, len(tail.excluded)
    (3, (1, 3), 3)
    """

    frame: pd.DataFrame
    columns: dict[str, str]
    source: str
    notes: list[str] = field(default_factory=list)
    path: str | None = None
    sha256: str | None = None
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    bounds: tuple[float | None, float | None] = (None, None)
    min_points: int = 1
    base_notes: list[str] = field(default_factory=list)

    @property
    def all_rows(self) -> pd.DataFrame:
        """Every validated row, inside the window or not, in canonical columns."""
        rows = pd.concat([self.frame.drop(columns="y_start", errors="ignore"), self.excluded])
        return _sorted(rows)

    def window(
        self,
        min_x: float | None = None,
        max_x: float | None = None,
        *,
        min_points: int | None = None,
    ) -> CurveData:
        """The same data fitted over another compute window.

        Parameters
        ----------
        min_x, max_x : float, optional
            New ends of the window; an end not given keeps the current one.
        min_points : int, optional
            Fewest points a run must keep (default: as loaded).

        Returns
        -------
        CurveData
            Rows inside ``[min_x, max_x]`` in ``frame``, the others in ``excluded``.

        Raises
        ------
        DataError
            When a run keeps too few points, or the window takes in a row at
            ``x <= 0`` (which the load excluded instead of refusing).
        """
        low = self.bounds[0] if min_x is None else min_x
        high = self.bounds[1] if max_x is None else max_x
        rows = self.all_rows
        if (low is not None or high is not None) and "x" in rows:
            inside = _inside(rows["x"], low, high)
            bad = inside & (rows["x"] <= 0)
            if bad.any():
                name = self.columns.get("x", "x")
                listed = ", ".join(str(int(r)) for r in rows.loc[bad, "row"].head(MAX_ROWS_NAMED))
                raise DataError(
                    f"{self.source}: column '{name}' must be > 0 inside the window; row {listed}"
                )
        return _windowed(
            rows,
            columns=self.columns,
            source=self.source,
            base_notes=list(self.base_notes),
            bounds=(low, high),
            min_points=self.min_points if min_points is None else min_points,
            path=self.path,
            sha256=self.sha256,
        )

    def below(self, role: str, cut: float, *, min_points: int | None = None) -> CurveData:
        """The rows with ``role <= cut`` (e.g. the models with ``n <= 5e9``).

        On ``x`` this is :meth:`window`; on another input the rows beyond the cut
        are dropped for good (a later :meth:`window` does not bring them back)
        and a note says how many.

        Raises
        ------
        DataError
            When no row is left, or a run keeps too few points.

        Examples
        --------
        >>> df = pd.DataFrame({"c": [1.0, 2, 3, 4, 5, 6], "r": [.1, .2, .3, .35, .4, .42]})
        >>> data = load_curves(df, x="c", y="r", min_points=3)
        >>> len(data.below("x", 4)), len(data.below("x", 4).excluded)
        (4, 2)
        >>> sized = load_curves(df.assign(n=df["c"] * 1e8, d=1e10), n="n", d="d", y="r", min_points=3)
        >>> len(sized.below("n", 3e8).window())
        3
        """
        if role == "x":
            return self.window(max_x=cut, min_points=min_points)
        rows = self.all_rows
        keep = rows[role] <= cut
        name = self.columns.get(role, role)
        if not keep.any():
            raise DataError(f"{self.source}: no rows left with {name} <= {cut:g}")
        note = f"excluded {int((~keep).sum())} of {len(rows)} rows with {name} > {cut:g}"
        return _windowed(
            rows[keep],
            columns=self.columns,
            source=self.source,
            base_notes=[*self.base_notes, note],
            bounds=(None, None),
            min_points=self.min_points if min_points is None else min_points,
            path=self.path,
            sha256=self.sha256,
        )

    @property
    def runs(self) -> list[str]:
        """Run labels in model order."""
        return list(dict.fromkeys(self.frame["run"]))

    @property
    def recipes(self) -> list[str]:
        """Recipe labels in model order."""
        return list(dict.fromkeys(self.frame["recipe"]))

    @property
    def run_recipe(self) -> dict[str, str]:
        """Run label -> recipe label."""
        pairs = self.frame[["run", "recipe"]].drop_duplicates()
        return dict(zip(pairs["run"], pairs["recipe"], strict=True))

    @property
    def input_roles(self) -> list[str]:
        """Input roles present (``["x"]`` or ``["n", "d"]``)."""
        return [role for role in ("x", "n", "d") if role in self.frame]

    def __len__(self) -> int:
        return len(self.frame)


def describe_rows(
    frame: pd.DataFrame, mask: np.ndarray, values: pd.Series | None, lines: Sequence[int] | None
) -> str:
    positions = np.flatnonzero(mask)
    noun = "line" if lines is not None else "row"
    shown = positions[:MAX_ROWS_NAMED]
    rows = frame["row"].to_numpy()
    labels = [str(lines[rows[p]]) if lines is not None else str(frame.index[p]) for p in shown]
    text = f"{noun}{'s' if len(positions) > 1 else ''} {', '.join(labels)}"
    if values is not None:
        shown_values = ", ".join(str(values.iloc[p]) for p in shown)
        text += f" {'have' if len(positions) > 1 else 'has'} {shown_values}"
    if len(positions) > MAX_ROWS_NAMED:
        text += f" (and {len(positions) - MAX_ROWS_NAMED} more)"
    return text


class ColumnChecker:
    """Reads columns of one source as numbers or labels, and builds the one-line
    messages that name the source, the column and the first offending rows."""

    def __init__(self, frame: pd.DataFrame, source: str, lines: Sequence[int] | None) -> None:
        self.frame = frame
        self.source = source
        self.lines = lines

    def fail(self, column: str, problem: str, mask: np.ndarray, show_values: bool = True) -> None:
        if not mask.any():
            return
        values = self.frame[column] if show_values else None
        where = describe_rows(self.frame, mask, values, self.lines)
        raise DataError(f"{self.source}: column '{column}' {problem}; {where}")

    def numeric(self, column: str) -> pd.Series:
        raw = self.frame[column]
        types = pd.api.types
        if types.is_datetime64_any_dtype(raw) or types.is_timedelta64_dtype(raw):
            self.fail(column, "holds dates or times, not numbers", raw.notna().to_numpy())
        if types.is_bool_dtype(raw):
            self.fail(column, "must be numeric", np.ones(len(raw), dtype=bool))
        values = pd.to_numeric(raw, errors="coerce").astype(float)
        self.fail(column, "must be numeric", (values.isna() & raw.notna()).to_numpy())
        finite = np.isfinite(values.to_numpy())
        self.fail(column, "has missing or infinite values", ~finite)
        return values

    def labels(self, column: str) -> pd.Series:
        raw = self.frame[column]
        self.fail(column, "has missing labels", raw.isna().to_numpy(), show_values=False)
        labels = raw.astype(str)
        nul = labels.str.contains("\x00", regex=False).to_numpy()
        self.fail(column, "has labels with a NUL character (not storable)", nul, show_values=False)
        return labels


def load_curves(
    data: pd.DataFrame | str | Path | CurveData | Any,
    *,
    x: str | None = None,
    y: str | Sequence[str] | None = None,
    run: str | None = None,
    runs: str | Sequence[str] | None = None,
    format: str = "auto",
    compute_per_step: float | str | None = None,
    recipe: str | None = None,
    n: str | None = None,
    d: str | None = None,
    compute: str | None = None,
    trials: str | int | None = None,
    bounded: bool = True,
    positive_y: bool = False,
    min_x: float | None = None,
    max_x: float | None = None,
    min_points: int = 5,
    repeats: str = "error",
    drop_highest: int = 0,
    role_names: Mapping[str, str] | None = None,
) -> CurveData:
    """Validate curve data and map the user's columns to canonical roles.

    Parameters
    ----------
    data : DataFrame, path, CurveData, polars DataFrame or mapping
        The observations: a long table (CSV/TSV/Parquet file or DataFrame, one
        row per evaluation), a wide table (one column per run), a W&B line-plot
        export, W&B run histories (a mapping run name -> ``run.history()``
        DataFrame, or a folder of one export per run), a TensorBoard log folder
        or a local MLflow store (see :mod:`bayescale.data.trackers`; polars
        DataFrames are read through ``to_pandas``). A :class:`CurveData`
        (loaded before) is checked against ``bounded``, ``positive_y`` and
        ``min_points`` and re-windowed by ``min_x``/``max_x`` (an end not given
        keeps the loaded one), without column options.
    x : str, optional
        Column of the input (compute, GPU-hours, parameters, ...; ``"step"`` for
        TensorBoard and MLflow). Give either ``x`` or ``n`` and ``d``.
    y : str or sequence of str
        Column of the metric (pass rate or loss), the metric's name in a tracker,
        or the run columns of a wide table (names or patterns such as ``"seed*"``).
    run : str, optional
        Column naming the run (seed). Without it each recipe's rows form one run
        (all rows one run when there is no recipe either). Tracker sources name
        their runs themselves.
    recipe : str, optional
        Column naming the recipe; runs are nested in recipes. For TensorBoard logs
        ``"folder"`` (``logs/<recipe>/<run>``), for MLflow ``"experiment"``.
    runs : str or sequence of str, optional
        The run columns of a wide table (names or patterns); ``y`` then names the metric.
    format : str
        ``"auto"`` (detected from the file, folder or frame) or one of
        :data:`bayescale.data.trackers.FORMATS`.
    compute_per_step : float or str, optional
        Converts steps to compute: ``x`` (steps) times this factor, or times this
        column (compute per step, row by row). The fit's ``x`` is then
        ``compute (step × factor)``; ``min_x``/``max_x`` apply to that compute.
    n, d : str, optional
        Columns of parameters and tokens, for two-variable laws.
    compute : str, optional
        Column of training compute (FLOP), given with ``n`` instead of ``d``:
        tokens are derived as ``d = compute / (6 n)`` (the frame keeps ``compute``).
    trials : str or int, optional
        Column with the number of evaluation prompts per row, or one number for all.
    bounded : bool
        Require ``y`` in [0, 1] (pass rates).
    positive_y : bool
        Require ``y > 0`` (losses fitted on the log scale).
    min_x : float, optional
        Drop rows with ``x < min_x`` (early compute), and say how many. Exclusions
        apply before validation, so rows at ``x = 0`` (RL step 0) may be excluded.
    max_x : float, optional
        Drop rows with ``x > max_x`` (e.g. a held-out tail), and say how many.
    min_points : int
        Fewest points a run may have after exclusion.
    repeats : {"error", "independent", "mean", "best"}
        Rows that repeat a point (same run and inputs: replicated runs without a
        run column, learning-rate sweeps, exact duplicates): refuse them naming
        the repeated points (default), keep them as independent observations,
        average their metric, or keep the best one (highest rate, lowest loss) as
        published analyses do.
    drop_highest : int
        Drop this many rows with the highest metric first (the Chinchilla
        replication drops the five highest losses).
    role_names : dict, optional
        Role -> the name the caller gave it, for messages (``fit_sizes`` calls
        the ``n`` column ``size``).

    Returns
    -------
    CurveData

    Raises
    ------
    DataError
        On the first problem found, naming the column and the first bad rows.
    """
    if isinstance(data, CurveData):
        given = {"x": x, "run": run, "recipe": recipe, "n": n, "d": d, "compute": compute}
        given |= {"trials": trials, "repeats": None if repeats == "error" else repeats}
        given |= {"drop_highest": drop_highest or None, "runs": runs}
        given |= {"format": None if format == "auto" else format}
        given |= {"compute_per_step": compute_per_step}
        named = [f"{key}=" for key, value in given.items() if value is not None]
        if named or y is not None:
            options = ", ".join(named + (["y="] if y is not None else []))
            raise ValueError(
                f"{data.source}: the columns were named when the data were loaded; drop {options}"
            )
        return _checked_for_law(
            data.window(min_x, max_x, min_points=min_points), bounded, positive_y
        )
    if y is None and runs is None:
        raise ValueError("name the metric column: y=...")
    check_data_type(data)
    from bayescale.data.trackers import read_tracked

    table = read_tracked(data, x=x, y=y, run=run, runs=runs, recipe=recipe, format=format)
    frame, info, source = table.frame, table.info, table.source
    if info is None and table.format == "table":
        info = _frame_info(frame)
    x, y, run = table.x, table.y, table.run
    if frame.empty:
        raise DataError(f"{source}: no rows")
    if compute is not None and (n is None or d is not None):
        raise DataError(
            f"{source}: compute= derives tokens as compute / (6 n); give it with n= and without d="
        )
    given = {"x": x, "n": n, "d": d, "compute": compute}
    inputs = {role: col for role, col in given.items() if col is not None}
    if not inputs:
        raise DataError(f"{source}: name the input column (x=..., or n=... and d=...)")
    roles = {**inputs, "y": y}
    for role, col in (("run", run), ("recipe", recipe)):
        if col is not None:
            roles[role] = col
    if isinstance(trials, str):
        roles["trials"] = trials
    named = {(role_names or {}).get(role, role): col for role, col in roles.items()}
    check_columns_exist(frame, named, source)
    _check_duplicated_columns(info, named, source)

    given_frame = table.format == "table" and isinstance(data, pd.DataFrame)
    labels = data.index if given_frame else table.labels
    frame = frame.reset_index(drop=False).rename(columns={"index": "__index__"})
    frame.index = frame.index if labels is None else labels
    frame["row"] = np.arange(len(frame))
    check = ColumnChecker(frame, source, info.lines if info is not None else None)
    notes: list[str] = list(table.notes)
    if compute_per_step is not None:
        steps = inputs.get("x")
        inputs["x"] = roles["x"] = _steps_to_compute(check, steps, compute_per_step)
        roles |= {"step": str(steps), "compute_per_step": str(compute_per_step)}
        notes.append(f"x is {roles['x']}: steps converted to compute")

    canonical = pd.DataFrame(index=frame.index)
    window = _window(check, inputs, min_x, max_x)
    for role, col in inputs.items():
        values = check.numeric(col)
        # x = 0 (RL step 0) is allowed in rows the window excludes; negative never
        check.fail(col, "must be > 0", ((values < 0) | ((values == 0) & window)).to_numpy())
        canonical[role] = values
    if compute is not None:
        canonical["d"] = canonical["compute"] / (FLOP_PER_PARAMETER_TOKEN * canonical["n"])
    y_values = check.numeric(y)
    if bounded:
        check.fail(y, "must lie in [0, 1]", ((y_values < 0) | (y_values > 1)).to_numpy())
    if positive_y:
        check.fail(y, "must be > 0", (y_values <= 0).to_numpy())
    canonical["y"] = y_values
    canonical["recipe"] = check.labels(recipe) if recipe else "all"
    # Without a run column each recipe's rows are one run (one model per size is
    # a common shape); a shared label would merge the recipes' runs into one.
    run_labels = check.labels(run) if run else canonical["recipe"]
    canonical["run"] = (
        _joined_labels(canonical["recipe"], run_labels) if recipe and run else run_labels
    )
    canonical["trials"] = _trials(check, trials)
    canonical["row"] = frame["row"]
    if canonical["trials"].isna().all():
        canonical = canonical.drop(columns="trials")

    first_input = next(iter(inputs))
    _check_label_collisions(frame, recipe, run, source)
    if drop_highest:
        canonical = _drop_highest(canonical, drop_highest, y, source, notes)
    canonical = _handle_repeats(check, canonical, inputs, run, repeats, bounded, notes)
    if (min_x is not None or max_x is not None) and first_input != "x":
        side = "min" if min_x is not None else "max"
        raise DataError(f"{source}: {side}_x applies to the x column; this law has no x")
    return _windowed(
        canonical,
        columns=dict(roles),
        source=source,
        base_notes=notes,
        bounds=(min_x, max_x),
        min_points=min_points,
        path=info.path if info is not None else None,
        sha256=info.sha256 if info is not None else None,
    )


def _steps_to_compute(check: ColumnChecker, steps: str | None, per_step: float | str) -> str:
    """Add the column ``compute (<steps> × <per_step>)`` to ``check.frame``; returns its name.

    ``per_step`` is one factor, or a column of compute per step (row by row).
    """
    source = check.source
    if steps is None:
        raise DataError(
            f"{source}: compute_per_step converts the x column (steps); name it (x=...)"
        )
    if isinstance(per_step, str):
        check_columns_exist(check.frame, {"compute_per_step": per_step}, source)
        factor = check.numeric(per_step)
        check.fail(per_step, "must be > 0 (compute per step)", (factor <= 0).to_numpy())
    elif not (math.isfinite(per_step) and per_step > 0):
        raise DataError(f"{source}: compute_per_step must be a finite number > 0, got {per_step!r}")
    else:
        factor = per_step
    name = f"compute ({steps} × {per_step if isinstance(per_step, str) else f'{per_step:g}'})"
    check.frame[name] = check.numeric(steps) * factor
    return name


def _checked_for_law(data: CurveData, bounded: bool, positive_y: bool) -> CurveData:
    """``data`` if its metric suits the law (a rate in [0, 1], or positive for log laws)."""
    y = data.frame["y"]
    for refused, rule in (
        (bounded and ((y < 0) | (y > 1)), "must lie in [0, 1]"),
        (positive_y and (y <= 0), "must be > 0"),
    ):
        if refused is not False and refused.any():
            rows = ", ".join(
                str(int(r)) for r in data.frame.loc[refused, "row"].head(MAX_ROWS_NAMED)
            )
            raise DataError(f"{data.source}: column '{data.columns['y']}' {rule}; row {rows}")
    return data


def _first_input(frame: pd.DataFrame) -> str:
    return next(role for role in ("x", "n", "d") if role in frame)


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    order = ["recipe", "run", _first_input(rows)]
    return rows.sort_values(order, kind="stable").reset_index(drop=True)


def _inside(x: pd.Series, low: float | None, high: float | None) -> pd.Series:
    inside = pd.Series(True, index=x.index)
    if low is not None:
        inside &= x >= low
    if high is not None:
        inside &= x <= high
    return inside


def _windowed(
    canonical: pd.DataFrame,
    *,
    columns: dict[str, str],
    source: str,
    base_notes: list[str],
    bounds: tuple[float | None, float | None],
    min_points: int,
    path: str | None,
    sha256: str | None,
) -> CurveData:
    """The rows inside ``bounds`` as :class:`CurveData`, the others kept as ``excluded``."""
    first_input = _first_input(canonical)
    start = (
        canonical.sort_values(first_input, kind="stable").groupby("run", sort=False)["y"].first()
    )
    notes = list(base_notes)
    keep = pd.Series(True, index=canonical.index)
    name = columns.get("x", "x")
    for bound, sign in ((bounds[0], "<"), (bounds[1], ">")):
        if bound is None:
            continue
        side = canonical["x"] < bound if sign == "<" else canonical["x"] > bound
        note = f"excluded {int((side & keep).sum())} of {int(keep.sum())} rows with {name} {sign} {bound:g}"
        notes.append(note)
        logger.info("%s: %s", source, note)
        keep &= ~side
        if not keep.any():
            raise DataError(f"{source}: no rows left after excluding {name} {sign} {bound:g}")
    _check_emptied_runs(canonical, keep, source, columns, bounds)
    inside = canonical[keep].copy()
    if bounds[0] is not None:
        # each run's first evaluation (e.g. at step 0, excluded) informs the start value R0
        inside["y_start"] = inside["run"].map(start)
    _check_run_sizes(inside, source, columns.get("run"), min_points, notes)
    return CurveData(
        frame=_sorted(inside),
        columns=columns,
        source=source,
        notes=notes,
        path=path,
        sha256=sha256,
        excluded=_sorted(canonical[~keep])
        if (~keep).any()
        else canonical.iloc[:0].reset_index(drop=True),
        bounds=bounds,
        min_points=min_points,
        base_notes=list(base_notes),
    )


def _check_emptied_runs(
    canonical: pd.DataFrame,
    keep: pd.Series,
    source: str,
    columns: Mapping[str, str],
    bounds: tuple[float | None, float | None],
) -> None:
    """Refuse a window that leaves a run with no points, naming the run (never dropped silently)."""
    kept = set(canonical.loc[keep, "run"])
    emptied = [run for run in dict.fromkeys(canonical["run"]) if run not in kept]
    if not emptied:
        return
    name = columns.get("x", "x")
    ends = [f"{name} >= {bounds[0]:g}"] if bounds[0] is not None else []
    ends += [f"{name} <= {bounds[1]:g}"] if bounds[1] is not None else []
    listed = ", ".join(f"'{run}'" for run in emptied[:MAX_ROWS_NAMED])
    more = f" (and {len(emptied) - MAX_ROWS_NAMED} more)" if len(emptied) > MAX_ROWS_NAMED else ""
    raise DataError(
        f"{source}: run {listed}{more} has no {columns.get('y', 'y')} inside the window "
        f"({' and '.join(ends)}); widen the window (min_x/max_x) or leave the run out of the data"
    )


def _drop_highest(
    canonical: pd.DataFrame, count: int, y: str, source: str, notes: list[str]
) -> pd.DataFrame:
    """Drop the ``count`` rows with the highest metric (published loss analyses do)."""
    if int(count) != count or count < 0 or count >= len(canonical):
        raise DataError(
            f"{source}: drop_highest must be a whole number from 0 to {len(canonical) - 1}, "
            f"got {count!r}"
        )
    dropped = canonical["y"].nlargest(int(count)).index
    rows = ", ".join(str(int(r)) for r in canonical.loc[dropped, "row"].head(MAX_ROWS_NAMED))
    more = " ..." if count > MAX_ROWS_NAMED else ""
    notes.append(f"dropped the {int(count)} rows with the highest {y} (source rows {rows}{more})")
    return canonical.drop(index=dropped)


def _window(
    check: ColumnChecker, inputs: Mapping[str, str], min_x: float | None, max_x: float | None
) -> pd.Series:
    """Rows inside ``[min_x, max_x]`` (all rows for laws without x): rows at x = 0
    outside it are excluded instead of refused (negative inputs are always refused)."""
    if "x" not in inputs or (min_x is None and max_x is None):
        return pd.Series(True, index=check.frame.index)
    return _inside(check.numeric(inputs["x"]), min_x, max_x)


#: What to pass instead of data of another type, by type.
_DATA_HINTS = {
    "Series": "a pandas Series; pass a DataFrame with named columns (series.to_frame())",
    "ndarray": "a NumPy array, which has no column names; pass pd.DataFrame(array, columns=[...])",
    "dict": "a dict that is not run name -> DataFrame; pass pd.DataFrame(data)",
    "list": "a list; pass a pandas DataFrame",
    "tuple": "a tuple; pass a pandas DataFrame",
}


def check_data_type(data: object) -> None:
    """Refuse data that is not a table, a path or run histories, naming what to pass.

    Accepted: a pandas or polars DataFrame, a path, or a mapping of run name to
    DataFrame (W&B run histories)."""
    histories = (
        isinstance(data, Mapping)
        and len(data) > 0
        and all(isinstance(value, pd.DataFrame) for value in data.values())
    )
    polars = type(data).__module__.split(".")[0] == "polars" and hasattr(data, "to_pandas")
    if isinstance(data, (pd.DataFrame, str, os.PathLike)) or histories or polars:
        return
    kind = type(data)
    what = _DATA_HINTS.get(kind.__name__, f"a {kind.__name__}; pass a pandas DataFrame")
    raise DataError(f"data is {what}, or the path of a CSV, TSV or Parquet file")


def _frame_info(frame: pd.DataFrame) -> SourceFile:
    """What :func:`read_source` records of a file, for a DataFrame: its repeated column names."""
    names = [str(name) for name in frame.columns]
    duplicates = tuple(name for name, k in Counter(names).items() if k > 1)
    return SourceFile(path=None, sha256=None, lines=None, duplicates=duplicates)


def check_columns_exist(frame: pd.DataFrame, roles: Mapping[str, str], source: str) -> None:
    """Refuse a role whose column is missing, naming the columns there are."""
    for role, col in roles.items():
        if col not in frame.columns:
            available = ", ".join(map(str, frame.columns))
            raise DataError(
                f"{source}: missing column '{col}' (given as {role}); the columns are: {available}"
            )


def _check_duplicated_columns(
    info: SourceFile | None, roles: Mapping[str, str], source: str
) -> None:
    if info is None:
        return
    for role, col in roles.items():
        if col in info.duplicates:
            where = "the header names" if info.path is not None else "it has"
            raise DataError(f"{source}: {where} column '{col}' (given as {role}) more than once")


def run_label(recipe: str, run: str) -> str:
    """``recipe/run``, or ``run`` alone when it already starts with its recipe
    (``baseline/seed0``, not ``baseline/baseline/seed0``).

    Examples
    --------
    >>> run_label("baseline", "baseline/seed0"), run_label("baseline", "seed0")
    ('baseline/seed0', 'baseline/seed0')
    """
    run, recipe = str(run), str(recipe)
    return run if run.startswith(f"{recipe}/") else f"{recipe}/{run}"


def _joined_labels(recipes: pd.Series, runs: pd.Series) -> pd.Series:
    """:func:`run_label` of each (recipe, run) pair."""
    return pd.Series(
        [run_label(a, b) for a, b in zip(recipes, runs, strict=True)], index=runs.index
    )


def _check_label_collisions(
    frame: pd.DataFrame, recipe: str | None, run: str | None, source: str
) -> None:
    """Refuse (recipe, run) pairs whose ``recipe/run`` labels coincide."""
    if not (recipe and run):
        return
    pairs = frame[[recipe, run]].astype(str).drop_duplicates()
    labels = _joined_labels(pairs[recipe], pairs[run])
    clash = labels.duplicated(keep=False).to_numpy()
    if not clash.any():
        return
    shown = pairs[clash].head(2).itertuples(index=False)
    described = " and ".join(f"(recipe '{a}', run '{b}')" for a, b in shown)
    raise DataError(
        f"{source}: {described} would both be labelled '{labels[clash].iloc[0]}'; "
        "rename runs or recipes so that no label contains the other's '/'"
    )


#: Most evaluation prompts per row: counts stay exact in floating point and
#: within the integer range of the binomial draws.
MAX_TRIALS = 10**9


def _trials(check: ColumnChecker, trials: str | int | None) -> pd.Series:
    index = check.frame.index
    if trials is None:
        return pd.Series(np.nan, index=index)
    if isinstance(trials, str):
        values = check.numeric(trials)
        bad = (values < 1) | (values > MAX_TRIALS) | (values != np.round(values))
        check.fail(
            trials,
            f"must be a whole number of prompts >= 1 (at most {MAX_TRIALS:.0e})",
            bad.to_numpy(),
        )
        return values
    if (
        isinstance(trials, bool)
        or not isinstance(trials, (int, float, np.integer, np.floating))
        or not math.isfinite(trials)
        or int(trials) != trials
        or not 1 <= trials <= MAX_TRIALS
    ):
        raise DataError(
            f"{check.source}: trials must be a whole number >= 1 (at most {MAX_TRIALS:.0e}), "
            f"got {trials!r}"
        )
    return pd.Series(float(trials), index=index)


REPEATS = ("error", "independent", "mean", "best")
"""What to do with rows that repeat a point (see :func:`load_curves`)."""


def _handle_repeats(
    check: ColumnChecker,
    canonical: pd.DataFrame,
    inputs: Mapping[str, str],
    run: str | None,
    repeats: str,
    bounded: bool,
    notes: list[str],
) -> pd.DataFrame:
    """Refuse, keep, average or keep the best of rows that repeat a (run, inputs) point."""
    if repeats not in REPEATS:
        choices = ", ".join(REPEATS)
        raise DataError(f"{check.source}: repeats must be one of {choices}, got {repeats!r}")
    roles = [role for role in ("x", "n", "d") if role in canonical]
    keys = ["run", *roles]
    repeated = canonical.duplicated(subset=keys, keep=False).to_numpy()
    if not repeated.any():
        return canonical
    named = _repeated_points(canonical[repeated], roles, run)
    first_column = next(iter(inputs.values()))
    if repeats == "error":
        column = ", ".join(inputs.values())
        what = f"repeats a (run, {column}) pair" if run else f"repeats a value of {column}"
        where = describe_rows(check.frame, repeated, check.frame[first_column], check.lines)
        hint = (
            "choose repeats='independent', 'mean' or 'best'"
            if run
            else "is a run column missing (run=...)? otherwise choose repeats='independent', "
            "'mean' or 'best'"
        )
        raise DataError(
            f"{check.source}: column '{first_column}' {what}; {where}; repeated points {named}; "
            f"{hint}"
        )
    n_rows = int(repeated.sum())
    n_points = int(canonical[repeated].groupby(keys).ngroups)
    counted = f"{n_rows} rows at {n_points} repeated points ({named})"
    if repeats == "independent":
        notes.append(f"kept {counted} as independent observations")
        return canonical
    groups = canonical.groupby(keys, sort=False)
    if repeats == "mean":
        kept = canonical[~canonical.duplicated(subset=keys, keep="first").to_numpy()].copy()
        means = groups["y"].transform("mean")
        kept["y"] = means.loc[kept.index]
        notes.append(f"averaged the metric over {counted}")
        return kept
    best = groups["y"].idxmax() if bounded else groups["y"].idxmin()
    notes.append(f"kept the {'highest' if bounded else 'lowest'} metric of {counted}")
    return canonical.loc[sorted(best.to_numpy())]


def _repeated_points(rows: pd.DataFrame, roles: list[str], run: str | None) -> str:
    """The first few repeated points as text, e.g. ``(1e+08, 2e+09) x2``."""
    keys = (["run"] if run else []) + roles
    counts = rows.groupby(keys, sort=False).size()
    shown = []
    for key, count in counts.head(MAX_ROWS_NAMED).items():
        values = key if isinstance(key, tuple) else (key,)
        text = ", ".join(v if isinstance(v, str) else f"{v:g}" for v in values)
        shown.append(f"({text}) x{count}")
    more = f" and {len(counts) - MAX_ROWS_NAMED} more" if len(counts) > MAX_ROWS_NAMED else ""
    return ", ".join(shown) + more


def _check_run_sizes(
    canonical: pd.DataFrame,
    source: str,
    run: str | None,
    min_points: int,
    notes: list[str],
) -> None:
    sizes = canonical.groupby("run", sort=False).size()
    small = sizes[sizes < min_points]
    if small.empty:
        return
    after = f" after the exclusions ({'; '.join(notes)})" if notes else ""
    listed = ", ".join(f"'{name}' ({count})" for name, count in small.head(MAX_ROWS_NAMED).items())
    where = f"column '{run}': run" if run else "the data:"
    raise DataError(
        f"{source}: {where} {listed} has too few points{after}; "
        f"each run needs at least {min_points}"
    )
