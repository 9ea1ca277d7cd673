"""How long does a plan of 4 options x 100 simulations take? (prints seconds)

Usage (from the repository root)::

    .venv/bin/python benchmarks/plan_speed.py [SIMS] [--old]

Fits the bundled ``bayescale/data/examples/recipes.csv`` (``min_x`` 1500, default sampler; not
timed), then plans ``baseline_repeat`` against ``baseline`` with the options 3
and 6 new seeds and runs extended to 75k and 100k GPU-hours, ``SIMS`` (default
100) simulations each, and prints the plan's wall-clock time (including the
compile of the structures with more runs), the time per refit, the CPU time
of the process (all threads) and the load average (other processes on the
machine slow the plan down; the CPU time depends less on them).

With ``--old`` the same plan is then run with the planner's previous settings
(one refit at a time, 300 tuning steps from nutpie's default start) and both
times are printed with their ratio.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import bayescale as bs
from bayescale.inference.sampling import SamplerSettings

OLD = {
    "refit": SamplerSettings(draws=400, tune=300, chains=1, cores=1, target_accept=0.9),
    "workers": 1,
    "warm_start": False,
}
"""The planner's settings before the warm start and the parallel refits."""


def timed_plan(cmp, sims: int, **settings) -> tuple[bs.Plan, float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    result = bs.plan(
        cmp,
        recipe="baseline_repeat",
        add_seeds=[3, 6],
        extend_to=[75_000, 100_000],
        sims=sims,
        seed=1,
        **settings,
    )
    return result, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sims = int(args[0]) if args else 100
    warnings.simplefilter("ignore")
    cmp = bs.compare_recipes(
        bs.example_path("recipes"),
        recipe="recipe",
        x="gpu_hours",
        y="pass_rate",
        run="seed",
        baseline="baseline",
        min_x=1500,
        seed=1,
    )
    runs = [("new", {})] + ([("old", OLD)] if "--old" in sys.argv else [])
    seconds = {}
    for name, settings in runs:
        result, seconds[name], cpu = timed_plan(cmp, sims, **settings)
        print(
            result.ranked()[
                ["add_seeds", "extend_to", "extra_compute", "p_resolved", "mc_error"]
            ].to_string()
        )
        refits = sims * len(result.options)
        print(
            f"{name} settings ({result.notes[0]}): {len(result.options)} options x {sims} "
            f"simulations: {seconds[name]:.0f} s ({seconds[name] / refits:.2f} s per refit, "
            f"{cpu:.0f} CPU s); load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    if "old" in seconds:
        print(f"old / new: {seconds['old'] / seconds['new']:.2f}")


if __name__ == "__main__":
    main()
