"""Observation models: NumPy log-likelihoods, PyMC terms, predictive draws, a count fit."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import xarray as xr
from conftest import STAT_SAMPLER

import bayescale as bs
from bayescale.data.curves import load_curves
from bayescale.inference.fitting import build_spec, resolve_likelihood
from bayescale.model.build import build_model, model_arrays
from bayescale.model.laws import NUMPY_OPS, SIGMOID
from bayescale.model.likelihoods.registry import available_likelihoods, get_likelihood
from bayescale.studies.simulate import simulate_runs

TRUTH = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
NOISE = {
    "sigma": 0.02,
    "nu": 4.0,
    "phi": 0.7,
    "kappa": 50.0,
    "residual_sd": 0.025,
    "drift_share": 0.36,
    "drift_corr": 0.9,
}


def small_curves(trials: int | None = 1000) -> bs.CurveData:
    """Two runs of eight evaluations from the simulator (mean@4 on 250 prompts)."""
    df = simulate_runs(
        params=TRUTH, n_runs=2, x_max=8000.0, n_prompts=250, samples_per_prompt=4, rng=3
    )
    return load_curves(df, x="gpu_hours", y="pass_rate", run="seed", trials=trials)


@pytest.mark.parametrize(
    "name", ["normal", "student_t", "ar1", "drift", "binomial", "beta_binomial"]
)
def test_numpy_log_likelihood_equals_the_pymc_model_term(name):
    """The NumPy pointwise log-likelihood (used for LOO) sums to the PyMC model's
    log-probability of the observations at the same parameter values."""
    curves = small_curves()
    spec = build_spec(SIGMOID, curves, likelihood=name, varying="none")
    arrays = model_arrays(spec, curves)
    model = build_model(spec, arrays, n_runs=2, n_recipes=1)
    point = model.initial_point()
    values = {**TRUTH, **{k: v for k, v in NOISE.items() if k in spec.likelihood_obj.parameters}}
    values["R_first"] = SIGMOID.curve({"x": arrays["ref_log_x"]}, TRUTH)[0]  # sampled coordinate
    for var in model.free_RVs:
        transform = model.rvs_to_transforms[var]
        value = np.full(point[model.rvs_to_values[var].name].shape, values[var.name])
        if transform is not None:
            value = transform.forward(value, *var.owner.inputs).eval()
        point[model.rvs_to_values[var].name] = value
    logp = model.compile_fn(model.logp(vars=[model["obs"]], sum=True), mode="FAST_COMPILE")
    mu = SIGMOID.mean(
        NUMPY_OPS, {"x": arrays["log_x"]}, {k: np.float64(v) for k, v in TRUTH.items()}
    )
    params = {k: np.array([[values[k]]]) for k in spec.likelihood_obj.parameters}
    ours = spec.likelihood_obj.log_likelihood(arrays["y"], mu[None, :], params, arrays)
    assert ours.shape == (1, len(curves))
    np.testing.assert_allclose(ours.sum(), float(logp(point)), rtol=1e-6)


def test_ar1_conditional_terms_sum_to_the_stationary_gaussian_joint():
    """Conditional AR(1) terms of a run add up to the exact joint density of a
    stationary AR(1) series (Toeplitz covariance s^2 phi^|i-j| / (1 - phi^2))."""
    ar1 = get_likelihood("ar1")
    rng = np.random.default_rng(0)
    n, phi, sigma = 12, 0.8, 0.03
    mu = np.linspace(0.3, 0.6, n)
    y = mu + rng.normal(0, 0.05, n)
    arrays = {"prev_idx": np.r_[0, np.arange(n - 1)], "has_prev": np.r_[0.0, np.ones(n - 1)]}
    params = {"phi": np.array([[phi]]), "sigma": np.array([[sigma]])}
    total = ar1.log_likelihood(y, mu[None, :], params, arrays).sum()
    lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    cov = sigma**2 * phi**lags / (1 - phi**2)
    np.testing.assert_allclose(total, scipy.stats.multivariate_normal(mu, cov).logpdf(y))


def _ragged_runs(lengths, seed):
    """Residual series of runs of the given lengths, and each point's step in its run."""
    rng = np.random.default_rng(seed)
    residuals = [rng.normal(0, 0.02, n) for n in lengths]
    steps = np.concatenate([np.arange(n) for n in lengths])
    return residuals, steps


