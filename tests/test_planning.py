"""Planning the next runs: future data, the preposterior plan, the CLI and the report hook.

Plumbing tests reuse the session's ``recipes_fit`` (the bundled four recipes, quick
sampler) and plan with a handful of tiny refits; the future-data tests check
exact properties on hand-made posterior draws. The calibration study is slow
(``-m slow``).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, QUICK_CLI, QUICK_STATUS, fit_bundled_recipes

from bayescale.analysis.future_data import Draw, evaluation_grid, future_frame, with_future
from bayescale.analysis.planning import (
    OPTION_COLUMNS,
    PlanOption,
    candidate_options,
    extra_compute,
    plan,
    sims_for,
    start_point,
    stop_probability,
)
from bayescale.cli import main
from bayescale.inference.sampling import (
    SamplerSettings,
    compiled_model,
    sample_draws,
    sample_posterior,
)
from bayescale.model.build import model_arrays
from bayescale.studies.planning_study import calibration_table, planning_study, stopping_table

TINY = SamplerSettings(draws=60, tune=60, chains=1, cores=1, target_accept=0.9)


def _draw(fit, *, sigma=0.0, drift_sd=0.0, corr=0.5, spread=0.0) -> Draw:
    """A hand-made draw: the first posterior draw's curve parameters, chosen noise."""
    first = Draw.of(fit, 0)
    noise = {"sigma": sigma, "drift_sd": drift_sd, "drift_corr": corr}
    return Draw(first.recipe, first.run, dict.fromkeys(first.spread, spread), noise)


def test_new_seeds_without_spread_or_noise_lie_on_the_recipe_curve(recipes_fit):
    """With zero seed spread and zero noise a new seed is the recipe's curve, on the
    recipe's evaluation grid continued to extend_to."""
    draw = _draw(recipes_fit, corr=0.5)
    rng = np.random.default_rng(0)
    frame = future_frame(recipes_fit, draw, "better", add_seeds=2, extend_to=60_000, rng=rng)
    new = frame[frame["run"].str.contains("/new")]
    assert sorted(new["run"].unique()) == ["better/new0", "better/new1"]
    grid = evaluation_grid(recipes_fit.data, "better", 60_000)
    assert np.allclose(new.loc[new["run"] == "better/new0", "x"], grid)
    curve = recipes_fit.law.curve({"x": np.log(grid)}, draw.recipe["better"])
    assert np.allclose(new.loc[new["run"] == "better/new1", "y"], curve)


def test_new_seed_asymptotes_spread_by_the_fitted_seed_spread(recipes_fit):
    """New seeds' A deviations have the draw's sigma_A: over 400 seeds without noise
    the sd of (y - recipe curve) at the last point is within 15 % of 0.02."""
    draw = _draw(recipes_fit, spread=0.02)
    rng = np.random.default_rng(1)
    frame = future_frame(recipes_fit, draw, "better", add_seeds=400, extend_to=None, rng=rng)
    last = frame[frame["x"] == frame["x"].max()]
    curve = recipes_fit.law.curve({"x": np.log(last["x"].to_numpy())}, draw.recipe["better"])
    deviation = last["y"].to_numpy() - curve
    # the sigmoid at 50k GPU-hours is ~97 % of its way to A, so A moves y almost 1:1
    assert abs(deviation.std() / 0.02 - 0.97) < 0.15


def test_extension_continues_each_run_from_its_own_drift(recipes_fit):
    """Without measurement noise the filtered drift is the last residual; with
    drift_corr 0.99 the first continued point starts from it (innovation sd
    drift_sd * sqrt(1 - 0.99**2) = 0.0014)."""
    draw = _draw(recipes_fit, sigma=1e-6, drift_sd=0.01, corr=0.99)
    rng = np.random.default_rng(2)
    frame = future_frame(recipes_fit, draw, "baseline", add_seeds=0, extend_to=54_000, rng=rng)
    data = recipes_fit.data.frame
    for run, rows in frame.groupby("run"):
        seen = data[data["run"] == run].sort_values("x")
        params = draw.run[run]
        last_residual = (
            seen["y"].iloc[-1]
            - recipes_fit.law.curve({"x": np.log(seen["x"].iloc[-1:].to_numpy())}, params)[0]
        )
        first = rows.sort_values("x").iloc[0]
        residual = first["y"] - recipes_fit.law.curve({"x": np.log([first["x"]])}, params)[0]
        assert abs(residual - 0.99 * last_residual) < 0.006
    assert set(frame["run"]) == {r for r in recipes_fit.runs if r.startswith("baseline/")}


