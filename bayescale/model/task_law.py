"""Task accuracy as a function of loss: a sigmoid bounded by chance and a ceiling.

The second step of the two-step task law (OLMo ladder, Bhagia et al. 2024;
Llama 3's ARC prediction): a model's benchmark accuracy against its loss,

    acc(L) = chance + (ceiling - chance) / (1 + exp(k (L - L_mid)))

with ``chance`` the accuracy of guessing (0.25 for four choices), ``ceiling`` the
accuracy as the loss falls without bound, ``L_mid`` the loss half way up and
``k > 0`` the steepness per unit of loss. The law is sampled as
``(chance, headroom, L_mid, k)`` with ``ceiling = chance + (1 - chance) headroom``
and ``chance``, ``headroom`` in [0, 1], so every curve lies in [chance, ceiling]
inside [0, 1] by construction (the parametrisation, not a clip). Its input ``x``
is the loss (fitted on log loss internally, as every law's inputs are).

"Emergent" jumps are smooth here: a steep ``k`` with ``L_mid`` below the losses of
small models looks like a jump against compute (Schaeffer et al. 2023).

Default priors (data-centred on the fitted table, per recipe):

==============  ==========================================  ==================================
parameter       default                                     why
==============  ==========================================  ==================================
``chance``      ``TruncatedNormal(min acc, 0.1, 0, 1)``     at or below the worst model seen
``headroom``    ``Beta(2, 2)``                              ceiling anywhere above chance
``L_mid``       ``LogNormal(mean log loss, 0.5)``           within a factor ~1.6 of the data's losses
``k``           ``LogNormal(log(4 / loss span), 1.5)``      the rise spans ~ the data's losses
==============  ==========================================  ==================================

``"task_compute"`` is the same bounded sigmoid against log-compute, for tables
without losses (the direct law): ``acc(C) = chance + (ceiling - chance) /
(1 + (C_mid / C)^B)``, sampled as ``(chance, headroom, B, C_mid)``; ``B`` gets
``LogNormal(log(4 / span of log C), 1)`` and ``C_mid`` ``LogNormal(mean log C, 2.5)``.

Give the chance level when it is known with :func:`chance_prior` (a
``TruncatedNormal`` of width 0.002 around it).

Examples
--------
>>> import numpy as np
>>> from bayescale.model.laws import get_law
>>> law = get_law("task_sigmoid")
>>> p = {"chance": 0.25, "ceiling": 0.85, "L_mid": 3.0, "k": 4.0}
>>> round(float(law.curve({"x": np.log(3.0)}, p)), 3)
0.55
"""

from __future__ import annotations

import numpy as np

from bayescale.data.curves import CurveData
from bayescale.model.law_priors import by_recipe
from bayescale.model.laws import Law, register_law
from bayescale.model.priors import Prior

CHANCE_WIDTH = 0.002
"""Prior sd of a chance level that is given (effectively fixed)."""


def chance_prior(chance: float) -> Prior:
    """The prior of a known chance level (e.g. 0.25 for four-choice questions).

    Raises
    ------
    ValueError
        If ``chance`` is not in [0, 1).
    """
    if not 0.0 <= chance < 1.0:
        raise ValueError(f"chance level must lie in [0, 1), got {chance}")
    return Prior("TruncatedNormal", mu=float(chance), sigma=CHANCE_WIDTH, lower=0.0, upper=1.0)


def _task_mean(ops, log_inputs, p):
    loss = ops.exp(log_inputs["x"])
    return p["chance"] + (p["ceiling"] - p["chance"]) * ops.expit(p["k"] * (p["L_mid"] - loss))


def _task_derive(ops, s, log_ref):
    ceiling = s["chance"] + (1.0 - s["chance"]) * s["headroom"]
    return {"chance": s["chance"], "ceiling": ceiling, "L_mid": s["L_mid"], "k": s["k"]}


def task_inverse(p, target):
    """The loss at which accuracy reaches ``target`` and where it can (chance < target < ceiling)."""
    safe, reachable = _fraction(p, target)
    loss = p["L_mid"] - np.log(safe / (1.0 - safe)) / p["k"]
    reachable = reachable & (loss > 0)
    return np.where(reachable, loss, np.nan), reachable


