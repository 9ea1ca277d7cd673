"""Scaling laws as plain math, written once.

Every law is a function of *log* inputs and of its parameters, evaluated through
an ``ops`` namespace so the same code runs on PyTensor tensors (inside the PyMC
model) and on NumPy arrays or xarray DataArrays of posterior draws (for
predictions). Nothing downstream re-derives a law.

Examples
--------
>>> import numpy as np
>>> from bayescale.model.laws import NUMPY_OPS, get_law
>>> law = get_law("sigmoid")
>>> params = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.3}
>>> round(float(law.mean(NUMPY_OPS, {"x": np.log(2542.0)}, params)), 3)
0.455
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from bayescale.data.curves import FLOP_PER_PARAMETER_TOKEN, CurveData
from bayescale.model import law_priors
from bayescale.model.priors import Prior
from bayescale.model.registry import Registry

ASYMPTOTE_ROPE = 0.02
"""Default ROPE of an asymptote on a pass-rate scale: ScaleRL's three seeds of one
recipe spread over about +/-0.015 in A, so differences below 0.02 are noise."""

EFFICIENCY_ROPE = 0.1
"""Default ROPE of the efficiency exponent B (our choice, ~5% of a typical B of 2)."""


def _expit(x: Any) -> Any:
    """The logistic function of NumPy arrays or DataArrays (SciPy imported on first use)."""
    import scipy.special

    return scipy.special.expit(x)


NUMPY_OPS = SimpleNamespace(exp=np.exp, log=np.log, expit=_expit, logaddexp=np.logaddexp)
"""Math operations for NumPy arrays and xarray DataArrays."""


def tensor_ops() -> SimpleNamespace:
    """Math operations for PyTensor tensors (imported lazily)."""
    import pytensor.tensor as pt

    return SimpleNamespace(exp=pt.exp, log=pt.log, expit=pt.sigmoid, logaddexp=pt.logaddexp)


MeanFunction = Callable[[SimpleNamespace, Mapping[str, Any], Mapping[str, Any]], Any]
InverseFunction = Callable[[Mapping[str, Any], Any], tuple[Any, Any]]
DeriveFunction = Callable[[SimpleNamespace, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
JacobianFunction = Callable[[SimpleNamespace, Mapping[str, Any], Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Coordinates:
    """Where the sampler moves for a law whose priors are stated on other parameters.

    The model is unchanged (the priors stay where the law states them); only the
    sampler's coordinates are: the free parameters not among ``names`` are
    computed from the coordinates, and their priors enter the model as a density
    term at the computed values, with the Jacobian of the map.

    Parameters
    ----------
    names : tuple of str
        The variables the sampler moves: free parameters (with their priors) and
        new coordinates (with a flat prior on their ``ranges``).
    to_free : callable
        ``to_free(ops, coordinates, log_ref) -> {free parameter: value}`` for the
        free parameters that are not among ``names``.
    log_jacobian : callable
        ``log_jacobian(ops, coordinates, log_ref)``: log of the absolute Jacobian
        determinant of the map from ``names`` to the free parameters.
    ranges : dict of str to (float, float)
        Support of each new coordinate.
    """

    names: tuple[str, ...]
    to_free: DeriveFunction
    log_jacobian: JacobianFunction
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


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
        curve reaches ``target`` and a boolean mask of where it can (NumPy only);
        for Chinchilla the training compute on the compute-optimal frontier.
    default_varying : tuple of str
        Parameters that vary by run by default when recipes have several runs.
    linear : frozenset of str
        Parameters the mean is affine in (on the response scale). Run-level
        deviations of such a parameter are integrated out exactly by observation
        models that can (``"drift"``) instead of being sampled.
    sampled : tuple of str
        For reparametrised laws: the parameters that get priors and are sampled,
        when they differ from the reported ``parameters`` (empty otherwise).
    derive : callable or None
        ``derive(ops, sampled, log_ref) -> {reported name: value}``: the reported
        parameters from the sampled ones and the reference log inputs.
    references : tuple of str
        Input roles whose reference point ``log_ref[role]`` (see
        :func:`reference_log_inputs`) ``derive`` uses.
    reference_at : {"mean", "start"}
        The reference point: the mean log input of the data (``"mean"``), or each
        recipe's smallest input, where its data start (``"start"``, one value per
        recipe).
    coordinates : Coordinates or None
        Other coordinates for the sampler, when the free parameters make a hard
        geometry (the sigmoid's ``R0`` far left of data that start near
        ``C_mid``; the Chinchilla law's ``E`` against its two terms). Used
        unless a parameter they compute is shared by recipes (it would be
        computed once per recipe); then the sampler moves the free parameters
        themselves, the same model in worse coordinates.
    direction : {"increasing", "decreasing"} or None
        How the metric moves as the input grows (``None``: either). Data moving
        clearly the other way are refused (:mod:`bayescale.inference.law_checks`).
    ranges : dict of str to (float, float)
        Closed range of parameters beyond positivity (the sigmoid's ``A`` in
        [0, 1]); priors with mass outside are refused.
    default_priors : callable or None
        ``(data) -> {parameter: Prior}``: default priors of the sampled
        parameters for a data set (:mod:`bayescale.model.law_priors` for the
        built-in laws; data-centred priors hold one centre per recipe).
    asymptote : callable or None
        ``(params) -> value``: the curve's limit as the input grows without
        bound, on the metric's scale (the sigmoid's ``A``, a power law's ``E``);
        ``None`` when the law does not say.
    midpoint : str or None
        The parameter that is the input at the curve's midpoint (the sigmoid's
        ``C_mid``): data ending before it leave the shape to the prior, and fits
        say so (:func:`bayescale.inference.diagnostics.check_identification`).
    ropes : dict of str to float
        Default region of practical equivalence for comparing recipes on a
        parameter (the sigmoid's ``A``: 0.02, the spread of three ScaleRL seeds).
    nuisance : frozenset of str
        Parameters users do not ask about that describe the curve away from
        where they ask (the sigmoid's start value ``R0``, the value before the
        fit window): one leaning on its prior is a note in the summary, not an
        identification warning.
    adaptation : {"diag", "low_rank"}
        nutpie's mass-matrix adaptation: ``"low_rank"`` for posteriors with
        strong correlations that no simple reparametrisation removes (the
        irreducible loss ``E`` against the exponents; the sigmoid's ``B``,
        ``C_mid`` and ``R0``), ``"diag"`` otherwise.

    Notes
    -----
    A term like ``A / N^alpha`` is sampled as its value at a reference ``N_ref``
    in the middle of the data, ``A_ref = A / N_ref^alpha``; then ``A`` and
    ``alpha`` are not nearly collinear in the posterior (they are when sampled
    directly, because ``log N`` is far from 0), and ``A_ref`` is on the scale of
    the metric, where a weakly informative prior is easy to state.
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
    linear: frozenset[str] = frozenset()
    sampled: tuple[str, ...] = ()
    derive: DeriveFunction | None = None
    references: tuple[str, ...] = ()
    reference_at: str = "mean"
    coordinates: Coordinates | None = None
    adaptation: str = "diag"
    direction: str | None = None
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    default_priors: Callable[[CurveData], dict[str, Prior]] | None = None
    asymptote: Callable[[Mapping[str, Any]], Any] | None = None
    ropes: Mapping[str, float] = field(default_factory=dict)
    midpoint: str | None = None
    nuisance: frozenset[str] = frozenset()

    def priors_for(self, data: CurveData, shared: Iterable[str] = ()) -> dict[str, Prior]:
        """Default priors of the sampled parameters for this data set.

        Data-centred priors hold one centre per recipe; the ``shared`` parameters
        (one value for all recipes) are centred on the pooled data.

        Raises
        ------
        ValueError
            If the law has no default priors.
        """
        if self.default_priors is None:
            raise ValueError(f"law {self.name!r} has no default priors; give priors={{...}}")
        priors = self.default_priors(data)
        shared = [name for name in shared if name in priors]
        if shared and len(data.recipes) > 1:
            pooled = self.default_priors(
                dataclasses.replace(data, frame=data.frame.assign(recipe="all"))
            )
            priors.update({name: pooled[name] for name in shared})
        return priors

    def parameter_range(self, name: str) -> tuple[float, float]:
        """Allowed range of parameter or coordinate ``name`` (positive ones: ``(0, inf)``)."""
        ranges = {**self.ranges, **(self.coordinates.ranges if self.coordinates else {})}
        if name in ranges:
            return ranges[name]
        return (0.0, np.inf) if name in self.positive else (-np.inf, np.inf)

    @property
    def free_parameters(self) -> tuple[str, ...]:
        """The parameters that get priors: ``sampled``, or else ``parameters``."""
        return self.sampled or self.parameters

    def moved(self, shared: Iterable[str] = ()) -> tuple[str, ...]:
        """The variables the sampler moves: ``coordinates.names``, or the free
        parameters when the law has no coordinates or a parameter they compute is
        in ``shared``."""
        if self.coordinates is None:
            return self.free_parameters
        computed = set(self.free_parameters) - set(self.coordinates.names)
        return self.free_parameters if computed & set(shared) else self.coordinates.names

    def reported(
        self, ops: SimpleNamespace, sampled: Mapping[str, Any], log_ref: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The reported parameters from the sampled ones (identity without ``derive``)."""
        return dict(sampled) if self.derive is None else self.derive(ops, sampled, log_ref)

    def curve(self, log_inputs: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
        """Evaluate the curve on the metric's own scale with NumPy ops."""
        value = self.mean(NUMPY_OPS, log_inputs, params)
        return np.exp(value) if self.response == "log" else value


def reference_log_inputs(law: Law, frame: Any) -> dict[str, float | np.ndarray]:
    """Reference points of a reparametrised law, by input role (``Law.reference_at``).

    ``"mean"``: the mean log input of the data, one float. ``"start"``: the log of
    each recipe's smallest input, an array in recipe order (first appearance).

    Parameters
    ----------
    law : Law
    frame : pandas.DataFrame
        Canonical curve data (columns named by input role, and ``recipe``).

    Examples
    --------
    >>> import pandas as pd
    >>> ref = reference_log_inputs(get_law("chinchilla"), pd.DataFrame({"n": [1e8, 1e10], "d": [1e9, 1e11]}))
    >>> {role: round(float(np.exp(v))) for role, v in ref.items()}
    {'n': 1000000000, 'd': 10000000000}
    >>> frame = pd.DataFrame({"x": [200.0, 100.0, 50.0, 400.0], "recipe": ["b", "b", "a", "a"]})
    >>> np.exp(reference_log_inputs(get_law("sigmoid"), frame)["x"]).round().tolist()
    [100.0, 50.0]
    """
    if law.reference_at == "start":
        logs = np.log(frame[list(law.references)].astype(float)).assign(recipe=frame["recipe"])
        first = logs.groupby("recipe", sort=False).min()
        return {role: first[role].to_numpy() for role in law.references}
    return {
        role: float(np.log(frame[role].to_numpy(dtype=float)).mean()) for role in law.references
    }


def _sigmoid_mean(ops, log_inputs, p):
    log_c_mid = ops.log(p["C_mid"])
    return p["R0"] + (p["A"] - p["R0"]) * ops.expit(p["B"] * (log_inputs["x"] - log_c_mid))


def _sigmoid_rise(ops, s, log_ref):
    """``B (log C_first - log C_mid)``: where each recipe's data start on the sigmoid."""
    return s["B"] * (log_ref["x"] - ops.log(s["C_mid"]))


def _sigmoid_r0(ops, s, log_ref):
    """``R0`` from the value at the first evaluation: ``R_first = R0 + (A - R0) expit(z)``."""
    z = _sigmoid_rise(ops, s, log_ref)
    return {"R0": s["R_first"] + (s["R_first"] - s["A"]) * ops.exp(z)}


def _sigmoid_log_jacobian(ops, s, log_ref):
    """``log |dR0 / dR_first| = log(1 + exp(z))`` (the other parameters map to themselves)."""
    return ops.logaddexp(0.0, _sigmoid_rise(ops, s, log_ref))


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
    references=("x",),
    reference_at="start",
    coordinates=Coordinates(
        names=("A", "B", "C_mid", "R_first"),
        to_free=_sigmoid_r0,
        log_jacobian=_sigmoid_log_jacobian,
        ranges={"R_first": (0.0, 1.0)},
    ),
    default_varying=("A",),
    linear=frozenset({"A", "R0"}),
    adaptation="low_rank",
    direction="increasing",
    ranges={"A": (0.0, 1.0)},
    default_priors=law_priors.sigmoid_priors,
    asymptote=lambda p: p["A"],
    ropes={"A": ASYMPTOTE_ROPE, "B": EFFICIENCY_ROPE},
    midpoint="C_mid",
    nuisance=frozenset({"R0"}),
)
"""ScaleRL's sigmoid. Sampled through ``R_first``, the curve's value at each
recipe's first evaluation, which the data determine, instead of ``R0``, an
extrapolation to zero compute that trades off against ``B`` and ``C_mid`` when
the data start near ``C_mid`` (on the bundled recipes: bulk ESS above 2,000
instead of 169-476 at the first attempt); ``R0``'s prior is kept, with the
Jacobian, so the model is the one its prior states."""

