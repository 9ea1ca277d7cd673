"""Benchmark: how a fit's cost grows with the size of the log (issue 23, item 5).

Simulates 10 runs of one recipe (ScaleRL-like sigmoid, drift and prompt noise as
:func:`bayescale.studies.simulate.simulate_runs`) with 10^3, 10^4 and 10^5
evaluations per run (10^4, 10^5 and 10^6 rows), compiles the default model once
(the three data sets share its structure) and prints, per size, the median time
of one log density and gradient evaluation, that time per 10^5 points (flat when
the cost is linear in the points), and the sampling-time estimate the CLI prints
before a fit of at least 10^4 points on a terminal
(:func:`bayescale.inference.sampling.duration_note`).

Run from the repository root::

    .venv/bin/python benchmarks/large_logs.py
"""

from __future__ import annotations

import os
import sys
import time

from bayescale.inference.fitting import build_spec, curves_for_law
from bayescale.inference.sampling import compiled_model, duration_note, gradient_seconds
from bayescale.model.build import model_arrays
from bayescale.model.laws import get_law
from bayescale.results.provenance import SamplerSettings
from bayescale.studies.simulate import simulate_runs

RUNS = 10
X_MAX = 100_000.0


def arrays_for(points_per_run: int):
    """Model arrays of the default model for RUNS runs of ``points_per_run`` evaluations."""
    frame = simulate_runs(
        params={"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.3},
        n_runs=RUNS,
        x_max=X_MAX,
        gpu_hours_per_step=X_MAX / (100 * points_per_run),
        held_out_from=None,
        rng=0,
    )
    law = get_law("sigmoid")
    curves = curves_for_law(frame, law, x="gpu_hours", y="pass_rate", run="seed")
    spec = build_spec(law, curves)
    return spec, model_arrays(spec, curves)


def main() -> int:
    """Print the per-size figures."""
    print(f"cost of the default model against the log's size; cpus {os.cpu_count()}")
    settings = SamplerSettings()
    compiled = None
    for points_per_run in (1_000, 10_000, 100_000):
        start = time.perf_counter()
        spec, arrays = arrays_for(points_per_run)
        prepared = time.perf_counter() - start
        if compiled is None:
            compiled, _, compile_seconds = compiled_model(spec, arrays, RUNS, 1)
            print(f"compiled in {compile_seconds:.1f} s")
        rows = len(arrays["y"])
        seconds = gradient_seconds(compiled, arrays, repeats=7)
        print(
            f"{rows:>9,} rows: data {prepared:5.1f} s, gradient {seconds * 1e3:8.2f} ms, "
            f"{seconds * 1e5 / rows * 1e3:6.2f} ms per 1e5 points; "
            f"{duration_note(compiled, arrays, settings)}  (load {os.getloadavg()[0]:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
