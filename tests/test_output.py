"""Output folders: atomic, exclusive, all or nothing, and nothing left behind on failure."""

from __future__ import annotations

import os
import resource
import signal

import pytest

from bayescale.results.output import (
    LOCK_NAME,
    MANIFEST_NAME,
    OutputError,
    OutputFolder,
    publish,
    write_file,
)


def _listing(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_outputs_appear_together_only_when_the_run_succeeds(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out, ["a.json", "figures"]) as folder:
        folder.stage_text("a.json", "{}")
        folder.stage_bytes("figures/f.png", b"png")
        assert not (out / "a.json").exists()  # staged under a temporary name
    assert _listing(out) == [MANIFEST_NAME, "a.json", "figures", "figures/f.png"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (out / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain write


def test_a_failing_run_replaces_nothing_and_leaves_no_temporary_file(tmp_path):
    (tmp_path / "a.json").write_text("old a")
    (tmp_path / "b.nc").write_text("old b")

    def half_then_fail(path):
        path.write_text("half of the new b")
        raise OSError(28, "No space left on device")

    with (
        pytest.raises(OutputError, match=r"b\.nc: cannot write \(No space left on device\)"),
        OutputFolder(tmp_path, ["a.json", "b.nc"], overwrite=True) as folder,
    ):
        folder.stage_text("a.json", "new a")
        folder.stage("b.nc", half_then_fail)
    assert (tmp_path / "a.json").read_text() == "old a"
    assert (tmp_path / "b.nc").read_text() == "old b"
    assert _listing(tmp_path) == ["a.json", "b.nc"]


def test_a_file_size_limit_during_overwrite_keeps_the_old_file(tmp_path):
    """The probe's case: a write failure with --overwrite used to truncate the old file."""
    target = tmp_path / "posterior.nc"
    target.write_bytes(b"old" * 1000)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(
            OutputError, match=r"posterior\.nc: cannot write .*nothing was replaced"
        ):
            write_file(target, lambda path: path.write_bytes(b"x" * 100_000), overwrite=True)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert target.read_bytes() == b"old" * 1000
    assert _listing(tmp_path) == ["posterior.nc"]


def test_a_second_run_into_a_held_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out, ["fit.json"]) as first:
        with pytest.raises(OutputError, match="another bayescale run is writing into this folder"):
            OutputFolder(out, ["fit.json"]).open()
        first.stage_text("fit.json", "{}")
    assert _listing(out) == [MANIFEST_NAME, "fit.json"]  # the lock file is gone with the run
    with pytest.raises(OutputError, match=r"fit\.json already exists; pass --overwrite"):
        OutputFolder(out, ["fit.json"]).open()


def test_a_failed_run_removes_the_folders_it_created(tmp_path):
    with pytest.raises(RuntimeError), OutputFolder(tmp_path / "a" / "b" / "c", ["x"]) as folder:
        folder.stage_text("x", "1")
        raise RuntimeError("the fit failed")
    assert _listing(tmp_path) == []
    OutputFolder(tmp_path / "d" / "e", ["x"]).check()  # checking writes nothing either
    assert _listing(tmp_path) == []


def test_an_existing_folder_is_kept_on_failure(tmp_path):
    with pytest.raises(RuntimeError), OutputFolder(tmp_path, ["x"]):
        raise RuntimeError("the fit failed")
    assert tmp_path.is_dir() and not (tmp_path / LOCK_NAME).exists()


def test_unwritable_places_are_refused_before_any_work(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is not a folder"):
        OutputFolder(tmp_path / "file" / "out", ["x"]).check()
    with pytest.raises(OutputError, match="exists and is not a folder"):
        OutputFolder(tmp_path / "file", ["x"]).check()
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    locked = tmp_path / "read_only"
    locked.mkdir(mode=0o555)
    with pytest.raises(
        OutputError, match=r"read_only/out: cannot write here \(Permission denied\)"
    ):
        OutputFolder(locked / "out", ["x"]).check()


def test_publishing_without_overwrite_never_replaces_a_file_that_appeared(tmp_path):
    temp, final = tmp_path / "temp", tmp_path / "final"
    temp.write_text("new")
    final.write_text("someone else's")
    with pytest.raises(OutputError, match="already exists"):
        publish(temp, final, overwrite=False)
    assert final.read_text() == "someone else's"
    publish(temp, final, overwrite=True)
    assert final.read_text() == "new" and not temp.exists()


def test_single_files_can_be_saved_into_one_folder_at_once(tmp_path):
    """fit.save does not take the folder: many fits may be saved side by side."""
    with OutputFolder(tmp_path, ["report.html"]) as busy:
        write_file(tmp_path / "a.nc", lambda path: path.write_text("a"), overwrite=False)
        with pytest.raises(OutputError, match=r"a\.nc already exists"):
            write_file(tmp_path / "a.nc", lambda path: path.write_text("b"), overwrite=False)
        busy.stage_text("report.html", "r")
    assert (tmp_path / "a.nc").read_text() == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME, "a.nc", "report.html"]


def test_overwrite_replaces_a_declared_folder_whole(tmp_path):
    """Issue 28 item 1: report --overwrite used to leave the previous report's
    figures (differences.png, recipes.png) beside the new one."""
    with OutputFolder(tmp_path, ["report.md", "figures"]) as first:
        first.stage_text("report.md", "two recipes")
        for name in ("fit", "differences", "recipes"):
            first.stage_bytes(f"figures/{name}.png", b"old")
    with OutputFolder(tmp_path, ["report.md", "figures"], overwrite=True) as second:
        second.stage_text("report.md", "one recipe")
        second.stage_bytes("figures/fit.png", b"new")
    assert _listing(tmp_path) == [MANIFEST_NAME, "figures", "figures/fit.png", "report.md"]
    assert (tmp_path / "figures" / "fit.png").read_bytes() == b"new"