LAWS: Registry[Law] = Registry(
    "law",
    (
        "bayescale.model.size_law",
        "bayescale.model.data_constrained_law",
        "bayescale.model.task_law",
    ),
)
"""The law registry; the sigmoid and the laws of this module register as they
are defined, the across-size, data-constrained and task laws when it is first read."""
LAWS.register(SIGMOID)


def register_law(law: Law) -> Law:
    """Add a law to the registry (used by the modules that define laws)."""
    return LAWS.register(law)


#: Prior families whose support is the positive reals: a parameter given one is
#: taken as positive by :func:`law_from_function` (run deviations multiplicative).
POSITIVE_FAMILIES = frozenset(
    {
        "LogNormal",
        "HalfNormal",
        "HalfCauchy",
        "HalfStudentT",
        "Gamma",
        "InverseGamma",
        "Exponential",
        "Weibull",
    }
)


def law_from_function(
    func: Callable[..., Any],
    priors: Mapping[str, Prior | str],
    *,
    name: str | None = None,
    formula: str | None = None,
    response: str = "identity",
    bounded: bool = False,
    positive: Iterable[str] | None = None,
    direction: str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    asymptote: Callable[[Mapping[str, Any]], Any] | None = None,
    ropes: Mapping[str, float] | None = None,
    default_varying: Iterable[str] = (),
    register: bool = True,
) -> Law:
    """Make (and register) a law from a plain function, as lmfit's ``Model(func)``.

    The function's arguments that have a prior are the law's parameters; the
    others are its inputs: one input (the ``x`` column) or two named ``n`` and
    ``d``. It is written with NumPy functions (``np.exp``, ``np.log``, ``**``),
    which also act on the PyTensor tensors of the model, so the same function
    serves the fit, the predictions and the simulations.

    Parameters
    ----------
    func : callable
        ``func(x, p1, p2, ...)`` returning the metric (on its own scale).
    priors : dict of str to Prior or str
        A prior for every parameter (``Prior`` or text like ``"LogNormal(mu=0, sigma=1)"``).
    name : str, optional
        Registry name (default: ``func.__name__``).
    formula : str, optional
        Shown in summaries (default: the function's signature).
    response : {"identity", "log"}
        ``"log"`` fits ``log(y)`` (losses, positive metrics).
    bounded : bool
        Whether the metric is a rate in [0, 1].
    positive : iterable of str, optional
        Strictly positive parameters (default: those whose prior family lives on
        the positive reals, e.g. LogNormal, HalfNormal, Gamma).
    direction, ranges, asymptote, ropes, default_varying
        As the :class:`Law` attributes of those names.
    register : bool
        Add the law to the registry, so ``fit(..., law=name)`` and saved fits find it.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescale.model.laws import law_from_function
    >>> def exp_saturation(x, A, k):
    ...     return A * (1 - np.exp(-k * x / 1000))
    >>> law = law_from_function(exp_saturation, {"A": "Beta(alpha=2, beta=2)", "k": "LogNormal(mu=0, sigma=1)"},
    ...                         bounded=True, register=False)
    >>> law.inputs, law.parameters, sorted(law.positive)
    (('x',), ('A', 'k'), ['k'])
    >>> round(float(law.curve({"x": np.log(1000.0)}, {"A": 0.6, "k": 1.0})), 4)
    0.3793
    """
    from bayescale.model.priors import parse_prior

    arguments = list(inspect.signature(func).parameters)
    parameters = tuple(arg for arg in arguments if arg in priors)
    inputs = tuple(arg for arg in arguments if arg not in priors)
    unknown = sorted(set(priors) - set(arguments))
    if unknown:
        raise ValueError(f"priors name {unknown} that are not arguments of {func.__name__}()")
    if not parameters:
        raise ValueError(f"give a prior for at least one argument of {func.__name__}()")
    if len(inputs) == 1:
        roles: tuple[str, ...] = ("x",)
    elif set(inputs) == {"n", "d"}:
        roles = ("n", "d")
    else:
        raise ValueError(
            f"{func.__name__}() has inputs {inputs}: a law takes one input (x) or two (n, d)"
        )
    table = {
        key: parse_prior(value) if isinstance(value, str) else value
        for key, value in priors.items()
    }
    if positive is None:
        positive = [key for key, prior in table.items() if prior.dist in POSITIVE_FAMILIES]

    def mean(ops, log_inputs, p):
        values = [ops.exp(log_inputs[role]) for role in roles]
        value = func(*values, **{key: p[key] for key in parameters})
        return ops.log(value) if response == "log" else value

    law = Law(
        name=name or func.__name__,
        formula=formula or f"{func.__name__}({', '.join(arguments)})",
        inputs=roles,
        parameters=parameters,
        positive=frozenset(positive),
        response=response,
        bounded=bounded,
        mean=mean,
        default_varying=tuple(default_varying),
        direction=direction,
        ranges=dict(ranges or {}),
        default_priors=lambda data: dict(table),
        asymptote=asymptote,
        ropes=dict(ropes or {}),
    )
    return register_law(law) if register else law


