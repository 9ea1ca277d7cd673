"""Simulation-based calibration: do the intervals cover the truth as often as they say?

:func:`calibrate` repeats, for each of ``n_datasets`` simulated data sets:

1. Draw the true parameters from the model's own priors (or take the fixed values
   given in ``truth``): the law parameters, the run-to-run spreads and the noise.
2. Simulate runs with :func:`bayescale.studies.simulate.simulate_runs`: run-level
   parameters around the recipe's, the curve, and the noise of the fitted
   observation model, so that the data come from exactly the model that is fitted:

   - ``likelihood="ar1"``: AR(1) noise within each run (``drift_sd = sigma /
     sqrt(1 - phi^2)``, ``drift_corr = phi``), measured on so many prompts that the
     measurement adds nothing. (The simulator's drift correlation is >= 0, so the
     prior of ``phi`` here is ``Uniform(0, 0.95)`` unless you override it.)
   - ``likelihood="drift"``: the same AR(1) drift (``drift_sd``, ``drift_corr``)
     plus independent Normal measurement noise of standard deviation ``sigma``
     (both from the sampled ``residual_sd`` and ``drift_share``).
     A pass rate pushed outside [0, 1] by that noise is clipped (rare at the
     default priors).
   - ``likelihood="normal"``: independent Normal noise of standard deviation ``sigma``.
   - Any observation model that states how the simulator reproduces it
     (``Likelihood.simulation_noise``); others are refused.
3. Fit, and record the rank of each true value among the posterior draws and
   whether it lies inside the central 50% and 90% intervals.

Quantities: every law parameter at the recipe level (for the sigmoid ``A``, ``B``,
``C_mid``, ``R0``) and ``y_at_2x``, the recipe curve at twice the largest compute.
When the truth is drawn from the prior, ranks are uniform and coverage is
nominal up to Monte-Carlo error if and only if the computation is right (Talts et
al. 2018); with fixed values coverage is a frequentist property at that point.

Priors are fixed once for the whole study, from a pilot data set simulated at
ScaleRL 8B-like values (the default priors centre ``C_mid`` and ``R0`` on the data),
so that every data set is drawn from, and fitted with, the same prior.

All data sets share one model structure and are fitted in this process through
the compile-once cache of :mod:`bayescale.inference.sampling`: one compile, then a warm fit
(one to a few seconds of sampling) per data set.

Examples
--------
>>> from bayescale.studies.calibration import calibrate
>>> result = calibrate(100, seed=0)  # doctest: +SKIP
>>> result.coverage  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import load_curves
from bayescale.inference.fitting import build_spec, fit_curves
from bayescale.inference.many import without_fit_warnings
from bayescale.inference.progress import Progress
from bayescale.model.build import ModelSpec
from bayescale.model.laws import get_law
from bayescale.model.likelihoods.registry import get_likelihood
from bayescale.model.priors import Prior, hierarchy_prior_name
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import SAMPLE_DIMS, eti
from bayescale.results.provenance import SamplerSettings
from bayescale.studies.simulate import simulate_runs

PILOT_TRUTH = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
"""Sigmoid values of the pilot data set that centres the data-dependent priors."""

CALIBRATION_PRIORS = {"ar1": {"phi": Prior("Uniform", lower=0.0, upper=0.95)}}
"""Per observation model, the priors that differ from the defaults in a calibration
study (see module notes)."""

PREDICTED = "y_at_2x"


@dataclass
class Calibration:
    """Result of :func:`calibrate`.

    Attributes
    ----------
    truths : pandas.DataFrame
        One row per data set: the true value of each quantity.
    ranks : pandas.DataFrame
        Rank of each true value among ``n_rank_draws`` thinned posterior draws
        (0 to ``n_rank_draws``); uniform when calibrated.
    inside_50, inside_90 : pandas.DataFrame
        Whether each true value lies in the central 50% / 90% interval.
    fits : pandas.DataFrame
        Per data set: ``max_r_hat``, ``divergences``, ``seconds``.
    n_rank_draws : int
    seconds : float
        Wall time of the whole study.
    """

    truths: pd.DataFrame
    ranks: pd.DataFrame
    inside_50: pd.DataFrame
    inside_90: pd.DataFrame
    fits: pd.DataFrame
    n_rank_draws: int
    seconds: float

    @property
    def coverage(self) -> pd.DataFrame:
        """Coverage of the 50% and 90% intervals, with 95% binomial bands.

        Returns
        -------
        pandas.DataFrame
            Index quantity; columns ``coverage_50``, ``coverage_90``,
            ``band_90_lower``, ``band_90_upper`` (the range a calibrated method's
            90% coverage falls in with probability 0.95 over this many data sets),
            ``rank_p_value`` (chi-square test of uniform ranks in 10 bins).
        """
        n = len(self.truths)
        low, high = binomial_band(n, 0.9)
        return pd.DataFrame(
            {
                "coverage_50": self.inside_50.mean(),
                "coverage_90": self.inside_90.mean(),
                "band_90_lower": low,
                "band_90_upper": high,
                "rank_p_value": {
                    name: rank_uniformity(self.ranks[name], self.n_rank_draws)
                    for name in self.ranks
                },
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary: coverage table, ranks, run time."""
        return {
            "n_datasets": len(self.truths),
            "n_rank_draws": self.n_rank_draws,
            "seconds": self.seconds,
            "coverage": self.coverage.reset_index(names="quantity").to_dict(orient="records"),
            "ranks": {name: self.ranks[name].tolist() for name in self.ranks},
            "divergent_fits": int((self.fits["divergences"] > 0).sum()),
        }


