"""Which parameters lean on the prior: posterior against prior, for every law parameter.

A parameter the data do not inform keeps (nearly) its prior's spread, or is pushed
against the edge of its prior; either way its interval says more about the prior
than about the data. :func:`check_prior_reliance` compares, for each recipe and
each reported law parameter, the posterior's spread with the prior's (on the log
scale for positive parameters) and the posterior median's position within the
prior. Prior draws of derived parameters (``X_c`` of the power law, Chinchilla's
``A`` and ``B``) are made by pushing prior draws of the sampled parameters through
the law's own ``derive``, so the check covers every reported parameter.

Examples
--------
>>> from bayescale.model.priors import Prior
>>> draws = prior_draws(Prior("Beta", alpha=2, beta=2), 4000, np.random.default_rng(0))
>>> round(float(draws.std()), 2)
0.22
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import xarray as xr

from bayescale.data.curves import CurveData
from bayescale.model.build import ModelSpec
from bayescale.model.laws import NUMPY_OPS, reference_log_inputs
from bayescale.model.priors import Prior

SD_RATIO_MAX = 0.5
"""Posterior sd above this share of the prior sd: the data barely narrowed the prior."""

EDGE_QUANTILE = 0.01
"""Posterior median beyond this prior quantile (or 1 minus it): it sits on a prior edge."""

PRIOR_DRAWS = 4000


def prior_draws(prior: Prior, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws from a :class:`~bayescale.model.priors.Prior` with NumPy (no model compiled).

    Parameters
    ----------
    prior : Prior
    size : int
        Number of draws.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
    """
    p = prior.params
    draw = {
        "Normal": lambda: rng.normal(p.get("mu", 0.0), p.get("sigma", 1.0), size),
        "HalfNormal": lambda: np.abs(rng.normal(0.0, p.get("sigma", 1.0), size)),
        "LogNormal": lambda: np.exp(rng.normal(p.get("mu", 0.0), p.get("sigma", 1.0), size)),
        "Beta": lambda: rng.beta(p.get("alpha", 1.0), p.get("beta", 1.0), size),
        "Uniform": lambda: rng.uniform(p.get("lower", 0.0), p.get("upper", 1.0), size),
        "Gamma": lambda: rng.gamma(p.get("alpha", 1.0), 1.0 / p.get("beta", 1.0), size),
        "Exponential": lambda: rng.exponential(1.0 / p.get("lam", 1.0), size),
        "HalfStudentT": lambda: np.abs(p.get("sigma", 1.0) * rng.standard_t(p["nu"], size)),
        "StudentT": lambda: p.get("mu", 0.0) + p.get("sigma", 1.0) * rng.standard_t(p["nu"], size),
        "TruncatedNormal": lambda: _truncated_normal(p, size, rng),
    }
    return np.asarray(draw[prior.dist](), dtype=float)


def _truncated_normal(p: dict[str, float], size: int, rng: np.random.Generator) -> np.ndarray:
    import scipy.stats

    a = (p["lower"] - p["mu"]) / p["sigma"]
    b = (p["upper"] - p["mu"]) / p["sigma"]
    return scipy.stats.truncnorm.rvs(
        a, b, loc=p["mu"], scale=p["sigma"], size=size, random_state=rng
    )


@dataclass(frozen=True)
class PriorReliance:
    """How far one parameter's posterior moved from its prior.

    Attributes
    ----------
    recipe, parameter : str
    scale : {"identity", "log"}
        Scale of the comparison (``"log"`` for positive parameters).
    prior_sd, posterior_sd : float
        Spreads on that scale.
    sd_ratio : float
        ``posterior_sd / prior_sd``: near 1 the data added little.
    prior_quantile : float
        Share of prior draws below the posterior median: near 0 or 1 the posterior
        sits on an edge of the prior.
    leans_on_prior : bool
        ``sd_ratio > SD_RATIO_MAX`` or the posterior sits on a prior edge.
    """

    recipe: str
    parameter: str
    scale: str
    prior_sd: float
    posterior_sd: float
    sd_ratio: float
    prior_quantile: float
    leans_on_prior: bool

    @property
    def reason(self) -> str:
        """Plain words: why the parameter leans on its prior."""
        if self.sd_ratio > SD_RATIO_MAX:
            return f"posterior sd is {self.sd_ratio:.0%} of the prior's"
        side = "lower" if self.prior_quantile < 0.5 else "upper"
        return f"the posterior sits on the {side} edge of its prior"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


def law_prior_draws(
    spec: ModelSpec, data: CurveData, size: int = PRIOR_DRAWS, seed: int = 0, recipe: int = 0
) -> dict[str, np.ndarray]:
    """Prior draws of every reported law parameter (derived ones through ``derive``).

    Parameters
    ----------
    spec : ModelSpec
    data : CurveData
    size, seed : int
        Number of draws and their seed.
    recipe : int
        Position of the recipe (priors may hold per-recipe centres).

    Returns
    -------
    dict of str to numpy.ndarray
    """
    law = spec.law_obj
    rng = np.random.default_rng(seed)
    sampled = {
        name: prior_draws(spec.priors[name].for_recipe(recipe), size, rng)
        for name in law.free_parameters
    }
    log_ref = reference_log_inputs(law, data.frame)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        reported = law.reported(NUMPY_OPS, sampled, log_ref)
    return {name: np.asarray(reported[name], dtype=float) for name in law.parameters}


