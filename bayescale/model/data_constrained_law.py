"""The data-constrained scaling law of Muennighoff et al. (2023): repeated tokens.

Effective data ``D' = U + U R*_D (1 - exp(-R_D / R*_D))`` with ``R_D = D / U - 1``
repetitions beyond the first epoch, and effective parameters ``N'`` likewise from
``U_N = min(N, N_opt(U))`` with ``R*_N``; then the Chinchilla law in ``N'`` and
``D'``. Fitting, prediction and allocation under a unique-token budget are in
:mod:`bayescale.analysis.data_constrained`.

Examples
--------
>>> from bayescale.model.laws import get_law
>>> get_law("data_constrained").inputs
('n', 'd', 'u')
"""

from __future__ import annotations

import numpy as np

from bayescale.data.curves import CurveData
from bayescale.model.law_priors import chinchilla_priors
from bayescale.model.laws import Law, chinchilla_derive, register_law
from bayescale.model.priors import Prior

MUENNIGHOFF: dict[str, float] = {
    "E": 1.87,
    "A": 521.0,
    "B": 1488.0,
    "alpha": 0.353,
    "beta": 0.353,
    "R_star_N": 5.309,
    "R_star_D": 15.387,
}
"""Muennighoff et al. (2023)'s published fit (their Chinchilla-law refit, then
``R*_N`` and ``R*_D``): a truth for simulations, not a prior."""


def _log_effective(ops, log_unique, log_total, r_star):
    """``log(U + U R* (1 - exp(-R / R*)))`` with ``R = total / unique - 1``."""
    repeats = ops.exp(log_total - log_unique) - 1.0
    return log_unique + ops.log(1.0 + r_star * (1.0 - ops.exp(-repeats / r_star)))


def _log_unique_parameters(ops, log_inputs, p):
    """``log U_N = min(log N, log N_opt(U))`` (``abs`` works on tensors and arrays)."""
    alpha, beta = p["alpha"], p["beta"]
    log_g = (ops.log(alpha * p["A"]) - ops.log(beta * p["B"])) / (alpha + beta)
    log_n_opt = log_g + beta / alpha * (log_g + log_inputs["u"])
    log_n = log_inputs["n"]
    return 0.5 * (log_n + log_n_opt - abs(log_n - log_n_opt))


def _mean(ops, log_inputs, p):
    log_d = _log_effective(ops, log_inputs["u"], log_inputs["d"], p["R_star_D"])
    log_un = _log_unique_parameters(ops, log_inputs, p)
    log_n = _log_effective(ops, log_un, log_inputs["n"], p["R_star_N"])
    n_term = ops.log(p["A"]) - p["alpha"] * log_n
    d_term = ops.log(p["B"]) - p["beta"] * log_d
    return ops.logaddexp(ops.log(p["E"]), ops.logaddexp(n_term, d_term))


def _derive(ops, s, log_ref):
    return {
        **chinchilla_derive(ops, s, log_ref),
        "R_star_N": s["R_star_N"],
        "R_star_D": s["R_star_D"],
    }


def _priors(data: CurveData) -> dict[str, Prior]:
    """The Chinchilla law's priors, and ``R*_N``, ``R*_D`` ~ LogNormal(log 10, 1):
    value lost after a few to ~70 repetitions (90% in 1.9 to 52)."""
    repeats = Prior("LogNormal", mu=float(np.log(10.0)), sigma=1.0)
    return {**chinchilla_priors(data), "R_star_N": repeats, "R_star_D": repeats}


DATA_CONSTRAINED = register_law(
    Law(
        name="data_constrained",
        formula=(
            "L(N, D, U) = E + A / N'^alpha + B / D'^beta; D' = U + U R*_D (1 - exp(-R_D / R*_D)), "
            "N' = U_N + U_N R*_N (1 - exp(-R_N / R*_N))"
        ),
        inputs=("n", "d", "u"),
        parameters=("E", "A", "B", "alpha", "beta", "R_star_N", "R_star_D"),
        positive=frozenset({"E", "A", "B", "alpha", "beta", "R_star_N", "R_star_D"}),
        response="log",
        bounded=False,
        mean=_mean,
        sampled=("E", "A_ref", "B_ref", "alpha", "beta", "R_star_N", "R_star_D"),
        derive=_derive,
        references=("n", "d"),
        adaptation="low_rank",
        direction="decreasing",
        default_priors=_priors,
        asymptote=lambda p: p["E"],
    )
)
"""Muennighoff et al.'s law (see the module docstring)."""
