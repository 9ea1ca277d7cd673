"""Recipe comparison: decisions on data with known truth, the least-squares side, the CLI.

The bundled ``recipes.csv`` has four simulated recipes (``truth.json`` (``bs.load_example("truth")``)):
``baseline`` and ``baseline_repeat`` share the true A (0.61), ``better`` is 0.05
higher, ``single_seed`` has one seed and the same A as ``baseline``. All fits here
have the structure of the shared ``recipes_fit`` fixture (four recipes, ten runs),
so the model is compiled once per session.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, QUICK_CLI, QUICK_STATUS, STAT_SAMPLER

import bayescale as bs
from bayescale.analysis.recipes import (
    DECISIONS,
    check_options,
    compare_fit,
    difference_summary,
    recipe_pairs,
    rope_decision,
)
from bayescale.cli import main
from bayescale.cli.common import clean_json
from bayescale.model.laws import SIGMOID
from bayescale.studies.decision_rates import decision_rates, decision_study

RECIPES_CSV = DATA / "recipes.csv"
COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "run": "seed"}


@pytest.fixture(scope="module")
def bundled():
    """A against the baseline on the bundled recipes, with the statistical sampler."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.compare_recipes(
            RECIPES_CSV, recipe="recipe", baseline="baseline", min_x=1500, **COLUMNS, **STAT_SAMPLER
        )


@pytest.fixture(scope="module")
def recipe_truth(truth):
    return truth["recipes.csv"]["recipes"]


def _pair(result, a):
    return result.pairs.set_index("a").loc[a]


def test_equal_asymptotes_are_never_called_higher_or_lower(bundled):
    """baseline_repeat has the same true A as baseline: the rule must not pick a side,
    and the true difference 0 lies in the interval."""
    pair = _pair(bundled, "baseline_repeat")
    assert pair["decision"] in {"equivalent", "undecided"}
    assert pair["lower"] < 0 < pair["upper"]
    assert pair["p_greater"] < 0.5 and pair["p_less"] < 0.5


def test_asymptote_higher_by_005_is_called_higher(bundled):
    """better's true A is 0.05 above baseline's: decision higher, truth in the interval."""
    pair = _pair(bundled, "better")
    assert pair["decision"] == "higher"
    assert pair["lower"] > 0.02
    assert pair["lower"] < 0.05 < pair["upper"]
    assert pair["p_greater"] > 0.945  # the whole 89% interval lies above the ROPE


def test_single_seed_recipe_borrows_the_seed_spread(bundled, recipe_truth):
    """single_seed (true A 0.61, one seed) gets a finite interval containing the truth,
    wider than the three-seed recipes' (it cannot average seeds), and no side is picked;
    every recipe's interval holds the mean A of the seeds drawn for it."""
    recipes = bundled.recipes
    widths = recipes["upper"] - recipes["lower"]
    assert recipes.loc["single_seed", "lower"] < 0.61 < recipes.loc["single_seed", "upper"]
    assert widths["single_seed"] > widths.drop("single_seed").max()
    assert widths["single_seed"] < 0.1
    assert _pair(bundled, "single_seed")["decision"] in {"equivalent", "undecided"}
    for recipe, spec in recipe_truth.items():
        # the seeds actually drawn (baseline's drew low: its seed0 is 2.7 sd below 0.61)
        drawn = np.mean([run["A"] for run in spec["runs"].values()])
        low, high = recipes.loc[recipe, ["lower", "upper"]]
        assert low < drawn < high, recipe


def test_probabilities_agree_with_the_interval(bundled):
    """P(> rope) + P(inside) + P(< -rope) = 1, and each decision is backed by its probability."""
    pairs = bundled.pairs
    total = pairs["p_greater"] + pairs["p_equivalent"] + pairs["p_less"]
    np.testing.assert_allclose(total, 1.0)
    tail = (1 + bundled.ci) / 2
    for row in pairs.itertuples():
        if row.decision == "higher":
            assert row.p_greater >= tail
        if row.decision == "lower":
            assert row.p_less >= tail


