"""Warnings that point at the user's own line, not at bayescale's.

Examples
--------
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     warn("data end early", UserWarning)
>>> caught[0].filename.startswith(PACKAGE_DIR)
False
"""

from __future__ import annotations

import warnings
from pathlib import Path

PACKAGE_DIR = str(Path(__file__).resolve().parent)
"""Frames in files under this folder are skipped when a warning is attributed."""


class BayescaleWarning(UserWarning):
    """Base of bayescale's own warnings (convergence, identification, predictive
    check, batches, backtests): ``warnings.simplefilter("ignore", BayescaleWarning)``
    silences them all and nothing else."""


def warn(message: str, category: type[Warning]) -> None:
    """Issue ``message`` attributed to the first caller outside bayescale."""
    warnings.warn(message, category, skip_file_prefixes=(PACKAGE_DIR,))
