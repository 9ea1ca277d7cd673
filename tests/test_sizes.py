"""RL laws across model sizes: the law, fit_sizes, predictions, the plot, the CLI, recovery."""

from __future__ import annotations

import json
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import QUICK_SAMPLER, QUICK_STATUS
from matplotlib.collections import PathCollection, PolyCollection

import bayescale as bs
from bayescale.analysis.size_backtest import backtest_largest_size
from bayescale.analysis.sizes import FORMAT, SizesFit, load_sizes
from bayescale.cli import main
from bayescale.data.curves import DataError
from bayescale.model.laws import get_law
from bayescale.model.size_law import SIGMOID_SIZES, size_parameters
from bayescale.reporting.size_plots import plot_asymptote_by_size
from bayescale.results.output import OutputError
from bayescale.results.persistence import FitFileError, save_fit
from bayescale.studies.size_simulate import SCALERL_LIKE, reported_parameters, simulate_sizes

COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "size": "size", "run": "seed"}
SMALL = [1e9, 2e9, 4e9]


@pytest.fixture(scope="module")
def small_sizes() -> pd.DataFrame:
    """Three sizes, two seeds each, 1k-20k GPU-hours."""
    return simulate_sizes(SMALL, n_runs=2, x_max=20_000.0, rng=3)


@pytest.fixture(scope="module")
def sizes_fit(small_sizes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit_sizes(small_sizes, **COLUMNS, **QUICK_SAMPLER)


def test_size_law_is_the_sigmoid_with_each_sizes_parameters():
    params = reported_parameters(SCALERL_LIKE, 8e9)
    x = np.log(np.array([1e3, 5e3, 3e4]))
    for size in (5e8, 8e9, 1e11):
        at = {k: float(v) for k, v in size_parameters(params, np.log(size)).items()}
        expected = get_law("sigmoid").curve({"x": x}, at)
        got = SIGMOID_SIZES.curve({"x": x, "n": np.full(3, np.log(size))}, params)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_scalerl_like_truth_passes_through_the_published_asymptotes():
    # ScaleRL: 8B dense A = 0.61, 17Bx16 MoE (1.09e11 parameters in total) A = 0.71
    params = reported_parameters(SCALERL_LIKE, 8e9)
    a = size_parameters(params, np.log(np.array([8e9, 1.09e11])))["A"]
    np.testing.assert_allclose(a, [0.61, 0.71], atol=0.002)
    assert params["A_max"] == pytest.approx(0.78)
    assert params["gamma"] == pytest.approx(0.34)


def test_load_sizes_labels_runs_by_size_and_needs_two_sizes(small_sizes):
    frame = small_sizes.assign(seed=small_sizes["seed"].str.split("/").str[-1])
    curves = load_sizes(frame, **COLUMNS)
    assert curves.recipes == ["all"]
    assert len(curves.runs) == 6  # seed0 and seed1 at each of three sizes
    one = frame[frame["size"] == 1e9]
    with pytest.raises(DataError, match="column 'size' has 1 size"):
        load_sizes(one, **COLUMNS)
    with pytest.raises(DataError, match="column 'size' must be > 0"):
        load_sizes(frame.assign(size=frame["size"].where(frame.index != 4, -1.0)), **COLUMNS)


def test_fit_sizes_reports_the_law_and_every_sizes_parameters(sizes_fit):
    summary = sizes_fit.summary()
    assert {"A_max", "k_A", "gamma", "b", "c", "sigma_A_max", "residual_sd"} <= set(summary.index)
    # the ceiling is a pass rate in every draw, by the parametrisation (not by clipping)
    ceiling = sizes_fit.fit.draws_dataset["A_max"].to_numpy()
    assert 0 < ceiling.min() and ceiling.max() < 1
    assert sizes_fit.sizes == SMALL
    table = sizes_fit.at_sizes([*SMALL, 1e10])
    assert len(table) == 4 * 4
    assert table.loc[table["size"] == 1e10, "fitted"].eq(False).all()
    a = table[table["parameter"] == "A"]
    assert (a["seed_lower"] < a["lower"]).all() and (a["upper"] < a["seed_upper"]).all()
    assert (a["lower"] <= a["median"]).all() and (a["median"] <= a["upper"]).all()
    with pytest.raises(ValueError, match="finite and > 0"):
        sizes_fit.at_sizes([0.0])


def test_predict_an_unseen_size(sizes_fit):
    curve = sizes_fit.predict(1e10, [2e3, 1e4, 5e4])
    assert list(curve["n"]) == [1e10] * 3
    assert (curve["obs_lower"] < curve["lower"]).all() and (
        curve["upper"] < curve["obs_upper"]
    ).all()
    assert curve["median"].is_monotonic_increasing
    with pytest.raises(ValueError, match="one size"):
        sizes_fit.predict([1e10, 2e10], [1e4])


def test_plot_draws_both_bands_each_seed_and_the_markers(sizes_fit):
    ax = plot_asymptote_by_size(sizes_fit, held_out={8e9: 0.6}, truth={1e9: 0.43, 8e9: 0.61})
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(bands) == 2
    assert [len(p.get_offsets()) for p in points] == [6, 1, 2]  # seeds, held out, truth
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)


