"""Bayesian refit of the Chinchilla data beside the published refit (Besiroglu et al. 2024).

Fits L(N, D) = E + A/N^alpha + B/D^beta on log loss to the 240 runs left after
dropping the five highest losses, with default NUTS settings, once with the
Student-t likelihood (the Bayesian counterpart of the Huber loss the replication
minimised) and once with the Normal one. Prints our 95% intervals beside the
published bootstrap 95% intervals, the convergence checks and the
tokens-per-parameter ratio at the Chinchilla budget 5.88e23 FLOP.

Run from the repository root:

    .venv/bin/python benchmarks/chinchilla_refit.py [path/to/svg_extracted_data.csv]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import bayescale as bs
from bayescale.data.published import load_chinchilla
from bayescale.results.allocation import optimal_allocation

DEFAULT_PATH = Path("../shared/anchors/chinchilla/svg_extracted_data.csv")
BUDGET = 6 * 70e9 * 1.4e12
# Published facts to compare against (Besiroglu et al. 2024, Table 1): point, bootstrap 95%.
PUBLISHED = {
    "E": (1.82, 1.77, 1.87),
    "A": (482.01, 285.0, 744.0),
    "B": (2085.43, 1042.0, 5810.0),
    "alpha": (0.3478, 0.317, 0.373),
    "beta": (0.3658, 0.331, 0.415),
}


def side_by_side(fit: bs.Fit) -> pd.DataFrame:
    ours = fit.summary(ci=0.95)
    rows = []
    for name, (point, low, high) in PUBLISHED.items():
        row = ours.loc[name]
        rows.append(
            {
                "parameter": name,
                "epoch": point,
                "epoch_95": f"({low:g}, {high:g})",
                "ours_median": float(fit.draws_dataset[name].median()),
                "ours_95": f"({row['lower']:.4g}, {row['upper']:.4g})",
                "epoch_point_inside": bool(row["lower"] < point < row["upper"]),
            }
        )
    return pd.DataFrame(rows).set_index("parameter")


def main(path: Path) -> None:
    data = load_chinchilla(path, drop_highest=5)
    published = {name: value[0] for name, value in PUBLISHED.items()}
    ratio = float(optimal_allocation(published, BUDGET)["ratio"])
    print(
        f"{len(data)} runs; published point estimates imply D/N = {ratio:.1f} at {BUDGET:.3g} FLOP"
    )
    for likelihood in ("student_t", "normal"):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bs.fit(data, "chinchilla", n="n", d="d", y="loss", likelihood=likelihood, seed=3)
        seconds = time.perf_counter() - start
        diag = fit.diagnostics
        print(
            f"\n== likelihood {likelihood}: {seconds:.0f} s (compile {fit.times.compile:.0f} s, "
            f"sample {fit.times.sample:.1f} s); max r_hat {diag.max_r_hat:.4f}, "
            f"min ess_bulk {diag.min_ess_bulk:.0f}, divergences {diag.divergences}"
        )
        print(side_by_side(fit).to_string(float_format=lambda v: f"{v:.4g}"))
        for ci in (0.8, 0.95):
            row = fit.compute_optimal(BUDGET, ci=ci).iloc[0]
            print(
                f"D_opt/N_opt at {BUDGET:.3g} FLOP: median {row['ratio_median']:.1f}, "
                f"{ci:.0%} interval ({row['ratio_lower']:.1f}, {row['ratio_upper']:.1f}); "
                f"N_opt {row['n_opt_median']:.3g} ({row['n_opt_lower']:.3g}, {row['n_opt_upper']:.3g})"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH)