def test_with_future_keeps_recipe_order_and_runs_contiguous(recipes_fit):
    draw = Draw.of(recipes_fit, 3)
    rng = np.random.default_rng(3)
    frame = future_frame(recipes_fit, draw, "single_seed", add_seeds=1, extend_to=52_000, rng=rng)
    grown = with_future(recipes_fit.data, frame)
    assert grown.recipes == recipes_fit.recipes
    assert len(grown.runs) == len(recipes_fit.runs) + 1
    runs = grown.frame["run"].to_numpy()
    changes = np.flatnonzero(runs[1:] != runs[:-1])
    assert len(changes) == len(grown.runs) - 1  # each run is one contiguous block
    for _, rows in grown.frame.groupby("run"):
        assert rows["x"].is_monotonic_increasing


def test_options_costs_and_simulation_counts():
    assert [o.kind for o in candidate_options("r", [3, 6], [1e5], both=True)] == [
        "add seeds",
        "add seeds",
        "extend",
        "both",
        "both",
    ]
    assert sims_for(0.05) == 100
    with pytest.raises(ValueError, match="mc_error"):
        sims_for(0.7)


def test_extra_compute_counts_new_seeds_from_zero(recipes_fit):
    curves = recipes_fit.data
    assert extra_compute(curves, PlanOption("better", add_seeds=3)) == 150_000.0
    assert extra_compute(curves, PlanOption("better", extend_to=60_000)) == 30_000.0
    assert extra_compute(curves, PlanOption("better", add_seeds=1), cost_per_x=2.0) == 100_000.0


