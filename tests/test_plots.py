"""Plots are checked for what they draw: artists, labels, limits and extents."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import CHINCHILLA_CSV, QUICK_SAMPLER
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.contour import ContourSet
from matplotlib.patches import Rectangle

import bayescale as bs
from bayescale.data.published import load_chinchilla
from bayescale.reporting import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rectangles(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_held_out_points_are_the_tail_beyond_the_fitted_range(scalerl_fit):
    tail = plots.held_out_points(scalerl_fit)
    # the bundled file holds 3 seeds x 50 evaluations above 50k GPU-hours
    assert len(tail) == 150
    assert tail["x"].min() > 50_000
    assert set(tail["run"]) == set(scalerl_fit.runs)


def test_plot_fit_draws_bands_runs_extrapolation_and_held_out(scalerl_fit):
    tail = plots.held_out_points(scalerl_fit)
    ax = plots.plot_fit(scalerl_fit, held_out=tail)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(bands) == 2  # curve band and new-observation band
    assert len(points) == len(scalerl_fit.runs) + 1  # one per seed + held out
    assert len(ax.lines) == 1  # posterior median
    assert points[-1].get_offsets().shape[0] == len(tail)
    assert ax.get_xscale() == "log"
    assert ax.get_xlim()[1] == pytest.approx(tail["x"].max())
    (shade,) = _rectangles(ax)
    assert shade.get_x() == pytest.approx(50_000)  # extrapolation starts at the fitted max
    assert ax.get_xlabel() == "gpu_hours" and ax.get_ylabel() == "pass_rate"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"held out", "extrapolation", "89% curve", "89% new observation"} <= set(labels)


def test_plot_fit_new_observation_band_is_wider_than_curve_band(scalerl_fit):
    ax = plots.plot_fit(scalerl_fit, x_max=80_000)
    observation, curve = [c for c in ax.collections if isinstance(c, PolyCollection)]
    width = [np.ptp(band.get_paths()[0].vertices[:, 1]) for band in (curve, observation)]
    assert width[1] > width[0]
    assert ax.get_xlim()[1] == pytest.approx(80_000)


def test_plot_fit_uses_given_axes_and_needs_a_recipe_when_several(recipes_fit):
    _, ax = plt.subplots()
    assert plots.plot_fit(recipes_fit, recipe="better", ax=ax) is ax
    assert ax.get_title() == "better"
    with pytest.raises(ValueError, match="name a recipe"):
        plots.plot_fit(recipes_fit)


def test_parameter_by_recipe_draws_one_density_per_recipe_and_the_rope_band(recipes_fit):
    ax = plots.plot_parameter_by_recipe(recipes_fit, "A", reference="baseline", rope=0.02)
    assert [line.get_label() for line in ax.lines] == recipes_fit.recipes
    (band,) = _rectangles(ax)
    centre = float(recipes_fit.parameter_draws(recipe="baseline")["A"].median())
    assert band.get_x() == pytest.approx(centre - 0.02)
    assert band.get_width() == pytest.approx(0.04)
    assert ax.get_ylim()[0] == 0


def test_plot_difference_shows_rope_interval_probabilities_and_decision():
    draws = np.random.default_rng(0).normal(0.05, 0.01, 4000)
    ax = plots.plot_difference(draws, rope=0.02, decision="higher", label="A[b] - A[a]")
    (rope,) = _rectangles(ax)
    assert rope.get_x() == pytest.approx(-0.02) and rope.get_width() == pytest.approx(0.04)
    (interval,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    low, high = interval.get_segments()[0][:, 0]
    assert low == pytest.approx(np.quantile(draws, 0.055), abs=1e-9)
    assert high == pytest.approx(np.quantile(draws, 0.945), abs=1e-9)
    # 0.05 +/- 0.01: P(diff > 0.02) is 0.999
    assert ax.get_title().startswith("higher: P(>0.02) 1.00")
    assert ax.get_xlabel() == "A[b] - A[a]"


def test_forest_has_one_panel_per_parameter_and_one_row_per_recipe_and_run(recipes_fit):
    fig = plots.plot_forest(recipes_fit, ["A", "C_mid"])
    panel_a, panel_c = fig.axes
    labels = [t.get_text() for t in panel_a.get_yticklabels()]
    # A varies by run: 4 recipe rows + 10 run rows
    assert len(labels) == len(recipes_fit.recipes) + len(recipes_fit.runs)
    assert labels[0] == "A[baseline]"
    (intervals,) = [c for c in panel_a.collections if isinstance(c, LineCollection)]
    assert len(intervals.get_segments()) == len(labels)
    assert len(panel_c.get_yticklabels()) == len(recipes_fit.recipes)
    with pytest.raises(ValueError, match="one Axes per parameter"):
        plots.plot_forest(recipes_fit, ["A", "B"], ax=panel_a)


def test_diagnostics_rank_plot_has_a_panel_per_reported_variable(scalerl_fit):
    fig = plots.plot_diagnostics(scalerl_fit)
    titles = {ax.get_title().split("\n")[0] for ax in fig.axes if ax.get_title()}
    # law parameters, the seed spread sigma_A, and the drift model's noise parameters
    assert titles == {
        "A",
        "B",
        "C_mid",
        "R0",
        "sigma_A",
        "residual_sd",
        "drift_share",
        "drift_corr",
    }
    with pytest.raises(ValueError, match="kind"):
        plots.plot_diagnostics(scalerl_fit, kind="pair")


@pytest.fixture(scope="module")
def chinchilla_quick_fit():
    if not CHINCHILLA_CSV.is_file():
        pytest.skip("../shared/anchors/chinchilla is not present")
    data = load_chinchilla(CHINCHILLA_CSV, drop_highest=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit(
            data, "chinchilla", n="n", d="d", y="loss", likelihood="student_t", **QUICK_SAMPLER
        )


def test_loss_contours_show_surface_data_and_frontier(chinchilla_quick_fit):
    ax = plots.plot_loss_contours(chinchilla_quick_fit, levels=8)
    assert any(isinstance(c, ContourSet) for c in ax.collections)
    (points,) = [c for c in ax.collections if type(c) is PathCollection]
    assert points.get_offsets().shape[0] == len(chinchilla_quick_fit.data)  # 240 runs
    (frontier,) = ax.lines
    n_opt, d_opt = frontier.get_xdata(), frontier.get_ydata()
    assert len(n_opt) > 5 and np.all(np.diff(n_opt) > 0) and np.all(np.diff(d_opt) > 0)
    frame = chinchilla_quick_fit.data.frame
    assert ax.get_xlim()[0] < frame["n"].min() and ax.get_xlim()[1] > frame["n"].max()
    assert ax.get_xscale() == ax.get_yscale() == "log"


def test_frontier_band_contains_the_median_and_grows_with_compute(chinchilla_quick_fit):
    budgets = np.geomspace(1e19, 1e25, 30)
    ax = plots.plot_frontier(chinchilla_quick_fit, compute=budgets, ci=0.8)
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    (median,) = ax.lines
    n_opt = median.get_ydata()
    assert np.all(np.diff(n_opt) > 0)
    edge = band.get_paths()[0].vertices
    low = np.interp(np.log(budgets), np.log(edge[1:31, 0]), edge[1:31, 1])
    assert np.all(low <= n_opt * (1 + 1e-9))
    assert ax.get_xlim() == pytest.approx((1e19, 1e25))
    assert ax.get_ylabel() == "compute-optimal parameters N_opt"


def test_chinchilla_report_shows_surface_and_allocation(chinchilla_quick_fit):
    from bayescale.reporting.report import build_report

    report = build_report(chinchilla_quick_fit, budgets=[5.88e23])
    predictions = next(s for s in report.sections if s.title == "Predictions")
    assert [b.name for b in predictions.blocks if hasattr(b, "png")] == ["chinchilla"]
    (table,) = [b.frame for b in predictions.blocks if hasattr(b, "frame")]
    assert table["compute"].tolist() == [5.88e23]
    assert table["ratio_lower"].iloc[0] < table["ratio"].iloc[0] < table["ratio_upper"].iloc[0]
