"""Simulation-based calibration: ranks and interval coverage over simulated data sets."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bayescale.model.priors import Prior
from bayescale.studies.calibration import (
    PREDICTED,
    binomial_band,
    calibrate,
    calibration_spec,
    draw_prior,
)

QUANTITIES = {"A", "B", "C_mid", "R0", PREDICTED}


def test_calibration_reports_ranks_and_coverage_per_quantity():
    """Plumbing on three data sets with fixed truth (the same model structure as
    the default fit of the bundled data, so the fits are warm)."""
    truth = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
    truth |= {"residual_sd": 0.0128, "drift_share": 0.61, "drift_corr": 0.9}
    result = calibrate(3, truth=truth, draws=100, tune=150, chains=2, n_rank_draws=19, seed=4)
    assert set(result.ranks.columns) == QUANTITIES
    assert result.ranks.shape == (3, 5)
    assert ((result.ranks >= 0) & (result.ranks <= 19)).all().all()
    assert (result.truths["A"] == 0.61).all()
    # the true curve at 2x the largest compute (40k GPU-hours)
    expected = 0.28 + (0.61 - 0.28) / (1 + (2542.0 / 40_000.0) ** 1.92)
    assert result.truths[PREDICTED].iloc[0] == pytest.approx(expected)
    table = result.coverage
    assert set(table.index) == QUANTITIES
    assert table[["coverage_50", "coverage_90"]].stack().between(0, 1).all()
    assert (result.inside_90 | ~result.inside_50).all().all()  # 50% inside implies 90% inside
    assert len(result.fits) == 3 and result.seconds > 0
    assert set(result.to_dict()) >= {"coverage", "ranks", "seconds", "n_datasets"}


def test_calibration_draws_truth_from_the_fitted_prior():
    spec = calibration_spec()
    assert spec.likelihood == "drift" and spec.varying == ("A",)
    ar1 = calibration_spec(likelihood="ar1")
    assert ar1.priors["phi"] == Prior("Uniform", lower=0.0, upper=0.95)
    with pytest.raises(ValueError, match=r"cannot reproduce the .student_t. observation model"):
        calibration_spec(likelihood="student_t")
    rng = np.random.default_rng(0)
    draws = draw_prior(spec.priors["A"], 400, rng)
    assert abs(draws.mean() - 0.5) < 0.03  # Beta(2, 2)


def test_binomial_band():
    assert binomial_band(100, 0.9) == (0.84, 0.95)


@pytest.mark.slow
@pytest.mark.parametrize("likelihood", ["drift", "ar1"])
def test_sbc_coverage_of_a_is_within_the_binomial_band(likelihood):
    """Over 100 data sets drawn from the prior, the 90% interval of A holds the
    true A at a rate inside the 95% binomial band around 0.9 (0.84-0.95), and the
    ranks of A are not detectably non-uniform (measured, seed 2025: drift 0.90,
    ar1 0.90)."""
    start = time.perf_counter()
    result = calibrate(100, likelihood=likelihood, seed=2025)
    table = result.coverage
    print(table.to_string())
    print(f"divergent fits: {(result.fits['divergences'] > 0).sum()}; "
          f"{time.perf_counter() - start:.0f} s")  # fmt: skip
    low, high = binomial_band(100, 0.9)
    assert low <= table.loc["A", "coverage_90"] <= high
    assert table.loc["A", "rank_p_value"] > 0.001
