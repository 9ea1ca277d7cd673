"""The CLI contract for every command: a refusal is exit 2, one line on stderr, no
traceback, found before any sampling, and nothing written; an interrupted fit
exits 130 and writes nothing; a second run into a busy --out is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import DATA, ROOT

from bayescale.cli import COMMANDS, main
from bayescale.inference import fitting
from bayescale.results import output

SCALERL = str(DATA / "scalerl_3seeds.csv")
RECIPES = str(DATA / "recipes.csv")
COLUMNS = ["--x", "gpu_hours", "--y", "pass_rate", "--run", "seed", "--min-x", "1500"]
SAMPLER = ["--draws", "20", "--tune", "20", "--chains", "1"]
#: Arguments of each command that pass every check (without --out).
BASE = {
    "fit": ["fit", SCALERL, *COLUMNS, "--max-x", "50000"],
    "compare": ["compare", RECIPES, *COLUMNS, "--recipe", "recipe"],
    "backtest": ["backtest", SCALERL, *COLUMNS, "--cut", "50000"],
    "windows": ["windows", SCALERL, *COLUMNS[:6], "--window", "1500:50000"],
    "compare-laws": ["compare-laws", SCALERL, *COLUMNS],
    "report": ["report", SCALERL, *COLUMNS, "--max-x", "50000"],
    "plan": [
        "plan",
        RECIPES,
        *COLUMNS,
        "--recipe",
        "recipe",
        "--baseline",
        "baseline",
        "--sims",
        "5",
    ],
}
#: Faults every command must refuse: extra arguments -> part of the message.
COMMON_FAULTS = {
    "nan prior": (["--prior", "A=Beta(alpha=nan, beta=2)"], "alpha must be a finite number"),
    "negative scale": (["--prior", "B=LogNormal(mu=0, sigma=-1)"], "sigma must be > 0"),
    "repeated prior": (
        ["--prior", "A=Beta(alpha=2, beta=2)", "--prior", "A=Beta(alpha=3, beta=2)"],
        "--prior A is given twice",
    ),
    "negative seed": (["--seed", "-1"], "--seed must be a whole number from 0 to"),
    "huge seed": (["--seed", str(2**64)], "--seed must be a whole number from 0 to"),
    "no draws": (["--draws", "0"], "--draws must be at least 1"),
    "unknown law": (["--law", "bogus"], "unknown law"),
    "unknown column": (["--y", "nope"], "missing column 'nope'"),
}
#: Faults of one command's own options.
OWN_FAULTS = {
    "fit": [
        (["--predict", "-5"], "--predict -5: must be a finite number > 0"),
        (["--target", "nan"], "--target nan: must be a finite number"),
        (["--budget", "1e21"], "--budget needs --law chinchilla"),
        (["--min-x", "60000"], "--min-x 60000 is above --max-x 50000"),
    ],
    "compare": [(["--rope", "-1"], "--rope -1: must be a finite number > 0")],
    "backtest": [
        (["--cut", "-5"], "--cut -5: must be a finite number > 0"),
        (["--cut", "1600"], "--cut 1600: "),
    ],
    "windows": [(["--window", "5000:100"], "MIN is above MAX")],
    "compare-laws": [(["--laws", "sigmoid", "bogus"], "--laws: unknown law 'bogus'")],
    "report": [(["--predict", "inf"], "--predict inf: must be a finite number > 0")],
    "plan": [(["--extend-to", "inf"], "--extend-to inf: must be a finite number > 0")],
}


class Sampled(BaseException):
    """Raised instead of sampling: a check that passes reaches this."""


@pytest.fixture
def no_sampling(monkeypatch):
    def refuse(*args, **kwargs):
        raise Sampled

    monkeypatch.setattr(fitting, "sample_posterior", refuse)


def _refused(argv, capsys) -> str:
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2, captured.err
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


CASES = [
    pytest.param(command, extra, message, id=f"{command}-{name}")
    for command in BASE
    for name, (extra, message) in COMMON_FAULTS.items()
    if (command, name) != ("compare-laws", "unknown law")  # it takes --laws (below)
] + [
    pytest.param(command, extra, message, id=f"{command}-{extra[0]}{extra[-1]}")
    for command, faults in OWN_FAULTS.items()
    for extra, message in faults
]


@pytest.mark.parametrize(("command", "extra", "message"), CASES)
def test_refusals_are_one_line_before_sampling_and_write_nothing(
    command, extra, message, tmp_path, capsys, no_sampling
):
    out = tmp_path / "nested" / "out"
    line = _refused([*BASE[command], *SAMPLER, *extra, "--out", str(out)], capsys)
    assert line.startswith(f"bayescale {command}: error: ")
    assert message in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", list(BASE))
def test_valid_options_reach_sampling_and_a_failure_there_leaves_no_folder(
    command, tmp_path, no_sampling
):
    out = tmp_path / "nested" / "out"
    with pytest.raises(Sampled):
        main([*BASE[command], *SAMPLER, "--out", str(out)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", list(BASE))
def test_unwritable_out_is_refused_before_sampling(command, tmp_path, capsys, no_sampling):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = _refused([*BASE[command], *SAMPLER, "--out", str(blocker / "out")], capsys)
    assert f"{blocker}" in line and "is not a folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("command", list(BASE))
def test_a_folder_without_permission_is_refused_before_sampling(
    command, tmp_path, capsys, no_sampling, monkeypatch
):
    """The probe's read-only --out failed once at once and again after the whole fit.
    (Simulated: the tests run as root, who may write into read-only folders.)"""

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(output.Path, "mkdir", denied)
    line = _refused([*BASE[command], *SAMPLER, "--out", str(tmp_path / "out")], capsys)
    assert line.endswith(f"{tmp_path / 'out'}: cannot write here (Permission denied)")


@pytest.mark.parametrize("command", list(BASE))
def test_existing_outputs_are_refused_before_sampling(command, tmp_path, capsys, no_sampling):
    outputs = {module.NAME: module.OUTPUTS for module in COMMANDS}[command]
    existing = tmp_path / outputs[0]
    existing.write_text("mine")
    line = _refused([*BASE[command], *SAMPLER, "--out", str(tmp_path)], capsys)
    assert "already exists; pass --overwrite to replace it" in line
    assert existing.read_text() == "mine"


def test_report_from_a_missing_or_foreign_file_is_one_line(tmp_path, capsys):
    line = _refused(["report", "--from", str(tmp_path / "nope.nc"), "--out", str(tmp_path)], capsys)
    assert line.endswith("nope.nc: no such file")
    foreign = tmp_path / "foreign.nc"
    foreign.write_bytes(b"\x89HDF\r\n\x1a\n not really")
    line = _refused(["report", "--from", str(foreign), "--out", str(tmp_path / "o")], capsys)
    assert "foreign.nc: not a readable netCDF file" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.nc"]


# ------------------------------------------------- a real CLI process, interrupted
#: Runs the CLI in a child process; the file named by BAYESCALE_TEST_MARKER is
#: created (from nutpie's progress callback) once every chain is past tuning.
CHILD = """
import os, signal, sys
# Python's own SIGINT handler even when started from a job that ignores SIGINT
signal.signal(signal.SIGINT, signal.default_int_handler)
import nutpie
real = nutpie.sample
def on_progress(chains):
    if all(not chain.tuning and chain.finished_draws > 0 for chain in chains):
        open(os.environ["BAYESCALE_TEST_MARKER"], "a").close()
