"""Benchmark: what compiling without numba fast-math costs in sampling speed.

bayescale compiles the model with ``pytensor.config.numba__fastmath`` off so that
the same seed gives the same numbers with an empty and a filled compile cache
(:mod:`bayescale.compile_cache`). This compiles the same model (the bundled
three-seed data, the sigmoid law) twice in one process, with fast-math off and
on, then alternates fits of both and prints the median sampling seconds, the
median seconds per 1,000 leapfrog steps (the fair speed measure: the two
compilations round differently, so their trajectories and step counts differ)
and the ratio off / on, per observation model.

Run from the repository root::

    .venv/bin/python benchmarks/fastmath_cost.py
    .venv/bin/python benchmarks/fastmath_cost.py --likelihood normal ar1 drift --repeats 5

The machine's load average is printed; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from bayescale import compile_cache
from bayescale.data import load_curves
from bayescale.fitting import build_spec
from bayescale.laws import get_law
from bayescale.model import build_model, model_arrays

ROOT = Path(__file__).resolve().parents[1]


def compiled_pair(likelihood: str) -> tuple[dict, dict, object]:
    """The model compiled with fast-math off and on, its arrays and its adaptation."""
    law = get_law("sigmoid")
    curves = load_curves(
        ROOT / "data" / "scalerl_3seeds.csv",
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
