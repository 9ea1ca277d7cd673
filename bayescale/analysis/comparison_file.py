"""Save and load a :class:`~bayescale.analysis.recipes.Comparison`: its fit, plus
the settings that remake it.

A comparison file is a fit file (:mod:`bayescale.results.persistence`: the same
groups, attributes and checks) marked ``bayescale_format =
"bayescale-comparison/1"``, with one more root attribute, ``comparison``: the
JSON object of :meth:`~bayescale.analysis.recipes.Comparison.settings`
(``parameter``, ``rope``, ``ci``, ``target``, ``baseline``,
``least_squares_window``, ``min_x``, ``r0``). Its tables are not stored: the
loader checks the fit as :func:`~bayescale.results.persistence.load_fit` does,
then the settings against it (types and ranges, a parameter of the law that is
not shared, a baseline among the fit's recipes), and only then remakes the
comparison with :func:`~bayescale.analysis.recipes.compare_fit`, so nothing in
the file can disagree with the posterior.

Examples
--------
>>> path = cmp.save("cmp.nc")  # doctest: +SKIP
>>> bs.load(path).pairs.equals(cmp.pairs)  # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bayescale.analysis.recipes import DECISION_SETTINGS, Comparison, check_options, compare_fit
from bayescale.results.fit_result import Fit
from bayescale.results.persistence import (
    MAX_FILE_BYTES,
    FitFileError,
    _bounds,
    _is_number,
    _reason,
    _str,
    read_fit,
    save_fit,
)

FORMAT = "bayescale-comparison/1"
#: The root attribute holding the comparison's settings.
ATTRIBUTE = "comparison"
#: Its keys: the options of compare_fit besides the fit.
SETTINGS = (*DECISION_SETTINGS, "least_squares_window", "min_x", "r0")


def save_comparison(comparison: Comparison, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``comparison`` to a netCDF file, atomically: its fit and its settings.

    Parameters
    ----------
    comparison : Comparison
    path, overwrite
        As in :func:`~bayescale.results.persistence.save_fit`, which writes the
        file and returns its path (and raises ``OutputError`` where it does).

    Returns
    -------
    pathlib.Path
    """
    settings = json.dumps(comparison.settings())
    return save_fit(
        comparison.fit, path, overwrite=overwrite, format=FORMAT, attributes={ATTRIBUTE: settings}
    )


def load_comparison(
    path: str | Path, *, check_source: bool = False, max_bytes: int = MAX_FILE_BYTES
) -> Comparison:
    """Read a comparison written by :func:`save_comparison`, checking everything.

    Parameters
    ----------
    path : str or Path
    check_source, max_bytes
        As in :func:`~bayescale.results.persistence.load_fit`.

    Returns
    -------
    Comparison
        Remade from the loaded fit with the saved settings.

    Raises
    ------
    FitFileError
        Whatever :func:`~bayescale.results.persistence.load_fit` refuses, and
        a missing or damaged ``comparison`` attribute, in one line naming the
        file and the attribute.
    """
    fit, attrs = read_fit(
        path,
        format=FORMAT,
        attributes=(ATTRIBUTE,),
        check_source=check_source,
        max_bytes=max_bytes,
    )
    try:
        settings = checked_settings(attrs[ATTRIBUTE], fit)
    except (KeyError, TypeError, ValueError, RecursionError) as err:
        raise FitFileError(f"{path}: damaged attribute {ATTRIBUTE!r} ({_reason(err)})") from None
    return compare_fit(fit, **settings)


def checked_settings(text: str, fit: Fit) -> dict[str, Any]:
    """The saved settings, each of its type and range and valid for ``fit``.

    Raises
    ------
    KeyError, TypeError, ValueError
        On the first problem, naming the setting.

    Examples
    --------
    >>> checked_settings('{"parameter": "A"}', fit)  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    KeyError: 'comparison.rope'
    """
    values = json.loads(text)
    if not isinstance(values, dict):
        raise TypeError("not a JSON object")
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise ValueError(f"{unknown[0]} is not a comparison setting")
    missing = [name for name in SETTINGS if name not in values]
    if missing:
        raise KeyError(f"{ATTRIBUTE}.{missing[0]}")
    _str(values["parameter"], "parameter")
    for name in ("rope", "ci", "target", "min_x", "r0"):
        value = values[name]
        optional = name not in ("rope", "ci")
        if not (optional and value is None) and not (_is_number(value) and math.isfinite(value)):
            raise TypeError(f"{name} is {value!r}, not a finite number")
    if values["baseline"] is not None:
        _str(values["baseline"], "baseline")
    window = values["least_squares_window"]
    if window is not None:
        values["least_squares_window"] = _bounds(window, "least_squares_window")
    check_options(
        fit.recipes,
        fit.law.name,
        values["parameter"],
        values["rope"],
        values["baseline"],
        values["target"],
        values["ci"],
        fit.spec.shared,
    )
    return values
