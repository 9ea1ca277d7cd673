"""Prior specifications: a distribution name plus numeric parameters.

A :class:`Prior` is plain data (serialisable to JSON, parseable from the command
line). Inside the PyMC model every numeric argument becomes a data container, so
a compiled model is reused when only prior values change (only the distribution
family is part of the model's structure).

Examples
--------
>>> from bayescale.model.priors import Prior, parse_prior
>>> Prior("Normal", mu=0.0, sigma=1.0).to_dict()
{'dist': 'Normal', 'mu': 0.0, 'sigma': 1.0}
>>> parse_prior("LogNormal(mu=7.8, sigma=1.5)")
Prior(dist='LogNormal', params={'mu': 7.8, 'sigma': 1.5})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Supported distributions and the names of their arguments, in order.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "Normal": ("mu", "sigma"),
    "HalfNormal": ("sigma",),
    "LogNormal": ("mu", "sigma"),
    "Beta": ("alpha", "beta"),
    "Uniform": ("lower", "upper"),
    "TruncatedNormal": ("mu", "sigma", "lower", "upper"),
    "Gamma": ("alpha", "beta"),
    "Exponential": ("lam",),
    "HalfStudentT": ("nu", "sigma"),
    "StudentT": ("nu", "mu", "sigma"),
}

#: Arguments that must be > 0 (scales, shapes, rates, degrees of freedom).
POSITIVE_ARGUMENTS = frozenset({"sigma", "alpha", "beta", "lam", "nu"})


def check_arguments(dist: str, values: Mapping[str, Any]) -> None:
    """Refuse arguments outside the distribution's domain.

    Every argument (a number, or one per recipe) must be finite, scales and
    shapes > 0, and ``lower < upper``.

    Raises
    ------
    ValueError
        Naming the distribution and the argument.

    Examples
    --------
    >>> check_arguments("Beta", {"alpha": float("nan"), "beta": 2.0})
    Traceback (most recent call last):
    ...
    ValueError: Beta prior: alpha must be a finite number, got nan
    """
    arrays = {name: np.asarray(value, dtype=float) for name, value in values.items()}
    for name, value in arrays.items():
        if not np.isfinite(value).all():
            raise ValueError(f"{dist} prior: {name} must be a finite number, got {values[name]}")
        if name in POSITIVE_ARGUMENTS and (value <= 0).any():
            raise ValueError(f"{dist} prior: {name} must be > 0, got {values[name]}")
    if "lower" in arrays and (arrays["lower"] >= arrays["upper"]).any():
        raise ValueError(
            f"{dist} prior: lower must be below upper, got {values['lower']} >= {values['upper']}"
        )


@dataclass(frozen=True)
class Prior:
    """A prior distribution: a PyMC distribution name and its numeric arguments.

    Parameters
    ----------
    dist : str
        One of :data:`DISTRIBUTIONS` (e.g. ``"Normal"``, ``"LogNormal"``).
    **params : float or sequence of float
        The distribution's arguments by name (e.g. ``mu=0, sigma=1``). A sequence
        gives one value per recipe (the data-centred defaults of a multi-recipe fit).

    Examples
    --------
    >>> Prior("Beta", alpha=2, beta=2)
    Prior(dist='Beta', params={'alpha': 2.0, 'beta': 2.0})
    """

    dist: str
    params: dict[str, float | tuple[float, ...]] = field(default_factory=dict)

    def __init__(self, dist: str, **params: float) -> None:
        if dist not in DISTRIBUTIONS:
            known = ", ".join(DISTRIBUTIONS)
            raise ValueError(f"unknown prior distribution {dist!r}; choose one of: {known}")
        expected = DISTRIBUTIONS[dist]
        if set(params) != set(expected):
            raise ValueError(
                f"{dist} prior needs arguments {', '.join(expected)}; got {', '.join(params) or 'none'}"
            )
        values = {name: _number_or_numbers(params[name]) for name in expected}
        check_arguments(dist, values)
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "params", values)

    @property
    def per_recipe(self) -> int | None:
        """Number of per-recipe values its arguments hold (``None``: one value for all)."""
        lengths = {len(v) for v in self.params.values() if isinstance(v, tuple)}
        return lengths.pop() if lengths else None

    def for_recipe(self, index: int) -> Prior:
        """The prior of recipe ``index`` (itself when it holds one value for all)."""
        return Prior(
            self.dist,
            **{k: v[index] if isinstance(v, tuple) else v for k, v in self.params.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: ``{"dist": ..., <arg>: value, ...}`` (lists for per-recipe values)."""
        return {
            "dist": self.dist,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
        }

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_format(v)}" for k, v in self.params.items())
        return f"{self.dist}({args})"

    def build(self, name: str, *, dims: str | tuple[str, ...] | None = None) -> Any:
        """Create the random variable inside the current PyMC model context.

        Each argument becomes a data container called ``prior__<name>__<arg>``.
        """
        import pymc as pm

        return getattr(pm, self.dist)(name, dims=dims, **self._arguments(name))

    def log_density(self, name: str, value: Any) -> Any:
        """The log density at ``value`` (a tensor) inside the current PyMC model context,
        for a parameter derived from the sampled ones (its arguments are data
        containers ``prior__<name>__<arg>``, as in :meth:`build`)."""
        import pymc as pm

        return pm.logp(getattr(pm, self.dist).dist(**self._arguments(name)), value)

    def _arguments(self, name: str) -> dict[str, Any]:
        import pymc as pm

        return {
            arg: pm.Data(f"prior__{name}__{arg}", np.asarray(value, dtype=float))
            for arg, value in self.params.items()
        }