@pytest.fixture(scope="module")
def small_plan(recipes_fit):
    """Two options x 4 tiny refits on the bundled recipes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plan(
            recipes_fit,
            [PlanOption("better", extend_to=54_000), PlanOption("better", add_seeds=1)],
            recipe="better",
            baseline="baseline",
            sims=4,
            refit=TINY,
            seed=5,
        )


def test_plan_probabilities_and_json(small_plan):
    """The shares add up, mc_error is the binomial one, the JSON has the contract keys."""
    options = small_plan.options
    assert list(options.columns) == OPTION_COLUMNS
    shares = options[["p_higher", "p_lower", "p_equivalent", "p_undecided"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert np.allclose(options["p_resolved"], 1 - options["p_undecided"])
    p = options["p_resolved"]
    assert np.allclose(options["mc_error"], np.sqrt(p * (1 - p) / 4))
    assert (options["interval_width"] > 0).all()
    assert len(small_plan.outcomes) == 8
    payload = json.loads(json.dumps(small_plan.to_dict()))
    keys = {"recipe", "add_seeds", "extend_to", "extra_compute", "p_resolved", "p_higher"}
    assert keys | {"p_lower", "p_equivalent", "p_undecided", "interval_width", "mc_error"} <= set(
        payload["options"][0]
    )
    assert payload["current"]["decision"] in {"higher", "undecided"}
    assert "Plan" in repr(small_plan) and "<table" in small_plan._repr_html_()


def test_plan_shares_posterior_draws_across_options(small_plan):
    """Common random numbers: every option is simulated from the same posterior draws."""
    draws = small_plan.outcomes.groupby("option")["draw"].apply(list)
    assert draws.iloc[0] == draws.iloc[1]


def test_plan_does_not_depend_on_the_number_of_workers(recipes_fit):
    """Refits run in threads, each with its own seed: 1 or 2 workers, same outcomes."""
    options = {
        "recipe": "better",
        "baseline": "baseline",
        "add_seeds": [1],
        "sims": 3,
        "refit": TINY,
        "seed": 2,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one, two = (plan(recipes_fit, **options, workers=n) for n in (1, 2))
    pd.testing.assert_frame_equal(one.outcomes, two.outcomes)
    assert "2 at a time" in two.notes[0] and "posterior mean" in two.notes[0]


def test_raw_refit_draws_equal_the_full_output(recipes_fit):
    """sample_draws (nutpie's raw trace, used by the planner's refits) returns the
    draws and divergences that sample_posterior returns for the same seed and start."""
    fit = recipes_fit
    arrays = model_arrays(fit.spec, fit.data)
    shape = {"n_runs": len(fit.data.runs), "n_recipes": len(fit.recipes)}
    settings = SamplerSettings(draws=30, tune=30, chains=2, cores=1, target_accept=0.9, seed=4)
    init = start_point(fit, fit.data)
    tree, _ = sample_posterior(fit.spec, arrays, **shape, settings=settings, init=init)
    draws, divergences = sample_draws(
        fit.spec, arrays, **shape, settings=settings, names=("A", "sigma_A"), init=init
    )
    post = tree["posterior"]
    assert np.array_equal(draws["A"], post["A"].to_numpy().reshape(60, -1))
    assert np.array_equal(draws["sigma_A"], post["sigma_A"].to_numpy().reshape(60, 1))
    assert divergences == int(tree["sample_stats"]["diverging"].sum())


def _slice(compiled, name: str) -> slice:
    names, slices, _ = compiled.shape_info
    return slices[names.index(name)]


def test_refits_start_at_the_posterior_mean(recipes_fit):
    """The start is the posterior mean on the unconstrained scale, for the grown data too."""
    fit = recipes_fit
    point = start_point(fit, fit.data)
    arrays = model_arrays(fit.spec, fit.data)
    compiled, _, _ = compiled_model(fit.spec, arrays, len(fit.data.runs), len(fit.recipes))
    assert point.shape == (compiled.n_dim,)
    a = fit.draws_dataset["A"].mean(("chain", "draw")).to_numpy()
    assert np.allclose(point[_slice(compiled, "A_logodds__")], np.log(a / (1 - a)))
    sigma = fit.draws_dataset["residual_sd"].mean(("chain", "draw")).to_numpy()
    assert np.allclose(point[_slice(compiled, "residual_sd_log__")], np.log(sigma))
    future = future_frame(
        fit, Draw.of(fit, 0), "better", add_seeds=2, extend_to=None, rng=np.random.default_rng(0)
    )
    grown = with_future(fit.data, future)
    assert np.allclose(start_point(fit, grown), point)  # no run-level free variables


def test_a_new_run_starts_at_its_recipes_mean_run():
    """With run-level free variables (A by run under a normal likelihood), old runs
    start at their own posterior means and a new run at its recipe's mean run."""
    fit = fit_bundled_recipes(likelihood="normal", draws=40, tune=60, chains=1, seed=3)
    future = future_frame(
        fit, Draw.of(fit, 0), "better", add_seeds=1, extend_to=None, rng=np.random.default_rng(0)
    )
    grown = with_future(fit.data, future)
    point = start_point(fit, grown)
    arrays = model_arrays(fit.spec, grown)
    compiled, _, _ = compiled_model(fit.spec, arrays, len(grown.runs), len(grown.recipes))
    starts = dict(zip(grown.runs, point[_slice(compiled, "A_run")], strict=True))
    means = fit.draws_dataset["A_run"].mean(("chain", "draw")).to_numpy()
    old = dict(zip(fit.data.runs, means, strict=True))
    for run in fit.data.runs:
        assert starts[run] == pytest.approx(old[run])
    better = [old[r] for r in fit.data.runs if fit.data.run_recipe[r] == "better"]
    (new,) = set(grown.runs) - set(fit.data.runs)
    assert starts[new] == pytest.approx(np.mean(better))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recipe": "nope"}, "recipe 'nope' is not a recipe"),
        ({"baseline": "nope"}, "baseline 'nope' is not a recipe"),
        ({"extend_to": [10_000.0], "add_seeds": []}, "not beyond"),
        ({"add_seeds": [], "extend_to": []}, "no options"),
        ({"sims": 10_000}, "sims must be between"),
        ({"cost_per_x": -1.0}, "cost_per_x"),
    ],
)
def test_bad_plan_options_are_refused_before_sampling(recipes_fit, kwargs, message):
    options = {"recipe": "better", "baseline": "baseline", **kwargs}
    with pytest.raises(ValueError, match=message):
        plan(recipes_fit, **options)


