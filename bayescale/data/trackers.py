"""Curves where researchers keep them: W&B exports, TensorBoard logs, MLflow stores, wide tables.

:func:`read_tracked` turns each source into one long table (an x column, the
metric and a ``run`` column) that :func:`bayescale.data.curves.load_curves`
validates as any other table. The formats (``format=``, detected when ``"auto"``):

- ``"table"``: a long CSV/TSV/Parquet file or DataFrame, one row per evaluation;
- ``"wide"``: one column per run (``y=["seed0", "seed1"]``, ``y="seed*"`` or ``runs=[...]``);
- ``"wandb"``: a W&B line-plot "Export CSV" file: the x column (``Step`` or the
  chosen x metric), then ``<run name> - <metric>`` per run with ``__MIN``/``__MAX``
  companions, blank where a run has no value (or had stopped);
- ``"wandb-history"``: run histories as W&B's public API returns them
  (``run.history()``): a mapping run name -> DataFrame, or a folder of one
  CSV/Parquet export per run (the run named by the file's stem);
- ``"tensorboard"``: a log folder, one sub-folder of ``events.out.tfevents.*``
  files per run (needs the extra ``bayescale[tensorboard]``);
- ``"mlflow"``: a local MLflow tracking folder (``mlruns/``), read from its
  documented metric files (``<experiment>/<run>/metrics/<key>``).

Nothing is dropped silently: blank cells, steps logged twice by a resumed run
(the later value is kept) and runs without the metric are said in notes.

Examples
--------
>>> import pandas as pd
>>> export = pd.DataFrame({"Step": [100, 200, 300],
...                        "a - eval/pass_rate": [0.1, 0.2, 0.3],
...                        "a - eval/pass_rate__MIN": [0.1, 0.2, 0.3],
...                        "b - eval/pass_rate": [0.15, 0.25, None]})
>>> table = read_tracked(export, x="Step", y="eval/pass_rate")
>>> table.format, table.frame["run"].tolist()
('wandb', ['a', 'a', 'a', 'b', 'b'])
>>> table.notes
("W&B export: run 'b' is blank at 1 of 3 Step values (nothing logged there)",)
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.data.sources import MAX_ROWS_NAMED, DataError, SourceFile, read_source

FORMATS = ("auto", "table", "wide", "wandb", "wandb-history", "tensorboard", "mlflow")
"""The source formats :func:`read_tracked` reads (``"auto"`` detects one)."""

RUN = "run"
"""Column of the run label in the tables built from trackers."""

TENSORBOARD_EXTRA = "pip install 'bayescale[tensorboard]'"
WANDB_SEPARATOR = " - "
WANDB_COMPANIONS = ("__MIN", "__MAX")
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".parquet", ".pq"}
PATTERN_CHARACTERS = set("*?[")


@dataclass(frozen=True)
class TrackedTable:
    """A source read into one table with an x column, the metric and (usually) a run column.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows to validate.
    x, y : str or None
        The x column (``None`` for laws without one) and the metric column of ``frame``.
    run : str or None
        The run column of ``frame`` (``"run"`` for tracker sources).
    source : str
        What to call the source in messages (the path, or ``"DataFrame"``).
    info : SourceFile or None
        Path, hash and lines of each row (lines for CSV-based sources only).
    format : str
        One of :data:`FORMATS` other than ``"auto"``.
    notes : tuple of str
        What reading did that a user should know.
    labels : pandas.Index or None
        Names of the rows for messages when there are no file lines
        (e.g. ``seed1 at step 300``).
    """

    frame: pd.DataFrame
    x: str | None
    y: str
    run: str | None
    source: str
    info: SourceFile | None
    format: str
    notes: tuple[str, ...] = ()
    labels: pd.Index | None = None


def read_tracked(
    data: Any,
    *,
    x: str | None,
    y: str | Sequence[str] | None,
    run: str | None = None,
    runs: str | Sequence[str] | None = None,
    recipe: str | None = None,
    format: str = "auto",
) -> TrackedTable:
    """Read ``data`` in any of :data:`FORMATS` into one long table.

    Parameters
    ----------
    data : DataFrame, polars DataFrame, mapping of run name -> DataFrame, or path
        A file (CSV/TSV/Parquet: long, wide or a W&B export) or a folder
        (TensorBoard logs, an MLflow store, or one W&B history export per run).
    x : str or None
        The x column; for TensorBoard and MLflow ``"step"``, the wall time
        (``"wall_time"``, ``"timestamp"``) or another scalar logged at the same steps.
    y : str, sequence of str or None
        The metric; for wide tables the run columns (names or patterns such as ``"seed*"``).
    run : str, optional
        The run column of a long table (tracker sources name their runs).
    runs : str or sequence of str, optional
        The run columns of a wide table (then ``y`` only names the metric).
    recipe : str, optional
        The recipe column. TensorBoard tables have a column ``folder`` (the
        parent folder of each run's folder) and MLflow tables ``experiment``; with
        ``recipe`` naming it, runs are labelled inside their recipe.
    format : str
        One of :data:`FORMATS`.

    Returns
    -------
    TrackedTable

    Raises
    ------
    DataError
        In one line naming the source, and the run or metric at fault: an
        unknown format, a metric that is absent (the metrics there are, closest
        first), a folder that is no known log, a missing optional reader.
    """
    if format not in FORMATS:
        raise DataError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if _is_polars(data):
        data = data.to_pandas()
    if isinstance(data, Mapping):
        return _from_histories(dict(data), "mapping of run histories", x, y, run, format, None)
    if isinstance(data, pd.DataFrame):
        return _from_frame(data, "DataFrame", None, x=x, y=y, run=run, runs=runs, format=format)
    path = Path(data)
    if path.suffix == ".db" or (path.is_dir() and (path / "mlflow.db").is_file()):
        raise DataError(
            f"{path}: an MLflow database store (mlflow.db) is not read; read its runs with "
            "MlflowClient(tracking_uri='sqlite:///mlflow.db').get_metric_history into a "
            "table, or point at a file store (mlruns/)"
        )
    if path.is_dir():
        return _from_folder(path, x=x, y=y, run=run, recipe=recipe, format=format)
    frame, info = read_source(path)
    return _from_frame(frame, str(data), info, x=x, y=y, run=run, runs=runs, format=format)


def _is_polars(data: Any) -> bool:
    """A polars DataFrame, recognised without importing polars (not a dependency)."""
    return type(data).__module__.split(".")[0] == "polars" and hasattr(data, "to_pandas")


# ------------------------------------------------------------------- tables


def _from_frame(
    frame: pd.DataFrame,
    source: str,
    info: SourceFile | None,
    *,
    x: str | None,
    y: str | Sequence[str] | None,
    run: str | None,
    runs: str | Sequence[str] | None,
    format: str,
) -> TrackedTable:
    kind = format if format != "auto" else _detect_frame(frame, y, runs)
    if kind in ("tensorboard", "mlflow", "wandb-history"):
        raise DataError(f"{source}: format {kind!r} is read from a folder, not from one table")
    if kind == "table":
        if not isinstance(y, str):
            raise DataError(f"{source}: a long table has one metric column; got y={y!r}")
        notes = _sibling_columns_note(frame, y) if run is None else ()
        return TrackedTable(frame, x, y, run, source, info, "table", notes)
    _refuse_run(run, source, kind)
    if kind == "wide":
        return _from_wide(frame, source, info, x, y, runs)
    if not isinstance(y, str):
        raise DataError(f"{source}: name one metric of the W&B export (y=...), got {y!r}")
    return _from_wandb_export(frame, source, info, x, y)


def _detect_frame(
    frame: pd.DataFrame, y: str | Sequence[str] | None, runs: str | Sequence[str] | None
) -> str:
    if runs is not None or not isinstance(y, str):
        return "wide"
    if y in frame.columns:
        return "table"
    if _looks_like_wandb_export(frame, y):
        return "wandb"
    if PATTERN_CHARACTERS & set(y):
        return "wide"
    return "table"  # the loader names the missing column


def _sibling_columns_note(frame: pd.DataFrame, y: str) -> tuple[str, ...]:
    """A note when a one-run table has columns named like ``y`` (``seed0`` and ``seed1``, ...)."""
    stem = re.sub(r"\d+$", "", y)
    if stem == y or not stem:
        return ()
    siblings = [str(c) for c in frame.columns if re.fullmatch(re.escape(stem) + r"\d+", str(c))]
    if len(siblings) < 2:
        return ()
    others = ", ".join(name for name in siblings if name != y)
    return (
        f"all rows form one run; columns {others} look like other runs: name them all to read "
        f"one run per column (y={siblings!r}, --y {' '.join(siblings)} or '{stem}*')",
    )


def _looks_like_wandb_export(frame: pd.DataFrame, y: str) -> bool:
    """A ``<run> - <y>`` column, or every column after the first named ``<run> - <metric>``."""
    names = [str(column) for column in frame.columns]
    if any(name.endswith(WANDB_SEPARATOR + y) for name in names):
        return True
    return len(names) > 1 and all(WANDB_SEPARATOR in name for name in names[1:])


def _refuse_run(run: str | None, source: str, kind: str) -> None:
    if run is not None:
        raise DataError(
            f"{source}: the runs of a {kind} source are named by it; drop run={run!r} (--run)"
        )


def _from_wandb_export(
    frame: pd.DataFrame, source: str, info: SourceFile | None, x: str | None, y: str
) -> TrackedTable:
    suffix = WANDB_SEPARATOR + y
    columns = {str(c)[: -len(suffix)]: c for c in frame.columns if str(c).endswith(suffix)}
    if not columns:
        metrics = sorted(
            {
                str(c).rpartition(WANDB_SEPARATOR)[2]
                for c in frame.columns
                if WANDB_SEPARATOR in str(c)
            }
            - {""}
        )
        metrics = [m for m in metrics if not m.endswith(WANDB_COMPANIONS)]
        raise DataError(
            f"{source}: no metric '{y}' in the W&B export; {_closest(y, metrics, 'metrics')}"
        )
    x = _export_x(frame, source, x, "W&B export")
    return _stack(frame, source, info, x, y, columns, "W&B export")


def _from_wide(
    frame: pd.DataFrame,
    source: str,
    info: SourceFile | None,
    x: str | None,
    y: str | Sequence[str] | None,
    runs: str | Sequence[str] | None,
) -> TrackedTable:
    given = runs if runs is not None else y
    patterns = [given] if isinstance(given, str) else list(given or [])
    if not patterns:
        raise DataError(f"{source}: name the run columns of the wide table (y=[...] or runs=[...])")
    x = _export_x(frame, source, x, "wide table")
    names = [str(c) for c in frame.columns if c != x]
    columns: dict[str, Any] = {}
    for pattern in patterns:
        if pattern in frame.columns:
            matched = [pattern]
        elif PATTERN_CHARACTERS & set(pattern):
            matched = [name for name in names if fnmatch.fnmatchcase(name, pattern)]
            if not matched:
                raise DataError(
                    f"{source}: no column matches '{pattern}'; the columns are: {', '.join(names)}"
                )
        else:
            raise DataError(
                f"{source}: missing run column '{pattern}'; {_closest(pattern, names, 'columns')}"
            )
        columns |= {name: name for name in matched}
    metric = y if runs is not None and isinstance(y, str) else " ".join(patterns)
    return _stack(frame, source, info, x, metric, columns, "wide table")


def _export_x(frame: pd.DataFrame, source: str, x: str | None, what: str) -> str:
    if x is None:
        raise DataError(
            f"{source}: name the x column of the {what} (its first column is '{frame.columns[0]}')"
        )
    if x not in frame.columns:
        names = [str(c) for c in frame.columns if WANDB_SEPARATOR not in str(c)]
        raise DataError(
            f"{source}: missing x column '{x}' in the {what}; {_closest(x, names, 'columns')}"
        )
    return x


def _stack(
    frame: pd.DataFrame,
    source: str,
    info: SourceFile | None,
    x: str,
    metric: str,
    columns: Mapping[str, Any],
    what: str,
) -> TrackedTable:
    """One column per run -> long rows (blank cells left out, and counted in notes)."""
    pieces, notes = [], []
    for name, column in columns.items():
        present = frame[column].notna().to_numpy()
        positions = np.flatnonzero(present)
        pieces.append(
            pd.DataFrame(
                {
                    x: frame[x].to_numpy()[positions],
                    metric: frame[column].to_numpy()[positions],
                    RUN: name,
                }
            )
        )
        blank = int((~present & frame[x].notna().to_numpy()).sum())
        if blank:
            notes.append(
                f"{what}: run '{name}' is blank at {blank} of {len(frame)} {x} values "
                "(nothing logged there)"
            )
    long = pd.concat(pieces, ignore_index=True)
    # messages name a cell by run and x: one line of the file holds every run's value
    info = dataclasses.replace(info, lines=None) if info is not None else None
    kind = "wide" if what == "wide table" else "wandb"
    return TrackedTable(
        long, x, metric, RUN, source, info, kind, tuple(notes), _row_labels(long, x)
    )


def _closest(name: str, candidates: Sequence[str], noun: str) -> str:
    """``"the metrics are (closest first): a, b"``."""
    if not candidates:
        return f"there are no {noun}"
    ranked = sorted(
        candidates, key=lambda c: -difflib.SequenceMatcher(None, name.lower(), c.lower()).ratio()
    )
    shown = ", ".join(ranked[:10]) + (f" (and {len(ranked) - 10} more)" if len(ranked) > 10 else "")
    return f"the {noun} are (closest first): {shown}"


# ------------------------------------------------------------------ folders


def _from_folder(
    path: Path, *, x: str | None, y: Any, run: str | None, recipe: str | None, format: str
) -> TrackedTable:
    kind = format if format != "auto" else _detect_folder(path)
    if kind in ("table", "wide", "wandb"):
        raise DataError(f"{path}: is a folder; format {kind!r} is read from one file")
    _refuse_run(run, str(path), kind)
    if not isinstance(y, str):
        raise DataError(f"{path}: name one metric (y=...), got {y!r}")
    if kind == "tensorboard":
        records = _tensorboard_records(path, {y, str(x)})
        return _from_records(path, records, x, y, recipe, "tensorboard")
    if kind == "mlflow":
        return _from_records(path, _mlflow_records(path, {y, str(x)}), x, y, recipe, "mlflow")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in TABLE_SUFFIXES)
    histories = {}
    infos = []
    for file in files:
        histories[file.stem], info = read_source(file)
        infos.append(info)
    return _from_histories(
        histories, str(path), x, y, None, "wandb-history", _folder_info(path, infos)
    )


def _detect_folder(path: Path) -> str:
    if next(path.rglob("*tfevents*"), None) is not None:
        return "tensorboard"
    if _mlflow_run_folders(path):
        return "mlflow"
    if any(p.suffix.lower() in TABLE_SUFFIXES for p in path.iterdir()):
        return "wandb-history"
    raise DataError(
        f"{path}: is a folder with no TensorBoard event files (events.out.tfevents.*), "
        "no MLflow runs (<experiment>/<run>/meta.yaml) and no CSV/Parquet exports"
    )


def _folder_info(path: Path, files: Sequence[SourceFile] | Sequence[Path]) -> SourceFile:
    """The folder's path and one hash over the names and bytes of the files read."""
    digest = hashlib.sha256()
    for file in files:
        if isinstance(file, SourceFile):
            digest.update(file.path.encode() + file.sha256.encode())
        else:
            digest.update(str(file.relative_to(path)).encode() + file.read_bytes())
    return SourceFile(
        path=str(path.resolve()), sha256=digest.hexdigest(), lines=None, duplicates=()
    )


def _from_histories(
    histories: dict[str, Any],
    source: str,
    x: str | None,
    y: Any,
    run: str | None,
    format: str,
    info: SourceFile | None,
) -> TrackedTable:
    """Run name -> history DataFrame (``run.history()``: ``_step`` and one column per metric)."""
    if format not in ("auto", "wandb-history"):
        raise DataError(f"{source}: run histories are format 'wandb-history', not {format!r}")
    _refuse_run(run, source, "wandb-history")
    if not histories:
        raise DataError(f"{source}: no run histories (CSV or Parquet files)")
    if not isinstance(y, str) or x is None:
        raise DataError(f"{source}: name the x column (e.g. '_step') and one metric (y=...)")
    pieces, notes = [], []
    for name, history in histories.items():
        history = history.to_pandas() if _is_polars(history) else history
        for column, role in ((x, "x"), (y, "metric")):
            if column not in history.columns:
                names = [str(c) for c in history.columns]
                raise DataError(
                    f"{source}: run '{name}' has no {role} column '{column}'; "
                    f"{_closest(column, names, 'columns')}"
                )
        present = history[y].notna()
        if not present.all():
            notes.append(
                f"W&B history: run '{name}' logged no {y} in {int((~present).sum())} of "
                f"{len(history)} rows (other metrics' rows)"
            )
        piece = history.loc[present, [x, y]].reset_index(drop=True)
        pieces.append(piece.assign(**{RUN: str(name)}))
    frame = pd.concat(pieces, ignore_index=True)
    labels = _row_labels(frame, x)
    return TrackedTable(frame, x, y, RUN, source, info, "wandb-history", tuple(notes), labels)


def _row_labels(frame: pd.DataFrame, x: str) -> pd.Index:
    """Row names for messages: ``seed1 at step 300`` (``... #2`` for a repeated point)."""
    values = pd.to_numeric(frame[x], errors="coerce")
    text = pd.Series(
        [
            f"{r} at {x} {v:g}" if np.isfinite(v) else f"{r} at {x} {raw!r}"
            for r, v, raw in zip(frame[RUN], values, frame[x], strict=True)
        ]
    )
    repeat = text.groupby(text, sort=False).cumcount()
    return pd.Index([t if k == 0 else f"{t} #{k + 1}" for t, k in zip(text, repeat, strict=True)])


# ------------------------------------------------- step-indexed logs (TB, MLflow)


@dataclass(frozen=True)
class _Records:
    """Scalars of a log folder: columns run, tag, step, time, value, in logging order.

    ``frame`` holds the tags asked for; ``tags`` names all there are.
    ``groups`` maps each run label to its group (the parent folder of a TensorBoard
    run, the experiment of an MLflow run) and its label inside the group; the
    group is column ``group_name`` of the table, which can be the recipe.
    """

    frame: pd.DataFrame
    time_name: str
    info: SourceFile
    group_name: str
    groups: dict[str, tuple[str, str]]
    tags: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _from_records(
    path: Path, records: _Records, x: str | None, y: str, recipe: str | None, kind: str
) -> TrackedTable:
    source = str(path)
    what = "TensorBoard log" if kind == "tensorboard" else "MLflow store"
    table = records.frame
    tags = list(records.tags)
    if y not in tags:
        raise DataError(f"{source}: no metric '{y}' in the {what}; {_closest(y, tags, 'metrics')}")
    axes = ("step", records.time_name)
    x_name = next((a for a in axes if x is not None and x.lower() == a), x)
    if x_name not in axes and x_name not in tags:
        options = f"'step', '{records.time_name}' or a metric logged at the same steps"
        raise DataError(
            f"{source}: x must be {options}; got {x!r}; {_closest(str(x), tags, 'metrics')}"
        )
    notes = list(records.notes)
    metric = _last_per_step(table[table["tag"] == y], y, what, notes)
    for name in sorted(set(table["run"]) - set(metric["run"])):
        notes.append(f"{what}: run '{name}' logged no {y}; left out")
    if x_name in axes:
        frame = pd.DataFrame(
            {
                x_name: metric[x_name if x_name == "step" else "time"],
                y: metric["value"],
                RUN: metric["run"],
            }
        )
    else:
        inputs = _last_per_step(table[table["tag"] == x_name], x_name, what, notes)
        joined = metric.merge(
            inputs[["run", "step", "value"]], on=["run", "step"], how="left", suffixes=("", "_x")
        )
        missing = joined["value_x"].isna()
        for name, count in joined[missing].groupby("run", sort=False).size().items():
            notes.append(
                f"{what}: run '{name}' logged no {x_name} at {_count(count, 'step')} of {y}; "
                "those steps are left out"
            )
        joined = joined[~missing]
        frame = pd.DataFrame({x_name: joined["value_x"], y: joined["value"], RUN: joined["run"]})
    frame = frame.reset_index(drop=True)
    labels = _row_labels(frame, x_name)
    frame[records.group_name] = [records.groups[run][0] for run in frame[RUN]]
    if recipe == records.group_name:  # runs labelled inside their recipe
        frame[RUN] = [records.groups[run][1] for run in frame[RUN]]
    return TrackedTable(frame, x_name, y, RUN, source, records.info, kind, tuple(notes), labels)


def _last_per_step(rows: pd.DataFrame, tag: str, what: str, notes: list[str]) -> pd.DataFrame:
    """One value per (run, step): the one logged last (a resumed run logs steps again)."""
    repeated = rows.duplicated(subset=["run", "step"], keep="last")
    for name, count in rows[repeated].groupby("run", sort=False).size().items():
        steps = rows[repeated & (rows["run"] == name)]["step"].head(MAX_ROWS_NAMED)
        shown = ", ".join(str(int(s)) for s in steps) + (" ..." if count > MAX_ROWS_NAMED else "")
        notes.append(
            f"{what}: run '{name}' logged {tag} at {_count(count, 'step')} more than once (step "
            f"{shown}: a resumed run?); kept the later value of each"
        )
    return rows[~repeated].sort_values(["run", "step"], kind="stable")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _tensorboard_records(path: Path, wanted: set[str]) -> _Records:
    """The scalars of the ``wanted`` tags (decoding only those: the reader is pure Python)."""
    try:
        from tensorboard.backend.event_processing.event_file_loader import (
            LegacyEventFileLoader,
        )
        from tensorboard.util import tensor_util
    except ImportError:
        raise DataError(
            f"{path}: reading TensorBoard logs needs the optional reader: {TENSORBOARD_EXTRA}"
        ) from None
    files = sorted(path.rglob("*tfevents*"), key=_event_file_order)
    rows: list[tuple[str, str, int, float, float]] = []
    groups: dict[str, tuple[str, str]] = {}
    tags: set[str] = set()
    for file in files:
        folder = file.parent.relative_to(path)
        name = path.name if folder == Path() else folder.as_posix()
        parent = path.name if folder.parent == Path() else folder.parent.as_posix()
        groups[name] = (parent, folder.name or path.name)
        for event in LegacyEventFileLoader(str(file)).Load():
            for value in event.summary.value:
                is_scalar = value.HasField("simple_value") or (
                    value.HasField("tensor") and not value.tensor.tensor_shape.dim
                )
                if not is_scalar:
                    continue
                tags.add(value.tag)
                if value.tag in wanted:
                    number = _scalar_value(value, tensor_util)
                    if number is not None:
                        rows.append((name, value.tag, event.step, event.wall_time, number))
    if not tags:
        raise DataError(f"{path}: the TensorBoard event files hold no scalars")
    frame = pd.DataFrame(rows, columns=["run", "tag", "step", "time", "value"])
    # a resumed run logs its steps again later: wall time orders the values of a step
    frame = frame.sort_values(["run", "tag", "time"], kind="stable").reset_index(drop=True)
    info = _folder_info(path, files)
    return _Records(frame, "wall_time", info, "folder", groups, tuple(sorted(tags)))


def _scalar_value(value: Any, tensor_util: Any) -> float | None:
    """A summary value as a number: PyTorch's ``simple_value`` or a TF2 scalar tensor."""
    if value.HasField("simple_value"):
        return float(value.simple_value)
    tensor = value.tensor
    for numbers in (tensor.float_val, tensor.double_val, tensor.int64_val, tensor.int_val):
        if len(numbers) == 1:
            return float(numbers[0])
    if tensor.tensor_content:
        array = tensor_util.make_ndarray(tensor)
        if array.size == 1 and array.dtype.kind in "fiu":
            return float(array.reshape(()))
    return None


def _event_file_order(file: Path) -> tuple[str, int, str]:
    """Run folder, then the file's creation time (``events.out.tfevents.<seconds>.<host>...``)."""
    match = re.search(r"tfevents\.(\d+)", file.name)
    return (str(file.parent), int(match.group(1)) if match else 0, file.name)


def _mlflow_run_folders(path: Path) -> list[Path]:
    """Run folders of an MLflow file store: ``meta.yaml`` beside a ``metrics`` folder."""
    found = []
    for meta in sorted(path.rglob("meta.yaml")):
        parts = meta.relative_to(path).parts
        if ".trash" in parts or not (meta.parent / "metrics").is_dir():
            continue
        found.append(meta.parent)
    return found


def _yaml_fields(file: Path) -> dict[str, str]:
    """The top-level ``key: value`` lines of an MLflow ``meta.yaml``."""
    fields = {}
    if file.is_file():
        for line in file.read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "-")):
                fields[key.strip()] = value.strip().strip("'\"")
    return fields


