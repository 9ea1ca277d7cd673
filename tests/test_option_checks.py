"""Issue 28, items 4, 5, 8, 9 and 10: every option checked before sampling, the
Python API's wrong inputs named, and the listed messages fixed.

Each refusal is one line, exit 2, reached before any sampling (sampling raises
:class:`Sampled` here) and leaves nothing written.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, QUICK_SAMPLER, WROTE
from test_cli_contract import BASE, SAMPLER, Sampled, _refused

import bayescale as bs
from bayescale.analysis import isoflop
from bayescale.cli import main
from bayescale.data.curves import DataError, load_curves
from bayescale.inference import fitting
from bayescale.model.priors import parse_prior
from bayescale.studies.isoflop_simulate import simulate_isoflop
from bayescale.studies.size_simulate import simulate_sizes

SCALERL = str(DATA / "scalerl_3seeds.csv")
COLUMNS = ["--x", "gpu_hours", "--y", "pass_rate", "--run", "seed", "--min-x", "1500"]


@pytest.fixture
def no_sampling(monkeypatch):
    def refuse(*args, **kwargs):
        raise Sampled

    monkeypatch.setattr(fitting, "sample_posterior", refuse)
    monkeypatch.setattr(isoflop, "fit_isoflop", refuse)


@pytest.fixture(scope="module")
def one_recipe(tmp_path_factory):
    path = tmp_path_factory.mktemp("one") / "one.csv"
    frame = pd.read_csv(DATA / "recipes.csv")
    frame[frame["recipe"] == "baseline"].to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def sweeps_with_a_repeat(tmp_path_factory):
    path = tmp_path_factory.mktemp("iso") / "repeat.csv"
    frame = simulate_isoflop(rng=2)
    pd.concat([frame, frame.iloc[[3]]]).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def huge_x(tmp_path_factory):
    path = tmp_path_factory.mktemp("huge") / "huge.csv"
    frame = pd.read_csv(SCALERL)
    frame.loc[frame["gpu_hours"].idxmax(), "gpu_hours"] = 1e308
    frame.to_csv(path, index=False)
    return str(path)


def _plan(*extra):
    return [*BASE["plan"], *extra]


CASES = {
    "binomial trials overflow": (
        [*BASE["fit"], "--likelihood", "binomial", "--trials", "1e25"],
        "trials must be a whole number >= 1 (at most 1e+09), got 1e+25",
    ),
    "plan sims above the draws": (
        _plan("--sims", "100000"),
        "--sims 100000 needs 100000 simulations, more than the fit's 20 posterior draws",
    ),
    "plan extend-to below the data": (
        _plan("--extend-to", "100"),
        "--extend-to 100 is not beyond the last gpu_hours of recipe",
    ),
    "report rope -1": ([*BASE["report"], "--rope", "-1"], "--rope -1: must be a finite number > 0"),
    "report parameter Z": ([*BASE["report"], "--parameter", "Z"], "--parameter 'Z' is not one of"),
    "compare r0 2": (
        [*BASE["compare"], "--r0", "2"],
        "--r0 2: a pass rate lies in [0, 1] (law 'sigmoid')",
    ),
    "backtest true asymptote 2": (
        [*BASE["backtest"], "--true-asymptote", "2"],
        "--true-asymptote 2: a pass rate lies in [0, 1]",
    ),
    "backtest cut beyond the data": (
        ["backtest", SCALERL, *COLUMNS, "--cut", "1e9"],
        "--cut 1e+09: no point of",
    ),
    "repeated prior argument": (
        [*BASE["fit"], "--prior", "A=Beta(alpha=2, beta=2, beta=900)"],
        "argument 'beta' is given twice",
    ),
    "prior without its name": (
        [*BASE["fit"], "--prior", "Beta(alpha=1, beta=1)"],
        "--prior 'Beta(alpha=1, beta=1)': name the parameter first, as NAME=",
    ),
    "x whose default predictions overflow": (
        None,  # built from the huge_x fixture
        "x = 1e+308 (row ",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_options_are_refused_in_one_line_before_sampling(
    case, tmp_path, capsys, no_sampling, huge_x
):
    argv, message = CASES[case]
    if argv is None:
        argv = ["fit", huge_x, *COLUMNS]
    out = tmp_path / "nested" / "out"
    line = _refused([*argv, *SAMPLER, "--out", str(out)], capsys)
    assert message in line, line
    assert list(tmp_path.iterdir()) == []


def test_the_overflowing_x_is_named_with_its_file_and_column(huge_x, tmp_path, capsys, no_sampling):
    line = _refused(["fit", huge_x, *COLUMNS, *SAMPLER, "--out", str(tmp_path / "o")], capsys)
    assert f"{huge_x}: x = 1e+308" in line and "column 'gpu_hours'" in line and "--predict" in line


def test_one_recipe_plan_and_compare_name_file_and_column(
    one_recipe, tmp_path, capsys, no_sampling
):
    out = ["--out", str(tmp_path / "o")]
    plan = ["plan", one_recipe, *COLUMNS, "--recipe", "recipe", "--baseline", "baseline"]
    line = _refused([*plan, *SAMPLER, "--sims", "5", *out], capsys)
    assert f"{one_recipe}: column 'recipe' holds only the baseline recipe 'baseline'" in line
    assert not line.endswith("choose from ")
    compare = ["compare", one_recipe, *COLUMNS, "--recipe", "recipe"]
    line = _refused([*compare, *SAMPLER, *out], capsys)
    assert f"{one_recipe}: column 'recipe' holds one recipe (baseline)" in line


@pytest.mark.parametrize("command", ["isoflop", "next-run"])
def test_isoflop_and_next_run_refuse_repeated_rows(
    command, sweeps_with_a_repeat, tmp_path, capsys, no_sampling
):
    from test_isoflop_cli import QUICK, _base

    out = tmp_path / "out"
    line = _refused([*_base(command, sweeps_with_a_repeat), *QUICK, "--out", str(out)], capsys)
    assert "columns 'compute' and 'n' repeat a (budget, size) run; lines 5, 122" in line
    assert not out.exists()


@pytest.mark.parametrize("command", ["fit", "report", "compare"])
def test_an_empty_out_is_refused(command, tmp_path, capsys, no_sampling, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = _refused([*BASE[command], *SAMPLER, "--out", ""], capsys)
    assert "--out is empty" in line
    assert list(tmp_path.iterdir()) == []


def test_fit_sizes_names_size_and_predict_size_alone_works(tmp_path, capsys):
    csv = tmp_path / "sizes.csv"
    simulate_sizes([1e9, 2e9, 4e9], n_runs=1, x_max=20_000.0, rng=3).to_csv(csv, index=False)
    args = ["fit-sizes", str(csv), "--x", "gpu_hours", "--y", "pass_rate", "--run", "seed"]
    line = _refused([*args, "--size", "nope", *SAMPLER, "--out", str(tmp_path / "o")], capsys)
    assert "missing column 'nope' (given as size)" in line
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main(
            [*args, "--size", "size", "--predict-size", "1e10", *SAMPLER, "--out", str(out)]
        )
    assert status in WROTE, capsys.readouterr().err  # used to crash after sampling
    payload = json.loads((out / "sizes.json").read_text())
    assert payload["at_sizes"][-1]["size"] == 1e10 and payload["predictions"] == []


def test_a_huge_csv_cell_is_read(tmp_path):
    """A cell over the csv module's 131,072-character limit (even in an unused
    column) used to end in a traceback."""
    frame = pd.read_csv(SCALERL).head(12)
    frame["note"] = ""
    frame.loc[0, "note"] = "x" * 200_000
    path = tmp_path / "notes.csv"
    frame.to_csv(path, index=False)
    data = load_curves(path, x="gpu_hours", y="pass_rate", run="seed", min_points=1)
    assert len(data) == 12


def test_python_api_names_wrong_inputs():
    frame = pd.read_csv(SCALERL)
    columns = {"x": "gpu_hours", "y": "pass_rate", "run": "seed"}
    wrong = {
        "a pandas Series": frame["pass_rate"],
        "a NumPy array, which has no column names": frame[["gpu_hours", "pass_rate"]].to_numpy(),
        "a dict that is not run name -> DataFrame; pass pd.DataFrame(data)": frame.to_dict(
            orient="list"
        ),
    }
    for message, data in wrong.items():
        with pytest.raises(DataError, match="^" + re.escape(f"data is {message}")):
            bs.fit(data, **columns, check_only=True)
    doubled = pd.concat([frame, frame[["pass_rate"]]], axis=1)
    with pytest.raises(DataError, match=r"column 'pass_rate' \(given as y\) more than once"):
        bs.fit(doubled, **columns, check_only=True)
    with pytest.raises(ValueError, match=r"prior of 'A' is int 5; give a Prior"):
        bs.fit(frame, **columns, priors={"A": 5}, check_only=True)
    with pytest.raises(ValueError, match="argument 'beta' is given twice"):
        parse_prior("Beta(alpha=2, beta=2, beta=900)")


def test_predict_with_no_points_is_a_data_error(recipes_fit):
    with pytest.raises(DataError, match="predict: give at least one"):
        recipes_fit.predict([], recipe=recipes_fit.recipes[0])


def test_an_all_decided_plan_reports_the_decisions_instead_of_failing(tmp_path, capsys):
    """Whether a pair is decided is known only after the fit: that is a result."""
    frame = pd.read_csv(DATA / "recipes.csv")
    path = tmp_path / "two.csv"
    frame[frame["recipe"].isin(["baseline", "better"])].to_csv(path, index=False)
    args = ["plan", str(path), *COLUMNS, "--recipe", "recipe", "--baseline", "baseline"]
    args += ["--rope", "1e-9", "--sims", "5"]  # so narrow a ROPE decides at once
    sampler = [item for k, v in QUICK_SAMPLER.items() for item in (f"--{k}", str(v))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([*args, *sampler, "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status in WROTE, captured.err
    assert "every comparison is already decided" in captured.out
    payload = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert payload["plans"] == [] and payload["current"][0]["decision"] != "undecided"
    assert payload["converged"] is (status == 0)  # the comparison's fit, also with no plan
    assert np.isfinite(payload["current"][0]["mean"])
