"""The uncertainty report: sections, embedded figures, escaping, Markdown twin and CLI."""

from __future__ import annotations

import base64
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from conftest import (
    CHINCHILLA_CLI,
    CHINCHILLA_CSV,
    DATA,
    QUICK_CLI,
    QUICK_SAMPLER,
    QUICK_STATUS,
    needs_chinchilla,
)

import bayescale as bs
from bayescale.cli import main
from bayescale.reporting.report import build_report

SECTIONS = [
    "Data",
    "Law and priors",
    "Parameters",
    "Predictions",
    "Diagnostics",
    "Settings and reproducibility",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EMBEDDED = re.compile(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
HOSTILE = "<script>alert(1)</script>|*_"


@pytest.fixture(scope="module")
def recipes_report(recipes_fit):
    return build_report(recipes_fit, targets=[0.6])


def _headings(text: str, pattern: str) -> list[str]:
    return re.findall(pattern, text, flags=re.MULTILINE)


def test_multi_recipe_report_has_every_section_and_the_decisions(recipes_report, recipes_fit):
    titles = [section.title for section in recipes_report.sections]
    assert titles == [*SECTIONS[:4], "Comparisons and decisions", *SECTIONS[4:]]
    html_text = recipes_report.to_html()
    # the true A of 'better' is 0.05 above 'baseline': the pair row says so
    comparison = next(s for s in recipes_report.sections if s.title.startswith("Comparisons"))
    pairs = next(b for b in comparison.blocks if hasattr(b, "frame")).frame
    row = pairs[(pairs["a"] == "baseline") & (pairs["b"] == "better")].iloc[0]
    assert row["decision"] == "lower"
    assert "excluded 10 of 500 rows with gpu_hours &lt; 1500" in html_text
    assert f"bayescale {bs.__version__}" in html_text
    for recipe in recipes_fit.recipes:
        assert recipe in html_text


def test_html_is_self_contained_with_every_figure_a_valid_png(recipes_report):
    html_text = recipes_report.to_html()
    embedded = EMBEDDED.findall(html_text)
    assert [name for name, _ in embedded] == [image.name for image in recipes_report.images]
    assert {"forest", "fit", "recipes", "differences", "rank"} <= {name for name, _ in embedded}
    for _, data in embedded:
        assert base64.b64decode(data).startswith(PNG_MAGIC)
    assert not re.search(r"(src|href)=\"(https?:|//)", html_text)  # nothing fetched
    assert "<script" not in html_text


def test_markdown_has_the_same_sections_and_references_the_written_pngs(recipes_report, tmp_path):
    paths = recipes_report.write(tmp_path)
    markdown = paths["report.md"].read_text()
    html_text = paths["report.html"].read_text()
    assert _headings(markdown, r"^## (.+)$") == _headings(html_text, r"<h2>(.+?)</h2>")
    linked = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", markdown)
    assert len(linked) == len(recipes_report.images)
    for link in linked:
        assert (tmp_path / link).read_bytes().startswith(PNG_MAGIC)


def test_user_provided_names_are_escaped(scalerl_fit):
    frame = pd.read_csv(DATA / "scalerl_3seeds.csv")
    frame["seed"] = HOSTILE + frame["seed"]
    frame = frame.rename(columns={"pass_rate": "rate<i>"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hostile = bs.fit(
            frame[~frame["held_out"]], x="gpu_hours", y="rate<i>", run="seed", **QUICK_SAMPLER
        )
    report = build_report(hostile)
    html_text = report.to_html()
    assert "<script>" not in html_text and "<i>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "rate&lt;i&gt;" in html_text
    markdown = report.to_markdown()
    assert "<script>" not in markdown
    # a pipe in a name would split a Markdown table cell; it is escaped
    assert "&lt;/script&gt;\\|\\*\\_seed0" in markdown


def test_cli_reports_the_bundled_data_with_held_out_points(tmp_path, capsys):
    out = tmp_path / "report"
    args = [
        "report",
        str(DATA / "scalerl_3seeds.csv"),
        "--x",
        "gpu_hours",
        "--y",
        "pass_rate",
        "--run",
        "seed",
        "--min-x",
        "1500",
        "--max-x",
        "50000",
        "--target",
        "0.6",
        *QUICK_CLI,
        "--out",
        str(out),
    ]
    assert main(args) == QUICK_STATUS
    html_text = (out / "report.html").read_text()
    assert len(EMBEDDED.findall(html_text)) == 3  # forest, fit, rank
    assert "black crosses: held-out points" in html_text
    assert "Compute to reach each target" in html_text
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "fit.png",
        "forest.png",
        "rank.png",
    ]
    assert "wrote" in capsys.readouterr().out
    # a second run refuses to replace the report
    assert main(args) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err


def test_cli_reports_a_saved_fit_without_refitting(recipes_fit, tmp_path, capsys):
    recipes_fit.save(tmp_path / "fit.nc")
    out = tmp_path / "from"
    code = main(
        ["report", "--from", str(tmp_path / "fit.nc"), "--baseline", "baseline", "--out", str(out)]
    )
    assert code == QUICK_STATUS
    html_text = (out / "report.html").read_text()
    assert "Comparisons and decisions" in html_text
    rows = re.findall(r"<tr>(.*?)</tr>", html_text, flags=re.DOTALL)
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in rows]
    decisions = {(c[0], c[1]): c[10] for c in cells if len(c) == 13}  # the pairs table
    # baseline given: every recipe against it; 'better' has a true A 0.05 higher
    assert decisions[("better", "baseline")] == "higher"
    assert set(decisions) == {(r, "baseline") for r in ("baseline_repeat", "better", "single_seed")}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--out", "x"], "give DATA with --y"),
        (["report", "--from", "fit.nc", "--y", "r", "--out", "x"], "drop --y"),
        (["report", "--from", "missing.nc", "--out", "x"], "missing.nc: no such file"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@needs_chinchilla
def test_cli_reports_a_chinchilla_fit_from_a_compute_column(tmp_path):
    out = tmp_path / "chinchilla"
    args = [
        "report",
        str(CHINCHILLA_CSV),
        *CHINCHILLA_CLI,
        "--budget",
        "5.88e23",
        *QUICK_CLI,
        "--out",
        str(out),
    ]
    assert main(args) == QUICK_STATUS
    html_text = (out / "report.html").read_text()
    # tokens come from the compute column: the data table names the role
    assert "Model Size min" in html_text and "d max" in html_text
    assert "Compute-optimal allocation" in html_text
    assert [name for name, _ in EMBEDDED.findall(html_text)] == ["forest", "chinchilla", "rank"]
