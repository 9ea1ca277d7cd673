"""The callback disk cache (bayescale.inference.compile_cache): reused across compiles,
keyed by graph and versions, correct for custom Ops, and compiled without
fast-math so the numbers do not depend on the cache state; the model entries
that let a new process skip graph rewriting give the same numbers as a compile,
and are keyed so that a changed law, prior family or package version misses.

The models here are tiny (one free variable), so each compile takes seconds;
the fresh-process check on the real model is the ``slow`` test at the end
(``benchmarks/cold_start.py`` times the same thing).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import compiled_log_density
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import (
    numba_funcify,
    numba_njit,
    register_funcify_default_op_cache_key,
)
from pytensor.tensor import as_tensor_variable, dscalar

import bayescale as bs
from bayescale.data.examples import example_path
from bayescale.inference import compile_cache, fitting, sampling
from bayescale.model.build import ModelSpec, structure_key
from bayescale.model.op_versions import source_version
from bayescale.model.priors import Prior

ROOT = Path(__file__).resolve().parents[1]
Y = np.array([0.3, -1.2, 0.8, 2.0, 0.1])


class _SquaredDistance(Op):
    """sum((x - mu)**2) with a numba implementation, as a custom likelihood Op has."""

    __props__ = ()

    def make_node(self, x, mu):
        x, mu = as_tensor_variable(x), as_tensor_variable(mu)
        return Apply(self, [x, mu], [dscalar()])

    def perform(self, node, inputs, outputs):
        x, mu = inputs
        outputs[0][0] = np.asarray(((x - mu) ** 2).sum())

    def pullback(self, inputs, outputs, cotangents):
        x, mu = inputs
        (g,) = cotangents
        return [2.0 * g * (x - mu), -2.0 * g * (x - mu).sum()]


class _CachedSquaredDistance(_SquaredDistance):
    """Registered with a cache key, as PyTensor's own Ops are."""


class _UnkeyedSquaredDistance(_SquaredDistance):
    """Registered through the legacy dispatch only: PyTensor cannot key its graph."""


def _squared_distance_impl():
    @numba_njit
    def squared_distance(x, mu):
        total = 0.0
        for value in x:
            total += (value - mu) ** 2
        return np.array(total, dtype=np.float64)

    return squared_distance


@register_funcify_default_op_cache_key(_CachedSquaredDistance)
def _funcify_cached(op, node=None, **kwargs):
    # the version makes an edit of the kernel a new cache entry
    return _squared_distance_impl(), source_version(_squared_distance_impl)


@numba_funcify.register(_UnkeyedSquaredDistance)
def _funcify_unkeyed(op, node=None, **kwargs):
    return _squared_distance_impl()


def _model(op_class: type, y: np.ndarray = Y):
    import pymc as pm

    with pm.Model() as model:
        y = pm.Data("y", y)
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Potential("lik", -0.5 * op_class()(y, mu))
    return model


def _exact_logp(mu: float, y: np.ndarray) -> float:
    """The model's log density by PyTensor's Python implementations (no numba)."""
    logp = _model(_SquaredDistance, y).compile_logp(mode="FAST_COMPILE")
    return float(logp({"mu": mu}))


def _cache_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.nbi"))


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv(compile_cache.ENV_DIR, str(tmp_path / "cache"))
    monkeypatch.delenv(compile_cache.ENV_SWITCH, raising=False)
    return tmp_path / "cache"


def _kernel_one(x):
    return x + 1.0


def _kernel_two(x):
    return x + 2.0


def test_source_version_follows_the_kernel_source():
    one = source_version(_kernel_one)
    assert one == source_version(_kernel_one)
    assert 0 <= one < 2**63
    assert one != source_version(_kernel_two)
    assert source_version(numba_njit(_kernel_one)) == one  # via py_func
    assert source_version(_kernel_one, _kernel_two) not in (one, None)


