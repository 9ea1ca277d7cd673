"""How long does a plan of 4 options x 100 simulations take? (prints seconds)

Usage (from the repository root)::

    .venv/bin/python benchmarks/plan_speed.py [SIMS]

Fits the bundled ``bayescale/data/examples/recipes.csv`` (``min_x`` 1500, default sampler; not
timed), then plans ``baseline_repeat`` against ``baseline`` with the options 3
and 6 new seeds and runs extended to 75k and 100k GPU-hours, ``SIMS`` (default
100) simulations each, and prints the plan's wall-clock time (including the
compile of the structures with more runs) and the time per refit.
"""

from __future__ import annotations

import sys
import time
import warnings

import bayescale as bs


def main() -> None:
    sims = int(sys.argv[1]) if len(sys.argv) > 1 else 100
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
    start = time.perf_counter()
    result = bs.plan(
        cmp,
        recipe="baseline_repeat",
        add_seeds=[3, 6],
        extend_to=[75_000, 100_000],
        sims=sims,
        seed=1,
    )
    seconds = time.perf_counter() - start
    print(
        result.ranked()[
            ["add_seeds", "extend_to", "extra_compute", "p_resolved", "mc_error"]
        ].to_string()
    )
    refits = sims * len(result.options)
    print(
        f"{len(result.options)} options x {sims} simulations: {seconds:.0f} s "
        f"({seconds / refits:.2f} s per refit)"
    )


if __name__ == "__main__":
    main()
