"""Simulated isoFLOP sweeps from a Chinchilla law with a chosen frontier.

The truth is ``L(N, D) = E + A/N^alpha + B/D^beta``, whose compute-optimal
tokens are ``D*(C) = H C^b`` with ``b = alpha / (alpha + beta)`` (Hoffmann et
al. 2022, eq. 4, with ``C = 6 N D``). Given ``H``, ``b``, ``beta``, ``A`` and
``E``, :func:`chinchilla_for_frontier` solves for ``alpha`` and ``B``; the default
frontier is Llama 3's published ``D* = 0.29 C^0.53``.

Examples
--------
>>> params = chinchilla_for_frontier(h=0.29, b=0.53)
>>> from bayescale.results.allocation import optimal_allocation
>>> d = optimal_allocation(params, 1e22)["d_opt"]
>>> bool(np.isclose(d, 0.29 * 1e22**0.53))
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayescale.model.laws import get_law
from bayescale.results.allocation import FLOP_PER_PARAMETER_TOKEN, optimal_allocation

DEFAULT_BUDGETS = tuple(np.geomspace(6e18, 1e22, 10))
"""Ten budgets from 6e18 to 1e22 FLOP (Llama 3's isoFLOP range)."""


def chinchilla_for_frontier(
    h: float = 0.29, b: float = 0.53, *, beta: float = 0.28, A: float = 406.4, E: float = 1.69
) -> dict[str, float]:
    """Chinchilla-law parameters whose optimal tokens are ``D* = h C^b``.

    Examples
    --------
    >>> p = chinchilla_for_frontier()
    >>> round(p["alpha"] / (p["alpha"] + p["beta"]), 2)
    0.53
    """
    if not 0 < b < 1 or h <= 0 or beta <= 0 or A <= 0:
        raise ValueError("need 0 < b < 1 and positive h, beta, A")
    alpha = beta * b / (1 - b)
    # N* = G (C/6)^a with D* = (C/6) / N* = (C/6)^b / G = h C^b  =>  G = 6^-b / h
    log_g = -b * np.log(FLOP_PER_PARAMETER_TOKEN) - np.log(h)
    B = alpha * A / (beta * np.exp(log_g * (alpha + beta)))
    return {"E": E, "A": A, "B": float(B), "alpha": float(alpha), "beta": beta}


def simulate_isoflop(
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    *,
    sizes: int = 12,
    span: float = 30.0,
    offset_sd: float = 0.3,
    noise_sd: float = 0.01,
    h: float = 0.29,
    b: float = 0.53,
    beta: float = 0.28,
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """IsoFLOP sweeps: ``sizes`` model sizes per budget and their noisy loss.

    Parameters
    ----------
    budgets : sequence of float
        Compute budgets (FLOP).
    sizes : int
        Model sizes per budget, log-spaced over a factor ``span`` around a centre
        that misses the true optimum by ``exp(Normal(0, offset_sd))`` (real grids
        are not centred on the unknown optimum).
    noise_sd : float
        Sd of the Normal noise added to the loss (final losses of runs that differ
        only in seed scatter by ~0.01 nats).
    h, b, beta : float
        Truth (:func:`chinchilla_for_frontier`).
    rng : int or numpy.random.Generator, optional
        Random seed or generator (as for every simulator in :mod:`bayescale.studies`).

    Returns
    -------
    pandas.DataFrame
        ``compute``, ``n``, ``d``, ``loss`` and ``true_loss`` (noiseless).

    Examples
    --------
    >>> frame = simulate_isoflop(rng=0)
    >>> len(frame), frame["compute"].nunique()
    (120, 10)
    """
    if sizes < 3 or span <= 1 or noise_sd < 0 or offset_sd < 0:
        raise ValueError("need sizes >= 3, span > 1 and non-negative noise_sd, offset_sd")
    rng = np.random.default_rng(rng)
    params = chinchilla_for_frontier(h, b, beta=beta)
    rows = []
    for compute in budgets:
        n_opt = float(optimal_allocation(params, compute)["n_opt"])
        centre = np.log(n_opt) + rng.normal(0.0, offset_sd)
        log_n = centre + np.linspace(-0.5, 0.5, sizes) * np.log(span)
        n = np.exp(log_n)
        d = compute / (FLOP_PER_PARAMETER_TOKEN * n)
        truth = true_loss(params, np.full(sizes, compute), n)
        loss = truth + rng.normal(0.0, noise_sd, sizes)
        rows.append(
            pd.DataFrame({"compute": compute, "n": n, "d": d, "loss": loss, "true_loss": truth})
        )
    return pd.concat(rows, ignore_index=True)


def true_loss(params: dict[str, float], compute: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Noiseless Chinchilla-law loss of runs with ``compute`` FLOP and ``n`` parameters.

    Examples
    --------
    >>> p = chinchilla_for_frontier()
    >>> float(true_loss(p, np.array([1e22]), np.array([1e10]))[0]) > p["E"]
    True
    """
    n = np.asarray(n, dtype=float)
    log_d = np.log(np.asarray(compute, dtype=float) / (FLOP_PER_PARAMETER_TOKEN * n))
    return get_law("chinchilla").curve({"n": np.log(n), "d": log_d}, params)