def _drift_terms(y, steps, sigma, drift_sd, drift_corr):
    """The drift likelihood's NumPy one-step terms for residuals ``y`` (one draw)."""
    params = {
        "residual_sd": np.hypot(sigma, drift_sd),
        "drift_share": drift_sd**2 / (sigma**2 + drift_sd**2),
        "drift_corr": drift_corr,
    }
    params = {name: np.array([[value]]) for name, value in params.items()}
    terms = get_likelihood("drift").log_likelihood(
        y, np.zeros((1, y.size)), params, {"step_in_run": steps}
    )
    return terms[0]


def _joint_log_density(residuals, sigma, drift_sd, corr, loadings=None, offset_sd=0.0):
    """Exact Gaussian joint density of independent runs of drift plus noise plus a
    run offset: covariance drift_sd^2 corr^|i-j| + sigma^2 I + offset_sd^2 l l'
    within a run (``l`` the run's loadings)."""
    joint = 0.0
    for i, r in enumerate(residuals):
        lags = np.abs(np.subtract.outer(np.arange(r.size), np.arange(r.size)))
        cov = drift_sd**2 * corr**lags + sigma**2 * np.eye(r.size)
        if loadings is not None:
            cov = cov + offset_sd**2 * np.outer(loadings[i], loadings[i])
        joint += scipy.stats.multivariate_normal(np.zeros(r.size), cov).logpdf(r)
    return joint


def test_drift_terms_sum_to_the_joint_of_drift_plus_noise():
    """The Kalman filter's one-step terms of each run add up to the exact Gaussian
    joint density, runs independent."""
    residuals, steps = _ragged_runs((9, 4), seed=1)
    sigma, drift_sd, corr = 0.01, 0.02, 0.85
    total = _drift_terms(np.concatenate(residuals), steps, sigma, drift_sd, corr).sum()
    np.testing.assert_allclose(total, _joint_log_density(residuals, sigma, drift_sd, corr))


@pytest.fixture(scope="module", params=["NUMBA", "FAST_COMPILE"])
def drift_op_and_gradient(request):
    """The model's drift Op (log-density terms summed with weights) and its
    gradient, compiled once per mode: numba (what nutpie runs) and Python
    (``perform``)."""
    import pytensor
    import pytensor.tensor as pt

    from bayescale.model.likelihoods.kalman import drift_log_densities

    residual, loading, weight = pt.dvector("residual"), pt.dvector("loading"), pt.dvector("w")
    steps = pt.lvector("steps")
    scalars = [pt.dscalar(name) for name in ("sigma", "drift_sd", "drift_corr", "offset_sd")]
    terms = drift_log_densities(residual, loading, steps, *scalars)
    objective = (weight * terms).sum()
    gradients = pytensor.grad(objective, [residual, loading, *scalars])
    inputs = [residual, loading, steps, *scalars, weight]
    return pytensor.function(inputs, [objective, *gradients], mode=request.param)


