"""Fit-window stability: refit over different compute windows, see how the parameters move.

ScaleRL checks its fit on the 100k GPU-hour run over the windows 1.5k-50k,
0-50k, 5k-50k and 0-100k (A stays at 0.645-0.655). :func:`fit_windows` does the
same with intervals: one fit per window (``min_x``, ``max_x``), the recipe-level
parameters of each, and their shift from the first window. Windows of one data
set share a model structure, so after the first fit every refit is warm (the
compile-once cache of :mod:`bayescale.inference.sampling`).

Examples
--------
>>> from bayescale.analysis.windows import fit_windows
>>> table = fit_windows(bs.example_path("scalerl_3seeds"), [(1500, 50_000), (5000, 50_000)],
...                     x="gpu_hours", y="pass_rate", run="seed")  # doctest: +SKIP
>>> table.pivot(index="window", columns="parameter", values="mean")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bayescale.data.curves import DataError
from bayescale.inference.fitting import LOAD_OPTIONS, curves_for_law
from bayescale.inference.many import fit_many
from bayescale.model.laws import get_law
from bayescale.results.intervals import DEFAULT_CI

Window = tuple[float | None, float | None]


def window_label(window: Window) -> str:
    """``"1500-50000"``; an open end is left empty (``"5000-"``).

    Examples
    --------
    >>> window_label((1500.0, None))
    '1500-'
    """
    low, high = window
    return f"{'' if low is None else f'{low:g}'}-{'' if high is None else f'{high:g}'}"


def fit_windows(
    data: pd.DataFrame | str | Path,
    windows: Sequence[Window],
    law: str = "sigmoid",
    *,
    ci: float = DEFAULT_CI,
    progress: bool = True,
    **fit_options: Any,
) -> pd.DataFrame:
    """Fit each compute window and tabulate the recipe-level law parameters.

    Parameters
    ----------
    data : DataFrame or path
        As for :func:`bayescale.fit`.
    windows : sequence of (min_x, max_x)
        Compute windows; ``None`` leaves that end open.
    law : str
        A registered law with an ``x`` input.
    ci : float
        Credible mass of the intervals.
    progress : bool
        Show a progress bar with the time left on a terminal (stderr).
    **fit_options
        Passed to :func:`bayescale.fit` (columns, likelihood, sampler settings).

    Returns
    -------
    pandas.DataFrame
        One row per window and parameter: ``window``, ``min_x``, ``max_x``,
        ``n_points``, ``parameter`` (``A``, or ``A[recipe]`` with several
        recipes), ``mean``, ``lower``, ``upper``, ``shift`` (mean minus the first
        window's), ``divergences``, ``converged`` (whether that window's fit passed
        the convergence rule, :attr:`bayescale.Diagnostics.converged`).

    Examples
    --------
    >>> fit_windows(df, [(None, 50_000), (1500, 50_000)], x="gpu_hours",
    ...             y="pass_rate", run="seed")  # doctest: +SKIP
    """
    if not windows:
        raise ValueError("give at least one window")
    law_obj = get_law(law)
    load = {key: fit_options.pop(key) for key in LOAD_OPTIONS if key in fit_options}
    curves = curves_for_law(data, law_obj, min_points=1, **load)
    batch = fit_many(
        {
            window_label(w): curves.window(*w, min_points=len(law_obj.parameters) + 1)
            for w in windows
        },
        executor="serial",
        progress="fit_windows" if progress else False,
        law=law,
        **fit_options,
    )
    frames = []
    for (low, high), result, error in zip(windows, batch.fits, batch.errors, strict=True):
        if result is None:
            raise DataError(f"window {window_label((low, high))}: {error}")
        table = result.summary(ci=ci)
        table = table[table["level"] == "recipe"][["mean", "lower", "upper"]]
        frames.append(
            table.reset_index().assign(
                window=window_label((low, high)),
                min_x=low,
                max_x=high,
                n_points=len(result.data),
                divergences=result.diagnostics.divergences,
                converged=result.diagnostics.converged,
            )
        )
    out = pd.concat(frames, ignore_index=True)
    first = out.groupby("parameter", sort=False)["mean"].transform("first")
    out["shift"] = out["mean"] - first
    columns = ["window", "min_x", "max_x", "n_points", "parameter", "mean", "lower", "upper"]
    return out[[*columns, "shift", "divergences", "converged"]]
