"""Tests of the ScaleRL least-squares baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar

import bayescale.baselines.least_squares as ls
from bayescale.baselines.least_squares import (
    DEFAULT_A_GRID,
    DEFAULT_C_MID_GRID,
    bootstrap_least_squares,
    fit_scalerl_least_squares,
    least_squares_by_run,
    least_squares_summary,
)
from bayescale.model.laws import SIGMOID

R0 = 0.3
C_MID = float(DEFAULT_C_MID_GRID[54])  # about 2626 GPU-hours, a value of the default grid
TRUTH = {"A": 0.61, "B": 1.92, "C_mid": C_MID, "R0": R0}
X = np.geomspace(1500.0, 8000.0, 50)


def curve(x: np.ndarray, params: dict[str, float]) -> np.ndarray:
    return SIGMOID.curve({"x": np.log(x)}, params)


def noisy(sd: float, seed: int, params: dict[str, float] = TRUTH) -> np.ndarray:
    return curve(X, params) + np.random.default_rng(seed).normal(0.0, sd, X.size)


def reference_fit(x, y, r0, a_grid, c_mid_grid, b_bounds=(0.05, 10.0), n_refined=20):
    """The paper's procedure written naively: B on a fine grid for every (A, C_mid) pair,
    then minimize_scalar for the best pairs."""
    log_x = np.log(x)
    log_b = np.linspace(np.log(b_bounds[0]), np.log(b_bounds[1]), 600)
    table = np.empty((len(a_grid), len(c_mid_grid)))
    b_best = np.empty(table.shape, dtype=int)
    for k, c_mid in enumerate(c_mid_grid):
        params = {"A": a_grid[:, None, None], "B": np.exp(log_b)[:, None], "C_mid": c_mid}
        sse = np.sum((y - SIGMOID.curve({"x": log_x}, {**params, "R0": r0})) ** 2, axis=-1)
        b_best[:, k], table[:, k] = np.argmin(sse, axis=1), np.min(sse, axis=1)
    best = (np.inf, None, None, None)
    for flat in np.argsort(table, axis=None)[:n_refined]:
        i, k = np.unravel_index(flat, table.shape)
        j = b_best[i, k]

        def sse(lb, a=a_grid[i], c_mid=c_mid_grid[k]):
            params = {"A": a, "B": np.exp(lb), "C_mid": c_mid, "R0": r0}
            return np.sum((y - curve(x, params)) ** 2)

        bracket = (log_b[max(j - 1, 0)], log_b[min(j + 1, log_b.size - 1)])
        res = minimize_scalar(sse, bounds=bracket, method="bounded", options={"xatol": 1e-10})
        if res.fun < best[0]:
            best = (float(res.fun), a_grid[i], float(np.exp(res.x)), c_mid_grid[k])
    return best


# --- single fit --------------------------------------------------------------------------


def test_default_grids_are_the_papers():
    assert DEFAULT_A_GRID.size == 71
    assert DEFAULT_A_GRID[0] == 0.45 and DEFAULT_A_GRID[-1] == 0.8
    np.testing.assert_allclose(np.diff(DEFAULT_A_GRID), 0.005, atol=1e-12)
    assert DEFAULT_C_MID_GRID.size == 100
    assert DEFAULT_C_MID_GRID[0] == pytest.approx(100.0)
    assert DEFAULT_C_MID_GRID[-1] == pytest.approx(40000.0)


def test_recovers_noiseless_curve_on_the_grid():
    fit = fit_scalerl_least_squares(X, curve(X, TRUTH), r0=R0)
    assert fit.A == pytest.approx(0.61, abs=1e-12)
    assert fit.C_mid == C_MID
    assert fit.B == pytest.approx(1.92, rel=1e-3)
    assert fit.R0 == R0
    assert fit.sse < 1e-12
    assert fit.n_points == X.size
    assert not fit.a_at_grid_edge


@pytest.mark.parametrize(
    ("x_range", "truth", "sd", "seed"),
    [
        ((1500.0, 8000.0), TRUTH, 0.01, 3),
        # Data end well before C_mid: a long valley of nearly tied (A, C_mid) pairs.
        ((1500.0, 5000.0), {**TRUTH, "A": 0.7, "B": 1.5, "C_mid": 15000.0}, 0.005, 4),
    ],
)
def test_matches_naive_reference_procedure(x_range, truth, sd, seed):
    x = np.geomspace(*x_range, 30)
    y = curve(x, truth) + np.random.default_rng(seed).normal(0.0, sd, x.size)
    a_grid, c_mid_grid = DEFAULT_A_GRID[::2], DEFAULT_C_MID_GRID[::2]
    ref_sse, ref_a, ref_b, ref_c_mid = reference_fit(x, y, R0, a_grid, c_mid_grid)
    fit = fit_scalerl_least_squares(x, y, r0=R0, a_grid=a_grid, c_mid_grid=c_mid_grid)
    assert fit.A == ref_a
    assert fit.C_mid == ref_c_mid
    assert fit.B == pytest.approx(ref_b, rel=1e-5)
    assert fit.sse <= ref_sse * (1 + 1e-10)
    assert fit.sse == pytest.approx(np.sum((y - fit.predict(x)) ** 2), rel=1e-12)


EXHAUSTIVE = {"B_GRID_SIZE": 300, "A_PER_SIDE": 4, "N_SCREENED": 10**6, "N_CANDIDATES": 40}


@pytest.mark.parametrize(
    ("truth", "seed"),
    [
        # Data end long before C_mid: many (A, C_mid) pairs are nearly tied. These
        # cases fail with 64 pairs screened or with a 30-point coarse B grid.
        ({"A": 0.608, "B": 2.05, "C_mid": 14493.0, "R0": R0}, 1),
        ({"A": 0.543, "B": 1.65, "C_mid": 10119.0, "R0": R0}, 16),
        ({"A": 0.608, "B": 2.05, "C_mid": 14493.0, "R0": R0}, 6),
    ],
)
def test_nearly_tied_pairs_match_exhaustive_search(truth, seed, monkeypatch):
    x = np.geomspace(1500.0, 5000.0, 30)
    y = curve(x, truth) + np.random.default_rng(seed).normal(0.0, 0.01, x.size)
    fit = fit_scalerl_least_squares(x, y, r0=R0)
    for name, value in EXHAUSTIVE.items():
        monkeypatch.setattr(ls, name, value)
    exhaustive = fit_scalerl_least_squares(x, y, r0=R0)
    assert (fit.A, fit.C_mid) == (exhaustive.A, exhaustive.C_mid)
    assert fit.B == pytest.approx(exhaustive.B, rel=1e-5)
    assert fit.sse <= exhaustive.sse * (1 + 1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_recovers_noisy_curve_within_tolerance(seed):
    # Noise sd 0.005 on 50 points: over 300 simulated data sets the largest errors were
    # 0.015 in A, 13 % in B and one C_mid grid step (6 %).
    fit = fit_scalerl_least_squares(X, noisy(0.005, seed), r0=R0)
    assert abs(fit.A - 0.61) <= 0.02
    assert fit.B == pytest.approx(1.92, rel=0.2)
    assert fit.C_mid == pytest.approx(C_MID, rel=0.13)
    assert not fit.a_at_grid_edge


def test_flags_asymptote_beyond_the_grid():
    fit = fit_scalerl_least_squares(X, curve(X, {**TRUTH, "A": 0.9}), r0=R0)
    assert fit.A == pytest.approx(0.8, abs=1e-12)
    assert fit.a_at_grid_edge


def test_flags_lower_grid_edge_with_custom_grid():
    a_grid = np.arange(0.55, 0.8001, 0.01)
    fit = fit_scalerl_least_squares(X, curve(X, {**TRUTH, "A": 0.5}), r0=R0, a_grid=a_grid)
    assert fit.A == pytest.approx(0.55)
    assert fit.a_at_grid_edge


def test_b_stays_within_bounds():
    fit = fit_scalerl_least_squares(X, curve(X, TRUTH), r0=R0, b_bounds=(0.5, 1.5))
    assert 0.5 <= fit.B <= 1.5
    assert fit.B == pytest.approx(1.5, rel=1e-6)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"),
    [
        (X, X[:-1], {}, "different lengths"),
        (X[:3], X[:3], {}, "at least 4 points"),
        (np.r_[0.0, X[1:]], X, {}, "strictly positive"),
        (X, np.r_[np.nan, X[1:]], {}, "finite"),
        (X, X, {"b_bounds": (2.0, 1.0)}, "b_bounds"),
        (X, X, {"c_mid_grid": [-1.0, 10.0]}, "c_mid_grid"),
        (X, X, {"a_grid": []}, "a_grid"),
    ],
)
def test_rejects_bad_input(x, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_scalerl_least_squares(x, y, r0=R0, **kwargs)


# --- per run and summary -------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    x = np.concatenate([[0.0], np.geomspace(500.0, 8000.0, 30)])
    frames = []
    for seed, (start, a) in enumerate([(0.30, 0.60), (0.32, 0.61), (0.31, 0.63)]):
        params = {**TRUTH, "A": a, "R0": start}
        y = SIGMOID.curve({"x": np.log(np.maximum(x, 1e-300))}, params)
        y = y + np.random.default_rng(seed).normal(0.0, 0.002, x.size)
        frames.append(pd.DataFrame({"gpu_hours": x, "pass_rate": y, "seed": f"s{seed}"}))
    return pd.concat(frames, ignore_index=True)


def test_by_run_frame_and_default_r0(runs):
    per_run = least_squares_by_run(runs, x="gpu_hours", y="pass_rate", run="seed")
    assert list(per_run.columns) == [
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
    assert per_run.shape == (3, 9)
    assert per_run["run"].tolist() == ["s0", "s1", "s2"]
    starts = runs[runs["gpu_hours"] == 0].set_index("seed")["pass_rate"]
    np.testing.assert_array_equal(per_run["R0"], starts.loc[per_run["run"]].to_numpy())
    assert (per_run["n_points"] == 30).all()  # the zero-compute row only sets R0
    np.testing.assert_allclose(per_run["A"], [0.60, 0.61, 0.63], atol=0.0051)


def test_by_run_min_x_drops_points_but_keeps_r0(runs):
    full = least_squares_by_run(runs, x="gpu_hours", y="pass_rate", run="seed")
    cut = least_squares_by_run(runs, x="gpu_hours", y="pass_rate", run="seed", min_x=1500.0)
    per_seed = runs[runs["seed"] == "s0"]
    expected = int((per_seed["gpu_hours"] >= 1500.0).sum())
    assert expected < 30
    assert (cut["n_points"] == expected).all()
    np.testing.assert_array_equal(cut["R0"], full["R0"])


def test_by_run_explicit_r0(runs):
    common = least_squares_by_run(runs, x="gpu_hours", y="pass_rate", run="seed", r0=0.25)
    assert (common["R0"] == 0.25).all()
    mapped = least_squares_by_run(
        runs, x="gpu_hours", y="pass_rate", run="seed", r0={"s0": 0.2, "s1": 0.3, "s2": 0.4}
    )
    assert mapped["R0"].tolist() == [0.2, 0.3, 0.4]
    with pytest.raises(ValueError, match="no value for run 's2'"):
        least_squares_by_run(
            runs, x="gpu_hours", y="pass_rate", run="seed", r0={"s0": 0.2, "s1": 0.3}
        )


def test_by_run_errors_name_the_problem(runs):
    with pytest.raises(ValueError, match="missing column"):
        least_squares_by_run(runs, x="compute", y="pass_rate", run="seed")
    with pytest.raises(ValueError, match=r"run 's0'.*at least 4 points"):
        least_squares_by_run(runs, x="gpu_hours", y="pass_rate", run="seed", min_x=7500.0)


def test_summary_mean_and_spread():
    per_run = pd.DataFrame(
        {
            "A": [0.60, 0.61, 0.63],
            "B": [1.8, 2.0, 2.3],
            "C_mid": [2400.0, 2500.0, 2900.0],
            "a_at_grid_edge": [False, False, True],
        }
    )
    summary = least_squares_summary(per_run)
    assert summary["n_runs"] == 3
    assert summary["A"]["mean"] == pytest.approx(np.mean([0.60, 0.61, 0.63]))
    assert summary["B"]["sd"] == pytest.approx(np.std([1.8, 2.0, 2.3], ddof=1))
    assert summary["C_mid"]["min"] == 2400.0 and summary["C_mid"]["max"] == 2900.0
    assert summary["A"]["half_range"] == pytest.approx(0.015)
    assert summary["any_a_at_grid_edge"] is True


def test_summary_single_run_and_empty():
    single = least_squares_summary(pd.DataFrame({"A": [0.6], "B": [2.0], "C_mid": [2500.0]}))
    assert np.isnan(single["A"]["sd"])
    assert single["A"]["half_range"] == 0.0
    with pytest.raises(ValueError, match="no rows"):
        least_squares_summary(pd.DataFrame({"A": [], "B": [], "C_mid": []}))


# --- bootstrap ---------------------------------------------------------------------------


def test_bootstrap_shape_and_reproducibility():
    y = noisy(0.01, seed=0)
    draws = bootstrap_least_squares(X, y, r0=R0, n_resamples=100, rng=7)
    assert draws.shape == (100, 3)
    assert list(draws.columns) == ["A", "B", "C_mid"]
    assert np.isin(draws["A"], DEFAULT_A_GRID).all()
    assert np.isin(draws["C_mid"], DEFAULT_C_MID_GRID).all()
    again = bootstrap_least_squares(X, y, r0=R0, n_resamples=100, rng=7)
    pd.testing.assert_frame_equal(draws, again)


def test_bootstrap_resample_equals_fit_on_resampled_points():
    y = noisy(0.01, seed=1)
    draws = bootstrap_least_squares(X, y, r0=R0, n_resamples=3, rng=11)
    # Same draw as the implementation: counts of each point per resample.
    counts = np.random.default_rng(11).multinomial(X.size, np.full(X.size, 1 / X.size), size=3)
    for row, count in zip(draws.itertuples(), counts, strict=True):
        fit = fit_scalerl_least_squares(np.repeat(X, count), np.repeat(y, count), r0=R0)
        assert (row.A, row.C_mid) == (fit.A, fit.C_mid)
        assert row.B == pytest.approx(fit.B, rel=1e-6)


def test_bootstrap_of_noiseless_data_recovers_truth_every_time():
    draws = bootstrap_least_squares(X, curve(X, TRUTH), r0=R0, n_resamples=50, rng=0)
    assert (np.abs(draws["A"] - 0.61) < 1e-12).all()
    assert (draws["C_mid"] == C_MID).all()
    np.testing.assert_allclose(draws["B"], 1.92, rtol=1e-3)


def test_bootstrap_spread_shrinks_with_less_noise():
    wide = bootstrap_least_squares(X, noisy(0.02, seed=2), r0=R0, n_resamples=120, rng=0)
    narrow = bootstrap_least_squares(X, noisy(0.004, seed=2), r0=R0, n_resamples=120, rng=0)
    assert narrow["B"].std() < 0.5 * wide["B"].std()
    assert narrow["A"].std() < wide["A"].std()


@pytest.mark.parametrize("n_resamples", [0, -3, 2.5])
def test_bootstrap_rejects_bad_resample_count(n_resamples):
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_least_squares(X, noisy(0.01, seed=0), r0=R0, n_resamples=n_resamples)