def marked(*args, **kwargs):
    return real(*args, **kwargs, progress_callback=on_progress, progress_rate=100)
nutpie.sample = marked
from bayescale.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _wait_for(path, process, seconds=600.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the child never started sampling"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def sampling_child(tmp_path_factory):
    """A CLI fit with far more draws than it will be allowed to make, in its own process."""
    folder = tmp_path_factory.mktemp("interrupt")
    marker, out = folder / "sampling", folder / "nested" / "out"
    args = [*BASE["fit"], "--likelihood", "normal", "--vary", "none"]
    args += ["--draws", "10000000", "--tune", "50", "--chains", "2", "--seed", "1"]
    env = {**os.environ, "BAYESCALE_TEST_MARKER": str(marker), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args, "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process, marker, out
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_a_second_run_into_a_busy_out_is_refused(sampling_child, capsys):
    process, marker, out = sampling_child
    _wait_for(marker, process)
    args = [*BASE["fit"], *SAMPLER, "--likelihood", "normal", "--vary", "none"]
    line = _refused([*args, "--out", str(out)], capsys)
    assert line == (
        f"bayescale fit: error: {out}: another bayescale run is writing into this folder; "
        "wait for it or choose another --out"
    )


def test_sigint_during_draws_exits_130_and_writes_nothing(sampling_child):
    process, marker, out = sampling_child
    _wait_for(marker, process)  # every chain is drawing
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("bayescale fit: interrupted (sampling was interrupted after")
    )
    assert "nothing was written" in err
    assert not out.exists() and not out.parent.exists()
