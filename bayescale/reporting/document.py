"""The report's document: sections of paragraphs, tables, figures and lists,
rendered once and written as one self-contained HTML page and as Markdown.

Every user-provided text is escaped (HTML) or made inert (Markdown: no live
links, images or math). The section builders (:mod:`bayescale.reporting.report`,
:mod:`bayescale.reporting.plan_report`) fill these blocks; nothing here reads a fit.

Examples
--------
>>> import pandas as pd
>>> page = Report("demo", [Section("Numbers", ["one table:", Table(pd.DataFrame({"a": [1.23456]}))])])
>>> "<td>1.235</td>" in page.to_html()
True
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescale.results.output import OutputFolder

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_DIR = "figures"
OUTPUTS = ("report.html", "report.md", FIGURE_DIR)
DPI = 100


@dataclass(frozen=True)
class Table:
    """A table block: a DataFrame shown with 4 significant digits."""

    frame: pd.DataFrame
    index: bool = False


@dataclass(frozen=True)
class Image:
    """A figure block, rendered once to PNG bytes."""

    name: str
    png: bytes
    caption: str


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: list[str]


Block = str | Table | Image | Items


@dataclass
class Section:
    """A titled section: paragraphs (plain strings), tables, figures and lists."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    """A rendered-once report, writable as HTML and Markdown.

    Attributes
    ----------
    title : str
    sections : list of Section

    Examples
    --------
    >>> report = build_report(fit)  # doctest: +SKIP
    >>> report.write("out/")  # doctest: +SKIP
    """

    title: str
    sections: list[Section]

    @property
    def images(self) -> list[Image]:
        """Every figure of the report, in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]

    def to_html(self) -> str:
        """One self-contained HTML page (figures embedded as base64 PNG)."""
        body = [f"<h1>{_esc(self.title)}</h1>"]
        for section in self.sections:
            body.append(f"<h2>{_esc(section.title)}</h2>")
            body += [_html_block(block) for block in section.blocks]
        return HTML_PAGE.format(title=_esc(self.title), body="\n".join(body))

    def to_markdown(self, figure_dir: str = FIGURE_DIR) -> str:
        """Markdown text; figures are referenced as ``figure_dir/<name>.png``."""
        lines = [f"# {_esc(self.title)}", ""]
        for section in self.sections:
            lines += [f"## {_esc(section.title)}", ""]
            for block in section.blocks:
                lines += [_markdown_block(block, figure_dir), ""]
        return "\n".join(lines)

    def write(self, folder: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
        """Write ``report.html``, ``report.md`` and ``figures/*.png`` into ``folder``.

        The folder is taken exclusively and every file appears only when all of
        them are written (:class:`bayescale.results.output.OutputFolder`); existing
        reports are replaced only with ``overwrite=True``.

        Returns
        -------
        dict
            ``report.html``, ``report.md`` and ``figures`` -> paths.

        Raises
        ------
        bayescale.results.output.OutputError
            If an output exists and ``overwrite`` is false, or the folder cannot
            be written or is in use by another run.
        """
        with OutputFolder(folder, OUTPUTS, overwrite=overwrite) as out:
            self.stage(out)
        return dict(out.paths)

    def stage(self, out: OutputFolder) -> None:
        """Stage the report's files in an open output folder (they appear at its commit)."""
        for image in self.images:
            out.stage_bytes(f"{FIGURE_DIR}/{image.name}.png", image.png)
        out.stage_text("report.html", self.to_html())
        out.stage_text("report.md", self.to_markdown())


HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 70em; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }}
th {{ background: #f3f3f3; }}
figure {{ margin: 1em 0; }}
figure img {{ max-width: 100%; }}
figcaption {{ font-size: 0.85em; color: #555; }}
code {{ background: #f3f3f3; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.4g}"
    return str(value)


def _formatted(table: Table) -> pd.DataFrame:
    frame = table.frame.reset_index() if table.index else table.frame
    return frame.map(_cell).rename(columns=str)


def _html_block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{_esc(block)}</p>"
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{_esc(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _formatted(block).to_html(index=False, escape=True, border=0)
    data = base64.b64encode(block.png).decode("ascii")
    return (
        f'<figure><img alt="{_esc(block.name)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_esc(block.caption)}</figcaption></figure>"
    )


def _md(text: Any) -> str:
    """Markdown-safe text on one line (a newline would end a table row); ``$``
    escaped, since many renderers read ``$...$`` as math, and ``[`` and ``]``, so a
    name like ``[text](url)`` is never a live link or image."""
    one_line = " ".join(str(text).splitlines())
    escaped = html.escape(one_line, quote=False).replace("\\", "\\\\")
    for mark in "|*_`$[]":
        escaped = escaped.replace(mark, "\\" + mark)
    return escaped


def _markdown_block(block: Block, figure_dir: str) -> str:
    if isinstance(block, str):
        return _md(block)
    if isinstance(block, Items):
        return "\n".join(f"- {_md(item)}" for item in block.items)
    if isinstance(block, Table):
        frame = _formatted(block)
        rows = [
            "| " + " | ".join(_md(c) for c in frame.columns) + " |",
            "|" + "---|" * len(frame.columns),
        ]
        rows += ["| " + " | ".join(_md(v) for v in row) + " |" for row in frame.to_numpy()]
        return "\n".join(rows)
    return f"![{_md(block.caption)}]({figure_dir}/{block.name}.png)\n\n*{_md(block.caption)}*"


def figure_image(name: str, figure: Figure, caption: str) -> Image:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return Image(name=name, png=buffer.getvalue(), caption=caption)
