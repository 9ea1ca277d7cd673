"""A plain stderr progress bar for long work (no extra dependency).

On a terminal the bar is redrawn in place, with the time spent and an estimate
of the time left (the mean time per finished item times the items left); when
the stream is not a terminal (a log file, a pipe, a notebook's captured stderr)
or the caller asked for quiet, it prints nothing at all, so logs and JSON on
stdout stay as they were. It needs no dependency: rich or tqdm would give the
same line for a package to install.

Used by :func:`bayescale.fit_many`, :func:`bayescale.fit_windows`,
:func:`bayescale.backtest`, :func:`bayescale.plan`, :func:`bayescale.calibrate`
and :func:`bayescale.compare_laws` (their ``progress=`` option; the CLI's
``--quiet``).

Examples
--------
>>> import io
>>> class Terminal(io.StringIO):
...     def isatty(self):
...         return True
>>> stream = Terminal()
>>> bar = Progress(4, label="fits", stream=stream)
>>> for _ in range(4):
...     bar.advance()
>>> bar.close()
>>> stream.getvalue().splitlines()[-1].startswith("fits: 4/4")  # each redraw after a CR
True
>>> log = io.StringIO()  # not a terminal: nothing is written
>>> with Progress(4, label="fits", stream=log) as bar:
...     bar.advance(4)
>>> log.getvalue()
''
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

_WIDTH = 24


class Progress:
    """Count finished items of a known total and show it on ``stream``.

    Parameters
    ----------
    total : int
        Number of items.
    label : str
        What is counted (printed before the counts).
    stream : file-like, optional
        Where to write; ``sys.stderr`` by default.
    enabled : bool
        ``False`` (quiet) makes every method a no-op; so does a ``stream`` that
        is not a terminal.
    """

    def __init__(
        self, total: int, *, label: str, stream: TextIO | None = None, enabled: bool = True
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled and terminal and total > 0
        self.done = 0
        self.failed = 0
        self._start = time.perf_counter()
        if self.enabled:
            self.stream.write(self._line())
            self.stream.flush()

    def advance(self, count: int = 1, *, failed: int = 0) -> None:
        """Record ``count`` more finished items, ``failed`` of them failed."""
        self.done += count
        self.failed += failed
        if self.enabled:
            self.stream.write("\r" + self._line())
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _line(self) -> str:
        elapsed = time.perf_counter() - self._start
        filled = (_WIDTH * self.done) // self.total
        bar = "#" * filled + "." * (_WIDTH - filled)
        failed = f", {self.failed} failed" if self.failed else ""
        left = (
            f"~{_duration(elapsed / self.done * (self.total - self.done))} left"
            if self.done
            else "time left after the first"
        )
        return (
            f"{self.label}: {self.done}/{self.total} [{bar}]{failed} "
            f"{_duration(elapsed)} elapsed, {left}"
        )


def _duration(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``1h02m``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
