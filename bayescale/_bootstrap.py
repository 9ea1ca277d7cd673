"""The check made before anything heavy is imported: bayescale needs Python >= 3.12.

Written so an older Python can run it (no syntax newer than 3.6): imported first by
``bayescale/__init__.py``, it exits with one line instead of an ``ImportError``
deep inside PyMC or pandas.
"""

import sys

#: PyMC 6 needs Python 3.12 or newer.
MINIMUM_PYTHON = (3, 12)


def require_python(version=None):
    """Exit with one line when ``version`` (default: this interpreter's) is too old.

    Examples
    --------
    >>> require_python((3, 12, 0))
    >>> require_python((3, 11, 7))
    Traceback (most recent call last):
    ...
    SystemExit: bayescale needs Python >= 3.12, ...
    """
    version = tuple(sys.version_info[:3] if version is None else version)
    if version >= MINIMUM_PYTHON:
        return
    found = ".".join(str(part) for part in version)
    raise SystemExit(
        f"bayescale needs Python >= 3.12, but this is Python {found} ({sys.executable}): "
        "run .venv/bin/python or .venv/bin/bayescale, which `make demo` creates with a "
        "Python >= 3.12 it finds (python3.12, python3.13, pyenv; or set PYTHON=/path/to/python3.12)"
    )
