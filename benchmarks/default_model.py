"""Benchmark of the default observation model (issue 11). Not a test: it prints figures.

On simulated ScaleRL-like data (sigmoid A 0.61, B 1.92, C_mid 2542, R0 0.28;
seed-to-seed A spread 0.01; drift sd 0.01, correlation 0.9; mean@16 on 1000
prompts) of 3 seeds x 125 evaluations (400 to 50,000 GPU-hours every 400) and
3 seeds x 500 evaluations (every 100), it measures in one run:

``convergence``
    default ``bs.fit`` settings on ``--datasets`` data sets of each size: max
    R-hat, min bulk ESS, divergences, and how many fits pass all three checks
    (R-hat <= 1.01, ESS >= 400, no divergence).
``speed``
    warm fits on the same 3 x 125 data: the default model, the ``normal`` model,
    a plain hand-written PyMC model (iid Normal noise around the sigmoid, one
    shared curve, ``pm.sample()`` defaults with nutpie), and the default model on
    3 x 500; medians and ratios to the plain model.
``memory``
    peak resident memory of a fresh process fitting a ``--rows``-row, 3-run file
    with the default model (short sampler settings: memory does not depend on
    the number of draws beyond the stored trace).

Run from the repository root::

    .venv/bin/python benchmarks/default_model.py
    .venv/bin/python benchmarks/default_model.py --parts speed --repeats 5
    .venv/bin/python benchmarks/default_model.py --parts convergence --datasets 20

Timings depend on the machine and its load; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.studies.simulate import simulate_runs

TRUTH = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}
COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "run": "seed"}
EVAL_EVERY = {125: 100, 500: 25}  # training steps of 4 GPU-hours between evaluations


def scalerl_like(evaluations: int, seed: int) -> pd.DataFrame:
    """Three seeds with ``evaluations`` evaluations each, up to 50,000 GPU-hours."""
    return simulate_runs(
        params=TRUTH,
        n_runs=3,
        x_max=50_000.0,
        gpu_hours_per_step=4.0,
        eval_every=EVAL_EVERY[evaluations],
        held_out_from=None,
        rng=seed,
    )


def convergence(datasets: int) -> None:
    """Diagnostics of default fits over many data sets of each size."""
    for evaluations in (125, 500):
        rows = []
        for i in range(datasets):
            fit = bs.fit(scalerl_like(evaluations, 1000 + i), **COLUMNS, seed=i)
            d = fit.diagnostics
            ok = d.max_r_hat <= 1.01 and d.min_ess_bulk >= 400 and d.divergences == 0
            rows.append((d.max_r_hat, d.min_ess_bulk, d.divergences, ok, fit.times.sample))
        table = pd.DataFrame(rows, columns=["max_r_hat", "min_ess_bulk", "divergences", "ok", "s"])
        print(f"\n3 x {evaluations} evaluations, {datasets} data sets, default settings")
        print(table.round(4).to_string())
        print(
            f"passing all checks: {int(table['ok'].sum())}/{datasets}; worst R-hat "
            f"{table['max_r_hat'].max():.4f}, lowest ESS {table['min_ess_bulk'].min():.0f}, "
            f"most divergences {table['divergences'].max()}, median sampling "
            f"{table['s'].median():.2f} s"
        )


def plain_pymc_model(frame: pd.DataFrame):
    """The textbook model a user would write: one sigmoid, iid Normal noise."""
    import pymc as pm

    x, y = frame["gpu_hours"].to_numpy(), frame["pass_rate"].to_numpy()
    with pm.Model() as model:
        a = pm.Beta("A", 2, 2)
        b = pm.LogNormal("B", np.log(1.5), 0.75)
        c_mid = pm.LogNormal("C_mid", np.log(x).mean(), 2)
        r0 = pm.TruncatedNormal("R0", y[:3].mean(), 0.15, lower=0, upper=1)
        sigma = pm.HalfNormal("sigma", 0.05)
        mu = r0 + (a - r0) / (1 + (c_mid / x) ** b)
        pm.Normal("obs", mu, sigma, observed=y)
    return model


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def speed(repeats: int) -> None:
    """Warm fit seconds of the default model against the alternatives."""
    import pymc as pm

    small = [scalerl_like(125, 2000 + i) for i in range(repeats + 1)]
    large = [scalerl_like(500, 3000 + i) for i in range(repeats + 1)]
    rows = {}
    for label, likelihood, data in (
        ("default (drift), 3 x 125", "auto", small),
        ("normal, 3 x 125", "normal", small),
        ("default (drift), 3 x 500", "auto", large),
    ):
        bs.fit(data[0], **COLUMNS, likelihood=likelihood, seed=0)  # compile
        rows[label] = [
            timed(lambda f=frame, i=i, lk=likelihood: bs.fit(f, **COLUMNS, likelihood=lk, seed=i))
            for i, frame in enumerate(data[1:])
        ]
    models = [plain_pymc_model(frame) for frame in small[1:]]

    def plain(model, seed):
        with model:
            pm.sample(random_seed=seed, progressbar=False)

    rows["plain pm.sample(), iid Normal, 3 x 125"] = [
        timed(lambda m=m, i=i: plain(m, i)) for i, m in enumerate(models)
    ]
    base = statistics.median(rows["plain pm.sample(), iid Normal, 3 x 125"])
    normal = statistics.median(rows["normal, 3 x 125"])
    print(f"\nwarm fits, {repeats} repeats (plain pm.sample compiles inside each call)")
    print(f"{'':42s} {'median s':>9s} {'/ plain':>8s} {'/ normal':>9s}")
    for label, seconds in rows.items():
        median = statistics.median(seconds)
        print(f"{label:42s} {median:9.2f} {median / base:8.2f} {median / normal:9.2f}")
    ratio = statistics.median(rows["default (drift), 3 x 500"]) / statistics.median(
        rows["default (drift), 3 x 125"]
    )
    print(f"3 x 500 / 3 x 125 (default model): {ratio:.2f}")


MEMORY_SCRIPT = """
import resource, sys, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
import bayescale as bs
rows = int(sys.argv[1]); per_run = rows // 3
rng = np.random.default_rng(0)
x = np.tile(np.arange(1, per_run + 1) * 50_000.0 / per_run, 3)
truth = 0.28 + (0.61 - 0.28) / (1 + (2542.0 / x) ** 1.92)
frame = pd.DataFrame({"seed": np.repeat(["s0", "s1", "s2"], per_run), "gpu_hours": x,
                      "pass_rate": truth + rng.normal(0, 0.01, x.size)})
fit = bs.fit(frame, x="gpu_hours", y="pass_rate", run="seed", draws=200, tune=200, seed=0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(f"{rows} rows: peak RSS {peak:.2f} GB, sampling {fit.times.sample:.1f} s, "
      f"max R-hat {fit.diagnostics.max_r_hat:.3f}")
"""


def memory(rows: int) -> None:
    """Peak memory of a fresh process fitting a large file."""
    print()
    subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(rows)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--parts", nargs="+", default=["convergence", "speed", "memory"], help="what to run"
    )
    parser.add_argument("--datasets", type=int, default=20, help="data sets per size")
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per model")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the memory test")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at start")
    if "speed" in args.parts:
        speed(args.repeats)
    if "convergence" in args.parts:
        convergence(args.datasets)
    if "memory" in args.parts:
        memory(args.rows)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
