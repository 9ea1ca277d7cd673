"""Reading a data file: its table, its hash and the line each row starts on.

The lowest layer of :mod:`bayescale.data`: :mod:`bayescale.data.curves` and
:mod:`bayescale.data.trackers` read files through it, and every problem with
the data is a :class:`DataError` (one line naming the source, the column and
the first offending rows, at most :data:`MAX_ROWS_NAMED` of them).

Examples
--------
>>> read_source("missing.csv")
Traceback (most recent call last):
...
bayescale.data.sources.DataError: missing.csv: no such file
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

MAX_ROWS_NAMED = 5


class DataError(ValueError):
    """Bad input data; the message is one line naming source, column and rows."""


@dataclass(frozen=True)
class SourceFile:
    """What :func:`read_source` learnt about a file besides its table (for a
    DataFrame, :func:`_frame_info`: no path, hash or lines).

    Attributes
    ----------
    path : str or None
        Absolute path.
    sha256 : str or None
        SHA-256 of the bytes that were parsed.
    lines : tuple of int or None
        For text files, the line (1-based, the header being line 1 when it is
        the first) on which each row starts; ``None`` for Parquet.
    duplicates : tuple of str
        Column names the header repeats.
    """

    path: str | None
    sha256: str | None
    lines: tuple[int, ...] | None
    duplicates: tuple[str, ...]


TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


def read_source(path: str | Path) -> tuple[pd.DataFrame, SourceFile]:
    """Read a CSV, TSV or Parquet file, with its hash and the line of each row.

    Raises
    ------
    DataError
        If the file is missing, a folder, empty, unreadable or not of a known type.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a data file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | PARQUET_SUFFIXES:
        raise DataError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv or .parquet")
    sep = "\t" if suffix == ".tsv" else ","
    try:
        content = path.read_bytes()
        if suffix in PARQUET_SUFFIXES:
            frame = pd.read_parquet(io.BytesIO(content))
            lines = None
            duplicates = [name for name, k in Counter(map(str, frame.columns)).items() if k > 1]
        else:
            frame = pd.read_csv(io.BytesIO(content), sep=sep)
            header, lines = _record_lines(content, sep, len(frame))
            duplicates = [name for name, k in Counter(header).items() if k > 1]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"{path}: cannot read the file ({first_line})") from None
    info = SourceFile(
        path=str(path.resolve()),
        sha256=hashlib.sha256(content).hexdigest(),
        lines=lines,
        duplicates=tuple(duplicates),
    )
    return frame, info


def _record_lines(
    content: bytes, sep: str, n_rows: int
) -> tuple[list[str], tuple[int, ...] | None]:
    """The header and the starting line of each data row, as pandas reads them
    (blank lines skipped, quoted newlines inside one row); ``None`` when the
    count disagrees with pandas."""
    text = content.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    # a cell may be as long as the file (the csv module stops at 131,072 characters)
    limit = csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    header: list[str] | None = None
    starts: list[int] = []
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record:
                continue
            if header is None:
                header = record
            else:
                starts.append(start)
    finally:
        csv.field_size_limit(limit)
    lines = tuple(starts) if len(starts) == n_rows else None
    return header or [], lines


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file into a DataFrame.

    Raises
    ------
    DataError
        If the file is missing, a folder, empty or not of a known type.
    """
    return read_source(path)[0]
