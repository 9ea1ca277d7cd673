"""The ``bayescale`` command line: a thin layer over the Python API.

Every command reads CSV or Parquet, prints a readable table, writes JSON (and
netCDF, figures or reports) into ``--out``, exits 0 on success, 2 on bad input
or options with one line on stderr, and 130 when interrupted (Ctrl-C); it never
replaces an existing output without ``--overwrite``, takes ``--out`` for itself
while it runs, and writes its outputs atomically, all or nothing
(:mod:`bayescale.results.output`).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from bayescale import __version__
from bayescale.cli import (
    backtest_command,
    compare_command,
    compare_laws_command,
    examples_command,
    fit_command,
    isoflop_command,
    next_run_command,
    plan_command,
    report_command,
    sizes_command,
    task_command,
    windows_command,
)
from bayescale.cli.common import CommandError
from bayescale.data.curves import DataError
from bayescale.user_warnings import BayescaleWarning

#: Modules defining a command: each has ``NAME``, ``HELP``, ``add_arguments(parser)``
#: and ``run(args) -> int``.
COMMANDS = [
    fit_command,
    compare_command,
    backtest_command,
    windows_command,
    compare_laws_command,
    report_command,
    sizes_command,
    examples_command,
    isoflop_command,
    next_run_command,
    plan_command,
    task_command,
]


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-command per module in :data:`COMMANDS`."""
    parser = _Parser(prog="bayescale", description="Bayesian inference on scaling laws.")
    parser.add_argument("--version", action="version", version=f"bayescale {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS:
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


#: Exit status of an interrupted command (128 + SIGINT, as shells report it).
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0, 2 on bad input, 130 when interrupted)."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            # every command prints the fits' diagnostics itself
            warnings.simplefilter("ignore", BayescaleWarning)
            return args.handler(args)
    except (CommandError, DataError, ValueError, OSError) as err:
        print(f"bayescale {args.command}: error: {_first_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        detail = f" ({_first_line(err)})" if str(err).strip() else ""
        print(
            f"bayescale {args.command}: interrupted{detail}; nothing was written", file=sys.stderr
        )
        return INTERRUPTED


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
