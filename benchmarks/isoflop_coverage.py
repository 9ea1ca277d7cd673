"""Coverage of the isoFLOP model's intervals over simulated data sets with known truth.

Run from the repository root (writes a CSV of rows and a rank-histogram figure):

    nice .venv/bin/python benchmarks/isoflop_coverage.py [N_DATASETS] [OUT_DIR]

Defaults: 100 data sets, docs/figures. Each data set: 10 budgets 6e18-1e22,
12 sizes per budget over a factor 30, truth drawn by
:func:`bayescale.studies.isoflop_study.draw_truth`; NUTS 2 chains x 1000 draws.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from bayescale.studies.isoflop_study import coverage_run, coverage_table


def main(count: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows, start = [], time.perf_counter()
    for seed in range(count):
        rows.append(coverage_run(seed))
        if (seed + 1) % 10 == 0:
            print(f"{seed + 1} data sets, {time.perf_counter() - start:.0f} s", flush=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "isoflop_coverage.csv", index=False)
    print(coverage_table(frame).to_string(float_format=lambda v: f"{v:.2f}"))
    print(
        "median 90% width of ln D*(3.8e25): isoflop "
        f"{frame['width90_log_d_target'].median():.3f}, two-step "
        f"{frame['twostep_width90_log_d_target'].median():.3f}"
    )
    print(
        f"divergences in {int((frame['divergences'] > 0).sum())} of {count} fits; "
        f"max r_hat {frame['max_r_hat'].max():.3f}"
    )
    figure, axes = plt.subplots(1, 2, figsize=(8, 3))
    for ax, name, label in zip(
        axes, ("rank_a", "rank_log_d_target"), ("exponent a", "ln D* at 3.8e25"), strict=True
    ):
        ax.hist(frame[name], bins=10, range=(0, 1), color="tab:blue", edgecolor="white")
        ax.axhline(count / 10, color="black", lw=1, ls="--")
        ax.set_xlabel(f"posterior quantile of the true {label}")
    axes[0].set_ylabel("data sets")
    figure.suptitle(f"isoFLOP model: SBC-style ranks over {count} simulated data sets", fontsize=9)
    figure.tight_layout()
    figure.savefig(out / "isoflop_coverage.png", dpi=120)
    print(f"total {time.perf_counter() - start:.0f} s; wrote {out}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100,
        Path(sys.argv[2] if len(sys.argv) > 2 else "docs/figures"),
    )
