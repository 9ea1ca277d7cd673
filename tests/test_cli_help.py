"""Every command's ``--help`` lists the choices and ends with one example that parses.

The examples themselves run in tests/test_readme.py (those the README shows) and
tests/test_docs_examples.py; here each one is parsed, so an option renamed in a
command cannot leave its help example behind.
"""

from __future__ import annotations

import shlex

import pytest

from bayescale.cli import COMMANDS, build_parser
from bayescale.data.examples import EXAMPLES, example_path
from bayescale.model.laws import available_laws
from bayescale.model.likelihoods.registry import available_likelihoods


def expand(line: str) -> list[str]:
    """The words of a shell line, with ``$(bayescale examples NAME)`` replaced by the path."""
    for name in EXAMPLES:
        line = line.replace(f'"$(bayescale examples {name})"', shlex.quote(str(example_path(name))))
    return shlex.split(line)


@pytest.mark.parametrize("module", COMMANDS, ids=lambda m: m.NAME)
def test_help_ends_with_an_example_of_this_command_that_parses(module, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([module.NAME, "--help"])
    text = capsys.readouterr().out.rstrip()
    assert text.endswith(module.EXAMPLE)
    words = expand(module.EXAMPLE)
    assert words[:2] == ["bayescale", module.NAME]
    args = build_parser().parse_args(words[1:])
    assert args.command == module.NAME


def test_help_of_fit_lists_every_law_and_likelihood(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in [*available_laws(), *available_likelihoods()]:
        assert name in text
