"""PSIS-LOO comparison of laws from our own pointwise log-likelihood."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest
from conftest import QUICK_CLI, QUICK_STATUS, STAT_SAMPLER

import bayescale as bs
from bayescale.analysis.law_comparison import compare_loo
from bayescale.cli import main
from bayescale.model.laws import Law, register_law
from bayescale.model.priors import Prior
from bayescale.results.pointwise import pointwise_log_likelihood, with_log_likelihood


def _loglinear_mean(ops, log_inputs, p):
    return p["R0"] + p["slope"] * (log_inputs["x"] - np.log(1500.0))


LOGLINEAR = Law(
    name="test_loglinear",
    formula="R(C) = R0 + slope * log(C / 1500)",
    inputs=("x",),
    parameters=("R0", "slope"),
    positive=frozenset({"slope"}),
    response="identity",
    bounded=True,
    mean=_loglinear_mean,
    default_priors=lambda data: {
        "R0": Prior("Normal", mu=0.4, sigma=0.2),
        "slope": Prior("LogNormal", mu=np.log(0.05), sigma=1.0),
    },
)
"""A wrong law for pass rates that saturate: a straight line in log compute."""


@pytest.fixture(scope="module")
def loglinear_fit(scalerl_csv):
    register_law(LOGLINEAR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit(
            scalerl_csv, LOGLINEAR.name, x="gpu_hours", y="pass_rate", run="seed",
            min_x=1500, max_x=50_000, **STAT_SAMPLER,
        )  # fmt: skip


def test_pointwise_log_likelihood_covers_every_observation(scalerl_fit):
    ll = pointwise_log_likelihood(scalerl_fit)
    assert ll.dims == ("chain", "draw", "obs")
    assert ll.sizes["obs"] == len(scalerl_fit.data) == 147
    assert np.isfinite(ll).all()
    assert "log_likelihood" in with_log_likelihood(scalerl_fit).children


def test_true_law_wins_the_loo_comparison(scalerl_fit, loglinear_fit):
    """The data follow a sigmoid: PSIS-LOO ranks it first, by more than two
    standard errors of the difference, and stacking puts nearly all weight on it."""
    result = compare_loo({"sigmoid": scalerl_fit, "loglinear": loglinear_fit})
    frame = result.frame
    assert frame.index[0] == "sigmoid"
    # arviz-stats 1.x: elpd_diff = elpd - best elpd, so <= 0
    assert -frame.loc["loglinear", "elpd_diff"] > 2 * frame.loc["loglinear", "dse"]
    assert frame.loc["sigmoid", "weight"] > 0.9
    assert set(result.pareto_k) == {"sigmoid", "loglinear"}
    assert (frame["n_bad_pareto_k"] == [(k > 0.7).sum() for k in result.pareto_k.values()]).all()
    expected = int((frame["n_bad_pareto_k"] > 0).sum()) + int((~frame["converged"]).sum())
    assert len(result.warnings) == expected


def test_comparison_refuses_fits_of_different_data(scalerl_fit):
    fewer = dataclasses.replace(
        scalerl_fit,
        data=dataclasses.replace(scalerl_fit.data, frame=scalerl_fit.data.frame.iloc[:-1]),
    )
    with pytest.raises(ValueError, match="different observations"):
        compare_loo({"all": scalerl_fit, "fewer": fewer})
    with pytest.raises(ValueError, match="at least two"):
        compare_loo({"one": scalerl_fit})


def _compare_laws_cli(scalerl_csv, out, sampler: list[str]) -> list[str]:
    return [
        "compare-laws", str(scalerl_csv), "--x", "gpu_hours", "--y", "pass_rate", "--run", "seed",
        "--min-x", "1500", "--max-x", "50000", "--laws", "sigmoid", LOGLINEAR.name,
        *sampler, "--out", str(out),
    ]  # fmt: skip


def test_cli_compare_laws(scalerl_csv, loglinear_fit, tmp_path, capsys):
    """The fixtures' sampler settings: both fits converge, so the exit status is 0."""
    sampler = [item for key, value in STAT_SAMPLER.items() for item in (f"--{key}", str(value))]
    assert main(_compare_laws_cli(scalerl_csv, tmp_path, sampler)) == 0
    payload = json.loads((tmp_path / "compare_laws.json").read_text())
    assert [row["model"] for row in payload["models"]] == ["sigmoid", LOGLINEAR.name]
    assert isinstance(payload["warnings"], list)
    for law in ("sigmoid", LOGLINEAR.name):
        entry = payload["laws"][law]
        assert {"max_r_hat", "divergences", "prior_reliance"} <= set(entry["diagnostics"])
        assert entry["parameters"][0]["parameter"] and "median" in entry["parameters"][0]
    assert payload["unconverged"] == []
    assert all(row["converged"] for row in payload["models"])
    assert "converged: yes" in capsys.readouterr().out


def test_cli_compare_laws_names_the_laws_that_did_not_converge(
    scalerl_csv, loglinear_fit, tmp_path, capsys
):
    """100 draws x 2 chains cannot reach bulk ESS 400: compare_laws.json is written,
    each law is marked and named, and the exit status is 3."""
    assert main(_compare_laws_cli(scalerl_csv, tmp_path, QUICK_CLI)) == QUICK_STATUS
    payload = json.loads((tmp_path / "compare_laws.json").read_text())
    assert payload["unconverged"] == ["sigmoid", LOGLINEAR.name]
    assert not any(row["converged"] for row in payload["models"])
    assert payload["laws"]["sigmoid"]["diagnostics"]["converged"] is False
    for law in ("sigmoid", LOGLINEAR.name):
        assert any(w.startswith(f"{law}: did not converge") for w in payload["warnings"])
    out = capsys.readouterr().out
    assert "converged: NO" in out and f"(not converged: law sigmoid, law {LOGLINEAR.name})" in out


def test_unconverged_candidates_are_marked(scalerl_fit, loglinear_fit):
    """A candidate with divergences is marked and warned about (issue 13, item 6)."""
    broken = dataclasses.replace(
        loglinear_fit,
        diagnostics=dataclasses.replace(
            loglinear_fit.diagnostics, max_r_hat=1.05, divergences=19, converged=None
        ),
    )
    result = compare_loo({"sigmoid": scalerl_fit, "broken": broken})
    assert not result.frame.loc["broken", "converged"]
    assert any(
        w.startswith("broken: did not converge (max R-hat 1.050, 19 divergences")
        for w in result.warnings
    )
    assert result.to_dict()["laws"]["broken"]["diagnostics"]["divergences"] == 19
    assert result.unconverged == ["broken"] and result.to_dict()["unconverged"] == ["broken"]
