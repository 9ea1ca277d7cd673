"""Approach 2 on the published Chinchilla runs, beside Hoffmann et al.'s own Approach 2.

The Epoch AI reconstruction of Chinchilla's Figure 4 (../shared/anchors/chinchilla)
holds every run, not only the isoFLOP sweeps. Runs within 0.04 decades of the nine
isoFLOP budgets of Hoffmann et al. (2022, Figure 3: 6e18 ... 3e21 FLOP) are taken as
those sweeps, with their nominal budget as compute, after dropping the five highest
losses as the replication did. Prints our frontier exponents beside the published
Approach 2 values (Hoffmann et al. Table 2: a = 0.49, 80% CI 0.462-0.534; b = 0.51,
0.483-0.529) and the Approach 3 (Chinchilla law) fit of the same runs; writes
isoflop_chinchilla.png.

Run from the repository root:

    nice .venv/bin/python benchmarks/isoflop_chinchilla.py [OUT_DIR]
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
from bayescale.analysis.isoflop import chinchilla_exponents, fit_isoflop, stats
from bayescale.reporting.isoflop_plots import plot_isoflop, save_png

PATH = Path("../shared/anchors/chinchilla/svg_extracted_data.csv")
BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)
PUBLISHED = {"a": (0.49, 0.462, 0.534), "b": (0.51, 0.483, 0.529)}  # point, 80% interval
CHINCHILLA_BUDGET = 5.76e23


def sweeps(path: Path = PATH) -> pd.DataFrame:
    """Runs near the nine isoFLOP budgets, five highest losses dropped."""
    frame = pd.read_csv(path)
    frame = frame.drop(frame["loss"].nlargest(5).index)
    log_c = np.log10(frame["Training FLOP"].to_numpy())
    rows = []
    for budget in BUDGETS:
        near = np.abs(log_c - np.log10(budget)) < 0.04
        part = frame.loc[near, ["Model Size", "loss"]].rename(columns={"Model Size": "n"})
        rows.append(part.assign(compute=budget))
    return pd.concat(rows, ignore_index=True)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = sweeps()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit_isoflop(data, n="n", seed=1)
        law = bs.fit(
            data.assign(d=data["compute"] / (6 * data["n"])),
            "chinchilla",
            n="n",
            d="d",
            y="loss",
            likelihood="student_t",
            repeats="independent",
            seed=1,
        )
    print(
        f"{len(data)} runs in {len(BUDGETS)} budgets; fits took {time.perf_counter() - start:.0f} s"
    )
    print(
        result.budget_table(0.8)[
            ["compute", "points", "n_opt_median", "n_opt_lower", "n_opt_upper", "inside"]
        ]
    )
    frontier = result.frontier(0.8)
    a3 = chinchilla_exponents(law)
    rows = []
    for name, (point, low, high) in PUBLISHED.items():
        ours = frontier[name]
        other = stats(a3[name], 0.8)
        rows.append(
            {
                "exponent": name,
                "published_A2": f"{point} ({low}, {high})",
                "ours_A2_80%": f"{ours['median']:.3f} ({ours['lower']:.3f}, {ours['upper']:.3f})",
                "ours_A3_80%": f"{other['median']:.3f} ({other['lower']:.3f}, {other['upper']:.3f})",
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))
    a2 = result.allocation([CHINCHILLA_BUDGET], 0.8).iloc[0]
    a3_alloc = law.compute_optimal([CHINCHILLA_BUDGET], ci=0.8).iloc[0]
    print(
        f"N* at {CHINCHILLA_BUDGET:.3g}: A2 {a2['n_opt_median']:.3g} ({a2['n_opt_lower']:.3g}, "
        f"{a2['n_opt_upper']:.3g}); A3 {a3_alloc['n_opt_median']:.3g} ({a3_alloc['n_opt_lower']:.3g}, "
        f"{a3_alloc['n_opt_upper']:.3g})"
    )
    print("diagnostics:", {k: v for k, v in result.diagnostics.items() if k != "warnings"})
    save_png(
        plot_isoflop(result, ci=0.8, extend_to=CHINCHILLA_BUDGET, approach3=law),
        out / "isoflop_chinchilla.png",
    )
    print(f"wrote {out / 'isoflop_chinchilla.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/figures"))
