"""Benchmark: compile once, fit many (issue 7). Not a test: it prints figures.

On the bundled three-seed data (``bs.example_path("scalerl_3seeds")``, 1.5k to 50k
GPU-hours) and the default model (sigmoid, drift likelihood, A varying by seed),
it measures in one run:

(a) plain ``pymc.sample()`` with PyMC's default settings on the same PyMC model
    (built by :func:`bayescale.model.build.build_model` from the same arrays);
(b) our first (cold) fit: compile + sample;
(c) our later (warm) fits of new data of the same shape (simulated with the
    settings of ``bs.load_example("truth")``, new random seeds), with our default settings
    (4 chains) and (c') with as many chains as (a) used, for equal ESS;
(d) a 1000-resample bootstrap of the ScaleRL least-squares fit (all three seeds
    pooled into one curve);
(e) ``fit_many`` of 50 such curves with the default executor (local worker
    processes, each compiling once);

and prints medians, the ratio of each to (a), and the effective sample size
(minimum bulk ESS over the reported parameters) per second. Then it runs consecutive warm
fits and prints the process's resident memory (RSS) at the start and the end and
its slope per fit.

Run from the repository root::

    .venv/bin/python benchmarks/bench_fit.py
    .venv/bin/python benchmarks/bench_fit.py --plain 1 --warm 5 --many 10 --memory-fits 50
    .venv/bin/python benchmarks/bench_fit.py --likelihood ar1 --many 0 --memory-fits 0

Timings depend on the machine and on its load; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.baselines.least_squares import bootstrap_least_squares
from bayescale.data.curves import load_curves
from bayescale.data.examples import example_path, load_example
from bayescale.inference.diagnostics import check_convergence
from bayescale.inference.fitting import build_spec
from bayescale.inference.sampling import clear_cache
from bayescale.model.build import build_model, model_arrays
from bayescale.model.laws import get_law
from bayescale.studies.simulate import simulate_runs

ROOT = Path(__file__).resolve().parents[1]
CSV = example_path("scalerl_3seeds")
COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "run": "seed"}
WINDOW = {"min_x": 1500.0, "max_x": 50_000.0}


def similar_datasets(count: int, first_seed: int) -> list[pd.DataFrame]:
    """New data sets of the bundled data's shape, simulated like it (truth.json)."""
    truth = load_example("truth")["scalerl_3seeds.csv"]
    settings = dict(truth["settings"])
    settings.pop("law")
    return [
        simulate_runs(
            params=truth["params"], n_runs=truth["n_runs"], rng=first_seed + i, **settings
        )
        for i in range(count)
    ]


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call, and its value."""
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def plain_pymc_sample(seed: int, likelihood: str) -> tuple[float, float, int]:
    """Seconds, min bulk ESS and chain count of ``pymc.sample()`` with default settings."""
    import pymc as pm

    law = get_law("sigmoid")
    curves = load_curves(CSV, **COLUMNS, bounded=True, **WINDOW)
    spec = build_spec(law, curves, likelihood=likelihood)
    arrays = model_arrays(spec, curves)
    model = build_model(spec, arrays, len(curves.runs), len(curves.recipes))

    def run():
        with model:
            return pm.sample(random_seed=seed, progressbar=False)

    seconds, tree = timed(run)
    return seconds, check_convergence(tree, spec)[1], tree["posterior"].sizes["chain"]


def our_fit(data: Any, seed: int, likelihood: str, **settings: int) -> tuple[float, bs.Fit]:
    """Seconds of one ``bs.fit`` (default settings unless given), and the fit."""
    return timed(
        lambda: bs.fit(data, **COLUMNS, **WINDOW, likelihood=likelihood, seed=seed, **settings)
    )


def bootstrap_seconds(repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` 1000-resample least-squares bootstraps."""
    frame = pd.read_csv(CSV)
    r0 = float(frame.loc[frame["gpu_hours"] == frame["gpu_hours"].min(), "pass_rate"].mean())
    window = frame[frame["gpu_hours"].between(WINDOW["min_x"], WINDOW["max_x"])]
    x, y = window["gpu_hours"].to_numpy(), window["pass_rate"].to_numpy()
    return [
        timed(lambda i=i: bootstrap_least_squares(x, y, r0=r0, n_resamples=1000, rng=i))[0]
        for i in range(repeats)
    ]


