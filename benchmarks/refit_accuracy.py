"""Do short refits reach the decisions of full refits? (prints agreement and times)

Usage (from the repository root)::

    .venv/bin/python benchmarks/refit_accuracy.py [N_CASES] [SEED]

Fits the bundled ``bayescale/data/examples/recipes.csv`` (``min_x`` 1500), then for ``N_CASES``
simulated futures (alternately: 3 new seeds of ``baseline_repeat``; its runs
extended to 100k GPU-hours) refits the grown data twice, with
:data:`bayescale.analysis.planning.REFIT_SAMPLER` and with the default 4 x 1000 draws
after 1000 tuning steps, and compares the decisions of ``baseline_repeat`` vs
``baseline`` and the interval ends.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import warnings

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.analysis.future_data import Draw, future_frame, with_future
from bayescale.analysis.planning import REFIT_SAMPLER, refit_draws
from bayescale.analysis.recipes import difference_summary
from bayescale.inference.sampling import SamplerSettings

FULL = SamplerSettings(draws=1000, tune=1000, chains=4)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    warnings.simplefilter("ignore")
    fit = bs.fit(
        "bayescale/data/examples/recipes.csv",
        recipe="recipe",
        x="gpu_hours",
        y="pass_rate",
        run="seed",
        min_x=1500,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    rows = []
    for case in range(n):
        add, extend = (3, None) if case % 2 == 0 else (0, 100_000.0)
        index = int(rng.integers(fit.posterior["posterior"].sizes["draw"] * 4))
        future = future_frame(
            fit,
            Draw.of(fit, index),
            "baseline_repeat",
            add_seeds=add,
            extend_to=extend,
            rng=np.random.default_rng(seed + case),
        )
        grown = with_future(fit.data, future)
        row = {"case": case, "option": "add 3 seeds" if add else "extend to 100k"}
        for name, settings in (("short", REFIT_SAMPLER), ("full", FULL)):
            start = time.perf_counter()
            draws, _ = refit_draws(fit.spec, grown, dataclasses.replace(settings, seed=case), "A")
            row[f"{name}_seconds"] = time.perf_counter() - start
            stats = difference_summary(draws["baseline_repeat"] - draws["baseline"], 0.02, 0.89)
            row.update({f"{name}_{k}": stats[k] for k in ("decision", "lower", "upper")})
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    agree = (table["short_decision"] == table["full_decision"]).mean()
    print(f"decisions agree in {agree:.0%} of {n} cases")
    for end in ("lower", "upper"):
        diff = (table[f"short_{end}"] - table[f"full_{end}"]).abs()
        print(f"|{end} short - full|: median {diff.median():.4f}, max {diff.max():.4f}")
    print(
        f"seconds per refit: short median {table['short_seconds'].median():.2f}, "
        f"full median {table['full_seconds'].median():.2f}"
    )


if __name__ == "__main__":
    main()
