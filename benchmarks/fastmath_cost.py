"""Benchmark: what compiling without numba fast-math costs in sampling speed.

bayescale compiles the model with ``pytensor.config.numba__fastmath`` off so that
the same seed gives the same numbers with an empty and a filled compile cache
(:mod:`bayescale.inference.compile_cache`). This compiles the same model (the bundled
three-seed data, the sigmoid law) twice in one process, with fast-math off and
on, then times (a) the log density with its gradient, called directly many
times at fixed points (the precise measure), and (b) alternating fits of both:
median sampling seconds and seconds per 1,000 leapfrog steps (the two
compilations round differently, so their trajectories and step counts differ;
on a shared machine these are noisy), with the ratios off / on, per observation
model.

Run from the repository root::

    .venv/bin/python benchmarks/fastmath_cost.py
    .venv/bin/python benchmarks/fastmath_cost.py --likelihood normal ar1 drift --repeats 5

The machine's load average is printed; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import time
from pathlib import Path

import numpy as np

from bayescale.data.curves import load_curves
from bayescale.data.examples import example_path
from bayescale.inference import compile_cache
from bayescale.inference.fitting import build_spec
from bayescale.model.build import build_model, model_arrays
from bayescale.model.laws import get_law

ROOT = Path(__file__).resolve().parents[1]


def compiled_pair(likelihood: str) -> tuple[dict, dict, object]:
    """The model compiled with fast-math off and on, its arrays and its adaptation."""
    law = get_law("sigmoid")
    curves = load_curves(
        example_path("scalerl_3seeds"),
        x="gpu_hours",
        y="pass_rate",
        run="seed",
        bounded=True,
        min_x=1500,
    )
    spec = build_spec(law, curves, likelihood=likelihood)
    arrays = model_arrays(spec, curves)
    compiled = {
        fastmath: compile_cache.compile_pymc_model(
            build_model(spec, arrays, len(curves.runs), len(curves.recipes)), fastmath=fastmath
        ).with_data(**arrays)
        for fastmath in (False, True)
    }
    return compiled, arrays, spec


def gradient_microseconds(compiled, points: np.ndarray, blocks: int = 7) -> float:
    """Median over ``blocks`` of the mean microseconds per log density + gradient
    call of nutpie's C callback (through ctypes) over ``points``."""
    pointer = ctypes.POINTER(ctypes.c_double)
    call = compiled.compiled_logp_func.ctypes
    grad, logp = np.zeros(compiled.n_dim), np.zeros(())
    args = [
        (
            compiled.n_dim,
            point.ctypes.data_as(pointer),
            grad.ctypes.data_as(pointer),
            logp.ctypes.data_as(pointer),
            compiled.user_data.ctypes.data,
        )
        for point in points
    ]
    means = []
    for _ in range(blocks):
        start = time.perf_counter()
        for arguments in args:
            call(*arguments)
        means.append((time.perf_counter() - start) / len(args) * 1e6)
    return statistics.median(means)


def one_fit(compiled, spec, seed: int, draws: int) -> tuple[float, int]:
    """Sampling seconds and leapfrog steps of one 4-chain fit."""
    import nutpie

    start = time.perf_counter()
    tree = nutpie.sample(
        compiled,
        draws=draws,
        tune=draws,
        chains=4,
        seed=seed,
        target_accept=spec.likelihood_obj.target_accept,
        adaptation=spec.law_obj.adaptation,
        progress_bar=False,
        save_warmup=True,
    )
    seconds = time.perf_counter() - start
    steps = int(tree["sample_stats"]["n_steps"].sum())
    if "warmup_sample_stats" in tree.children:
        steps += int(tree["warmup_sample_stats"]["n_steps"].sum())
    return seconds, steps


def main() -> None:
    """Print the fast-math on/off comparison for each observation model."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--likelihood", nargs="+", default=["normal", "ar1"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--draws", type=int, default=1000)
    options = parser.parse_args()
    for likelihood in options.likelihood:
        compiled, _, spec = compiled_pair(likelihood)
        seconds: dict[bool, list[float]] = {False: [], True: []}
        per_kstep: dict[bool, list[float]] = {False: [], True: []}
        for repeat in range(options.repeats):
            for fastmath in (False, True) if repeat % 2 == 0 else (True, False):
                took, steps = one_fit(compiled[fastmath], spec, repeat + 1, options.draws)
                seconds[fastmath].append(took)
                per_kstep[fastmath].append(1000 * took / steps)
        points = np.random.default_rng(0).normal(scale=0.3, size=(2000, compiled[False].n_dim))
        micro: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(options.repeats):
            for fastmath in (False, True):
                micro[fastmath].append(gradient_microseconds(compiled[fastmath], points))
        micro_off, micro_on = (statistics.median(micro[flag]) for flag in (False, True))
        print(
            f"{likelihood:>8}: log density + gradient {micro_off:.2f} us with fast-math off, "
            f"{micro_on:.2f} us on; off / on {micro_off / micro_on:.2f}"
        )
        off, on = (statistics.median(per_kstep[flag]) for flag in (False, True))
        print(
            f"{likelihood:>8}: fast-math off {statistics.median(seconds[False]):6.2f} s "
            f"({off * 1000:.2f} ms / 1000 steps), on {statistics.median(seconds[True]):6.2f} s "
            f"({on * 1000:.2f} ms / 1000 steps); off / on per step {off / on:.2f} "
            f"[{np.min(per_kstep[False]) / np.min(per_kstep[True]):.2f} best-of] "
            f"(load {' '.join(f'{v:.2f}' for v in os.getloadavg())})"
        )


if __name__ == "__main__":
    main()
