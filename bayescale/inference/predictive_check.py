"""Posterior predictive check of a fit: do the data look like draws from the model?

Two numbers, both recorded in the fit's diagnostics:

- the share of observations outside their own ``PPC_MASS`` posterior predictive
  interval (each observation's run's curve plus the observation model's noise).
  About ``1 - PPC_MASS`` is expected; far more means outlying points or a noise
  model that is too narrow (a Normal fit to losses with outlying runs). The
  check fails only when the share exceeds what data drawn from the fitted
  model itself give in all but :data:`FALSE_ALARM` of draws (``max_share``):
  :data:`REPLICATES` replicated data sets, each from one posterior draw, with
  the noise correlated along a run as the model has it (drift, AR(1)), so a
  drifting run that leaves several neighbouring points outside is not taken
  for a misfit;
- the Pareto shape ``k`` of PSIS-LOO for every observation: ``k > 0.7`` marks an
  observation the posterior depends on strongly (leaving it out moves the fit),
  so LOO is unreliable there. With few points per parameter (one point per
  model, a handful of sizes) that is expected and says nothing about the fit
  being wrong; it is a note, not a failure.

A failed check is a warning naming the reason: intervals computed from such a
fit are not to be trusted as computed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bayescale.results.fit_result import Fit
from bayescale.results.intervals import eti

PPC_MASS = 0.95
"""Mass of each observation's predictive interval."""

PARETO_K_MAX = 0.7
"""Pareto k above this marks an observation whose LOO estimate is unreliable."""

REPLICATES = 400
"""Data sets drawn from the fitted model to calibrate the outside share."""

FALSE_ALARM = 0.01
"""Share of data sets drawn from the fitted model itself that the check fails."""


