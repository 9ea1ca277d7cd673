"""Extrapolation backtests and fit-window stability on the bundled data (known truth)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import QUICK_SAMPLER, QUICK_STATUS, STAT_SAMPLER

from bayescale.analysis.backtest import CutResult, asymptotes, backtest, coverage_warnings
from bayescale.analysis.windows import fit_windows
from bayescale.cli import main
from bayescale.studies.misspecified import simulate_ladder

COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "run": "seed"}


@pytest.fixture(scope="module")
def bundled_backtest(scalerl_csv):
    """Cut at 50k GPU-hours, scored against the true asymptote and noiseless curve."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return backtest(
            scalerl_csv,
            [50_000],
            **COLUMNS,
            min_x=1500,
            true_asymptote=0.61,
            truth_column="true_mean",
            keep_fits=True,
            **STAT_SAMPLER,
        )


def test_backtest_at_50k_reports_coverage_of_the_held_out_points(bundled_backtest):
    """150 held-out points (50 per seed beyond 50k); the 90% predictive intervals of
    each seed hold at least 80% of them and more than the 50% intervals do."""
    (cut,) = bundled_backtest.cuts
    assert (cut.cut, cut.n_train, cut.n_heldout) == (50_000.0, 147, 150)
    assert 0.8 <= cut.coverage_90 <= 1.0
    assert 0.2 <= cut.coverage_50 < cut.coverage_90
    assert bundled_backtest.reference == "true_asymptote"
    # the asymptote predicted from half the compute is within 0.02 of the truth
    assert cut.asymptote_error < 0.02
    assert cut.final_error < 0.02
    assert bundled_backtest.final_against == "true_mean"


def test_asymptote_is_the_curve_limit(bundled_backtest):
    """The infinite-compute limit of the sigmoid is its posterior median A."""
    fit = bundled_backtest.fits[50_000.0]
    expected = float(fit.draws_dataset["A"].median())
    assert asymptotes(fit)["all"] == pytest.approx(expected, abs=1e-9)


def test_backtest_rejects_a_cut_leaving_runs_too_few_points(scalerl_csv):
    with pytest.raises(ValueError, match="too few points"):
        backtest(scalerl_csv, [2000], **COLUMNS, min_x=1500, true_asymptote=0.61, **QUICK_SAMPLER)


