"""Inference-aware allocation (Sardana et al. 2023, "Beyond Chinchilla-Optimal").

A model that will also serve ``T`` inference tokens costs ``6 N D`` training
FLOPs plus ``2 N T`` inference FLOPs. Under the Chinchilla law
``L(N, D) = E + A / N^alpha + B / D^beta`` this module finds, for every
posterior draw,

- at a **target loss** ``L*``: the ``N`` and ``D`` that reach ``L*`` at the least
  total cost ``6 N D + 2 N T``;
- at a **total budget** ``C``: the ``N`` and ``D`` with ``6 N D + 2 N T = C``
  that give the lowest loss;

and compares each with the Chinchilla (compute-optimal) allocation that reaches
the same loss, serving the same ``T`` tokens (:mod:`bayescale.results.allocation`:
its frontier and its inverse, not a second copy of them).

Neither problem has a closed form (Sardana et al. use Newton's method); each
reduces to one monotone equation in one variable, solved here by bisection on
all draws at once:

- target loss, with ``g = L* - E`` and ``s = (A / N^alpha) / g`` the parameter
  term's share of the reducible loss: the first-order condition is
  ``6 D(s) (alpha s / (beta (1 - s)) - 1) = 2 T`` with
  ``D(s) = (B / ((1 - s) g))^(1 / beta)``; its left side rises from 0 at the
  Chinchilla share ``s = beta / (alpha + beta)`` to infinity as ``s -> 1``;
- total budget: ``alpha A N^-alpha w = beta B D^-beta`` with ``w = 6 N D / C``
  the training share of the budget; ``log`` of the left over the right falls
  strictly with ``N``.

With ``T = 0`` both reduce to the Chinchilla optimum.

Examples
--------
>>> import numpy as np
>>> hoffmann = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
>>> plan = optimal_for_inference(hoffmann, 2e12, loss=2.0177)
>>> round(float(plan["n"] / 1e9), 1), round(float(plan["saving"]), 3)
(8.0, 0.101)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescale.data.curves import FLOP_PER_PARAMETER_TOKEN
from bayescale.model.laws import get_law
from bayescale.results.allocation import STATISTICS, optimal_allocation, records_table
from bayescale.results.intervals import DEFAULT_CI, check_ci, eti

if TYPE_CHECKING:
    from bayescale.results.fit_result import Fit

FLOP_PER_INFERENCE_TOKEN = 2.0
"""Inference FLOPs per parameter and token served (a forward pass)."""

QUANTITIES = (
    "n",
    "d",
    "ratio",
    "loss",
    "training_flops",
    "inference_flops",
    "total_flops",
    "chinchilla_n",
    "chinchilla_d",
    "chinchilla_total_flops",
    "saving",
    "saving_flops",
)
"""What :func:`inference_optimal` reports per draw: the inference-aware ``N``,
``D``, ``D / N``, loss and costs; the Chinchilla allocation reaching the same loss
(``chinchilla_*``, its total cost serving the same tokens); ``saving``, the share
of that total cost saved, and ``saving_flops``, the FLOPs saved."""

_ITERATIONS = 200
"""Bisection steps: brackets of width <= 100 in log space shrink below 1e-58."""


def _bisect(function: Callable[[np.ndarray], np.ndarray], low: Any, high: Any) -> np.ndarray:
    """Root of ``function``, positive at ``low`` and negative at ``high``, elementwise."""
    low, high = np.broadcast_arrays(np.asarray(low, float), np.asarray(high, float))
    low, high = low.copy(), high.copy()
    for _ in range(_ITERATIONS):
        middle = 0.5 * (low + high)
        positive = function(middle) > 0
        low = np.where(positive, middle, low)
        high = np.where(positive, high, middle)
    return 0.5 * (low + high)


def _at_loss(p: Mapping[str, np.ndarray], loss: Any, tokens: Any) -> tuple[Any, Any]:
    """log N, log D reaching ``loss`` at least ``6 N D + 2 N tokens`` (NaN if unreachable)."""
    alpha, beta = p["alpha"], p["beta"]
    gap = loss - p["E"]
    reachable = gap > 0
    log_gap = np.log(np.where(reachable, gap, 1.0))
    with np.errstate(divide="ignore"):
        log_inference = np.log(FLOP_PER_INFERENCE_TOKEN * tokens / FLOP_PER_PARAMETER_TOKEN)
    chinchilla_share = beta / (alpha + beta)

    def log_d(log_rest):  # log_rest = log(1 - s)
        return (np.log(p["B"]) - log_rest - log_gap) / beta

    def condition(log_rest):
        share = 1.0 - np.exp(log_rest)
        excess = np.log(np.maximum(alpha * share - beta * (1.0 - share), 0.0))
        return log_d(log_rest) + excess - np.log(beta) - log_rest - log_inference

    with np.errstate(divide="ignore", invalid="ignore"):
        log_rest = _bisect(condition, -100.0, np.log1p(-chinchilla_share))
    log_rest = np.where(np.asarray(tokens) > 0, log_rest, np.log1p(-chinchilla_share))
    share = 1.0 - np.exp(log_rest)
    log_n = (np.log(p["A"]) - np.log(share) - log_gap) / alpha
    nan = np.nan
    return np.where(reachable, log_n, nan), np.where(reachable, log_d(log_rest), nan)


def _at_budget(p: Mapping[str, np.ndarray], budget: Any, tokens: Any) -> tuple[Any, Any]:
    """log N, log D of least loss at ``6 N D + 2 N tokens = budget``."""
    alpha, beta = p["alpha"], p["beta"]
    chinchilla = np.log(optimal_allocation(p, budget)["n_opt"])
    with np.errstate(divide="ignore"):
        ceiling = np.log(budget) - np.log(FLOP_PER_INFERENCE_TOKEN * np.asarray(tokens, float))

    def log_d(log_n):
        share = 1.0 - np.exp(log_n - ceiling)
        return np.log(budget / FLOP_PER_PARAMETER_TOKEN) - log_n + np.log(share)

    def condition(log_n):
        share = 1.0 - np.exp(log_n - ceiling)
        left = np.log(alpha * p["A"]) - alpha * log_n + np.log(share)
        return left - np.log(beta * p["B"]) + beta * log_d(log_n)

    with np.errstate(divide="ignore", invalid="ignore"):
        log_n = _bisect(condition, chinchilla - 60.0, np.minimum(chinchilla + 1.0, ceiling))
        return log_n, log_d(log_n)


def optimal_for_inference(
    params: Mapping[str, Any],
    inference_tokens: Any,
    *,
    loss: Any = None,
    budget: Any = None,
) -> dict[str, np.ndarray]:
    """Inference-aware allocation for Chinchilla parameters (numbers or arrays of draws).

    Parameters
    ----------
    params : mapping
        ``E``, ``A``, ``B``, ``alpha``, ``beta``: numbers or NumPy arrays that
        broadcast against each other and against the targets.
    inference_tokens : float or array-like
        Tokens the model will serve over its life (``>= 0``).
    loss, budget : float or array-like
        Exactly one: the target loss, or the total budget in FLOPs
        (training + inference).

    Returns
    -------
    dict of str to numpy.ndarray
        The :data:`QUANTITIES`; NaN where a target loss is unreachable (at or
        below the draw's ``E``).

    Raises
    ------
    ValueError
        Unless exactly one of ``loss`` and ``budget`` is given.
    """
    if (loss is None) == (budget is None):
        raise ValueError("give exactly one of loss= (target loss) and budget= (total FLOPs)")
    p = {name: np.asarray(params[name], dtype=float) for name in ("E", "A", "B", "alpha", "beta")}
    tokens = np.asarray(inference_tokens, dtype=float)
    if budget is not None:
        log_n, log_d = _at_budget(p, np.asarray(budget, float), tokens)
    else:
        log_n, log_d = _at_loss(p, np.asarray(loss, float), tokens)
    n, d = np.exp(log_n), np.exp(log_d)
    law = get_law("chinchilla")
    with np.errstate(invalid="ignore"):  # NaN where a target loss is unreachable
        reached = law.curve({"n": log_n, "d": log_d}, p)
        reference_compute, _ = law.inverse(p, reached)
        reference = optimal_allocation(p, reference_compute)
    training = FLOP_PER_PARAMETER_TOKEN * n * d
    inference = FLOP_PER_INFERENCE_TOKEN * n * tokens
    reference_total = reference_compute + FLOP_PER_INFERENCE_TOKEN * reference["n_opt"] * tokens
    total = training + inference
    return {
        "n": n,
        "d": d,
        "ratio": d / n,
        "loss": reached,
        "training_flops": training,
        "inference_flops": inference,
        "total_flops": total,
        "chinchilla_n": reference["n_opt"],
        "chinchilla_d": reference["d_opt"],
        "chinchilla_total_flops": reference_total,
        "saving": 1.0 - total / reference_total,
        "saving_flops": reference_total - total,
    }


def inference_optimal(
    fit: Fit,
    inference_tokens: Sequence[float] | float,
    *,
    loss: Sequence[float] | float | None = None,
    budget: Sequence[float] | float | None = None,
    recipe: str | None = None,
    ci: float = DEFAULT_CI,
) -> pd.DataFrame:
    """Inference-aware allocation with intervals over the posterior draws.

    Parameters
    ----------
    fit : Fit
        A fit of the ``"chinchilla"`` law.
    inference_tokens : float or sequence of float
        Tokens to be served (``>= 0``); ``0`` gives the compute-optimal allocation.
    loss, budget : float or sequence of float
        Exactly one: target losses, or total budgets in FLOPs (training + inference).
    recipe : str, optional
        Which recipe (needed when the fit has several).
    ci : float
        Credible mass of the equal-tailed intervals.

    Returns
    -------
    pandas.DataFrame
        One row per (inference tokens, target) pair: ``inference_tokens``,
        ``loss_target`` or ``budget``, ``p_reachable`` (share of draws whose
        ``E`` lies below the target loss; 1 for budgets), then ``<q>_mean``,
        ``<q>_median``, ``<q>_lower``, ``<q>_upper`` for each ``q`` in
        :data:`QUANTITIES` (over the draws that reach the target).

    Raises
    ------
    ValueError
        If the fit is not of the Chinchilla law, the tokens are negative, a
        budget is not positive, or not exactly one of ``loss``/``budget`` is given.

    Examples
    --------
    >>> fit.inference_optimal(2e12, loss=2.0)  # doctest: +SKIP
    """
    check_ci(ci)
    if fit.law.name != "chinchilla":
        raise ValueError(
            f"inference-aware allocation needs the chinchilla law, not {fit.law.name!r}"
        )
    if (loss is None) == (budget is None):
        raise ValueError("give exactly one of loss= (target loss) and budget= (total FLOPs)")
    tokens = np.atleast_1d(np.asarray(inference_tokens, dtype=float))
    if not np.all(np.isfinite(tokens) & (tokens >= 0)):
        raise ValueError(f"inference tokens must be finite and >= 0, got {tokens.tolist()}")
    key, values = ("loss_target", loss) if loss is not None else ("budget", budget)
    targets = np.atleast_1d(np.asarray(values, dtype=float))
    if not np.all(np.isfinite(targets) & (targets > 0)):
        raise ValueError(f"{key} values must be finite and > 0, got {targets.tolist()}")
    params = {
        name: value.to_numpy().reshape(-1, 1, 1)
        for name, value in fit.parameter_draws(recipe=recipe).items()
    }
    grid = {"loss": None, "budget": None}
    grid["loss" if loss is not None else "budget"] = targets.reshape(1, 1, -1)
    plan = optimal_for_inference(params, tokens.reshape(1, -1, 1), **grid)
    reachable = np.isfinite(plan["n"])
    rows = []
    for i, token_count in enumerate(tokens):
        for j, target in enumerate(targets):
            mask = reachable[:, i, j]
            row: dict[str, Any] = {
                "inference_tokens": float(token_count),
                key: float(target),
                "p_reachable": float(mask.mean()),
            }
            for name in QUANTITIES:
                draws = plan[name][:, i, j][mask]
                row[f"{name}_mean"] = float(draws.mean()) if draws.size else np.nan
                row[f"{name}_median"] = float(np.median(draws)) if draws.size else np.nan
                row[f"{name}_lower"], row[f"{name}_upper"] = eti(draws, ci)
            rows.append(row)
    return pd.DataFrame(rows)


def inference_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of :func:`inference_optimal` as nested dicts for ``fit.json``.

    Each record holds the row's keys (``inference_tokens``, ``loss_target`` or
    ``budget``, ``p_reachable``, ``recipe`` when present) and each quantity as
    ``{"mean", "median", "lower", "upper"}``.

    Examples
    --------
    >>> row = {f"{q}_{s}": 1.0 for q in QUANTITIES for s in STATISTICS}
    >>> frame = pd.DataFrame([{"inference_tokens": 1e12, "budget": 1e23, "p_reachable": 1.0, **row}])
    >>> inference_records(frame)[0]["saving"]
    {'mean': 1.0, 'median': 1.0, 'lower': 1.0, 'upper': 1.0}
    """
    keys = [c for c in frame.columns if not c.endswith(tuple(f"_{s}" for s in STATISTICS))]
    records = []
    for _, row in frame.iterrows():
        record: dict[str, Any] = {
            key: row[key] if key == "recipe" else float(row[key]) for key in keys
        }
        for name in QUANTITIES:
            record[name] = {stat: float(row[f"{name}_{stat}"]) for stat in STATISTICS}
        records.append(record)
    return records


def inference_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A compact table of :func:`inference_records`: medians and intervals of
    ``n``, ``d``, ``ratio``, ``total_flops`` and ``saving``.

    Examples
    --------
    >>> stats = {"mean": 2.0, "median": 2.0, "lower": 1.0, "upper": 3.0}
    >>> record = {"inference_tokens": 1e12, "budget": 1e23, **{q: stats for q in QUANTITIES}}
    >>> list(inference_table([record]).columns[:5])
    ['inference_tokens', 'budget', 'n', 'n_lower', 'n_upper']
    """
    shown = ("n", "d", "ratio", "loss", "total_flops", "saving")
    return records_table(records, QUANTITIES, shown)
