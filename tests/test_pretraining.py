"""Pretraining laws: power, power_e, saturating and Chinchilla with compute-optimal allocation.

Statistical claims are checked on data with a known truth (simulated power laws
and saturating curves) and against the published refit of the Chinchilla data by
Besiroglu et al. (2024), whose numbers are facts to test against, never inputs.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import (
    CHINCHILLA_CLI,
    CHINCHILLA_CSV,
    QUICK_SAMPLER,
    QUICK_STATUS,
    STAT_SAMPLER,
    needs_chinchilla,
)

import bayescale as bs
from bayescale.cli import main
from bayescale.data import published as datasets
from bayescale.data.curves import DataError, load_curves
from bayescale.model.laws import get_law
from bayescale.results.allocation import QUANTITIES, optimal_allocation
from bayescale.studies.simulate import simulate_runs

CHINCHILLA_BUDGET = 6 * 70e9 * 1.4e12  # 5.88e23 FLOP: 70B parameters x 1.4T tokens

# Besiroglu et al. (2024), Table 1: point estimates and bootstrap 95% intervals.
EPOCH = {
    "E": (1.82, 1.77, 1.87),
    "A": (482.01, 285.0, 744.0),
    "B": (2085.43, 1042.0, 5810.0),
    "alpha": (0.3478, 0.317, 0.373),
    "beta": (0.3658, 0.331, 0.415),
}


def quiet_fit(*args, **kwargs) -> bs.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit(*args, **kwargs)


# ----------------------------------------------------------------- Chinchilla


@pytest.fixture(scope="module")
def chinchilla_data() -> pd.DataFrame:
    if not CHINCHILLA_CSV.is_file():
        pytest.skip("../shared/anchors/chinchilla is not present")
    return datasets.load_chinchilla(CHINCHILLA_CSV, drop_highest=5)


@pytest.fixture(scope="module")
def chinchilla_fit(chinchilla_data) -> bs.Fit:
    """Student-t fit (the Bayesian counterpart of Epoch's Huber loss), default NUTS settings."""
    return quiet_fit(
        chinchilla_data, "chinchilla", n="n", d="d", y="loss", likelihood="student_t", seed=3
    )


@needs_chinchilla
def test_loader_drops_the_five_highest_losses_and_derives_tokens(chinchilla_data):
    raw = pd.read_csv(CHINCHILLA_CSV)
    assert len(raw) == 245 and len(chinchilla_data) == 240
    assert chinchilla_data["loss"].max() < raw["loss"].nlargest(5).min()
    np.testing.assert_allclose(
        6 * chinchilla_data["n"] * chinchilla_data["d"], chinchilla_data["compute"]
    )


@needs_chinchilla
def test_chinchilla_converges_with_default_settings(chinchilla_fit):
    """r_hat <= 1.01 and no divergences, with 4 x 1000 draws after 1000 tuning steps."""
    assert chinchilla_fit.sampler.draws == 1000 and chinchilla_fit.sampler.chains == 4
    assert chinchilla_fit.diagnostics.max_r_hat <= 1.01
    assert chinchilla_fit.diagnostics.divergences == 0


@needs_chinchilla
def test_chinchilla_posterior_agrees_with_the_published_refit(chinchilla_fit):
    """Each published point estimate lies in our 95% interval, and our interval
    overlaps most of the published bootstrap interval (parameters named E, A, B, alpha, beta)."""
    table = chinchilla_fit.summary(ci=0.95)
    assert list(table.index[:5]) == ["E", "A", "B", "alpha", "beta"]
    for name, (point, low, high) in EPOCH.items():
        ours = table.loc[name]
        assert ours["lower"] < point < ours["upper"], (name, ours["lower"], ours["upper"])
        overlap = min(high, ours["upper"]) - max(low, ours["lower"])
        assert overlap > 0.5 * min(high - low, ours["upper"] - ours["lower"]), name


@needs_chinchilla
def test_tokens_per_parameter_at_the_chinchilla_budget(chinchilla_fit):
    """D_opt/N_opt at 5.88e23 FLOP: median within Epoch's bootstrap 80% interval (~10-28),
    and the ~93 implied by Chinchilla's own rounded parameters lies outside our 95% interval."""
    row = chinchilla_fit.compute_optimal(CHINCHILLA_BUDGET, ci=0.95).iloc[0]
    assert 10 < row["ratio_median"] < 28
    assert row["ratio_upper"] < 93
    np.testing.assert_allclose(6 * row["n_opt_median"] * row["d_opt_median"], CHINCHILLA_BUDGET)


@needs_chinchilla
def test_predict_at_n_and_d_covers_the_observed_losses(chinchilla_fit, chinchilla_data):
    """89% predictive intervals at the fitted (N, D) contain at least 85% of the losses."""
    points = chinchilla_data
    pred = chinchilla_fit.predict(n=points["n"], d=points["d"])
    inside = (pred["obs_lower"] <= points["loss"]) & (points["loss"] <= pred["obs_upper"])
    assert inside.mean() >= 0.85
    assert (pred["lower"] <= pred["median"]).all() and (pred["median"] <= pred["upper"]).all()


@needs_chinchilla
def test_allocation_survives_save_and_load(chinchilla_fit, tmp_path):
    chinchilla_fit.save(tmp_path / "fit.nc")
    loaded = bs.load(tmp_path / "fit.nc")
    pd.testing.assert_frame_equal(
        loaded.compute_optimal([1e21, CHINCHILLA_BUDGET]),
        chinchilla_fit.compute_optimal([1e21, CHINCHILLA_BUDGET]),
    )


def test_compute_optimal_allocation_minimises_loss_on_the_iso_flop_line():
    """Moving away from N_opt along C = 6 N D raises the loss (Hoffmann et al. 2022 values)."""
    params = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    budgets = np.array([1e20, CHINCHILLA_BUDGET, 1e26])
    opt = optimal_allocation(params, budgets)
    np.testing.assert_allclose(6 * opt["n_opt"] * opt["d_opt"], budgets)
    np.testing.assert_allclose(opt["ratio"], opt["d_opt"] / opt["n_opt"])
    law = get_law("chinchilla")
    for factor in (0.5, 0.9, 1.1, 2.0):
        n = opt["n_opt"] * factor
        loss = law.curve({"n": np.log(n), "d": np.log(budgets / (6 * n))}, params)
        assert np.all(loss > opt["loss_opt"])


@needs_chinchilla
def test_cli_fit_chinchilla_with_compute_and_budget(tmp_path):
    """`bayescale fit --law chinchilla --n --compute --budget` writes allocations with intervals."""
    out = tmp_path / "out"
    argv = [
        str(CHINCHILLA_CSV),
        *CHINCHILLA_CLI,
        "--budget",
        "1e21",
        str(CHINCHILLA_BUDGET),
        *(f"--{name}={QUICK_SAMPLER[name]}" for name in ("draws", "tune", "chains", "seed")),
        "--out",
        str(out),
    ]
    assert main(["fit", *argv]) == QUICK_STATUS
    payload = json.loads((out / "fit.json").read_text())
    assert set(payload["parameters"]) == {"E", "A", "B", "alpha", "beta"}
    assert payload["data"]["columns"]["compute"] == "Training FLOP"
    assert [a["compute"] for a in payload["allocations"]] == [1e21, CHINCHILLA_BUDGET]
    for allocation in payload["allocations"]:
        for name in QUANTITIES:
            stats = allocation[name]
            assert stats["lower"] <= stats["median"] <= stats["upper"]
    assert main(["fit", *argv]) == 2  # never overwrites without --overwrite


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--law", "chinchilla", "--x", "Model Size"], "needs n= and d="),
        (["--law", "sigmoid", "--x", "Model Size", "--budget", "1e21"], "--budget needs"),
        (["--law", "chinchilla", "--n", "Model Size", "--d", "x", "--compute", "x"], "not allowed"),
    ],
)
def test_cli_refuses_mismatched_inputs_in_one_line(tmp_path, capsys, extra, message):
    csv = tmp_path / "runs.csv"
    pd.DataFrame({"Model Size": [1e8, 2e8], "x": [1e9, 2e9], "loss": [3.0, 2.9]}).to_csv(csv)
    try:
        status = main(["fit", str(csv), "--y", "loss", *extra, "--out", str(tmp_path / "o")])
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_compute_column_is_validated_and_names_the_bad_row():
    frame = pd.DataFrame({"N": [1e8, 2e8, 4e8], "C": [1e18, -1.0, 4e18], "L": [3.0, 2.9, 2.8]})
    with pytest.raises(DataError, match=r"column 'C' must be > 0; row 1 has -1"):
        load_curves(frame, n="N", compute="C", y="L", bounded=False, min_points=1)
    with pytest.raises(DataError, match="without d="):
        load_curves(frame, n="N", d="C", compute="C", y="L", bounded=False, min_points=1)
    ok = load_curves(
        frame.assign(C=[6e18, 6e18, 6e18]), n="N", compute="C", y="L", bounded=False, min_points=1
    )
    np.testing.assert_allclose(ok.frame["d"], [1e10, 5e9, 2.5e9])


