"""One result protocol (issue 24, item 3): a comparison saves, loads back equal and
checks what it loads; ``bs.load`` reads each format with its own reader.

All comparisons here are made from the shared ``recipes_fit`` fixture: no new fit.
"""

from __future__ import annotations

import json

import h5py
import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import bayescale as bs
from bayescale.analysis import comparison_file
from bayescale.analysis.recipes import compare_fit
from bayescale.results.persistence import FitFileError, load_fit
from bayescale.results.protocol import Result


@pytest.fixture(scope="module")
def comparison(recipes_fit):
    """A against the baseline, least squares on the rows before the fit's min_x,
    as ``compare_recipes`` makes it from a table."""
    return compare_fit(
        recipes_fit, baseline="baseline", least_squares_window=(None, None), min_x=1500
    )


@pytest.fixture(scope="module")
def saved(comparison, tmp_path_factory):
    return comparison.save(tmp_path_factory.mktemp("comparison") / "cmp.nc")


def _same(loaded, original) -> None:
    assert type(loaded) is type(original)
    for name in ("pairs", "recipes", "least_squares"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(original, name))
    # json: NaN (a least-squares difference that is not defined) equals itself as text
    assert json.dumps(loaded.to_dict(), sort_keys=True) == json.dumps(
        original.to_dict(), sort_keys=True
    )
    assert loaded.settings() == original.settings()
    assert loaded.notes == original.notes


def test_a_saved_comparison_loads_back_equal(comparison, saved):
    _same(bs.load(saved), comparison)


def test_every_setting_survives_the_round_trip(recipes_fit, tmp_path):
    """All pairs of the compute to a target with a given R0: another parameter, rope,
    target, no baseline and least squares on the fitted rows only."""
    original = bs.compare_recipes(recipes_fit, parameter="compute", target=0.58, rope=0.2, r0=0.3)
    loaded = bs.load(original.save(tmp_path / "compute.nc"))
    _same(loaded, original)
    assert (loaded.parameter, loaded.rope, loaded.target) == ("compute", 0.2, 0.58)
    assert loaded.least_squares_options == {"least_squares_window": None, "min_x": None, "r0": 0.3}


def test_load_of_a_fit_file_still_returns_a_fit(recipes_fit, saved, tmp_path):
    loaded = bs.load(recipes_fit.save(tmp_path / "fit.nc"))
    assert type(loaded) is bs.Fit
    pd.testing.assert_frame_equal(loaded.summary(), recipes_fit.summary())
    # the fit loader itself reads fit files only
    with pytest.raises(
        FitFileError, match=r"format 'bayescale-comparison/1', expected 'bayescale-fit/1'$"
    ):
        load_fit(saved)


def _edited(saved, target, edit) -> None:
    target.write_bytes(saved.read_bytes())
    with h5py.File(target, "r+") as handle:
        edit(handle)


def _edit_settings(change):
    def edit(handle):
        settings = json.loads(handle.attrs["comparison"])
        change(settings)
        handle.attrs["comparison"] = json.dumps(settings)

    return edit


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(rope=-0.02), "rope must be a finite number >= 0, got -0.02"),
        (lambda s: s.update(rope="wide"), "rope is 'wide', not a finite number"),
        (lambda s: s.update(parameter="Z"), "parameter 'Z' is not one of A, B, C_mid, R0"),
        (lambda s: s.update(baseline="nope"), "baseline 'nope' is not a recipe"),
        (lambda s: s.update(ci=1.5), "ci must lie strictly between 0 and 1, got 1.5"),
        (lambda s: s.update(target=[0.5]), "target is [0.5], not a finite number"),
        (lambda s: s.update(least_squares_window=[0]), "least_squares_window is not a pair"),
        (lambda s: s.pop("ci"), "missing 'comparison.ci'"),
        (lambda s: s.update(code="os.system('ls')"), "code is not a comparison setting"),
    ],
    ids=[
        "negative rope",
        "rope text",
        "parameter",
        "baseline",
        "ci",
        "target",
        "window",
        "missing",
        "unknown",
    ],
)
def test_a_damaged_setting_is_refused_in_one_line_before_any_recomputation(
    saved, tmp_path, monkeypatch, change, message
):
    crafted = tmp_path / "damaged.nc"
    _edited(saved, crafted, _edit_settings(change))

    def never(*args, **kwargs):
        raise AssertionError("recomputed from damaged settings")

    monkeypatch.setattr(comparison_file, "compare_fit", never)
    with pytest.raises(FitFileError) as refused:
        bs.load(crafted)
    text = str(refused.value)
    assert text.startswith(f"{crafted}: damaged attribute 'comparison' (")
    assert message in text and "\n" not in text


def test_a_comparison_file_is_checked_as_a_fit_file(saved, tmp_path):
    """A missing settings attribute, and the fit's own checks: an edited posterior."""
    crafted = tmp_path / "no_settings.nc"
    _edited(saved, crafted, lambda handle: handle.attrs.__delitem__("comparison"))
    with pytest.raises(
        FitFileError, match=r"damaged attribute 'comparison' \(missing 'comparison'\)"
    ):
        bs.load(crafted)

    def edit_posterior(handle):
        handle["posterior"]["A"][0, 0] = np.asarray(handle["posterior"]["A"][0, 0]) * 0.99

    _edited(saved, crafted, edit_posterior)
    with pytest.raises(FitFileError, match="posterior does not match its recorded SHA-256"):
        bs.load(crafted)


def test_an_unknown_format_is_refused_naming_the_known_ones(saved, tmp_path):
    crafted = tmp_path / "plan.nc"
    _edited(
        saved,
        crafted,
        lambda handle: handle.attrs.__setitem__("bayescale_format", "bayescale-plan/1"),
    )
    with pytest.raises(FitFileError) as refused:
        bs.load(crafted)
    assert str(refused.value) == (
        f"{crafted}: format 'bayescale-plan/1', expected 'bayescale-fit/1' or "
        "'bayescale-comparison/1' or 'bayescale-sizes/1'"
    )


def test_fits_and_comparisons_are_results(recipes_fit, comparison):
    assert isinstance(recipes_fit, Result) and isinstance(comparison, Result)
    assert bs.Result is Result
    assert not isinstance(recipes_fit.data, Result)  # curves are not a result
    payload = recipes_fit.to_dict(ci=0.5, targets=[0.58])  # the fit.json payload
    assert payload["ci"] == 0.5 and payload["targets"][0]["target"] == 0.58


def test_summary_is_the_pairs_recomputed_at_another_ci(comparison, recipes_fit):
    assert comparison.summary() is comparison.pairs
    narrow = comparison.summary(ci=0.5)
    pd.testing.assert_frame_equal(
        narrow,
        compare_fit(
            recipes_fit,
            baseline="baseline",
            least_squares_window=(None, None),
            min_x=1500,
            ci=0.5,
        ).pairs,
    )
    assert (
        (narrow["upper"] - narrow["lower"])
        < (comparison.pairs["upper"] - comparison.pairs["lower"])
    ).all()


def test_plots_of_a_fit_and_a_comparison(recipes_fit, comparison):
    figure = comparison.plot()
    shown = [ax for ax in figure.axes if ax.get_visible()]
    assert len(shown) == len(comparison.pairs)
    assert shown[0].get_xlabel() == "A: baseline_repeat - baseline"
    ax = recipes_fit.plot(recipe="better")
    assert ax.get_title() == "better"
