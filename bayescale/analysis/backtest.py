"""Extrapolation backtests: fit on the smaller scales, predict the held-out larger ones.

For each cut-off the law is fitted to the points with ``axis <= cut`` (``x``, the
compute, for curves of one input; ``n``, the model size, or ``d`` for laws of
parameters and tokens) and judged on the points beyond it:

- ``coverage_50``, ``coverage_90``: share of held-out points inside the 50% and
  90% predictive intervals of their own run (a fitted run's curve plus its
  measurement noise, :meth:`bayescale.Fit.predict` with ``run=``; a run with no
  point before the cut is predicted as a new seed of its recipe).
- ``asymptote_error``: ``|median predicted asymptote - reference|``, averaged over
  recipes. The asymptote is the recipe-level curve in the limit of infinite
  compute (``A`` for the sigmoid and the saturating law, ``E`` for a power law
  with an irreducible term), evaluated from the law itself. The reference is
  ``true_asymptote`` when given (simulated data), otherwise the median asymptote
  of a fit on all the data (the best estimate the data allow; ``reference`` in the
  result says which).
- ``final_error``: ``|median predicted curve - observed|`` at each run's largest
  held-out input, averaged over runs; against ``truth_column`` (the noiseless
  curve of simulated data) instead of the observation when given.
- With ``truth_column``, also ``curve_coverage_50`` and ``curve_coverage_90``:
  share of held-out points whose true curve value lies in the run curve's
  credible interval.
- ``max_decades``: how far the held-out points lie outside the fitted range
  (decades, the largest over the inputs), and ``error_to_halfwidth``: the median
  over held-out points of ``|observed - predicted median|`` over the half-width
  of the 90% interval (below 1 when the intervals are wide enough).

All fits of one backtest share a model structure, so they run in this process
through the compile-once cache of :mod:`bayescale.inference.sampling`: one compile (none if
the structure is already warm), then a few seconds of sampling per cut.

Examples
--------
>>> from bayescale.analysis.backtest import backtest
>>> result = backtest(bs.example_path("scalerl_3seeds"), cuts=[20_000, 50_000], x="gpu_hours",
...                   y="pass_rate", run="seed", min_x=1500)  # doctest: +SKIP
>>> result.table()[["cut", "n_heldout", "coverage_50", "coverage_90"]]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.data.curves import CurveData
from bayescale.data.sources import DataError, read_table
from bayescale.inference.fitting import curves_for_law
from bayescale.inference.law_error import fold_axis
from bayescale.inference.many import fit_many
from bayescale.model.laws import get_law
from bayescale.results.fit_result import Fit
from bayescale.user_warnings import BayescaleWarning, warn

INTERVALS = (0.5, 0.9)


@dataclass(frozen=True)
class CutResult:
    """Scores of one cut-off (see the module notes for definitions).

    Attributes
    ----------
    cut : float
    n_train, n_heldout : int
    coverage_50, coverage_90 : float
        NaN when nothing is held out.
    asymptote : dict of str to float
        Median predicted asymptote per recipe.
    asymptote_error, final_error : float
    curve_coverage_50, curve_coverage_90 : float or None
        Only with a truth column.
    max_r_hat : float
    divergences : int
    converged : bool or None
        Whether the cut's fit passed the convergence rule
        (:attr:`bayescale.Diagnostics.converged`).
    max_decades : float
        Largest distance of a held-out point outside the fitted range (decades).
    error_to_halfwidth : float
        Median of ``|observed - median| / half-width of the 90% interval``.
    """

    cut: float
    n_train: int
    n_heldout: int
    coverage_50: float
    coverage_90: float
    asymptote: dict[str, float]
    asymptote_error: float
    final_error: float
    curve_coverage_50: float | None = None
    curve_coverage_90: float | None = None
    max_r_hat: float = float("nan")
    divergences: int = 0
    converged: bool | None = None
    max_decades: float = float("nan")
    error_to_halfwidth: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the ``cuts`` entries of ``backtest.json``)."""
        out = {
            "cut": self.cut,
            "n_train": self.n_train,
            "n_heldout": self.n_heldout,
            "coverage_50": self.coverage_50,
            "coverage_90": self.coverage_90,
            "asymptote_error": self.asymptote_error,
            "final_error": self.final_error,
            "asymptote": dict(self.asymptote),
            "max_decades": self.max_decades,
            "error_to_halfwidth": self.error_to_halfwidth,
            "max_r_hat": self.max_r_hat,
            "divergences": self.divergences,
            "converged": self.converged,
        }
        if self.curve_coverage_90 is not None:
            out["curve_coverage_50"] = self.curve_coverage_50
            out["curve_coverage_90"] = self.curve_coverage_90
        return out