def get_law(name: str) -> Law:
    """Return the registered law called ``name``.

    Raises
    ------
    ValueError
        If no law has that name; the message lists the known laws.
    """
    return LAWS.get(name)


def available_laws() -> list[str]:
    """Names of the registered laws."""
    return LAWS.names()


def _saturating_mean(ops, log_inputs, p):
    return p["A"] - p["D"] * ops.exp(-p["B"] * log_inputs["x"])


def _saturating_derive(ops, s, log_ref):
    return {"A": s["A"], "B": s["B"], "D": s["gap_ref"] * ops.exp(s["B"] * log_ref["x"])}


def _saturating_inverse(p, target):
    gap = p["A"] - target
    reachable = gap > 0
    x = (p["D"] / np.where(reachable, gap, 1.0)) ** (1.0 / p["B"])
    return np.where(reachable, x, np.nan), reachable


SATURATING = register_law(
    Law(
        name="saturating",
        formula="R(C) = A - D / C^B",
        inputs=("x",),
        parameters=("A", "B", "D"),
        positive=frozenset({"B", "D"}),
        response="identity",
        bounded=True,
        mean=_saturating_mean,
        inverse=_saturating_inverse,
        default_varying=("A",),
        linear=frozenset({"A"}),
        sampled=("A", "B", "gap_ref"),
        derive=_saturating_derive,
        references=("x",),
        direction="increasing",
        ranges={"A": (0.0, 1.0)},
        default_priors=law_priors.saturating_priors,
        asymptote=lambda p: p["A"],
        ropes={"A": ASYMPTOTE_ROPE, "B": EFFICIENCY_ROPE},
    )
)
"""The high-compute limit of the sigmoid, ``D = (A - R0) C_mid^B``; sampled as
``gap_ref = A - R(C_ref)``, the distance to the asymptote at the reference compute."""


