"""Study: recovery of the data-constrained law (issue 16, part 2). Not a test: it prints tables.

Each seed simulates 105 final losses (5 sizes 1e8-4e9 x unique tokens 1e8, 1e9,
1e10 x 1-64 epochs, 1% log-normal noise) from Muennighoff et al.'s published fit
(E 1.87, A 521, B 1488, alpha = beta = 0.353, R*_N 5.31, R*_D 15.39), fits the law
with default priors (Student-t likelihood) and checks whether each true
parameter lies in its 90% interval; it also prints the allocation under a data
budget (1e22 FLOP, 1e10 unique tokens) next to the truth's.

Run from the repository root::

    .venv/bin/python benchmarks/data_constrained_recovery.py --seeds 10
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

from bayescale.analysis.data_constrained import (
    MUENNIGHOFF,
    constrained_allocation,
    constrained_optimum,
    fit_data_constrained,
    simulate_data_constrained,
)

CI = 0.9
BUDGET = (1e22, 1e10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    true_opt = constrained_optimum(MUENNIGHOFF, *BUDGET)
    rows, allocations = [], []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        fit = fit_data_constrained(
            simulate_data_constrained(rng=seed), n="n", d="d", u="u", y="loss", seed=seed
        )
        summary = fit.summary(CI)
        row = {
            "seed": seed,
            "max_r_hat": fit.diagnostics.max_r_hat,
            "divergences": fit.diagnostics.divergences,
        }
        for name, value in MUENNIGHOFF.items():
            stats = summary.loc[name]
            row[name] = f"{stats['median']:.3g} ({stats['lower']:.3g}, {stats['upper']:.3g})"
            row[f"{name}_in"] = bool(stats["lower"] <= value <= stats["upper"])
        rows.append(row)
        alloc = constrained_allocation(fit, *BUDGET, ci=CI).iloc[0]
        allocations.append(
            {
                "seed": seed,
                "n_opt": f"{alloc['n_opt_median']:.3g} ({alloc['n_opt_lower']:.3g}, {alloc['n_opt_upper']:.3g})",
                "n_in": bool(alloc["n_opt_lower"] <= true_opt["n_opt"] <= alloc["n_opt_upper"]),
                "epochs": f"{alloc['epochs_median']:.3g} ({alloc['epochs_lower']:.3g}, {alloc['epochs_upper']:.3g})",
                "epochs_in": bool(
                    alloc["epochs_lower"] <= true_opt["epochs"] <= alloc["epochs_upper"]
                ),
                "chinchilla_n_opt": f"{alloc['chinchilla_n_opt_median']:.3g}",
            }
        )
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print(f"\n{len(table)} seeds, {time.perf_counter() - start:.0f} s; truth: {MUENNIGHOFF}")
    print(table[["seed", *MUENNIGHOFF, "max_r_hat", "divergences"]].to_string(index=False))
    inside = {name: int(table[f"{name}_in"].sum()) for name in MUENNIGHOFF}
    print(f"true value inside the 90% interval (of {len(table)}): {inside}")
    print(
        f"\nallocation at C = {BUDGET[0]:g} FLOP, U = {BUDGET[1]:g} unique tokens; truth: "
        f"N_opt {float(true_opt['n_opt']):.3g}, epochs {float(true_opt['epochs']):.3g}, "
        f"Chinchilla's unconstrained N_opt {float(true_opt['chinchilla_n_opt']):.3g}"
    )
    alloc_table = pd.DataFrame(allocations)
    print(alloc_table.to_string(index=False))
    print(
        f"N_opt inside: {alloc_table['n_in'].sum()}/{len(alloc_table)}, "
        f"epochs inside: {alloc_table['epochs_in'].sum()}/{len(alloc_table)}"
    )


if __name__ == "__main__":
    main()