def binomial_band(n: int, p: float, mass: float = 0.95) -> tuple[float, float]:
    """Central ``mass`` range of the share of successes in ``n`` trials of chance ``p``.

    Examples
    --------
    >>> binomial_band(100, 0.9)
    (0.84, 0.95)
    """
    import scipy.stats

    low, high = scipy.stats.binom.interval(mass, n, p)
    return float(low / n), float(high / n)


def rank_uniformity(ranks: pd.Series, n_rank_draws: int, bins: int = 10) -> float:
    """p-value of a chi-square test that ranks in ``0..n_rank_draws`` are uniform.

    Examples
    --------
    >>> rank_uniformity(pd.Series(np.arange(100)), 99) > 0.99
    True
    """
    import scipy.stats

    counts = np.histogram(ranks, bins=bins, range=(0, n_rank_draws + 1))[0]
    return float(scipy.stats.chisquare(counts).pvalue)


def draw_prior(prior: Prior, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` independent draws from a :class:`~bayescale.model.priors.Prior`.

    Examples
    --------
    >>> draws = draw_prior(Prior("Beta", alpha=2, beta=2), 5, np.random.default_rng(0))
    >>> draws.shape, bool(((draws > 0) & (draws < 1)).all())
    ((5,), True)
    """
    import pymc as pm

    dist = getattr(pm, prior.dist).dist(**prior.params)
    return np.asarray(pm.draw(dist, draws=size, random_seed=rng), dtype=float).reshape(size)


def calibration_spec(
    law: str = "sigmoid",
    *,
    likelihood: str = "drift",
    n_runs: int = 3,
    priors: Mapping[str, Prior | str | Mapping[str, Any]] | None = None,
    simulate_options: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """The fixed model of a calibration study (priors from the pilot data set).

    Examples
    --------
    >>> calibration_spec(likelihood="ar1").priors["phi"]  # doctest: +SKIP
    Prior(dist='Uniform', params={'lower': 0.0, 'upper': 0.95})
    """
    law_obj = get_law(law)
    pilot_params = {name: PILOT_TRUTH[name] for name in law_obj.parameters}
    pilot_noise = {
        "sigma": 0.01,
        "phi": 0.5,
        "residual_sd": 0.014,
        "drift_share": 0.5,
        "drift_corr": 0.5,
    }
    pilot = _simulate(
        law, pilot_params, {}, _noise_settings(likelihood, pilot_noise), n_runs, simulate_options, 0
    )
    return build_spec(
        law_obj,
        _curves(pilot),
        likelihood=likelihood,
        varying="auto",
        priors={**CALIBRATION_PRIORS.get(likelihood, {}), **(priors or {})},
    )


def calibrate(
    n_datasets: int = 100,
    law: str = "sigmoid",
    *,
    likelihood: str = "drift",
    n_runs: int = 3,
    truth: Mapping[str, float] | None = None,
    priors: Mapping[str, Prior | str | Mapping[str, Any]] | None = None,
    simulate_options: Mapping[str, Any] | None = None,
    draws: int = 300,
    tune: int = 500,
    chains: int = 4,
    n_rank_draws: int = 99,
    seed: int = 0,
    progress: bool = True,
) -> Calibration:
    """Simulate data sets, fit each, and check ranks and interval coverage.

    Parameters
    ----------
    n_datasets : int
        Number of simulated data sets (100 or more for a coverage check).
    law : str
        A bounded law of compute without reparametrisation (``"sigmoid"``).
    likelihood : {"drift", "ar1", "normal"} or another with ``simulation_noise``
        The observation model that simulates the noise and is fitted (default:
        ``"drift"``, the default for pass-rate curves).
    n_runs : int
        Runs (seeds) per data set; with more than one, the law's default
        parameters vary by run and their spreads are drawn too.
    truth : mapping, optional
        Fixed true values (law parameters, ``sigma`` and ``phi`` or
        ``residual_sd``, ``drift_share`` and ``drift_corr``, ``sigma_A``, ...);
        anything not given is drawn from the prior.
    priors : mapping, optional
        Prior overrides for the study (used to simulate and to fit).
    simulate_options : mapping, optional
        Passed to :func:`bayescale.studies.simulate.simulate_runs` (default: 20 evaluations
        per run, 1k to 20k GPU-hours: ``x_max=20_000``).
    draws, tune, chains : int
        NUTS settings of each fit.
    n_rank_draws : int
        Posterior draws (thinned evenly) the ranks are computed against.
    seed : int
        Seeds the truths, the simulations and the samplers.
    progress : bool
        Show a progress bar with the time left on a terminal (stderr).

    Returns
    -------
    Calibration

    Examples
    --------
    >>> result = calibrate(100, seed=1)  # doctest: +SKIP
    >>> result.coverage.loc["A", "coverage_90"]  # doctest: +SKIP
    """
    start = time.perf_counter()
    law_obj = get_law(law)
    spec = calibration_spec(
        law,
        likelihood=likelihood,
        n_runs=n_runs,
        priors=priors,
        simulate_options=simulate_options,
    )
    missing = [name for name in law_obj.parameters if name not in spec.priors]
    if missing:
        raise ValueError(f"calibration draws {', '.join(missing)} from priors; {law!r} has none")
    rng = np.random.default_rng(seed)
    drawn = {
        name: np.full(n_datasets, float(truth[name]))
        if truth and name in truth
        else draw_prior(prior, n_datasets, rng)
        for name, prior in spec.priors.items()
    }
    rows: dict[str, list[dict[str, float]]] = {"truth": [], "rank": [], "50": [], "90": []}
    fit_rows = []
    bar = Progress(n_datasets, label="calibrate", enabled=progress)
    for index in range(n_datasets):
        values = {name: float(column[index]) for name, column in drawn.items()}
        frame = _simulate_from(spec, values, n_runs, simulate_options, rng)
        settings = SamplerSettings(
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed * 100_003 + index,
        )
        fit_start = time.perf_counter()
        with without_fit_warnings():
            result = fit_curves(_curves(frame), spec, settings)
        fit_rows.append(
            {
                "max_r_hat": result.diagnostics.max_r_hat,
                "divergences": result.diagnostics.divergences,
                "seconds": time.perf_counter() - fit_start,
            }
        )
        x_2x = 2.0 * float(frame["gpu_hours"].max())
        true_values = {name: values[name] for name in law_obj.parameters}
        true_values[PREDICTED] = float(law_obj.curve({"x": np.log(x_2x)}, true_values))
        posterior = _quantity_draws(result, x_2x)
        for name, true_value in true_values.items():
            draws_flat = posterior[name]
            rows["truth"].append({"name": name, "value": true_value})
            rows["rank"].append(
                {"name": name, "value": _rank(draws_flat, true_value, n_rank_draws)}
            )
            for ci in (50, 90):
                low, high = eti(draws_flat, ci / 100)
                rows[str(ci)].append({"name": name, "value": float(low <= true_value <= high)})
        bar.advance()
    bar.close()
    tables = {key: _wide(value, n_datasets) for key, value in rows.items()}
    return Calibration(
        truths=tables["truth"],
        ranks=tables["rank"].astype(int),
        inside_50=tables["50"].astype(bool),
        inside_90=tables["90"].astype(bool),
        fits=pd.DataFrame(fit_rows),
        n_rank_draws=n_rank_draws,
        seconds=time.perf_counter() - start,
    )


def _noise_settings(likelihood: str, values: Mapping[str, float]) -> dict[str, float]:
    """The simulator's drift and extra Normal measurement noise that reproduce
    ``likelihood`` with noise parameters ``values`` (``Likelihood.simulation_noise``)."""
    model = get_likelihood(likelihood)
    if model.simulation_noise is None:
        raise ValueError(f"the simulator cannot reproduce the {likelihood!r} observation model")
    return model.simulation_noise(values)


def _simulate(
    law: str,
    params: Mapping[str, float],
    seed_sd: Mapping[str, float],
    noise: Mapping[str, float],
    n_runs: int,
    options: Mapping[str, Any] | None,
    rng: Any,
) -> pd.DataFrame:
    """Runs with stationary AR(1) drift and Normal measurement noise (``noise`` from
    :func:`_noise_settings`), without binomial noise (10^9 prompts, one sample
    each, equal difficulty)."""
    generator = np.random.default_rng(rng)
    settings = {"x_max": 20_000.0, "held_out_from": None, **(options or {})}
    frame = simulate_runs(
        law=law,
        params=params,
        n_runs=n_runs,
        seed_sd=seed_sd,
        drift_sd=noise["drift_sd"],
        drift_corr=noise["drift_corr"],
        n_prompts=10**9,
        samples_per_prompt=1,
        prompt_concentration=np.inf,
        rng=generator,
        **settings,
    )
    if noise["sd"] > 0:
        measured = frame["pass_rate"] + generator.normal(0.0, noise["sd"], len(frame))
        frame["pass_rate"] = measured.clip(0.0, 1.0)
    return frame


def _simulate_from(
    spec: ModelSpec,
    values: Mapping[str, float],
    n_runs: int,
    options: Mapping[str, Any] | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    law = spec.law_obj
    seed_sd = {name: values[hierarchy_prior_name(law, name)] for name in spec.varying}
    params = {name: values[name] for name in law.parameters}
    noise = _noise_settings(spec.likelihood, values)
    return _simulate(spec.law, params, seed_sd, noise, n_runs, options, rng)


def _curves(frame: pd.DataFrame):
    return load_curves(frame, x="gpu_hours", y="pass_rate", run="seed", min_points=1)


def _quantity_draws(fit: Fit, x_2x: float) -> dict[str, np.ndarray]:
    params = fit.parameter_draws()
    out = {name: value.to_numpy().ravel() for name, value in params.items()}
    log_x = xr.DataArray(np.log(x_2x))
    out[PREDICTED] = fit.law.curve({"x": log_x}, params).transpose(*SAMPLE_DIMS).to_numpy().ravel()
    return out


def _rank(draws: np.ndarray, value: float, n_rank_draws: int) -> int:
    thinned = draws[np.linspace(0, draws.size - 1, n_rank_draws).round().astype(int)]
    return int((thinned < value).sum())


def _wide(rows: list[dict[str, float]], n_datasets: int) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["dataset"] = np.repeat(np.arange(n_datasets), len(frame) // n_datasets)
    return frame.pivot(index="dataset", columns="name", values="value").rename_axis(columns=None)
