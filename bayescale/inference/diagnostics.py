"""Convergence checks and plain-language warnings for a fit."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from bayescale.data.curves import CurveData
from bayescale.inference.convergence import ESS_MIN, R_HAT_MAX, convergence_messages
from bayescale.model.build import ModelSpec
from bayescale.model.priors import hierarchy_prior_name
from bayescale.results.provenance import SamplerSettings
from bayescale.user_warnings import BayescaleWarning, warn

__all__ = [
    "ESS_MIN",
    "R_HAT_MAX",
    "ConvergenceWarning",
    "IdentificationWarning",
    "LawMisfitWarning",
    "PredictiveCheckWarning",
    "check_convergence",
    "check_identification",
    "convergence_diagnostics",
    "emit",
]


class ConvergenceWarning(BayescaleWarning):
    """The sampler did not converge cleanly; intervals may be wrong."""


class IdentificationWarning(BayescaleWarning):
    """The data barely inform a parameter; the prior speaks for it."""


class PredictiveCheckWarning(BayescaleWarning):
    """The data do not look like draws from the fitted model (outliers, noise too narrow)."""


class LawMisfitWarning(BayescaleWarning):
    """The law cannot follow the data's shape: the law, not the noise, is the suspect
    (:mod:`bayescale.inference.law_misfit`)."""


class ExtrapolationWarning(BayescaleWarning):
    """Extrapolating is riskier than the fit alone says: the law drifts away from
    the data in internal backtests, or a question lies far outside the fitted range."""


def reported_variables(spec: ModelSpec) -> list[str]:
    """Names of the posterior variables a summary reports."""
    law = spec.law_obj
    return [
        *law.parameters,
        *(f"{name}_run" for name in spec.varying),
        *(hierarchy_prior_name(law, name) for name in spec.varying),
        *spec.likelihood_obj.parameters,
    ]


def check_convergence(
    tree: xr.DataTree,
    spec: ModelSpec,
    settings: SamplerSettings | None = None,
    *,
    retried: bool = False,
) -> tuple[float, float, int, list[str]]:
    """R-hat, bulk ESS and divergences of the reported variables of a law fit
    (:func:`convergence_diagnostics` of :func:`reported_variables`)."""
    return convergence_diagnostics(tree, reported_variables(spec), settings, retried=retried)


def convergence_diagnostics(
    tree: xr.DataTree,
    names: Sequence[str],
    settings: SamplerSettings | None = None,
    *,
    retried: bool = False,
) -> tuple[float, float, int, list[str]]:
    """R-hat, bulk ESS and divergences of the posterior variables ``names``.

    ``settings`` (the attempt's) and ``retried`` make the messages name what to
    do next (:func:`bayescale.inference.convergence.convergence_messages`).

    Returns
    -------
    max_r_hat, min_ess_bulk, divergences, messages
    """
    import arviz_stats as azs

    post = tree["posterior"].to_dataset()[list(names)]
    r_hats, esses = azs.rhat(post), azs.ess(post, method="bulk")
    r_hat = float(max(r_hats[v].max() for v in post.data_vars))
    ess = float(min(esses[v].min() for v in post.data_vars))
    divergences = int(tree["sample_stats"]["diverging"].sum())
    messages = convergence_messages(r_hat, ess, divergences, settings, retried=retried)
    return r_hat, ess, divergences, messages


def check_identification(tree: xr.DataTree, spec: ModelSpec, data: CurveData) -> list[str]:
    """Flag fits whose data have not passed the law's midpoint (the sigmoid's ``C_mid``).

    While the largest compute is below the midpoint the asymptote, the efficiency and
    the midpoint are weakly identified and their intervals largely reflect the prior.
    Laws without a midpoint parameter (``Law.midpoint``) are not checked.
    """
    law = spec.law_obj
    if law.midpoint is None:
        return []
    post = tree["posterior"].to_dataset()
    c_mid = post[law.midpoint].median(("chain", "draw"))
    max_x = data.frame.groupby("recipe", sort=False)["x"].max()
    *first, last = law.parameters[:3]
    shape = f"{', '.join(first)} and {last}"
    messages = []
    for recipe, largest in max_x.items():
        value = float(c_mid.sel(recipe=recipe)) if "recipe" in c_mid.dims else float(c_mid)
        if largest < value:
            where = "" if len(max_x) == 1 else f" (recipe {recipe})"
            messages.append(
                f"data end at {largest:g} before the posterior midpoint {law.midpoint} ~ "
                f"{value:g}{where}: {shape} are weakly identified and lean on the prior"
            )
    return messages


def emit(messages: list[str], category: type[Warning]) -> None:
    """Raise each message as a Python warning, attributed to the user's call."""
    for message in messages:
        warn(message, category)
