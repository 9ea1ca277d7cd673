"""Default priors, all in one place.

Priors are weakly informative and on interpretable scales. Some are centred on
the data's own range (the midpoint ``C_mid`` near the observed compute, the start
value ``R0`` near the first observed pass rate); those centres are computed at fit
time and stored with the fit. Override any of them with ``priors={...}`` in
:func:`bayescale.fit` or ``--prior NAME="Dist(...)"`` on the command line.

=================  ==========================================================  ==============================
parameter          default                                                     why
=================  ==========================================================  ==============================
sigmoid ``A``      ``Beta(2, 2)``                                              a rate in [0, 1], mild pull to the middle
sigmoid ``B``      ``LogNormal(log 1.5, 0.75)``                                ScaleRL reports 1.1-2.4
sigmoid ``C_mid``  ``LogNormal(mean log x, 2)``                                within a factor ~50 of the data
sigmoid ``R0``     ``TruncatedNormal(first y, 0.15, 0, 1)``                    the pass rate before training
``sigma_A``        ``HalfNormal(0.03)``                                        seeds spread ~ +/-0.015 in A
``sigma_log_P``    ``HalfNormal(0.2)`` (positive ``P``: run spread, log scale)  ~20% run-to-run spread
``sigma`` (noise)  ``HalfNormal(0.05)`` rates, ``HalfNormal(0.1)`` log losses    metric-scale noise
``nu``             ``Gamma(2, 0.1)``                                           Student-t degrees of freedom
``phi``            ``Uniform(-0.5, 0.99)``                                     AR(1) correlation of checkpoints
=================  ==========================================================  ==============================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bayescale.data import CurveData
from bayescale.laws import Law
from bayescale.priors import Prior

LawPriors = Callable[[CurveData], dict[str, Prior]]


def _sigmoid_priors(data: CurveData) -> dict[str, Prior]:
    log_x = np.log(data.frame["x"].to_numpy())
    first_y = data.frame.groupby("run", sort=False)["y"].first().to_numpy()
    return {
        "A": Prior("Beta", alpha=2.0, beta=2.0),
        "B": Prior("LogNormal", mu=float(np.log(1.5)), sigma=0.75),
        "C_mid": Prior("LogNormal", mu=float(log_x.mean()), sigma=2.0),
        "R0": Prior(
            "TruncatedNormal",
            mu=float(np.clip(first_y.min(), 0.0, 1.0)),
            sigma=0.15,
            lower=0.0,
            upper=1.0,
        ),
    }


LAW_PRIORS: dict[str, LawPriors] = {"sigmoid": _sigmoid_priors}
"""Law name -> function of the data giving the law parameters' priors."""


def noise_priors(likelihood: str, law: Law) -> dict[str, Prior]:
    """Default priors of an observation model's noise parameters."""
    sigma = Prior("HalfNormal", sigma=0.05 if law.response == "identity" else 0.1)
    extra = {
        "student_t": {"nu": Prior("Gamma", alpha=2.0, beta=0.1)},
        "ar1": {"phi": Prior("Uniform", lower=-0.5, upper=0.99)},
    }
    return {"sigma": sigma, **extra.get(likelihood, {})}


def hierarchy_prior_name(law: Law, parameter: str) -> str:
    """Name of the run-to-run spread of ``parameter`` (``sigma_A``, ``sigma_log_B``)."""
    return f"sigma_log_{parameter}" if parameter in law.positive else f"sigma_{parameter}"


def hierarchy_prior(law: Law, parameter: str) -> Prior:
    """Default prior on the run-to-run spread of ``parameter``."""
    if parameter in law.positive:
        return Prior("HalfNormal", sigma=0.2)
    return Prior("HalfNormal", sigma=0.03 if law.bounded else 0.1)


def law_priors(law: Law, data: CurveData) -> dict[str, Prior]:
    """Default priors of ``law``'s parameters for this data set."""
    try:
        return LAW_PRIORS[law.name](data)
    except KeyError:
        raise ValueError(f"no default priors registered for law {law.name!r}") from None