# ------------------------------------------------------------------ loader


def test_loader_downloads_once_and_reuses_the_cache(tmp_path, monkeypatch):
    source = tmp_path / "upstream.csv"
    pd.DataFrame(
        {"Model Size": [1e8, 2e8], "Training FLOP": [6e18, 1.2e19], "loss": [3.1, 2.9]}
    ).to_csv(source, index=False)
    cache = tmp_path / "cache"
    monkeypatch.setattr(datasets, "CHINCHILLA_URL", source.as_uri())
    first = datasets.load_chinchilla(cache_dir=cache)
    assert (cache / datasets.CHINCHILLA_FILE).is_file()
    np.testing.assert_allclose(first["d"], [1e10, 1e10])
    monkeypatch.setattr(datasets, "CHINCHILLA_URL", (tmp_path / "gone.csv").as_uri())
    pd.testing.assert_frame_equal(datasets.load_chinchilla(cache_dir=cache), first)


def test_failed_download_is_one_line_and_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "CHINCHILLA_URL", (tmp_path / "gone.csv").as_uri())
    with pytest.raises(DataError, match="download failed") as err:
        datasets.load_chinchilla(cache_dir=tmp_path / "cache")
    assert "\n" not in str(err.value)
    assert list((tmp_path / "cache").iterdir()) == []


