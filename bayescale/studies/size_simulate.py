"""Simulated RL curves of several model sizes, from a known across-size truth.

Examples
--------
>>> from bayescale.studies.size_simulate import simulate_sizes
>>> df = simulate_sizes([1e9, 8e9], n_runs=2, x_max=5_000.0, rng=0)
>>> sorted(df["size"].unique().tolist())
[1000000000.0, 8000000000.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayescale.model.laws import NUMPY_OPS
from bayescale.model.size_law import SIGMOID_SIZES, SIZE_PARAMETERS, size_parameters
from bayescale.studies.simulate import simulate_recipes

SCALERL_LIKE: dict[str, float] = {
    "A_ref": 0.61,
    "gap_share": 0.17 / (1 - 0.61),
    "slope_ref": 0.34 * 0.17,
    "B_ref": 1.92,
    "b": -0.05,
    "C_mid_ref": 2542.0,
    "c": 0.2,
    "R0_ref": 0.28,
    "r": 0.02,
}
"""A simulated truth at the reference size 8e9 that passes through ScaleRL's
two published asymptotes: A(8e9) = 0.61 (8B dense) and A(1.09e11) = 0.71 (the
17Bx16 MoE's total parameters), with A_max = 0.78 and gamma = 0.34; C_mid(8e9) = 2542 and
B(8e9) = 1.92 as the 8B run. Use with ``n_ref=8e9`` (:func:`reported_parameters`)."""


def reported_parameters(sampled: Mapping[str, float], n_ref: float) -> dict[str, float]:
    """The law's reported parameters from values at a reference size ``n_ref``.

    Examples
    --------
    >>> p = reported_parameters(SCALERL_LIKE, 8e9)
    >>> round(float(size_parameters(p, np.log(1.09e11))["A"]), 3)
    0.71
    """
    reported = SIGMOID_SIZES.reported(NUMPY_OPS, dict(sampled), {"n": float(np.log(n_ref))})
    return {name: float(value) for name, value in reported.items()}


def simulate_sizes(
    sizes: Sequence[float],
    *,
    truth: Mapping[str, float] | None = None,
    n_ref: float = 8e9,
    n_runs: int = 3,
    seed_sd: float = 0.01,
    x_max: float = 30_000.0,
    rng: int | np.random.Generator | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Simulate RL curves of several model sizes with a known truth.

    Each size is a recipe of :func:`bayescale.studies.simulate.simulate_recipes` whose
    sigmoid parameters are the size law's at that size (seeds differ in ``A`` by
    ``seed_sd``; drift and prompt noise as there).

    Parameters
    ----------
    sizes : sequence of float
        Model sizes (parameters).
    truth : mapping, optional
        Values at the reference size ``n_ref`` (the law's sampled names, as
        :data:`SCALERL_LIKE`, the default).
    n_ref : float
        Size at which ``truth`` is given.
    n_runs, seed_sd, x_max, rng, **options
        Passed to :func:`bayescale.studies.simulate.simulate_recipes`.

    Returns
    -------
    pandas.DataFrame
        Columns ``size`` (float) then those of ``simulate_recipes`` (``recipe`` is
        the size's label, ``seed`` unique across sizes). ``attrs["truth"]`` holds
        the reported parameters and ``attrs["size_params"]`` each size's sigmoid
        parameters.
    """
    sizes = [float(size) for size in sizes]
    if not sizes or any(not np.isfinite(s) or s <= 0 for s in sizes):
        raise ValueError(f"sizes must be finite and > 0, got {sizes}")
    params = reported_parameters(SCALERL_LIKE if truth is None else truth, n_ref)
    recipes = {}
    for size in sizes:
        values = size_parameters(params, np.log(size))
        recipes[f"{size:g}"] = {
            "params": {name: float(values[name]) for name in SIZE_PARAMETERS},
            "n_runs": n_runs,
            "seed_sd": {"A": seed_sd},
        }
    frame = simulate_recipes(recipes, x_max=x_max, rng=rng, **options)
    frame.insert(0, "size", frame["recipe"].map({f"{s:g}": s for s in sizes}))
    frame.attrs["truth"] = params
    frame.attrs["size_params"] = {label: spec["params"] for label, spec in recipes.items()}
    return frame
