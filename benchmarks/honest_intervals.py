"""Leave-largest-out coverage on Epoch's Chinchilla data: four kinds of interval side by side.

For each cut, the Chinchilla law is fitted to the models with N <= cut (five
highest losses dropped, as the published refit did) and the larger models'
losses are checked against 90% and 50% intervals for a new observation from:

- ``bayescale``: the default fit, law error included (``fit.predict``);
- ``exact law``: the same posterior, law error left out (``law_error=False``):
  what bayescale reported before the law-error term;
- ``least squares``: a least-squares fit of log loss (started at the posterior
  median), with delta-method parameter uncertainty plus the residual sd, normal;
- ``split conformal``: least squares refitted below the training data's top half
  decade of N, the absolute log errors of that top half decade as calibration
  scores; interval = least-squares prediction +/- the conformal quantile.

Run from the repository root (prints one table; about a minute per cut):

    .venv/bin/python benchmarks/honest_intervals.py [path/to/svg_extracted_data.csv]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

import bayescale as bs
from bayescale.data.published import load_chinchilla
from bayescale.inference.fitting import curves_for_law
from bayescale.inference.law_error import least_squares_refit
from bayescale.model.laws import NUMPY_OPS, get_law

DEFAULT_PATH = Path("../shared/anchors/chinchilla/svg_extracted_data.csv")
CUTS = (1e9, 2e9, 3e9, 5e9, 1e10)
LEVELS = (0.9, 0.5)
CALIBRATION_DECADES = 0.5
LAW = get_law("chinchilla")


def log_predict(params: dict[str, float], frame: pd.DataFrame) -> np.ndarray:
    """Log loss of the Chinchilla law at the rows of ``frame``."""
    log_inputs = {role: np.log(frame[role].to_numpy(float)) for role in ("n", "d")}
    return np.asarray(LAW.mean(NUMPY_OPS, log_inputs, params), dtype=float)


def inside(log_loss: np.ndarray, center: np.ndarray, half: np.ndarray) -> float:
    """Share of ``log_loss`` within ``center +/- half``."""
    return float(np.mean(np.abs(log_loss - center) <= half))


def one_cut(data: pd.DataFrame, cut: float, seed: int) -> dict[str, float]:
    """Coverage of each kind of interval at one cut."""
    train, held = data[data["n"] <= cut], data[data["n"] > cut]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(train, "chinchilla", n="n", d="d", y="loss", seed=seed)
    row: dict[str, float] = {"cut": cut, "n_heldout": len(held)}
    log_loss = np.log(held["loss"].to_numpy())
    for level in LEVELS:
        for name, law_error in (("bayescale", True), ("exact law", False)):
            predicted = fit.predict(
                n=held["n"].to_numpy(), d=held["d"].to_numpy(), ci=level, law_error=law_error
            )
            row[f"{name} {level:.0%}"] = float(
                np.mean(
                    (held["loss"].to_numpy() >= predicted["obs_lower"])
                    & (held["loss"].to_numpy() <= predicted["obs_upper"])
                )
            )
    row["max_decades"] = float(predicted["decades_beyond"].max())
    start = {name: float(v.median()) for name, v in fit.parameter_draws().items()}
    rows = curves_for_law(train, LAW, n="n", d="d", y="loss").frame
    params, noise_sd, predictive_sd = least_squares_refit(rows, LAW, "log", start)
    held_rows = curves_for_law(held, LAW, n="n", d="d", y="loss", min_points=1).frame
    center = log_predict(params, held_rows)
    spread = np.sqrt(noise_sd**2 + predictive_sd(held_rows) ** 2)
    top = rows["n"] > rows["n"].max() / 10**CALIBRATION_DECADES
    below = least_squares_refit(rows[~top], LAW, "log", start)
    scores = np.abs(np.log(rows.loc[top, "y"].to_numpy()) - log_predict(below[0], rows[top]))
    for level in LEVELS:
        row[f"least squares {level:.0%}"] = inside(
            log_loss, center, norm.ppf(0.5 + level / 2) * spread
        )
        rank = min(len(scores), int(np.ceil((len(scores) + 1) * level)))
        quantile = np.sort(scores)[rank - 1]
        row[f"split conformal {level:.0%}"] = inside(log_loss, center, np.full(len(held), quantile))
    return row


def main(path: Path) -> None:
    """Print the coverage table."""
    data = load_chinchilla(path, drop_highest=5)
    table = pd.DataFrame([one_cut(data, cut, seed=1) for cut in CUTS]).set_index("cut")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(2))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH)
