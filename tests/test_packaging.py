"""The package as a user installs it: built, installed outside the repository, and
the README quick start run on the bundled example data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT

#: What a source distribution does not hold.
NOT_SOURCE = (".venv", ".git", "build", "*.egg-info", "out", "__pycache__", ".*_cache")


def readme_quick_start() -> str:
    """The first Python block of the README's quick start, as written there."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Quick start in Python") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_an_installed_wheel_runs_the_readme_quick_start(tmp_path):
    """pip installs the wheel (example data included) outside the repository, and
    the quick start runs there: fit, summary, predict, compute-to-reach, save, load."""
    source, wheels, site = tmp_path / "source", tmp_path / "wheels", tmp_path / "site"
    work = tmp_path / "work"
    work.mkdir()
    # a clean copy: no build/ or egg-info left by an earlier build can leak into the wheel
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("bayescale-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    script = (
        "import bayescale, importlib.metadata\n"
        "assert importlib.metadata.version('bayescale') == bayescale.__version__\n"
        f"assert bayescale.__file__.startswith({str(site)!r}), bayescale.__file__\n"
        + readme_quick_start()
        + "assert same.summary().loc['A', 'mean'] == fit.summary().loc['A', 'mean']\n"
        + "print('quick start ran')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "quick start ran" in done.stdout
    assert (work / "fit.nc").is_file()
