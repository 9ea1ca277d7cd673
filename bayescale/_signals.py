"""SIGINT, SIGTERM and SIGHUP end a command-line run the same way.

Python turns SIGINT (Ctrl-C) into :class:`KeyboardInterrupt`; SIGTERM (``kill``,
``timeout``) and SIGHUP (a closed terminal) would kill the process on the spot,
leaving the ``--out`` folder it created, its lock and its staged temporary files.
:func:`install` makes all three raise :class:`Interrupted` (a
``KeyboardInterrupt``), so the same clean-up runs (nothing written, nothing
left), and the run exits with ``128 + signal number`` (130, 143, 129), as a
shell reports a process killed by that signal.

Importing this module (the first line of ``import bayescale``) runs
:func:`install_for_cli`: when the process is the ``bayescale`` command, it does
this from the start, and replaces the traceback of a signal that arrives while
the package is still being imported with one line. The library alone never
changes a process's signal handlers.

Only the standard library is imported here: it runs before anything else.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType, TracebackType

#: The signals handled as Ctrl-C.
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: The command's program name, as installed (``bayescale``) or run with ``-m``.
_CLI_MODULES = ("bayescale", "bayescale.cli")

_received: list[int] = []


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT, SIGTERM or SIGHUP."""

    def __init__(self, number: int) -> None:
        super().__init__(f"received {signal.Signals(number).name}")
        self.number = number


def _raise(number: int, frame: FrameType | None) -> None:
    """Raise on the first signal; later ones only are recorded, so the clean-up
    the first one started is not cut short."""
    first = not _received
    _received.append(number)
    if first:
        raise Interrupted(number)


Handlers = dict[int, object]


def install() -> Handlers:
    """Handle SIGINT, SIGTERM and SIGHUP by raising :class:`Interrupted` (main thread only).

    A SIGINT the process inherited as ignored (a job started in the background
    by a shell) stays ignored, as Python leaves it.

    Returns
    -------
    dict
        The previous handlers, for :func:`restore`.
    """
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: Handlers = {}
    for number in HANDLED:
        if number == signal.SIGINT and signal.getsignal(number) == signal.SIG_IGN:
            continue
        previous[number] = signal.signal(number, _raise)
    return previous


def restore(previous: Handlers) -> None:
    """Put back the handlers :func:`install` replaced."""
    for number, handler in previous.items():
        signal.signal(number, handler)  # type: ignore[arg-type]


def received() -> bool:
    """True once a handled signal arrived in this run."""
    return bool(_received)


def last_signal() -> int:
    """The signal that stopped the run (SIGINT when none was recorded: a plain
    ``KeyboardInterrupt``)."""
    return _received[-1] if _received else int(signal.SIGINT)


def exit_status() -> int:
    """``128 +`` the number of :func:`last_signal` (130 for SIGINT)."""
    return 128 + last_signal()


def signal_name() -> str:
    """Name of :func:`last_signal`, e.g. ``"SIGTERM"``."""
    return signal.Signals(last_signal()).name


def is_cli_process() -> bool:
    """True when this process runs the ``bayescale`` command (the installed
    script, ``python -m bayescale`` or ``python -m bayescale.cli``)."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if sys.argv and Path(sys.argv[0]).name == "bayescale":
        return True
    return any(flag == "-m" and module in _CLI_MODULES for flag, module in itertools.pairwise(argv))


def _excepthook(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """One line and ``128 + signal`` for an interrupt nothing else caught."""
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    if not isinstance(error, Interrupted):
        _received.append(int(signal.SIGINT))
    sys.stderr.write(f"bayescale: interrupted by {signal_name()}; nothing was written\n")
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(exit_status())


def install_for_cli() -> None:
    """:func:`install` and a one-line report of an interrupt during start-up,
    when (and only when) this process is the ``bayescale`` command."""
    if not is_cli_process():
        return
    install()
    sys.excepthook = _excepthook


install_for_cli()
