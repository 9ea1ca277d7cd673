"""Is the law wrong? Misfit that a flexible noise model would otherwise hide.

A drift model (or a heavy-tailed one) can absorb a law that does not follow the
data: the residuals become "drift" and the fit looks clean. Two posterior
predictive checks look for structure that noise, as the fitted model has it,
does not make:

- **shared residuals**: seeds of one recipe drift independently, so at the same
  input their residuals (observation minus the run's own curve) average out. A
  law error is the same in every seed: the residuals agree. The statistic is
  the share of the residual sum of squares carried by the per-input mean over
  seeds (about ``1 / seeds`` for independent noise, near 1 for a law error),
  computed twice: on the residuals (a curve that lies below every seed, which a
  slow drift of each run would otherwise absorb) and on the residuals less
  each run's mean (a shape the law misses; a run's own level no longer counts);
- **residual runs and bends along the input** (one run per recipe, or one
  point per model): the lag-one autocorrelation of the residuals in input
  order, and the share of their variance that a line and a parabola in log
  input explain (a law without a floor bends away from data that level off).
  Noise correlated along a run (drift, AR(1)) is drawn as such in the
  replicates, so only structure beyond the model's own counts.

Each statistic is computed, for :data:`REPLICATES` pairs of posterior draws, on
the residuals of the data and of a data set drawn from the fitted model with the
pair's first draw (:func:`bayescale.inference.predictive_check.replicate`), both
against the curve of the pair's second draw: so the replicate's residuals carry
the posterior's own uncertainty about the curve's shape (which is common to all
seeds) as the data's do, and a well-fitted law is not flagged for it. The
check fails when the data's statistic exceeds the replicate's in all but a
share :data:`P_MIN` of pairs (Bonferroni over the statistics tried); measured
false-alarm and detection rates are in ``docs/warnings.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bayescale.inference.predictive_check import REPLICATES, replicate, run_positions
from bayescale.results.fit_result import Fit

P_MIN = 0.01
"""Posterior predictive p-value below which a check fails (each of the two)."""

MIN_POINTS = 5
"""Fewest points in a run (one-point-per-model table) for the residual-runs check."""


@dataclass(frozen=True)
class LawCheck:
    """Result of :func:`check_law_fit`.

    Attributes
    ----------
    statistic : {"shared", "shared shape", "lag", "trend"} or None
        The statistic with the smallest p-value (``None``: too few points for
        any check).
    observed, replicated : float
        The statistic's median on the data and on data drawn from the fitted
        model.
    p_value : float or None
        Share of pairs of posterior draws whose replicate's statistic is at least
        the data's, times the number of statistics tried (Bonferroni).
    passed : bool
    law : str
    """

    statistic: str | None
    observed: float
    replicated: float
    p_value: float | None
    passed: bool
    law: str

    def messages(self) -> list[str]:
        """The warning naming the law as the suspect (empty when the check passed)."""
        if self.passed:
            return []
        if self.statistic in ("shared", "shared shape"):
            what = (
                f"the seeds of a recipe share their residuals at the same input "
                f"({self.observed:.0%} of the residual variance is common to the seeds, "
                f"{self.replicated:.0%} in data drawn from the fitted model; p = "
                f"{self.p_value:.3f}): a misfit the noise model absorbed"
            )
        elif self.statistic == "trend":
            what = (
                f"the residuals bend along the input ({self.observed:.0%} of their variance "
                f"follows a line or parabola in log input, {self.replicated:.0%} in data "
                f"drawn from the fitted model; p = {self.p_value:.3f})"
            )
        else:
            what = (
                f"the residuals run in long stretches along the input (lag-one "
                f"autocorrelation {self.observed:.2f}, {self.replicated:.2f} in data drawn "
                f"from the fitted model; p = {self.p_value:.3f})"
            )
        return [
            f"law check: {what}; the law '{self.law}' is the suspect: it cannot follow "
            "the data's shape, so its parameters and extrapolations are biased. Compare "
            "laws (bayescale compare-laws) or fit another law; a more flexible noise "
            "model will not fix it"
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


def check_law_fit(fit: Fit, mu: np.ndarray, *, seed: int = 1) -> LawCheck:
    """Check ``fit``'s law against its data (shared residuals or residual runs).

    Parameters
    ----------
    fit : Fit
    mu : numpy.ndarray
        Each run's curve at its observations, ``(chain, draw, obs)``.
    seed : int
        Seed of the replicated data sets.

    Returns
    -------
    LawCheck
    """
    groups = _shared_groups(fit)
    every_run = run_positions(fit)
    runs = [rows for rows in every_run if len(rows) >= MIN_POINTS]
    if groups:
        statistics = {
            "shared": lambda r: _shared_share(r, groups),
            "shared shape": lambda r: _shared_share(_centred(r, every_run), groups),
        }
    elif runs and fit.law.inputs == ("x",):
        bases = _trend_bases(fit, runs)
        statistics = {
            "lag": lambda r: _lag_one(r, runs),
            "trend": lambda r: _trend_share(r, runs, bases),
        }
    else:
        return LawCheck(None, np.nan, np.nan, None, True, fit.law.name)
    rng = np.random.default_rng(seed)
    picks, drawn = replicate(fit, mu, rng, REPLICATES)
    flat = np.asarray(mu).reshape(-1, np.shape(mu)[-1])
    curve = flat[rng.permutation(picks) if len(picks) > 1 else picks]
    y = fit.data.frame["y"].to_numpy(float)
    observed = np.log(y) if fit.law.response == "log" else y
    results = []
    for name, statistic in statistics.items():
        t_obs = statistic(observed[None, :] - curve)
        t_rep = statistic(drawn - curve)
        p_value = min(1.0, len(statistics) * float(np.mean(t_rep >= t_obs)))
        results.append((p_value, name, float(np.median(t_obs)), float(np.median(t_rep))))
    p_value, name, t_obs, t_rep = min(results)
    return LawCheck(
        statistic=name,
        observed=t_obs,
        replicated=t_rep,
        p_value=p_value,
        passed=p_value >= P_MIN,
        law=fit.law.name,
    )


def _shared_groups(fit: Fit) -> list[np.ndarray]:
    """Positions of observations at the same input of one recipe, over >= 2 runs.

    Inputs are matched on a grid of log input (bins as wide as the median
    step between a run's evaluations), so seeds evaluated at slightly different
    compute still line up.
    """
    if fit.law.inputs != ("x",):
        return []
    frame = fit.data.frame.reset_index(drop=True)
    groups = []
    for _, rows in frame.groupby("recipe", sort=False):
        if rows["run"].nunique() < 2:
            continue
        log_x = np.log(rows["x"].to_numpy(float))
        steps = [
            np.median(np.diff(np.sort(np.log(part["x"].to_numpy(float)))))
            for _, part in rows.groupby("run", sort=False)
            if len(part) > 1
        ]
        width = float(np.median(steps)) if steps else 0.0
        key = np.round(log_x / width).astype(int) if width > 0 else log_x
        for _, members in rows.groupby(key, sort=False):
            if members["run"].nunique() >= 2:
                groups.append(members.index.to_numpy())
    return groups


def _centred(residual: np.ndarray, runs: list[np.ndarray]) -> np.ndarray:
    """Residuals minus their run's mean (per draw): a run's own level, which its
    offset or a slow drift explains, is not a shared shape."""
    out = residual.copy()
    for rows in runs:
        out[:, rows] -= residual[:, rows].mean(axis=1, keepdims=True)
    return out


def _shared_share(residual: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Per draw: the share of the grouped residuals' sum of squares in their group means."""
    common = np.zeros(residual.shape[0])
    total = np.zeros(residual.shape[0])
    for rows in groups:
        part = residual[:, rows]
        common += len(rows) * part.mean(axis=1) ** 2
        total += (part**2).sum(axis=1)
    return common / np.where(total > 0, total, np.inf)


def _trend_bases(fit: Fit, runs: list[np.ndarray]) -> list[np.ndarray]:
    """Per run: an orthonormal basis of a line and a parabola in the log input."""
    log_x = np.log(fit.data.frame["x"].to_numpy(float))
    bases = []
    for rows in runs:
        t = log_x[rows] - log_x[rows].mean()
        t = t / (np.abs(t).max() or 1.0)
        basis, _ = np.linalg.qr(np.column_stack([np.ones_like(t), t, t**2]))
        bases.append(basis[:, 1:])
    return bases


def _trend_share(
    residual: np.ndarray, runs: list[np.ndarray], bases: list[np.ndarray]
) -> np.ndarray:
    """Per draw: the share of the residuals' variance (about each run's mean) that a
    line and a parabola in the log input explain, pooled over runs."""
    explained = np.zeros(residual.shape[0])
    total = np.zeros(residual.shape[0])
    for rows, basis in zip(runs, bases, strict=True):
        part = residual[:, rows]
        part = part - part.mean(axis=1, keepdims=True)
        explained += ((part @ basis) ** 2).sum(axis=1)
        total += (part**2).sum(axis=1)
    return explained / np.where(total > 0, total, np.inf)


def _lag_one(residual: np.ndarray, runs: list[np.ndarray]) -> np.ndarray:
    """Per draw: lag-one autocorrelation of the residuals along each run, pooled."""
    products = np.zeros(residual.shape[0])
    squares = np.zeros(residual.shape[0])
    for rows in runs:
        part = residual[:, rows]
        part = part - part.mean(axis=1, keepdims=True)
        products += (part[:, 1:] * part[:, :-1]).sum(axis=1)
        squares += (part**2).sum(axis=1)
    return products / np.where(squares > 0, squares, np.inf)