def _power_mean(ops, log_inputs, p):
    return p["alpha"] * (ops.log(p["X_c"]) - log_inputs["x"])


def _power_e_mean(ops, log_inputs, p):
    return ops.logaddexp(ops.log(p["E"]), _power_mean(ops, log_inputs, p))


def _power_derive(ops, s, log_ref, term="L_ref"):
    x_c = ops.exp(log_ref["x"] + ops.log(s[term]) / s["alpha"])
    return {**{k: v for k, v in s.items() if k != term}, "X_c": x_c}


def _power_e_derive(ops, s, log_ref):
    return _power_derive(ops, s, log_ref, term="gap_ref")


def _power_inverse(p, target):
    gap = target - p.get("E", 0.0)
    reachable = gap > 0
    x = p["X_c"] * np.where(reachable, gap, 1.0) ** (-1.0 / p["alpha"])
    return np.where(reachable, x, np.nan), reachable


POWER = register_law(
    Law(
        name="power",
        formula="L(X) = (X_c / X)^alpha",
        inputs=("x",),
        parameters=("alpha", "X_c"),
        positive=frozenset({"alpha", "X_c"}),
        response="log",
        bounded=False,
        mean=_power_mean,
        inverse=_power_inverse,
        sampled=("alpha", "L_ref"),
        derive=_power_derive,
        references=("x",),
        direction="decreasing",
        default_priors=law_priors.power_priors,
        asymptote=lambda p: 0.0 * p["alpha"],
    )
)
"""Kaplan et al. (2020) power law in parameters, tokens or compute; sampled as
``L_ref = L(X_ref)``, the loss at the reference input."""

