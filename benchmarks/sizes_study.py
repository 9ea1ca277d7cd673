"""Study: RL laws across model sizes (issue 16, part 3). Not a test: it prints tables.

For each simulation seed, five sizes (0.5B, 1B, 2B, 4B, 8B; 3 seeds each, 1k to
30k GPU-hours) are simulated from :data:`bayescale.studies.size_simulate.SCALERL_LIKE` (a truth
through ScaleRL's A(8B) = 0.61 and A(109B) = 0.71, A_max = 0.78). It then

(a) fits all five sizes and checks whether the true A at each fitted size, at
    1.09e11 (the 17Bx16 MoE's total parameters) and A_max lie in the 90% intervals;
(b) holds out the largest size (8B): fits the four smaller ones, predicts A(8B)
    and the 8B curve, and checks the true A(8B), the 8B evaluations' coverage
    by the 90% predictive interval (a new seed), and the 8B size fitted alone.

Run from the repository root (about a minute per seed on 2 busy cores)::

    .venv/bin/python benchmarks/sizes_study.py --seeds 10 --figure docs/figures/a_vs_size.png
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.analysis.size_backtest import backtest_largest_size
from bayescale.model.size_law import size_parameters
from bayescale.studies.size_simulate import simulate_sizes

SIZES = [5e8, 1e9, 2e9, 4e9, 8e9]
MOE = 1.09e11
CI = 0.9
COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "size": "size", "run": "seed"}


def _inside(row, value) -> bool:
    return bool(row["lower"] <= value <= row["upper"])


def one_seed(seed: int, sampler: dict) -> tuple[dict, object, pd.DataFrame]:
    df = simulate_sizes(SIZES, rng=seed)
    truth = df.attrs["truth"]
    true_a = {s: float(size_parameters(truth, np.log(s))["A"]) for s in [*SIZES, MOE]}
    full = bs.fit_sizes(df, **COLUMNS, **sampler, seed=seed)
    table = full.at_sizes([*SIZES, MOE], ci=CI).query("parameter == 'A'").set_index("size")
    a_max = full.fit.summary(CI).loc["A_max"]
    back = backtest_largest_size(df, **COLUMNS, ci=CI, **sampler, seed=seed)
    row = back.table.iloc[0]
    record = {
        "seed": seed,
        "fitted_A_inside": sum(_inside(table.loc[s], true_a[s]) for s in SIZES),
        "moe_A_median": table.loc[MOE, "median"],
        "moe_A_lower": table.loc[MOE, "lower"],
        "moe_A_upper": table.loc[MOE, "upper"],
        "moe_inside": _inside(table.loc[MOE], true_a[MOE]),
        "A_max_median": float(a_max["median"]),
        "A_max_inside": _inside(a_max, truth["A_max"]),
        "holdout_A_median": row["a_median"],
        "holdout_A_lower": row["a_lower"],
        "holdout_A_upper": row["a_upper"],
        "holdout_inside": bool(row["a_lower"] <= true_a[8e9] <= row["a_upper"]),
        "own_A_median": row["own_median"],
        "own_inside": bool(row["own_inside"]),
        "point_coverage": row["coverage"],
        "max_r_hat": max(full.fit.diagnostics.max_r_hat, back.sizes_fit.fit.diagnostics.max_r_hat),
        "divergences": full.fit.diagnostics.divergences
        + back.sizes_fit.fit.diagnostics.divergences,
    }
    return record, back, true_a


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--figure", help="write the A-vs-size figure of the first seed here")
    args = parser.parse_args()
    sampler = {"draws": args.draws, "tune": 1000, "chains": args.chains}
    warnings.simplefilter("ignore")
    records = []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        record, back, true_a = one_seed(seed, sampler)
        records.append(record)
        print(pd.DataFrame([record]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if args.figure and seed == args.first_seed:
            _figure(back, true_a, args.figure)
    table = pd.DataFrame(records)
    print(f"\n{len(table)} seeds, {time.perf_counter() - start:.0f} s")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        "\ntrue A inside the 90% interval: fitted sizes "
        f"{table['fitted_A_inside'].sum()}/{5 * len(table)}, "
        f"1.09e11 (all sizes fitted) {table['moe_inside'].sum()}/{len(table)}, "
        f"A_max {table['A_max_inside'].sum()}/{len(table)}, "
        f"held-out 8B {table['holdout_inside'].sum()}/{len(table)}; "
        f"8B fitted alone inside the predicted new-seed interval "
        f"{table['own_inside'].sum()}/{len(table)}; "
        f"held-out 8B evaluations inside their 90% predictive interval: "
        f"mean {table['point_coverage'].mean():.3f} "
        f"(range {table['point_coverage'].min():.3f}-{table['point_coverage'].max():.3f})"
    )


def _figure(back, true_a, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from bayescale.reporting.size_plots import plot_asymptote_by_size

    row = back.table.iloc[0]
    ax = plot_asymptote_by_size(
        back.sizes_fit,
        sizes=np.geomspace(3e8, 2e11, 80),
        ci=CI,
        held_out={row["size"]: row["own_median"]},
        truth=true_a,
    )
    ax.set_title(
        "A(N) fitted on 0.5B-4B; 8B held out; truth through ScaleRL's 8B and MoE", fontsize=8
    )
    ax.figure.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
