"""``bayescale examples``: the example data bundled with the package, and where it is.

``bayescale examples`` lists them; ``bayescale examples NAME`` prints one path,
for use in a shell: ``bayescale fit "$(bayescale examples scalerl_3seeds)" ...``.
"""

from __future__ import annotations

import argparse

from bayescale.cli.common import CommandError
from bayescale.data.examples import EXAMPLES, example_path

NAME = "examples"
HELP = "list the bundled example data, or print the path of one (bayescale examples NAME)"
OUTPUTS: tuple[str, ...] = ()  # writes nothing
#: Shown at the end of ``--help``; run as written by tests/test_cli_help.py.
EXAMPLE = "bayescale examples isoflop"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bayescale examples``."""
    parser.add_argument("name", nargs="?", help=f"one of: {', '.join(EXAMPLES)}")


def run(args: argparse.Namespace) -> int:
    """Print the path of one example, or a table of all; returns the exit status."""
    if args.name is not None:
        if args.name not in EXAMPLES:
            raise CommandError(f"no example {args.name!r}; the examples are: {', '.join(EXAMPLES)}")
        print(example_path(args.name))
        return 0
    width = max(map(len, EXAMPLES))
    for name, (_, what) in EXAMPLES.items():
        print(f"{name:<{width}}  {what}\n{'':<{width}}  {example_path(name)}")
    return 0