def test_cache_location_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(compile_cache.ENV_DIR, str(tmp_path))
    assert compile_cache.callback_cache_dir().parent == tmp_path
    monkeypatch.delenv(compile_cache.ENV_DIR)
    assert compile_cache.cache_root() == compile_cache.default_cache_root()
    for off in ("0", "false", "OFF", "no"):
        monkeypatch.setenv(compile_cache.ENV_SWITCH, off)
        assert not compile_cache.cache_enabled()
    monkeypatch.setenv(compile_cache.ENV_SWITCH, "1")
    assert compile_cache.cache_enabled()


def test_another_package_version_uses_another_directory(cache_root, monkeypatch):
    before = compile_cache.callback_cache_dir()
    real = compile_cache.versions()
    monkeypatch.setattr(compile_cache, "versions", lambda: {**real, "pytensor": "0.0.0"})
    assert compile_cache.callback_cache_dir() != before


def test_custom_op_callbacks_are_cached_and_reused(cache_root):
    first = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert first.compiled_logp_func.cache_hits == 0
    assert len(_cache_files(cache_root)) == 2  # logp and expand
    second = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert second.compiled_logp_func.cache_hits == 1
    assert second.compiled_expand_func.cache_hits == 1
    for mu in (-1.5, 0.0, 0.7):
        point = np.array([mu])
        assert compiled_log_density(second, point) == compiled_log_density(first, point)
        assert compiled_log_density(second, point) == pytest.approx(_exact_logp(mu, Y), rel=1e-12)


def test_cached_callbacks_read_new_data(cache_root):
    compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    compiled = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert compiled.compiled_logp_func.cache_hits == 1
    longer = np.linspace(-1.0, 1.0, 9)
    swapped = compiled.with_data(y=longer)
    assert compiled_log_density(swapped, np.array([0.4])) == pytest.approx(
        _exact_logp(0.4, longer), rel=1e-12
    )


def test_a_broken_entry_is_replaced(cache_root):
    compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    for data in cache_root.rglob("*.nbc"):
        data.write_bytes(data.read_bytes()[:100])  # truncated, as by a full disk
    with pytest.warns(RuntimeWarning, match="compiling again"):
        compiled = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert compiled_log_density(compiled, np.array([0.5])) == pytest.approx(
        _exact_logp(0.5, Y), rel=1e-12
    )
    again = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert again.compiled_logp_func.cache_hits == 1


def test_unkeyed_custom_op_compiles_without_the_cache(cache_root):
    compiled = compile_cache.compile_pymc_model(_model(_UnkeyedSquaredDistance))
    # the expand function does not contain the Op, so only it is cached
    assert [path.name.split("-")[0] for path in _cache_files(cache_root)] == [
        "bayescale_callbacks.bayescale_expand"
    ]
    assert compiled_log_density(compiled, np.array([0.5])) == pytest.approx(
        _exact_logp(0.5, Y), rel=1e-12
    )


def test_switched_off_cache_writes_nothing(cache_root, monkeypatch):
    monkeypatch.setenv(compile_cache.ENV_SWITCH, "0")
    compiled = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert _cache_files(cache_root) == []
    assert compiled_log_density(compiled, np.array([0.5])) == pytest.approx(
        _exact_logp(0.5, Y), rel=1e-12
    )


def test_compiled_without_fastmath(cache_root):
    import nutpie
    import pytensor

    before = pytensor.config.numba__fastmath
    compiled = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert compiled.logp_func.vm.jit_fn.targetoptions["fastmath"] is False
    assert pytensor.config.numba__fastmath == before  # the user's setting is left alone
    tree = nutpie.sample(compiled, draws=100, tune=100, chains=1, seed=3, progress_bar=False)
    assert tree["posterior"]["mu"].shape == (1, 100)


def test_clear_cache_removes_the_entries(cache_root):
    compile_cache.compile_pymc_model(_model(_CachedSquaredDistance))
    assert _cache_files(cache_root)
    compile_cache.clear_cache()
    assert _cache_files(cache_root) == []


