"""Inference-aware allocation (Sardana et al. 2023) from a Chinchilla posterior."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import WROTE
from scipy.optimize import minimize_scalar

import bayescale as bs
from bayescale.cli import main
from bayescale.model.laws import get_law
from bayescale.results.allocation import optimal_allocation
from bayescale.results.inference_allocation import QUANTITIES, optimal_for_inference
from tests.conftest import CHINCHILLA_CLI, CHINCHILLA_CSV, QUICK_SAMPLER, needs_chinchilla

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
"""Hoffmann et al. (2022) approach 3: the law Sardana et al. build on."""
EPOCH = {"E": 1.82, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
"""Besiroglu et al. (2024) refit of approach 3."""


def draws_around(centre: dict, size: int, seed: int) -> dict[str, np.ndarray]:
    """Parameter 'draws' spread around ``centre`` (5% on E, 30% on A and B, 10% on
    the exponents), shaped ``(size, 1)`` to broadcast against a row of targets."""
    rng = np.random.default_rng(seed)
    spread = {"E": 0.05, "A": 0.3, "B": 0.3, "alpha": 0.1, "beta": 0.1}
    return {
        name: (value * np.exp(spread[name] * rng.standard_normal(size)))[:, None]
        for name, value in centre.items()
    }


def loss_of(p: dict, n: float, d: float) -> float:
    return float(get_law("chinchilla").curve({"n": np.log(n), "d": np.log(d)}, p))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_zero_inference_tokens_is_the_compute_optimal_allocation(seed):
    """Property: with no tokens served, both problems give the Chinchilla optimum of
    :func:`optimal_allocation` (same N and D to 1e-9 relative) and save nothing."""
    p = draws_around(EPOCH, 200, seed)
    budgets = np.array([[1e20, 5.88e23, 1e26]])
    frontier = optimal_allocation(p, budgets)
    by_budget = optimal_for_inference(p, 0.0, budget=budgets)
    np.testing.assert_allclose(by_budget["n"], frontier["n_opt"], rtol=1e-9)
    np.testing.assert_allclose(by_budget["d"], frontier["d_opt"], rtol=1e-9)
    np.testing.assert_allclose(by_budget["loss"], frontier["loss_opt"], rtol=1e-12)
    by_loss = optimal_for_inference(p, 0.0, loss=frontier["loss_opt"])
    np.testing.assert_allclose(by_loss["n"], frontier["n_opt"], rtol=1e-9)
    np.testing.assert_allclose(
        by_loss["total_flops"], np.broadcast_to(budgets, (200, 3)), rtol=1e-9
    )
    np.testing.assert_allclose(by_loss["saving"], 0.0, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mode", ["loss", "budget"])
def test_more_inference_means_a_smaller_model_trained_longer(seed, mode):
    """Property: as the tokens served grow, N falls and D and D/N rise, in every
    draw; at a target loss the saving against Chinchilla is >= 0 and grows."""
    p = draws_around(HOFFMANN, 100, seed)
    tokens = np.array([[0.0, 1e10, 1e11, 1e12, 1e13, 1e14]])
    target = {"loss": 2.1} if mode == "loss" else {"budget": 1e23}
    plan = optimal_for_inference(p, tokens, **target)
    assert np.all(np.isfinite(plan["n"]))
    assert np.all(np.diff(plan["n"], axis=1) < 0)
    assert np.all(np.diff(plan["d"], axis=1) > 0)
    assert np.all(np.diff(plan["ratio"], axis=1) > 0)
    assert np.all(plan["saving"] >= -1e-12)
    if mode == "loss":
        assert np.all(np.diff(plan["saving"], axis=1) > 0)
        np.testing.assert_allclose(plan["loss"], 2.1, rtol=1e-12)
    else:
        np.testing.assert_allclose(plan["total_flops"], 1e23, rtol=1e-9)


def _direct_at_loss(p: dict, loss: float, tokens: float) -> tuple[float, float]:
    """scipy's bounded minimisation of 6 N D(N) + 2 N T over log N, D(N) on the loss contour."""
    n_min = np.log(p["A"] / (loss - p["E"])) / p["alpha"]

    def cost(log_n):
        rest = loss - p["E"] - p["A"] * np.exp(-p["alpha"] * log_n)
        d = (p["B"] / rest) ** (1 / p["beta"])
        return np.log(6 * np.exp(log_n) * d + 2 * np.exp(log_n) * tokens)

    result = minimize_scalar(
        cost, bounds=(n_min + 1e-9, n_min + 40), method="bounded", options={"xatol": 1e-10}
    )
    return float(np.exp(result.x)), float(np.exp(result.fun))


