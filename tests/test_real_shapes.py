"""Shapes of real data that used to give silent wrong answers (issue 13).

Every data set here is simulated with a known truth in the shape researchers
bring: one model per size (no run column) in several families, losses with
outlying runs, curves that end before their midpoint. Sampling uses the quick
settings; each model structure is fitted once per module.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import CHINCHILLA_CSV, QUICK_SAMPLER, needs_chinchilla

import bayescale as bs
from bayescale.data.curves import load_curves
from bayescale.inference.fitting import auto_likelihood, build_spec
from bayescale.inference.identification import (
    check_prior_reliance,
    law_prior_draws,
    single_run_notes,
)
from bayescale.model.laws import get_law

#: Six families, one model per size: the true asymptote of each and where it starts.
FAMILIES = {
    "opt": {"A": 0.45, "R0": 0.05},
    "pythia": {"A": 0.55, "R0": 0.10},
    "llama": {"A": 0.75, "R0": 0.15},
    "qwen": {"A": 0.85, "R0": 0.20},
}


def family_scores(rng: int = 0, noise: float = 0.01) -> pd.DataFrame:
    """Benchmark score against FLOPs, one model per size, no run column."""
    gen = np.random.default_rng(rng)
    flops = np.geomspace(1e20, 1e24, 9)
    rows = []
    for family, truth in FAMILIES.items():
        mean = truth["R0"] + (truth["A"] - truth["R0"]) / (1 + (1e22 / flops) ** 1.2)
        score = np.clip(mean + noise * gen.standard_normal(flops.size), 0.0, 1.0)
        rows += [
            {"family": family, "flops": f, "score": s} for f, s in zip(flops, score, strict=True)
        ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def families_comparison():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.compare_recipes(
            family_scores(), recipe="family", x="flops", y="score", baseline="opt", **QUICK_SAMPLER
        )


def test_recipes_without_a_run_column_are_one_run_each():
    data = load_curves(family_scores(), x="flops", y="score", recipe="family")
    assert sorted(data.runs) == sorted(FAMILIES)
    assert data.run_recipe == {name: name for name in FAMILIES}
    assert data.frame.groupby("run").size().eq(9).all()


def test_compare_without_run_informs_every_family(families_comparison):
    """Every family's A is learned from its own rows (it used to keep its prior)."""
    fit = families_comparison.fit
    summary = fit.summary()
    for family, truth in FAMILIES.items():
        row = summary.loc[f"A[{family}]"]
        assert row["prior_sd_ratio"] < 0.5, family
        assert row["lower"] - 0.05 < truth["A"] < row["upper"] + 0.05, family
    decisions = families_comparison.pairs.set_index("a")["decision"]
    assert (decisions == "higher").all()


def test_one_point_per_model_gets_independent_noise_and_says_so(families_comparison):
    fit = families_comparison.fit
    assert fit.spec.likelihood == "student_t"
    assert any("auto -> student_t" in note for note in fit.diagnostics.notes)
    assert any("every recipe has one run" in note for note in fit.diagnostics.notes)
    assert fit.diagnostics.predictive["n_outside"] <= 2


def test_auto_likelihood_is_robust_for_losses():
    frame = pd.DataFrame({"n": np.geomspace(1e8, 1e10, 8), "loss": np.linspace(3.2, 2.4, 8)})
    data = load_curves(frame, x="n", y="loss", bounded=False, positive_y=True)
    name, reason = auto_likelihood(get_law("power_e"), data)
    assert name == "student_t"
    assert "student_t" in reason


def _posterior_tree(draws: dict[str, np.ndarray]) -> xr.DataTree:
    post = xr.Dataset(
        {
            name: (("chain", "draw", "recipe"), value.reshape(2, -1, 1))
            for name, value in draws.items()
        },
        coords={"recipe": ["all"]},
    )
    return xr.DataTree.from_dict({"/posterior": post})


def test_prior_reliance_flags_every_law_parameter_that_kept_its_prior():
    """Posterior draws equal to prior draws are flagged for every parameter, derived
    ones (X_c) included; a posterior narrowed by the data is not."""
    frame = pd.DataFrame({"x": np.geomspace(1e3, 1e6, 10), "y": np.linspace(4.0, 2.0, 10)})
    data = load_curves(frame, x="x", y="y", bounded=False, positive_y=True)
    spec = build_spec(get_law("power"), data)
    prior = law_prior_draws(spec, data, size=2000, seed=1)
    rows, messages = check_prior_reliance(_posterior_tree(prior), spec, data)
    assert {row.parameter for row in rows if row.leans_on_prior} == {"alpha", "X_c"}
    assert messages and "lean on the prior" in messages[0]
    narrow = {
        "alpha": np.full(2000, 0.1) + 1e-4 * np.arange(2000) / 2000,
        "X_c": np.full(2000, 1e8),
    }
    narrow["X_c"] = narrow["X_c"] * (1 + 1e-3 * np.arange(2000) / 2000)
    rows, messages = check_prior_reliance(_posterior_tree(narrow), spec, data)
    assert not any(row.leans_on_prior for row in rows)
    assert not messages


