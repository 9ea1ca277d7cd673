"""Compute-optimal allocation under the Chinchilla law, with credible intervals.

For ``L(N, D) = E + A / N^alpha + B / D^beta`` and a compute budget ``C = 6 N D``
the loss is smallest at

    N_opt = G (C / 6)^(beta / (alpha + beta)),  G = (alpha A / (beta B))^(1 / (alpha + beta)),
    D_opt = (C / 6) / N_opt,

(Hoffmann et al. 2022, eq. 4). Every posterior draw gives its own optimum; the
intervals below are over draws. Everything is computed in log space.

Examples
--------
>>> import numpy as np
>>> from bayescale.results.allocation import optimal_allocation
>>> epoch = {"E": 1.82, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
>>> opt = optimal_allocation(epoch, np.array([5.88e23]))
>>> round(float(opt["ratio"][0]), 1)
18.4
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import FLOP_PER_PARAMETER_TOKEN
from bayescale.model.laws import get_law
from bayescale.results.intervals import DEFAULT_CI, SAMPLE_DIMS, check_ci, eti

if TYPE_CHECKING:
    from bayescale.results.fit_result import Fit

QUANTITIES = ("n_opt", "d_opt", "ratio", "loss_opt")
"""What :func:`compute_optimal` reports: parameters, tokens, tokens per
parameter and the loss at the optimum."""

STATISTICS = ("mean", "median", "lower", "upper")
"""Statistics reported for each quantity."""


def optimal_allocation(params: Mapping[str, Any], compute: Any) -> dict[str, Any]:
    """Compute-optimal N, D, D/N and loss for Chinchilla parameters.

    Parameters
    ----------
    params : mapping
        ``E``, ``A``, ``B``, ``alpha``, ``beta``: numbers, NumPy arrays or xarray
        DataArrays of posterior draws (broadcast against ``compute``).
    compute : array-like
        Compute budgets in FLOP.

    Returns
    -------
    dict
        ``n_opt``, ``d_opt``, ``ratio`` (= ``d_opt / n_opt``) and ``loss_opt``.

    Examples
    --------
    >>> p = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    >>> opt = optimal_allocation(p, 5.88e23)
    >>> bool(np.isclose(6 * opt["n_opt"] * opt["d_opt"], 5.88e23))
    True
    """
    alpha, beta = params["alpha"], params["beta"]
    log_g = (np.log(alpha * params["A"]) - np.log(beta * params["B"])) / (alpha + beta)
    log_tokens_params = np.log(compute) - np.log(FLOP_PER_PARAMETER_TOKEN)
    log_n = log_g + beta / (alpha + beta) * log_tokens_params
    log_d = log_tokens_params - log_n
    loss = get_law("chinchilla").curve({"n": log_n, "d": log_d}, params)
    return {
        "n_opt": np.exp(log_n),
        "d_opt": np.exp(log_d),
        "ratio": np.exp(log_d - log_n),
        "loss_opt": loss,
    }


def compute_optimal(
    fit: Fit,
    compute: Sequence[float] | np.ndarray | float,
    *,
    recipe: str | None = None,
    ci: float = DEFAULT_CI,
) -> pd.DataFrame:
    """Compute-optimal allocation with intervals for each budget.

    Parameters
    ----------
    fit : Fit
        A fit of the ``"chinchilla"`` law.
    compute : float or array-like
        Compute budgets in FLOP (``C = 6 N D``).
    recipe : str, optional
        Which recipe (needed when the fit has several).
    ci : float
        Credible mass of the equal-tailed intervals.

    Returns
    -------
    pandas.DataFrame
        One row per budget: ``compute``, ``decades_beyond`` (of the median optimal
        ``N`` and ``D``, outside the fitted range: how far the allocation
        extrapolates), then ``<q>_mean``, ``<q>_median``, ``<q>_lower``,
        ``<q>_upper`` for each ``q`` in :data:`QUANTITIES`.

    Raises
    ------
    ValueError
        If the fit is not of the Chinchilla law or a budget is not positive.

    Examples
    --------
    >>> fit.compute_optimal([5.88e23])[["ratio_median", "ratio_lower", "ratio_upper"]]  # doctest: +SKIP
    """
    check_ci(ci)
    if fit.law.name != "chinchilla":
        raise ValueError(
            f"compute-optimal allocation needs the chinchilla law, not {fit.law.name!r}"
        )
    budgets = np.atleast_1d(np.asarray(compute, dtype=float))
    if not np.all(np.isfinite(budgets) & (budgets > 0)):
        raise ValueError(f"compute budgets must be finite and > 0, got {budgets.tolist()}")
    params = fit.parameter_draws(recipe=recipe)
    optimum = optimal_allocation(params, xr.DataArray(budgets, dims="budget"))
    out = pd.DataFrame({"compute": budgets})
    out["decades_beyond"] = fit.decades_beyond(median_allocation(optimum, budgets))
    for name in QUANTITIES:
        draws = optimum[name]
        out[f"{name}_mean"] = draws.mean(SAMPLE_DIMS).to_numpy()
        out[f"{name}_median"] = draws.median(SAMPLE_DIMS).to_numpy()
        out[f"{name}_lower"], out[f"{name}_upper"] = eti(draws, ci)
    return out


def median_allocation(optimum: xr.Dataset, budgets: np.ndarray) -> dict[str, np.ndarray]:
    """The median optimal ``n`` at each budget and the tokens that spend the budget
    with it, ``d = C / (6 n)``: an allocation one can train (the median of ``d_opt``
    alone, beside the median of ``n_opt``, need not add up to the budget)."""
    n = optimum["n_opt"].median(SAMPLE_DIMS).to_numpy()
    return {"n": n, "d": budgets / (FLOP_PER_PARAMETER_TOKEN * n)}


def allocation_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of :func:`compute_optimal` as nested dicts for ``fit.json``.

    Each record is ``{"compute": C, "n_opt": {"mean", "median", "lower",
    "upper"}, "d_opt": {...}, "ratio": {...}, "loss_opt": {...}}`` (plus
    ``recipe`` when the frame has that column).

    Examples
    --------
    >>> row = {f"{q}_{s}": 1.0 for q in QUANTITIES for s in STATISTICS}
    >>> allocation_records(pd.DataFrame([{"compute": 1e21, **row}]))[0]["ratio"]
    {'mean': 1.0, 'median': 1.0, 'lower': 1.0, 'upper': 1.0}
    """
    records = []
    for _, row in frame.iterrows():
        record: dict[str, Any] = {"compute": float(row["compute"])}
        if "recipe" in frame:
            record["recipe"] = row["recipe"]
        if "decades_beyond" in frame:
            record["decades_beyond"] = float(row["decades_beyond"])
        for name in QUANTITIES:
            record[name] = {stat: float(row[f"{name}_{stat}"]) for stat in STATISTICS}
        records.append(record)
    return records


