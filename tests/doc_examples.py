"""Run the examples of a Markdown page as written: its Python blocks and its CLI lines.

Shared by tests/test_readme.py and tests/test_docs_examples.py.

- Python blocks are the fenced blocks whose language is ``python``; a block whose first
  line is ``# not run`` (it needs a cluster or a download) is skipped. A page's blocks
  run in order in one namespace, as a reader would paste them into one session.
- CLI lines are the lines of ``bash`` blocks that start with ``bayescale`` (a trailing
  ``\\`` continues a line). ``"$(bayescale examples NAME)"`` is replaced by the path the
  command would print, and the line runs through :func:`bayescale.cli.main` in this
  process, so its exit status is the command's.
- :func:`quick_sampling` caps the draws and tuning steps of every fit: the examples
  are checked for running, not for their numbers (those are measured on
  docs/benchmarks.md and in the statistical tests).
"""

from __future__ import annotations

import functools
import importlib
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Draws and tuning steps per chain of every fit an example makes.
QUICK = 150

_FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, text and first line in the file."""

    language: str
    text: str
    line: int


def code_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    blocks, language, lines, start = [], None, [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(line)
        if language is None and match:
            language, lines, start = match.group(1), [], number + 1
        elif language is not None and line.rstrip() == "```":
            blocks.append(Block(language, "\n".join(lines) + "\n", start))
            language = None
        elif language is not None:
            lines.append(line)
    return blocks


def python_blocks(path: Path) -> list[Block]:
    """The ``python`` blocks that are meant to run."""
    return [
        b
        for b in code_blocks(path)
        if b.language == "python" and not b.text.lstrip().startswith("# not run")
    ]


def command_lines(path: Path) -> list[str]:
    """The ``bayescale ...`` lines of the ``bash`` blocks, continuations joined."""
    commands = []
    for block in code_blocks(path):
        if block.language != "bash":
            continue
        joined = block.text.replace("\\\n", " ")
        commands += [line.strip() for line in joined.splitlines() if line.startswith("bayescale")]
    return commands


def expand(line: str) -> list[str]:
    """The words of a CLI line, ``$(bayescale examples NAME)`` replaced by its path."""
    from bayescale.data.examples import EXAMPLES, example_path

    for name in EXAMPLES:
        line = line.replace(f'"$(bayescale examples {name})"', shlex.quote(str(example_path(name))))
    words = shlex.split(line.split(" #", 1)[0])
    assert words[0] == "bayescale", line
    return words[1:]


def run_python(blocks: list[Block], path: Path) -> dict[str, Any]:
    """Execute ``blocks`` in order in one namespace; a failure names the block's line."""
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for block in blocks:
        code = compile(block.text, f"{path.name}:{block.line}", "exec")
        try:
            exec(code, namespace)
        except Exception as err:
            pytest.fail(f"{path.name}, block at line {block.line}: {type(err).__name__}: {err}")
    return namespace


def run_command(line: str) -> int:
    """Run one CLI line in this process; returns its exit status."""
    from bayescale.cli import main

    return main(expand(line))


def _capped(settings: Any) -> Any:
    return replace(settings, draws=min(settings.draws, QUICK), tune=min(settings.tune, QUICK))


def _replace_everywhere(patch: pytest.MonkeyPatch, original: Callable, new: Callable) -> None:
    """Point every loaded ``bayescale`` module's name for ``original`` at ``new``."""
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != "bayescale" or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if value is original:
                patch.setattr(module, attribute, new)


def quick_sampling(patch: pytest.MonkeyPatch) -> None:
    """Cap the draws and tuning steps of every fit (see the module docstring)."""
    for module in (
        "bayescale.cli",
        "bayescale.analysis.isoflop",
        "bayescale.analysis.next_run",
        "bayescale.analysis.sizes",
        "bayescale.inference.fitting",
    ):
        importlib.import_module(module)
    from bayescale.analysis import isoflop
    from bayescale.inference import sampler_settings

    checked = sampler_settings.checked_settings
    _replace_everywhere(patch, checked, lambda settings: checked(_capped(settings)))

    fit_isoflop = isoflop.fit_isoflop

    @functools.wraps(fit_isoflop)
    def quick_isoflop(*args: Any, **kwargs: Any) -> Any:
        for key in ("draws", "tune"):
            kwargs[key] = min(kwargs.get(key, QUICK), QUICK)
        return fit_isoflop(*args, **kwargs)

    _replace_everywhere(patch, fit_isoflop, quick_isoflop)