def test_loader_names_a_missing_column(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"Model Size": [1e8], "loss": [3.0]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match="missing column 'Training FLOP'"):
        datasets.load_chinchilla(bad)


# ------------------------------------------------- power laws, known truth


def _power_law_data(truth: dict, x: np.ndarray, noise: float, seed: int) -> pd.DataFrame:
    """Losses from ``E + (X_c / X)^alpha`` with multiplicative noise of sd ``noise``."""
    rng = np.random.default_rng(seed)
    loss = truth.get("E", 0.0) + (truth["X_c"] / x) ** truth["alpha"]
    return pd.DataFrame({"params": x, "loss": loss * np.exp(noise * rng.standard_normal(x.size))})


def _covers(fit: bs.Fit, truth: dict, ci: float = 0.9) -> dict[str, bool]:
    table = fit.summary(ci=ci)
    return {k: bool(table.loc[k, "lower"] < v < table.loc[k, "upper"]) for k, v in truth.items()}


def test_power_law_recovers_kaplan_exponent():
    """Kaplan's alpha_N = 0.076, N_c = 8.8e13 lie in the 90% intervals of a power fit."""
    truth = {"alpha": 0.076, "X_c": 8.8e13}
    data = _power_law_data(truth, np.geomspace(1e6, 1e10, 25), noise=0.01, seed=12)
    fit = quiet_fit(data, "power", x="params", y="loss", **STAT_SAMPLER)
    assert fit.diagnostics.max_r_hat <= 1.01
    assert _covers(fit, truth) == {"alpha": True, "X_c": True}
    reach = fit.compute_to_reach(float(data["loss"].min()) * 0.95)
    assert reach["p_reachable"].iloc[0] == 1.0 and reach["lower"].iloc[0] > 1e10


@pytest.mark.slow
def test_power_law_with_irreducible_loss_recovers_exponent_and_floor():
    """E = 1.69, alpha = 0.34 (Chinchilla's N term as (X_c/N)^alpha) lie in the 90% intervals."""
    truth = {"E": 1.69, "alpha": 0.34, "X_c": 406.4 ** (1 / 0.34)}
    data = _power_law_data(truth, np.geomspace(1e7, 1e12, 30), noise=0.005, seed=12)
    fit = quiet_fit(data, "power_e", x="params", y="loss", **STAT_SAMPLER)
    assert fit.diagnostics.max_r_hat <= 1.01
    assert _covers(fit, truth) == {"E": True, "alpha": True, "X_c": True}
    below_floor = fit.compute_to_reach(1.5)
    assert below_floor["p_reachable"].iloc[0] == 0.0


def test_saturating_law_recovers_asymptote_and_exponent_from_simulated_runs():
    """Three simulated seeds of R = A - D / C^B (ScaleRL-like A = 0.61, B = 1.92):
    the true A and B lie in the 90% intervals; a target above A is unreachable."""
    truth = {"A": 0.61, "B": 1.92, "D": 0.31 * 2542.0**1.92}
    runs = simulate_runs(law="saturating", params=truth, x_max=50_000.0, rng=5)
    fit = quiet_fit(
        runs, "saturating", x="gpu_hours", y="pass_rate", run="seed", min_x=4000, **STAT_SAMPLER
    )
    assert fit.diagnostics.divergences == 0
    assert _covers(fit, {"A": 0.61, "B": 1.92}) == {"A": True, "B": True}
    assert fit.compute_to_reach(0.7)["p_reachable"].iloc[0] < 0.05
