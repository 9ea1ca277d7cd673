"""Issue 28, items 2 and 3: SIGINT, SIGTERM and SIGHUP at start-up, during
sampling, during staging and between the renames of a commit.

Every case runs the CLI in a child process and checks what docs/output_guarantees.md
states: exit status 128 + the signal's number, one line on stderr, no traceback,
and afterwards either the old outputs intact (and verified by their manifest)
or the new ones complete and verified; a run killed outright between two
renames leaves a folder the loader refuses in one line. The staging and rename
cases use ``report --from`` (no sampling), so they stay fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings

import pytest
from conftest import QUICK_SAMPLER, ROOT, WROTE, fit_bundled_data
from test_cli_contract import BASE, _wait_for
from test_isoflop_cli import _base as _isoflop_base

from bayescale.cli import main
from bayescale.results.output import MANIFEST_NAME, TEMP_PREFIX, OutputFolder, verify_manifest
from bayescale.results.persistence import FitFileError, load_fit

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
IDS = [s.name for s in SIGNALS]

#: The CLI in a child. BAYESCALE_TEST_MARKER: a file created once every chain is
#: past tuning. BAYESCALE_TEST_AT=stage|publish and BAYESCALE_TEST_SIGNAL: the
#: child sends itself that signal right after staging its first output, or
#: right after the first rename of its commit.
CHILD = """
import os, signal, sys
import nutpie
real = nutpie.sample
def on_progress(chains):
    if all(not chain.tuning and chain.finished_draws > 0 for chain in chains):
        open(os.environ["BAYESCALE_TEST_MARKER"], "a").close()
def marked(*args, **kwargs):
    return real(*args, **kwargs, progress_callback=on_progress, progress_rate=100)
nutpie.sample = marked
from bayescale.results import output
at, number = os.environ.get("BAYESCALE_TEST_AT"), int(os.environ.get("BAYESCALE_TEST_SIGNAL", 0))
if at == "stage":
    stage = output.OutputFolder.stage
    def stage_then_signal(self, name, write):
        final = stage(self, name, write)
        os.kill(os.getpid(), number)
        return final
    output.OutputFolder.stage = stage_then_signal
elif at == "publish":
    publish = output.publish
    def publish_then_signal(temp, final, overwrite):
        publish(temp, final, overwrite=overwrite)
        os.kill(os.getpid(), number)
    output.publish = publish_then_signal
