"""The ``bayescale`` command line: a thin layer over the Python API.

Every command reads CSV or Parquet, prints a readable table, writes JSON (and
netCDF, figures or reports) into ``--out``, exits 0 on success, 2 on bad input
or options with one line on stderr, 3 when the results were written but a fit
behind them did not converge (:data:`bayescale.cli.common.NOT_CONVERGED`: not
trustworthy), and ``128 + signal`` when interrupted by SIGINT (Ctrl-C, 130),
SIGTERM (143) or SIGHUP (129), with nothing written (:mod:`bayescale._signals`,
``docs/output_guarantees.md``); it never
replaces an existing output without ``--overwrite``, takes ``--out`` for itself
while it runs, and writes its outputs atomically, all or nothing
(:mod:`bayescale.results.output`).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from bayescale import _signals
from bayescale._version import __version__
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
from bayescale.cli.terminal import escaped_output
from bayescale.data.curves import DataError
from bayescale.results.output import COMMITTED
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
    parser = _Parser(
        prog="bayescale",
        description="Bayesian inference on scaling laws.",
        epilog="example:\n  bayescale examples\n  " + fit_command.EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bayescale {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS:
        command = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            epilog=f"example:\n  {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


#: Warnings of libraries that say nothing to the user of a successful run: numpy
#: overflow in far extrapolations (the result is inf and reported as such),
#: matplotlib's missing glyphs for characters of run names its font lacks, and
#: h5netcdf's notes on the netCDF it writes.
QUIET_WARNINGS = (
    r"overflow encountered",
    r"Glyph \d+ .*missing from font",
    r"(?s).*h5netcdf",
)

#: Exit status of a command interrupted by Ctrl-C (128 + SIGINT, as shells report it);
#: SIGTERM and SIGHUP give 128 + their number.
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0, 2 on bad input, 3 when written but not
    converged, 128 + signal when interrupted by SIGINT, SIGTERM or SIGHUP)."""
    previous = _signals.install()
    COMMITTED.clear()
    try:
        with escaped_output():
            return _run(argv)
    finally:
        _signals.restore(previous)


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print(_interrupted("bayescale", ""), file=sys.stderr)
        return _signals.exit_status()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            # every command prints the fits' diagnostics itself
            warnings.simplefilter("ignore", BayescaleWarning)
            for message in QUIET_WARNINGS:
                warnings.filterwarnings("ignore", message=message)
            return args.handler(args)
    except (CommandError, DataError, ValueError, OSError) as err:
        if _signals.received():  # an error while handling the interrupt is the interrupt
            print(_interrupted(f"bayescale {args.command}", ""), file=sys.stderr)
            return _signals.exit_status()
        print(f"bayescale {args.command}: error: {_first_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        detail = "" if isinstance(err, _signals.Interrupted) else _first_line(err)
        print(_interrupted(f"bayescale {args.command}", detail), file=sys.stderr)
        return _signals.exit_status()


def _interrupted(prog: str, detail: str) -> str:
    """``prog: interrupted [by SIGTERM] [(detail)]; nothing was written`` (or, when
    the interrupt came after the outputs were committed, that they are complete)."""
    name = _signals.signal_name()
    by = "" if name == "SIGINT" else f" by {name}"
    detail = f" ({detail})" if detail.strip() and detail != "KeyboardInterrupt" else ""
    if COMMITTED:
        done = ", ".join(map(str, COMMITTED))
        return f"{prog}: interrupted{by}{detail} after its outputs in {done} were complete"
    return f"{prog}: interrupted{by}{detail}; nothing was written"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