def _number_or_numbers(value: Any) -> float | tuple[float, ...]:
    """A float, or a tuple of floats for per-recipe values (data-centred defaults)."""
    if isinstance(value, (list, tuple)) or getattr(value, "ndim", 0) > 0:
        return tuple(float(v) for v in value)
    return float(value)


def _format(value: float | tuple[float, ...]) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    return f"{value:g}"


def prior_from_dict(spec: Mapping[str, Any]) -> Prior:
    """Inverse of :meth:`Prior.to_dict`."""
    spec = dict(spec)
    dist = spec.pop("dist")
    return Prior(dist, **spec)


_CALL = re.compile(r"^\s*([A-Za-z]+)\s*\((.*)\)\s*$")


def parse_prior(text: str) -> Prior:
    """Parse ``"Dist(arg=value, ...)"`` as written on the command line.

    Raises
    ------
    ValueError
        With the offending text when it is not of that form.
    """
    match = _CALL.match(text)
    if not match:
        raise ValueError(f"cannot read prior {text!r}; write it like 'Normal(mu=0, sigma=1)'")
    dist, body = match.groups()
    params: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in body.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"cannot read prior {text!r}: argument {item!r} needs a name")
        key = key.strip()
        if key in params:
            raise ValueError(f"cannot read prior {text!r}: argument {key!r} is given twice")
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(
                f"cannot read prior {text!r}: {value.strip()!r} is not a number"
            ) from None
    return Prior(dist, **params)


def merge_priors(
    defaults: Mapping[str, Prior], overrides: Mapping[str, Any] | None
) -> dict[str, Prior]:
    """Defaults updated with the user's priors (``Prior``, dict or string values).

    Raises
    ------
    ValueError
        If an override names a parameter the model does not have.
    """
    merged = dict(defaults)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ValueError(
            f"priors must be a dict of parameter -> prior, got {type(overrides).__name__}"
        )
    for name, value in (overrides or {}).items():
        if name not in defaults:
            known = ", ".join(defaults)
            raise ValueError(f"no parameter {name!r} to put a prior on; the model has: {known}")
        if isinstance(value, Prior):
            merged[name] = value
        elif isinstance(value, str):
            merged[name] = parse_prior(value)
        elif isinstance(value, Mapping) and isinstance(value.get("dist"), str):
            merged[name] = prior_from_dict(value)
        else:
            raise ValueError(
                f"prior of {name!r} is {type(value).__name__} {value!r}; give a Prior, a text "
                "like 'Beta(alpha=2, beta=2)' or a dict like {'dist': 'Beta', 'alpha': 2, 'beta': 2}"
            )
    return merged


def hierarchy_prior_name(law: Any, parameter: str) -> str:
    """Name of the run-to-run spread of ``parameter`` (``sigma_A``, ``sigma_log_B``)."""
    return f"sigma_log_{parameter}" if parameter in law.positive else f"sigma_{parameter}"


def hierarchy_prior(law: Any, parameter: str) -> Prior:
    """Default prior on the run-to-run spread of ``parameter``."""
    if parameter in law.positive:
        return Prior("Gamma", alpha=4.0, beta=20.0)
    return Prior("Gamma", alpha=4.0, beta=200.0 if law.bounded else 40.0)
