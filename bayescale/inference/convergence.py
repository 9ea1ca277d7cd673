"""When a fit counts as converged, what to say when it does not, and the second attempt.

One rule for every fit and sub-fit (:func:`is_converged`): largest R-hat at most
:data:`R_HAT_MAX`, no divergent transitions and smallest bulk ESS at least
:data:`ESS_MIN`. A fit that fails it is sampled once more with longer tuning and a
higher target acceptance (:func:`retry_settings`); both attempts are recorded.

Examples
--------
>>> is_converged(1.004, 1800.0, 0)
True
>>> is_converged(1.02, 1800.0, 0)
False
>>> retry_settings(SamplerSettings(tune=1000, draws=1000, target_accept=0.9))
SamplerSettings(draws=2000, tune=3000, chains=4, seed=None, cores=None, target_accept=0.99)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from bayescale.results.provenance import SamplerSettings

R_HAT_MAX = 1.01
"""Largest R-hat of a converged fit (Vehtari et al. 2021)."""

ESS_MIN = 400
"""Smallest bulk effective sample size of a converged fit."""

RETRY_TUNE_FACTOR = 3
"""The second attempt tunes this many times longer (at least :data:`RETRY_MIN_TUNE` steps)..."""

RETRY_MIN_TUNE = 3000

RETRY_DRAW_FACTOR = 2
"""...draws twice as many samples..."""

RETRY_TARGET_ACCEPT = 0.99
"""...with this target acceptance (smaller steps through curved posteriors)."""


def is_converged(max_r_hat: float, min_ess_bulk: float, divergences: int) -> bool:
    """Whether these diagnostics pass: R-hat <= 1.01, no divergences, bulk ESS >= 400."""
    return bool(
        math.isfinite(max_r_hat)
        and max_r_hat <= R_HAT_MAX
        and divergences == 0
        and math.isfinite(min_ess_bulk)
        and min_ess_bulk >= ESS_MIN
    )


def retry_settings(settings: SamplerSettings) -> SamplerSettings:
    """The second attempt's settings: longer tuning, more draws, higher target acceptance."""
    first = settings.target_accept or 0.0
    return dataclasses.replace(
        settings,
        tune=max(RETRY_TUNE_FACTOR * settings.tune, RETRY_MIN_TUNE),
        draws=RETRY_DRAW_FACTOR * settings.draws,
        target_accept=max(first, RETRY_TARGET_ACCEPT),
    )


def can_converge(settings: SamplerSettings) -> bool:
    """Whether the settings can reach :data:`ESS_MIN` at all (draws x chains >= ESS_MIN).

    Fits with fewer draws are plumbing checks (tests, quick looks): they are
    not sampled a second time.
    """
    return settings.draws * settings.chains >= ESS_MIN


def convergence_messages(
    max_r_hat: float,
    min_ess_bulk: float,
    divergences: int,
    settings: SamplerSettings | None = None,
    *,
    retried: bool = False,
    what: str = "",
) -> list[str]:
    """Plain-language problems, each with what to do next.

    Parameters
    ----------
    max_r_hat, min_ess_bulk, divergences
        The diagnostics.
    settings : SamplerSettings, optional
        The settings of the (last) attempt, named in the advice.
    retried : bool
        Whether these come from the automatic second attempt.
    what : str
        Prefix naming a sub-fit (e.g. ``"Approach 3 (Chinchilla law) fit: "``).
    """
    problems = []
    if not math.isfinite(max_r_hat) or max_r_hat > R_HAT_MAX:
        problems.append(f"R-hat {max_r_hat:.3f} > {R_HAT_MAX} (chains disagree)")
    if divergences:
        problems.append(f"{divergences} divergent transitions (the posterior geometry is hard)")
    if not math.isfinite(min_ess_bulk) or min_ess_bulk < ESS_MIN:
        problems.append(f"bulk ESS {min_ess_bulk:.0f} < {ESS_MIN} (too few effective draws)")
    if not problems:
        return []
    return [f"{what}{'; '.join(problems)}: {_advice(settings, retried)}"]


def _advice(settings: SamplerSettings | None, retried: bool) -> str:
    if settings is None:
        return "intervals may be off; rerun with more --tune/--draws and --target-accept 0.99"
    used = (
        f"--tune {settings.tune} --draws {settings.draws} "
        f"--target-accept {settings.target_accept or 0.9:g}"
    )
    if retried:
        return (
            f"also after an automatic second attempt ({used}), so the intervals are not to be "
            "trusted: narrow the window, fix priors on weakly determined parameters (--prior), "
            "or try a simpler law or likelihood"
        )
    if not can_converge(settings):
        return (
            f"{settings.draws} draws x {settings.chains} chains cannot reach ESS {ESS_MIN}; "
            "use the default --draws for results you report"
        )
    again = retry_settings(settings)
    return (
        f"the intervals are not to be trusted; rerun with --tune {again.tune} "
        f"--draws {again.draws} --target-accept {again.target_accept:g}"
    )


def attempt_record(
    settings: SamplerSettings, max_r_hat: float, min_ess_bulk: float, divergences: int
) -> dict[str, Any]:
    """One sampling attempt as recorded in ``Diagnostics.attempts``."""
    return {
        "tune": settings.tune,
        "draws": settings.draws,
        "target_accept": settings.target_accept,
        "max_r_hat": max_r_hat,
        "min_ess_bulk": min_ess_bulk,
        "divergences": divergences,
        "converged": is_converged(max_r_hat, min_ess_bulk, divergences),
    }
