"""The one PyMC model builder: law + hierarchy + likelihood + priors.

Structure (what needs a new compile) is separated from values (what is swapped
in as data): the data, and every numeric prior argument, live in ``pm.Data``
containers; the law, the observation model, which parameters vary by run or are
shared across recipes, the prior families and the numbers of runs and recipes
make up :func:`structure_key`.

Hierarchy: each recipe has its own law parameters (unless shared). A parameter
that varies by run is centred: ``P_run ~ Normal(P_recipe, sigma_P)`` for unbounded
parameters, ``log P_run ~ Normal(log P_recipe, sigma_log_P)`` for positive ones.
Each run has tens of checkpoints, so its own parameters are well informed and the
centred form samples better than the non-centred one (measured: no R-hat or ESS
problems where the non-centred form left divergences); the spreads have
zero-avoiding priors (see :func:`bayescale.model.priors.hierarchy_prior`). The spreads are
shared by all recipes, so a single-seed recipe borrows the seed variance learned
from the others. One exception: when the observation model can, the run
deviations of a parameter the curve is linear in (the sigmoid's ``A`` under
``"drift"``) are integrated out inside the likelihood instead of sampled
(:func:`integrated_parameter`, :mod:`bayescale.model.likelihoods.run_offsets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayescale.data.curves import CurveData
from bayescale.model.laws import Law, get_law, reference_log_inputs, tensor_ops
from bayescale.model.likelihoods.registry import Likelihood, get_likelihood
from bayescale.model.priors import Prior, hierarchy_prior_name


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines the statistical model, apart from the data.

    Attributes
    ----------
    law : str
        Law name (see :func:`bayescale.model.laws.available_laws`).
    likelihood : str
        Observation model name (see :func:`bayescale.model.likelihoods.registry.available_likelihoods`).
    varying : tuple of str
        Law parameters with run-level deviations (partial pooling over seeds).
    shared : tuple of str
        Law parameters shared by all recipes.
    priors : dict
        Parameter name -> :class:`~bayescale.model.priors.Prior`, for the law parameters,
        the run-level spreads and the noise parameters.
    """

    law: str
    likelihood: str
    varying: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    priors: dict[str, Prior] = field(default_factory=dict)

    @property
    def law_obj(self) -> Law:
        """The :class:`~bayescale.model.laws.Law` object."""
        return get_law(self.law)

    @property
    def likelihood_obj(self) -> Likelihood:
        """The :class:`~bayescale.model.likelihoods.registry.Likelihood` object."""
        return get_likelihood(self.likelihood)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "law": self.law,
            "likelihood": self.likelihood,
            "varying": list(self.varying),
            "shared": list(self.shared),
            "priors": {name: prior.to_dict() for name, prior in self.priors.items()},
        }


def structure_key(spec: ModelSpec, n_runs: int, n_recipes: int) -> tuple:
    """Hashable description of what a compiled model depends on."""
    families = tuple(
        sorted(
            (name, prior.dist, prior.per_recipe is not None) for name, prior in spec.priors.items()
        )
    )
    return (spec.law, spec.likelihood, spec.varying, spec.shared, families, n_runs, n_recipes)


def integrated_parameter(spec: ModelSpec) -> str | None:
    """The varying parameter whose run deviations the likelihood integrates out.

    The first of ``spec.varying`` that the law's mean is linear in (and not
    positive, which varies on the log scale), when the observation model can
    integrate it (:attr:`bayescale.model.likelihoods.registry.Likelihood.run_offsets`); ``None``
    otherwise.

    Examples
    --------
    >>> integrated_parameter(ModelSpec("sigmoid", "drift", varying=("A",)))
    'A'
    >>> integrated_parameter(ModelSpec("sigmoid", "normal", varying=("A",))) is None
    True
    """
    if spec.likelihood_obj.run_offsets is None:
        return None
    law = spec.law_obj
    linear = [name for name in spec.varying if name in law.linear and name not in law.positive]
    return linear[0] if linear else None


def model_arrays(spec: ModelSpec, data: CurveData) -> dict[str, np.ndarray]:
    """All data containers of the model, by name, for this data set."""
    law = spec.law_obj
    frame = data.frame
    runs, recipes = data.runs, data.recipes
    run_recipe = data.run_recipe
    y = frame["y"].to_numpy(dtype=float)
    arrays: dict[str, np.ndarray] = {
        f"log_{role}": np.log(frame[role].to_numpy(dtype=float)) for role in law.inputs
    }
    arrays["y"] = np.log(y) if law.response == "log" else y
    arrays["run_idx"] = frame["run"].map({r: i for i, r in enumerate(runs)}).to_numpy("int64")
    recipe_index = {r: i for i, r in enumerate(recipes)}
    arrays["recipe_of_run"] = np.array([recipe_index[run_recipe[r]] for r in runs], dtype="int64")
    if spec.likelihood_obj.needs_trials:
        arrays["trials"] = frame["trials"].to_numpy(dtype="int64")
    for role, value in reference_log_inputs(law, frame).items():
        arrays[f"ref_log_{role}"] = np.asarray(value)
    arrays.update(spec.likelihood_obj.arrays(data))
    for name, prior in spec.priors.items():
        for arg, value in prior.params.items():
            arrays[f"prior__{name}__{arg}"] = np.asarray(value, dtype=float)
    return arrays