POWER_E = register_law(
    Law(
        name="power_e",
        formula="L(X) = E + (X_c / X)^alpha",
        inputs=("x",),
        parameters=("E", "alpha", "X_c"),
        positive=frozenset({"E", "alpha", "X_c"}),
        response="log",
        bounded=False,
        mean=_power_e_mean,
        inverse=_power_inverse,
        sampled=("E", "alpha", "gap_ref"),
        derive=_power_e_derive,
        references=("x",),
        adaptation="low_rank",
        direction="decreasing",
        default_priors=law_priors.power_e_priors,
        asymptote=lambda p: p["E"],
    )
)
"""The power law with an irreducible loss ``E``; sampled as ``gap_ref = L(X_ref) - E``."""


def _power_up_mean(ops, log_inputs, p):
    return ops.log(p["G"]) + p["a"] * log_inputs["x"]


def _power_up_derive(ops, s, log_ref):
    return {"a": s["a"], "G": s["Y_ref"] * ops.exp(-s["a"] * log_ref["x"])}


def _power_up_inverse(p, target):
    reachable = np.broadcast_to(np.asarray(target) > 0, np.shape(p["G"]))
    x = (np.where(reachable, target, 1.0) / p["G"]) ** (1.0 / p["a"])
    return np.where(reachable, x, np.nan), reachable


