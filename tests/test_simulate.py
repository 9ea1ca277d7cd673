"""Tests of the training-curve simulator."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from bayescale.model.laws import SIGMOID, get_law
from bayescale.studies.simulate import COLUMNS, simulate_recipes, simulate_runs

TRUTH = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}


def residual_lag1_autocorrelation(frame: pd.DataFrame) -> float:
    """Lag-1 autocorrelation of pass_rate - true_mean, pooled over runs."""
    frame = frame.assign(resid=frame["pass_rate"] - frame["true_mean"])
    frame["resid"] -= frame.groupby("seed")["resid"].transform("mean")
    frame["prev"] = frame.groupby("seed")["resid"].shift(1)
    pairs = frame.dropna(subset=["prev"])
    return float((pairs["resid"] * pairs["prev"]).sum() / (frame["resid"] ** 2).sum())


def test_columns_dtypes_and_layout():
    df = simulate_runs(params=TRUTH, n_runs=3, rng=0)
    assert tuple(df.columns) == COLUMNS
    assert pd.api.types.is_string_dtype(df["seed"])
    assert df["step"].dtype == np.int64
    assert df["gpu_hours"].dtype == np.float64
    assert df["pass_rate"].dtype == np.float64
    assert df["held_out"].dtype == bool
    assert df["true_mean"].dtype == np.float64
    # 100k GPU-hours at 10 per step, evaluated every 100 steps: 100 points per run
    assert df.groupby("seed").size().to_dict() == {"seed0": 100, "seed1": 100, "seed2": 100}
    assert df["step"].min() == 100 and df["step"].max() == 10_000
    np.testing.assert_array_equal(df["gpu_hours"], df["step"] * 10.0)
    assert set(np.diff(df.loc[df["seed"] == "seed0", "step"])) == {100}


def test_pass_rates_are_rates_even_near_the_bounds():
    # asymptote near 1, start near 0, big drift: the unclipped curve + drift leaves [0, 1]
    params = {"A": 0.995, "B": 2.0, "C_mid": 3000.0, "R0": 0.005}
    df = simulate_runs(params=params, n_runs=5, drift_sd=0.1, drift_corr=0.5, rng=1)
    assert df["pass_rate"].between(0.0, 1.0).all()
    assert df["pass_rate"].max() == 1.0  # clipping at 1 did happen
    # mean@16 on 1,000 prompts: pass rates are multiples of 1/16,000
    counts = df["pass_rate"] * 16_000
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)


def test_held_out_marks_exactly_compute_beyond_50k():
    df = simulate_runs(params=TRUTH, rng=2)
    np.testing.assert_array_equal(df["held_out"], df["gpu_hours"] > 50_000.0)
    assert not df.loc[df["gpu_hours"] == 50_000.0, "held_out"].any()
    assert df["held_out"].sum() == 3 * 50
    assert not simulate_runs(params=TRUTH, held_out_from=None, rng=2)["held_out"].any()


def test_true_mean_is_the_law_at_the_run_parameters():
    df = simulate_runs(params=TRUTH, n_runs=2, seed_sd={"A": 0.05, "C_mid": 0.3}, rng=3)
    for seed, params in df.attrs["run_params"].items():
        run = df[df["seed"] == seed]
        expected = SIGMOID.curve({"x": np.log(run["gpu_hours"].to_numpy())}, params)
        np.testing.assert_allclose(run["true_mean"], expected)
    # with a midpoint on the evaluation grid, the run is half-way from R0 to A there
    half = simulate_runs(params={**TRUTH, "C_mid": 20_000.0}, seed_sd={}, rng=3)
    at_mid = half.loc[half["gpu_hours"] == 20_000.0, "true_mean"]
    np.testing.assert_allclose(at_mid, (TRUTH["A"] + TRUTH["R0"]) / 2)


def test_run_level_spread():
    df = simulate_runs(params=TRUTH, n_runs=400, x_max=2000.0, rng=4)
    run_a = np.array([p["A"] for p in df.attrs["run_params"].values()])
    assert abs(run_a.mean() - 0.61) < 0.003
    assert 0.008 < run_a.std() < 0.012  # default seed_sd {"A": 0.01}
    assert {p["B"] for p in df.attrs["run_params"].values()} == {1.92}
    # positive parameters vary on the log scale: huge spread, still positive
    wide = simulate_runs(params=TRUTH, n_runs=200, seed_sd={"B": 1.0}, x_max=2000.0, rng=4)
    run_b = np.array([p["B"] for p in wide.attrs["run_params"].values()])
    assert run_b.min() > 0
    assert abs(np.log(run_b).std() - 1.0) < 0.15
    same = simulate_runs(params=TRUTH, seed_sd={}, rng=4)
    assert same.groupby("step")["true_mean"].nunique().max() == 1


def test_huge_prompt_set_without_drift_approaches_true_mean():
    kwargs = {"params": TRUTH, "drift_sd": 0.0, "rng": 5}
    default = simulate_runs(**kwargs)
    huge = simulate_runs(n_prompts=10**9, **kwargs)
    default_err = (default["pass_rate"] - default["true_mean"]).abs().max()
    huge_err = (huge["pass_rate"] - huge["true_mean"]).abs().max()
    assert default_err > 0.01
    assert huge_err < 1e-3


def test_measurement_noise_has_the_beta_binomial_variance():
    # flat curve at 0.5 (A = R0), no drift: residual sd is sqrt(var) of the mean of
    # 1000 beta-binomial(16, kappa=2) proportions: 0.25 * (1 + 15 / 3) / 16,000
    params = {"A": 0.5, "B": 1.0, "C_mid": 1000.0, "R0": 0.5}
    df = simulate_runs(params=params, n_runs=20, drift_sd=0.0, rng=6)
    resid = df["pass_rate"] - df["true_mean"]
    expected_sd = np.sqrt(0.25 * 6 / 16_000)
    assert abs(resid.mean()) < 0.002
    assert abs(resid.std() / expected_sd - 1) < 0.1
    binomial = simulate_runs(
        params=params, n_runs=20, drift_sd=0.0, prompt_concentration=np.inf, rng=6
    )
    binomial_sd = (binomial["pass_rate"] - binomial["true_mean"]).std()
    assert abs(binomial_sd / np.sqrt(0.25 / 16_000) - 1) < 0.1


def test_drift_makes_residuals_autocorrelated():
    kwargs = {"params": TRUTH, "n_runs": 20, "seed_sd": {}}
    with_drift = simulate_runs(drift_sd=0.02, drift_corr=0.9, rng=7, **kwargs)
    without = simulate_runs(drift_sd=0.0, rng=7, **kwargs)
    assert residual_lag1_autocorrelation(with_drift) > 0.5
    assert abs(residual_lag1_autocorrelation(without)) < 0.1


def test_fixed_seed_reproduces_and_other_seed_differs():
    first = simulate_runs(params=TRUTH, rng=8)
    again = simulate_runs(params=TRUTH, rng=np.random.default_rng(8))
    other = simulate_runs(params=TRUTH, rng=9)
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs == again.attrs
    assert not np.array_equal(first["pass_rate"], other["pass_rate"])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"A": 0.61, "B": 1.92, "R0": 0.28}, "missing parameter(s) C_mid"),
        ({**TRUTH, "D": 1.0}, "unknown parameter(s) D"),
        ({**TRUTH, "C_mid": -5.0}, "C_mid must be > 0"),
    ],
)
def test_bad_params_raise_naming_the_parameter(params, named):
    with pytest.raises(ValueError, match=re.escape(named)):
        simulate_runs(params=params)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"seed_sd": {"alpha": 0.1}}, "alpha"),
        ({"drift_corr": 1.0}, "drift_corr"),
        ({"n_runs": 0}, "n_runs"),
        ({"x_max": 500.0}, "x_max"),
        ({"law": "no_such_law"}, "no_such_law"),
    ],
)
def test_bad_settings_raise(kwargs, named):
    with pytest.raises(ValueError, match=named):
        simulate_runs(params=TRUTH, **kwargs)


def test_any_bounded_law_of_compute_works(monkeypatch):
    flat = dataclasses.replace(
        SIGMOID,
        name="flat",
        parameters=("level",),
        positive=frozenset(),
        mean=lambda ops, x, p: p["level"] + 0.0 * x["x"],
        inverse=None,
    )
    monkeypatch.setattr("bayescale.studies.simulate.get_law", lambda name: flat)
    df = simulate_runs(law="flat", params={"level": 0.4}, seed_sd={}, rng=10)
    np.testing.assert_allclose(df["true_mean"], 0.4)
    with pytest.raises(ValueError, match="missing parameter"):
        simulate_runs(law="flat", params=TRUTH)
    loss = dataclasses.replace(flat, bounded=False)
    monkeypatch.setattr("bayescale.studies.simulate.get_law", lambda name: loss)
    with pytest.raises(ValueError, match="not a bounded"):
        simulate_runs(law="flat", params={"level": 0.4})


def test_saturating_law_when_registered():
    try:
        law = get_law("saturating")
    except ValueError:
        pytest.skip("no saturating law registered yet")
    if set(law.parameters) != {"A", "B", "D"}:
        pytest.skip(f"saturating law has parameters {law.parameters}, not A, B, D")
    params = {"A": 0.61, "B": 1.0, "D": 100.0}  # R(1000 GPU-hours) = 0.51
    df = simulate_runs(law="saturating", params=params, seed_sd={}, rng=11)
    expected = law.curve({"x": np.log(df["gpu_hours"].to_numpy())}, params)
    np.testing.assert_allclose(df["true_mean"], expected)


def test_recipes_in_one_frame():
    recipes = {
        "baseline": {"params": TRUTH, "n_runs": 3},
        "better": {"params": {**TRUTH, "A": 0.66}, "n_runs": 2},
        "single": {"params": TRUTH, "n_runs": 1},
    }
    df = simulate_recipes(recipes, x_max=20_000.0, rng=12)
    assert tuple(df.columns) == ("recipe", *COLUMNS)
    assert df.groupby("recipe")["seed"].nunique().to_dict() == {
        "baseline": 3,
        "better": 2,
        "single": 1,
    }
    assert all(s.startswith(f"{r}/seed") for r, s in zip(df["recipe"], df["seed"], strict=True))
    assert set(df.attrs["run_params"]) == set(df["seed"])
    late = df[df["gpu_hours"] == 20_000.0].groupby("recipe")["true_mean"].mean()
    assert late["better"] - late["baseline"] > 0.03
    pd.testing.assert_frame_equal(df, simulate_recipes(recipes, x_max=20_000.0, rng=12))
    with pytest.raises(ValueError, match=r"recipe 'bad'.*missing parameter"):
        simulate_recipes({"bad": {"params": {"A": 0.5}}})
    with pytest.raises(ValueError, match="recipe 'typo'"):
        simulate_recipes({"typo": {"param": TRUTH}})
