"""Binomial and beta-binomial observation models for pass rates on ``trials`` prompts.

A pass rate measured on a known number of evaluation outcomes has binomial noise
of known size. Both models work on **counts**: ``counts = round(y * trials)``.

What to give as ``trials``
--------------------------
Pass rates in RL papers are mean@k: ``k`` generations on each of ``n`` prompts.
Give ``trials = n * k`` (the number of graded generations); then ``y * trials`` is
the whole number of correct generations and nothing is rounded. If you give only
``trials = n`` (the prompts), ``y * n`` is not a whole number; it is rounded, which
moves ``y`` by at most ``0.5 / n``, far below the noise ``sqrt(y (1 - y) / n)``.

- ``"binomial"``: every graded outcome independent with the curve's probability.
  Exact for one sample per prompt (``k = 1``) on prompts of equal difficulty. With
  ``k > 1`` generations of prompts of unequal difficulty it is too confident when
  ``trials = n * k`` and too cautious when ``trials = n``.
- ``"beta_binomial"``: each evaluation's success probability scatters around the
  curve as ``Beta(mu * kappa, (1 - mu) * kappa)``; the concentration ``kappa`` is
  estimated. The variance of the pass rate is
  ``mu (1 - mu) / trials * (1 + (trials - 1) / (kappa + 1))``: the binomial floor
  times an estimated inflation, the mean-variance shape of mean@k on prompts of
  unequal difficulty. ``kappa + 1`` reads as the number of independent prompts the
  evaluation is worth.

Both treat evaluations as independent given the curve. Consecutive checkpoints of
one run evaluated on the same prompts drift together; for curves use ``"drift"``
(the ``"auto"`` default for pass rates), and use these models for evaluations that are
independent (one final evaluation per run, or checkpoints far apart).

The curve's mean is clipped into ``[1e-6, 1 - 1e-6]``. The sigmoid with ``A`` and
``R0`` in ``[0, 1]`` never leaves ``[0, 1]``; a law that does (the saturating power
law far below its data) gets a flat likelihood there.

Examples
--------
>>> import numpy as np
>>> from bayescale.model.likelihoods.registry import get_likelihood
>>> beta_binomial = get_likelihood("beta_binomial")
>>> ll = beta_binomial.log_likelihood(
...     np.array([0.5]), np.array([[0.5]]), {"kappa": np.array([[1e9]])},
...     {"trials": np.array([100])})
>>> round(float(ll[0, 0]), 3)  # the binomial limit: log C(100, 50) / 2^100
-2.531
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayescale.model.likelihoods.registry import Likelihood, no_arrays, register_likelihood
from bayescale.model.priors import Prior

EPS = 1e-6
"""The curve's mean is clipped into ``[EPS, 1 - EPS]`` for count likelihoods."""


def counts(y: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """``round(y * trials)``: the number of successes per evaluation (NumPy)."""
    return np.rint(y * trials).astype("int64")


def _tensor_counts(observed, data_vars):
    """The counts inside the model, from the ``y`` and ``trials`` containers (so
    swapping data into a compiled model swaps the counts too)."""
    import pytensor.tensor as pt

    return pt.round(observed * data_vars["trials"]).astype("int64")


def _clip(mu):
    return np.clip(mu, EPS, 1.0 - EPS)


def _trials_or_fail(trials) -> int:
    if trials is None:
        raise ValueError("binomial observation models need trials to draw new observations")
    return round(float(trials))


def _add_binomial(mu, observed, data_vars, params) -> None:
    import pymc as pm
    import pytensor.tensor as pt

    p = pt.clip(mu, EPS, 1.0 - EPS)
    pm.Binomial("obs", n=data_vars["trials"], p=p, observed=_tensor_counts(observed, data_vars))


def _draw_binomial(mu, params, rng, trials):
    n = _trials_or_fail(trials)
    draws = rng.binomial(n, _clip(mu.to_numpy()))
    return xr.DataArray(draws / n, dims=mu.dims, coords=mu.coords)


def _log_binomial(y, mu, params, arrays):
    import scipy.stats

    return scipy.stats.binom.logpmf(counts(y, arrays["trials"]), arrays["trials"], _clip(mu))


BINOMIAL = register_likelihood(
    Likelihood(
        name="binomial",
        parameters=(),
        needs_trials=True,
        arrays=no_arrays,
        add=_add_binomial,
        draw=_draw_binomial,
        log_likelihood=_log_binomial,
        default_priors=lambda law: {},
    )
)


def _add_beta_binomial(mu, observed, data_vars, params) -> None:
    import pymc as pm
    import pytensor.tensor as pt

    p, kappa = pt.clip(mu, EPS, 1.0 - EPS), params["kappa"]
    pm.BetaBinomial(
        "obs",
        n=data_vars["trials"],
        alpha=p * kappa,
        beta=(1.0 - p) * kappa,
        observed=_tensor_counts(observed, data_vars),
    )


def _draw_beta_binomial(mu, params, rng, trials):
    n = _trials_or_fail(trials)
    p = _clip(mu.to_numpy())
    kappa = params["kappa"].broadcast_like(mu).to_numpy()
    success = rng.beta(p * kappa, (1.0 - p) * kappa)
    return xr.DataArray(rng.binomial(n, success) / n, dims=mu.dims, coords=mu.coords)


def _log_beta_binomial(y, mu, params, arrays):
    import scipy.stats

    p, kappa = _clip(mu), params["kappa"]
    n = arrays["trials"]
    return scipy.stats.betabinom.logpmf(counts(y, n), n, p * kappa, (1.0 - p) * kappa)


def _beta_binomial_priors(law) -> dict[str, Prior]:
    return {"kappa": Prior("LogNormal", mu=float(np.log(300.0)), sigma=2.0)}


BETA_BINOMIAL = register_likelihood(
    Likelihood(
        name="beta_binomial",
        parameters=("kappa",),
        needs_trials=True,
        arrays=no_arrays,
        add=_add_beta_binomial,
        draw=_draw_beta_binomial,
        log_likelihood=_log_beta_binomial,
        default_priors=_beta_binomial_priors,
    )
)
