"""The one interval helper: equal-tailed credible intervals of posterior draws.

Every interval bayescale reports (summaries, predictions, allocations, recipe
decisions, predictive checks, calibration, plots) comes from :func:`eti`, with
the credible mass ``ci`` checked by :func:`check_ci` and :data:`DEFAULT_CI` as
the default.

Examples
--------
>>> import numpy as np
>>> eti(np.arange(101.0), ci=0.5)
(25.0, 75.0)
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import xarray as xr

DEFAULT_CI = 0.89
"""Default credible mass of intervals: ArviZ 1.x's equal-tailed 89%."""

SAMPLE_DIMS = ("chain", "draw")
"""The dimensions of posterior draws."""


def check_ci(ci: float) -> None:
    """Refuse a credible mass outside (0, 1).

    Raises
    ------
    ValueError
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie strictly between 0 and 1, got {ci}")


@overload
def eti(
    draws: xr.DataArray, ci: float = ..., **quantile_options: Any
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def eti(
    draws: Any, ci: float = ..., *, axis: int, **quantile_options: Any
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def eti(draws: Any, ci: float = ..., **quantile_options: Any) -> tuple[float, float]: ...


def eti(draws: Any, ci: float = DEFAULT_CI, **quantile_options: Any) -> tuple[Any, Any]:
    """Equal-tailed interval holding ``ci`` of the draws.

    Parameters
    ----------
    draws : xarray.DataArray or array-like
        A DataArray: quantiles over its sample dimensions (``chain``, ``draw`` or
        ``sample``), one interval per remaining coordinate, as arrays. An array
        with ``axis`` among the options: quantiles along that axis, as arrays.
        Anything else: all values flattened, one interval as two floats (NaN
        when empty).
    ci : float
        Credible mass, strictly between 0 and 1.
    **quantile_options
        Passed to :func:`numpy.quantile` (e.g. ``method="inverted_cdf"`` for
        draws with infinite values, ``axis=0`` for draws x quantities).

    Returns
    -------
    (lower, upper)

    Examples
    --------
    One interval per column of draws x quantities:

    >>> eti(np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]]), ci=0.5, axis=0)
    (array([ 0.5, 10.5]), array([ 1.5, 11.5]))
    """
    check_ci(ci)
    probabilities = [(1 - ci) / 2, (1 + ci) / 2]
    if isinstance(draws, xr.DataArray):
        dims = [dim for dim in (*SAMPLE_DIMS, "sample") if dim in draws.dims]
        bounds = draws.quantile(probabilities, dim=dims, **quantile_options)
        return bounds.isel(quantile=0).to_numpy(), bounds.isel(quantile=1).to_numpy()
    if "axis" in quantile_options:
        low, high = np.quantile(np.asarray(draws, dtype=float), probabilities, **quantile_options)
        return low, high
    values = np.asarray(draws, dtype=float).ravel()
    if values.size == 0:
        return np.nan, np.nan
    low, high = np.quantile(values, probabilities, **quantile_options)
    return float(low), float(high)


def heavy_tailed_rows(table: Any) -> list[str]:
    """Rows of a summary table whose mean lies outside their own interval.

    A derived quantity with a heavy tail (the power law's ``X_c``, exponentials
    of weakly determined exponents) can have an absurd mean (1e84) while its
    median and interval are sensible; such means and sds are not shown.

    Parameters
    ----------
    table : pandas.DataFrame
        With columns ``mean``, ``lower`` and ``upper``.

    Returns
    -------
    list of str
        The index labels of those rows.
    """
    outside = (table["mean"] < table["lower"]) | (table["mean"] > table["upper"])
    return [str(label) for label in table.index[outside.to_numpy()]]


def readable_summary(table: Any) -> tuple[Any, list[str]]:
    """``table`` with ``mean`` and ``sd`` blanked on :func:`heavy_tailed_rows`, and a
    note naming them (empty when there are none)."""
    rows = heavy_tailed_rows(table)
    if not rows:
        return table, []
    shown = table.copy()
    shown.loc[rows, ["mean", "sd"]] = np.nan
    note = (
        f"{', '.join(rows)}: heavy-tailed (the mean lies outside the interval), so read "
        "the median and the interval; mean and sd are not shown"
    )
    return shown, [note]
