"""The data-constrained scaling law (Muennighoff et al. 2023): repeated data and excess parameters.

Training for more than one epoch on ``U`` unique tokens gives diminishing
returns; so do parameters beyond what ``U`` tokens can use. Muennighoff et al.
replace ``N`` and ``D`` in the Chinchilla law by effective values:

    L(N, D, U) = E + A / N'^alpha + B / D'^beta
    D' = U + U R*_D (1 - exp(-R_D / R*_D)),   R_D = D / U - 1   (repeats beyond the first epoch)
    N' = U_N + U_N R*_N (1 - exp(-R_N / R*_N)), R_N = N / U_N - 1,
    U_N = min(N, N_opt(U)),   N_opt(U) = G (G U)^(beta / alpha)

with ``G = (alpha A / (beta B))^(1 / (alpha + beta))``: ``N_opt(U)`` is the
compute-optimal model for ``U`` tokens under the same law (Hoffmann et al.'s
allocation ``N_opt = G (C / 6)^(beta / (alpha + beta))`` solved for ``D = U``).
``R*_D`` and ``R*_N`` are the numbers of repetitions after which repeated tokens
and excess parameters lose ``1 - 1/e`` of their value; the paper fits
``R*_D ~ 15.4`` and ``R*_N ~ 5.3``. A run with ``D <= U`` sees no repeated token:
its ``U`` is taken as ``D`` (``R_D = 0``, ``D' = D``).

Importing this module registers the law ``"data_constrained"`` (inputs ``n``,
``d``, ``u``; sampled like ``"chinchilla"`` at the reference point, plus
``R_star_N`` and ``R_star_D``) and its default priors. :func:`fit_data_constrained`
fits it, :func:`predict_loss` predicts, and :func:`constrained_allocation` gives
the loss-minimising ``N`` and ``D`` for a compute budget and a unique-token budget.

Examples
--------
>>> import numpy as np
>>> from bayescale.analysis.data_constrained import DATA_CONSTRAINED, MUENNIGHOFF
>>> one_epoch = {"n": np.log(1e9), "d": np.log(2e10), "u": np.log(2e10)}
>>> four = {**one_epoch, "u": np.log(5e9)}
>>> bool(DATA_CONSTRAINED.curve(four, MUENNIGHOFF) > DATA_CONSTRAINED.curve(one_epoch, MUENNIGHOFF))
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import CurveData, load_curves
from bayescale.inference.fitting import build_spec, fit_curves
from bayescale.model.data_constrained_law import DATA_CONSTRAINED, MUENNIGHOFF
from bayescale.model.laws import NUMPY_OPS
from bayescale.model.priors import Prior
from bayescale.results.allocation import FLOP_PER_PARAMETER_TOKEN, optimal_allocation
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import DEFAULT_CI, SAMPLE_DIMS, check_ci, eti
from bayescale.results.provenance import SamplerSettings


def load_data_constrained(
    data: pd.DataFrame | str | Path,
    *,
    n: str,
    u: str,
    y: str,
    d: str | None = None,
    compute: str | None = None,
    run: str | None = None,
    repeats: str = "error",
) -> CurveData:
    """Validate (N, D, U, loss) rows; ``d`` tokens or ``compute`` (``D = C / (6 N)``).

    The unique-token column is validated as :func:`bayescale.load_curves`
    validates inputs (numeric, finite, > 0; messages name the file, column and
    rows); ``U`` above ``D`` (less than one epoch) is taken as ``D``.
    """
    if (d is None) == (compute is None):
        raise ValueError("give the tokens as d= or the training compute as compute=, not both")
    curves = load_curves(
        data,
        x=u,
        n=n,
        d=d,
        compute=compute,
        y=y,
        run=run,
        bounded=False,
        positive_y=True,
        min_points=1,
        repeats=repeats,
    )
    frame = curves.frame.rename(columns={"x": "u"})
    frame["u"] = np.minimum(frame["u"], frame["d"])
    columns = {("u" if role == "x" else role): col for role, col in curves.columns.items()}
    return dataclasses.replace(curves, frame=frame, columns=columns)


def fit_data_constrained(
    data: pd.DataFrame | str | Path,
    *,
    n: str,
    u: str,
    y: str,
    d: str | None = None,
    compute: str | None = None,
    run: str | None = None,
    likelihood: str = "auto",
    priors: Mapping[str, Prior | str | Mapping[str, Any]] | None = None,
    repeats: str = "error",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    target_accept: float | None = None,
) -> Fit:
    """Fit the data-constrained law to final losses of runs with repeated data.

    Parameters
    ----------
    data : DataFrame or path
        One row per trained model: parameters ``n``, tokens ``d`` (or compute),
        unique tokens ``u``, final loss ``y``.
    likelihood : str
        ``"auto"`` is the robust Student-t, as for ``"chinchilla"``.
    priors : dict, optional
        Overrides on the sampled names (``E``, ``A_ref``, ``B_ref``, ``alpha``,
        ``beta``, ``R_star_N``, ``R_star_D``) or the noise.
    draws, tune, chains, seed, target_accept
        NUTS settings.

    Returns
    -------
    Fit
        ``fit.summary()`` reports ``E``, ``A``, ``B``, ``alpha``, ``beta``,
        ``R_star_N``, ``R_star_D``; predict with :func:`predict_loss` (``Fit.predict``
        takes no ``u``).

    Examples
    --------
    >>> fit = fit_data_constrained(df, n="params", d="tokens", u="unique",
    ...                            y="loss")  # doctest: +SKIP
    >>> fit.summary().loc[["R_star_N", "R_star_D"]]  # doctest: +SKIP
    """
    curves = load_data_constrained(
        data, n=n, u=u, y=y, d=d, compute=compute, run=run, repeats=repeats
    )
    spec = build_spec(DATA_CONSTRAINED, curves, likelihood=likelihood, priors=priors)
    settings = SamplerSettings(
        draws=draws, tune=tune, chains=chains, seed=seed, target_accept=target_accept
    )
    return fit_curves(curves, spec, settings)


def _check_fit(fit: Fit) -> None:
    if fit.law.name != DATA_CONSTRAINED.name:
        raise ValueError(f"needs a fit of the data_constrained law, not {fit.law.name!r}")


def _positive(name: str, values: Any) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=float))
    if not np.all(np.isfinite(array) & (array > 0)):
        raise ValueError(f"{name} must be finite and > 0, got {array.tolist()}")
    return array


def _summarise(out: pd.DataFrame, name: str, draws: xr.DataArray, ci: float) -> None:
    out[f"{name}_mean"] = draws.mean(SAMPLE_DIMS).to_numpy()
    out[f"{name}_median"] = draws.median(SAMPLE_DIMS).to_numpy()
    out[f"{name}_lower"], out[f"{name}_upper"] = eti(draws, ci)


def predict_loss(
    fit: Fit, n: Any, d: Any, u: Any, *, recipe: str | None = None, ci: float = DEFAULT_CI
) -> pd.DataFrame:
    """The loss curve at ``(n, d, u)`` with credible intervals (broadcast).

    Returns
    -------
    pandas.DataFrame
        ``n``, ``d``, ``u``, ``epochs`` (= d / u) and ``loss_mean``,
        ``loss_median``, ``loss_lower``, ``loss_upper``.
    """
    _check_fit(fit)
    check_ci(ci)
    n, d, u = np.broadcast_arrays(_positive("n", n), _positive("d", d), _positive("u", u))
    u = np.minimum(u, d)
    log_inputs = {
        k: xr.DataArray(np.log(v), dims="point") for k, v in zip("ndu", (n, d, u), strict=True)
    }
    loss = fit.law.curve(log_inputs, fit.parameter_draws(recipe=recipe))
    out = pd.DataFrame({"n": n, "d": d, "u": u, "epochs": d / u})
    _summarise(out, "loss", loss, ci)
    return out


GRID_POINTS = 97
"""Points of the coarse search over log N (12 e-folds around Chinchilla's optimum)."""

REFINE_STEPS = 40
"""Golden-section steps after the grid (the bracket shrinks by 0.618 each)."""


def constrained_optimum(params: Mapping[str, Any], compute: Any, unique: Any) -> dict[str, Any]:
    """Loss-minimising ``N`` and ``D = C / (6 N)`` for budgets of compute and unique tokens.

    Every draw gets its own optimum: a grid over ``log N`` spanning from ~150x
    below to ~1100x above Chinchilla's unconstrained optimum, then golden-section
    search in the bracket around the grid's best point.

    Parameters
    ----------
    params : mapping
        The law's parameters (numbers or DataArrays of draws).
    compute, unique : array-like or DataArray
        Compute in FLOP and unique tokens, broadcast against each other and the draws.

    Returns
    -------
    dict
        ``n_opt``, ``d_opt``, ``epochs`` (``d_opt / unique``), ``loss_opt``, and
        Chinchilla's unconstrained ``chinchilla_n_opt`` with the loss it reaches on
        the repeated data (``chinchilla_loss``).

    Examples
    --------
    >>> opt = constrained_optimum(MUENNIGHOFF, 1e22, 1e11)
    >>> bool(opt["loss_opt"] <= opt["chinchilla_loss"]), round(float(opt["epochs"]), 1)
    (True, 1.9)
    """
    law = DATA_CONSTRAINED
    log_c6 = np.log(compute) - np.log(FLOP_PER_PARAMETER_TOKEN)
    log_u = np.log(unique)
    chinchilla = optimal_allocation(params, compute)
    log_center = np.log(chinchilla["n_opt"])

    def loss_at(log_n):
        log_d = log_c6 - log_n
        return law.mean(NUMPY_OPS, {"n": log_n, "d": log_d, "u": np.minimum(log_u, log_d)}, params)

    labelled = isinstance(log_center, xr.DataArray)
    where = xr.where if labelled else np.where
    offsets = np.linspace(-5.0, 7.0, GRID_POINTS)
    step = offsets[1] - offsets[0]
    grid = [loss_at(log_center + o) for o in offsets]
    if labelled:
        index = xr.concat(grid, dim="grid_point").argmin("grid_point")
        best = xr.DataArray(offsets, dims="grid_point").isel(grid_point=index, drop=True)
    else:
        best = offsets[np.argmin(np.stack(grid), axis=0)]
    low, high = log_center + best - step, log_center + best + step
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(REFINE_STEPS):
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        go_left = loss_at(left) < loss_at(right)
        high = where(go_left, right, high)
        low = where(go_left, low, left)
    log_n = (low + high) / 2.0
    log_d = log_c6 - log_n
    return {
        "n_opt": np.exp(log_n),
        "d_opt": np.exp(log_d),
        "epochs": np.exp(log_d - log_u),
        "loss_opt": np.exp(loss_at(log_n)),
        "chinchilla_n_opt": chinchilla["n_opt"],
        "chinchilla_loss": np.exp(loss_at(log_center)),
    }


CONSTRAINED_QUANTITIES = (
    "n_opt",
    "d_opt",
    "epochs",
    "loss_opt",
    "chinchilla_n_opt",
    "chinchilla_loss",
)
"""What :func:`constrained_allocation` reports, each with mean, median and interval."""


def constrained_allocation(
    fit: Fit,
    compute: Sequence[float] | float,
    unique: Sequence[float] | float,
    *,
    recipe: str | None = None,
    ci: float = DEFAULT_CI,
) -> pd.DataFrame:
    """Allocation under a data budget, with intervals over the posterior.

    Parameters
    ----------
    fit : Fit
        A fit of the ``"data_constrained"`` law.
    compute : float or sequence
        Compute budgets in FLOP (``C = 6 N D``).
    unique : float or sequence
        Unique tokens available, broadcast against ``compute``.
    recipe : str, optional
        Which recipe, when the fit has several.
    ci : float
        Credible mass of the equal-tailed intervals.

    Returns
    -------
    pandas.DataFrame
        One row per budget pair: ``compute``, ``unique``, then ``<q>_mean``,
        ``<q>_median``, ``<q>_lower``, ``<q>_upper`` for each ``q`` in
        :data:`CONSTRAINED_QUANTITIES`.

    Examples
    --------
    >>> constrained_allocation(fit, [1e22], [1e11])  # doctest: +SKIP
    """
    _check_fit(fit)
    check_ci(ci)
    budgets, tokens = np.broadcast_arrays(
        _positive("compute", compute), _positive("unique", unique)
    )
    optimum = constrained_optimum(
        fit.parameter_draws(recipe=recipe),
        xr.DataArray(budgets, dims="budget"),
        xr.DataArray(tokens, dims="budget"),
    )
    out = pd.DataFrame({"compute": budgets, "unique": tokens})
    for name in CONSTRAINED_QUANTITIES:
        _summarise(out, name, optimum[name], ci)
    return out


def simulate_data_constrained(
    *,
    truth: Mapping[str, float] | None = None,
    sizes: Sequence[float] = (1e8, 2.5e8, 6e8, 1.5e9, 4e9),
    unique: Sequence[float] = (1e8, 1e9, 1e10),
    epochs: Sequence[float] = (1, 2, 4, 8, 16, 32, 64),
    noise_sd: float = 0.01,
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Final losses of a grid of runs (sizes x unique tokens x epochs) with a known truth.

    Log loss gets Normal noise of sd ``noise_sd``.

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``d`` (= epochs x unique), ``u``, ``epochs``, ``loss``,
        ``true_loss``; ``attrs["truth"]`` holds the parameters
        (:data:`MUENNIGHOFF` by default).

    Examples
    --------
    >>> simulate_data_constrained(rng=0).shape
    (105, 6)
    """
    params = dict(MUENNIGHOFF if truth is None else truth)
    generator = np.random.default_rng(rng)
    n, u, e = (a.ravel() for a in np.meshgrid(sizes, unique, epochs, indexing="ij"))
    d = u * e
    true = DATA_CONSTRAINED.curve({"n": np.log(n), "d": np.log(d), "u": np.log(u)}, params)
    loss = true * np.exp(noise_sd * generator.standard_normal(true.shape))
    frame = pd.DataFrame({"n": n, "d": d, "u": u, "epochs": e, "loss": loss, "true_loss": true})
    frame.attrs["truth"] = params
    return frame
