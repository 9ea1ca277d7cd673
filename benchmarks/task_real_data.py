"""The direct task law on public benchmark tables of open model families (docs/tasks.md).

Reads the Observational Scaling Laws table (Ruan et al. 2024,
github.com/ryoungj/ObsScaling, ``eval_results/base_llm_benchmark_eval.csv``; pass
its path, never commit a copy). Per family, fits accuracy against training FLOPs
(``bayescale.fit_task(..., method="direct")``, chance 0.25, binomial in the
benchmark's questions) on the smaller models and checks the larger ones against
their 90% new-evaluation intervals.

    python benchmarks/task_real_data.py path/to/base_llm_benchmark_eval.csv
"""

from __future__ import annotations

import argparse

import pandas as pd

import bayescale as bs

QUESTIONS = {"ARC-C": 1172, "HellaSwag": 10042, "MMLU": 14042}
"""Four-choice benchmarks and their number of questions."""
SPLITS = {"Pythia": 3e9, "OPT": 7e9, "Qwen1.5": 15e9}
"""Per family: models up to this many parameters are fitted, the larger held out."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("table", help="base_llm_benchmark_eval.csv of the ObsScaling repository")
    args = parser.parse_args()
    table = pd.read_csv(args.table)
    table["compute"] = table["FLOPs (1E21)"] * 1e21
    rows = []
    for family, cut in SPLITS.items():
        models = table[table["Model Family"] == family].dropna(subset=["compute"])
        large = models["Model Size (B)"] * 1e9 > cut
        for task, questions in QUESTIONS.items():
            fitted = models[~large].dropna(subset=[task])
            held = models[large].dropna(subset=[task])
            fit = bs.fit_task(
                fitted,
                task,
                compute="compute",
                method="direct",
                chance=0.25,
                questions=questions,
                draws=1000,
                tune=1000,
                chains=2,
                seed=5,
            )
            pred = bs.predict_task(fit, compute=held["compute"].to_numpy(), ci=0.9)
            pred["family"] = family
            pred["size_B"] = held["Model Size (B)"].to_numpy()
            pred["observed"] = held[task].to_numpy()
            pred["covered"] = pred["eval_lower"].le(pred["observed"]) & pred["observed"].le(
                pred["eval_upper"]
            )
            pred["abs_error"] = 100 * (pred["median"] - pred["observed"]).abs()
            rows.append(pred)
    results = pd.concat(rows, ignore_index=True)
    columns = ["family", "task", "size_B", "observed", "median", "eval_lower", "eval_upper"]
    print(results[[*columns, "covered", "abs_error"]].round(3).to_string())
    print(
        f"covered {results['covered'].sum()}/{len(results)}, "
        f"median absolute error {results['abs_error'].median():.1f} points"
    )


if __name__ == "__main__":
    main()
