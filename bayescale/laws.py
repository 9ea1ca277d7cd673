"""Scaling laws as plain math, written once.

Every law is a function of *log* inputs and of its parameters, evaluated through
an ``ops`` namespace so the same code runs on PyTensor tensors (inside the PyMC
model) and on NumPy arrays or xarray DataArrays of posterior draws (for
predictions). Nothing downstream re-derives a law.

Examples
--------
>>> import numpy as np
>>> from bayescale.laws import NUMPY_OPS, get_law
>>> law = get_law("sigmoid")
>>> params = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.3}
>>> round(float(law.mean(NUMPY_OPS, {"x": np.log(2542.0)}, params)), 3)
0.455
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import scipy.special

NUMPY_OPS = SimpleNamespace(
    exp=np.exp, log=np.log, expit=scipy.special.expit, logaddexp=np.logaddexp
)
"""Math operations for NumPy arrays and xarray DataArrays."""


def tensor_ops() -> SimpleNamespace:
    """Math operations for PyTensor tensors (imported lazily)."""
    import pytensor.tensor as pt

    return SimpleNamespace(exp=pt.exp, log=pt.log, expit=pt.sigmoid, logaddexp=pt.logaddexp)


MeanFunction = Callable[[SimpleNamespace, Mapping[str, Any], Mapping[str, Any]], Any]
InverseFunction = Callable[[Mapping[str, Any], Any], tuple[Any, Any]]


@dataclass(frozen=True)
class Law:
    """A mean curve and how it is fitted.

    Parameters
    ----------
    name : str
        Registry name (``"sigmoid"``, ...).
    formula : str
        Human-readable formula, shown in summaries and reports.
    inputs : tuple of str
        Roles of the input columns (``("x",)`` or ``("n", "d")``); the mean function
        receives the natural log of each.
    parameters : tuple of str
        Parameters that get priors, in the order they are reported.
    positive : frozenset of str
        Parameters that are strictly positive; run-level deviations of these act
        multiplicatively (on the log scale), the others additively.
    response : {"identity", "log"}
        The scale on which the likelihood compares data and curve. ``"log"`` laws
        are fitted to ``log(y)`` (losses); their ``mean`` returns ``log`` of the curve.
    bounded : bool
        Whether the metric is a rate in [0, 1] (pass rates).
    mean : callable
        ``mean(ops, log_inputs, params)`` on the response scale.
    inverse : callable or None
        ``inverse(params, target) -> (x, reachable)``: the input value at which the
        curve reaches ``target`` and a boolean mask of where it can (NumPy only).
    default_varying : tuple of str
        Parameters that vary by run by default when recipes have several runs.
    """

    name: str
    formula: str
    inputs: tuple[str, ...]
    parameters: tuple[str, ...]
    positive: frozenset[str]
    response: str
    bounded: bool
    mean: MeanFunction
    inverse: InverseFunction | None = None
    default_varying: tuple[str, ...] = ()

    def curve(self, log_inputs: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
        """Evaluate the curve on the metric's own scale with NumPy ops."""
        value = self.mean(NUMPY_OPS, log_inputs, params)
        return np.exp(value) if self.response == "log" else value


def _sigmoid_mean(ops, log_inputs, p):
    log_c_mid = ops.log(p["C_mid"])
    return p["R0"] + (p["A"] - p["R0"]) * ops.expit(p["B"] * (log_inputs["x"] - log_c_mid))


def _sigmoid_inverse(p, target):
    fraction = (target - p["R0"]) / (p["A"] - p["R0"])
    reachable = (fraction > 0) & (fraction < 1)
    safe = np.where(reachable, fraction, 0.5)
    x = p["C_mid"] * (1.0 / safe - 1.0) ** (-1.0 / p["B"])
    return np.where(reachable, x, np.nan), reachable


SIGMOID = Law(
    name="sigmoid",
    formula="R(C) = R0 + (A - R0) / (1 + (C_mid / C)^B)",
    inputs=("x",),
    parameters=("A", "B", "C_mid", "R0"),
    positive=frozenset({"B", "C_mid"}),
    response="identity",
    bounded=True,
    mean=_sigmoid_mean,
    inverse=_sigmoid_inverse,
    default_varying=("A",),
)

_LAWS: dict[str, Law] = {SIGMOID.name: SIGMOID}


def register_law(law: Law) -> Law:
    """Add a law to the registry (used by the modules that define laws)."""
    _LAWS[law.name] = law
    return law


def get_law(name: str) -> Law:
    """Return the registered law called ``name``.

    Raises
    ------
    ValueError
        If no law has that name; the message lists the known laws.
    """
    try:
        return _LAWS[name]
    except KeyError:
        known = ", ".join(sorted(_LAWS))
        raise ValueError(f"unknown law {name!r}; choose one of: {known}") from None


def available_laws() -> list[str]:
    """Names of the registered laws."""
    return sorted(_LAWS)
