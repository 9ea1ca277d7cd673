"""The ScaleRL sigmoid across model sizes: one law of compute ``x`` and size ``n``.

Larger models reach higher RL asymptotes (ScaleRL: 8B dense A = 0.61, 17Bx16 MoE
A = 0.71). Fitting each size on its own gives one A per size and nothing to say
about a size not trained; here the sigmoid's parameters are smooth functions of
the model size ``N`` (parameters, or any positive size measure):

    R(C, N)  = R0(N) + (A(N) - R0(N)) / (1 + (C_mid(N) / C)^B(N))
    A(N)     = A_max - k_A N^(-gamma)          (a ceiling approached as a power of N)
    B(N)     = B_0 N^b,   C_mid(N) = C_0 N^c   (log-linear in log N)
    R0(N)    = R0_0 + r log N                  (the start value, linear in log N)

Sampled at the reference size ``N_ref`` (the geometric mean of the data's sizes),
as the other reparametrised laws are (:class:`bayescale.model.laws.Law`): the
asymptote there ``A_ref = A(N_ref)``, its rise per e-fold of size
``slope_ref = dA/dlog N (N_ref) = gamma (A_max - A_ref)`` and the headroom as a
share of the room left below a pass rate of 1, ``gap_share = (A_max - A_ref) /
(1 - A_ref)`` in (0, 1), so that the ceiling ``A_max`` stays a rate (below 1) by
construction; ``B_ref = B(N_ref)``, ``C_mid_ref = C_mid(N_ref)``,
``R0_ref = R0(N_ref)``; the slopes ``b``, ``c``, ``r`` as they are. The data fix
``A_ref`` and ``slope_ref`` (the level and trend of the sizes' asymptotes) well and
the headroom only through the curvature; sampled as ``(A_max, gap, gamma)``
instead, the three lie on a curved ridge (measured on 5 sizes x 3 seeds: 15
divergences and bulk ESS 180 of 4000 draws).

The curve is linear in ``A_max``, so a run-level offset of ``A_max`` is an offset
of that run's asymptote: seeds nested in sizes are the existing run hierarchy
(``varying=("A_max",)``), and the default ``"drift"`` observation model integrates
those offsets out exactly (:mod:`bayescale.model.likelihoods.run_offsets`). There is no size-level
deviation from the smooth law: each size's ``A`` is ``A(N)`` plus its seeds'
spread, so the law's form carries the extrapolation to an unseen size.

Importing this module registers the law ``"sigmoid_sizes"`` and its default
priors.

Examples
--------
>>> import numpy as np
>>> from bayescale.model.size_law import SIGMOID_SIZES, size_parameters
>>> p = {"A_max": 0.78, "k_A": 395.0, "gamma": 0.34, "B_0": 1.9, "b": 0.0,
...      "C_0": 2542.0, "c": 0.0, "R0_0": 0.2, "r": 0.0}
>>> round(float(size_parameters(p, np.log(8e9))["A"]), 3)
0.61
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayescale.data.curves import CurveData
from bayescale.model.law_priors import by_recipe, first_value
from bayescale.model.laws import NUMPY_OPS, Law, register_law
from bayescale.model.priors import Prior

SIZE_PARAMETERS = ("A", "B", "C_mid", "R0")
"""The sigmoid's parameters, as functions of size (:func:`size_parameters`)."""


def _sizes(ops, p, log_n):
    return {
        "A": p["A_max"] - p["k_A"] * ops.exp(-p["gamma"] * log_n),
        "B": p["B_0"] * ops.exp(p["b"] * log_n),
        "C_mid": p["C_0"] * ops.exp(p["c"] * log_n),
        "R0": p["R0_0"] + p["r"] * log_n,
    }


def size_parameters(params: Mapping[str, Any], log_n: Any) -> dict[str, Any]:
    """The sigmoid's ``A``, ``B``, ``C_mid``, ``R0`` at log size ``log_n`` (NumPy/xarray).

    Parameters
    ----------
    params : mapping
        The law's reported parameters (numbers or posterior draws).
    log_n : array-like
        Natural log of the model size, broadcast against the draws.
    """
    return _sizes(NUMPY_OPS, params, log_n)