def test_one_invalid_cut_is_skipped_with_a_note(scalerl_csv):
    """A cut leaving runs too few points no longer loses the other cuts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = backtest(
            scalerl_csv, [2000, 50_000], **COLUMNS, min_x=1500, true_asymptote=0.61, **QUICK_SAMPLER
        )
    assert [cut.cut for cut in result.cuts] == [50_000.0]
    assert len(result.notes) == 1 and result.notes[0].startswith("cut 2000 skipped:")
    assert "too few points" in result.to_dict()["notes"][0]


def test_coverage_far_below_nominal_warns():
    """6 of 39 held-out points inside the 90% intervals (the real 14B curve cut at
    step 15) warns; 33 of 39 (85%) is within the margin and does not."""
    low = CutResult(15.0, 45, 39, 0.05, 6 / 39, {}, float("nan"), float("nan"))
    near = CutResult(20.0, 45, 39, 0.4, 33 / 39, {}, float("nan"), float("nan"))
    few = CutResult(30.0, 45, 5, 0.0, 0.0, {}, float("nan"), float("nan"))
    messages = coverage_warnings([low, near, few])
    assert len(messages) == 1
    assert messages[0].startswith("cut 15: the 90% predictive intervals held 6 of 39")


def test_cli_backtest_writes_the_cuts_and_refuses_to_overwrite(scalerl_csv, tmp_path, capsys):
    """Without a known asymptote the reference is the all-data fit. With 100 draws x 2
    chains no fit can reach bulk ESS 400: the results are written, both fits are named
    as not converged in backtest.json and the printout, and the exit status is 3."""
    args = [
        "backtest", str(scalerl_csv), "--x", "gpu_hours", "--y", "pass_rate", "--run", "seed",
        "--min-x", "1500", "--cut", "50000", "--out", str(tmp_path),
        "--draws", str(QUICK_SAMPLER["draws"]), "--tune", str(QUICK_SAMPLER["tune"]),
        "--chains", str(QUICK_SAMPLER["chains"]), "--seed", "3",
    ]  # fmt: skip
    assert main(args) == QUICK_STATUS
    payload = json.loads((tmp_path / "backtest.json").read_text())
    assert payload["reference"] == "all-data fit"
    assert payload["unconverged"] == ["50000", "all-data fit"]
    assert payload["reference_converged"] is False
    (cut,) = payload["cuts"]
    assert cut["converged"] is False
    expected = {"cut", "n_train", "n_heldout", "coverage_50", "coverage_90"}
    assert expected | {"asymptote_error", "final_error"} <= set(cut)
    assert cut["n_heldout"] == 150 and 0 <= cut["coverage_90"] <= 1
    out = capsys.readouterr().out
    assert "coverage_90" in out
    assert "converged: NO" in out and "(not converged: cut 50000, all-data fit)" in out
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_backtest_names_a_missing_column(scalerl_csv, tmp_path, capsys):
    args = ["backtest", str(scalerl_csv), "--x", "compute", "--y", "pass_rate", "--cut", "5e4"]
    assert main([*args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "missing column 'compute'" in err and "Traceback" not in err


def test_fit_windows_shows_how_the_parameters_move(scalerl_csv):
    """ScaleRL's window check: 1.5k-50k and 5k-50k both hold the true A = 0.61 in
    their 90% intervals, and the shift is measured from the first window."""
    table = fit_windows(scalerl_csv, [(1500, 50_000), (5000, 50_000)], **COLUMNS, **STAT_SAMPLER)
    a = table[table["parameter"] == "A"].set_index("window")
    assert list(a.index) == ["1500-50000", "5000-50000"]
    assert (a["lower"] <= 0.61).all() and (a["upper"] >= 0.61).all()
    assert a["shift"].iloc[0] == 0.0
    assert a["n_points"].tolist() == [147, 138]
    assert set(table["parameter"]) == {"A", "B", "C_mid", "R0"}


def test_cli_windows_writes_the_table(scalerl_csv, tmp_path, capsys):
    """With 100 draws x 2 chains neither window's fit converges: the table is written,
    both windows are named in windows.json and the printout, and the status is 3."""
    args = [
        "windows", str(scalerl_csv), "--x", "gpu_hours", "--y", "pass_rate", "--run", "seed",
        "--window", "1500:50000", "5000:", "--out", str(tmp_path),
        "--draws", "100", "--tune", "150", "--chains", "2", "--seed", "1",
    ]  # fmt: skip
    assert main(args) == QUICK_STATUS
    payload = json.loads((tmp_path / "windows.json").read_text())
    assert payload["unconverged"] == ["1500-50000", "5000-"]
    assert "(not converged: window 1500-50000, window 5000-)" in capsys.readouterr().out
    rows = pd.DataFrame(payload["windows"])
    assert (rows["converged"] == False).all()  # noqa: E712
    assert set(rows["window"]) == {"1500-50000", "5000-"}
    assert np.isnan(rows.loc[rows["window"] == "5000-", "max_x"].astype(float)).all()
    bad = ["windows", str(scalerl_csv), "--y", "pass_rate", "--window", "5000", "--out", "x"]
    assert main(bad) == 2


def test_cli_backtest_cuts_a_ladder_by_size_and_skips_a_cut_too_early(tmp_path, capsys):
    """`--n/--d` backtests a pretraining ladder along N; a cut leaving too few models
    to fit, and one past the largest, are skipped with a note instead of aborting."""
    ladder = simulate_ladder("exact", rng=1)
    ladder.drop(columns="split").to_csv(tmp_path / "ladder.csv", index=False)
    args = [
        "backtest", str(tmp_path / "ladder.csv"), "--law", "chinchilla", "--n", "n", "--d", "d",
        "--y", "loss", "--cut", "1.5e7", "1e9", "1e12", "--out", str(tmp_path / "out"),
        "--draws", str(QUICK_SAMPLER["draws"]), "--tune", str(QUICK_SAMPLER["tune"]),
        "--chains", str(QUICK_SAMPLER["chains"]), "--seed", "3",
    ]  # fmt: skip
    assert main(args) == QUICK_STATUS
    out = capsys.readouterr().out
    payload = json.loads((tmp_path / "out" / "backtest.json").read_text())
    assert [cut["cut"] for cut in payload["cuts"]] == [1e9]
    assert payload["cuts"][0]["n_heldout"] == 2 and payload["cuts"][0]["max_decades"] > 1.9
    assert any(note.startswith("--cut 1.5e+07 skipped") for note in payload["notes"])
    assert any(
        note.startswith("--cut 1e+12 skipped: no point of")
        and note.endswith("it holds out nothing")
        for note in payload["notes"]
    )
    assert "note: --cut 1.5e+07 skipped" in out
