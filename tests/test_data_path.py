"""One data path: curves are read once, keep their excluded rows, and every entry
point takes them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import QUICK_SAMPLER

import bayescale as bs
from bayescale.data.curves import DataError
from bayescale.reporting import plots


@pytest.fixture(scope="module")
def curves(scalerl_csv):
    return bs.load_curves(scalerl_csv, x="gpu_hours", y="pass_rate", run="seed", min_x=1500)


def test_a_window_brings_back_excluded_rows_without_reading_again(curves):
    assert len(curves) + len(curves.excluded) == 300
    assert curves.excluded["x"].max() < 1500 and curves.bounds == (1500, None)
    tail = curves.window(max_x=50_000)
    assert tail.bounds == (1500, 50_000) and len(tail) == 147
    assert len(tail.all_rows) == 300 and tail.excluded["x"].max() > 50_000
    assert "y_start" in tail.frame  # each run's first evaluation, read before min_x
    assert tail.notes[-1].startswith("excluded 150 of 297 rows with gpu_hours > 50000")
    wide = tail.window(min_x=1)
    assert len(wide) == 150


def test_a_window_refuses_a_zero_input_it_would_take_in():
    frame = pd.DataFrame({"c": [0.0, 1, 2, 3, 4], "r": [0.05, 0.1, 0.2, 0.3, 0.35]})
    data = bs.load_curves(frame, x="c", y="r", min_x=1, min_points=3)
    with pytest.raises(DataError, match="column 'c' must be > 0 inside the window; row 0"):
        data.window(min_x=0)


def test_fit_takes_loaded_curves_and_gives_the_same_posterior(curves, scalerl_csv):
    options = {"max_x": 50_000, **QUICK_SAMPLER}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_curves = bs.fit(curves, **options)
        from_file = bs.fit(
            scalerl_csv, x="gpu_hours", y="pass_rate", run="seed", min_x=1500, **options
        )
    np.testing.assert_allclose(
        from_curves.summary()["mean"].to_numpy(), from_file.summary()["mean"].to_numpy()
    )
    # the held-out tail travels with the fit: no file is read to show it
    assert len(plots.held_out_points(from_curves)) == 150
    with pytest.raises(ValueError, match="columns were named when the data were loaded; drop y="):
        bs.fit(curves, y="pass_rate", check_only=True)