def allocation_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A compact table of :func:`allocation_records`: medians and interval bounds.

    Examples
    --------
    >>> stats = {"mean": 2.0, "median": 2.0, "lower": 1.0, "upper": 3.0}
    >>> list(allocation_table([{"compute": 1e21, **{q: stats for q in QUANTITIES}}]).columns[:4])
    ['compute', 'n_opt', 'n_opt_lower', 'n_opt_upper']
    """
    return records_table(records, QUANTITIES)


def records_table(
    records: Sequence[Mapping[str, Any]],
    quantities: Sequence[str],
    shown: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Records of ``{quantity: {mean, median, lower, upper}, other: value}`` as a
    table: the other keys, then each ``shown`` quantity's median and interval bounds
    (default: every quantity)."""
    rows = []
    for record in records:
        row = {key: value for key, value in record.items() if key not in quantities}
        for name in quantities if shown is None else shown:
            stats = record[name]
            row.update(
                {
                    name: stats["median"],
                    f"{name}_lower": stats["lower"],
                    f"{name}_upper": stats["upper"],
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def frontier_predict(
    fit: Fit,
    compute: Sequence[float] | np.ndarray | float,
    *,
    recipe: str | None = None,
    ci: float = DEFAULT_CI,
    seed: int | None = 0,
    law_error: bool = True,
) -> pd.DataFrame:
    """Loss predicted along the compute-optimal frontier (``fit.predict(compute=...)``).

    Each draw's loss is evaluated at its own optimal ``N`` and ``D`` for the budget.

    Returns
    -------
    pandas.DataFrame
        ``compute``, the median optimal ``n`` and ``d``, ``decades_beyond`` (of the
        median ``n`` and ``d``, outside the fitted range), then ``mean``, ``median``,
        ``lower``, ``upper`` of the loss curve and ``obs_lower``, ``obs_upper``
        for a new observation and ``law_error_sd`` (as :meth:`bayescale.Fit.predict`,
        law error included unless ``law_error=False``).
    """
    from bayescale.model.laws import NUMPY_OPS

    check_ci(ci)
    if fit.law.name != "chinchilla":
        raise ValueError(f"compute= predicts along the chinchilla frontier, not {fit.law.name!r}")
    budgets = np.atleast_1d(np.asarray(compute, dtype=float))
    if not np.all(np.isfinite(budgets) & (budgets > 0)):
        raise ValueError(f"compute budgets must be finite and > 0, got {budgets.tolist()}")
    params = fit.parameter_draws(recipe=recipe)
    optimum = optimal_allocation(params, xr.DataArray(budgets, dims="point"))
    curve = optimum["loss_opt"]
    log_inputs = {"n": np.log(optimum["n_opt"]), "d": np.log(optimum["d_opt"])}
    mean = fit.law.mean(NUMPY_OPS, log_inputs, params)
    rng = np.random.default_rng(seed)
    observed = np.exp(fit.likelihood.draw(mean, fit.noise_draws(), rng, None))
    allocation = median_allocation(optimum, budgets)
    out = pd.DataFrame({"compute": budgets, **allocation})
    decades = fit.decades_beyond(allocation)
    out["decades_beyond"] = decades
    out["mean"] = curve.mean(SAMPLE_DIMS).to_numpy()
    out["median"] = curve.median(SAMPLE_DIMS).to_numpy()
    if law_error:
        observed = fit.with_law_error(decades, rng, observed)
    out["lower"], out["upper"] = eti(curve, ci)
    out["obs_lower"], out["obs_upper"] = eti(observed, ci)
    out["law_error_sd"] = fit.law_error_sd(decades, law_error)
    return out
