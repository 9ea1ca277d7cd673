"""Issue 28, item 10: names from the user's files are shown as written, never
interpreted: control characters escaped on the terminal, Markdown links escaped
in report.md, a NUL refused before sampling; and a successful run prints no
library warnings (numpy overflow, matplotlib missing glyphs, h5netcdf)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pandas as pd
import pytest
from conftest import DATA, QUICK_CLI, ROOT, WROTE

from bayescale.cli import main

NAMES = {
    "seed0": "a\x07b\x1b[31mred",
    "seed1": "[click](http://evil.example)",
    "seed2": "rocket 🚀",
}
COLUMNS = ["--x", "gpu_hours", "--y", "pass_rate", "--run", "seed", "--min-x", "1500"]


@pytest.fixture(scope="module")
def named_fit(tmp_path_factory):
    """(csv, fit folder, captured stdout) of a quick CLI fit of runs with hostile names."""
    folder = tmp_path_factory.mktemp("names")
    csv = folder / "names.csv"
    pd.read_csv(DATA / "scalerl_3seeds.csv").replace({"seed": NAMES}).to_csv(csv, index=False)
    return csv, folder


def test_control_characters_in_names_are_escaped_when_printed(named_fit, tmp_path, capsys):
    csv, _ = named_fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args = ["fit", str(csv), *COLUMNS, "--max-x", "50000", *QUICK_CLI]
        assert main([*args, "--out", str(tmp_path / "fit")]) in WROTE
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\x07" not in printed
    assert r"A[a\x07b\x1b[31mred]" in printed and "rocket 🚀" in printed


def test_a_nul_in_a_name_is_refused_before_sampling(named_fit, tmp_path, capsys):
    csv, _ = named_fit
    frame = pd.read_csv(csv)
    frame.loc[0, "seed"] = "x\x00y"
    bad = tmp_path / "nul.csv"
    frame.to_csv(bad, index=False)
    assert main(["fit", str(bad), *COLUMNS, *QUICK_CLI, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "column 'seed' has labels with a NUL character (not storable); line 2" in err
    assert "\x00" not in err and not (tmp_path / "o").exists()


def test_report_escapes_links_and_prints_no_library_warnings(named_fit, tmp_path):
    csv, _ = named_fit
    saved = tmp_path / "fit"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args = ["fit", str(csv), *COLUMNS, "--max-x", "50000", *QUICK_CLI]
        assert main([*args, "--out", str(saved)]) in WROTE
    out = tmp_path / "report"
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayescale.cli",
            "report",
            "--from",
            str(saved / "posterior.nc"),
            "--out",
            str(out),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode in WROTE, child.stderr
    assert child.stderr == ""  # used to hold six matplotlib "Glyph ... missing" warnings
    markdown = (out / "report.md").read_text()
    assert r"\[click\](http://evil.example)" in markdown
    assert "[click](http" not in markdown.replace(r"\[click\]", "")
