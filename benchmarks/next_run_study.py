"""Designed next runs against the naive next step, in simulated worlds with known truth.

Run from the repository root:

    nice .venv/bin/python benchmarks/next_run_study.py [N_WORLDS] [OUT_DIR] [--replot]

Defaults: 20 worlds, docs/figures. For each world and each naive kind ("size":
the next larger size at the largest budget; "sweep": a 12-size sweep at the next
budget of the grid), the designer gets the same FLOP; both run sets are trained in
the simulated world and refitted. Writes next_run_study.csv and next_run_study.png.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from bayescale.studies.next_run_study import design_vs_naive


def main(count: int, out: Path, replot: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if replot:  # tables and figure from the saved CSV
        frame = pd.read_csv(out / "next_run_study.csv")
    else:
        rows = []
        for seed in range(count):
            for kind in ("size", "sweep"):
                rows.append(design_vs_naive(1000 + seed, kind=kind))
            print(f"{seed + 1} worlds, {time.perf_counter() - start:.0f} s", flush=True)
        frame = pd.DataFrame(rows)
        frame.to_csv(out / "next_run_study.csv", index=False)
    summary = frame.groupby("kind").agg(
        worlds=("seed", "size"),
        run_budget=("run_budget", "median"),
        width_before=("width_before", "median"),
        width_naive=("width_naive", "median"),
        width_design=("width_design", "median"),
        design_narrower=("width_design", lambda s: 0.0),
        cover_naive=("cover_naive", "mean"),
        cover_design=("cover_design", "mean"),
    )
    for kind, rows_kind in frame.groupby("kind"):
        summary.loc[kind, "design_narrower"] = float(
            (rows_kind["width_design"] < rows_kind["width_naive"]).mean()
        )
        ratio = rows_kind["width_design"] / rows_kind["width_naive"]
        summary.loc[kind, "median_ratio"] = float(ratio.median())
        for name in ("naive", "design"):
            error = rows_kind[f"linear_sd_{name}"] / rows_kind[f"sd_{name}"] - 1
            summary.loc[kind, f"linear_error_{name}"] = float(error.abs().median())
    print(summary.T.to_string(float_format=lambda v: f"{v:.4g}"))
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, (kind, rows_kind) in zip(axes[:2], frame.groupby("kind"), strict=True):
        ax.scatter(rows_kind["width_naive"], rows_kind["width_design"], s=12)
        values = rows_kind[["width_naive", "width_design"]].to_numpy()
        low, top = float(values.min()) / 1.2, float(values.max()) * 1.2
        ax.plot([low, top], [low, top], "k--", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("90% width of ln N*(3.8e25), naive")
        ax.set_ylabel("... designed runs, same FLOP")
        ax.set_title(
            f"naive = next larger {'size' if kind == 'size' else 'budget sweep'}", fontsize=9
        )
    ax = axes[2]
    for name, color in (("naive", "tab:orange"), ("design", "tab:blue")):
        ax.scatter(frame[f"sd_{name}"], frame[f"linear_sd_{name}"], s=10, color=color, label=name)
    low, high = (
        frame[["sd_naive", "sd_design"]].min().min(),
        frame[["sd_naive", "sd_design"]].max().max(),
    )
    ax.plot([low, high], [low, high], "k--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("posterior sd after refit on the runs")
    ax.set_ylabel("sd predicted before (linearised)")
    ax.legend(fontsize=7)
    ax.set_title("accuracy of the linearised prediction", fontsize=9)
    figure.tight_layout()
    figure.savefig(out / "next_run_study.png", dpi=120)
    print(f"total {time.perf_counter() - start:.0f} s; wrote {out}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 20,
        Path(sys.argv[2] if len(sys.argv) > 2 else "docs/figures"),
        replot="--replot" in sys.argv,
    )