def build_model(spec: ModelSpec, arrays: Mapping[str, np.ndarray], n_runs: int, n_recipes: int):
    """Build the PyMC model for ``spec`` with initial data ``arrays``.

    Returns
    -------
    pymc.Model
        Free variables: the recipe-level law parameters (dim ``recipe`` unless
        shared), ``<P>_run`` (or ``log_<P>_run``, deterministic ``<P>_run``; dim
        ``run``) and the spreads for varying parameters, the noise parameters.
        The :func:`integrated_parameter` has its spread but no ``<P>_run``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    law, likelihood = spec.law_obj, spec.likelihood_obj
    ops = tensor_ops()
    coords = {"run": np.arange(n_runs), "recipe": np.arange(n_recipes)}
    with pm.Model(coords=coords) as model:
        data_vars = {
            name: pm.Data(name, value)
            for name, value in arrays.items()
            if not name.startswith("prior__")
        }
        recipe_of_run = data_vars["recipe_of_run"]
        run_zeros = pt.zeros(n_runs)
        per_run = {}
        integrated = integrated_parameter(spec)
        offsets = {}
        derived = _derived_parameters(spec, data_vars, n_recipes)
        for name in law.parameters:
            recipe_level = derived[name] if name in derived else _recipe_prior(spec, name)
            base = (
                recipe_level + run_zeros if recipe_level.ndim == 0 else recipe_level[recipe_of_run]
            )
            if name in spec.varying:
                spread_name = hierarchy_prior_name(law, name)
                spread = spec.priors[spread_name].build(spread_name)
                if name == integrated:
                    offsets["offset_sd"] = spread
                elif name in law.positive:
                    log_run = pm.Normal(f"log_{name}_run", pt.log(base), spread, dims="run")
                    base = pm.Deterministic(f"{name}_run", pt.exp(log_run), dims="run")
                else:
                    base = pm.Normal(f"{name}_run", base, spread, dims="run")
            per_run[name] = base
        run_idx = data_vars["run_idx"]
        per_obs = {name: value[run_idx] for name, value in per_run.items()}
        log_inputs = {role: data_vars[f"log_{role}"] for role in law.inputs}
        mu = law.mean(ops, log_inputs, per_obs)
        noise = {name: spec.priors[name].build(name) for name in likelihood.parameters}
        if integrated:
            shifted = {**per_obs, integrated: per_obs[integrated] + 1.0}
            offsets["offset_loading"] = law.mean(ops, log_inputs, shifted) - mu
        likelihood.add(mu, data_vars["y"], data_vars, {**noise, **offsets})
    return model


def _recipe_prior(spec: ModelSpec, name: str) -> Any:
    """The recipe-level random variable ``name`` (dim ``recipe`` unless shared)."""
    return spec.priors[name].build(name, dims=None if name in spec.shared else "recipe")


def _derived_parameters(spec: ModelSpec, data_vars: Mapping[str, Any], n_recipes: int) -> dict:
    """Recipe-level parameters of a reparametrised law (empty for the others).

    The law's free parameters get their priors (moved by the sampler in the law's
    :class:`~bayescale.model.laws.Coordinates` when it has them,
    :func:`_free_parameters`); the reported parameters are derived from them and
    the reference points, and kept as deterministics with dim ``recipe``. Laws
    with neither ``derive`` nor coordinates build each prior in the parameter loop
    of :func:`build_model`, as they always did (same variables, same order).
    """
    import pymc as pm
    import pytensor.tensor as pt

    law = spec.law_obj
    if law.derive is None and law.coordinates is None:
        return {}
    log_ref = {role: data_vars[f"ref_log_{role}"] for role in law.references}
    ops = tensor_ops()
    free = _free_parameters(spec, log_ref, ops, n_recipes)
    reported = law.reported(ops, free, log_ref)
    return {
        name: value
        if name in free
        else pm.Deterministic(name, pt.broadcast_to(value, (n_recipes,)), dims="recipe")
        for name, value in reported.items()
    }


def _free_parameters(spec: ModelSpec, log_ref: Mapping[str, Any], ops: Any, n_recipes: int) -> dict:
    """The law's free parameters (those with priors): random variables, or, for a
    law moved in other coordinates (``Law.moved``), the coordinates' variables and
    the parameters computed from them (deterministics, dim ``recipe``), whose
    priors enter as one density term with the map's Jacobian."""
    import pymc as pm
    import pytensor.tensor as pt

    law = spec.law_obj
    moved = law.moved(spec.shared)
    if moved == law.free_parameters:
        return {name: _recipe_prior(spec, name) for name in moved}
    coordinates = {name: _coordinate(spec, name) for name in moved}
    computed = law.coordinates.to_free(ops, coordinates, log_ref)
    density = law.coordinates.log_jacobian(ops, coordinates, log_ref)
    for name, value in computed.items():
        density = density + spec.priors[name].log_density(name, value)
    pm.Potential("coordinate_priors", pt.sum(density))
    kept = {
        name: pm.Deterministic(name, pt.broadcast_to(value, (n_recipes,)), dims="recipe")
        for name, value in computed.items()
    }
    return {**{name: coordinates[name] for name in law.free_parameters if name in moved}, **kept}


def _coordinate(spec: ModelSpec, name: str) -> Any:
    """A sampler coordinate: a free parameter's prior, or a flat prior on its range."""
    import pymc as pm

    if name in spec.law_obj.free_parameters:
        return _recipe_prior(spec, name)
    lower, upper = spec.law_obj.parameter_range(name)
    if np.isfinite(lower) and np.isfinite(upper):
        return pm.Uniform(name, lower, upper, dims="recipe")
    if lower == 0.0 and upper == np.inf:
        return pm.HalfFlat(name, dims="recipe")
    raise ValueError(f"coordinate {name!r}: no flat prior for the range ({lower}, {upper})")
