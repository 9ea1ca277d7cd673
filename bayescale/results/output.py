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
  an interrupt (disk full, Ctrl-C) leaves the old outputs untouched;
- **nothing left on failure**: folders the run created are removed again when
  it fails.

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
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

LOCK_NAME = ".bayescale.lock"
TEMP_PREFIX = ".bayescale-tmp-"


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
        self.folder = Path(folder)
        self.names = list(names)
        self.overwrite = overwrite
        self.exclusive = exclusive
        self.paths = {name: self.folder / name for name in self.names}
        self._opened = False
        self._lock_fd: int | None = None
        self._created: list[Path] = []
        self._staged: dict[Path, Path] = {}

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
        return self

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
        """Rename every staged file into place (interrupts wait until it is done)."""
        with _interrupts_deferred():
            for final, temp in list(self._staged.items()):
                publish(temp, final, overwrite=self.overwrite)
                del self._staged[final]


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


def _new_temp(folder: Path) -> Path:
    """An empty new file in ``folder`` with the mode a plain write would give
    (``mkstemp`` would make it private to the user)."""
    while True:
        temp = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
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
    """Hold SIGINT back while a few renames finish (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and previous is signal.default_int_handler:
        raise KeyboardInterrupt
    if received and callable(previous):
        previous(signal.SIGINT, None)
