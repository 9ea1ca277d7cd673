"""Sphinx extension: ``cli.md``, the command-line reference, written from the parser.

At the start of every build it renders ``bayescale --help`` and each command's
``--help`` (the same text a user sees, from :func:`bayescale.cli.build_parser`)
into ``cli.md`` beside this folder, so the reference cannot drift from the code.
The file is generated: it is not kept in git.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sphinx.application import Sphinx

from bayescale.cli import COMMANDS, build_parser

HEADER = """# Command-line reference

Generated from the argument parser at every docs build: each section is the
command's own `--help`. What every command writes, its exit status and its
guarantees are in [the command line](command_line.md).

"""


def _help(parser: argparse.ArgumentParser) -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal's width
    return parser.format_help().rstrip()


def render() -> str:
    """The Markdown text of the reference."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parts = [HEADER, "## bayescale\n", "```text", _help(parser), "```\n"]
    for module in COMMANDS:
        parts += [f"## bayescale {module.NAME}\n", module.HELP + ".\n", "```text"]
        parts += [_help(commands.choices[module.NAME]), "```\n"]
    return "\n".join(parts)


def write_reference(app: Sphinx) -> None:
    """Write ``cli.md`` into the source folder unless it is unchanged."""
    path = Path(app.srcdir) / "cli.md"
    text = render()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("builder-inited", write_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
