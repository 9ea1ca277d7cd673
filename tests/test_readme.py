"""The README as a new user meets it: short, and every example runs as written.

Its Python blocks run in order in one process (one namespace), then its
``bayescale ...`` lines in order (``report --from`` reads what ``fit`` wrote), each
in a fresh folder, with few draws (tests/doc_examples.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from doc_examples import (
    ROOT,
    command_lines,
    python_blocks,
    quick_sampling,
    run_command,
    run_python,
)

from bayescale.cli.common import NOT_CONVERGED

README = ROOT / "README.md"


def test_readme_has_at_most_300_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 300


def test_readme_python_blocks_run_in_order_in_one_process(tmp_path, monkeypatch):
    blocks = python_blocks(README)
    assert len(blocks) >= 4  # quick start, recipes, pretraining, isoFLOP
    monkeypatch.chdir(tmp_path)
    quick_sampling(monkeypatch)
    namespace = run_python(blocks, README)
    assert "better" in set(namespace["cmp"].pairs["a"])
    assert (tmp_path / "fit.nc").exists()


def test_readme_commands_exit_0_in_order(tmp_path, monkeypatch, capsys):
    """Every ``bayescale`` line runs and writes its results: exit 0, or 3 (written, but
    a fit did not pass the convergence rule) because the examples run with
    ``doc_examples.QUICK`` draws, too few for a bulk ESS of 400; at the README's default
    settings its fit converges (docs/warnings.md, seeds 1-4). Bad input (2) or an
    interrupt never passes."""
    lines = command_lines(README)
    assert any(line.startswith("bayescale report --from") for line in lines)
    monkeypatch.chdir(tmp_path)
    quick_sampling(monkeypatch)
    for line in lines:
        status = run_command(line)
        captured = capsys.readouterr()
        assert status in (0, NOT_CONVERGED), f"{line}\nexit {status}: {captured.err}"
        if status == NOT_CONVERGED:
            assert "converged: NO" in captured.out, line


def test_the_installed_command_runs_where_the_readme_says():
    """``.venv/bin/bayescale``: the script pip installs next to this interpreter."""
    script = Path(sys.executable).with_name("bayescale")
    if not script.exists():
        pytest.skip(f"no bayescale script next to {sys.executable}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(script), "examples"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "scalerl_3seeds" in done.stdout and "isoflop" in done.stdout
    assert shutil.which("bash") is not None