def _fraction(p, target):
    """Share of the way from chance to the ceiling, and where it lies strictly inside."""
    fraction = (target - p["chance"]) / (p["ceiling"] - p["chance"])
    reachable = (fraction > 0) & (fraction < 1)
    return np.where(reachable, fraction, 0.5), reachable


def _compute_mean(ops, log_inputs, p):
    rise = ops.expit(p["B"] * (log_inputs["x"] - ops.log(p["C_mid"])))
    return p["chance"] + (p["ceiling"] - p["chance"]) * rise


def _compute_derive(ops, s, log_ref):
    ceiling = s["chance"] + (1.0 - s["chance"]) * s["headroom"]
    return {"chance": s["chance"], "ceiling": ceiling, "B": s["B"], "C_mid": s["C_mid"]}


def _compute_inverse(p, target):
    safe, reachable = _fraction(p, target)
    compute = p["C_mid"] * (safe / (1.0 - safe)) ** (1.0 / p["B"])
    return np.where(reachable, compute, np.nan), reachable


def _bounds_priors(data: CurveData) -> dict[str, Prior]:
    return {
        "chance": Prior(
            "TruncatedNormal",
            mu=by_recipe(data, lambda rows: float(np.clip(rows["y"].min(), 0.0, 1.0))),
            sigma=0.1,
            lower=0.0,
            upper=1.0,
        ),
        "headroom": Prior("Beta", alpha=2.0, beta=2.0),
    }


def task_compute_priors(data: CurveData) -> dict[str, Prior]:
    """Default priors of the direct law (module docstring)."""
    return {
        **_bounds_priors(data),
        "B": Prior(
            "LogNormal",
            mu=by_recipe(data, lambda r: np.log(4.0 / max(np.ptp(np.log(r["x"])), 1e-3))),
            sigma=1.0,
        ),
        "C_mid": Prior("LogNormal", mu=by_recipe(data, lambda r: np.log(r["x"]).mean()), sigma=2.5),
    }


def task_priors(data: CurveData) -> dict[str, Prior]:
    """Default priors of the sampled parameters (table in the module docstring)."""
    return {
        **_bounds_priors(data),
        "L_mid": Prior("LogNormal", mu=by_recipe(data, lambda r: np.log(r["x"]).mean()), sigma=0.5),
        "k": Prior(
            "LogNormal",
            mu=by_recipe(data, lambda r: np.log(4.0 / max(np.ptp(r["x"]), 1e-3))),
            sigma=1.5,
        ),
    }


TASK_SIGMOID = register_law(
    Law(
        name="task_sigmoid",
        formula="acc(L) = chance + (ceiling - chance) / (1 + exp(k (L - L_mid)))",
        inputs=("x",),
        parameters=("chance", "ceiling", "L_mid", "k"),
        positive=frozenset({"L_mid", "k"}),
        response="identity",
        bounded=True,
        mean=_task_mean,
        inverse=task_inverse,
        sampled=("chance", "headroom", "L_mid", "k"),
        derive=_task_derive,
        adaptation="low_rank",
        direction="decreasing",
        ranges={"chance": (0.0, 1.0), "ceiling": (0.0, 1.0)},
        default_priors=task_priors,
        asymptote=lambda p: p["ceiling"],
    )
)
"""The bounded sigmoid of accuracy against loss; registered as ``"task_sigmoid"``."""

TASK_COMPUTE = register_law(
    Law(
        name="task_compute",
        formula="acc(C) = chance + (ceiling - chance) / (1 + (C_mid / C)^B)",
        inputs=("x",),
        parameters=("chance", "ceiling", "B", "C_mid"),
        positive=frozenset({"B", "C_mid"}),
        response="identity",
        bounded=True,
        mean=_compute_mean,
        inverse=_compute_inverse,
        sampled=("chance", "headroom", "B", "C_mid"),
        derive=_compute_derive,
        adaptation="low_rank",
        direction="increasing",
        ranges={"chance": (0.0, 1.0), "ceiling": (0.0, 1.0)},
        default_priors=task_compute_priors,
        asymptote=lambda p: p["ceiling"],
        midpoint="C_mid",
    )
)
"""The bounded sigmoid of accuracy against log-compute (the direct law); ``"task_compute"``."""
