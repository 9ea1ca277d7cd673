"""The law's own error beyond the fitted range, learned by internal backtests.

A scaling law is only approximately right: fitted on small models, it bends away
from the larger ones (Epoch's reconstruction of the Chinchilla runs, fitted on
N <= 5e9, under-predicts 15 of the 17 larger losses). A posterior that assumes
the law exactly cannot know this, so its intervals shrink where they should
grow. This module adds a *law-error* term whose size grows with the distance
from the fitted range and whose scale is learned from the data themselves:

1. **Internal leave-largest-out folds.** The data (each recipe's own rows) are
   cut along the extrapolation axis (``x``; ``n`` for laws of parameters and
   tokens) at :data:`FOLD_DEPTHS` decades below the largest value; the law is
   refitted on the rows below each cut by least squares (fast: no sampling) and
   predicts the rows above it.
2. **A random walk in the law's error.** On the error scale (log for losses,
   logit for rates, so bounded metrics stay bounded), a held-out error ``e_i``
   at ``Delta_i`` decades outside the fold's fitted range is
   ``Normal(0, kappa^2 Delta_i + v_i)``: the law's error grows like a random
   walk in log scale on the mean, variance proportional to the distance;
   ``v_i`` is the measurement noise plus the least-squares parameter variance
   (delta method). A fold's law error is systematic (its held-out points move
   together), so a fold, not a point, is the unit of evidence: each fold's log
   likelihood is averaged over its points.
3. **A posterior for the scale.** With a half-normal prior on ``kappa``
   (:data:`PRIOR_SCALE`, per square-root decade), a grid posterior for
   ``kappa``.

A prediction ``Delta`` decades outside the fitted range then carries
``eta = kappa * sqrt(Delta) * z`` (``z`` standard normal, ``kappa`` drawn from
its posterior) on the error scale; inside the range ``Delta = 0`` and nothing
changes. See ``docs/honest_intervals.md`` for the real-data backtests that
checked this design against the alternatives (no law error, least squares,
split-conformal, an error linear in ``Delta``).

Examples
--------
>>> import numpy as np
>>> error = LawError(scale="log", axis="x", ranges={"x": (1.0, 100.0)},
...                  kappa=(0.0, 0.05, 0.1), weights=(0.2, 0.5, 0.3))
>>> error.decades({"x": np.array([10.0, 1000.0, 0.1])}).tolist()
[0.0, 1.0, 1.0]
>>> round(error.kappa_median, 3)
0.05
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayescale.data.curves import CurveData
from bayescale.model.laws import NUMPY_OPS, Law

FOLD_DEPTHS = (0.25, 0.5, 0.75, 1.0)
"""Cuts of the internal folds, in decades below the largest value of the axis
(shallower when the data span less than two decades)."""

PRIOR_SCALE = {"log": 0.03, "logit": 0.15, "identity": 0.03}
"""Scale of the half-normal prior on ``kappa`` (the law error's sd one decade out),
by error scale: a weakly informative guess that the folds' evidence overrides.
Log losses: 3% one decade out; logit: 0.15 is about 0.04 in pass rate near 0.5.
The identity scale is in units of the data's own standard deviation."""

GRID_SIZE = 400
"""Points of the grid posterior of ``kappa``."""

MAX_FOLD_ROWS = 20_000
"""Rows the internal folds use at most (every k-th row of a longer log)."""

_POINTWISE = ("errors", "decades", "base_variance")

MIN_TRAIN_POINTS = 6
"""Fewest rows a fold is fitted on (and at least twice the law's parameters)."""


@dataclass(frozen=True)
class LawError:
    """The learned law-error scale of one fit.

    Attributes
    ----------
    scale : {"log", "logit", "identity"}
        The scale on which the error is added: log of the metric for losses,
        logit for rates in [0, 1], the metric itself otherwise.
    axis : str
        The input role the internal folds cut along.
    ranges : dict of str to (float, float)
        The fitted range of each input role; distances are measured from it.
    kappa, weights : tuple of float
        Grid posterior of ``kappa``: the law error's sd is ``kappa * sqrt(Delta)``
        at ``Delta`` decades outside the fitted range.
    unit : float
        Size of one error-scale unit (1, or the data's sd on the identity scale).
    folds : list of dict
        The internal folds: ``recipe``, ``cut``, ``n_train``, ``n_held``,
        ``max_decades``, ``mean_error`` and ``rms_error`` of the held-out rows
        (error scale), ``share_above`` (share of them above the prediction).
    notes : list of str
        What the estimate rests on (folds skipped, too few folds).
    """

    scale: str
    axis: str
    ranges: Mapping[str, tuple[float, float]]
    kappa: tuple[float, ...]
    weights: tuple[float, ...]
    unit: float = 1.0
    folds: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def kappa_median(self) -> float:
        """Posterior median of ``kappa`` (error-scale units)."""
        cumulative = np.cumsum(self.weights)
        return float(np.asarray(self.kappa)[np.searchsorted(cumulative, 0.5)])

    @property
    def sd_per_decade(self) -> float:
        """The law error's sd one decade out (root mean square of ``kappa``, in the
        metric's error-scale units)."""
        return float(np.sqrt(np.dot(self.weights, np.square(self.kappa)))) * self.unit

    def decades(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Decades outside the fitted range (:func:`decades_outside` of :attr:`ranges`)."""
        return decades_outside(inputs, self.ranges)

    def draw(
        self, decades: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator
    ) -> np.ndarray:
        """Law-error draws on the error scale, shape ``shape + decades.shape``.

        One ``kappa`` and one ``z`` per draw are shared by all points, so that
        points of one prediction move together, as a law that bends does.
        """
        kappa = rng.choice(np.asarray(self.kappa), size=shape, p=np.asarray(self.weights))
        z = rng.standard_normal(shape)
        return (kappa * z * self.unit)[..., None] * np.sqrt(np.asarray(decades))

    def apply(self, metric: np.ndarray, error: np.ndarray) -> np.ndarray:
        """``metric`` (on the metric's scale) moved by ``error`` (on the error scale)."""
        if self.scale == "log":
            return metric * np.exp(error)
        if self.scale == "logit":
            clipped = np.clip(metric, 1e-12, 1 - 1e-12)
            return _expit(_logit(clipped) + error)
        return metric + error

    def drifting_folds(self) -> tuple[int, int, str] | None:
        """``(n one-sided, n folds, "above"/"below")`` when the internal folds'
        held-out points lie systematically on one side of the law, else ``None``.

        A fold is one-sided when at least 80% of its (five or more) held-out
        points lie on one side; the law drifts when at least three folds and
        three quarters of all folds are one-sided the same way.
        """
        sides = [
            1 if f["share_above"] >= 0.8 else -1 if f["share_above"] <= 0.2 else 0
            for f in self.folds
            if f["n_held"] >= 5
        ]
        for sign, side in ((1, "above"), (-1, "below")):
            count = sides.count(sign)
            if count >= 3 and 4 * count >= 3 * len(self.folds):
                return count, len(self.folds), side
        return None

    def message(self) -> str | None:
        """A warning when the law drifts in the internal backtests, else ``None``."""
        drift = self.drifting_folds()
        if drift is None:
            return None
        count, total, side = drift
        axis = {"x": "x", "n": "N", "d": "D"}.get(self.axis, self.axis)
        return (
            f"the law drifts: refitted on the smaller {axis} values, the larger ones lie "
            f"{side} its prediction in {count} of {total} internal folds; the law bends "
            f"away from the data as {axis} grows. Predictions beyond the fitted range "
            f"include a law-error term of sd {self.sd_per_decade:.3g} one decade out "
            f"({self.scale} scale); consider a more flexible law or predicting less far"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (what a saved fit stores)."""
        out = asdict(self)
        out["ranges"] = {role: list(bounds) for role, bounds in self.ranges.items()}
        out["kappa"] = list(self.kappa)
        out["weights"] = list(self.weights)
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> LawError:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            If the grid is malformed (lengths differ, weights not a distribution).
        """
        kappa = tuple(float(v) for v in values["kappa"])
        weights = tuple(float(v) for v in values["weights"])
        ok = (
            len(kappa) == len(weights) > 0
            and np.all(np.isfinite(kappa))
            and min(kappa) >= 0
            and np.all(np.asarray(weights) >= 0)
            and abs(sum(weights) - 1) < 1e-6
        )
        if not ok or values["scale"] not in PRIOR_SCALE:
            raise ValueError("law_error: malformed grid posterior")
        return cls(
            scale=str(values["scale"]),
            axis=str(values["axis"]),
            ranges={role: (float(lo), float(hi)) for role, (lo, hi) in values["ranges"].items()},
            kappa=kappa,
            weights=weights,
            unit=float(values.get("unit", 1.0)),
            folds=[dict(f) for f in values.get("folds", [])],
            notes=[str(n) for n in values.get("notes", [])],
        )


def decades_outside(
    inputs: Mapping[str, Any], ranges: Mapping[str, tuple[float, float]]
) -> np.ndarray:
    """Decades outside ``ranges`` (role -> (smallest, largest)), the largest over the
    roles; 0 inside.

    Parameters
    ----------
    inputs : dict of str to array
        Input values by role (``x``, or ``n`` and ``d``; a DataFrame with those
        columns will do), all the same shape.
    ranges : dict of str to (float, float)
        The fitted range of each role.
    """
    out = np.zeros(np.shape(inputs[next(iter(ranges))]))
    for role, (low, high) in ranges.items():
        values = np.log10(np.asarray(inputs[role], dtype=float))
        out = np.maximum(out, np.maximum(values - np.log10(high), np.log10(low) - values))
    return out


def _logit(p: Any) -> Any:
    return np.log(p) - np.log1p(-p)


def _expit(u: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(u)))


def error_scale(law: Law) -> str:
    """The scale of a law's error: ``"log"`` for log-response laws, ``"logit"``
    for bounded rates, ``"identity"`` otherwise."""
    if law.response == "log":
        return "log"
    return "logit" if law.bounded else "identity"


def fold_axis(law: Law) -> str:
    """The input the internal folds cut along: ``n`` (model size) when the law
    has it, else its first input."""
    return "n" if "n" in law.inputs else law.inputs[0]


def input_ranges(frame: pd.DataFrame, law: Law) -> dict[str, tuple[float, float]]:
    """Smallest and largest value of each input role in ``frame``."""
    return {role: (float(frame[role].min()), float(frame[role].max())) for role in law.inputs}


def estimate_law_error(
    curves: CurveData, law: Law, start: Mapping[str, Mapping[str, float]]
) -> LawError:
    """Learn the law-error scale from internal leave-largest-out folds.

    Parameters
    ----------
    curves : CurveData
        The fitted data.
    law : Law
        The fitted law.
    start : dict
        Recipe -> starting law parameters for the folds' least-squares fits
        (the full fit's posterior medians).

    Returns
    -------
    LawError
    """
    scale = error_scale(law)
    frame = curves.frame
    unit = 1.0
    if scale == "identity":
        unit = float(np.std(frame["y"].to_numpy(float))) or 1.0
    if len(frame) > MAX_FOLD_ROWS:
        frame = frame.iloc[:: -(-len(frame) // MAX_FOLD_ROWS)]
    folds: list[dict[str, Any]] = []
    notes: list[str] = []
    for recipe, rows in frame.groupby("recipe", sort=False):
        folds.extend(_recipe_folds(rows, law, scale, unit, dict(start[recipe]), str(recipe)))
    kappa, weights = _kappa_posterior(folds, PRIOR_SCALE[scale])
    folds = [{k: v for k, v in fold.items() if k not in _POINTWISE} for fold in folds]
    if len(folds) < 2:
        notes.append(
            f"law error: {len(folds)} internal fold(s) could be fitted; its scale "
            f"beyond the fitted range rests on the prior ({PRIOR_SCALE[scale]} per decade)"
        )
    return LawError(
        scale=scale,
        axis=fold_axis(law),
        ranges=input_ranges(frame, law),
        kappa=tuple(kappa.tolist()),
        weights=tuple(weights.tolist()),
        unit=unit,
        folds=folds,
        notes=notes,
    )


def _recipe_folds(
    rows: pd.DataFrame, law: Law, scale: str, unit: float, start: dict[str, float], recipe: str
) -> list[dict[str, Any]]:
    axis = fold_axis(law)
    values = rows[axis].to_numpy(float)
    span = np.log10(values.max() / values.min())
    depth_factor = min(1.0, span / (2 * FOLD_DEPTHS[-1]))
    min_train = max(MIN_TRAIN_POINTS, 2 * len(law.parameters))
    folds = []
    for depth in FOLD_DEPTHS:
        cut = values.max() / 10 ** (depth * depth_factor)
        train, held = rows[values <= cut], rows[values > cut]
        if len(train) < min_train or held.empty or train[axis].nunique() < len(law.parameters):
            continue
        fitted = least_squares_refit(train, law, scale, start)
        if fitted is None:
            continue
        params, noise_sd, predictive_sd = fitted
        observed = _on_scale(held["y"].to_numpy(float), scale)
        error = (observed - _predict(law, held, params, scale)) / unit
        decades = decades_outside(held, input_ranges(train, law))
        outside = decades > 0
        if not outside.any():
            continue
        base = (noise_sd**2 + predictive_sd(held) ** 2) / unit**2
        folds.append(
            {
                "recipe": recipe,
                "cut": float(cut),
                "n_train": len(train),
                "n_held": int(outside.sum()),
                "max_decades": float(decades.max()),
                "errors": error[outside].tolist(),
                "decades": decades[outside].tolist(),
                "base_variance": base[outside].tolist(),
                "mean_error": float(np.mean(error[outside])),
                "rms_error": float(np.sqrt(np.mean(error[outside] ** 2))),
                "share_above": float(np.mean(error[outside] > 0)),
            }
        )
    return folds


def _on_scale(y: np.ndarray, scale: str) -> np.ndarray:
    if scale == "log":
        return np.log(y)
    if scale == "logit":
        return _logit(np.clip(y, 1e-4, 1 - 1e-4))
    return y


def _predict(law: Law, frame: pd.DataFrame, params: Mapping[str, float], scale: str) -> np.ndarray:
    log_inputs = {role: np.log(frame[role].to_numpy(float)) for role in law.inputs}
    with np.errstate(all="ignore"):
        mean = np.asarray(law.mean(NUMPY_OPS, log_inputs, params), dtype=float)
    if scale == "logit":
        return _logit(np.clip(mean, 1e-4, 1 - 1e-4))
    return np.broadcast_to(mean, (len(frame),))


def _transforms(law: Law) -> dict[str, tuple[Any, Any]]:
    """Parameter -> (to unconstrained, from unconstrained)."""
    out = {}
    for name in law.parameters:
        low, high = law.parameter_range(name)
        if np.isfinite(low) and np.isfinite(high):
            width = high - low
            out[name] = (
                lambda v, lo=low, w=width: _logit(np.clip((v - lo) / w, 1e-6, 1 - 1e-6)),
                lambda u, lo=low, w=width: lo + w * _expit(u),
            )
        elif low == 0 and not np.isfinite(high):
            out[name] = (lambda v: np.log(max(v, 1e-300)), np.exp)
        else:
            out[name] = (lambda v: v, lambda u: u)
    return out


def least_squares_refit(
    train: pd.DataFrame, law: Law, scale: str, start: dict[str, float]
) -> tuple[dict[str, float], float, Any] | None:
    """Least-squares refit of ``law`` on ``train`` (error scale) from ``start``.

    Returns the parameters, the residual sd and a function giving each held-out
    row's prediction sd from the parameter uncertainty (delta method), or
    ``None`` when the fit fails.
    """
    from scipy.optimize import least_squares

    transforms = _transforms(law)
    names = list(law.parameters)
    target = _on_scale(train["y"].to_numpy(float), scale)

    def params_of(u: np.ndarray) -> dict[str, float]:
        return {
            name: float(transforms[name][1](value)) for name, value in zip(names, u, strict=True)
        }

    def residuals(u: np.ndarray) -> np.ndarray:
        predicted = _predict(law, train, params_of(u), scale)
        out = predicted - target
        return np.where(np.isfinite(out), out, 1e6)

    u0 = np.array([transforms[name][0](start[name]) for name in names], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            result = least_squares(residuals, u0, method="trf", x_scale="jac", max_nfev=2000)
        except (ValueError, np.linalg.LinAlgError):
            return None
    if not np.all(np.isfinite(result.fun)) or np.max(np.abs(result.fun)) >= 1e5:
        return None
    dof = max(len(train) - len(names), 1)
    noise_sd = float(np.sqrt(np.sum(result.fun**2) / dof))
    covariance = noise_sd**2 * np.linalg.pinv(result.jac.T @ result.jac)
    params = params_of(result.x)

    def predictive_sd(held: pd.DataFrame) -> np.ndarray:
        base = _predict(law, held, params, scale)
        gradient = np.empty((len(held), len(names)))
        for k in range(len(names)):
            step = np.zeros(len(names))
            step[k] = 1e-5
            gradient[:, k] = (_predict(law, held, params_of(result.x + step), scale) - base) / 1e-5
        variance = np.einsum("ij,jk,ik->i", gradient, covariance, gradient)
        return np.sqrt(np.clip(np.nan_to_num(variance, nan=0.0), 0, None))

    return params, noise_sd, predictive_sd


def _kappa_posterior(
    folds: list[dict[str, Any]], prior_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Grid posterior of ``kappa`` given the folds' held-out errors.

    Each held-out error is ``Normal(0, kappa^2 * Delta + v)`` (``v``: noise and
    least-squares parameter variance); a fold's points share one law error, so
    each fold's log likelihood is averaged over its points: a fold counts as one
    unit of evidence, however many points it holds out.
    """
    largest = max(
        (float(np.max(np.abs(f["errors"]) / np.sqrt(f["decades"]))) for f in folds), default=0.0
    )
    kappa = np.linspace(0.0, max(6 * prior_scale, 2 * largest), GRID_SIZE)
    log_weight = -0.5 * (kappa / prior_scale) ** 2
    for fold in folds:
        errors, decades = np.asarray(fold["errors"]), np.asarray(fold["decades"])
        variance = (
            kappa[:, None] ** 2 * decades[None, :] + np.asarray(fold["base_variance"])[None, :]
        )
        variance = np.maximum(variance, 1e-18)
        log_weight = log_weight - 0.5 * np.mean(np.log(variance) + errors**2 / variance, axis=1)
    weights = np.exp(log_weight - log_weight.max())
    return kappa, weights / weights.sum()
