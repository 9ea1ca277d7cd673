"""Result tables read well where users look: the interval and the decision come first.

A REPL shows ``repr``; pandas would hide the middle columns of a 14-column summary
behind ``...`` (the interval among them). These tests check what is displayed.
"""

from __future__ import annotations

import pandas as pd
import pytest

import bayescale as bs
from bayescale.results.display import ResultTable


@pytest.fixture(scope="module")
def comparison(recipes_fit):
    return bs.compare_recipes(recipes_fit, baseline="baseline")


def _header(text: str) -> list[str]:
    return text.splitlines()[0].split()


def test_summary_shows_the_interval_first_and_names_the_rest(recipes_fit):
    with pd.option_context("display.width", 80, "display.max_columns", 10):
        text = repr(recipes_fit.summary())
    assert _header(text)[:3] == ["mean", "lower", "upper"]
    assert "..." not in text
    assert "more columns: median, ess_tail, name, coordinate" in text
    assert "<th>lower</th>" in recipes_fit.summary()._repr_html_()


def test_summary_is_a_dataframe_with_every_column(recipes_fit):
    table = recipes_fit.summary()
    assert isinstance(table, ResultTable) and isinstance(table, pd.DataFrame)
    assert {"median", "ess_tail", "name", "coordinate"} <= set(table.columns)
    assert type(table[["mean"]]) is pd.DataFrame  # derived tables are plain again


def test_comparison_pairs_show_the_decision_before_the_numbers(comparison):
    assert _header(repr(comparison.pairs))[:6] == ["a", "b", "decision", "mean", "lower", "upper"]
    text = repr(comparison)
    assert text.startswith("<bayescale.Comparison of A, ROPE +/-0.02")
    assert "better vs baseline" in text and "decision" in text.splitlines()[1]


def test_fit_repr_is_the_recipe_level_table_with_singular_and_plural(scalerl_fit):
    text = repr(scalerl_fit)
    assert "147 points, 3 runs, 1 recipe;" in text
    assert _header(text.splitlines()[1])[:3] == ["mean", "lower", "upper"]
    assert "1 recipes" not in text
