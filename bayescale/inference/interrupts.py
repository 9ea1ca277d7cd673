"""Interrupted sampling is never a result.

nutpie catches ``KeyboardInterrupt`` (Ctrl-C) itself and returns the draws made
so far, which would otherwise be summarised and saved as if the fit were
complete; interrupted during tuning, turning its empty trace into a DataTree
fails with an unrelated error. :func:`interruptible` and :func:`check_complete`
turn both into :class:`SamplingInterrupted`, a ``KeyboardInterrupt``, so the
command line exits with status 130 and nothing is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import xarray as xr

from bayescale.results.intervals import SAMPLE_DIMS
from bayescale.results.provenance import SamplerSettings


class SamplingInterrupted(KeyboardInterrupt):
    """Sampling stopped before every requested draw was made; no fit is returned."""


def _interrupted(error: BaseException) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__context__ or error.__cause__
    return False


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Re-raise an error that happened while handling a Ctrl-C as the interrupt."""
    try:
        yield
    except Exception as error:
        if _interrupted(error):
            raise SamplingInterrupted("sampling was interrupted") from None
        raise


def check_complete(tree: xr.DataTree, settings: SamplerSettings) -> None:
    """Refuse a trace with fewer chains or draws than requested.

    Raises
    ------
    SamplingInterrupted
        Naming how many draws were made.
    """
    posterior = tree["posterior"].to_dataset() if "posterior" in tree.children else None
    chains, draws = (
        (0, 0) if posterior is None else (posterior.sizes.get(d, 0) for d in SAMPLE_DIMS)
    )
    if draws == 0:  # nothing after the warm-up
        raise SamplingInterrupted("sampling was interrupted during tuning")
    # chains stopped at different draws are padded with NaN to the longest one;
    # the step size is finite at every real draw
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else {}
    padded = "step_size" in stats and bool(np.isnan(stats["step_size"].to_numpy()).any())
    if chains < settings.chains or draws < settings.draws or padded:
        raise SamplingInterrupted(
            f"sampling was interrupted after {draws} of {settings.draws} draws per chain "
            f"({chains} of {settings.chains} chains)"
        )