def _mean(ops, log_inputs, p):
    s = _sizes(ops, p, log_inputs["n"])
    rise = ops.expit(s["B"] * (log_inputs["x"] - ops.log(s["C_mid"])))
    return s["R0"] + (s["A"] - s["R0"]) * rise


def _derive(ops, s, log_ref):
    ref = log_ref["n"]
    gap = s["gap_share"] * (1.0 - s["A_ref"])
    gamma = s["slope_ref"] / gap
    return {
        "A_max": s["A_ref"] + gap,
        "k_A": gap * ops.exp(gamma * ref),
        "gamma": gamma,
        "B_0": s["B_ref"] * ops.exp(-s["b"] * ref),
        "b": s["b"],
        "C_0": s["C_mid_ref"] * ops.exp(-s["c"] * ref),
        "c": s["c"],
        "R0_0": s["R0_ref"] - s["r"] * ref,
        "r": s["r"],
    }


def _size_priors(data: CurveData) -> dict[str, Prior]:
    """Default priors: the sigmoid's at the reference size, weak slopes.

    ``A_ref`` ~ Beta(2, 2) as the sigmoid's ``A``; ``gap_share`` ~ Beta(1.5, 3): the
    ceiling takes 5-70% of the room between ``A_ref`` and 1 (90%); ``slope_ref`` ~
    LogNormal(log 0.03, 1): A rises 0.006-0.15 per e-fold of size (ScaleRL's 8B
    and 17Bx16 MoE: ~0.04); slopes per e-fold of size: ``b``, ``c`` ~ Normal(0, 0.5),
    ``r`` ~ Normal(0, 0.05).
    """
    return {
        "A_ref": Prior("Beta", alpha=2.0, beta=2.0),
        "gap_share": Prior("Beta", alpha=1.5, beta=3.0),
        "slope_ref": Prior("LogNormal", mu=float(np.log(0.03)), sigma=1.0),
        "B_ref": Prior("LogNormal", mu=float(np.log(1.5)), sigma=0.75),
        "b": Prior("Normal", mu=0.0, sigma=0.5),
        "C_mid_ref": Prior(
            "LogNormal", mu=by_recipe(data, lambda rows: np.log(rows["x"]).mean()), sigma=2.0
        ),
        "c": Prior("Normal", mu=0.0, sigma=0.5),
        "R0_ref": Prior(
            "TruncatedNormal", mu=by_recipe(data, first_value), sigma=0.15, lower=0.0, upper=1.0
        ),
        "r": Prior("Normal", mu=0.0, sigma=0.05),
    }


SIGMOID_SIZES = register_law(
    Law(
        name="sigmoid_sizes",
        formula=(
            "R(C, N) = R0(N) + (A(N) - R0(N)) / (1 + (C_mid(N) / C)^B(N)); "
            "A(N) = A_max - k_A N^-gamma, B(N) = B_0 N^b, C_mid(N) = C_0 N^c, R0(N) = R0_0 + r log N"
        ),
        inputs=("x", "n"),
        parameters=("A_max", "k_A", "gamma", "B_0", "b", "C_0", "c", "R0_0", "r"),
        positive=frozenset({"k_A", "gamma", "B_0", "C_0", "slope_ref", "B_ref", "C_mid_ref"}),
        response="identity",
        bounded=True,
        mean=_mean,
        default_varying=("A_max",),
        linear=frozenset({"A_max"}),
        sampled=("A_ref", "gap_share", "slope_ref", "B_ref", "b", "C_mid_ref", "c", "R0_ref", "r"),
        derive=_derive,
        references=("n",),
        adaptation="low_rank",
        direction="increasing",
        ranges={"A_ref": (0.0, 1.0), "gap_share": (0.0, 1.0), "A_max": (0.0, 1.0)},
        default_priors=_size_priors,
    )
)
"""The sigmoid with parameters smooth in model size (see the module docstring)."""
