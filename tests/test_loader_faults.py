"""Loader faults of issue 12 (items 6 and 8): labels that collide, line numbers
after blank lines and quoted newlines, folders, duplicated headers, date columns,
Parquet rows, and Markdown cells that break tables."""

from __future__ import annotations

import pandas as pd
import pytest

from bayescale.data.curves import load_curves
from bayescale.data.sources import DataError, read_source
from bayescale.reporting.document import Report, Section, Table


def _rows(recipe: str, run: str, n: int = 6) -> list[dict]:
    return [
        {"recipe": recipe, "seed": run, "gpu": 1000.0 * (i + 1), "pass": 0.2 + 0.05 * i}
        for i in range(n)
    ]


def test_recipe_run_labels_that_would_collide_are_refused():
    """Recipe 'a/b' run 'c' and recipe 'a' run 'b/c' used to merge into one run."""
    frame = pd.DataFrame(_rows("a/b", "c") + _rows("a", "b/c") + _rows("a", "d") + _rows("e", "f"))
    with pytest.raises(
        DataError,
        match=r"DataFrame: \(recipe 'a/b', run 'c'\) and \(recipe 'a', run 'b/c'\) "
        r"would both be labelled 'a/b/c'",
    ):
        load_curves(frame, x="gpu", y="pass", run="seed", recipe="recipe")
    fine = load_curves(frame.iloc[6:], x="gpu", y="pass", run="seed", recipe="recipe")
    assert len(fine.runs) == 3


CSV_WITH_BLANKS_AND_QUOTES = (
    "gpu,pass,seed\n"  # line 1
    "1000,0.2,s0\n"  # line 2
    "\n"  # line 3: blank, skipped
    '2000,0.25,"s\n0"\n'  # lines 4-5: a quoted newline
    "3000,-0.3,s0\n"  # line 6: the bad value
)


def test_csv_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(CSV_WITH_BLANKS_AND_QUOTES)
    frame, source = read_source(path)
    assert len(frame) == 3 and source.lines == (2, 4, 6)
    with pytest.raises(DataError, match=r"column 'pass' must lie in \[0, 1\]; line 6 has -0.3"):
        load_curves(path, x="gpu", y="pass", run="seed", min_points=1)


def test_a_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(DataError, match=r": is a folder with no TensorBoard event files"):
        load_curves(tmp_path, x="gpu", y="pass")


def test_a_duplicated_header_column_in_use_is_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("gpu,pass,pass\n1000,0.2,0.9\n2000,0.3,0.9\n")
    with pytest.raises(
        DataError, match=r"dup.csv: the header names column 'pass' \(given as y\) more than once"
    ):
        load_curves(path, x="gpu", y="pass", min_points=1)


def test_parquet_dates_are_refused_and_parquet_rows_are_called_rows(tmp_path):
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2026-01-01", periods=6, freq="D"),
            "gpu": [1000.0, 2000, 3000, 4000, 5000, 6000],
            "pass": [0.2, 0.25, 1.3, 0.35, 0.4, 0.45],
        }
    )
    path = tmp_path / "runs.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError, match=r"column 'when' holds dates or times, not numbers; rows 0"):
        load_curves(path, x="when", y="pass")
    with pytest.raises(DataError, match=r"column 'pass' must lie in \[0, 1\]; row 2 has 1.3$"):
        load_curves(path, x="gpu", y="pass")


def test_markdown_cells_stay_on_one_line_with_backticks_escaped():
    names = pd.DataFrame({"run": ["two\nlines", "`code`|pipe"], "value": [1.0, 2.0]})
    text = Report("t", [Section("s", [Table(names)])]).to_markdown()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table == [
        "| run | value |",
        "|---|---|",
        "| two lines | 1 |",
        "| \\`code\\`\\|pipe | 2 |",
    ]
