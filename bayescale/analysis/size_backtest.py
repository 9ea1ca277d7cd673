"""Hold out the largest model size: fit the smaller ones, predict the largest.

The question an RL team asks before training a bigger model: what asymptote and
curve will it have? :func:`backtest_largest_size` answers it on sizes already
trained: it fits :func:`bayescale.fit_sizes` without the largest size, predicts
that size's asymptote and curve, and checks them against the held-out size's
own data: the share of its evaluations inside the predictive interval of a new
seed, and its asymptote fitted on its own (the ScaleRL sigmoid, seeds pooled
hierarchically) against the predicted interval.

Examples
--------
>>> from bayescale.studies.size_simulate import simulate_sizes
>>> df = simulate_sizes([5e8, 1e9, 2e9, 4e9, 8e9], rng=0)
>>> result = backtest_largest_size(df, x="gpu_hours", y="pass_rate", size="size",
...                                run="seed")  # doctest: +SKIP
>>> result.table  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.analysis.sizes import SizesFit, fit_sizes, load_sizes
from bayescale.data.sources import DataError, read_table
from bayescale.inference.fitting import fit
from bayescale.results.fit_result import Fit


@dataclass
class SizeBacktest:
    """Result of :func:`backtest_largest_size`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row: ``size`` (held out), ``a_median``, ``a_lower``, ``a_upper`` (the
        predicted ``A`` of the typical seed), ``a_seed_lower``, ``a_seed_upper``
        (a new seed's), ``own_median``, ``own_lower``, ``own_upper`` (``A`` fitted
        on the held-out size alone), ``own_inside`` (its median inside the
        predicted new-seed interval), ``points`` and ``coverage`` (share of its
        evaluations inside the predictive interval), ``ci``.
    points : pandas.DataFrame
        The held-out evaluations with their predictive intervals.
    sizes_fit : SizesFit
        The fit on the smaller sizes.
    own_fit : Fit
        The held-out size fitted alone.
    """

    table: pd.DataFrame
    points: pd.DataFrame
    sizes_fit: SizesFit
    own_fit: Fit


def split_largest_size(
    data: pd.DataFrame | str | Path,
    *,
    x: str,
    y: str,
    size: str,
    run: str | None = None,
    min_x: float | None = None,
    max_x: float | None = None,
    likelihood: str = "auto",
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The rows of the smaller sizes, the rows of the largest, and the largest size.

    Both parts are validated as their fits will validate them (so a command can
    refuse bad input before any sampling).

    Raises
    ------
    DataError
        When fewer than three sizes are given (two must remain for the fit), or
        either part fails validation (one line naming the column and rows).
    """
    frame = read_table(data) if not isinstance(data, pd.DataFrame) else data
    source = str(data) if not isinstance(data, pd.DataFrame) else "DataFrame"
    columns = {"x": x, "y": y, "run": run}
    load_sizes(frame, size=size, min_x=min_x, max_x=max_x, **columns)
    values = pd.to_numeric(frame[size], errors="coerce")
    sizes = np.sort(values.dropna().unique())
    if len(sizes) < 3:
        raise DataError(
            f"{source}: column '{size}' has {len(sizes)} sizes; holding out the largest "
            "needs at least three"
        )
    largest = float(sizes[-1])
    is_largest = (values == largest).to_numpy()
    fit(
        frame[is_largest],
        "sigmoid",
        min_x=min_x,
        max_x=max_x,
        likelihood=likelihood,
        check_only=True,
        **columns,
    )
    return frame[~is_largest], frame[is_largest], largest


def backtest_largest_size(
    data: pd.DataFrame | str | Path,
    *,
    x: str,
    y: str,
    size: str,
    run: str | None = None,
    ci: float = 0.9,
    min_x: float | None = None,
    max_x: float | None = None,
    likelihood: str = "auto",
    priors: Mapping[str, Any] | None = None,
    **sampler: Any,
) -> SizeBacktest:
    """Fit all sizes but the largest, predict the largest, compare with its data.

    Parameters
    ----------
    data : DataFrame or path
    x, y, size, run : str
        Columns, as :func:`bayescale.fit_sizes`.
    ci : float
        Credible mass of the intervals checked.
    min_x, max_x : float, optional
        Exclude early (late) compute from both fits.
    likelihood : str
        Observation model of both fits.
    priors : dict, optional
        Prior overrides of the across-size fit (the held-out size's own sigmoid
        fit keeps its defaults).
    **sampler
        NUTS settings for both fits (``draws``, ``tune``, ``chains``, ``seed``,
        ``target_accept``).

    Returns
    -------
    SizeBacktest

    Raises
    ------
    DataError
        When fewer than three sizes are given (two must remain for the fit).
    """
    columns = {"x": x, "y": y, "run": run}
    window = {"min_x": min_x, "max_x": max_x}
    train, held_out, largest = split_largest_size(
        data, size=size, likelihood=likelihood, **columns, **window
    )
    sizes_fit = fit_sizes(
        train, size=size, likelihood=likelihood, priors=priors, **columns, **window, **sampler
    )
    own_fit = fit(held_out, "sigmoid", likelihood=likelihood, **columns, **window, **sampler)
    held = own_fit.data.frame
    predicted = sizes_fit.predict(largest, held["x"].to_numpy(), ci=ci)
    inside = (held["y"].to_numpy() >= predicted["obs_lower"].to_numpy()) & (
        held["y"].to_numpy() <= predicted["obs_upper"].to_numpy()
    )
    points = held[["run", "x", "y"]].assign(
        median=predicted["median"].to_numpy(),
        obs_lower=predicted["obs_lower"].to_numpy(),
        obs_upper=predicted["obs_upper"].to_numpy(),
        inside=inside,
    )
    a = sizes_fit.at_sizes([largest], ci=ci).query("parameter == 'A'").iloc[0]
    own = own_fit.summary(ci).loc["A"]
    table = pd.DataFrame(
        [
            {
                "size": largest,
                "a_median": a["median"],
                "a_lower": a["lower"],
                "a_upper": a["upper"],
                "a_seed_lower": a["seed_lower"],
                "a_seed_upper": a["seed_upper"],
                "own_median": float(own["median"]),
                "own_lower": float(own["lower"]),
                "own_upper": float(own["upper"]),
                "own_inside": bool(a["seed_lower"] <= own["median"] <= a["seed_upper"]),
                "points": len(points),
                "coverage": float(inside.mean()),
                "ci": ci,
            }
        ]
    )
    return SizeBacktest(table=table, points=points, sizes_fit=sizes_fit, own_fit=own_fit)