def test_a_saved_sizes_fit_loads_back_as_itself(sizes_fit, tmp_path):
    """The result protocol (issue 24, item 3): ``bs.load`` returns an equal SizesFit."""
    path = sizes_fit.save(tmp_path / "sizes.nc")
    loaded = bs.load(path)
    assert type(loaded) is SizesFit
    pd.testing.assert_frame_equal(loaded.summary(), sizes_fit.summary())
    pd.testing.assert_frame_equal(loaded.summary(ci=0.5), sizes_fit.summary(ci=0.5))
    unseen = [*SMALL, 1e10]
    pd.testing.assert_frame_equal(loaded.at_sizes(unseen), sizes_fit.at_sizes(unseen))
    assert json.dumps(loaded.to_dict(ci=0.9), sort_keys=True) == json.dumps(
        sizes_fit.to_dict(ci=0.9), sort_keys=True
    )
    with pytest.raises(OutputError, match="exist"):
        sizes_fit.save(path)
    assert sizes_fit.save(path, overwrite=True) == path


def test_a_sizes_file_of_another_law_is_refused_in_one_line(recipes_fit, tmp_path):
    crafted = save_fit(recipes_fit, tmp_path / "sigmoid.nc", format=FORMAT)
    with pytest.raises(FitFileError) as refused:
        bs.load(crafted)
    assert str(refused.value) == (
        f"{crafted}: format 'bayescale-sizes/1' holds a fit of law 'sigmoid_sizes' varying "
        "A_max by seed, not law 'sigmoid' varying A"
    )


def test_a_sizes_fit_is_a_result_with_its_plot_and_notebook_view(sizes_fit):
    assert isinstance(sizes_fit, bs.Result)
    ax = sizes_fit.plot(ci=0.5)
    assert ax.get_xscale() == "log" and len(ax.collections) >= 2
    plt.close(ax.figure)
    view = sizes_fit._repr_html_()
    assert "fit across sizes" in view and "gamma" in view and "1e+09, 2e+09, 4e+09" in view


def test_cli_fit_sizes_writes_json_and_figure(small_sizes, tmp_path, capsys):
    csv = tmp_path / "sizes.csv"
    small_sizes.to_csv(csv, index=False)
    out = tmp_path / "out"
    sampler = [item for k, v in QUICK_SAMPLER.items() for item in (f"--{k}", str(v))]
    args = ["fit-sizes", str(csv), "--x", "gpu_hours", "--y", "pass_rate", "--size", "size"]
    args += ["--run", "seed", "--predict-size", "1e10", "--predict", "1e4", "3e4"]
    status = main([*args, *sampler, "--ci", "0.9", "--out", str(out)])
    assert status == QUICK_STATUS
    payload = json.loads((out / "sizes.json").read_text())
    assert payload["law"] == "sigmoid_sizes" and payload["ci"] == 0.9
    assert {"A_max", "gamma", "sigma_A_max"} <= set(payload["parameters"])
    assert [r["size"] for r in payload["at_sizes"]] == [*SMALL, 1e10]
    assert set(payload["at_sizes"][-1]["A"]) == {
        "mean",
        "median",
        "lower",
        "upper",
        "seed_lower",
        "seed_upper",
    }
    assert [p["x"] for p in payload["predictions"]] == [1e4, 3e4]
    assert (out / "a_vs_size.png").stat().st_size > 0
    # the same outputs again without --overwrite: refused before sampling
    assert main([*args, *sampler, "--out", str(out)]) == 2
    assert "exist" in capsys.readouterr().err


def test_cli_fit_sizes_bad_column_exits_2_and_writes_nothing(small_sizes, tmp_path, capsys):
    csv = tmp_path / "sizes.csv"
    small_sizes.to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["fit-sizes", str(csv), "--x", "gpu_hours", "--y", "pass_rate", "--size", "params"]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing column 'params'" in err
    assert not out.exists()
    assert main([*args[:-1], "size", "--predict", "1e4", "--out", str(out)]) == 2
    assert "--predict needs --predict-size" in capsys.readouterr().err
    two = tmp_path / "two.csv"
    small_sizes[small_sizes["size"] < 4e9].to_csv(two, index=False)
    args = ["fit-sizes", str(two), "--x", "gpu_hours", "--y", "pass_rate", "--size", "size"]
    assert main([*args, "--run", "seed", "--hold-out-largest", "--out", str(out)]) == 2
    assert "has 2 sizes; holding out the largest needs at least three" in capsys.readouterr().err
    assert (
        main([*args, "--run", "seed", "--prior", "A=Beta(alpha=2, beta=2)", "--out", str(out)]) == 2
    )
    assert "no parameter 'A'" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_recovers_each_sizes_asymptote_and_predicts_the_held_out_largest():
    """Five sizes simulated from SCALERL_LIKE, three seeds. All sizes fitted: the
    true A lies in its 90% interval at 14 or more of the 15 (size, seed) pairs.
    Largest size held out: its true A in the predicted 90% interval in at least 2
    of 3 seeds, and at least 75% of its evaluations inside their 90% predictive
    interval on average (10 seeds in docs/sizes.md: see the numbers there)."""
    fitted, held, coverage = 0, 0, []
    for seed in (0, 1, 2):
        df = simulate_sizes([5e8, 1e9, 2e9, 4e9, 8e9], rng=seed)
        truth = df.attrs["truth"]
        sampler = {"draws": 1000, "tune": 1000, "chains": 4, "seed": seed}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = bs.fit_sizes(df, **COLUMNS, **sampler)
            back = backtest_largest_size(df, **COLUMNS, ci=0.9, **sampler)
        table = full.at_sizes(ci=0.9).query("parameter == 'A'")
        true_a = size_parameters(truth, np.log(table["size"].to_numpy()))["A"]
        fitted += int(((table["lower"] <= true_a) & (true_a <= table["upper"])).sum())
        row = back.table.iloc[0]
        held_a = float(size_parameters(truth, np.log(8e9))["A"])
        held += int(row["a_lower"] <= held_a <= row["a_upper"])
        coverage.append(row["coverage"])
    assert fitted >= 14
    assert held >= 2
    assert np.mean(coverage) >= 0.75
