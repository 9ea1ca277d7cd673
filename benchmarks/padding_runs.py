"""Experiment (not a test): could a run-count change avoid a recompile by padding?

The number of runs is part of a compiled model's structure. One way round it
would be to compile for a bucketed number of runs and leave the extra runs
empty (no observations point at them). This script fits the bundled three-seed
data (1.5k to 50k GPU-hours, default model) with three runs, and again in a
four-run model with one empty run, and prints compile and sampling seconds,
divergences, mean tree size and the summaries of A, B, C_mid and sigma_A.

Finding (docs/many.md): the posterior agrees, but the empty run adds divergences
and lowers the ESS of the spread, so bayescale does not pad.

Run from the repository root::

    .venv/bin/python benchmarks/padding_runs.py
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from bayescale.data.curves import load_curves
from bayescale.inference.fitting import build_spec
from bayescale.model.build import build_model, model_arrays
from bayescale.model.laws import get_law

CSV = Path(__file__).resolve().parents[1] / "data" / "scalerl_3seeds.csv"


def main() -> None:
    import arviz_stats as azs
    import nutpie

    warnings.simplefilter("ignore")
    curves = load_curves(
        CSV, x="gpu_hours", y="pass_rate", run="seed", min_x=1500, max_x=50_000, bounded=True
    )
    spec = build_spec(get_law("sigmoid"), curves)
    arrays = model_arrays(spec, curves)
    for n_runs in (3, 4):
        padded = {**arrays, "recipe_of_run": np.zeros(n_runs, dtype="int64")}
        start = time.perf_counter()
        compiled = nutpie.compile_pymc_model(build_model(spec, padded, n_runs, 1))
        compile_seconds = time.perf_counter() - start
        seconds = []
        for seed in range(3):
            start = time.perf_counter()
            tree = nutpie.sample(
                compiled.with_data(**padded),
                draws=1000,
                tune=1000,
                chains=4,
                seed=seed,
                progress_bar=False,
            )
            seconds.append(time.perf_counter() - start)
        stats = tree["sample_stats"]
        print(
            f"{n_runs} runs ({n_runs - 3} empty): compile {compile_seconds:.1f} s, "
            f"sample {', '.join(f'{s:.2f}' for s in seconds)} s, "
            f"divergences {int(stats['diverging'].sum())}, "
            f"mean steps {float(stats['n_steps'].mean()):.1f}"
        )
        post = tree["posterior"].to_dataset()[["A", "B", "C_mid", "sigma_A"]]
        summary = azs.summary(post, kind="all", round_to="none")
        print(summary[["mean", "sd", "ess_bulk", "r_hat"]].to_string(), "\n")


if __name__ == "__main__":
    main()
