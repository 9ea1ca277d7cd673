"""The issue's check: simulated sweeps with Llama 3's frontier D* = 0.29 C^0.53.

10 budgets 6e18-1e22, 12 sizes each over a factor 30 (centre missing the optimum by
exp(N(0, 0.3))), loss noise sd 0.01, truth a Chinchilla law with that frontier
(beta = 0.28). Fits the isoFLOP model and the Chinchilla law, prints the frontier and
the allocation at 3.8e25 FLOP beside the truth, designs the next runs for a run
budget equal to a 12-size sweep at the next budget, and writes isoflop_llama.png and
next_run_llama.png.

Run from the repository root:

    nice .venv/bin/python benchmarks/isoflop_llama.py [OUT_DIR] [SEED]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.analysis.isoflop import fit_isoflop
from bayescale.analysis.next_run import isoflop_candidates, naive_candidate, suggest_runs
from bayescale.reporting.isoflop_plots import plot_design, plot_isoflop, save_png
from bayescale.results.allocation import optimal_allocation
from bayescale.studies.isoflop_simulate import chinchilla_for_frontier, simulate_isoflop

TARGET = 3.8e25


def main(out: Path, seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = simulate_isoflop(rng=seed)
    truth = chinchilla_for_frontier()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit_isoflop(data, n="n", seed=seed)
        law = bs.fit(data, "chinchilla", n="n", d="d", y="loss", seed=seed)
    print(f"fits: {time.perf_counter() - start:.0f} s")
    print(result.summary(0.9).to_string(float_format=lambda v: f"{v:.4g}"))
    true = optimal_allocation(truth, TARGET)
    a2 = result.allocation([TARGET], 0.9).iloc[0]
    a3 = law.compute_optimal([TARGET], ci=0.9).iloc[0]
    rows = []
    for name in ("n_opt", "d_opt", "ratio"):
        rows.append(
            {
                "at 3.8e25": name,
                "truth": float(true[name]),
                "A2 median": a2[f"{name}_median"],
                "A2 90%": f"({a2[f'{name}_lower']:.3g}, {a2[f'{name}_upper']:.3g})",
                "A3 median": a3[f"{name}_median"],
                "A3 90%": f"({a3[f'{name}_lower']:.3g}, {a3[f'{name}_upper']:.3g})",
            }
        )
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    budgets = np.geomspace(data["compute"].min(), TARGET, 50)
    frontier = pd.DataFrame(
        {"compute": budgets, "n_opt": optimal_allocation(truth, budgets)["n_opt"]}
    )
    save_png(
        plot_isoflop(result, ci=0.9, extend_to=TARGET, approach3=law, truth=frontier),
        out / "isoflop_llama.png",
    )
    naive = naive_candidate(result, "sweep")
    candidates = pd.concat([isoflop_candidates(result), naive], ignore_index=True)
    design = suggest_runs(
        result,
        target_compute=TARGET,
        run_budget=float(naive["compute"].sum()),
        candidates=candidates,
    )
    print(f"run budget {design.run_budget:.3g}: sd of ln N*(3.8e25) now {design.prior_sd:.4f}, ")
    print(
        f"expected {design.expected_sd:.4f} after the design, "
        f"{design.candidates.set_index('candidate').loc[naive['candidate'].iloc[0], 'expected_sd']:.4f} "
        "after the naive sweep"
    )
    print(
        design.chosen[["label", "cost", "expected_sd"]].to_string(float_format=lambda v: f"{v:.4g}")
    )
    save_png(plot_design(design), out / "next_run_llama.png")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(
        Path(sys.argv[1] if len(sys.argv) > 1 else "docs/figures"),
        int(sys.argv[2]) if len(sys.argv) > 2 else 4,
    )
