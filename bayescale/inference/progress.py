"""A plain stderr progress bar for long batches of fits (no extra dependency).

On a terminal the bar is redrawn in place; in a log file or a notebook's
captured stderr it prints a line at every tenth of the work, so logs stay short.

Examples
--------
>>> import io
>>> stream = io.StringIO()
>>> bar = Progress(4, label="fits", stream=stream)
>>> for _ in range(4):
...     bar.advance()
>>> bar.close()
>>> stream.getvalue().splitlines()[-1].startswith("fits: 4/4")
True
"""

from __future__ import annotations

import sys
import time
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
        ``False`` makes every method a no-op.
    """

    def __init__(
        self, total: int, *, label: str, stream: TextIO | None = None, enabled: bool = True
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.done = 0
        self.failed = 0
        self._start = time.perf_counter()
        self._inline = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def advance(self, count: int = 1, *, failed: int = 0) -> None:
        """Record ``count`` more finished items, ``failed`` of them failed."""
        self.done += count
        self.failed += failed
        if not self.enabled:
            return
        tenth = (10 * self.done) // self.total
        if self._inline:
            self.stream.write("\r" + self._line())
        elif tenth != self._last_tenth:
            self.stream.write(self._line() + "\n")
        self._last_tenth = tenth
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self._inline:
            self.stream.write("\n")
            self.stream.flush()

    def _line(self) -> str:
        elapsed = time.perf_counter() - self._start
        filled = (_WIDTH * self.done) // self.total
        bar = "#" * filled + "." * (_WIDTH - filled)
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"{self.label}: {self.done}/{self.total} [{bar}]{failed} "
            f"{elapsed:.0f}s elapsed, ~{left:.0f}s left"
        )