def test_stop_probability_gives_an_action(recipes_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stop_probability(
            recipes_fit, "better", 54_000, baseline="baseline", sims=2, refit=TINY, seed=1
        )
    assert result["action"] in {"stop", "continue"}
    assert result["action"] == ("stop" if result["p_higher"] < 0.1 else "continue")
    assert result["extra_compute"] == 3 * 4_000.0


def test_report_gets_a_plan_section(recipes_fit, small_plan):
    from bayescale.reporting.plan_report import plot_plan
    from bayescale.reporting.report import build_report

    ax = plot_plan(small_plan)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["better: extend", "better: add seeds"]
    report = build_report(recipes_fit, plan=small_plan)
    titles = [section.title for section in report.sections]
    assert "Plan: what to run next" in titles
    assert "plan" in [image.name for image in report.images]


def test_calibration_and_stopping_tables():
    table = pd.DataFrame(
        {
            "kind": ["extend"] * 4 + ["add seeds"],
            "delta": [0.0, 0.0, 0.03, 0.03, 0.01],
            "p_resolved": [0.05, 0.1, 0.9, 0.8, 0.5],
            "p_higher": [0.0, 0.05, 0.9, 0.8, 0.2],
            "resolved": [False, False, True, True, True],
            "observed": ["undecided", "undecided", "higher", "higher", "equivalent"],
            "extra_compute": [60_000.0] * 5,
        }
    )
    stop = stopping_table(table)
    assert stop.loc[0.0, "stopped"] == 1.0 and stop.loc[0.03, "stopped"] == 0.0
    assert stop.loc[0.0, "compute_saved"] == 1.0
    calibration = calibration_table(table)
    assert calibration["n"].sum() == 5 and calibration["within"].all()


CLI_ARGS = [
    "plan",
    str(DATA / "recipes.csv"),
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
    "--plan-for",
    "better",
    "--add-seeds",
    "0",
    "--extend-to",
    "54000",
    "--sims",
    "2",
]


def test_cli_writes_plan_json_and_a_ranked_table(tmp_path, capsys):
    """With 100 draws x 2 chains the comparison's fit cannot reach bulk ESS 400: the
    plan is written, flagged as resting on an unconverged fit, and the status is 3."""
    out = tmp_path / "plan"
    assert main([*CLI_ARGS, *QUICK_CLI, "--out", str(out)]) == QUICK_STATUS
    printed = capsys.readouterr().out
    assert "ranked by P(resolved)" in printed and "better" in printed
    assert "converged: NO" in printed
    payload = json.loads((out / "plan.json").read_text())
    assert payload["converged"] is False
    assert {"options", "current", "sims", "max_mc_error", "refit"} <= set(payload)
    assert payload["options"][0]["extend_to"] == 54_000.0
    assert math.isclose(payload["max_mc_error"], 0.5 / math.sqrt(2))
    assert main([*CLI_ARGS, *QUICK_CLI, "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_cli_plan_on_a_converged_fit_exits_0(tmp_path, capsys):
    """Two recipes, a Normal model without per-run parameters, the default sampler:
    the comparison's fit converges, so the status is 0 whatever the short simulated
    refits do (they are counted in divergent_refits, not in the status)."""
    frame = pd.read_csv(DATA / "recipes.csv")
    path = tmp_path / "two.csv"
    frame[frame["recipe"].isin(["baseline", "better"])].to_csv(path, index=False)
    args = [*CLI_ARGS, "--likelihood", "normal", "--vary", "none", "--seed", "1"]
    args[1], out = str(path), tmp_path / "plan"
    assert main([*args, "--out", str(out)]) == 0
    assert json.loads((out / "plan.json").read_text())["converged"] is True
    assert "converged: yes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--baseline", "nope"), "baseline 'nope' is not a recipe"),
        (("--plan-for", "nope"), "--plan-for: nope not a recipe"),
        (("--extend-to", "-5"), "--extend-to -5: must be a finite number > 0"),
        (("--sims", "0"), "--sims must be at least 1"),
        (("--recipe", "missing"), "missing column 'missing'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, change, message):
    args = [*CLI_ARGS, *QUICK_CLI]
    flag, value = change
    args[args.index(flag) + 1] = value
    assert main([*args, "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_planner_predictions_rank_outcomes_and_the_stopping_rule_tells_equal_from_better():
    """200 simulated experiments (10 simulations per plan; docs/planning.md).

    Measured there: every bin of the predicted P(resolved) is within its
    binomial band, but one (0.6-0.8) by only 0.003 and the observed share lies
    below the prediction in every bin (a mild optimism, mostly of ``extend``
    options), so full calibration is *not* asserted. What holds with margin and
    is checked: the observed share of resolved decisions rises with the
    predicted P(resolved) bin, no bin resolves more often than predicted beyond
    two binomial standard errors, and the lowest bin (most experiments) is
    within its band. The stopping rule stops equal recipes more often than
    recipes truly 0.03 better (measured 82% and 48%), and (at most once) stops
    a better recipe that would have ended ``higher`` (measured: never)."""
    table = planning_study(200, sims=10, seed=2000)
    calibration = calibration_table(table)
    assert calibration["n"].sum() == 200
    assert calibration["observed"].is_monotonic_increasing
    assert (calibration["observed"] <= calibration["predicted"] + calibration["band"]).all()
    assert calibration["within"].iloc[0]
    stop = stopping_table(table)
    assert stop.loc[0.0, "stopped"] > stop.loc[0.03, "stopped"] + 0.2
    extend = table[table["kind"] == "extend"]
    stopped_better = extend[(extend["delta"] == 0.03) & (extend["p_higher"] < 0.1)]
    assert (stopped_better["observed"] == "higher").sum() <= 1
