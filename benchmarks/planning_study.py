"""Calibration of the planner and the stopping rule (simulation study; prints tables).

Usage (from the repository root)::

    .venv/bin/python benchmarks/planning_study.py [N_EXPERIMENTS] [SIMS] [SEED] [CSV] [START]

Runs :func:`bayescale.studies.planning_study.run_experiment` ``N_EXPERIMENTS`` times
(default 200, ``SIMS`` = 10 simulations per plan, seeds ``SEED``, ``SEED + 1``,
...; experiments ``START`` to ``N_EXPERIMENTS - 1`` only when ``START`` is given,
so that two processes can share the work), appending each row to ``CSV`` (default ``planning_study.csv``) as it goes,
then prints the calibration table (predicted against observed P(resolved), by
bins of the prediction), the stopping rule's table and the run time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from bayescale.studies.planning_study import calibration_table, run_experiment, stopping_table


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sims = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    path = Path(sys.argv[4] if len(sys.argv) > 4 else "planning_study.csv")
    first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    start = time.perf_counter()
    rows = []
    for i in range(first, n):
        rows.append(run_experiment(i, sims=sims, seed=seed + i))
        pd.DataFrame(rows).to_csv(path, index=False)
        print(f"experiment {i}: {rows[-1]['seconds']:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(f"experiments {first} to {n - 1}, {sims} simulations per plan, seed {seed}")
    print(calibration_table(table).round(3).to_string())
    print(stopping_table(table).round(3).to_string())
    print(
        f"total {time.perf_counter() - start:.0f} s; median experiment "
        f"{table['seconds'].median():.1f} s"
    )


if __name__ == "__main__":
    main()
