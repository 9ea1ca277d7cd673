"""RL curves of several model sizes in one model: fit, predict an unseen size, simulate.

:func:`fit_sizes` fits the law ``"sigmoid_sizes"`` (:mod:`bayescale.model.size_law`):
the ScaleRL sigmoid whose asymptote approaches a ceiling as a power of the model
size and whose ``B``, ``C_mid`` and ``R0`` move smoothly with log size, with seeds
nested in sizes (each seed's asymptote offset from its size's ``A(N)``). The
result predicts any size's parameters and curve with intervals, including sizes
that were never trained.

Examples
--------
>>> import bayescale as bs
>>> from bayescale.studies.size_simulate import simulate_sizes
>>> df = simulate_sizes([1e9, 2e9, 4e9], rng=0)
>>> sorted(df["size"].unique().tolist())
[1000000000.0, 2000000000.0, 4000000000.0]
>>> sizes = bs.fit_sizes(df, x="gpu_hours", y="pass_rate", run="seed",
...                      size="size")  # doctest: +SKIP
>>> sizes.at_sizes([8e9])  # doctest: +SKIP
>>> sizes.predict(8e9, [1e4, 5e4])  # doctest: +SKIP
>>> bs.load(sizes.save("sizes.nc")).at_sizes().equals(sizes.at_sizes())  # doctest: +SKIP
True
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import CurveData, DataError, load_curves
from bayescale.inference.fitting import build_spec, fit_curves
from bayescale.inference.sampler_settings import checked_settings
from bayescale.model.priors import Prior
from bayescale.model.size_law import SIGMOID_SIZES, SIZE_PARAMETERS, size_parameters
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import DEFAULT_CI, check_ci, eti
from bayescale.results.persistence import MAX_FILE_BYTES, FitFileError, read_fit, save_fit
from bayescale.results.provenance import SamplerSettings

LAW = SIGMOID_SIZES.name
#: The ``bayescale_format`` of a saved :class:`SizesFit`: its fit's file, no more
#: (nothing beyond the fit is needed to remake it).
FORMAT = "bayescale-sizes/1"
#: The parameters that vary by seed in a fit across sizes (:func:`fit_sizes`).
VARYING = ("A_max",)


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
        role_names={"n": "size", "recipe": "size"},
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
        check_ci(ci)
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
            lower, upper = eti(draws[name], ci)
            seed_lower, seed_upper = eti(new_seed, ci) if name == "A" else (None, None)
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

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fit to netCDF, atomically, marked ``bayescale-sizes/1``.

        Parameters
        ----------
        path : str or Path
        overwrite : bool
            As in :func:`~bayescale.results.persistence.save_fit`, which writes
            the file (and raises ``OutputError`` where it does).

        Returns
        -------
        pathlib.Path
            The path written; ``bayescale.load`` reads it back as an equal
            :class:`SizesFit` (:func:`load_sizes_fit`).
        """
        return save_fit(self.fit, path, overwrite=overwrite, format=FORMAT)

    def plot(self, **options: Any) -> Any:
        """The asymptote against model size with its bands, on a matplotlib ``Axes``
        (:func:`bayescale.reporting.size_plots.plot_asymptote_by_size`, which takes
        the ``options``: ``sizes``, ``ci``, ``held_out``, ``truth``, ``ax``)."""
        from bayescale.reporting.size_plots import plot_asymptote_by_size

        return plot_asymptote_by_size(self, **options)

    def _repr_html_(self) -> str:
        table = self.summary()._repr_html_()
        warnings = "".join(f"<li>{html.escape(w)}</li>" for w in self.fit.diagnostics.warnings)
        sizes = ", ".join(f"{size:g}" for size in self.sizes)
        return (
            f"<div><b>bayescale fit across sizes</b>: {html.escape(SIGMOID_SIZES.formula)}<br>"
            f"sizes {html.escape(sizes)}<ul>{warnings}</ul>{table}</div>"
        )


def load_sizes_fit(
    path: str | Path, *, check_source: bool = False, max_bytes: int = MAX_FILE_BYTES
) -> SizesFit:
    """Read a fit across sizes written by :meth:`SizesFit.save`, checking everything.

    The reader of ``bayescale-sizes/1`` in :data:`bayescale.results.protocol.READERS`:
    the file is checked as a fit file, then its fit's law.

    Parameters
    ----------
    path, check_source, max_bytes
        As in :func:`~bayescale.results.persistence.load_fit`.

    Returns
    -------
    SizesFit
        The loaded fit, wrapped (nothing else is stored).

    Raises
    ------
    FitFileError
        Whatever :func:`~bayescale.results.persistence.load_fit` refuses, and a
        fit that is not of the ``"sigmoid_sizes"`` law with ``A_max`` varying by
        seed, in one line naming the file.
    """
    fit, _ = read_fit(path, format=FORMAT, check_source=check_source, max_bytes=max_bytes)
    if fit.spec.law != LAW or tuple(fit.spec.varying) != VARYING:
        raise FitFileError(
            f"{path}: format {FORMAT!r} holds a fit of law {LAW!r} varying "
            f"{', '.join(VARYING)} by seed, not law {fit.spec.law!r} varying "
            f"{', '.join(fit.spec.varying) or 'nothing'}"
        )
    return SizesFit(fit)


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
        Overrides of the priors of :mod:`bayescale.model.size_law` (sampled names:
        ``A_ref``, ``gap_share``, ``slope_ref``, ``B_ref``, ``b``, ``C_mid_ref``, ``c``,
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
    spec = build_spec(SIGMOID_SIZES, curves, likelihood=likelihood, varying=VARYING, priors=priors)
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
