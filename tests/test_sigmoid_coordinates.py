"""The sigmoid sampled at its data's start: same model as one sampled in R0, other coordinates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bayescale.data.curves import load_curves
from bayescale.inference.fitting import build_spec
from bayescale.model.build import ModelSpec, build_model, model_arrays
from bayescale.model.laws import LAWS, NUMPY_OPS, SIGMOID, reference_log_inputs
from bayescale.studies.simulate import simulate_runs

TRUTH = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}

#: The same law sampled directly in R0 (as before the change of coordinates).
SIGMOID_IN_R0 = dataclasses.replace(
    SIGMOID,
    name="sigmoid_sampled_in_r0",
    sampled=(),
    derive=None,
    references=(),
    reference_at="mean",
    log_jacobian=None,
    ranges={"A": (0.0, 1.0)},
)


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
    derived = SIGMOID.derive(NUMPY_OPS, {**params, "R_first": r_first}, {"x": log_start})
    np.testing.assert_allclose(derived["R0"], params["R0"], rtol=1e-12)


def test_the_start_is_each_recipes_first_evaluation():
    curves = _curves()
    first = curves.frame.groupby("recipe", sort=False)["x"].min().to_numpy()
    np.testing.assert_allclose(np.exp(reference_log_inputs(SIGMOID, curves.frame)["x"]), first)


def test_a_parameter_derived_per_recipe_cannot_be_shared():
    with pytest.raises(
        ValueError, match=r"shared: R0 cannot be shared by recipes .* choose from A, B, C_mid"
    ):
        build_spec(SIGMOID, _curves(), shared=("R0",))


def test_run_labels_that_already_name_their_recipe_are_not_prefixed_twice():
    frame = simulate_runs(params=TRUTH, n_runs=2, x_max=8000.0, rng=3)
    frame = frame.assign(recipe="base", seed="base/" + frame["seed"].astype(str))
    curves = load_curves(frame, x="gpu_hours", y="pass_rate", run="seed", recipe="recipe")
    assert all(run.count("base/") == 1 for run in curves.runs)