def test_least_squares_side_recovers_the_seeds(bundled, recipe_truth):
    """Every seed's grid estimate of A is within 0.015 of the A drawn for that seed, and
    the per-recipe least-squares mean is the mean of the seeds."""
    per_seed = bundled.least_squares
    assert per_seed.groupby("recipe").size().to_dict() == {
        "baseline": 3,
        "baseline_repeat": 3,
        "better": 3,
        "single_seed": 1,
    }
    for row in per_seed.itertuples():
        # the seed labels already name their recipe ("baseline/seed0"): kept as they are
        assert abs(row.A - recipe_truth[row.recipe]["runs"][row.run]["A"]) < 0.015, row.run
        assert row.n_points == 49  # 50 evaluations, the one below 1.5k GPU-hours excluded
    means = per_seed.groupby("recipe")["A"].mean()
    np.testing.assert_allclose(bundled.recipes.loc[means.index, "ls_mean"], means)
    ls_better = _pair(bundled, "better")
    assert ls_better["ls_difference"] == pytest.approx(means["better"] - means["baseline"])
    assert ls_better["ls_decision"] == "higher"


def test_result_serialises_and_displays(bundled):
    """to_dict holds the compare.json contract and survives JSON; the HTML shows the table."""
    payload = json.loads(json.dumps(clean_json(bundled.to_dict())))
    assert payload["rope"] == 0.02 and payload["parameter"] == "A"
    keys = {"a", "b", "mean", "lower", "upper", "p_greater", "p_equivalent", "p_less", "decision"}
    assert all(keys <= set(pair) for pair in payload["pairs"])
    seeds = payload["least_squares"]["baseline"]["seeds"]
    assert len(seeds) == 3 and {"A", "B", "C_mid"} <= set(seeds[0])
    assert payload["least_squares"]["better"]["A"]["mean"] > 0.64
    page = bundled._repr_html_()
    assert "<table" in page and "better" in page and "higher" in page
    assert "better vs baseline: higher" in repr(bundled)


def test_b_differences_contain_the_truth(bundled, recipe_truth):
    """Comparing B reuses the fit (no sampling); each true difference of B lies in its interval."""
    result = compare_fit(bundled.fit, parameter="B", baseline="baseline")
    assert result.rope == 0.1
    true_b = {name: spec["params"]["B"] for name, spec in recipe_truth.items()}
    for row in result.pairs.itertuples():
        assert row.lower < true_b[row.a] - true_b[row.b] < row.upper, row.a


def test_compute_ratio_to_reach_a_target(bundled, recipe_truth):
    """log(C_a / C_b) to reach 0.58 (reached in nearly every draw): better, 0.05 higher in A,
    needs less compute (true log ratio -0.35): lower; the equal pair picks no side."""
    result = compare_fit(bundled.fit, parameter="compute", target=0.58, baseline="baseline")
    assert result.rope == pytest.approx(math.log(1.1))
    params = {name: spec["params"] for name, spec in recipe_truth.items()}
    true_log_c = {name: math.log(SIGMOID.inverse(p, 0.58)[0]) for name, p in params.items()}
    assert true_log_c["better"] - true_log_c["baseline"] == pytest.approx(-0.349, abs=0.001)
    assert (result.pairs["p_defined"] > 0.99).all()
    assert _pair(result, "better")["decision"] == "lower"
    assert _pair(result, "baseline_repeat")["decision"] in {"equivalent", "undecided"}


def test_unreachable_target_counts_as_infinite_compute(bundled):
    """0.64 lies above the true A of baseline (0.61) and below better's (0.66): better
    needs less compute (lower), as nearly every posterior draw of baseline never gets there."""
    result = compare_fit(bundled.fit, parameter="compute", target=0.64, baseline="baseline")
    pair = _pair(result, "better")
    assert pair["decision"] == "lower"
    assert pair["p_less"] > 0.95
    assert pair["upper"] == -np.inf


def test_all_pairs_in_recipe_order(recipes_fit):
    """Without a baseline every pair appears once, Delta = earlier - later recipe."""
    result = bs.compare_recipes(recipes_fit)
    assert list(zip(result.pairs["a"], result.pairs["b"], strict=True)) == recipe_pairs(
        recipes_fit.recipes, None
    )
    assert len(result.pairs) == 6
    assert any("first fitted evaluation" in note for note in result.notes)


def test_rope_rule_words():
    """The four words of the interval-and-ROPE rule, including the edges."""
    assert rope_decision(0.021, 0.1, 0.02) == "higher"
    assert rope_decision(-0.1, -0.021, 0.02) == "lower"
    assert rope_decision(-0.02, 0.02, 0.02) == "equivalent"
    assert rope_decision(0.02, 0.1, 0.02) == "undecided"
    assert rope_decision(float("nan"), float("nan"), 0.02) == "undecided"
    assert set(DECISIONS) == {"higher", "lower", "equivalent", "undecided"}


