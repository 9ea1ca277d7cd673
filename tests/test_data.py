"""Validation of curve data: every error names the source, the column and the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayescale.data.curves import DataError, load_curves


def _frame(n_runs: int = 2, n: int = 6) -> pd.DataFrame:
    rows = []
    for r in range(n_runs):
        for i in range(n):
            rows.append({"gpu": 1000.0 * (i + 1), "pass": 0.2 + 0.05 * i, "seed": f"s{r}"})
    return pd.DataFrame(rows)


def _load(frame, **kwargs):
    options = {"x": "gpu", "y": "pass", "run": "seed"}
    options.update(kwargs)
    return load_curves(frame, **options)


def test_valid_frame_is_sorted_and_mapped():
    frame = _frame().sample(frac=1.0, random_state=0)
    data = _load(frame)
    assert data.runs == ["s0", "s1"]
    assert list(data.frame.columns[:4]) == ["x", "y", "recipe", "run"]
    for _, group in data.frame.groupby("run"):
        assert group["x"].is_monotonic_increasing
    assert data.columns == {"x": "gpu", "y": "pass", "run": "seed"}


def test_missing_column_lists_the_columns():
    with pytest.raises(
        DataError,
        match=r"DataFrame: missing column 'reward' \(given as y\); the columns are: gpu, pass, seed",
    ):
        _load(_frame(), y="reward")


def test_non_numeric_values_are_named_with_their_rows():
    frame = _frame()
    frame["gpu"] = frame["gpu"].astype(object)
    frame.loc[3, "gpu"] = "ten"
    with pytest.raises(DataError, match=r"column 'gpu' must be numeric; row 3 has ten"):
        _load(frame)


def test_nan_and_inf_are_refused():
    frame = _frame()
    frame.loc[[2, 7], "pass"] = [np.nan, np.inf]
    with pytest.raises(DataError, match=r"column 'pass' has missing or infinite values; rows 2, 7"):
        _load(frame)


def test_non_positive_compute_is_refused():
    frame = _frame()
    frame.loc[0, "gpu"] = 0.0
    with pytest.raises(DataError, match=r"column 'gpu' must be > 0; row 0 has 0.0"):
        _load(frame)


def test_pass_rate_outside_unit_interval_is_refused():
    frame = _frame()
    frame.loc[4, "pass"] = 1.2
    with pytest.raises(DataError, match=r"column 'pass' must lie in \[0, 1\]; row 4 has 1.2"):
        _load(frame)


def test_losses_may_exceed_one_when_unbounded():
    frame = _frame()
    frame["pass"] += 2.0
    assert len(_load(frame, bounded=False, positive_y=True)) == len(frame)


def test_duplicated_run_and_compute_rows_are_named():
    frame = pd.concat([_frame(), _frame().iloc[[1]]], ignore_index=True)
    with pytest.raises(DataError, match=r"column 'gpu' repeats a \(run, gpu\) pair; rows 1, 12"):
        _load(frame)


def test_runs_with_too_few_points_are_named():
    frame = _frame()
    frame = frame[~((frame["seed"] == "s1") & (frame["gpu"] > 3000))]
    with pytest.raises(
        DataError,
        match=r"column 'seed': run 's1' \(3\) has too few points; each run needs at least 5",
    ):
        _load(frame)


def test_missing_run_labels_are_refused():
    frame = _frame()
    frame.loc[5, "seed"] = None
    with pytest.raises(DataError, match=r"column 'seed' has missing labels; row 5"):
        _load(frame)


def test_min_x_says_how_many_rows_it_dropped():
    data = _load(_frame(), min_x=2500, min_points=3)
    assert data.notes == ["excluded 4 of 12 rows with gpu < 2500"]
    assert data.frame["x"].min() == 3000


def test_min_x_that_starves_a_run_says_why():
    with pytest.raises(
        DataError, match=r"after the exclusions \(excluded 8 of 12 rows with gpu < 4500\)"
    ):
        _load(_frame(), min_x=4500)


def test_csv_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "curves.csv"
    frame = _frame()
    frame.loc[3, "pass"] = -0.1
    frame.to_csv(path, index=False)
    with pytest.raises(
        DataError, match=rf"{path}: column 'pass' must lie in \[0, 1\]; line 5 has -0.1"
    ):
        _load(path)


def test_parquet_is_read(tmp_path):
    path = tmp_path / "curves.parquet"
    _frame().to_parquet(path)
    assert len(_load(path)) == 12


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        _load(tmp_path / "absent.csv")
    other = tmp_path / "curves.xlsx"
    other.write_text("x")
    with pytest.raises(DataError, match=r"unknown file type '\.xlsx'"):
        _load(other)


def test_recipes_make_run_labels_unique():
    frame = pd.concat([_frame().assign(recipe="a"), _frame().assign(recipe="b")])
    data = _load(frame, recipe="recipe")
    assert data.runs == ["a/s0", "a/s1", "b/s0", "b/s1"]
    assert data.run_recipe["b/s1"] == "b"


def test_trials_constant_and_column():
    assert (_load(_frame(), trials=1000).frame["trials"] == 1000).all()
    frame = _frame().assign(n=1000.5)
    with pytest.raises(DataError, match=r"column 'n' must be a whole number of prompts >= 1"):
        _load(frame, trials="n")