POWER_UP = register_law(
    Law(
        name="power_up",
        formula="Y(X) = G X^a",
        inputs=("x",),
        parameters=("a", "G"),
        positive=frozenset({"a", "G"}),
        response="log",
        bounded=False,
        mean=_power_up_mean,
        inverse=_power_up_inverse,
        sampled=("a", "Y_ref"),
        derive=_power_up_derive,
        references=("x",),
        direction="increasing",
        default_priors=law_priors.power_up_priors,
        asymptote=lambda p: np.inf + 0.0 * p["a"],
    )
)
"""An increasing power law (Hoffmann et al.'s approach 2: compute-optimal tokens
``D*(C) = G C^a``; accuracy against compute); fitted on ``log Y``, sampled as
``Y_ref = Y(X_ref)``, the value at the reference input."""


def _chinchilla_mean(ops, log_inputs, p):
    n_term = ops.log(p["A"]) - p["alpha"] * log_inputs["n"]
    d_term = ops.log(p["B"]) - p["beta"] * log_inputs["d"]
    return ops.logaddexp(ops.log(p["E"]), ops.logaddexp(n_term, d_term))


def chinchilla_derive(ops, s, log_ref):
    return {
        "E": s["E"],
        "A": s["A_ref"] * ops.exp(s["alpha"] * log_ref["n"]),
        "B": s["B_ref"] * ops.exp(s["beta"] * log_ref["d"]),
        "alpha": s["alpha"],
        "beta": s["beta"],
    }


