"""Checks of sampler settings, made before anything is compiled or sampled.

Examples
--------
>>> check_seed(-1)
Traceback (most recent call last):
...
ValueError: seed must be a whole number from 0 to 18446744073709551615, got -1
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import secrets

from bayescale.results.provenance import SamplerSettings

#: nutpie takes an unsigned 64-bit seed.
MAX_SEED = 2**64 - 1


def check_seed(seed: object) -> None:
    """Refuse a seed nutpie cannot take (it would fail only after compiling).

    Raises
    ------
    ValueError
    """
    if seed is None:
        return
    if (
        isinstance(seed, bool)
        or not isinstance(seed, numbers.Integral)
        or not 0 <= seed <= MAX_SEED
    ):
        raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")


def checked_settings(settings: SamplerSettings) -> SamplerSettings:
    """``settings`` checked, with a fresh seed drawn (and so recorded) when none is given.

    Raises
    ------
    ValueError
        On non-positive draws, tuning steps, chains or cores, a target acceptance
        outside (0, 1), or a seed nutpie cannot take.
    """
    for name in ("draws", "tune", "chains", "cores"):
        value = getattr(settings, name)
        if value is None and name == "cores":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    accept = settings.target_accept
    if accept is not None and not (math.isfinite(accept) and 0 < accept < 1):
        raise ValueError(f"target_accept must lie strictly between 0 and 1, got {accept}")
    check_seed(settings.seed)
    if settings.seed is None:
        settings = dataclasses.replace(settings, seed=secrets.randbits(32))
    return settings
