"""How often do 95% intervals from 30-row Chinchilla tables hold the truth? (issue 22)

Draws ``TABLES`` tables of 30 (params, tokens, loss) rows from Hoffmann et al.'s law
(:func:`bayescale.studies.misspecified.simulate_table`: N 5e7-5e9, 5-200 tokens per
parameter, 1% log-normal noise), and prints, for each parameter and for all five
at once, how many tables' 95% intervals hold the true value:

- ``bayes``: ``bs.fit(table, "chinchilla", seed=1)`` at default settings, with
  how many converged and how many needed the automatic second attempt;
- ``wald``: the reference a frequentist would quote, least squares on log loss
  (the best of a grid of 27 starts, as Epoch AI's refit does) with Wald
  intervals (1.96 standard errors from the Gauss-Newton covariance; ``A`` and
  ``B`` on the log scale).

Calibrated intervals hold each parameter in about 95% of tables; all five at
once less often, since each can miss.

Usage (from the repository root)::

    .venv/bin/python benchmarks/small_chinchilla_tables.py [TABLES]   # default 40
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings

import numpy as np
from scipy.optimize import least_squares

import bayescale as bs
from bayescale.studies.misspecified import TRUTH, simulate_table

NAMES = ("E", "A", "B", "alpha", "beta")


def _log_residuals(p: np.ndarray, n: np.ndarray, d: np.ndarray, y: np.ndarray) -> np.ndarray:
    e, log_a, log_b, alpha, beta = p
    return np.log(e + np.exp(log_a) / n**alpha + np.exp(log_b) / d**beta) - np.log(y)


def wald_inside(table) -> dict[str, bool]:
    """Whether each true parameter lies inside the least-squares Wald 95% interval."""
    n, d, y = (table[c].to_numpy() for c in ("n", "d", "loss"))
    bounds = ([0.01, -5, -5, 0.01, 0.01], [y.min(), 20, 20, 2, 2])
    fits = [
        least_squares(
            _log_residuals, [e, np.log(400), np.log(400), a, b], args=(n, d, y), bounds=bounds
        )
        for e, a, b in itertools.product((1.0, 1.5, 1.9), (0.2, 0.35, 0.5), (0.2, 0.3, 0.45))
    ]
    best = min(fits, key=lambda fit: fit.cost)
    noise = 2 * best.cost / (len(y) - len(NAMES))
    se = np.sqrt(np.diag(np.linalg.pinv(best.jac.T @ best.jac) * noise))
    truth = np.array(
        [TRUTH["E"], np.log(TRUTH["A"]), np.log(TRUTH["B"]), TRUTH["alpha"], TRUTH["beta"]]
    )
    return dict(zip(NAMES, (np.abs(best.x - truth) < 1.96 * se).tolist(), strict=True))


def bayes_inside(table) -> tuple[dict[str, bool], bool, bool]:
    """Inside each 95% interval, converged, needed a second attempt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(table, "chinchilla", n="n", d="d", y="loss", seed=1)
    summary = fit.summary(ci=0.95)
    inside = {
        name: bool(summary.loc[name, "lower"] <= TRUTH[name] <= summary.loc[name, "upper"])
        for name in NAMES
    }
    return inside, bool(fit.diagnostics.converged), len(fit.diagnostics.attempts) > 1


def main() -> None:
    tables = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    start = time.perf_counter()
    counts = {method: dict.fromkeys((*NAMES, "all five"), 0) for method in ("bayes", "wald")}
    converged = retried = 0
    for seed in range(tables):
        table = simulate_table(30, noise_sd=0.01, rng=seed)
        bayes, ok, again = bayes_inside(table)
        converged, retried = converged + ok, retried + again
        for method, inside in (("bayes", bayes), ("wald", wald_inside(table))):
            for name, hit in inside.items():
                counts[method][name] += hit
            counts[method]["all five"] += all(inside.values())
    for method, row in counts.items():
        print(f"{method:>5}: " + ", ".join(f"{k} {v}/{tables}" for k, v in row.items()))
    print(f"bayes: converged {converged}/{tables}, second attempt {retried}/{tables}")
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