def check_prior_reliance(
    tree: xr.DataTree, spec: ModelSpec, data: CurveData
) -> tuple[list[PriorReliance], list[str]]:
    """Compare each recipe's law parameters with their priors.

    Parameters
    ----------
    tree : xarray.DataTree
        The fit's posterior (group ``posterior``, recipe-level parameters with dim
        ``recipe`` unless shared).
    spec : ModelSpec
    data : CurveData

    Returns
    -------
    rows : list of PriorReliance
        One per recipe and parameter.
    messages : list of str
        One line per recipe naming the parameters that lean on the prior, with
        what to do; nuisance parameters (``Law.nuisance``, e.g. the sigmoid's
        ``R0``) are left to :func:`nuisance_notes`.
    """
    law = spec.law_obj
    post = tree["posterior"].to_dataset()
    rows = []
    for index, recipe in enumerate(data.recipes):
        priors = law_prior_draws(spec, data, recipe=index)
        for name in law.parameters:
            value = post[name]
            if "recipe" in value.dims:
                value = value.sel(recipe=recipe)
            rows.append(_compare(recipe, name, priors[name], value.to_numpy().ravel(), law))
    messages = []
    for recipe in data.recipes:
        weak = [
            r
            for r in rows
            if r.recipe == recipe and r.leans_on_prior and r.parameter not in law.nuisance
        ]
        if not weak:
            continue
        where = "" if len(data.recipes) == 1 else f"recipe {recipe}: "
        listed = "; ".join(f"{r.parameter} ({r.reason})" for r in weak)
        names = ", ".join(r.parameter for r in weak)
        messages.append(
            f"{where}{listed}: the data barely inform these parameters; their intervals, "
            "and predictions and targets that depend on them, lean on the prior: add data "
            f"further along the curve, or state what you know as a prior "
            f"(--prior '{weak[0].parameter}=...'; priors={{...}}) and report {names} as assumed"
        )
    return rows, messages


def nuisance_notes(rows: list[PriorReliance], spec: ModelSpec, data: CurveData) -> list[str]:
    """Notes on nuisance parameters (``Law.nuisance``) that lean on their prior.

    Such a parameter (the sigmoid's start value ``R0``) is weakly determined by
    data that begin after it matters; the quantities users ask about (the
    asymptote, predictions at larger compute) barely depend on it, so it is
    said in the summary, not raised as a warning.
    """
    law = spec.law_obj
    notes = []
    for recipe in data.recipes:
        weak = [
            r
            for r in rows
            if r.recipe == recipe and r.leans_on_prior and r.parameter in law.nuisance
        ]
        for row in weak:
            where = "" if len(data.recipes) == 1 else f" (recipe {recipe})"
            notes.append(
                f"{row.parameter}{where} is weakly determined ({row.reason}): it sets the curve "
                "before the data, not the quantities asked about"
            )
    return notes


def _compare(
    recipe: str, name: str, prior: np.ndarray, posterior: np.ndarray, law
) -> PriorReliance:
    log_scale = name in law.positive
    with np.errstate(divide="ignore", invalid="ignore"):
        if log_scale:
            prior, posterior = np.log(prior), np.log(posterior)
    prior = prior[np.isfinite(prior)]
    posterior = posterior[np.isfinite(posterior)]
    prior_sd = float(np.std(prior)) if prior.size else np.nan
    posterior_sd = float(np.std(posterior)) if posterior.size else np.nan
    ratio = posterior_sd / prior_sd if prior_sd > 0 else np.nan
    quantile = (
        float((prior < np.median(posterior)).mean()) if prior.size and posterior.size else 0.5
    )
    on_edge = quantile < EDGE_QUANTILE or quantile > 1 - EDGE_QUANTILE
    return PriorReliance(
        recipe=recipe,
        parameter=name,
        scale="log" if log_scale else "identity",
        prior_sd=prior_sd,
        posterior_sd=posterior_sd,
        sd_ratio=float(ratio),
        prior_quantile=quantile,
        leans_on_prior=bool(ratio > SD_RATIO_MAX or on_edge),
    )


def single_run_notes(spec: ModelSpec, data: CurveData) -> list[str]:
    """Notes on recipes fitted from one run: their seed-to-seed spread is not seen.

    Only for fits of several recipes, where the spread decides whether recipes differ.

    Returns
    -------
    list of str
    """
    counts = data.frame.groupby("recipe", sort=False)["run"].nunique()
    single = [str(recipe) for recipe, count in counts.items() if count == 1]
    if not single or len(counts) < 2:
        return []
    if not spec.varying:
        return [
            "every recipe has one run: seed-to-seed spread is not modelled, so intervals "
            "and decisions hold for these runs, not for new seeds (ScaleRL's seeds "
            "spread about +/-0.015 in A)"
        ]
    spreads = ", ".join(f"sigma of {name}" for name in spec.varying)
    listed = ", ".join(single[:5]) + (f" and {len(single) - 5} more" if len(single) > 5 else "")
    source = "the prior" if len(single) == len(counts) else "the other recipes' seeds and the prior"
    return [
        f"single-run recipe(s) {listed}: the seed-to-seed spread ({spreads}) comes from {source}"
    ]
