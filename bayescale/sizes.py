"""RL curves of several model sizes in one model: fit, predict an unseen size, simulate.

:func:`fit_sizes` fits the law ``"sigmoid_sizes"`` (:mod:`bayescale.size_law`):
the ScaleRL sigmoid whose asymptote approaches a ceiling as a power of the model
size and whose ``B``, ``C_mid`` and ``R0`` move smoothly with log size, with seeds
nested in sizes (each seed's asymptote offset from its size's ``A(N)``). The
result predicts any size's parameters and curve with intervals, including sizes
that were never trained.

Examples
--------
>>> import bayescale as bs
>>> from bayescale.sizes import simulate_sizes
>>> df = simulate_sizes([1e9, 2e9, 4e9], rng=0)
>>> sorted(df["size"].unique().tolist())
[1000000000.0, 2000000000.0, 4000000000.0]
>>> sizes = bs.fit_sizes(df, x="gpu_hours", y="pass_rate", run="seed",
...                      size="size")  # doctest: +SKIP
>>> sizes.at_sizes([8e9])  # doctest: +SKIP
>>> sizes.predict(8e9, [1e4, 5e4])  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.checks import checked_settings
from bayescale.data import CurveData, DataError, load_curves
from bayescale.fitting import build_spec, fit_curves
from bayescale.laws import NUMPY_OPS
from bayescale.priors import Prior
from bayescale.result import DEFAULT_CI, Fit, _check_ci, _interval
from bayescale.sampling import SamplerSettings
from bayescale.simulate import simulate_recipes
from bayescale.size_law import SIGMOID_SIZES, SIZE_PARAMETERS, size_parameters

LAW = SIGMOID_SIZES.name

SCALERL_LIKE: dict[str, float] = {
    "A_ref": 0.61,
    "gap_ref": 0.17,
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

    Each size is a recipe of :func:`bayescale.simulate.simulate_recipes` whose
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
        Passed to :func:`bayescale.simulate.simulate_recipes`.

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


def load_sizes(
    data: pd.DataFrame | str | Path,
    *,
    x: str,
    y: str,
    size: str,
    run: str | None = None,
    min_x: float | None = None,
    max_x: float | None = None,
    repeats: str = "error",
) -> CurveData:
    """Validate curves of several sizes: inputs ``x`` (compute) and ``n`` (size).

    Runs are labelled ``<size>/<run>``, so seed labels may repeat across sizes
    (without ``run`` each size's rows are one run); all sizes form one recipe.

    Raises
    ------
    DataError
        One line naming the file, column and rows (as :func:`bayescale.load_curves`),
        or when fewer than two sizes are given.
    """
    curves = load_curves(
        data,
        x=x,
        n=size,
        y=y,
        run=run,
        recipe=size,
        bounded=True,
        min_x=min_x,
        max_x=max_x,
        min_points=len(SIGMOID_SIZES.parameters) + 1,
        repeats=repeats,
    )
    n_sizes = curves.frame["n"].nunique()
    if n_sizes < 2:
        raise DataError(
            f"{curves.source}: column '{size}' has {n_sizes} size; fitting across sizes needs "
            "at least two (use bayescale fit for one size)"
        )
    columns = {role: col for role, col in curves.columns.items() if role != "recipe"}
    return dataclasses.replace(curves, frame=curves.frame.assign(recipe="all"), columns=columns)


@dataclasses.dataclass
class SizesFit:
    """A fit of RL curves across model sizes (:func:`fit_sizes`).

    Attributes
    ----------
    fit : Fit
        The underlying fit of the ``"sigmoid_sizes"`` law (posterior, data,
        diagnostics; ``fit.summary()`` has the law's own parameters).
    """

    fit: Fit

    @property
    def sizes(self) -> list[float]:
        """The fitted sizes, ascending."""
        return sorted(float(s) for s in self.fit.data.frame["n"].unique())

    def summary(self, ci: float = DEFAULT_CI) -> pd.DataFrame:
        """The law's parameters (recipe level: ``A_max``, ``gamma``, ...), the seed
        spread ``sigma_A_max`` and the noise, as :meth:`bayescale.Fit.summary`."""
        table = self.fit.summary(ci)
        return table[table["level"] != "run"]

    def at_sizes(
        self, sizes: Sequence[float] | float | None = None, *, ci: float = DEFAULT_CI
    ) -> pd.DataFrame:
        """The sigmoid's ``A``, ``B``, ``C_mid``, ``R0`` at each size, with intervals.

        Parameters
        ----------
        sizes : float or sequence, optional
            Model sizes (default: the fitted ones); unseen sizes are predictions.
        ci : float
            Credible mass of the equal-tailed intervals.

        Returns
        -------
        pandas.DataFrame
            One row per size and parameter: ``size``, ``parameter``, ``fitted``
            (whether the size is in the data), ``mean``, ``median``, ``lower``,
            ``upper``; for ``A`` also ``seed_lower``/``seed_upper``, the interval of
            a new seed's asymptote (adds the seed spread).
        """
        _check_ci(ci)
        values = np.atleast_1d(np.asarray(self.sizes if sizes is None else sizes, dtype=float))
        if not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError(f"sizes must be finite and > 0, got {values.tolist()}")
        draws = self.size_draws(values)
        spread = self.fit.draws_dataset["sigma_A_max"]
        z = np.random.default_rng(0).standard_normal(draws["A"].shape)
        new_seed = draws["A"] + spread * xr.DataArray(z, dims=draws["A"].dims)
        fitted = set(self.sizes)
        rows = []
        for name in SIZE_PARAMETERS:
            lower, upper = _interval(draws[name], ci)
            seed_lower, seed_upper = _interval(new_seed, ci) if name == "A" else (None, None)
            for i, size in enumerate(values):
                row = {
                    "size": size,
                    "parameter": name,
                    "fitted": size in fitted,
                    "mean": float(draws[name].isel(size=i).mean()),
                    "median": float(draws[name].isel(size=i).median()),
                    "lower": float(lower[i]),
                    "upper": float(upper[i]),
                    "seed_lower": np.nan if seed_lower is None else float(seed_lower[i]),
                    "seed_upper": np.nan if seed_upper is None else float(seed_upper[i]),
                }
                rows.append(row)
        return pd.DataFrame(rows)

    def size_draws(self, sizes: Sequence[float] | np.ndarray) -> dict[str, xr.DataArray]:
        """Posterior draws of ``A``, ``B``, ``C_mid``, ``R0`` at ``sizes`` (dim ``size``)."""
        log_n = xr.DataArray(np.log(np.asarray(sizes, dtype=float)), dims="size")
        return size_parameters(self.fit.parameter_draws(), log_n)

    def predict(
        self,
        size: float,
        x: Sequence[float] | np.ndarray | float,
        *,
        ci: float = DEFAULT_CI,
        seed: int | None = 0,
    ) -> pd.DataFrame:
        """The RL curve of a model of ``size`` at compute ``x``, with intervals.

        Columns as :meth:`bayescale.Fit.predict`: ``x``, ``n`` (the size),
        ``mean``, ``median``, ``lower``/``upper`` (the typical seed's curve) and
        ``obs_lower``/``obs_upper`` (a new seed's evaluation).
        """
        if np.ndim(size) != 0:
            raise ValueError("predict takes one size; call it once per size")
        return self.fit.predict(x, n=float(size), ci=ci, seed=seed)

    def to_dict(self, ci: float = DEFAULT_CI) -> dict[str, Any]:
        """JSON-friendly: law parameters, per-size parameters, diagnostics."""
        table = self.summary(ci)
        columns = ["mean", "median", "sd", "lower", "upper", "r_hat", "ess_bulk"]
        return {
            "law": LAW,
            "formula": SIGMOID_SIZES.formula,
            "likelihood": self.fit.spec.likelihood,
            "ci": ci,
            "sizes": self.sizes,
            "parameters": {
                name: {col: float(row[col]) for col in columns} for name, row in table.iterrows()
            },
            "diagnostics": self.fit.diagnostics.to_dict(),
        }


def fit_sizes(
    data: pd.DataFrame | str | Path,
    *,
    x: str,
    y: str,
    size: str,
    run: str | None = None,
    likelihood: str = "auto",
    priors: Mapping[str, Prior | str | Mapping[str, Any]] | None = None,
    min_x: float | None = None,
    max_x: float | None = None,
    repeats: str = "error",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    target_accept: float | None = None,
    check_only: bool = False,
) -> SizesFit | None:
    """Fit RL curves of several model sizes with one law smooth in size.

    Parameters
    ----------
    data : DataFrame or path
        One row per evaluation: compute ``x``, metric ``y`` (a rate in [0, 1]),
        model size ``size`` (parameters; any positive measure), seed ``run``.
    x, y, size, run : str
        Column names. Seed labels may repeat across sizes.
    likelihood : str
        Observation model (``"auto"``: ``"drift"`` for checkpoints of runs).
    priors : dict, optional
        Overrides of the priors of :mod:`bayescale.size_law` (sampled names:
        ``A_ref``, ``gap_ref``, ``slope_ref``, ``B_ref``, ``b``, ``C_mid_ref``, ``c``,
        ``R0_ref``, ``r``) or of ``sigma_A_max`` and the noise.
    min_x, max_x, repeats
        As :func:`bayescale.fit`.
    draws, tune, chains, seed, target_accept
        NUTS settings.
    check_only : bool
        Only check the data, priors and settings and return ``None``.

    Returns
    -------
    SizesFit

    Examples
    --------
    >>> sizes = fit_sizes(df, x="gpu_hours", y="pass_rate", size="size",
    ...                   run="seed")  # doctest: +SKIP
    >>> sizes.at_sizes([1.09e11]).query("parameter == 'A'")  # doctest: +SKIP
    """
    curves = load_sizes(
        data, x=x, y=y, size=size, run=run, min_x=min_x, max_x=max_x, repeats=repeats
    )
    spec = build_spec(
        SIGMOID_SIZES, curves, likelihood=likelihood, varying=("A_max",), priors=priors
    )
    settings = SamplerSettings(
        draws=draws, tune=tune, chains=chains, seed=seed, target_accept=target_accept
    )
    if check_only:
        checked_settings(settings)
        return None
    return SizesFit(fit_curves(curves, spec, settings))


def size_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of :meth:`SizesFit.at_sizes` grouped by size for JSON:
    ``[{"size", "fitted", "A": {mean, median, lower, upper, seed_lower, seed_upper}, ...}]``."""
    out = []
    for size, rows in table.groupby("size", sort=True):
        record: dict[str, Any] = {"size": float(size), "fitted": bool(rows["fitted"].iloc[0])}
        for _, row in rows.iterrows():
            stats = ["mean", "median", "lower", "upper"]
            if row["parameter"] == "A":
                stats += ["seed_lower", "seed_upper"]
            record[row["parameter"]] = {stat: float(row[stat]) for stat in stats}
        out.append(record)
    return out
