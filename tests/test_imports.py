"""First contact is cheap: ``import bayescale`` and every command's ``--help`` load
none of the heavy packages (issue 23), and the lazy package root still offers the
whole public API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bayescale as bs
from bayescale.cli import COMMANDS

#: Packages a first contact must not pay for (each costs 0.4-3 s to import).
HEAVY = ("pymc", "pytensor", "nutpie", "numba", "arviz", "scipy", "matplotlib")


def top_level_modules_after(code: str) -> set[str]:
    """Top-level names in ``sys.modules`` after running ``code`` in a new interpreter
    (the bayescale under test first on the path; ``SystemExit`` from ``--help``
    caught)."""
    package_root = str(Path(bs.__file__).resolve().parents[1])
    script = (
        "import json, sys\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "except SystemExit:\n"
        "    pass\n"
        "print('\\nMODULES=' + json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    marker = done.stdout.rindex("MODULES=")
    return set(json.loads(done.stdout[marker + len("MODULES=") :]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.split("_")[0] in HEAVY)


def test_import_bayescale_loads_no_heavy_package():
    modules = top_level_modules_after("import bayescale")
    assert heavy(modules) == []
    assert "numpy" not in modules  # the root imports nothing until a name is used


def test_help_of_the_cli_and_of_every_command_loads_no_heavy_package():
    """One interpreter runs ``bayescale --help`` and ``bayescale CMD --help`` for every
    command: together they still load none of the heavy packages."""
    calls = [[], *([module.NAME] for module in COMMANDS)]
    code = "from bayescale.cli import main\n" + "".join(
        f"try:\n    main({[*call, '--help']!r})\nexcept SystemExit:\n    pass\n" for call in calls
    )
    assert heavy(top_level_modules_after(code)) == []


def test_every_public_name_resolves_and_is_listed():
    assert set(bs.__all__) <= set(dir(bs))
    for name in bs.__all__:
        assert getattr(bs, name) is not None, name
    assert bs.load.__name__ == "load"  # reads every result format (bayescale.results.protocol)
    assert bs.model.laws.get_law is bs.get_law  # sub-packages without an import
    with pytest.raises(AttributeError, match="has no attribute 'compare'"):
        bs.compare  # noqa: B018 (the 0.1 name is gone: nothing was released)