def test_posterior_on_a_prior_edge_is_flagged():
    frame = pd.DataFrame({"x": np.geomspace(1e3, 1e6, 10), "y": np.linspace(4.0, 2.0, 10)})
    data = load_curves(frame, x="x", y="y", bounded=False, positive_y=True)
    spec = build_spec(get_law("power"), data, priors={"alpha": "LogNormal(mu=-2.3, sigma=0.1)"})
    edge = {"alpha": np.full(2000, 0.2) * (1 + 1e-3 * np.arange(2000) / 2000)}
    edge["X_c"] = np.geomspace(1e8, 1.01e8, 2000)
    rows, _ = check_prior_reliance(_posterior_tree(edge), spec, data)
    alpha = next(row for row in rows if row.parameter == "alpha")
    assert alpha.leans_on_prior
    assert "upper edge" in alpha.reason


def test_single_seed_recipe_note_names_the_recipe():
    frame = family_scores()
    frame["seed"] = "s0"
    extra = frame[frame["family"] == "opt"].assign(seed="s1")
    data = load_curves(pd.concat([frame, extra]), x="flops", y="score", run="seed", recipe="family")
    spec = build_spec(get_law("sigmoid"), data)
    notes = single_run_notes(spec, data)
    assert len(notes) == 1
    assert "pythia" in notes[0] and "opt" not in notes[0].split(":")[0]


@needs_chinchilla
def test_chinchilla_all_rows_with_default_options():
    """All 245 rows (outlying runs kept), every option at its default: ``auto`` is
    robust for losses, so Epoch's beta 0.3658 and E 1.82 lie in the 95% intervals,
    tokens per parameter at 5.88e23 FLOP lie in 10-30, and the predictive check
    passes (measured: beta 0.362, ratio 17.4 [11.0, 27.6], ~42 s with compilation;
    the Normal fit gives beta 0.61, ratio 2.0 and a Pareto k of 1.75)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(
            CHINCHILLA_CSV, law="chinchilla", n="Model Size", compute="Training FLOP", y="loss"
        )
    assert len(fit.data) == 245 and fit.spec.likelihood == "student_t"
    table = fit.summary(ci=0.95)
    for name, published in {"beta": 0.3658, "E": 1.82}.items():
        assert table.loc[name, "lower"] < published < table.loc[name, "upper"], name
    row = fit.compute_optimal(6 * 70e9 * 1.4e12, ci=0.95).iloc[0]
    assert 10 < row["ratio_median"] < 30
    assert fit.diagnostics.predictive["passed"]


def staggered_recipes(rng: int = 1) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Two recipes that start at very different levels and run at different compute."""
    truth = {
        "small": {"A": 0.45, "B": 1.5, "C_mid": 2e3, "R0": 0.05},
        "large": {"A": 0.90, "B": 1.5, "C_mid": 2e6, "R0": 0.55},
    }
    gen = np.random.default_rng(rng)
    rows = []
    for recipe, p in truth.items():
        x = np.geomspace(p["C_mid"] / 20, p["C_mid"] * 20, 15)
        mean = p["R0"] + (p["A"] - p["R0"]) / (1 + (p["C_mid"] / x) ** p["B"])
        y = mean + 0.01 * gen.standard_normal(x.size)
        rows += [{"recipe": recipe, "x": a, "y": b} for a, b in zip(x, y, strict=True)]
    return pd.DataFrame(rows), truth


def test_data_centred_priors_are_per_recipe():
    frame, truth = staggered_recipes()
    data = load_curves(frame, x="x", y="y", recipe="recipe")
    spec = build_spec(get_law("sigmoid"), data)
    order = data.recipes
    r0 = dict(zip(order, spec.priors["R0"].params["mu"], strict=True))
    c_mid = dict(zip(order, spec.priors["C_mid"].params["mu"], strict=True))
    for recipe, p in truth.items():
        assert abs(r0[recipe] - p["R0"]) < 0.1, recipe
        assert abs(c_mid[recipe] - np.log(p["C_mid"])) < 0.5, recipe
    shared = build_spec(get_law("sigmoid"), data, shared=["C_mid"])
    assert shared.priors["C_mid"].per_recipe is None
    assert spec.priors["R0"].to_dict()["mu"] == list(r0.values())