@pytest.mark.parametrize("offset_sd", [0.0, 0.02])
@pytest.mark.parametrize("corr", [0.99, 0.3, 0.0, -0.4])
@pytest.mark.parametrize(("sigma", "drift_sd"), [(0.008, 0.015), (1e-4, 0.02), (0.02, 1e-4)])
def test_drift_op_and_its_gradient_match_the_exact_joint_density(
    drift_op_and_gradient, corr, sigma, drift_sd, offset_sd
):
    """For ragged runs (9, 4 and 41 evaluations), correlations from -0.4 to 0.99
    (zero included), noise ratios of 200 either way, with and without a run
    offset integrated out, the Op's log-density is the exact Gaussian joint, and
    its gradient (adjoint recursions for residuals and loadings, tangents for the
    parameters) matches central finite differences of that joint to 1e-5."""
    residuals, steps = _ragged_runs((9, 4, 41), seed=2)
    loadings = [np.linspace(0.3, 0.9, r.size) for r in residuals]
    r, load = np.concatenate(residuals), np.concatenate(loadings)
    scalars = (sigma, drift_sd, corr, offset_sd)
    value, d_residual, d_loading, *d_scalars = drift_op_and_gradient(
        r, load, steps, *scalars, np.ones(r.size)
    )
    np.testing.assert_allclose(
        value, _joint_log_density(residuals, *scalars[:3], loadings, offset_sd)
    )
    ends = np.cumsum([0, *(x.size for x in residuals)])

    def joint(point):
        pieces = [point[: r.size], point[r.size : 2 * r.size]]
        runs = [[piece[a:b] for a, b in itertools.pairwise(ends)] for piece in pieces]
        return _joint_log_density(runs[0], *point[2 * r.size : -1], runs[1], point[-1])

    point = np.r_[r, load, scalars]
    gradient = np.r_[d_residual, d_loading, d_scalars]
    # first and last observation of each run, residuals and loadings, and the parameters
    firsts_lasts = [0, 8, 9, 12, 13, r.size - 1]
    coordinates = [
        *firsts_lasts,
        *(r.size + i for i in firsts_lasts),
        *range(2 * r.size, point.size),
    ]
    for i in coordinates:
        step = 1e-6 * max(abs(point[i]), 1e-3)
        up, down = point.copy(), point.copy()
        up[i] += step
        down[i] -= step
        numeric = (joint(up) - joint(down)) / (2 * step)
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6 * np.abs(gradient).max())


def test_run_offset_posterior_is_the_exact_gaussian_conditional():
    """Each run's offset posterior read off the filter's pass equals the dense
    Gaussian conditional: precision 1/offset_sd^2 + l' S^-1 l, mean v l' S^-1 r."""
    from bayescale.model.likelihoods.kalman import kalman_filter, offset_posterior

    residuals, steps = _ragged_runs((9, 14), seed=3)
    loadings = [np.linspace(0.2, 0.8, r.size) for r in residuals]
    sigma, drift_sd, corr, offset_sd = 0.01, 0.015, 0.9, 0.02
    _, filtered = kalman_filter(
        np.concatenate(residuals), np.concatenate(loadings), steps, sigma, drift_sd, corr, offset_sd
    )
    mean, variance = offset_posterior(filtered, steps, offset_sd)
    for run, (r, load) in enumerate(zip(residuals, loadings, strict=True)):
        lags = np.abs(np.subtract.outer(np.arange(r.size), np.arange(r.size)))
        inverse = np.linalg.inv(drift_sd**2 * corr**lags + sigma**2 * np.eye(r.size))
        expected_variance = 1.0 / (1.0 / offset_sd**2 + load @ inverse @ load)
        assert variance[run] == pytest.approx(expected_variance, rel=1e-9)
        assert mean[run] == pytest.approx(expected_variance * (load @ inverse @ r), rel=1e-9)


def test_drift_filter_is_linear_in_the_evaluations():
    """A million evaluations (a log of every step) are filtered with memory for
    a few arrays of that length: no (steps x steps) matrix anywhere."""
    from bayescale.model.likelihoods.kalman import filter_gradient, kalman_filter

    n = 1_000_000
    rng = np.random.default_rng(0)
    steps = np.arange(n) % 250_000
    residual, loading = rng.normal(0, 0.02, n), np.full(n, 0.5)
    log_density, filtered = kalman_filter(residual, loading, steps, 0.01, 0.01, 0.9, 0.01)
    d_residual, d_loading, _ = filter_gradient(filtered, steps, 0.9, np.ones(n))
    assert log_density.shape == d_residual.shape == d_loading.shape == (n,)
    assert np.isfinite(log_density).all() and np.isfinite(d_residual).all()