def _direct_at_budget(p: dict, budget: float, tokens: float) -> tuple[float, float]:
    """scipy's bounded minimisation of L(N, D) over log N with 6 N D + 2 N T = budget."""
    ceiling = np.log(budget / (2 * tokens))

    def loss(log_n):
        n = np.exp(log_n)
        return loss_of(p, n, budget / (6 * n) - tokens / 3)

    result = minimize_scalar(
        loss, bounds=(ceiling - 40, ceiling - 1e-9), method="bounded", options={"xatol": 1e-10}
    )
    return float(np.exp(result.x)), float(result.fun)


@pytest.mark.parametrize("tokens", [1e11, 2e12, 5e13])
def test_each_draw_matches_a_direct_numerical_minimisation(tokens):
    """Per draw, the bisection agrees with scipy's bounded scalar minimiser: N to
    1e-4 relative, the total cost (target loss) or the loss (budget) to 1e-8."""
    p = draws_around(HOFFMANN, 40, seed=5)
    by_loss = optimal_for_inference(p, tokens, loss=2.05)
    by_budget = optimal_for_inference(p, tokens, budget=3e23)
    for i in range(40):
        draw = {name: float(value[i, 0]) for name, value in p.items()}
        if draw["E"] < 2.05:
            n, cost = _direct_at_loss(draw, 2.05, tokens)
            assert by_loss["n"][i, 0] == pytest.approx(n, rel=1e-4)
            assert by_loss["total_flops"][i, 0] == pytest.approx(cost, rel=1e-8)
        else:
            assert np.isnan(by_loss["n"][i, 0])
        n, loss = _direct_at_budget(draw, 3e23, tokens)
        assert by_budget["n"][i, 0] == pytest.approx(n, rel=1e-4)
        assert by_budget["loss"][i, 0] == pytest.approx(loss, rel=1e-8)


def test_the_papers_worked_example_with_its_law():
    """Sardana et al., Fig. 1: a 13B model of Chinchilla quality with 2T tokens of
    inference demand is better replaced by a ~7B model trained longer, saving
    ~17% (1.7e22 FLOPs) of the total. With the law they build on (Hoffmann et
    al.'s approach 3) and the 13B model compute-optimal under that same law, we
    get a smaller model (8.0B, not 7B) and a smaller saving (10%, 1.3e22 FLOPs;
    the paper's round figures follow for a 13B reference trained on ~58 tokens per
    parameter, docs/tasks.md). Checked: the direction, the size within 6-9B, the
    saving within 5-25% and 0.5e22-3e22 FLOPs."""
    alpha, beta = HOFFMANN["alpha"], HOFFMANN["beta"]
    g = (alpha * HOFFMANN["A"] / (beta * HOFFMANN["B"])) ** (1 / (alpha + beta))
    compute = 6 * (13e9 / g) ** ((alpha + beta) / beta)
    reference = optimal_allocation(HOFFMANN, compute)
    assert reference["n_opt"] == pytest.approx(13e9)
    plan = optimal_for_inference(HOFFMANN, 2e12, loss=reference["loss_opt"])
    assert plan["chinchilla_n"] == pytest.approx(13e9)
    assert 6e9 < plan["n"] < 9e9
    assert plan["ratio"] > reference["ratio"]
    assert 0.05 < plan["saving"] < 0.25
    assert 0.5e22 < plan["saving_flops"] < 3e22


