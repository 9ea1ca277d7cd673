"""``bayescale fit``: the fit.json contract, exit codes and never overwriting."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import QUICK_SAMPLER, QUICK_STATUS

import bayescale as bs
from bayescale.cli import main

STATS = {"mean", "sd", "lower", "upper", "r_hat", "ess_bulk"}


def _fit_args(csv, out, *extra):
    sampler = [
        "--draws",
        str(QUICK_SAMPLER["draws"]),
        "--tune",
        str(QUICK_SAMPLER["tune"]),
        "--chains",
        str(QUICK_SAMPLER["chains"]),
        "--seed",
        "3",
    ]
    columns = ["--x", "gpu_hours", "--y", "pass_rate", "--run", "seed", "--min-x", "1500"]
    return ["fit", str(csv), *columns, "--max-x", "50000", *sampler, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def cli_run(scalerl_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("fit")
    args = _fit_args(scalerl_csv, out, "--predict", "100000", "200000", "--target", "0.55", "0.9")
    args += ["--ci", "0.9"]
    status = main(args)
    return status, out


def test_fit_json_contract(cli_run, capsys):
    status, out = cli_run
    assert status == QUICK_STATUS
    payload = json.loads((out / "fit.json").read_text())
    assert payload["law"] == "sigmoid"
    assert payload["ci"] == 0.9
    assert set(payload["parameters"]) == {"A", "B", "C_mid", "R0"}
    for stats in payload["parameters"].values():
        assert set(stats) >= STATS
    assert set(payload["runs"]) == {"seed0", "seed1", "seed2"}
    assert set(payload["runs"]["seed0"]["A"]) >= STATS
    assert [p["x"] for p in payload["predictions"]] == [100000.0, 200000.0]
    for prediction in payload["predictions"]:
        assert set(prediction) >= {"x", "mean", "lower", "upper", "obs_lower", "obs_upper"}
        assert prediction["obs_lower"] < prediction["lower"] < prediction["upper"]
    targets = {t["target"]: t for t in payload["targets"]}
    assert set(targets[0.55]) >= {"target", "p_reachable", "median", "lower", "upper"}
    assert targets[0.9]["p_reachable"] == 0.0 and targets[0.9]["median"] is None
    assert set(payload["diagnostics"]) >= {"max_r_hat", "min_ess_bulk", "divergences"}


def test_fit_writes_a_loadable_posterior(cli_run):
    _, out = cli_run
    fit = bs.load(out / "posterior.nc")
    payload = json.loads((out / "fit.json").read_text())
    assert fit.summary(ci=0.9).loc["A", "mean"] == pytest.approx(payload["parameters"]["A"]["mean"])


def test_fit_prints_a_readable_table(scalerl_csv, tmp_path, capsys):
    assert main(_fit_args(scalerl_csv, tmp_path)) == QUICK_STATUS
    printed = capsys.readouterr().out
    assert "R(C) = R0 + (A - R0) / (1 + (C_mid / C)^B)" in printed
    assert "A[seed0]" in printed and "compute" not in printed.split("predictions")[0].lower()
    assert "note: excluded 3 of 300 rows with gpu_hours < 1500" in printed
    payload = json.loads((tmp_path / "fit.json").read_text())
    assert [p["x"] for p in payload["predictions"]] == [100000.0, 500000.0]  # 2x and 10x 50k


def test_fit_refuses_to_overwrite(scalerl_csv, tmp_path, capsys):
    (tmp_path / "fit.json").write_text("{}")
    assert main(_fit_args(scalerl_csv, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "fit.json already exists; pass --overwrite to replace it" in err
    assert (tmp_path / "fit.json").read_text() == "{}"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"column": "pass_rate", "row": 4, "value": 1.5},
            "column 'pass_rate' must lie in [0, 1]; line 6 has 1.5",
        ),
        (
            {"column": "gpu_hours", "row": 0, "value": -1.0},
            "column 'gpu_hours' must be > 0; line 2 has -1.0",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(scalerl_csv, tmp_path, edit, message):
    frame = pd.read_csv(scalerl_csv)
    frame.loc[edit["row"], edit["column"]] = edit["value"]
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    result = subprocess.run(
        [sys.executable, "-m", "bayescale.cli", *_fit_args(bad, tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"bayescale fit: error: {bad}: {message}"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "fit.json").exists()


def test_missing_column_and_bad_options_exit_2(scalerl_csv, tmp_path, capsys):
    assert (
        main(["fit", str(scalerl_csv), "--x", "gpu", "--y", "pass_rate", "--out", str(tmp_path)])
        == 2
    )
    assert "missing column 'gpu' (given as x)" in capsys.readouterr().err
    assert main(_fit_args(scalerl_csv, tmp_path, "--ci", "1.5")) == 2
    assert "--ci must lie strictly between 0 and 1" in capsys.readouterr().err
    assert main(_fit_args(scalerl_csv, tmp_path, "--prior", "A=Beta(alpha=2)")) == 2
    assert "Beta prior needs arguments alpha, beta" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", str(scalerl_csv)])
    assert exit_info.value.code == 2