@pytest.mark.parametrize(
    ("name", "factor"),
    [("binomial", 1.0), ("beta_binomial", 1.0 + 399 / 41.0)],
)
def test_count_draws_have_the_binomial_variance_times_the_dispersion(name, factor):
    """New observations scatter with variance mu (1 - mu) / trials, inflated by
    1 + (trials - 1) / (kappa + 1) for the beta-binomial (kappa = 40)."""
    likelihood = get_likelihood(name)
    mu = xr.DataArray(np.full((4, 20_000), 0.3), dims=("chain", "draw"))
    kappa = {"kappa": xr.DataArray(np.full((4, 20_000), 40.0), dims=("chain", "draw"))}
    draws = likelihood.draw(mu, kappa, np.random.default_rng(1), 400).to_numpy()
    assert abs(draws.mean() - 0.3) < 0.002
    expected = 0.3 * 0.7 / 400 * factor
    assert draws.var() == pytest.approx(expected, rel=0.05)


def test_count_likelihoods_need_trials_and_have_their_own_priors():
    curves = small_curves(trials=None)
    with pytest.raises(ValueError, match="trials"):
        resolve_likelihood("beta_binomial", SIGMOID, curves)
    assert get_likelihood("binomial").default_priors(SIGMOID) == {}
    assert set(get_likelihood("beta_binomial").default_priors(SIGMOID)) == {"kappa"}
    assert {"binomial", "beta_binomial"} <= set(available_likelihoods())


def test_auto_picks_drift_for_curves_even_with_trials():
    """Checkpoints of one run drift together, so pass-rate curves get the drift
    model by default; the count models are chosen explicitly (see the README)."""
    assert resolve_likelihood("auto", SIGMOID, small_curves()) == "drift"


def test_beta_binomial_fit_recovers_the_truth_of_mean_at_k_data():
    """mean@16 on 1000 prompts of Beta(2m, 2(1-m)) difficulty, no drift, trials =
    16,000 generations: the variance is the binomial one times 1 + 15/3 = 6, i.e.
    kappa = 15999 / 5 - 1 ~ 3199; the 90% intervals of kappa and of A hold the truth.

    One run observed from 1.5k GPU-hours (0.6 C_mid) on leaves R0, B and C_mid
    strongly correlated; with the default 1000 draws per chain, five sampler
    seeds gave R-hat 1.001-1.012 and bulk ESS 353-816 (with 500 draws R-hat
    reached 1.027), so the convergence check here has that margin."""
    df = simulate_runs(
        params=TRUTH, n_runs=1, x_max=40_000.0, drift_sd=0.0, held_out_from=None, rng=11
    )
    df = df[df["gpu_hours"] >= 1500]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(
            df,
            x="gpu_hours",
            y="pass_rate",
            run="seed",
            trials=16_000,
            likelihood="beta_binomial",
            seed=STAT_SAMPLER["seed"],
        )
    table = fit.summary(ci=0.9)
    assert table.loc["kappa", "lower"] <= 15999 / 5 - 1 <= table.loc["kappa", "upper"]
    assert table.loc["A", "lower"] <= TRUTH["A"] <= table.loc["A", "upper"]
    assert fit.diagnostics.max_r_hat < 1.03
    pred = fit.predict([50_000.0], ci=0.9)
    # the predictive interval is wider than the curve's by the evaluation noise
    assert (pred["obs_upper"] - pred["obs_lower"]).iloc[0] > (pred["upper"] - pred["lower"]).iloc[0]
    assert isinstance(pred, pd.DataFrame)


def _dense_drift_covariance(n, sigma, drift_sd, corr):
    """Covariance of ``n`` evaluations of drift plus noise, and of the drift."""
    lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    drift = drift_sd**2 * corr**lags
    return drift + sigma**2 * np.eye(n), drift


