"""False alarms and detections of the wrong-law check (``bayescale.inference.law_misfit``).

Usage (from the repository root)::

    nice .venv/bin/python benchmarks/law_check_study.py [N_DATA_SETS] [FIRST] [OUT.csv]

Two families of simulated data, each fitted with its true law (false alarms) and
with wrong laws (detections), at the default settings:

- pass rates: three seeds of a ScaleRL-like sigmoid (``bayescale.studies.simulate``,
  A in 0.55-0.70, B in 1.5-2.4, C_mid in 1.5k-6k GPU-hours, R0 in 0.2-0.3, drift
  sd 0.01, evaluations every 1k GPU-hours up to 50k), fitted from the first
  evaluation with ``sigmoid`` (true), the README's ``exp_saturation``, the
  ``saturating`` power law and a straight line in log compute (wrong);
- losses, one model per size (no run column): 10 sizes from 1e7 to 1e10 of
  ``L = E + (X_c / N)^alpha`` (E 1.5-2.0, alpha 0.3-0.4), 1% noise, fitted with
  ``power_e`` (true) and ``power`` (wrong: no floor).

Prints the share of fits flagged per law and writes one row per fit.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.model.laws import law_from_function
from bayescale.studies.simulate import simulate_runs


def exp_saturation(x, A, k):
    """The README's example law (starts at 0)."""
    return A * (1 - np.exp(-k * x / 10_000))


def linear_log(x, a, b):
    """A straight line in log compute (no saturation)."""
    return a + b * np.log(x)


WRONG_RATE_LAWS = {
    "exp_saturation": law_from_function(
        exp_saturation,
        {"A": "Beta(alpha=2, beta=2)", "k": "LogNormal(mu=0, sigma=1)"},
        bounded=True,
        direction="increasing",
    ),
    "saturating": "saturating",
    "linear_log": law_from_function(
        linear_log,
        {"a": "Normal(mu=0, sigma=1)", "b": "HalfNormal(sigma=0.2)"},
        bounded=True,
        direction="increasing",
    ),
}


def rate_data(index: int) -> pd.DataFrame:
    rng = np.random.default_rng(1000 + index)
    params = {
        "A": rng.uniform(0.55, 0.7),
        "B": rng.uniform(1.5, 2.4),
        "C_mid": float(np.exp(rng.uniform(np.log(1500), np.log(6000)))),
        "R0": rng.uniform(0.2, 0.3),
    }
    return simulate_runs(params=params, rng=rng, x_max=50_000, held_out_from=None)


def loss_data(index: int) -> pd.DataFrame:
    rng = np.random.default_rng(2000 + index)
    n = np.geomspace(1e7, 1e10, 10)
    e, alpha = rng.uniform(1.5, 2.0), rng.uniform(0.3, 0.4)
    loss = e + (3e8 / n) ** alpha * rng.uniform(1.0, 2.0)
    return pd.DataFrame({"n": n, "loss": loss * np.exp(0.01 * rng.standard_normal(n.size))})


def row(kind: str, law: str, truth: bool, index: int, fit: bs.Fit, seconds: float) -> dict:
    check, d = fit.diagnostics.law_check, fit.diagnostics
    return {
        "kind": kind,
        "law": law,
        "true_law": truth,
        "data": index,
        "flagged": not check["passed"],
        "p_value": check["p_value"],
        "observed": check["observed"],
        "replicated": check["replicated"],
        "converged": d.converged,
        "warnings": len(d.warnings),
        "seconds": seconds,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    out = sys.argv[3] if len(sys.argv) > 3 else None
    rows = []
    for index in range(first, first + n):
        jobs = [("rates", "sigmoid", "sigmoid", True, rate_data(index), "gpu_hours", "seed")]
        jobs += [
            ("rates", name, law, False, rate_data(index), "gpu_hours", "seed")
            for name, law in WRONG_RATE_LAWS.items()
        ]
        jobs += [
            ("losses", "power_e", "power_e", True, loss_data(index), "n", None),
            ("losses", "power", "power", False, loss_data(index), "n", None),
        ]
        for kind, name, law, truth, frame, x, run in jobs:
            y = "pass_rate" if kind == "rates" else "loss"
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = bs.fit(frame, law=law, x=x, y=y, run=run, seed=index)
            rows.append(row(kind, name, truth, index, fit, time.perf_counter() - start))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    if out:
        table.to_csv(out, index=False)
    print(table.groupby(["kind", "law", "true_law"])["flagged"].agg(["mean", "size"]))


if __name__ == "__main__":
    main()