def _posterior(compiled, seed: int = 11) -> np.ndarray:
    import nutpie

    tree = nutpie.sample(compiled, draws=60, tune=60, chains=1, seed=seed, progress_bar=False)
    return tree["posterior"]["mu"].to_numpy()


def _no_rewriting(*args, **kwargs):
    raise AssertionError("the graph was rewritten although the model entry was on disk")


def test_a_model_entry_loads_without_rewriting_and_gives_the_same_numbers(cache_root, monkeypatch):
    from nutpie import compile_pymc as nutpie_pymc

    compiled = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance), entry="e1")
    assert compiled.logp_func is not None  # compiled: nothing to load yet
    (entry,) = (cache_root / "models").glob("*.json")
    assert json.loads(entry.read_text())["format"] == compile_cache.CACHE_FORMAT
    monkeypatch.setattr(nutpie_pymc, "_make_functions", _no_rewriting)
    loaded = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance), entry="e1")
    assert loaded.logp_func is None and loaded.compiled_logp_func.cache_hits == 1
    for mu in (-1.5, 0.7):
        point = np.array([mu])
        assert compiled_log_density(loaded, point) == compiled_log_density(compiled, point)
    np.testing.assert_array_equal(_posterior(loaded), _posterior(compiled))
    longer = np.linspace(-1.0, 1.0, 9)  # the loaded model swaps data in as a compiled one
    assert compiled_log_density(loaded.with_data(y=longer), np.array([0.4])) == pytest.approx(
        _exact_logp(0.4, longer), rel=1e-12
    )


def test_a_damaged_entry_compiles_afresh_and_is_rewritten(cache_root):
    compile_cache.compile_pymc_model(_model(_CachedSquaredDistance), entry="e2")
    (entry,) = (cache_root / "models").glob("*.json")
    entry.write_text('{"format": ' + str(compile_cache.CACHE_FORMAT) + ', "n_dim": 1}')
    compiled = compile_cache.compile_pymc_model(_model(_CachedSquaredDistance), entry="e2")
    assert compiled.logp_func is not None
    assert "logp_key" in json.loads(entry.read_text())
    assert not list((cache_root / "models").glob("*.tmp"))  # written by rename


def test_no_model_entry_when_the_cache_is_off(cache_root, monkeypatch):
    monkeypatch.setenv(compile_cache.ENV_SWITCH, "off")
    compile_cache.compile_pymc_model(_model(_CachedSquaredDistance), entry="e3")
    assert not (cache_root / "models").exists()


@pytest.fixture(scope="module")
def default_spec() -> tuple[ModelSpec, int, int]:
    """The default model of the bundled three-seed data, with its run and recipe counts."""
    law = bs.get_law("sigmoid")
    curves = fitting.curves_for_law(
        example_path("scalerl_3seeds"), law, x="gpu_hours", y="pass_rate", run="seed"
    )
    return fitting.build_spec(law, curves), len(curves.runs), len(curves.recipes)


def _entry_key(spec: ModelSpec, n_runs: int, n_recipes: int) -> str | None:
    return compile_cache.model_entry_key(
        structure_key(spec, n_runs, n_recipes), (spec.law_obj, spec.likelihood_obj)
    )