@dataclass(frozen=True)
class PredictiveCheck:
    """Result of :func:`predictive_check`.

    Attributes
    ----------
    mass : float
        Mass of each observation's predictive interval.
    n_obs, n_outside : int
        Observations, and those outside their interval.
    share_outside, max_share : float
        Their share, and the largest share not flagged: the ``1 - FALSE_ALARM``
        quantile of the share in data sets drawn from the fitted model (and at
        least ``1 - mass``).
    n_bad_pareto_k : int or None
        Observations with Pareto ``k > PARETO_K_MAX`` (``None``: no LOO for this
        observation model, or too few draws to estimate the tails).
    max_pareto_k : float or None
    outside_rows : list of int
        Source rows (``fit.data.frame["row"]``) of the worst outside observations
        (up to 5).
    passed : bool
    likelihood : str
        The fit's observation model (the advice differs for Student-t fits).
    """

    mass: float
    n_obs: int
    n_outside: int
    share_outside: float
    max_share: float
    n_bad_pareto_k: int | None
    max_pareto_k: float | None
    outside_rows: list[int]
    passed: bool
    likelihood: str = ""

    @property
    def reason(self) -> str:
        """Why the check failed, in a few words (empty when it passed)."""
        if self.share_outside <= self.max_share:
            return ""
        return (
            f"{self.n_outside} of {self.n_obs} observations ({self.share_outside:.1%}) lie "
            f"outside their {self.mass:.0%} predictive interval, more than data drawn from "
            f"the fitted model give ({self.max_share:.1%} at most in "
            f"{1 - FALSE_ALARM:.0%} of draws)"
        )

    def messages(self) -> list[str]:
        """Plain-language warnings (empty when the check passed)."""
        if not self.reason:
            return []
        advice = (
            "a Student-t fit already down-weights outliers, so look at those rows "
            "(a wrong law or a change of regime) or narrow the window (--min-x/--max-x)"
            if self.likelihood == "student_t"
            else "look at those rows, or refit with --likelihood student_t (robust to "
            "outlying points)"
        )
        rows = ", ".join(str(r) for r in self.outside_rows)
        return [
            f"posterior predictive check: {self.reason}; worst source rows {rows}: outliers "
            f"or a too-narrow noise model; {advice}"
        ]

    def notes(self) -> list[str]:
        """What the check found that is not a failure (observations with high Pareto k)."""
        if not self.n_bad_pareto_k:
            return []
        return [
            f"{self.n_bad_pareto_k} of {self.n_obs} observations have PSIS-LOO Pareto k > "
            f"{PARETO_K_MAX} (max {self.max_pareto_k:.2f}): the fit leans on them, so LOO "
            "estimates are unreliable there; expected with few points per parameter (e.g. one "
            "point per model), and not a misfit unless they also lie outside their "
            "predictive intervals"
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (with ``reason``, empty when the check passed)."""
        return {**asdict(self), "reason": self.reason}


def predictive_check(fit: Fit, *, mass: float = PPC_MASS, seed: int = 0) -> PredictiveCheck:
    """Check the fitted data against the posterior predictive distribution.

    Parameters
    ----------
    fit : Fit
    mass : float
        Mass of each observation's predictive interval.
    seed : int
        Seed of the predictive draws.

    Returns
    -------
    PredictiveCheck
    """
    from bayescale.results.pointwise import curve_at_observations

    rng = np.random.default_rng(seed)
    mu = curve_at_observations(fit)
    with np.errstate(over="ignore", invalid="ignore"):
        drawn = fit.likelihood.draw(mu, fit.noise_draws(), rng, fit.trial_count())
    frame = fit.data.frame
    y = frame["y"].to_numpy(float)
    observed = np.log(y) if fit.law.response == "log" else y
    lower, upper = eti(drawn, mass)
    outside = (observed < lower) | (observed > upper)
    width = np.where(upper > lower, upper - lower, np.inf)
    distance = np.maximum(lower - observed, observed - upper) / width
    worst = np.argsort(-np.where(outside, distance, -np.inf))[: min(5, int(outside.sum()))]
    n_obs = len(y)
    replicated = _replicated_shares(fit, mu, lower, upper, rng)
    max_share = max(1 - mass, float(np.quantile(replicated, 1 - FALSE_ALARM)))
    n_bad, max_k = _pareto_k(fit)
    share = float(outside.mean())
    check = PredictiveCheck(
        mass=mass,
        n_obs=n_obs,
        n_outside=int(outside.sum()),
        share_outside=share,
        max_share=float(max_share),
        n_bad_pareto_k=n_bad,
        max_pareto_k=max_k,
        outside_rows=[int(frame["row"].iloc[i]) for i in worst],
        passed=True,
        likelihood=fit.spec.likelihood,
    )
    return PredictiveCheck(**{**asdict(check), "passed": not check.messages()})


def _replicated_shares(
    fit: Fit, mu, lower: np.ndarray, upper: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Share outside ``[lower, upper]`` in data sets drawn from the fitted model."""
    _, drawn = replicate(fit, np.asarray(mu), rng)
    return ((drawn < lower) | (drawn > upper)).mean(axis=1)


def replicate(
    fit: Fit, mu: np.ndarray, rng: np.random.Generator, size: int = REPLICATES
) -> tuple[np.ndarray, np.ndarray]:
    """Data sets drawn from the fitted model, each from one posterior draw.

    Observation models with a simulator form (``Likelihood.simulation_noise``:
    drift, AR(1), Normal) draw the noise correlated along each run (in input
    order), the others independently (``Likelihood.draw``), as they model it.

    Parameters
    ----------
    fit : Fit
    mu : numpy.ndarray
        Each run's curve at its observations, ``(chain, draw, obs)``
        (:func:`bayescale.results.pointwise.curve_at_observations`).
    rng : numpy.random.Generator
    size : int
        Number of data sets (at most the number of posterior draws).

    Returns
    -------
    picks : numpy.ndarray
        The posterior draws used (flat indices into chain x draw).
    drawn : numpy.ndarray
        ``(size, obs)`` replicated observations on the response scale.
    """
    flat = np.asarray(mu).reshape(-1, np.shape(mu)[-1])
    noise = {name: np.asarray(v).ravel() for name, v in fit.noise_draws().items()}
    picks = rng.choice(flat.shape[0], size=min(size, flat.shape[0]), replace=False)
    simulated = fit.likelihood.simulation_noise
    if simulated is None:
        import xarray as xr

        chosen = xr.DataArray(flat[picks], dims=("sample", "obs"))
        params = {k: xr.DataArray(v[picks], dims="sample") for k, v in noise.items()}
        with np.errstate(over="ignore", invalid="ignore"):
            drawn = np.asarray(fit.likelihood.draw(chosen, params, rng, fit.trial_count()))
        return picks, drawn
    forms = [simulated({k: float(v[pick]) for k, v in noise.items()}) for pick in picks]
    values = {
        key: np.array([form[key] for form in forms]) for key in ("drift_sd", "drift_corr", "sd")
    }
    return picks, flat[picks] + _correlated_noise(values, run_positions(fit), rng)


def run_positions(fit: Fit) -> list[np.ndarray]:
    """Each run's observation positions (in ``fit.data.frame`` order), sorted by input."""
    frame = fit.data.frame.reset_index(drop=True)
    inputs = list(fit.law.inputs)
    return [
        rows.sort_values(inputs).index.to_numpy() for _, rows in frame.groupby("run", sort=False)
    ]


def _correlated_noise(
    values: dict[str, np.ndarray], runs: list[np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Stationary AR(1) drift plus white noise along each run, one row per replicate
    (the simulator's form; each parameter an array over replicates)."""
    corr, drift_sd, sd = values["drift_corr"], values["drift_sd"], values["sd"]
    innovation = drift_sd * np.sqrt(np.clip(1.0 - corr**2, 0.0, None))
    out = np.empty((len(corr), sum(len(rows) for rows in runs)))
    for rows in runs:
        drift = drift_sd * rng.standard_normal(len(corr))
        for t, row in enumerate(rows):
            if t:
                drift = corr * drift + innovation * rng.standard_normal(len(corr))
            out[:, row] = drift + sd * rng.standard_normal(len(corr))
    return out


def _pareto_k(fit: Fit) -> tuple[int | None, float | None]:
    import warnings

    import arviz_stats as azs

    from bayescale.results.pointwise import VAR_NAME, with_log_likelihood

    if fit.likelihood.log_likelihood is None:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loo = azs.loo(with_log_likelihood(fit), pointwise=True, var_name=VAR_NAME)
        except ValueError:  # too few draws to fit the Pareto tails (e.g. draws=10)
            return None, None
    k = np.asarray(loo.pareto_k).ravel()
    return int((k > PARETO_K_MAX).sum()), float(np.nanmax(k))
