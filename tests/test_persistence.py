"""Save and load: a loaded fit behaves exactly as the original, and loading runs no code."""

from __future__ import annotations

import json
import os
import pickle

import h5py
import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import bayescale as bs
from bayescale.analysis.recipes import compare_fit
from bayescale.reporting import plots
from bayescale.results.persistence import FitFileError


class _Payload:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def saved(scalerl_fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "fit.nc"
    scalerl_fit.save(path)
    return path


def _with_root_attrs(source, target, **attrs) -> None:
    target.write_bytes(source.read_bytes())
    with h5py.File(target, "r+") as handle:
        for name, value in attrs.items():
            handle.attrs[name] = value


def test_round_trip_keeps_summary_predictions_and_compute_to_target(scalerl_fit, saved):
    loaded = bs.load(saved)
    pd.testing.assert_frame_equal(loaded.summary(), scalerl_fit.summary())
    grid = [5e4, 1e5, 2e5]
    pd.testing.assert_frame_equal(loaded.predict(grid), scalerl_fit.predict(grid))
    pd.testing.assert_frame_equal(
        loaded.compute_to_reach([0.55, 0.6, 0.9]), scalerl_fit.compute_to_reach([0.55, 0.6, 0.9])
    )
    assert loaded.spec == scalerl_fit.spec
    assert loaded.sampler == scalerl_fit.sampler
    assert loaded.diagnostics == scalerl_fit.diagnostics
    assert loaded.data.notes == scalerl_fit.data.notes
    assert loaded.data.columns == scalerl_fit.data.columns
    pd.testing.assert_frame_equal(
        loaded.data.frame[scalerl_fit.data.frame.columns], scalerl_fit.data.frame, check_dtype=False
    )


def test_loaded_fit_plots_exactly_as_the_original(scalerl_fit, saved):
    original = plots.plot_fit(scalerl_fit)
    loaded = plots.plot_fit(bs.load(saved))
    for a, b in zip(original.collections, loaded.collections, strict=True):
        for pa, pb in zip(a.get_paths(), b.get_paths(), strict=True):
            np.testing.assert_array_equal(pa.vertices, pb.vertices)
    np.testing.assert_array_equal(original.lines[0].get_ydata(), loaded.lines[0].get_ydata())


def test_loaded_multi_recipe_fit_compares_exactly_as_the_original(recipes_fit, tmp_path):
    recipes_fit.save(tmp_path / "recipes.nc")
    loaded = bs.load(tmp_path / "recipes.nc")
    assert loaded.recipes == recipes_fit.recipes and loaded.runs == recipes_fit.runs
    pd.testing.assert_frame_equal(
        compare_fit(loaded, baseline="baseline").pairs,
        compare_fit(recipes_fit, baseline="baseline").pairs,
    )


def test_pickle_payloads_and_expressions_in_attributes_are_only_text(saved, tmp_path):
    marker = tmp_path / "code_ran"
    payload = pickle.dumps(_Payload(str(marker)))
    crafted = tmp_path / "crafted.nc"
    _with_root_attrs(
        saved,
        crafted,
        payload=np.void(payload),
        expression=f"__import__('os').system('touch {marker}')",
    )
    loaded = bs.load(crafted)  # extra attributes are ignored, never unpickled or evaluated
    assert not marker.exists()
    assert loaded.summary().shape[0] > 0

    # the same payloads where bayescale reads values: refused as damaged, still not run
    spec = json.loads(h5py.File(saved, "r").attrs["spec"])
    spec["law"] = f"__import__('os').system('touch {marker}')"
    _with_root_attrs(saved, crafted, spec=json.dumps(spec))
    with pytest.raises(FitFileError, match="unknown law"):
        bs.load(crafted)
    _with_root_attrs(saved, crafted, sampler=np.void(payload))
    with pytest.raises(FitFileError, match="damaged bayescale attributes"):
        bs.load(crafted)
    assert not marker.exists()
    pickle.loads(payload)  # the payload is live: unpickling it does run the command
    assert marker.exists()


def test_wrong_or_missing_format_marker_is_refused(saved, tmp_path):
    crafted = tmp_path / "other.nc"
    _with_root_attrs(saved, crafted, bayescale_format="bayescale-fit/999")
    with pytest.raises(
        FitFileError, match=r"format 'bayescale-fit/999', expected 'bayescale-fit/1'"
    ):
        bs.load(crafted)
    _with_root_attrs(saved, crafted)
    with h5py.File(crafted, "r+") as handle:
        del handle.attrs["bayescale_format"]
    with pytest.raises(FitFileError, match="not a bayescale fit file"):
        bs.load(crafted)


def test_files_that_are_not_netcdf_are_refused(tmp_path):
    fake = tmp_path / "fit.nc"
    fake.write_bytes(pickle.dumps({"not": "netcdf"}))
    with pytest.raises(FitFileError, match="not a readable netCDF file"):
        bs.load(fake)
    with pytest.raises(FitFileError, match="no such file"):
        bs.load(tmp_path / "missing.nc")