def test_unreachable_loss_is_nan_and_options_are_checked():
    """A target at or below E has no allocation (NaN); one of loss=/budget= is required."""
    plan = optimal_for_inference(HOFFMANN, 1e12, loss=np.array([1.6, 2.0]))
    assert np.isnan(plan["n"][0]) and np.isfinite(plan["n"][1])
    with pytest.raises(ValueError, match="exactly one"):
        optimal_for_inference(HOFFMANN, 1e12)
    with pytest.raises(ValueError, match="exactly one"):
        optimal_for_inference(HOFFMANN, 1e12, loss=2.0, budget=1e23)


# ------------------------------------------------------------------ fit and CLI


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One quick `bayescale fit --law chinchilla --inference-tokens ... --target --budget`."""
    if not CHINCHILLA_CSV.is_file():
        pytest.skip("../shared/anchors/chinchilla is not present")
    out = tmp_path_factory.mktemp("inference") / "out"
    argv = [
        "fit",
        str(CHINCHILLA_CSV),
        *CHINCHILLA_CLI,
        "--target",
        "2.2",
        "--budget",
        "1e23",
        "--inference-tokens",
        "0",
        "2e12",
        *(f"--{name}={QUICK_SAMPLER[name]}" for name in ("draws", "tune", "chains", "seed")),
        "--out",
        str(out),
    ]
    assert main(argv) in WROTE
    return out


@needs_chinchilla
def test_cli_writes_inference_allocations_with_intervals(cli_run):
    """fit.json holds one record per (tokens, target) with ordered intervals; zero
    tokens save nothing, 2T tokens give a smaller model than zero tokens."""
    records = json.loads((cli_run / "fit.json").read_text())["inference_allocations"]
    assert [(r["inference_tokens"], "loss_target" in r) for r in records] == [
        (0.0, True),
        (2e12, True),
        (0.0, False),
        (2e12, False),
    ]
    for record in records:
        for name in QUANTITIES:
            stats = record[name]
            assert stats["lower"] <= stats["median"] <= stats["upper"]
    assert abs(records[0]["saving"]["median"]) < 1e-9
    assert records[1]["n"]["median"] < records[0]["n"]["median"]
    assert records[1]["saving"]["lower"] > 0


@needs_chinchilla
def test_fit_method_agrees_with_the_per_draw_function(cli_run):
    """Fit.inference_optimal summarises optimal_for_inference over the draws."""
    fit = bs.load(cli_run / "posterior.nc")
    table = fit.inference_optimal([2e12], budget=1e23, ci=0.9)
    params = {k: v.to_numpy().ravel() for k, v in fit.parameter_draws().items()}
    n = optimal_for_inference(params, 2e12, budget=1e23)["n"]
    assert table.loc[0, "n_median"] == pytest.approx(np.median(n))
    assert table.loc[0, "n_lower"] == pytest.approx(np.quantile(n, 0.05))
    assert table.loc[0, "p_reachable"] == 1.0
    with pytest.raises(ValueError, match="exactly one"):
        fit.inference_optimal(2e12)
    with pytest.raises(ValueError, match=">= 0"):
        fit.inference_optimal(-1.0, loss=2.0)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--law", "sigmoid", "--x", "Model Size", "--inference-tokens", "1e12"], "needs --law"),
        ([*CHINCHILLA_CLI, "--inference-tokens", "1e12"], "needs --target"),
        ([*CHINCHILLA_CLI, "--budget", "1e23", "--inference-tokens", "-1"], ">= 0"),
    ],
)
@needs_chinchilla
def test_cli_refuses_bad_inference_options_in_one_line(tmp_path, capsys, extra, message):
    """Bad --inference-tokens options: exit 2, one line naming the option, nothing written."""
    status = main(["fit", str(CHINCHILLA_CSV), "--y", "loss", *extra, "--out", str(tmp_path / "o")])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "o").exists()


@needs_chinchilla
def test_report_shows_the_inference_aware_allocation(cli_run):
    """The report's prediction section holds one table per kind of target."""
    from bayescale.reporting.report import build_report

    fit = bs.load(cli_run / "posterior.nc")
    text = build_report(fit, targets=[2.2], budgets=[1e23], inference_tokens=[2e12]).to_html()
    assert "Inference-aware allocation" in text
    assert "saving_lower" in text and "loss_target" in text
