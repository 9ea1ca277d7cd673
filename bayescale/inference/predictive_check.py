"""Posterior predictive check of a fit: do the data look like draws from the model?

Two numbers, both recorded in the fit's diagnostics:

- the share of observations outside their own ``PPC_MASS`` posterior predictive
  interval (each observation's run's curve plus the observation model's noise).
  About ``1 - PPC_MASS`` is expected; far more means outlying points or a noise
  model that is too narrow (a Normal fit to losses with outlying runs);
- the Pareto shape ``k`` of PSIS-LOO for every observation: ``k > 0.7`` marks an
  observation the posterior depends on so strongly that leaving it out changes the
  fit (typically an outlier the model cannot absorb).

A failed check is a warning: intervals computed from such a fit are not to be
trusted as computed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bayescale.results.fit_result import Fit
from bayescale.results.intervals import eti

PPC_MASS = 0.95
"""Mass of each observation's predictive interval."""

PARETO_K_MAX = 0.7
"""Pareto k above this marks an observation whose LOO estimate is unreliable."""


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
        Their share, and the largest share not flagged (``1 - mass`` plus three
        binomial standard errors).
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

    def messages(self) -> list[str]:
        """Plain-language warnings (empty when the check passed)."""
        out = []
        advice = (
            "check them (a Student-t fit already down-weights outliers)"
            if self.likelihood == "student_t"
            else "check them or try likelihood='student_t'"
        )
        if self.share_outside > self.max_share:
            rows = ", ".join(str(r) for r in self.outside_rows)
            out.append(
                f"posterior predictive check: {self.n_outside} of {self.n_obs} observations "
                f"({self.share_outside:.0%}) lie outside their {self.mass:.0%} predictive "
                f"interval (expected about {1 - self.mass:.0%}; worst source rows {rows}): "
                f"outliers or a too-narrow noise model; {advice}"
            )
        if self.n_bad_pareto_k:
            out.append(
                f"posterior predictive check: {self.n_bad_pareto_k} of {self.n_obs} observations "
                f"have PSIS-LOO Pareto k > {PARETO_K_MAX} (max {self.max_pareto_k:.2f}): the fit "
                "hinges on them (outliers the noise model cannot absorb, or few points per "
                f"parameter); {advice}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


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
    expected = 1 - mass
    max_share = expected + 3 * math.sqrt(expected * mass / n_obs)
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
