"""Backtest of task-accuracy predictions on simulated ladders (docs/tasks.md).

Fits 60M-1B of each simulated ladder (bayescale.studies.task_study), predicts the
held-out 7B and 13B models and prints coverage of the 90% new-evaluation
intervals with its binomial band and the median absolute error (points).

    python benchmarks/task_study.py --datasets 50 --method two_step --csv results.csv
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from bayescale.studies.task_study import simulate_ladder, summarise_study, task_backtest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--method", choices=("two_step", "direct"), default="two_step")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--csv", help="write the per-prediction rows here (after each data set)")
    args = parser.parse_args()
    sampler = {"draws": 500, "tune": 500, "chains": 2, "seed": 11}
    rows, start = [], time.time()
    for index in range(args.datasets):
        ladder = simulate_ladder(rng=np.random.default_rng([args.seed, index]))
        table = task_backtest(ladder, method=args.method, sampler=sampler)
        rows.append(table.assign(dataset=index, method=args.method))
        if args.csv:
            pd.concat(rows, ignore_index=True).to_csv(args.csv, index=False)
        print(f"data set {index}: {time.time() - start:.0f} s", flush=True)
    results = pd.concat(rows, ignore_index=True)
    print(summarise_study(results).round(3).to_string())
    print(f"overall coverage {results['covered'].mean():.3f} over {len(results)} predictions")


if __name__ == "__main__":
    main()
