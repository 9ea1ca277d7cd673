"""An old Python gets one line saying bayescale needs Python >= 3.12, not an ImportError."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bayescale._bootstrap import require_python

ROOT = Path(__file__).resolve().parents[1]


def test_the_check_names_the_version_and_how_to_get_a_new_python():
    with pytest.raises(SystemExit) as caught:
        require_python((3, 11, 7))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("bayescale needs Python >= 3.12, but this is Python 3.11.7")
    assert ".venv/bin/python" in message and "make demo" in message


@pytest.mark.skipif(shutil.which("python3.11") is None, reason="no python3.11 on this machine")
def test_importing_with_python_3_11_prints_one_line_and_exits_1():
    done = subprocess.run(
        [shutil.which("python3.11"), "-c", "import bayescale"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("bayescale needs Python >= 3.12")
    assert len(done.stderr.strip().splitlines()) == 1
