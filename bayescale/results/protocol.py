"""One protocol for every result, and :func:`load`, which reads any saved one.

A result (a :class:`~bayescale.results.fit_result.Fit`, a
:class:`~bayescale.analysis.recipes.Comparison`, a
:class:`~bayescale.analysis.sizes.SizesFit`) reports itself the same way:
a table, the JSON the command line writes, a file, a figure and a notebook
view. The file says what it holds in its root attribute ``bayescale_format``;
:func:`load` reads that first and hands the file to the reader of that format.

Examples
--------
>>> import bayescale as bs
>>> path = bs.compare_recipes(fit, baseline="baseline").save("cmp.nc")  # doctest: +SKIP
>>> isinstance(bs.load(path), bs.Comparison)  # doctest: +SKIP
True
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

#: ``bayescale_format`` -> (module, function) that reads a file of that format,
#: imported on first use.
READERS: dict[str, tuple[str, str]] = {
    "bayescale-fit/1": ("bayescale.results.persistence", "load_fit"),
    "bayescale-comparison/1": ("bayescale.analysis.comparison_file", "load_comparison"),
    "bayescale-sizes/1": ("bayescale.analysis.sizes", "load_sizes_fit"),
}


@runtime_checkable
class Result(Protocol):
    """What every bayescale result offers.

    ``summary(ci=...)``
        The result's table (a ``pandas.DataFrame``), its intervals of
        credible mass ``ci`` (recomputed from the posterior at another ``ci``).
    ``to_dict()``
        The JSON-ready dict the command line writes (``fit.json``,
        ``compare.json``): numbers, text, lists and dicts only.
    ``save(path, *, overwrite=False)``
        Write the result to one netCDF file, atomically (an existing file is
        replaced only with ``overwrite=True``); returns the path written.
        ``bayescale.load(path)`` returns the same class with its data and
        settings, so its summary, ``to_dict`` and plots equal the original's.
        A derived result stores its posterior and the settings it was made
        with, never its tables, and is recomputed from them on loading.
    ``plot(...)``
        A matplotlib figure of the result (an ``Axes`` or a ``Figure``).
    ``_repr_html_()``
        The notebook view.

    Notes
    -----
    Loading checks what it loads, before computing anything: the file's
    structure, its format marker, the checksums of its data and posterior,
    values inside each parameter's support and the type and range of every
    setting. Each refusal is one
    :class:`~bayescale.results.persistence.FitFileError` line naming the file.
    The check is structural: ``isinstance(obj, Result)`` holds for any object
    with these methods.
    """

    def summary(self, ci: float = ...) -> pd.DataFrame:
        """The result's table."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form the command line writes."""
        ...

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the result to ``path``; ``bayescale.load`` reads it back."""
        ...

    def plot(self, **options: Any) -> Any:
        """A matplotlib figure of the result."""
        ...

    def _repr_html_(self) -> str:
        """The notebook view."""
        ...


def load(path: str | Path, *, check_source: bool = False, max_bytes: int | None = None) -> Result:
    """Read a result saved with its ``save`` method, checking everything it reads.

    Parameters
    ----------
    path : str or Path
    check_source : bool
        Also refuse the file when the data file it was fitted from still
        exists but holds other bytes now (see
        :func:`~bayescale.results.persistence.load_fit`).
    max_bytes : int, optional
        Largest file, and largest total of decompressed arrays, to read
        (default :data:`~bayescale.results.persistence.MAX_FILE_BYTES`).

    Returns
    -------
    Result
        A :class:`~bayescale.results.fit_result.Fit` for a ``bayescale-fit/1``
        file, a :class:`~bayescale.analysis.recipes.Comparison` for a
        ``bayescale-comparison/1`` file, a
        :class:`~bayescale.analysis.sizes.SizesFit` for a ``bayescale-sizes/1``
        file.

    Raises
    ------
    bayescale.results.persistence.FitFileError
        In one line naming the file: for a file of no known format (naming the
        formats this version reads), and for everything the format's reader
        refuses.
    """
    from bayescale.results.persistence import MAX_FILE_BYTES, file_format

    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    module, name = READERS[file_format(Path(path), tuple(READERS), max_bytes=limit)]
    reader = getattr(importlib.import_module(module), name)
    return reader(path, check_source=check_source, max_bytes=limit)
