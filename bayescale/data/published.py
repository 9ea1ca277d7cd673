"""Public scaling-law data sets: read from a path, or downloaded once and cached.

Examples
--------
>>> from bayescale.data.published import load_chinchilla
>>> df = load_chinchilla("../shared/anchors/chinchilla/svg_extracted_data.csv",
...                      drop_highest=5)  # doctest: +SKIP
>>> len(df), list(df.columns)  # doctest: +SKIP
(240, ['n', 'd', 'compute', 'loss'])
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import pandas as pd

from bayescale.data.curves import DataError, load_curves

CHINCHILLA_COMMIT = "92258837425e1b5f2851d624287f0120583a3d0e"
"""Commit of epoch-research/analyzing-chinchilla the loader downloads from."""

CHINCHILLA_URL = (
    "https://raw.githubusercontent.com/epoch-research/analyzing-chinchilla/"
    f"{CHINCHILLA_COMMIT}/data/svg_extracted_data.csv"
)
"""Where :func:`load_chinchilla` downloads the data when no path is given."""

CHINCHILLA_FILE = "chinchilla_svg_extracted_data.csv"

DOWNLOAD_TIMEOUT = 60.0


def default_cache_dir() -> Path:
    """``$BAYESCALE_CACHE``, else ``$XDG_CACHE_HOME/bayescale``, else ``~/.cache/bayescale``.

    Examples
    --------
    >>> import os
    >>> os.environ["BAYESCALE_CACHE"] = "/tmp/bayescale-cache"
    >>> str(default_cache_dir())
    '/tmp/bayescale-cache'
    >>> del os.environ["BAYESCALE_CACHE"]
    """
    if os.environ.get("BAYESCALE_CACHE"):
        return Path(os.environ["BAYESCALE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bayescale"


def cached_download(url: str, filename: str, cache_dir: str | Path | None = None) -> Path:
    """Download ``url`` into the cache once; later calls return the cached file.

    The file is written to a temporary name and renamed when complete, so an
    interrupted download never leaves a truncated file behind.

    Raises
    ------
    DataError
        If the download fails (the message names the URL and the cache folder).

    Examples
    --------
    >>> path = cached_download(CHINCHILLA_URL, CHINCHILLA_FILE)  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'chinchilla_svg_extracted_data.csv'
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / filename
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
    try:
        with (
            os.fdopen(handle, "wb") as out,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response,
        ):
            shutil.copyfileobj(response, out)
        os.replace(partial, target)
    except OSError as err:
        Path(partial).unlink(missing_ok=True)
        raise DataError(
            f"{url}: download failed ({err}); pass the path of a local copy instead "
            f"(cache folder: {folder})"
        ) from None
    return target


def load_chinchilla(
    path: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    drop_highest: int = 0,
) -> pd.DataFrame:
    """The Chinchilla training runs reconstructed by Epoch AI (Besiroglu et al. 2024).

    245 final losses digitised from Figure 4 of Hoffmann et al. (2022), with model
    size ``N`` and training compute ``C``; tokens are ``D = C / (6 N)``.

    Parameters
    ----------
    path : str or Path, optional
        A local copy of ``svg_extracted_data.csv``. Without it the file is
        downloaded from :data:`CHINCHILLA_URL` once and reused from the cache.
    cache_dir : str or Path, optional
        Cache folder (default :func:`default_cache_dir`).
    drop_highest : int
        Drop this many highest-loss rows; ``5`` reproduces the replication's
        exclusion of outlying small-compute runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (parameters), ``d`` (tokens), ``compute`` (FLOP) and
        ``loss``, sorted by ``n``.

    Raises
    ------
    DataError
        If the file cannot be read or downloaded, or its ``Model Size``,
        ``Training FLOP`` or ``loss`` column is missing or invalid (naming the
        first bad lines).

    Examples
    --------
    >>> import bayescale as bs
    >>> df = load_chinchilla(drop_highest=5)  # doctest: +SKIP
    >>> fit = bs.fit(df, "chinchilla", n="n", d="d", y="loss",
    ...              likelihood="student_t")  # doctest: +SKIP
    """
    if drop_highest < 0:
        raise ValueError(f"drop_highest must be >= 0, got {drop_highest}")
    source = (
        Path(path)
        if path is not None
        else cached_download(CHINCHILLA_URL, CHINCHILLA_FILE, cache_dir)
    )
    curves = load_curves(
        source,
        n="Model Size",
        compute="Training FLOP",
        y="loss",
        bounded=False,
        positive_y=True,
        min_points=1,
    )
    frame = curves.frame[["n", "d", "compute", "y"]].rename(columns={"y": "loss"})
    frame = frame.drop(index=frame["loss"].nlargest(drop_highest).index)
    return frame.reset_index(drop=True)