@pytest.mark.parametrize("corr", [0.0, 0.5, 0.95])
def test_filtered_drift_is_the_exact_gaussian_conditional_of_the_last_drift(corr):
    """The filter's mean and variance of the drift at a run's last evaluation
    equal the dense Gaussian conditional of d_T given all the run's residuals."""
    from bayescale.model.likelihoods.drift import filtered_drift

    sigma, drift_sd, n = 0.01, 0.02, 12
    residual = np.random.default_rng(3).normal(0.0, 0.02, size=n)
    cov, drift = _dense_drift_covariance(n, sigma, drift_sd, corr)
    weights = np.linalg.solve(cov, drift[:, -1])
    one = np.ones(1)
    mean, variance = filtered_drift(residual[None, :], sigma * one, drift_sd * one, corr * one)
    np.testing.assert_allclose(mean[0], weights @ residual, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(variance[0], drift_sd**2 - drift[:, -1] @ weights, rtol=1e-10)


def test_drift_forecast_draws_follow_the_exact_conditional_of_later_evaluations():
    """Draws of a run's evaluations 1 and 5 steps after its last one have the mean
    and variance of the dense Gaussian conditional given the run (200,000 draws:
    means within 5 Monte Carlo standard errors, variances within 2%)."""
    sigma, drift_sd, corr, n, ahead = 0.01, 0.02, 0.9, 10, np.array([1.0, 5.0])
    residual = np.random.default_rng(4).normal(0.0, 0.02, size=n)
    cov, _ = _dense_drift_covariance(n + 5, sigma, drift_sd, corr)
    seen, later = np.arange(n), n - 1 + ahead.astype(int)
    weights = np.linalg.solve(cov[np.ix_(seen, seen)], cov[np.ix_(seen, later)])
    exact_mean = weights.T @ residual
    exact_var = np.diag(cov[np.ix_(later, later)] - cov[np.ix_(later, seen)] @ weights)
    samples = 200_000
    params = {
        "residual_sd": np.full(samples, np.hypot(sigma, drift_sd)),
        "drift_share": np.full(samples, drift_sd**2 / (sigma**2 + drift_sd**2)),
        "drift_corr": np.full(samples, corr),
    }
    forecast = get_likelihood("drift").forecast
    draws = forecast(np.tile(residual, (samples, 1)), ahead, params, np.random.default_rng(5))
    standard_error = np.sqrt(exact_var / samples)
    assert np.all(np.abs(draws.mean(axis=0) - exact_mean) < 5 * standard_error)
    np.testing.assert_allclose(draws.var(axis=0), exact_var, rtol=0.02)


def test_run_predictions_past_the_data_start_from_the_run_and_relax_to_stationary(scalerl_fit):
    """For a fitted run under ``drift``, the new-observation interval one
    evaluation past the run's last one is narrower than far ahead, where it
    matches the stationary interval of a point inside the data's range."""
    frame = scalerl_fit.data.frame
    run = scalerl_fit.runs[0]
    last = frame.loc[frame["run"] == run, "x"].max()
    pred = scalerl_fit.predict([0.9 * last, last + 400.0, 40 * last], run=run)
    width = (pred["obs_upper"] - pred["obs_lower"]).to_numpy()
    curve_width = (pred["upper"] - pred["lower"]).to_numpy()
    assert width[1] < width[2]
    assert width[2] == pytest.approx(
        np.sqrt(width[0] ** 2 - curve_width[0] ** 2 + curve_width[2] ** 2), rel=0.15
    )


def test_run_forecast_in_blocks_of_draws_matches_the_whole(scalerl_fit, monkeypatch):
    """Forecasting a run in blocks of draws (as for dense logs, to keep memory
    linear) gives the same curve and, within Monte Carlo error, the same
    new-observation interval as all draws at once."""
    import bayescale.results.fit_result as fit_result

    run = scalerl_fit.runs[1]
    x = [60_000.0, 80_000.0]
    whole = scalerl_fit.predict(x, run=run)
    n_obs = int((scalerl_fit.data.frame["run"] == run).sum())
    monkeypatch.setattr(fit_result, "_FORECAST_VALUES", 700 * n_obs)
    blocks = scalerl_fit.predict(x, run=run)
    pd.testing.assert_frame_equal(whole[["lower", "upper"]], blocks[["lower", "upper"]])
    width = (whole["obs_upper"] - whole["obs_lower"]).to_numpy()
    for column in ("obs_lower", "obs_upper"):
        assert np.all(np.abs(whole[column] - blocks[column]).to_numpy() < 0.1 * width)
