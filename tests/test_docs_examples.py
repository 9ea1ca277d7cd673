"""Every Python example of the docs pages runs as written (tests/doc_examples.py).

One test per page: its blocks run in order in one namespace, in a fresh folder,
with few draws. The CLI lines of the pages are parsed here (the README's run in
tests/test_readme.py, and every command's own example in tests/test_cli_help.py);
running them all would repeat the same fits at the cost of minutes.
"""

from __future__ import annotations

import pytest
from doc_examples import ROOT, command_lines, expand, python_blocks, quick_sampling, run_python

from bayescale.cli import build_parser

PAGES = sorted((ROOT / "docs").glob("*.md"))


#: Pages whose examples take minutes (planning simulations, fits across sizes): their
#: examples run with the slow statistical tests (``pytest -m slow``).
SLOW_PAGES = ("planning.md", "sizes.md")
#: Pages whose examples read files a test writes first (tests/test_trackers.py runs them).
OWN_TEST_PAGES = ("reading_curves.md",)


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW_PAGES else p
        for p in PAGES
        if python_blocks(p) and p.name not in OWN_TEST_PAGES
    ],
    ids=lambda p: p.name,
)
def test_python_examples_of_the_page_run_in_order(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quick_sampling(monkeypatch)
    run_python(python_blocks(page), page)


@pytest.mark.parametrize("page", [p for p in PAGES if command_lines(p)], ids=lambda p: p.name)
def test_cli_examples_of_the_page_parse(page):
    for line in command_lines(page):
        args = build_parser().parse_args(expand(line))
        assert args.command
