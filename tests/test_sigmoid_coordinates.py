"""Laws moved in other coordinates (the sigmoid at its data's start, the Chinchilla law's
loss at the reference point): the same model as in the free parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bayescale.data.curves import load_curves
from bayescale.inference.fitting import build_spec, curves_for_law
from bayescale.model.build import ModelSpec, build_model, model_arrays
from bayescale.model.laws import LAWS, NUMPY_OPS, SIGMOID, get_law, reference_log_inputs
from bayescale.studies.simulate import simulate_runs

TRUTH = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}

#: The same law sampled directly in R0 (as before the change of coordinates).
SIGMOID_IN_R0 = dataclasses.replace(SIGMOID, name="sigmoid_sampled_in_r0", coordinates=None)


def _curves():
    frame = simulate_runs(params=TRUTH, n_runs=2, x_max=8000.0, rng=3)
    frame = pd.concat(
        [frame.assign(recipe="a"), frame.assign(recipe="b", gpu_hours=frame["gpu_hours"] * 2)]
    )
    return load_curves(frame, x="gpu_hours", y="pass_rate", run="seed", recipe="recipe")


def _log_density(spec: ModelSpec, curves, values: dict[str, np.ndarray]) -> float:
    """The model's log density (no transform Jacobians) at constrained ``values``."""
    arrays = model_arrays(spec, curves)
    model = build_model(spec, arrays, n_runs=len(curves.runs), n_recipes=len(curves.recipes))
    point = model.initial_point()
    for var in model.free_RVs:
        value = np.broadcast_to(values[var.name], point[model.rvs_to_values[var].name].shape)
        transform = model.rvs_to_transforms[var]
        if transform is not None:
            value = transform.forward(value, *var.owner.inputs).eval()
        point[model.rvs_to_values[var].name] = value
    return float(model.compile_logp(jacobian=False)(point))


def test_sampling_at_the_start_changes_coordinates_not_the_model(monkeypatch):
    """At the same curve, the log density in (A, B, C_mid, R_first) exceeds the one
    in (A, B, C_mid, R0) by exactly log |dR0 / dR_first|, summed over recipes: the
    same posterior over the reported parameters."""
    monkeypatch.setitem(LAWS._items, SIGMOID_IN_R0.name, SIGMOID_IN_R0)  # for this test only
    curves = _curves()
    new = build_spec(SIGMOID, curves, likelihood="normal", varying="none")
    old = dataclasses.replace(new, law=SIGMOID_IN_R0.name)
    params = {
        "A": np.array([0.62, 0.58]),
        "B": np.array([1.7, 2.1]),
        "C_mid": np.array([2300.0, 3100.0]),
        "R0": np.array([0.24, 0.31]),
        "sigma": np.array(0.02),
    }
    log_start = reference_log_inputs(SIGMOID, curves.frame)["x"]
    r_first = SIGMOID.curve({"x": log_start}, params)
    z = params["B"] * (log_start - np.log(params["C_mid"]))
    jacobian = np.logaddexp(0.0, z).sum()
    in_r0 = _log_density(old, curves, params)
    at_start = _log_density(new, curves, {**params, "R_first": r_first})
    assert at_start - in_r0 == pytest.approx(jacobian, rel=1e-9)
    derived = SIGMOID.coordinates.to_free(
        NUMPY_OPS, {**params, "R_first": r_first}, {"x": log_start}
    )
    np.testing.assert_allclose(derived["R0"], params["R0"], rtol=1e-12)


def test_the_start_is_each_recipes_first_evaluation():
    curves = _curves()
    first = curves.frame.groupby("recipe", sort=False)["x"].min().to_numpy()
    np.testing.assert_allclose(np.exp(reference_log_inputs(SIGMOID, curves.frame)["x"]), first)


def test_a_shared_computed_parameter_is_sampled_as_itself():
    """R0 shared by recipes cannot be computed per recipe from R_first: the sampler
    then moves R0 itself (the same model)."""
    curves = _curves()
    assert SIGMOID.moved() == ("A", "B", "C_mid", "R_first")
    assert SIGMOID.moved(("R0",)) == SIGMOID.parameters
    spec = build_spec(SIGMOID, curves, likelihood="normal", shared=("R0",))
    model = build_model(spec, model_arrays(spec, curves), len(curves.runs), len(curves.recipes))
    assert "R_first" not in model.named_vars and model["R0"] in model.free_RVs


def test_chinchilla_terms_change_coordinates_not_the_model(monkeypatch):
    """The Chinchilla law in (L_ref, E_share, A_share): the log density exceeds the
    one in (E, A_ref, B_ref) by exactly log(L_ref^2 (1 - E_share))."""
    chinchilla = get_law("chinchilla")
    plain = dataclasses.replace(chinchilla, name="chinchilla_in_terms", coordinates=None)
    monkeypatch.setitem(LAWS._items, plain.name, plain)  # for this test only
    rng = np.random.default_rng(0)
    n = np.exp(rng.uniform(np.log(5e7), np.log(5e9), 20))
    d = n * np.exp(rng.uniform(np.log(5), np.log(200), 20))
    loss = 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28
    frame = pd.DataFrame({"n": n, "d": d, "loss": loss})
    curves = curves_for_law(frame, chinchilla, n="n", d="d", y="loss")
    new = build_spec(chinchilla, curves, likelihood="normal")
    old = dataclasses.replace(new, law=plain.name)
    terms = {"E": np.array([1.6]), "A_ref": np.array([0.5]), "B_ref": np.array([0.7])}
    total = sum(terms.values())
    coordinates = {"L_ref": total, "E_share": terms["E"] / total}
    coordinates["A_share"] = terms["A_ref"] / (terms["A_ref"] + terms["B_ref"])
    common = {"alpha": np.array([0.33]), "beta": np.array([0.29]), "sigma": np.array(0.01)}
    in_terms = _log_density(old, curves, {**terms, **common})
    moved = _log_density(new, curves, {**coordinates, **common})
    jacobian = float(2 * np.log(total[0]) + np.log(1 - coordinates["E_share"][0]))
    assert moved - in_terms == pytest.approx(jacobian, rel=1e-9)


def test_run_labels_that_already_name_their_recipe_are_not_prefixed_twice():
    frame = simulate_runs(params=TRUTH, n_runs=2, x_max=8000.0, rng=3)
    frame = frame.assign(recipe="base", seed="base/" + frame["seed"].astype(str))
    curves = load_curves(frame, x="gpu_hours", y="pass_rate", run="seed", recipe="recipe")
    assert all(run.count("base/") == 1 for run in curves.runs)
