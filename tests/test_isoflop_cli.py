"""``bayescale isoflop`` and ``bayescale next-run``: outputs, and refusals that are one
line, exit 2, found before any sampling and leave nothing written."""

from __future__ import annotations

import json

import pytest
from conftest import CHINCHILLA_CSV, needs_chinchilla
from test_cli_contract import Sampled, _refused

from bayescale.analysis import isoflop
from bayescale.cli import main
from bayescale.cli.common import NOT_CONVERGED
from bayescale.studies.isoflop_simulate import simulate_isoflop

QUICK = ["--draws", "150", "--tune", "150", "--chains", "2", "--seed", "3"]
#: Sampler settings with which the isoFLOP fit of :func:`sweeps` converges.
CONVERGING = ["--draws", "1000", "--tune", "1000", "--chains", "4"]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    path = tmp_path_factory.mktemp("iso") / "sweeps.csv"
    simulate_isoflop(rng=2).to_csv(path, index=False)
    return str(path)


def _base(command: str, sweeps: str) -> list[str]:
    columns = ["--compute", "compute", "--n", "n", "--y", "loss"]
    if command == "isoflop":
        return ["isoflop", sweeps, *columns, "--budget", "1e23", "3.8e25"]
    return ["next-run", sweeps, *columns, "--target-compute", "3.8e25", "--run-budget", "1e23"]


@pytest.fixture
def no_sampling(monkeypatch):
    """Fitting raises :class:`Sampled` (the contract tests' marker) instead."""

    def refuse(*args, **kwargs):
        raise Sampled

    monkeypatch.setattr(isoflop, "fit_isoflop", refuse)


FAULTS = [
    ("isoflop", ["--y", "nope"], "missing column 'nope'"),
    ("isoflop", ["--budget", "-1"], "--budget -1: must be a finite number > 0"),
    ("isoflop", ["--draws", "0"], "--draws must be at least 1"),
    ("isoflop", ["--budget-tolerance", "-1"], "--budget-tolerance"),
    ("next-run", ["--run-budget", "0"], "--run-budget 0: must be a finite number > 0"),
    ("next-run", ["--target", "loss_opt"], "--target loss_opt needs --model chinchilla"),
    ("next-run", ["--candidates", "/nonexistent.csv"], "no such file"),
    ("next-run", ["--compute", "nope"], "missing column 'nope'"),
]


@pytest.mark.parametrize(("command", "extra", "message"), FAULTS)
def test_refusals_are_one_line_before_sampling(
    command, extra, message, sweeps, tmp_path, capsys, no_sampling
):
    out = tmp_path / "out"
    line = _refused([*_base(command, sweeps), *QUICK, *extra, "--out", str(out)], capsys)
    assert line.startswith(f"bayescale {command}: error: ")
    assert message in line
    assert not out.exists()


@pytest.mark.parametrize("command", ["isoflop", "next-run"])
def test_valid_options_reach_sampling_and_leave_no_folder(command, sweeps, tmp_path, no_sampling):
    with pytest.raises(Sampled):
        main([*_base(command, sweeps), *QUICK, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_too_few_sizes_names_the_budgets(tmp_path, capsys, no_sampling):
    path = tmp_path / "few.csv"
    frame = simulate_isoflop(rng=2)
    frame[frame.index % 12 < 2].to_csv(path, index=False)
    line = _refused([*_base("isoflop", str(path)), *QUICK, "--out", str(tmp_path / "o")], capsys)
    assert "at least 3 distinct sizes" in line and "6e+18 (2)" in line


def test_isoflop_writes_json_and_figure_and_refuses_to_overwrite(sweeps, tmp_path, capsys):
    out = tmp_path / "out"
    status = main([*_base("isoflop", sweeps), *QUICK, "--ci", "0.9", "--out", str(out)])
    payload = json.loads((out / "isoflop.json").read_text())
    # 150 draws x 2 chains cannot reach bulk ESS 400: results written, flagged (status 3)
    assert status == NOT_CONVERGED and payload["converged"] is False
    assert payload["diagnostics"]["converged"] is False
    assert {"budgets", "frontier", "allocations", "diagnostics", "files"} <= set(payload)
    assert [r["compute"] for r in payload["allocations"]] == [1e23, 3.8e25]
    assert set(payload["allocations"][0]) == {"compute", "n_opt", "d_opt", "ratio"}
    assert set(payload["frontier"]["a"]) == {"mean", "median", "lower", "upper"}
    assert (out / "isoflop.png").stat().st_size > 0
    capsys.readouterr()
    line = _refused([*_base("isoflop", sweeps), *QUICK, "--out", str(out)], capsys)
    assert "already exists; pass --overwrite to replace it" in line


def _next_run(sweeps: str, tmp_path, sampler: list[str]) -> tuple[int, dict]:
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("candidate,compute,n\na,1e22,5e9\na,1e22,2e10\na,1e22,8e10\nb,6e18,1e9\n")
    out = tmp_path / "out"
    argv = [*_base("next-run", sweeps), "--candidates", str(candidates), *sampler]
    status = main([*argv, "--out", str(out)])
    assert (out / "next_run.png").stat().st_size > 0
    return status, json.loads((out / "next_run.json").read_text())


def test_next_run_writes_json_and_figure(sweeps, tmp_path, capsys):
    """150 draws x 2 chains cannot reach bulk ESS 400: the design is written, flagged
    as resting on an unconverged fit, and the exit status is 3."""
    status, payload = _next_run(sweeps, tmp_path, QUICK)
    assert status == NOT_CONVERGED and payload["converged"] is False
    assert payload["run_budget"] == 1e23 and payload["expected_sd"] <= payload["prior_sd"]
    assert {c["candidate"] for c in payload["candidates"]} == {"a", "b"}
    assert any("ESS" in message for message in payload["warnings"])
    assert "converged: NO" in capsys.readouterr().out


def test_next_run_on_a_converged_fit_exits_0(sweeps, tmp_path, capsys):
    status, payload = _next_run(sweeps, tmp_path, [*CONVERGING, "--seed", "3"])
    assert status == 0 and payload["converged"] is True
    assert "converged: yes" in capsys.readouterr().out


def test_bad_candidate_values_are_one_line(sweeps, tmp_path, capsys, no_sampling):
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("candidate,compute,n\na,1e22,-5\n")
    argv = [*_base("next-run", sweeps), "--candidates", str(candidates), *QUICK]
    line = _refused([*argv, "--out", str(tmp_path / "o")], capsys)
    assert "column 'n' must be > 0; line 2" in line


@needs_chinchilla
def test_epoch_chinchilla_runs_are_told_they_form_no_budgets(tmp_path, capsys):
    """Epoch's 245 digitised runs: the refusal names five budgets, not all 245 values."""
    columns = ["--compute", "Training FLOP", "--n", "Model Size", "--y", "loss"]
    argv = ["isoflop", str(CHINCHILLA_CSV), *columns, "--budget-tolerance", "0.05"]
    line = _refused([*argv, *QUICK, "--out", str(tmp_path / "o")], capsys)
    assert "11 of 21 budgets have fewer: 1.4e+18 (1)," in line and " and 6 more; " in line
    assert "245 distinct values fall into no clearly separated budgets" in line