@dataclass
class Backtest:
    """Result of :func:`backtest`.

    Attributes
    ----------
    cuts : list of CutResult
        In increasing order of the cut-off.
    reference : str
        What ``asymptote_error`` is measured against: ``"true_asymptote"`` or
        ``"all-data fit"``.
    reference_asymptote : dict of str to float
        The reference value per recipe.
    final_against : str
        ``"observed"`` or the truth column's name.
    warnings : list of str
        Cuts whose held-out coverage is far below nominal (:func:`coverage_warnings`).
    notes : list of str
        Cut-offs skipped because they leave too little data to fit, with the reason.
    reference_converged : bool or None
        Whether the all-data reference fit converged (None with a true asymptote).
    """

    cuts: list[CutResult]
    reference: str
    reference_asymptote: dict[str, float]
    final_against: str
    likelihood: str = ""
    fits: dict[float, Fit] = field(default_factory=dict, repr=False)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reference_converged: bool | None = None

    @property
    def unconverged(self) -> list[str]:
        """Labels of the fits that did not converge: each such cut-off, and
        ``"all-data fit"`` when the reference fit did not."""
        labels = [f"{cut.cut:g}" for cut in self.cuts if cut.converged is False]
        if self.reference_converged is False:
            labels.append("all-data fit")
        return labels

    def table(self) -> pd.DataFrame:
        """One row per cut-off (the asymptotes per recipe left out)."""
        rows = [{k: v for k, v in c.to_dict().items() if k != "asymptote"} for c in self.cuts]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The ``backtest.json`` payload."""
        return {
            "likelihood": self.likelihood,
            "reference": self.reference,
            "reference_asymptote": dict(self.reference_asymptote),
            "final_against": self.final_against,
            "cuts": [cut.to_dict() for cut in self.cuts],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "reference_converged": self.reference_converged,
            "unconverged": self.unconverged,
        }


def split_at_cuts(
    curves: CurveData, axis: str, cuts: Sequence[float], *, min_points: int
) -> tuple[dict[float, CurveData], list[tuple[float, str]]]:
    """The training window below each cut, and why each refused cut cannot be one.

    A cut is refused when nothing lies beyond it (it would hold out nothing) or
    when the rows up to it leave a run fewer than ``min_points`` points. Both the
    API (:func:`backtest`) and the CLI (before any sampling) apply this one rule.

    Parameters
    ----------
    curves : CurveData
        The whole data set.
    axis : str
        The input role the cuts apply to (``"x"``, ``"n"``, ``"d"``).
    cuts : sequence of float
        The cut-offs, in any order.
    min_points : int
        Fewest points a run must keep below a cut.

    Returns
    -------
    windows : dict of float to CurveData
        Cut -> the data up to it, in increasing order of cut.
    refused : list of (float, str)
        Cut and the reason, for each cut that cannot be used.
    """
    largest = float(curves.frame[axis].max())
    windows: dict[float, CurveData] = {}
    refused: list[tuple[float, str]] = []
    for cut in sorted(float(c) for c in cuts):
        if cut >= largest:
            name = curves.columns.get(axis, axis)
            refused.append(
                (
                    cut,
                    f"no point of {curves.source} lies beyond it (the largest {name!r} is "
                    f"{largest:g}): it holds out nothing",
                )
            )
            continue
        try:
            windows[cut] = curves.below(axis, cut, min_points=min_points)
        except DataError as err:
            refused.append((cut, str(err).removeprefix(f"{curves.source}: ")))
    return windows, refused


def backtest(
    data: pd.DataFrame | str | Path,
    cuts: Sequence[float],
    law: str = "sigmoid",
    *,
    x: str | None = None,
    y: str | None = None,
    run: str | None = None,
    recipe: str | None = None,
    n: str | None = None,
    d: str | None = None,
    compute: str | None = None,
    trials: str | int | None = None,
    axis: str | None = None,
    min_x: float | None = None,
    true_asymptote: float | Mapping[str, float] | None = None,
    truth_column: str | None = None,
    keep_fits: bool = False,
    progress: bool = True,
    **fit_options: Any,
) -> Backtest:
    """Fit on ``axis <= cut`` for each cut-off and score the predictions beyond it.

    Parameters
    ----------
    data : DataFrame or path
        As for :func:`bayescale.fit`.
    cuts : sequence of float
        Cut-offs on the axis (e.g. ``[10_000, 20_000, 50_000]`` GPU-hours, or
        ``[1e9, 5e9]`` parameters).
    law : str
        A registered law.
    x, y, run, recipe, n, d, compute, trials : str
        Columns, as for :func:`bayescale.fit`.
    axis : str, optional
        The input role the cuts apply to: ``"x"`` (default for laws of one
        input), ``"n"`` (default for laws of parameters and tokens) or ``"d"``.
    min_x : float, optional
        Early-compute exclusion applied to training and held-out data alike.
    true_asymptote : float or mapping of recipe to float, optional
        Known asymptote (simulated data); otherwise an extra fit on all the data
        gives the reference.
    truth_column : str, optional
        Column with the noiseless curve (simulated data): ``final_error`` and the
        curve coverages are measured against it.
    keep_fits : bool
        Keep every cut's :class:`~bayescale.Fit` in ``result.fits``.
    progress : bool
        Show a progress bar with the time left on a terminal (stderr).
    **fit_options
        Passed to :func:`bayescale.fit`: ``likelihood``, ``varying``, ``priors``,
        ``draws``, ``tune``, ``chains``, ``seed``, ...

    Returns
    -------
    Backtest

    Warns
    -----
    BacktestWarning
        When a cut's held-out coverage is far below nominal.

    Raises
    ------
    DataError
        On bad data, or when every cut-off leaves a run too few points to fit
        (a cut-off that does is skipped with a note when others remain).
    ValueError
        On an axis the law does not have, or no cut-offs.

    Examples
    --------
    >>> result = backtest(bs.example_path("scalerl_3seeds"), [50_000], x="gpu_hours", y="pass_rate",
    ...                   run="seed", min_x=1500, seed=1)  # doctest: +SKIP
    >>> result.cuts[0].coverage_90  # doctest: +SKIP
    """
    law_obj = get_law(law)
    axis = fold_axis(law_obj) if axis is None else axis
    if axis not in law_obj.inputs:
        raise ValueError(f"axis {axis!r}: law {law!r} has inputs {', '.join(law_obj.inputs)}")
    if not cuts:
        raise ValueError("give at least one cut-off")
    columns = {"x": x, "y": y, "run": run, "recipe": recipe, "trials": trials}
    columns.update(
        {role: value for role, value in (("n", n), ("d", d), ("compute", compute)) if value}
    )
    load = {key: fit_options.pop(key) for key in ("repeats", "drop_highest") if key in fit_options}
    full = curves_for_law(data, law_obj, min_x=min_x, min_points=1, **columns, **load)
    truth = _truth_values(data, full, truth_column)
    min_points = len(law_obj.parameters) + 1
    below, refused = split_at_cuts(full, axis, cuts, min_points=min_points)
    notes = [f"cut {cut:g} skipped: {reason}" for cut, reason in refused]
    if not below:
        raise DataError(f"{full.source}: {notes[0]}")  # every cut refused: name the first
    windows = {f"{cut:g}": window for cut, window in below.items()}
    if true_asymptote is None:
        windows["all"] = full.window(min_points=min_points)
    batch = fit_many(
        windows,
        executor="serial",
        progress="backtest" if progress else False,
        law=law,
        **fit_options,
    )
    failed = {name: error for name, error in zip(batch.names, batch.errors, strict=True) if error}
    if failed:
        name, error = next(iter(failed.items()))
        raise DataError(f"backtest fit {name!r} failed: {error}")
    fitted = dict(zip(batch.names, batch.fits, strict=True))
    reference_converged = None
    if true_asymptote is None:
        all_data = fitted.pop("all")
        reference, reference_name = asymptotes(all_data), "all-data fit"
        reference_converged = all_data.diagnostics.converged
    else:
        reference_name = "true_asymptote"
        reference = (
            {r: float(true_asymptote) for r in full.recipes}
            if np.isscalar(true_asymptote)
            else {r: float(true_asymptote[r]) for r in full.recipes}
        )
    results, fits, likelihood = [], {}, ""
    for label, cut_fit in fitted.items():
        cut = float(label)
        results.append(score_cut(cut_fit, full, cut, reference, truth, axis=axis))
        likelihood = cut_fit.spec.likelihood
        if keep_fits:
            fits[cut] = cut_fit
    found = coverage_warnings(results)
    for message in found:
        warn(message, BacktestWarning)
    return Backtest(
        cuts=results,
        reference=reference_name,
        reference_asymptote=reference,
        final_against=truth_column or "observed",
        likelihood=likelihood,
        fits=fits,
        warnings=found,
        notes=notes,
        reference_converged=reference_converged,
    )


class BacktestWarning(BayescaleWarning):
    """Held-out points fell outside their predictive intervals far more often than nominal."""


MIN_HELDOUT = 10
"""Fewest held-out points for a coverage warning."""


def coverage_warnings(cuts: Sequence[CutResult], nominal: float = 0.9) -> list[str]:
    """One line per cut whose ``coverage_90`` is far below ``nominal``.

    "Far" is more than three binomial standard errors and at least 0.1 below. Held-out
    points of one run are correlated, so the binomial error understates the
    spread: the 0.1 floor keeps small misses from warning.

    Examples
    --------
    >>> cut = CutResult(15.0, 45, 39, 0.05, 6 / 39, {}, float("nan"), float("nan"))
    >>> coverage_warnings([cut])[0][:62]
    'cut 15: the 90% predictive intervals held 6 of 39 held-out poi'
    """
    out = []
    for cut in cuts:
        if cut.n_heldout < MIN_HELDOUT or not np.isfinite(cut.coverage_90):
            continue
        margin = max(0.1, 3 * np.sqrt(nominal * (1 - nominal) / cut.n_heldout))
        if cut.coverage_90 < nominal - margin:
            held = round(cut.coverage_90 * cut.n_heldout)
            out.append(
                f"cut {cut.cut:g}: the 90% predictive intervals held {held} of {cut.n_heldout} "
                f"held-out points ({cut.coverage_90:.0%}), far below 90%: extrapolation from "
                "this cut is over-confident (see 'Why an early cut under-covers' in "
                "docs/honest_intervals.md)"
            )
    return out


def _truth_values(data: Any, full: CurveData, column: str | None) -> np.ndarray | None:
    """The truth column aligned with ``full.frame`` (via its source ``row``)."""
    if column is None:
        return None
    if isinstance(data, CurveData):
        if data.path is None:
            raise DataError(f"{data.source}: truth_column needs the data's file or DataFrame")
        data = data.path
    raw = read_table(data) if not isinstance(data, pd.DataFrame) else data
    if column not in raw.columns:
        raise DataError(f"{full.source}: missing truth column '{column}'")
    values = pd.to_numeric(raw[column], errors="coerce").to_numpy(float)
    return values[full.frame["row"].to_numpy()]


def asymptotes(fit_result: Fit) -> dict[str, float]:
    """Median recipe-level limit of the curve at infinite compute (``Law.asymptote``), per recipe.

    Raises
    ------
    ValueError
        If the law does not state its asymptote.

    Examples
    --------
    >>> asymptotes(fit)  # doctest: +SKIP
    {'all': 0.6151}
    """
    law = fit_result.law
    if law.asymptote is None:
        raise ValueError(f"law {law.name!r} does not state its asymptote (Law.asymptote)")
    return {
        recipe: float(np.median(law.asymptote(fit_result.parameter_draws(recipe=recipe))))
        for recipe in fit_result.recipes
    }


def score_cut(
    cut_fit: Fit,
    full: CurveData,
    cut: float,
    reference: Mapping[str, float],
    truth: np.ndarray | None = None,
    *,
    axis: str = "x",
) -> CutResult:
    """Score one fit on the points of ``full`` with ``axis`` beyond ``cut``.

    Examples
    --------
    >>> score_cut(fit, full, 50_000.0, {"all": 0.61}).coverage_90  # doctest: +SKIP
    """
    frame = full.frame
    held = frame[frame[axis] > cut]
    inside = {ci: [] for ci in INTERVALS}
    curve_inside = {ci: [] for ci in INTERVALS}
    final_errors, decades, ratios = [], [], []
    for run, rows in held.groupby("run", sort=False):
        known = run in cut_fit.runs
        level = {"run": run} if known else {"recipe": full.run_recipe[run]}
        inputs = {role: rows[role].to_numpy() for role in cut_fit.law.inputs}
        ys = rows["y"].to_numpy()
        target = ys if truth is None else truth[rows.index.to_numpy()]
        for ci in INTERVALS:
            pred = cut_fit.predict(**inputs, ci=ci, **level)
            inside[ci].append((ys >= pred["obs_lower"]) & (ys <= pred["obs_upper"]))
            if truth is not None:
                curve_inside[ci].append((target >= pred["lower"]) & (target <= pred["upper"]))
        final_errors.append(abs(float(pred["median"].iloc[-1]) - float(target[-1])))
        decades.append(pred["decades_beyond"].to_numpy())
        half = (pred["obs_upper"] - pred["obs_lower"]).to_numpy() / 2
        ratios.append(np.abs(ys - pred["median"].to_numpy()) / np.where(half > 0, half, np.nan))
    predicted = asymptotes(cut_fit)
    errors = [abs(predicted[r] - reference[r]) for r in predicted if r in reference]

    def share(parts: list[np.ndarray]) -> float:
        return float(np.concatenate(parts).mean()) if parts else float("nan")

    return CutResult(
        cut=cut,
        n_train=len(cut_fit.data),
        n_heldout=len(held),
        coverage_50=share(inside[0.5]),
        coverage_90=share(inside[0.9]),
        asymptote=predicted,
        asymptote_error=float(np.mean(errors)) if errors else float("nan"),
        final_error=float(np.mean(final_errors)) if final_errors else float("nan"),
        curve_coverage_50=share(curve_inside[0.5]) if truth is not None else None,
        curve_coverage_90=share(curve_inside[0.9]) if truth is not None else None,
        max_r_hat=cut_fit.diagnostics.max_r_hat,
        divergences=cut_fit.diagnostics.divergences,
        converged=cut_fit.diagnostics.converged,
        max_decades=float(np.concatenate(decades).max()) if decades else float("nan"),
        error_to_halfwidth=float(np.nanmedian(np.concatenate(ratios))) if ratios else float("nan"),
    )
