"""Do short refits reach the decisions of full refits? (prints agreement and times)

Usage (from the repository root)::

    .venv/bin/python benchmarks/refit_accuracy.py [N_CASES] [SEED]

Fits the bundled ``bayescale/data/examples/recipes.csv`` (``min_x`` 1500), then for ``N_CASES``
simulated futures (alternately: 3 new seeds of ``baseline_repeat``; its runs
extended to 100k GPU-hours) refits the grown data three times: as the planner
does (:data:`bayescale.analysis.planning.REFIT_SAMPLER`, started at the present
posterior mean, :func:`bayescale.analysis.planning.start_point`), with the
planner's previous settings (:data:`OLD`: 300 tuning steps from nutpie's default
start), and with the default 4 x 1000 draws after 1000 tuning steps (the
reference). It compares the decisions of ``baseline_repeat`` vs ``baseline`` and
the interval ends of each short refit with the reference's, and prints the
seconds per refit and the load average.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.analysis.future_data import Draw, future_frame, with_future
from bayescale.analysis.planning import REFIT_SAMPLER, refit_draws, start_point
from bayescale.analysis.recipes import difference_summary
from bayescale.inference.sampling import SamplerSettings

FULL = SamplerSettings(draws=1000, tune=1000, chains=4)
OLD = SamplerSettings(draws=400, tune=300, chains=1, cores=1, target_accept=0.9)
"""The planner's refit settings before the warm start (nutpie's default start)."""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    warnings.simplefilter("ignore")
    fit = bs.fit(
        "bayescale/data/examples/recipes.csv",
        recipe="recipe",
        x="gpu_hours",
        y="pass_rate",
        run="seed",
        min_x=1500,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    rows = []
    starts: dict[int, np.ndarray] = {}
    for case in range(n):
        add, extend = (3, None) if case % 2 == 0 else (0, 100_000.0)
        index = int(rng.integers(fit.posterior["posterior"].sizes["draw"] * 4))
        future = future_frame(
            fit,
            Draw.of(fit, index),
            "baseline_repeat",
            add_seeds=add,
            extend_to=extend,
            rng=np.random.default_rng(seed + case),
        )
        grown = with_future(fit.data, future)
        if len(grown.runs) not in starts:  # the planner computes one start per option
            starts[len(grown.runs)] = start_point(fit, grown)
        row = {"case": case, "option": "add 3 seeds" if add else "extend to 100k"}
        runs = (
            ("short", REFIT_SAMPLER, starts[len(grown.runs)]),
            ("old", OLD, None),
            ("full", FULL, None),
        )
        for name, settings, init in runs:
            start = time.perf_counter()
            draws, _ = refit_draws(
                fit.spec, grown, dataclasses.replace(settings, seed=case), "A", init=init
            )
            row[f"{name}_seconds"] = time.perf_counter() - start
            stats = difference_summary(draws["baseline_repeat"] - draws["baseline"], 0.02, 0.89)
            row.update({f"{name}_{k}": stats[k] for k in ("decision", "lower", "upper")})
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    for name in ("short", "old"):
        agree = (table[f"{name}_decision"] == table["full_decision"]).sum()
        print(f"{name}: decisions agree with the full refit in {agree} of {n} cases")
        for end in ("lower", "upper"):
            diff = (table[f"{name}_{end}"] - table[f"full_{end}"]).abs()
            print(f"  |{end} {name} - full|: median {diff.median():.4f}, max {diff.max():.4f}")
    print(
        f"seconds per refit: short median {table['short_seconds'].median():.2f}, "
        f"old median {table['old_seconds'].median():.2f}, "
        f"full median {table['full_seconds'].median():.2f}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
