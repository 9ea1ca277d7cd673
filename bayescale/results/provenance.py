"""How a fit was made: the sampler settings and the time it took.

:class:`SamplerSettings` holds the one set of sampler defaults (1000 draws and
1000 tuning steps on 4 chains); :func:`bayescale.fit`, the CLI and every loop of
fits take theirs from it.

Examples
--------
>>> SamplerSettings().draws, SamplerSettings().chains
(1000, 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings.

    Attributes
    ----------
    draws, tune, chains : int
        Posterior draws and tuning steps per chain, number of chains.
    seed : int or None
        Random seed; ``None`` draws one.
    cores : int or None
        Parallel chains; ``None`` uses every core.
    target_accept : float or None
        NUTS target acceptance rate; higher means smaller steps and fewer
        divergences on curved posteriors. ``None``: the observation model's
        (:attr:`bayescale.model.likelihoods.registry.Likelihood.target_accept`), filled in by
        :func:`bayescale.inference.fitting.fit_curves`.
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int | None = None
    cores: int | None = None
    target_accept: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "draws": self.draws,
            "tune": self.tune,
            "chains": self.chains,
            "seed": self.seed,
            "cores": self.cores,
            "target_accept": self.target_accept,
        }


@dataclass
class SamplingTimes:
    """Wall-clock seconds spent compiling (0 when the cache hit) and sampling."""

    compile: float
    sample: float