def _mlflow_records(path: Path, wanted: set[str]) -> _Records:
    """The values of the ``wanted`` metrics of every run that is not deleted."""
    folders = _mlflow_run_folders(path)
    if not folders:
        raise DataError(f"{path}: no MLflow runs (<experiment>/<run>/meta.yaml and metrics/)")
    runs, notes, files = [], [], []
    for folder in folders:
        meta = _yaml_fields(folder / "meta.yaml")
        name_tag = folder / "tags" / "mlflow.runName"
        name = name_tag.read_text().strip() if name_tag.is_file() else meta.get("run_name", "")
        experiment = _yaml_fields(folder.parent / "meta.yaml").get("name", folder.parent.name)
        if meta.get("lifecycle_stage") == "deleted":
            notes.append(f"MLflow store: run '{name or folder.name}' is deleted; left out")
            continue
        runs.append((folder, name or folder.name, experiment))
    rows: list[tuple[str, str, int, float, float]] = []
    groups = {}
    tags: set[str] = set()
    for (folder, _, experiment), label in zip(runs, _mlflow_labels(runs), strict=True):
        groups[label] = (experiment, label.removeprefix(f"{experiment}/"))
        for metric_file in sorted((folder / "metrics").rglob("*")):
            tag = metric_file.relative_to(folder / "metrics").as_posix()
            if not metric_file.is_file():
                continue
            tags.add(tag)
            if tag not in wanted:
                continue
            files.append(metric_file)
            for line in metric_file.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3:
                    rows.append((label, tag, int(fields[2]), float(fields[0]), float(fields[1])))
    if not tags:
        raise DataError(f"{path}: the MLflow runs hold no metrics")
    frame = pd.DataFrame(rows, columns=["run", "tag", "step", "time", "value"])
    # the store appends in logging order; a value logged again at a step comes later
    frame = frame.sort_values(["run", "tag", "time"], kind="stable").reset_index(drop=True)
    info = _folder_info(path, files)
    return _Records(
        frame, "timestamp", info, "experiment", groups, tuple(sorted(tags)), tuple(notes)
    )


def _mlflow_labels(runs: Sequence[tuple[Path, str, str]]) -> list[str]:
    """Run names; ``experiment/name`` where names repeat, plus the run id where that repeats too."""
    labels = [name for _, name, _ in runs]
    for widen in (
        lambda folder, name, experiment: f"{experiment}/{name}",
        lambda folder, name, experiment: f"{experiment}/{name} ({folder.name[:8]})",
    ):
        repeated = pd.Series(labels).duplicated(keep=False).to_numpy()
        labels = [
            widen(*run) if clash else label
            for run, label, clash in zip(runs, labels, repeated, strict=True)
        ]
    return labels