def test_the_model_entry_key_misses_on_any_change_of_structure(default_spec, monkeypatch):
    spec, n_runs, n_recipes = default_spec
    key = _entry_key(spec, n_runs, n_recipes)
    assert key is not None and key == _entry_key(spec, n_runs, n_recipes)
    # prior values are data swapped in, not structure: the same entry
    wider = {**spec.priors, "B": Prior("LogNormal", mu=1.0, sigma=2.0)}
    assert spec.priors["B"].dist == "LogNormal"
    assert _entry_key(dataclasses.replace(spec, priors=wider), n_runs, n_recipes) == key
    other_family = {**spec.priors, "B": Prior("Gamma", alpha=2.0, beta=1.0)}
    changed = [
        _entry_key(dataclasses.replace(spec, priors=other_family), n_runs, n_recipes),
        _entry_key(dataclasses.replace(spec, law="saturating"), n_runs, n_recipes),
        _entry_key(dataclasses.replace(spec, likelihood="normal"), n_runs, n_recipes),
        _entry_key(dataclasses.replace(spec, varying=()), n_runs, n_recipes),
        _entry_key(spec, n_runs + 1, n_recipes),
    ]
    real = compile_cache.versions()
    monkeypatch.setattr(compile_cache, "versions", lambda: {**real, "pytensor": "0.0.0"})
    changed.append(_entry_key(spec, n_runs, n_recipes))
    monkeypatch.setattr(compile_cache, "versions", lambda: real)
    monkeypatch.setenv("PYTENSOR_FLAGS", "optimizer_excluding=fusion")
    changed.append(_entry_key(spec, n_runs, n_recipes))
    assert None not in changed and len({key, *changed}) == len(changed) + 1


def test_a_users_law_gets_no_model_entry(default_spec):
    spec = default_spec[0]

    def hill(x, top, k):
        return top * x / (k + x)

    law = bs.law_from_function(
        hill, {"top": "Normal(mu=1, sigma=1)", "k": "LogNormal(mu=0, sigma=1)"}, name="fc_hill"
    )
    assert compile_cache.model_entry_key(("fc_hill",), (law, spec.likelihood_obj)) is None


def test_hit_and_miss_of_the_default_models_entry_give_the_same_posterior(default_spec):
    """The default model (drift likelihood, its Kalman Op) sampled after a compile
    that rewrote its graph and after one loaded from its entry: the same draws."""
    spec, n_runs, n_recipes = default_spec
    entry = compile_cache._entry_path(_entry_key(spec, n_runs, n_recipes))
    entry.unlink(missing_ok=True)
    options = {"draws": 50, "tune": 50, "chains": 2, "seed": 3}
    sampling.clear_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        missed = fitting.fit(
            example_path("scalerl_3seeds"), x="gpu_hours", y="pass_rate", run="seed", **options
        )
    assert missed.times.compile > 0 and entry.is_file()
    sampling.clear_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hit = fitting.fit(
            example_path("scalerl_3seeds"), x="gpu_hours", y="pass_rate", run="seed", **options
        )
    for name in ("A", "B", "C_mid"):
        np.testing.assert_array_equal(
            hit.tree["posterior"][name].to_numpy(), missed.tree["posterior"][name].to_numpy()
        )


def _fresh_fit(caches: Path, out: Path) -> dict:
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": f"base_compiledir={caches / 'pytensor'}",
        compile_cache.ENV_DIR: str(caches / "bayescale"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop(compile_cache.ENV_SWITCH, None)
    args = [
        sys.executable,
        "-m",
        "bayescale.cli",
        "fit",
        str(example_path("scalerl_3seeds")),
        "--x",
        "gpu_hours",
        "--y",
        "pass_rate",
        "--run",
        "seed",
        "--min-x",
        "1500",
        "--likelihood",
        "normal",
        "--draws",
        "300",
        "--tune",
        "300",
        "--seed",
        "5",
        "--out",
        str(out),
        "--overwrite",
    ]
    subprocess.run(args, env=env, check=True, capture_output=True)
    result = json.loads((out / "fit.json").read_text())
    result.pop("files")
    return result


@pytest.mark.slow
def test_seed_reproduces_fit_json_with_empty_and_filled_cache(tmp_path):
    """Two new processes, the first with empty caches, the second with the caches
    the first filled: every number in fit.json is the same (with PyTensor's
    default fast-math flags they were not: issue 11)."""
    empty = _fresh_fit(tmp_path / "caches", tmp_path / "first")
    filled = _fresh_fit(tmp_path / "caches", tmp_path / "second")
    assert _cache_files(tmp_path / "caches" / "bayescale")
    assert filled == empty
