"""How result tables look where users read them: in a REPL, ``print`` and notebooks.

A :class:`ResultTable` is a pandas DataFrame with every column, whose display
shows the columns that answer the question first (the interval, the decision)
and names the others in one line below, instead of hiding the interval behind
pandas' ``...``. Anything computed from it (a selection, ``round``) is a plain
DataFrame again.

Examples
--------
>>> import pandas as pd
>>> table = result_table(
...     pd.DataFrame({"mean": [0.61], "r_hat": [1.0], "lower": [0.59], "upper": [0.63]},
...                  index=["A"]),
...     first=("mean", "lower", "upper"),
... )
>>> print(table)
   mean  lower  upper
A  0.61   0.59   0.63
(1 more column: r_hat; table.to_string() shows every column)
>>> type(table[["mean"]]).__name__
'DataFrame'
>>> plural(1, "run"), plural(3, "run"), plural(2, "recipe")
('1 run', '3 runs', '2 recipes')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pandas as pd

#: Rows shown before the display is cut (the summary of a fit of 50 seeds fits).
MAX_ROWS = 80


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 run"``, ``"3 runs"`` (``many`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _format(value: float) -> str:
    return f"{value:.4g}"


class ResultTable(pd.DataFrame):
    """A DataFrame displayed with its key columns first (see the module docstring)."""

    _metadata: ClassVar[list[str]] = ["display_columns"]

    @property
    def _constructor(self):
        return pd.DataFrame

    def _shown(self) -> tuple[pd.DataFrame, list[str]]:
        first = [c for c in getattr(self, "display_columns", ()) if c in self.columns]
        rest = [c for c in self.columns if c not in first]
        return pd.DataFrame(self[first or list(self.columns)]), (rest if first else [])

    def _footer(self, rest: list[str]) -> str:
        if not rest:
            return ""
        return (
            f"({plural(len(rest), 'more column')}: {', '.join(map(str, rest))}; "
            "table.to_string() shows every column)"
        )

    def __repr__(self) -> str:
        shown, rest = self._shown()
        text = shown.to_string(max_rows=MAX_ROWS, float_format=_format)
        footer = self._footer(rest)
        return f"{text}\n{footer}" if footer else text

    def _repr_html_(self) -> str:
        shown, rest = self._shown()
        table = shown.to_html(max_rows=MAX_ROWS, float_format=_format, escape=True)
        footer = self._footer(rest)
        return f"{table}<p><small>{footer}</small></p>" if footer else table


def result_table(frame: pd.DataFrame, first: Sequence[str]) -> ResultTable:
    """``frame`` as a :class:`ResultTable` that displays the columns ``first`` first."""
    table = ResultTable(frame)
    table.display_columns = tuple(first)
    return table