def _chinchilla_terms(ops, s, log_ref):
    """The loss at the reference point, ``L_ref``, split into ``E`` and its two terms."""
    reducible = s["L_ref"] * (1.0 - s["E_share"])
    return {
        "E": s["L_ref"] * s["E_share"],
        "A_ref": reducible * s["A_share"],
        "B_ref": reducible * (1.0 - s["A_share"]),
    }


def _chinchilla_terms_log_jacobian(ops, s, log_ref):
    """``log |d(E, A_ref, B_ref) / d(L_ref, E_share, A_share)| = log(L_ref^2 (1 - E_share))``."""
    return 2.0 * ops.log(s["L_ref"]) + ops.log(1.0 - s["E_share"])


CHINCHILLA_COORDINATES = Coordinates(
    names=("L_ref", "E_share", "A_share", "alpha", "beta"),
    to_free=_chinchilla_terms,
    log_jacobian=_chinchilla_terms_log_jacobian,
    ranges={"L_ref": (0.0, np.inf), "E_share": (0.0, 1.0), "A_share": (0.0, 1.0)},
)
"""The Chinchilla law's sampler coordinates: the loss at the reference point,
which the data determine closely, and the shares of ``E`` in it and of the
``N`` term in the rest. Sampled as ``E``, ``A_ref``, ``B_ref`` (whose sum the data
pin down), 17 of 40 thirty-row tables converged at the first attempt; in these
coordinates 11 of 12 did (bulk ESS 650-1700), with the same intervals."""


def _chinchilla_inverse(p, target):
    """Compute C = 6 N D at which the compute-optimal loss reaches ``target``.

    Along the frontier (Hoffmann et al. eq. 4) the loss is
    ``E + K (C / 6)^(-gamma)``, ``gamma = alpha beta / (alpha + beta)``,
    ``K = A G^(-alpha) + B G^beta``; reachable when ``target > E``.
    """
    alpha, beta = p["alpha"], p["beta"]
    log_g = (np.log(alpha * p["A"]) - np.log(beta * p["B"])) / (alpha + beta)
    k = p["A"] * np.exp(-alpha * log_g) + p["B"] * np.exp(beta * log_g)
    gamma = alpha * beta / (alpha + beta)
    gap = target - p["E"]
    reachable = gap > 0
    log_c = np.log(FLOP_PER_PARAMETER_TOKEN) - np.log(np.where(reachable, gap, 1.0) / k) / gamma
    return np.where(reachable, np.exp(log_c), np.nan), reachable


CHINCHILLA = register_law(
    Law(
        name="chinchilla",
        formula="L(N, D) = E + A / N^alpha + B / D^beta",
        inputs=("n", "d"),
        parameters=("E", "A", "B", "alpha", "beta"),
        positive=frozenset({"E", "A", "B", "alpha", "beta"}),
        response="log",
        bounded=False,
        mean=_chinchilla_mean,
        inverse=_chinchilla_inverse,
        sampled=("E", "A_ref", "B_ref", "alpha", "beta"),
        derive=chinchilla_derive,
        references=("n", "d"),
        coordinates=CHINCHILLA_COORDINATES,
        adaptation="low_rank",
        direction="decreasing",
        default_priors=law_priors.chinchilla_priors,
        asymptote=lambda p: p["E"],
    )
)
"""Hoffmann et al. (2022), fitted on log loss in log-sum-exp form; sampled as the
two terms' values at the reference point, ``A_ref = A / N_ref^alpha`` and
``B_ref = B / D_ref^beta``."""