@pytest.mark.slow
def test_recipes_at_very_different_levels_are_each_recovered():
    """Each recipe's R0 and C_mid are recovered (pooled centres used to pull the
    large recipe's midpoint before its data and its start down to the small one's)."""
    frame, truth = staggered_recipes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(frame, x="x", y="y", recipe="recipe", draws=500, tune=500, seed=2)
    table = fit.summary(ci=0.95)
    for recipe, p in truth.items():
        for name in ("A", "C_mid", "R0"):
            row = table.loc[f"{name}[{recipe}]"]
            assert row["lower"] < p[name] < row["upper"], (recipe, name)


def test_increasing_power_law_recovers_the_exponent():
    """Compute-optimal tokens D*(C) = 0.29 C^0.53 (Hoffmann et al.'s approach 2 shape):
    the exponent lies in its 90% interval and predictions follow the truth."""
    gen = np.random.default_rng(5)
    compute = np.geomspace(6e18, 3e21, 12)
    tokens = 0.29 * compute**0.53 * np.exp(0.05 * gen.standard_normal(compute.size))
    frame = pd.DataFrame({"flops": compute, "tokens": tokens})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(frame, law="power_up", x="flops", y="tokens", **QUICK_SAMPLER)
    row = fit.summary(ci=0.9).loc["a"]
    assert row["lower"] < 0.53 < row["upper"]
    predicted = fit.predict([1e22], ci=0.9).iloc[0]
    assert predicted["obs_lower"] < 0.29 * 1e22**0.53 < predicted["obs_upper"]
    reach = fit.compute_to_reach(0.29 * 1e22**0.53, ci=0.9).iloc[0]
    assert reach["p_reachable"] == 1.0 and reach["lower"] < 1e22 < reach["upper"]


@pytest.mark.parametrize(
    ("law", "values", "message"),
    [
        ("sigmoid", np.linspace(0.6, 0.3, 10), r"falls as 'x' grows .*law 'sigmoid' rises"),
        ("power", np.geomspace(1e9, 1e11, 10), r"rises as 'x' grows .*\(.*power_up, "),
    ],
)
def test_data_against_the_law_direction_are_refused(law, values, message):
    frame = pd.DataFrame({"x": np.geomspace(1e3, 1e5, 10), "y": values})
    with pytest.raises(bs.DataError, match=message):
        bs.fit(frame, law=law, x="x", y="y", **QUICK_SAMPLER)


def test_prior_outside_the_law_range_is_refused():
    frame = pd.DataFrame({"x": np.geomspace(1e3, 1e5, 10), "y": np.linspace(0.2, 0.5, 10)})
    with pytest.raises(ValueError, match=r"prior A=Normal\(mu=10, sigma=1\) puts 100% .*\[0, 1\]"):
        bs.fit(frame, x="x", y="y", priors={"A": "Normal(mu=10, sigma=1)"}, **QUICK_SAMPLER)