def rss_mb() -> float:
    """Resident memory of this process in MB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def memory_over_warm_fits(datasets: list[pd.DataFrame], draws: int, likelihood: str) -> np.ndarray:
    """RSS (MB) after each of ``len(datasets)`` consecutive warm fits."""
    rss = []
    for i, frame in enumerate(datasets):
        bs.fit(frame, **COLUMNS, **WINDOW, likelihood=likelihood, seed=i, draws=draws, tune=draws)
        rss.append(rss_mb())
    return np.array(rss)


def slope(values: np.ndarray) -> float:
    """Least-squares slope of ``values`` against their index."""
    return float(np.polyfit(np.arange(values.size), values, 1)[0])


def fit_columns(timed_fits: list[tuple[float, bs.Fit]]) -> tuple[list[float], list[float]]:
    """Seconds and min bulk ESS of each timed fit."""
    return [s for s, _ in timed_fits], [f.diagnostics.min_ess_bulk for _, f in timed_fits]


def print_table(rows: list[tuple[str, list[float], list[float]]], plain_s: float, many: int):
    """Median seconds, ratio to (a), median min ESS and ESS per second of each row."""
    print(f"\n{'':36s} {'n':>3s} {'median s':>9s} {'/ (a)':>8s} {'min ESS':>8s} {'ESS/s':>8s}")
    for label, seconds, ess in rows:
        median_s, median_ess = statistics.median(seconds), statistics.median(ess)
        per_curve = median_s / many if label.startswith("(e)") else median_s
        print(
            f"{label:36s} {len(seconds):3d} {median_s:9.2f} {median_s / plain_s:8.3f} "
            f"{median_ess:8.0f} {median_ess / per_curve:8.0f}"
        )
    print(
        "ESS: median over fits of the minimum bulk ESS over the reported parameters (law, "
        "per-run, spread, noise); (e) gives ESS/s per curve; (d) counts its 1000 "
        "independent resamples as its ESS."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", type=int, default=2, help="repeats of plain pymc.sample")
    parser.add_argument("--warm", type=int, default=10, help="warm fits of new data")
    parser.add_argument("--bootstrap", type=int, default=3, help="repeats of the bootstrap")
    parser.add_argument("--many", type=int, default=50, help="data sets for fit_many (0: skip)")
    parser.add_argument("--memory-fits", type=int, default=200, help="warm fits for RSS (0: skip)")
    parser.add_argument(
        "--memory-draws", type=int, default=1000, help="draws (= tune) of the RSS fits"
    )
    parser.add_argument(
        "--likelihood", default="auto", help="observation model (default: auto, i.e. drift)"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    likelihood = args.likelihood
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at start")
    print(f"likelihood {likelihood}")

    plain = [plain_pymc_sample(seed, likelihood) for seed in range(args.plain)]
    plain_s = statistics.median(p[0] for p in plain)
    plain_chains = plain[0][2]
    clear_cache()
    cold_seconds, cold = our_fit(CSV, 0, likelihood)
    warm = [
        our_fit(frame, i, likelihood) for i, frame in enumerate(similar_datasets(args.warm, 1000))
    ]
    same_chains = [
        our_fit(frame, i, likelihood, chains=plain_chains)
        for i, frame in enumerate(similar_datasets(args.warm, 1000))
    ]
    rows = [
        (f"(a) pymc.sample, defaults ({plain_chains} ch)", [p[0] for p in plain],
         [p[1] for p in plain]),
        ("(b) bayescale cold fit", [cold_seconds], [cold.diagnostics.min_ess_bulk]),
        ("(c) bayescale warm fit", *fit_columns(warm)),
        (f"(c') warm fit, {plain_chains} chains like (a)", *fit_columns(same_chains)),
        ("(d) LS bootstrap, 1000", bootstrap_seconds(args.bootstrap), [1000.0]),
    ]  # fmt: skip
    if args.many:
        many_data = similar_datasets(args.many, 2000)
        many_seconds, many = timed(
            lambda: bs.fit_many(many_data, **COLUMNS, **WINDOW, likelihood=likelihood, seed=0)
        )
        many_ess = [f.diagnostics.min_ess_bulk for f in many.fits if f is not None]
        rows.append((f"(e) fit_many, {args.many} curves", [many_seconds], many_ess))
    print_table(rows, plain_s, args.many)

    warm_s = statistics.median(s for s, _ in warm)
    same_s = statistics.median(s for s, _ in same_chains)
    compile_s = cold.times.compile
    print(
        f"\nwarm fit / plain pymc.sample = 1/{plain_s / warm_s:.1f} ({plain_chains}-chain warm "
        f"fit: 1/{plain_s / same_s:.1f}); cold fit: compile {compile_s:.1f} s + sample "
        f"{cold.times.sample:.1f} s; warm fit: sample "
        f"{statistics.median(f.times.sample for _, f in warm):.2f} s"
    )
    if args.many:
        expected = compile_s + args.many * warm_s
        print(
            f"fit_many {args.many}: {many_seconds:.1f} s vs one compile + {args.many} warm "
            f"fits = {expected:.1f} s (ratio {many_seconds / expected:.2f}); failed "
            f"{len(many.failed)}; compiles inside workers "
            f"{sum(f.times.compile > 0 for f in many.fits if f)}"
        )
    if args.memory_fits:
        rss = memory_over_warm_fits(
            similar_datasets(args.memory_fits, 3000), args.memory_draws, likelihood
        )
        half = rss[rss.size // 2 :]
        print(
            f"\nRSS over {rss.size} warm fits (draws=tune={args.memory_draws}): "
            f"start {rss[0]:.0f} MB, end {rss[-1]:.0f} MB, slope {slope(rss) * 1024:.1f} "
            f"KB/fit (second half {slope(half) * 1024:.1f} KB/fit)"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
