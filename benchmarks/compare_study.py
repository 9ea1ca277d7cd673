"""Simulation study of the recipe-comparison rule (prints rates and run time).

Usage (from the repository root)::

    .venv/bin/python benchmarks/compare_study.py [N_REPLICATES] [SEED]

Each replicate simulates four recipes (see :mod:`bayescale.studies.decision_rates`), fits
the multi-recipe model (compiled once, then reused) and compares every recipe with
``base``. Printed: the share of each decision per recipe (Bayesian rule and the
paper's least-squares point rule), the time of the first (compiling) and the
median warm replicate, and the total.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from bayescale.studies.decision_rates import decision_rates, decision_study


def main() -> None:
    n_replicates = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    start = time.perf_counter()
    table = decision_study(n_replicates, seed=seed)
    total = time.perf_counter() - start
    per_replicate = table.groupby("replicate")["seconds"].first()
    pd.set_option("display.width", 200)
    print(f"{n_replicates} replicates, seed {seed}")
    print(decision_rates(table).round(3).to_string())
    print(
        f"first replicate (compiles) {per_replicate.iloc[0]:.1f} s; warm replicates: median "
        f"{per_replicate.iloc[1:].median():.2f} s; total {total:.0f} s"
    )
    print(
        f"replicates with divergences: {(table.groupby('replicate')['divergences'].first() > 0).sum()}"
        f"; max r_hat > 1.01: {(table.groupby('replicate')['max_r_hat'].first() > 1.01).sum()}"
    )


if __name__ == "__main__":
    main()
