"""What the CLI prints is text a terminal shows as written.

Run and recipe names come from the user's files: a NUL, an ANSI escape
sequence (which can recolour, move the cursor or retitle the terminal) or
another control character in one of them is printed escaped (``\\x1b``), so the
table on screen is the table in the file. Newlines and tabs are kept. The JSON
outputs keep the names exactly (JSON escapes control characters itself).

Examples
--------
>>> import io
>>> buffer = io.StringIO()
>>> _ = EscapingStream(buffer).write("run\\x1b[31m\\x00 ok\\n")
>>> buffer.getvalue()
'run\\\\x1b[31m\\\\x00 ok\\n'
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

#: C0 controls except tab and newline, DEL, and the C1 controls.
_CONTROL = [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]
_ESCAPES = {code: f"\\x{code:02x}" for code in _CONTROL}


def escape_controls(text: str) -> str:
    """``text`` with control characters (not newline or tab) written as ``\\xNN``."""
    return text.translate(_ESCAPES)


class EscapingStream:
    """A text stream that writes to ``stream`` with :func:`escape_controls` applied."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(escape_controls(text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


@contextlib.contextmanager
def escaped_output() -> Iterator[None]:
    """Escape control characters in everything printed to stdout and stderr."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(out), EscapingStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
