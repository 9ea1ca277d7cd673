"""Extrapolation intervals on curves with correlated within-run drift (slow study).

Run with ``pytest tests/test_drift_study.py -m slow -s`` to see the table.

Data: the simulator's ScaleRL-like runs (A = 0.61, B = 1.92, C_mid = 2542, three
seeds, mean@16 on 1000 prompts) with a slow AR(1) drift (sd 0.015, correlation
0.9 between evaluations 1k GPU-hours apart). Each model is fitted on 1.5k-20k
GPU-hours and predicts the held-out 21k-40k points of every seed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from bayescale.analysis.backtest import backtest
from bayescale.studies.simulate import simulate_runs

TRUTH = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
N_DATASETS = 30


def drift_study(likelihoods: list[str], n_datasets: int = N_DATASETS) -> pd.DataFrame:
    """Held-out coverage of each model on the same simulated data sets."""
    rows = []
    for index in range(n_datasets):
        df = simulate_runs(
            params=TRUTH, n_runs=3, x_max=40_000.0, drift_sd=0.015, drift_corr=0.9,
            held_out_from=None, rng=1000 + index,
        )  # fmt: skip
        for likelihood in likelihoods:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = backtest(
                    df, [20_000], x="gpu_hours", y="pass_rate", run="seed", trials=16_000,
                    min_x=1500, likelihood=likelihood, true_asymptote=TRUTH["A"],
                    truth_column="true_mean", draws=300, tune=400, chains=4, seed=index,
                )  # fmt: skip
            cut = result.cuts[0]
            rows.append(
                {
                    "dataset": index,
                    "likelihood": likelihood,
                    "coverage_50": cut.coverage_50,
                    "coverage_90": cut.coverage_90,
                    "curve_coverage_90": cut.curve_coverage_90,
                    "asymptote_error": cut.asymptote_error,
                }
            )
    return pd.DataFrame(rows)


def paired_gain(study: pd.DataFrame, better: str, worse: str) -> tuple[float, float]:
    """Mean and standard error over data sets of the difference in 90% coverage."""
    wide = study.pivot(index="dataset", columns="likelihood", values="coverage_90")
    gain = wide[better] - wide[worse]
    return float(gain.mean()), float(gain.std(ddof=1) / np.sqrt(len(gain)))


@pytest.mark.slow
def test_drift_intervals_cover_near_90_where_iid_models_under_cover():
    """Over 30 data sets x 60 held-out points, the 90% predictive intervals of
    the iid models (Normal; beta-binomial with trials = 16,000) hold clearly less
    than 90% of the held-out points (measured: 0.749 and 0.750). The drift model
    (AR(1) drift plus measurement noise, the default for pass rates; a fitted
    run's new observations drawn given the run) holds 0.85-0.95 (measured 0.889)
    and beats both Normal and the plain AR(1) residual model (measured 0.833) by
    more than three standard errors of the paired per-data-set difference
    (measured +0.140 +/- 0.014 and +0.056 +/- 0.011). Its curve interval holds
    the run's true curve at >= 0.80 of the held-out inputs (measured 0.863 here,
    standard error 0.04 over data sets; 0.912 on 60 other data sets)."""
    study = drift_study(["normal", "beta_binomial", "ar1", "drift"])
    table = study.groupby("likelihood")[["coverage_50", "coverage_90", "curve_coverage_90"]].mean()
    print(table.to_string())
    assert table.loc["normal", "coverage_90"] < 0.82
    assert table.loc["beta_binomial", "coverage_90"] < 0.82
    assert 0.85 <= table.loc["drift", "coverage_90"] <= 0.95
    assert table.loc["drift", "curve_coverage_90"] >= 0.80
    for worse in ("normal", "ar1"):
        mean, se = paired_gain(study, "drift", worse)
        print(f"drift - {worse}: {mean:.3f} +/- {se:.3f}")
        assert mean > 3 * se