def test_difference_summary_drops_undefined_draws():
    """NaN draws (neither recipe reaches the target) are dropped and counted in p_defined."""
    draws = np.array([np.nan, np.inf, 0.5, 0.6, 0.7, np.inf, np.nan, 0.4])
    out = difference_summary(draws, 0.1, 0.5)
    assert out["p_defined"] == 0.75
    assert out["p_greater"] == 1.0 and out["decision"] == "higher"
    assert difference_summary(np.full(4, np.nan), 0.1, 0.5)["decision"] == "undecided"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline": "nope"}, "baseline 'nope' is not a recipe"),
        ({"parameter": "compute"}, "needs a target"),
        ({"parameter": "D"}, "not one of A, B, C_mid, R0"),
        ({"parameter": "B", "shared": ("B",)}, "shared by all recipes"),
        ({"parameter": "C_mid"}, "give a rope"),
        ({"rope": -1.0}, "rope must be"),
        ({"ci": 1.5}, "ci must lie"),
    ],
)
def test_bad_options_fail_before_sampling(kwargs, message):
    """Each bad option is one ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        check_options(["x", "y"], "sigmoid", **kwargs)


def test_one_recipe_or_fit_options_with_a_fit_are_refused(recipes_fit):
    """Nothing to compare with one recipe; sampler options make no sense for a Fit."""
    table = pd.read_csv(RECIPES_CSV)
    with pytest.raises(ValueError, match="at least two recipes"):
        bs.compare_recipes(table[table["recipe"] == "better"], recipe="recipe", **COLUMNS)
    with pytest.raises(ValueError, match="fit options apply to a table"):
        bs.compare_recipes(recipes_fit, draws=10)


CLI_ARGS = [
    "compare",
    str(RECIPES_CSV),
    "--recipe",
    "recipe",
    "--x",
    "gpu_hours",
    "--y",
    "pass_rate",
    "--run",
    "seed",
    "--min-x",
    "1500",
    "--baseline",
    "baseline",
    *QUICK_CLI,
]


def test_cli_writes_compare_json_and_a_table(tmp_path, capsys):
    """Exit 3 (quick settings: not converged), compare.json with the contract keys, the
    decisions printed; no silent overwrite."""
    out = tmp_path / "cmp"
    assert main([*CLI_ARGS, "--out", str(out)]) == QUICK_STATUS
    printed = capsys.readouterr().out
    assert "better" in printed and "higher" in printed and "ls_mean" in printed
    payload = json.loads((out / "compare.json").read_text())
    assert {"rope", "parameter", "pairs", "least_squares"} <= set(payload)
    decisions = {pair["a"]: pair["decision"] for pair in payload["pairs"]}
    assert decisions["better"] == "higher"
    assert decisions["baseline_repeat"] in {"equivalent", "undecided"}
    assert set(payload["least_squares"]) == {"baseline", "baseline_repeat", "better", "single_seed"}
    before = (out / "compare.json").read_text()
    assert main([*CLI_ARGS, "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "compare.json").read_text() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--baseline", "nope"), "baseline 'nope' is not a recipe"),
        (("--recipe", "missing"), "missing column 'missing'"),
        (("--parameter", "compute"), "needs a target"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, change, message):
    """Bad input: exit 2, one line on stderr naming the problem, nothing written."""
    args = list(CLI_ARGS)
    flag, value = change
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    assert main([*args, "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad" / "compare.json").exists()


def test_small_simulation_study():
    """Four replicated data sets (warm model): the equal pairs (eight comparisons) are
    never called higher or lower, the +0.05 pair never lower, and its posterior mean
    difference averages to the truth within 0.02."""
    table = decision_study(4, seed=100)
    rates = decision_rates(table)
    assert rates.loc[["same", "single"], ["higher", "lower"]].to_numpy().max() == 0.0
    assert rates.loc["better", "lower"] == 0.0
    better = table[table["recipe"] == "better"]
    assert abs(better["mean"].mean() - 0.05) < 0.02


@pytest.mark.slow
def test_simulation_study_error_rates():
    """200 replicated data sets: with a true difference of 0 the rule says higher/lower
    at most 5% of the time (three seeds each, and one seed vs three); with +0.05 and three
    seeds each it says higher at least 60% of the time (run: pytest -m slow)."""
    rates = decision_rates(decision_study(200, seed=1000))
    assert rates.loc["same", ["higher", "lower"]].sum() <= 0.05
    assert rates.loc["single", ["higher", "lower"]].sum() <= 0.05
    assert rates.loc["better", "higher"] >= 0.6
