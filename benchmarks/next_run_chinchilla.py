"""Run design for a Chinchilla-law fit: the linearised sd against refits.

Fits the Chinchilla law to the simulated Llama-frontier sweeps (seed 4), designs
the runs for 1e23 FLOP (target ln N* at 3.8e25, then the optimal loss there), and
compares the linearised expected sd with the mean over refits on runs simulated
from posterior draws (:func:`bayescale.analysis.next_run.preposterior_sd`).

Run from the repository root:

    nice .venv/bin/python benchmarks/next_run_chinchilla.py [SIMS]
"""

from __future__ import annotations

import sys
import time
import warnings

import bayescale as bs
from bayescale.analysis.next_run import preposterior_sd, suggest_runs
from bayescale.studies.isoflop_simulate import simulate_isoflop

TARGET = 3.8e25
SAMPLER = {"draws": 500, "tune": 500, "chains": 2}


def main(sims: int) -> None:
    data = simulate_isoflop(rng=4)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = bs.fit(data, "chinchilla", n="n", d="d", y="loss", seed=4, **SAMPLER)
        for target in ("n_opt", "loss_opt"):
            design = suggest_runs(law, target_compute=TARGET, run_budget=1e23, target=target)
            check = preposterior_sd(
                law, design.runs, target_compute=TARGET, target=target, sims=sims, seed=1, **SAMPLER
            )
            print(
                f"{target}: {len(design.runs)} runs; sd now {check['prior_sd']:.4g}, "
                f"linearised {check['linear_sd']:.4g}, refits {check['sd']:.4g} "
                f"(each: {', '.join(f'{v:.3g}' for v in check['sds'])}); "
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
            print("  chosen:", "; ".join(design.chosen["label"]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
