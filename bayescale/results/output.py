"""Exclusive output folders and atomic writes: never a partial or mixed result.

Every command and API function that writes goes through :class:`OutputFolder`:

- **checked first**: :meth:`OutputFolder.check` refuses, before any expensive
  work, a ``--out`` that is a file, outputs that exist (unless ``overwrite``)
  and a folder that cannot be created or written (it creates the folder and
  takes the lock, and undoes both at once);
- **exclusive**: while a run holds the folder (an advisory ``flock`` on a lock
  file inside it, released by the kernel if the process dies), a second run
  into the same folder is refused (a single file saved with :func:`write_file`
  does not take the folder: its final hard link creates it exclusively);
- **atomic**: outputs are staged as temporary files in the target folder and
  renamed into place only when every one of them is complete, so a failure or
  an interrupt (disk full, Ctrl-C, SIGTERM, SIGHUP) leaves the old outputs
  untouched; the renames run with those signals held back;
- **detectably atomic**: the renames are followed by a manifest
  (:data:`MANIFEST_NAME`: size and SHA-256 of every output of the commit),
  renamed into place last; a process killed outright (SIGKILL, power loss)
  between two renames leaves outputs that disagree with the manifest, which
  :func:`verify_manifest` (called by the fit loader) refuses in one line;
- **replaced whole**: with ``overwrite``, files of a declared output (e.g. the
  ``figures`` folder) that this run did not write are removed, so no figure of
  an earlier run stays beside the new report;
- **nothing left on failure**: folders the run created are removed again when
  it fails; temporary files of runs that were killed outright (named after
  their process id) are removed by the next run into the folder.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> with OutputFolder(out, ["a.txt"]) as folder:
...     _ = folder.stage_text("a.txt", "hello")
>>> (out / "a.txt").read_text()
'hello'
>>> OutputFolder(out, ["a.txt"]).check()  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
bayescale.results.output.OutputError: ... already exists; pass --overwrite to replace it (overwrite=True in Python)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

LOCK_NAME = ".bayescale.lock"
TEMP_PREFIX = ".bayescale-tmp-"
MANIFEST_NAME = ".bayescale-manifest.json"
MANIFEST_FORMAT = "bayescale-manifest/1"
#: Largest manifest read (bytes): it lists a handful of outputs.
MANIFEST_LIMIT = 1 << 20
#: Signals held back while staged outputs are renamed into place.
DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Temporary files without a process id (older versions) older than this many
#: seconds are taken as left by a killed run.
LEGACY_TEMP_AGE = 24 * 3600


#: Folders whose outputs this process committed (read by the CLI to tell an
#: interrupt after the commit from one before it).
COMMITTED: list[Path] = []


class OutputError(ValueError):
    """An output that cannot or may not be written; the message is one line."""


def _describe(err: OSError) -> str:
    return err.strerror or type(err).__name__


class OutputFolder:
    """A folder taken exclusively for one run, whose outputs appear all at once.

    Parameters
    ----------
    folder : str or Path
        The output folder (created, with its parents, when the run starts).
    names : iterable of str
        The outputs the run may write (relative paths inside ``folder``, e.g.
        ``"fit.json"`` or ``"figures"``); existing ones are refused unless
        ``overwrite``.
    overwrite : bool
        Replace existing outputs.
    exclusive : bool
        Take the folder for this run (refusing a concurrent one). ``False``
        for a single file, whose exclusive creation the final link already
        guarantees, so that many fits can be saved into one folder at once.

    Examples
    --------
    >>> with OutputFolder("out", ["fit.json"]) as out:  # doctest: +SKIP
    ...     out.stage_text("fit.json", "{}")
    """

    def __init__(
        self,
        folder: str | Path,
        names: Iterable[str],
        *,
        overwrite: bool = False,
        exclusive: bool = True,
    ) -> None:
        if not str(folder).strip():
            raise OutputError("the output folder is empty text; name a folder ('.' for this one)")
        self.folder = Path(folder)
        self.names = list(names)
        self.overwrite = overwrite
        self.exclusive = exclusive
        self.paths = {name: self.folder / name for name in self.names}
        self._opened = False
        self._lock_fd: int | None = None
        self._created: list[Path] = []
        self._staged: dict[Path, Path] = {}
        self._digests: dict[Path, dict[str, Any]] = {}

    # ------------------------------------------------------------ checks
    def check_existing(self) -> None:
        """Refuse a ``folder`` that is a file, or outputs that exist without ``overwrite``."""
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputError(f"{self.folder}: exists and is not a folder")
        for parent in self.folder.parents:
            if parent.exists() and not parent.is_dir():
                raise OutputError(f"{self.folder}: {parent} is not a folder")
        if self.overwrite:
            return
        for path in self.paths.values():
            if path.exists() or path.is_symlink():
                raise OutputError(
                    f"{path} already exists; pass --overwrite to replace it (overwrite=True in Python)"
                )

    def check(self) -> None:
        """Everything :meth:`open` would refuse, without leaving a trace.

        Creates the folder and takes the lock (so permissions and a concurrent
        run are found now, not after the fit), then releases and removes both.
        """
        self.open()
        self.close(success=False)

    # ------------------------------------------------------------ life cycle
    def open(self) -> OutputFolder:
        """Create the folder, take it exclusively, and check the outputs again."""
        self.check_existing()
        try:
            self._make_folders()
            if self.exclusive:
                self._lock()
            elif not os.access(self.folder, os.W_OK | os.X_OK):
                raise PermissionError(13, "Permission denied")
        except OSError as err:
            self._remove_created()
            raise OutputError(f"{self.folder}: cannot write here ({_describe(err)})") from None
        except OutputError:
            self._remove_created()
            raise
        self._opened = True
        try:
            self.check_existing()
        except OutputError:
            self.close(success=False)
            raise
        self._remove_stale_temps()
        return self

    def _remove_stale_temps(self) -> None:
        """Remove temporary files of runs that died without cleaning up."""
        folders = [self.folder, *(p for p in self.paths.values() if p.is_dir())]
        for folder in folders:
            with contextlib.suppress(OSError):
                for temp in folder.glob(f"{TEMP_PREFIX}*"):
                    if _temp_is_stale(temp):
                        with contextlib.suppress(OSError):
                            temp.unlink()

    def _make_folders(self) -> None:
        missing = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            self._created.insert(0, path)  # innermost first

    def _lock(self) -> None:
        lock = self.folder / LOCK_NAME
        for _ in range(10):
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputError(
                    f"{self.folder}: another bayescale run is writing into this folder; "
                    "wait for it or choose another --out"
                ) from None
            # The holder before us may have removed the lock file after we opened
            # it: then we locked a file nobody else sees, so try again.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except FileNotFoundError:
                same = False
            if same:
                self._lock_fd = fd
                return
            os.close(fd)
        raise OutputError(f"{self.folder}: could not take the output lock")

    def close(self, *, success: bool) -> None:
        """Drop staged files, release the lock and, on failure, remove created folders."""
        for temp in self._staged.values():
            with contextlib.suppress(OSError):
                temp.unlink()
        self._staged.clear()
        self._digests.clear()
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                (self.folder / LOCK_NAME).unlink()
            os.close(self._lock_fd)
            self._lock_fd = None
        self._opened = False
        if not success:
            self._remove_created()
        self._created = []

    def _remove_created(self) -> None:
        for path in self._created:  # innermost first
            with contextlib.suppress(OSError):
                path.rmdir()

    def __enter__(self) -> OutputFolder:
        return self.open()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.commit()
        finally:
            self.close(success=kind is None)

    # ------------------------------------------------------------ writing
    def stage(self, name: str, write: Callable[[Path], object]) -> Path:
        """Let ``write(temp_path)`` write output ``name`` to a temporary file.

        The file appears under its own name only at :meth:`commit`. Returns the
        final path.
        """
        if not self._opened:
            raise RuntimeError("open the OutputFolder before staging outputs")
        final = self.folder / name
        try:
            missing = [p for p in final.parents if not p.exists()]
            for path in reversed(missing):
                path.mkdir()
                self._created.insert(0, path)
            temp = _new_temp(final.parent)
            self._staged[final] = temp
            write(temp)
            _fsync(temp)
            self._digests[final] = file_digest(temp)
        except OSError as err:
            raise OutputError(
                f"{final}: cannot write ({_describe(err)}); nothing was replaced"
            ) from None
        return final

    def stage_text(self, name: str, text: str) -> Path:
        """Stage a UTF-8 text output."""
        return self.stage(name, lambda path: path.write_text(text, encoding="utf-8"))

    def stage_bytes(self, name: str, data: bytes) -> Path:
        """Stage a binary output."""
        return self.stage(name, lambda path: path.write_bytes(data))

    def commit(self) -> None:
        """Rename every staged file into place, remove what an overwritten output
        no longer holds, then write the manifest (signals wait until it is done)."""
        with _interrupts_deferred():
            committed = {}
            for final, temp in list(self._staged.items()):
                publish(temp, final, overwrite=self.overwrite)
                del self._staged[final]
                committed[final] = self._digests.pop(final)
            if self.overwrite and self.exclusive:
                self._remove_stale_outputs(set(committed))
            if committed:
                self._write_manifest(committed)
                COMMITTED.append(self.folder)

    def _remove_stale_outputs(self, committed: set[Path]) -> None:
        """Files of declared outputs this run did not write (an earlier run's)."""
        for path in self.paths.values():
            if path.is_dir() and not path.is_symlink():
                stale = [p for p in path.rglob("*") if p.is_file() and p not in committed]
            else:
                stale = [path] if path.is_file() and path not in committed else []
            for file in stale:
                if not file.name.startswith(TEMP_PREFIX):
                    with contextlib.suppress(OSError):
                        file.unlink()

    def _write_manifest(self, committed: dict[Path, dict[str, Any]]) -> None:
        """Record the outputs of this commit (an exclusive run) or drop the entries
        of the files a single save replaced (the manifest then no longer vouches
        for them)."""
        manifest = self.folder / MANIFEST_NAME
        old = read_manifest(manifest, strict=False) or {}
        names = {_relative(self.folder, path) for path in committed}
        files = {
            name: entry
            for name, entry in old.get("files", {}).items()
            if name not in names and (self.folder / name).is_file()
        }
        if not self.exclusive:
            if files == old.get("files", {}):
                return
        else:
            commit_id = secrets.token_hex(8)
            for path, digest in committed.items():
                files[_relative(self.folder, path)] = {**digest, "commit": commit_id}
        text = json.dumps({"format": MANIFEST_FORMAT, "files": files}, indent=1) + "\n"
        temp = _new_temp(self.folder)
        try:
            temp.write_text(text, encoding="utf-8")
            _fsync(temp)
            os.replace(temp, manifest)
        except OSError as err:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise OutputError(
                f"{manifest}: cannot write ({_describe(err)}); the outputs are in place "
                "but unverified"
            ) from None


def publish(temp: Path, final: Path, *, overwrite: bool) -> None:
    """Move the complete file ``temp`` to ``final`` atomically.

    Without ``overwrite`` the file is linked into place, which fails if
    ``final`` appeared meanwhile (nothing is ever replaced then).

    Raises
    ------
    OutputError
        If ``final`` exists and ``overwrite`` is false.
    """
    if overwrite:
        os.replace(temp, final)
        return
    try:
        os.link(temp, final)
    except FileExistsError:
        raise OutputError(
            f"{final} already exists; pass --overwrite to replace it (overwrite=True in Python)"
        ) from None
    except OSError as err:  # a file system without hard links
        if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if final.exists():
            raise OutputError(
                f"{final} already exists; pass --overwrite to replace it (overwrite=True in Python)"
            ) from None
        os.replace(temp, final)
        return
    temp.unlink()


def write_file(path: str | Path, write: Callable[[Path], object], *, overwrite: bool) -> Path:
    """Write one file atomically and exclusively (the API's ``save``).

    Parameters
    ----------
    path : str or Path
        The file to write; its folder is created when missing.
    write : callable
        ``write(temp_path)`` writes the content.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    with OutputFolder(path.parent, [path.name], overwrite=overwrite, exclusive=False) as folder:
        folder.stage(path.name, write)
    return path


def _relative(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def file_digest(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def read_manifest(path: Path, *, strict: bool = True) -> dict[str, Any] | None:
    """The manifest at ``path`` (None when there is none).

    Raises
    ------
    OutputError
        With ``strict``, if it is not a regular file of at most
        :data:`MANIFEST_LIMIT` bytes holding a manifest (without ``strict`` such
        a manifest is taken as absent, to be replaced).
    """
    if not path.exists() and not path.is_symlink():
        return None
    try:
        if not path.is_file() or path.stat().st_size > MANIFEST_LIMIT:
            raise ValueError("not a small regular file")
        value = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(value, dict) or value.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"not a {MANIFEST_FORMAT} file")
        files = value.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and type(entry.get("size")) is int
            and isinstance(entry.get("commit"), str)
            for entry in files.values()
        ):
            raise ValueError("damaged file list")
    except (OSError, ValueError, UnicodeDecodeError) as err:
        if strict:
            raise OutputError(f"{path}: unreadable manifest ({err})") from None
        return None
    return value


def verify_manifest(path: str | Path) -> None:
    """Refuse ``path`` when its folder's manifest shows a write that was cut off.

    When the manifest beside ``path`` lists it, ``path`` and every other output
    of the same commit must exist with the recorded size and SHA-256. A file the
    manifest does not list (no manifest, or written by a single save) passes.

    Raises
    ------
    OutputError
        In one line naming the first file that does not match.
    """
    path = Path(path)
    manifest = read_manifest(path.parent / MANIFEST_NAME)
    if manifest is None or path.name not in manifest["files"]:
        return
    commit = manifest["files"][path.name]["commit"]
    for name, entry in manifest["files"].items():
        if entry["commit"] != commit:
            continue
        member = path.parent / name
        try:
            same = member.is_file() and file_digest(member) == {
                "size": entry["size"],
                "sha256": entry["sha256"],
            }
        except OSError:
            same = False
        if not same:
            raise OutputError(
                f"{path}: {member} does not match the folder's manifest ({MANIFEST_NAME}): "
                "a write into the folder was cut off or a file was changed; run the command again"
            )


def _temp_is_stale(temp: Path) -> bool:
    """A temporary file whose writer is gone: its process id names no process
    (or, without one, it is older than :data:`LEGACY_TEMP_AGE`)."""
    parts = temp.name[len(TEMP_PREFIX) :].split("-")
    if len(parts) == 2 and parts[0].isdigit():
        return not _alive(int(parts[0]))
    try:
        return time.time() - temp.lstat().st_mtime > LEGACY_TEMP_AGE
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _new_temp(folder: Path) -> Path:
    """An empty new file in ``folder`` with the mode a plain write would give
    (``mkstemp`` would make it private to the user), named after this process
    so a later run can tell whether its writer is still alive."""
    while True:
        temp = folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return temp


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back while a few renames finish (main
    thread only), then deliver the first one received to its own handler (or,
    with the default action, to the process again)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for number in DEFERRED_SIGNALS:
        previous[number] = signal.signal(number, lambda n, frame: received.append(n))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if not received:
        return
    number = received[0]
    handler = previous[number]
    if handler is signal.default_int_handler:
        raise KeyboardInterrupt
    if callable(handler):
        handler(number, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), number)