from bayescale.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _default_sigint() -> None:
    """Python's own SIGINT handling in the child (a job started in the background
    by a shell inherits SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _child(args, folder, **env):
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BAYESCALE_TEST_MARKER": str(folder / "sampling"),
        **{key: str(value) for key, value in env.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _snapshot(folder):
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def two_fits(tmp_path_factory):
    """Two saved fits with different seeds (so old and new outputs differ)."""
    folder = tmp_path_factory.mktemp("signals")
    paths = []
    for seed in (7, 8):
        fit = fit_bundled_data(**{**QUICK_SAMPLER, "seed": seed})
        paths.append(fit.save(folder / f"fit{seed}.nc"))
    return paths


@pytest.fixture
def old_report(two_fits, tmp_path):
    """A complete report of the first fit in tmp_path/out, and its bytes."""
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["report", "--from", str(two_fits[0]), "--out", str(out)]) in WROTE
    return out, _snapshot(out)


# ---------------------------------------------------------------- start-up
def _catches_sigterm(pid: int) -> bool:
    """The child installed bayescale's handlers (SIGTERM caught, from /proc)."""
    try:
        status = open(f"/proc/{pid}/status").read()
    except OSError:
        return False
    caught = int(
        next(line for line in status.splitlines() if line.startswith("SigCgt")).split()[1], 16
    )
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc to see the handlers")
@pytest.mark.parametrize("number", SIGNALS, ids=IDS)
def test_a_signal_during_start_up_imports_is_one_line(number, two_fits, tmp_path):
    """The first line of ``import bayescale`` installs the handlers in the CLI;
    the signal then arrives while the rest of the package is imported."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bayescale.cli",
            "report",
            "--from",
            str(two_fits[0]),
            "--out",
            str(out),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 120
    while not _catches_sigterm(process.pid):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(number)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + number, err
    line = _one_line(err)
    assert line.endswith(f"interrupted by {number.name}; nothing was written") or (
        line.startswith("bayescale report: interrupted") and "nothing was written" in line
    )
    assert not out.exists()


# ---------------------------------------------------------------- sampling
def _interrupt_sampling(args, number, folder):
    out = folder / "nested" / "out"
    process = _child([*args, "--out", str(out)], folder)
    try:
        _wait_for(folder / "sampling", process)
        process.send_signal(number)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + number, err
    line = _one_line(err)
    assert "interrupted" in line and line.endswith("nothing was written"), line
    assert "error" not in line  # never a false data error
    assert not out.exists() and not out.parent.exists()
    return line


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_during_sampling_are_handled_as_sigint(number, tmp_path):
    args = [*BASE["fit"], "--likelihood", "normal", "--vary", "none"]
    args += ["--draws", "10000000", "--tune", "50", "--chains", "2", "--seed", "1"]
    line = _interrupt_sampling(args, number, tmp_path)
    assert line.startswith(f"bayescale fit: interrupted by {number.name} (sampling was interrupted")


@pytest.mark.parametrize("command", ["isoflop", "next-run"])
def test_ctrl_c_while_isoflop_and_next_run_sample_exits_130(command, tmp_path):
    """Both used to exit 2 with a false data error ("all values are <= 0")."""
    from bayescale.studies.isoflop_simulate import simulate_isoflop

    sweeps = tmp_path / "sweeps.csv"
    simulate_isoflop(rng=2).to_csv(sweeps, index=False)
    args = [*_isoflop_base(command, str(sweeps))]
    args += ["--draws", "10000000", "--tune", "50", "--chains", "2", "--seed", "1"]
    line = _interrupt_sampling(args, signal.SIGINT, tmp_path)
    assert line.startswith(f"bayescale {command}: interrupted (sampling was interrupted")


# ---------------------------------------------------------------- staging and renames
@pytest.mark.parametrize("number", SIGNALS, ids=IDS)
def test_a_signal_while_staging_leaves_the_old_outputs_intact(number, two_fits, old_report):
    out, before = old_report
    args = ["report", "--from", str(two_fits[1]), "--overwrite", "--out", str(out)]
    process = _child(args, out.parent, BAYESCALE_TEST_AT="stage", BAYESCALE_TEST_SIGNAL=int(number))
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + number, err
    assert _one_line(err).endswith("nothing was written")
    assert _snapshot(out) == before  # old outputs intact, no temporary file, no lock
    verify_manifest(out / "report.html")


@pytest.mark.parametrize("number", SIGNALS, ids=IDS)
def test_a_signal_between_renames_waits_until_the_new_outputs_are_complete(
    number, two_fits, old_report
):
    out, before = old_report
    args = ["report", "--from", str(two_fits[1]), "--overwrite", "--out", str(out)]
    process = _child(
        args, out.parent, BAYESCALE_TEST_AT="publish", BAYESCALE_TEST_SIGNAL=int(number)
    )
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + number, err
    assert "were complete" in _one_line(err)
    after = _snapshot(out)
    assert after["report.md"] != before["report.md"]  # the new report, whole
    assert not any(TEMP_PREFIX in name or name.endswith(".lock") for name in after)
    for name in after:
        if name != MANIFEST_NAME:
            verify_manifest(out / name)


def test_a_kill_between_renames_is_refused_on_load_in_one_line(two_fits, tmp_path):
    """SIGKILL cannot be handled: the folder then mixes a new posterior.nc with the
    old fit.json, and the old manifest says so."""
    out = tmp_path / "run"
    args = [*BASE["fit"], "--likelihood", "normal", "--vary", "none", "--draws", "20"]
    args += ["--tune", "20", "--chains", "1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([*args, "--seed", "1", "--out", str(out)]) in WROTE
    load_fit(out / "posterior.nc")
    process = _child(
        [*args, "--seed", "2", "--overwrite", "--out", str(out)],
        tmp_path,
        BAYESCALE_TEST_AT="publish",
        BAYESCALE_TEST_SIGNAL=int(signal.SIGKILL),
    )
    process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL
    with pytest.raises(FitFileError, match=r"does not match the folder's manifest") as error:
        load_fit(out / "posterior.nc")
    assert "\n" not in str(error.value)
    assert main(["report", "--from", str(out / "posterior.nc"), "--out", str(tmp_path / "r")]) == 2


def test_temporary_files_of_dead_runs_are_removed_by_the_next_run(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    stale = tmp_path / f"{TEMP_PREFIX}{pid}-0123456789abcdef"
    mine = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-0123456789abcdef"
    stale.write_text("half a posterior")
    mine.write_text("a save in progress in a live process")
    (tmp_path / ".bayescale.lock").write_text("")  # left by a run killed outright
    with OutputFolder(tmp_path, ["fit.json"]) as folder:
        folder.stage_text("fit.json", "{}")
    assert not stale.exists() and mine.exists()
    assert not (tmp_path / ".bayescale.lock").exists()
