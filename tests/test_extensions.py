"""Extension points: a law from a plain function and a new observation model, each
made usable everywhere (fit, predictions, backtest asymptote, saving, LOO) by its
own registration alone."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import xarray as xr
from conftest import QUICK_SAMPLER, STAT_SAMPLER

import bayescale as bs
from bayescale.analysis.backtest import asymptotes
from bayescale.model.likelihoods.registry import available_likelihoods, no_arrays, noise_scale
from bayescale.results.pointwise import pointwise_log_likelihood

TRUE = {"A": 0.62, "k": 1.5}
NOISE_SD = 0.01


def exp_saturation(x, A, k):
    """A pass rate rising to ``A``, ``k`` e-folds per 10k GPU-hours."""
    return A * (1.0 - np.exp(-k * x / 10_000.0))


def _simulated() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = np.tile(np.linspace(500.0, 40_000.0, 60), 2)
    y = exp_saturation(x, **TRUE) + rng.normal(0.0, NOISE_SD, x.size)
    return pd.DataFrame({"gpu_hours": x, "pass_rate": y, "seed": np.repeat(["s0", "s1"], 60)})


@pytest.fixture(scope="module")
def saturation_law() -> bs.Law:
    return bs.law_from_function(
        exp_saturation,
        {"A": "Beta(alpha=2, beta=2)", "k": "LogNormal(mu=0, sigma=1)"},
        bounded=True,
        direction="increasing",
        asymptote=lambda p: p["A"],
        ropes={"A": 0.02},
    )


@pytest.fixture(scope="module")
def saturation_fit(saturation_law):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit(
            _simulated(), saturation_law, x="gpu_hours", y="pass_rate", run="seed",
            likelihood="normal", varying="none", **STAT_SAMPLER,
        )  # fmt: skip


def test_a_law_from_a_plain_function_fits_and_recovers_its_truth(saturation_law, saturation_fit):
    """Property: the true A and k lie in the fit's 98% intervals (120 points, noise 0.01)."""
    assert bs.get_law("exp_saturation") is saturation_law
    assert saturation_law.parameters == ("A", "k") and saturation_law.positive == {"k"}
    table = saturation_fit.summary(ci=0.98)
    for name, value in TRUE.items():
        assert table.loc[name, "lower"] < value < table.loc[name, "upper"], name
    # predictions, the law's own asymptote (backtests) and the saved file use the registration
    assert saturation_fit.predict([80_000.0])["median"].iloc[0] == pytest.approx(0.62, abs=0.02)
    assert asymptotes(saturation_fit)["all"] == pytest.approx(table.loc["A", "mean"], abs=0.01)


def test_a_fit_of_a_registered_function_law_saves_and_loads(saturation_fit, tmp_path):
    same = bs.load(saturation_fit.save(tmp_path / "fit.nc"))
    assert same.law is saturation_fit.law
    assert same.summary().loc["A", "mean"] == pytest.approx(
        saturation_fit.summary().loc["A", "mean"]
    )


def test_a_law_from_a_function_refuses_unclear_arguments():
    with pytest.raises(ValueError, match=r"not arguments of exp_saturation\(\)"):
        bs.law_from_function(
            exp_saturation, {"A": "Beta(alpha=2, beta=2)", "q": "Normal(mu=0, sigma=1)"}
        )
    with pytest.raises(ValueError, match=r"one input \(x\) or two \(n, d\)"):
        bs.law_from_function(exp_saturation, {"A": "Beta(alpha=2, beta=2)"}, register=False)


def _add_laplace(mu, observed, data_vars, params) -> None:
    import pymc as pm

    pm.Laplace("obs", mu=mu, b=params["b"], observed=observed)


def _draw_laplace(mu, params, rng, trials):
    noise = xr.DataArray(rng.laplace(size=mu.shape), dims=mu.dims, coords=mu.coords)
    return mu + params["b"] * noise


def _log_laplace(y, mu, params, arrays):
    return scipy.stats.laplace.logpdf(y, loc=mu, scale=params["b"])


LAPLACE = bs.Likelihood(
    name="laplace_test",
    parameters=("b",),
    needs_trials=False,
    arrays=no_arrays,
    add=_add_laplace,
    draw=_draw_laplace,
    default_priors=lambda law: {"b": bs.Prior("HalfNormal", sigma=noise_scale(law))},
    log_likelihood=_log_laplace,
)


def test_a_new_likelihood_needs_only_its_registration(saturation_law, saturation_fit):
    """Registered, it is fitted, predicts new observations and enters LOO beside normal."""
    bs.register_likelihood(LAPLACE)
    assert "laplace_test" in available_likelihoods()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        laplace = bs.fit(
            saturation_fit.data, saturation_law, likelihood="laplace_test", varying="none",
            **QUICK_SAMPLER,
        )  # fmt: skip
    table = laplace.summary()
    assert table.loc["b", "level"] == "noise" and 0 < table.loc["b", "mean"] < 0.05
    prediction = laplace.predict([20_000.0])
    assert (prediction["obs_upper"] > prediction["upper"]).all()
    assert np.isfinite(pointwise_log_likelihood(laplace)).all()
    ranked = bs.compare_loo({"normal": saturation_fit, "laplace": laplace})
    assert set(ranked.frame.index) == {"normal", "laplace"}
