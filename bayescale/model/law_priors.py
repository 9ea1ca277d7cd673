"""Default priors of the built-in laws' parameters (each law holds its own: ``Law.default_priors``).

Priors are weakly informative and on interpretable scales. Some are centred on
the data's own range (the midpoint ``C_mid`` near the observed compute, the start
value ``R0`` near the first observed pass rate); those centres are computed at fit
time, **per recipe** (each recipe's own rows, so recipes that start at different
levels or run at different compute are not pulled towards each other; a shared
parameter is centred on the pooled data), and stored with the fit. The noise parameters' defaults belong to each observation model
(``Likelihood.default_priors``), the run-to-run spreads' to
:func:`bayescale.model.priors.hierarchy_prior`. Override any of them with ``priors={...}`` in
:func:`bayescale.fit` or ``--prior NAME="Dist(...)"`` on the command line.

=================  ==========================================================  ==============================
parameter          default                                                     why
=================  ==========================================================  ==============================
sigmoid ``A``      ``Beta(2, 2)``                                              a rate in [0, 1], mild pull to the middle
sigmoid ``B``      ``LogNormal(log 1.5, 0.75)``                                ScaleRL reports 1.1-2.4
sigmoid ``C_mid``  ``LogNormal(mean log x, 2)``                                within a factor ~50 of the data
sigmoid ``R0``     ``Normal(first y, 0.15)``                                   the pass rate before training
``sigma_A``        ``Gamma(4, 200)``: mean 0.02, 90% in (0.007, 0.039)         seeds spread ~ +/-0.015 in A
``sigma_log_P``    ``Gamma(4, 20)`` (positive ``P``: run spread, log scale)     ~20% run-to-run spread
``sigma`` (noise)  ``HalfNormal(0.05)`` rates, ``HalfNormal(0.1)`` log losses    metric-scale noise
``nu``             ``Gamma(2, 0.1)``                                           Student-t degrees of freedom
``phi``            ``Uniform(-0.5, 0.99)``                                     AR(1) correlation of checkpoints
``residual_sd``    ``HalfNormal(0.05)`` rates, ``HalfNormal(0.1)`` log losses    drift model: total scatter around the curve
``drift_share``    ``Beta(2, 1)``: mean 2/3                                    drift model: drift's share of the scatter's variance
``drift_corr``     ``Beta(6, 1)``: median 0.89, 95% above 0.61                 drift model: drift's step-to-step correlation
``kappa``          ``LogNormal(log 300, 2)``                                   beta-binomial: worth ~6 to 15k prompts
=================  ==========================================================  ==============================

The sigmoid is sampled through ``R_first``, its value at each recipe's first
evaluation, with ``R0`` computed from it; ``R0``'s prior still applies (with
the Jacobian, ``Law.coordinates``), so the table above is the model. It is not
truncated to [0, 1]: a bound on a computed parameter would be a wall for the
sampler. Likewise the Chinchilla law's priors below are on ``E``, ``A_ref`` and
``B_ref`` while the sampler moves their sum and shares.

Reparametrised laws (see :class:`bayescale.model.laws.Law`) put their priors on terms
evaluated at the reference input ``X_ref`` (``N_ref``, ``D_ref``): the geometric
mean of the data's inputs. ``y`` below is the observed metric.

=======================================  ==========================================  ==========================================
parameter                                default                                     why
=======================================  ==========================================  ==========================================
saturating ``A``, ``B``                  as the sigmoid's                            the sigmoid's high-compute limit
saturating ``gap_ref`` = A - R(C_ref)    ``LogNormal(log 0.1, 1)``                   distance to the asymptote, 0.01-0.7
power ``alpha``                          ``LogNormal(log 0.1, 1)``                   Kaplan: 0.05-0.1 without E
power ``L_ref`` = L(X_ref)               ``LogNormal(mean log y, 1)``                the loss in the middle of the data
power_up ``a``                           ``LogNormal(log 0.5, 1)``                   Chinchilla approach 2: ~0.5
power_up ``Y_ref`` = Y(X_ref)            ``LogNormal(mean log y, 1)``                the value in the middle of the data
power_e, chinchilla ``E``                ``LogNormal(log(min y / 2), 1)``            below the smallest loss seen
power_e ``alpha``, chinchilla exponents  ``LogNormal(log 0.3, 1)``                   Chinchilla: 0.28-0.37 with E
power_e ``gap_ref`` = L(X_ref) - E       ``LogNormal(log(median y / 2), 1)``         reducible loss mid-data
chinchilla ``A_ref`` = A / N_ref^alpha   ``LogNormal(log(median y / 4), 1)``         each term a fraction of the loss
chinchilla ``B_ref`` = B / D_ref^beta    ``LogNormal(log(median y / 4), 1)``         each term a fraction of the loss
=======================================  ==========================================  ==========================================

The run-to-run spreads use zero-avoiding Gamma priors: with three seeds the
spread is barely identified, and a prior with mass at zero lets the sampler
fall into the funnel where all runs collapse onto the recipe (divergences).
Seeds of one recipe do differ (ScaleRL: A within +/-0.015 over three runs), so
the Gamma encodes that knowledge; override it when you know better.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from bayescale.data.curves import CurveData
from bayescale.model.priors import Prior

LawPriors = Callable[[CurveData], dict[str, Prior]]
Centre = float | tuple[float, ...]


def by_recipe(data: CurveData, statistic: Callable[[pd.DataFrame], float]) -> Centre:
    """``statistic`` of each recipe's rows: one float for one recipe, else a tuple.

    Data-centred priors are centred on each recipe's own data, so a recipe that
    starts higher or runs at other compute than the others is not pulled to them.
    """
    values = [float(statistic(rows)) for _, rows in data.frame.groupby("recipe", sort=False)]
    return values[0] if len(values) == 1 else tuple(values)


def first_value(rows: pd.DataFrame) -> float:
    """The smallest first value over the runs: the start of the curve, clipped to [0, 1].

    Each run's first evaluation before ``min_x`` excluded early rows (``y_start``,
    e.g. at step 0) when there is one: the paper sets R0 from it.
    """
    column = "y_start" if "y_start" in rows else "y"
    return float(np.clip(rows.groupby("run", sort=False)[column].first().min(), 0.0, 1.0))


def sigmoid_priors(data: CurveData) -> dict[str, Prior]:
    return {
        "A": Prior("Beta", alpha=2.0, beta=2.0),
        "B": Prior("LogNormal", mu=float(np.log(1.5)), sigma=0.75),
        "C_mid": Prior(
            "LogNormal", mu=by_recipe(data, lambda rows: np.log(rows["x"]).mean()), sigma=2.0
        ),
        "R0": Prior("Normal", mu=by_recipe(data, first_value), sigma=0.15),
    }


def saturating_priors(data: CurveData) -> dict[str, Prior]:
    sigmoid = sigmoid_priors(data)
    return {
        "A": sigmoid["A"],
        "B": sigmoid["B"],
        "gap_ref": Prior("LogNormal", mu=float(np.log(0.1)), sigma=1.0),
    }


def _log_loss(data: CurveData, statistic: str, fraction: float = 1.0) -> Centre:
    """``log(fraction * statistic(y))`` per recipe: a data-centred prior location for losses."""

    def value(rows: pd.DataFrame) -> float:
        y = rows["y"]
        stat = {"min": y.min(), "median": y.median(), "geomean": np.exp(np.log(y).mean())}
        return float(np.log(fraction * stat[statistic]))

    return by_recipe(data, value)


def power_priors(data: CurveData) -> dict[str, Prior]:
    return {
        "alpha": Prior("LogNormal", mu=float(np.log(0.1)), sigma=1.0),
        "L_ref": Prior("LogNormal", mu=_log_loss(data, "geomean"), sigma=1.0),
    }


def power_up_priors(data: CurveData) -> dict[str, Prior]:
    return {
        "a": Prior("LogNormal", mu=float(np.log(0.5)), sigma=1.0),
        "Y_ref": Prior("LogNormal", mu=_log_loss(data, "geomean"), sigma=1.0),
    }


def _irreducible_prior(data: CurveData) -> Prior:
    return Prior("LogNormal", mu=_log_loss(data, "min", 0.5), sigma=1.0)


def _exponent_prior() -> Prior:
    return Prior("LogNormal", mu=float(np.log(0.3)), sigma=1.0)


def power_e_priors(data: CurveData) -> dict[str, Prior]:
    return {
        "E": _irreducible_prior(data),
        "alpha": _exponent_prior(),
        "gap_ref": Prior("LogNormal", mu=_log_loss(data, "median", 0.5), sigma=1.0),
    }


def chinchilla_priors(data: CurveData) -> dict[str, Prior]:
    term = Prior("LogNormal", mu=_log_loss(data, "median", 0.25), sigma=1.0)
    return {
        "E": _irreducible_prior(data),
        "A_ref": term,
        "B_ref": term,
        "alpha": _exponent_prior(),
        "beta": _exponent_prior(),
    }
