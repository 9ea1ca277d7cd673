"""The compile-once path is exact: swapping data into a compiled model gives the
same log density as building the model afresh from that data.

The compiled model is the one the session's ``scalerl_fit`` put in the cache, so
nothing is compiled here; the fresh models are compiled with PyTensor's
FAST_COMPILE mode (a second or two).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import compiled_log_density

from bayescale.data.curves import load_curves
from bayescale.inference.fitting import build_spec
from bayescale.inference.sampling import compiled_model
from bayescale.model.build import build_model, model_arrays
from bayescale.model.laws import get_law


def _spec_and_arrays(csv, max_x, priors=None):
    curves = load_curves(
        csv, x="gpu_hours", y="pass_rate", run="seed", min_x=1500, max_x=max_x, bounded=True
    )
    spec = build_spec(get_law("sigmoid"), curves, priors=priors)
    return spec, model_arrays(spec, curves)


def _fresh_logp(spec, arrays, compiled):
    """Log density of a model built afresh from ``arrays``, as a function of the
    compiled model's flat unconstrained point."""
    model = build_model(spec, arrays, n_runs=3, n_recipes=1)
    logp = model.compile_logp(mode="FAST_COMPILE")
    value_names = {var.name for var in model.value_vars}
    names, slices, shapes = compiled.shape_info

    def at(point: np.ndarray) -> float:
        values = {
            name: point[part].reshape(shape)
            for name, part, shape in zip(names, slices, shapes, strict=True)
            if name in value_names
        }
        return float(logp(values))

    return at


@pytest.fixture(scope="module")
def cached(scalerl_fit, scalerl_csv):
    """The compiled model of the session fit's structure (a cache hit), and its inputs."""
    spec, arrays = _spec_and_arrays(scalerl_csv, 50_000)
    compiled, _, seconds = compiled_model(spec, arrays, n_runs=3, n_recipes=1)
    assert seconds == 0.0
    return spec, arrays, compiled


@pytest.mark.parametrize(
    ("max_x", "priors"),
    [
        (20_000, None),  # fewer points per run
        (50_000, {"A": "Beta(alpha=5, beta=3)", "residual_sd": "HalfNormal(sigma=0.1)"}),
    ],
    ids=["fewer-points", "new-prior-values"],
)
def test_swapped_data_give_the_log_density_of_a_fresh_model(cached, scalerl_csv, max_x, priors):
    spec, arrays, compiled = cached
    new_spec, new_arrays = _spec_and_arrays(scalerl_csv, max_x, priors)
    base = compiled.with_data(**arrays)
    swapped = base.with_data(**new_arrays)
    fresh_logp = _fresh_logp(new_spec, new_arrays, compiled)
    original_logp = _fresh_logp(spec, arrays, compiled)
    for seed in range(3):
        point = np.random.default_rng(seed).normal(0.0, 0.5, compiled.n_dim)
        fresh = fresh_logp(point)
        assert compiled_log_density(swapped, point) == pytest.approx(fresh, rel=1e-9)
        # The swap left the model it was made from untouched (fits running at the
        # same time cannot see each other's data), and the change matters.
        original = original_logp(point)
        assert compiled_log_density(base, point) == pytest.approx(original, rel=1e-9)
        assert abs(fresh - original) > 1e-3


def test_a_reused_model_starts_where_a_fresh_one_does():
    """Same seed, same numbers, whatever ran before in the process: a compiled model
    reused for another data set starts its chains at that data set's default point
    (its priors are centred on its own data), not at the first data set's."""
    import warnings

    import pandas as pd

    import bayescale as bs
    from bayescale.inference.sampling import clear_cache

    def ladder(scale: float) -> pd.DataFrame:
        x = np.geomspace(1e6, 1e9, 8) * scale
        rng = np.random.default_rng(0)
        return pd.DataFrame({"x": x, "loss": 30 * x**-0.1 * np.exp(0.01 * rng.standard_normal(8))})

    def draws(frame: pd.DataFrame) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bs.fit(frame, "power", x="x", y="loss", draws=20, tune=20, chains=1, seed=3)
        return fit.parameter_draws()["alpha"].to_numpy()

    clear_cache()
    fresh = draws(ladder(1.0))
    clear_cache()
    draws(ladder(1e6))  # another data set of the same structure, other prior centres
    assert np.array_equal(draws(ladder(1.0)), fresh)