def test_curve_cut_before_its_midpoint_says_which_parameters_lean_on_the_prior():
    """Observed up to 10,000 GPU-hours, true A 0.61 and C_mid 25,000 (the probe's
    case): A is named as leaning on the prior, whatever the posterior's own C_mid
    (measured over seeds 0-3 with 500 draws: A's sd ratio 0.63-0.70, all flagged)."""
    from bayescale.studies.simulate import simulate_runs

    frame = simulate_runs(
        params={"A": 0.61, "B": 1.92, "C_mid": 25_000.0, "R0": 0.3},
        x_max=10_000.0,
        held_out_from=None,
        rng=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(frame, x="gpu_hours", y="pass_rate", run="seed", **QUICK_SAMPLER)
    assert "A" in fit.diagnostics.leaning_on_prior()["all"]
    assert any("A (posterior sd" in w for w in fit.diagnostics.warnings)
    assert fit.summary().loc["A", "prior_sd_ratio"] > 0.5


def test_least_squares_grid_is_scaled_to_flops_and_flags_edges(families_comparison):
    """On FLOPs the paper's GPU-hour grid puts every C_mid on its upper edge; the
    compare baseline scales the grid to the data and says so."""
    from bayescale.baselines.least_squares import fit_scalerl_least_squares, grids_for

    rows = family_scores().query("family == 'llama'")
    x, y = rows["flops"].to_numpy(), rows["score"].to_numpy()
    paper = fit_scalerl_least_squares(x, y, r0=0.15)
    assert paper.c_mid_at_grid_edge
    scaled = fit_scalerl_least_squares(x, y, r0=0.15, **grids_for(x, "flops"))
    assert not scaled.c_mid_at_grid_edge and not scaled.a_at_grid_edge
    assert 3e21 < scaled.C_mid < 3e22 and abs(scaled.A - 0.75) < 0.05
    notes = " ".join(families_comparison.notes)
    assert "'flops' is not GPU-hours" in notes
    per_seed = families_comparison.least_squares
    assert not per_seed["c_mid_at_grid_edge"].any()
    assert (families_comparison.pairs["ls_decision"] == "higher").all()


def rl_curve_with_step_zero(rng: int = 2) -> pd.DataFrame:
    """An RL curve evaluated from step 0 (the pre-RL baseline, x = 0) on."""
    gen = np.random.default_rng(rng)
    steps = np.arange(0, 61) * 100.0
    mean = 0.3 + (0.6 - 0.3) / (1 + (2500.0 / np.maximum(steps, 1e-9)) ** 1.8)
    return pd.DataFrame({"step": steps, "score": mean + 0.005 * gen.standard_normal(steps.size)})


def test_step_zero_is_excluded_by_min_x_and_informs_r0():
    frame = rl_curve_with_step_zero()
    with pytest.raises(bs.DataError, match=r"column 'step' must be > 0; row 0 has 0\.0"):
        load_curves(frame, x="step", y="score")
    data = load_curves(frame, x="step", y="score", min_x=500)
    assert data.frame["x"].min() == 500 and "excluded 5 of 61 rows" in data.notes[0]
    assert data.frame["y_start"].iloc[0] == pytest.approx(frame["score"].iloc[0])
    spec = build_spec(get_law("sigmoid"), data)
    assert spec.priors["R0"].params["mu"] == pytest.approx(frame["score"].iloc[0])


def sweep(rng: int = 3) -> pd.DataFrame:
    """A learning-rate sweep: three runs per model size, no run column; true L = 2 + 400 N^-0.3."""
    gen = np.random.default_rng(rng)
    n = np.repeat(np.geomspace(1e7, 1e9, 6), 3)
    loss = 2 + 400 * n**-0.3 + np.abs(0.05 * gen.standard_normal(n.size))
    return pd.DataFrame({"params": n, "loss": loss})


def test_repeated_points_name_the_pairs_and_suggest_a_run_column():
    with pytest.raises(bs.DataError) as err:
        load_curves(sweep(), x="params", y="loss", bounded=False)
    message = str(err.value)
    assert "repeats a value of params" in message
    assert "repeated points (1e+07) x3, (2.51189e+07) x3" in message
    assert "is a run column missing (run=...)?" in message and "\n" not in message


@pytest.mark.parametrize(
    ("repeats", "rows", "statistic"),
    [("mean", 6, "mean"), ("best", 6, "min"), ("independent", 18, None)],
)
def test_repeated_points_can_be_averaged_kept_best_or_kept(repeats, rows, statistic):
    frame = sweep()
    data = load_curves(frame, x="params", y="loss", bounded=False, repeats=repeats)
    assert len(data) == rows
    assert "6 repeated points" in data.notes[0]
    if statistic:
        expected = frame.groupby("params")["loss"].agg(statistic).to_numpy()
        np.testing.assert_allclose(data.frame.sort_values("x")["y"], expected)
    else:
        name, reason = auto_likelihood(get_law("sigmoid"), data)
        assert name == "student_t" and "repeat points" in reason


def test_drop_highest_removes_the_largest_losses_with_a_note():
    frame = sweep()
    data = load_curves(frame, x="params", y="loss", bounded=False, repeats="best", drop_highest=2)
    assert "dropped the 2 rows with the highest loss" in data.notes[0]
    assert data.frame["y"].max() < frame["loss"].nlargest(2).min()


@pytest.fixture(scope="module")
def synthetic_chinchilla():
    """Losses from Epoch's refit parameters on a grid of (N, D), 3% noise."""
    truth = {"E": 1.82, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
    gen = np.random.default_rng(4)
    n, d = np.meshgrid(np.geomspace(7e7, 1.6e10, 8), np.geomspace(5e9, 5e11, 6))
    n, d = n.ravel(), d.ravel()
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    frame = pd.DataFrame(
        {"n": n, "d": d, "loss": loss * np.exp(0.01 * gen.standard_normal(n.size))}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(frame, law="chinchilla", n="n", d="d", y="loss", **QUICK_SAMPLER)
    return fit, truth


def test_chinchilla_predicts_along_the_frontier_and_inverts_it(synthetic_chinchilla):
    from bayescale.results.allocation import optimal_allocation

    fit, truth = synthetic_chinchilla
    budget = 5.88e23
    best = optimal_allocation(truth, np.array([budget]))
    row = fit.predict(compute=[budget], ci=0.95).iloc[0]
    assert row["lower"] < best["loss_opt"][0] < row["upper"]
    assert row["obs_lower"] <= row["lower"] and row["upper"] <= row["obs_upper"]
    assert 6 * row["n"] * row["d"] == pytest.approx(budget, rel=0.05)
    reach = fit.compute_to_reach(row["median"], ci=0.95).iloc[0]
    assert reach["p_reachable"] == 1.0 and reach["median"] == pytest.approx(budget, rel=0.05)
    below_e = fit.compute_to_reach(1.0).iloc[0]
    assert below_e["p_reachable"] == 0.0
    assert {"median", "prior_sd_ratio"} <= set(fit.summary().columns)


def test_default_predictions_are_per_recipe_with_an_extrapolation_note(families_comparison):
    from bayescale.results.export import fit_to_dict

    fit = families_comparison.fit
    payload = fit_to_dict(fit, ci=0.89)
    rows = pd.DataFrame(payload["predictions"])
    assert sorted(rows["recipe"].unique()) == sorted(FAMILIES)
    assert sorted(rows["extrapolation"].round(6).unique()) == [2.0, 10.0]
    assert payload["prediction_notes"] == []
    far = fit_to_dict(fit, ci=0.89, predict_x=[1e27])
    assert len(far["prediction_notes"]) == len(FAMILIES)
    assert "1000x the largest fitted x of recipe" in far["prediction_notes"][0]


def test_report_states_the_predictive_check_reason_that_failed():
    """A failed check names its reason (the outside share against the calibrated
    bound); high Pareto k is a note on LOO, never the stated failure."""
    from bayescale.reporting.report import predictive_blocks
    from bayescale.results.fit_result import Diagnostics

    failed = {
        "mass": 0.95,
        "n_obs": 245,
        "n_outside": 29,
        "max_share": 0.09,
        "n_bad_pareto_k": 1,
        "passed": False,
        "reason": "29 of 245 observations (11.8%) lie outside their 95% predictive interval",
    }
    (text,) = predictive_blocks(Diagnostics(1.0, 1000.0, 0, ["k"], predictive=failed))
    assert "FAILED, do not trust the intervals as computed: 29 of 245" in text
    assert "1 have a PSIS-LOO Pareto k above 0.7 (a note" in text
    passed = {**failed, "n_outside": 7, "passed": True, "reason": ""}
    (text,) = predictive_blocks(Diagnostics(1.0, 1000.0, 0, predictive=passed))
    assert text.startswith("Posterior predictive check passed: 7 of 245")
    assert "up to 9.0%" in text
    assert predictive_blocks(Diagnostics(1.0, 1000.0, 0)) == []


@pytest.mark.slow
def test_outlying_runs_are_caught_by_the_predictive_check_and_absorbed_by_auto():
    """Losses L = 1.8 + 400 N^-0.34 (1% noise) with three runs 25% too high: the
    Normal fit's predictive check names exactly those three as the points outside
    its 95% predictive interval; auto (Student-t) keeps alpha in its 95% interval
    and passes. (The Normal fit's overall verdict is borderline here: it inflates
    its noise to ~0.065 so that 3 of 40 outside is within the binomial band, and
    its largest Pareto k was 0.67-0.80 over noise and sampler seeds, around the
    0.7 threshold; so the verdict is not asserted.) (Measured: the Student-t fit with the outliers matches the
    fit of the clean data, alpha 0.335 [0.306, 0.361] against 0.322 [0.297, 0.347];
    with noise seed 8 the clean data's own 95% interval misses 0.34, and so does
    the robust fit's, 0.303 [0.280, 0.328].)"""
    gen = np.random.default_rng(9)
    n = np.geomspace(1e7, 1e10, 40)
    loss = (1.8 + 400 * n**-0.34) * np.exp(0.01 * gen.standard_normal(n.size))
    loss[[5, 17, 30]] *= 1.25
    frame = pd.DataFrame({"params": n, "loss": loss})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        normal = bs.fit(frame, law="power_e", x="params", y="loss", likelihood="normal", seed=1)
        robust = bs.fit(frame, law="power_e", x="params", y="loss", seed=1)
    assert sorted(normal.diagnostics.predictive["outside_rows"]) == [5, 17, 30]
    assert robust.spec.likelihood == "student_t"
    row = robust.summary(ci=0.95).loc["alpha"]
    assert row["lower"] < 0.34 < row["upper"]
    assert robust.diagnostics.predictive["passed"]
