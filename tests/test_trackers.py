"""Curves read where researchers keep them: W&B exports and histories, TensorBoard
logs, MLflow stores, wide tables; one-line refusals; steps to compute.

The files are written by the trackers' own writers (:mod:`tracker_files`).
"""

from __future__ import annotations

import json
import re
import shlex
import sys

import numpy as np
import pandas as pd
import pytest
import tracker_files as tf
from conftest import QUICK_CLI, ROOT, WROTE
from test_cli_contract import SAMPLER, Sampled, _refused, no_sampling  # noqa: F401

import bayescale as bs
from bayescale.cli import main
from bayescale.data.curves import DataError

pytest.importorskip("tensorboard")
pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Each source of the same three runs -> (path, --x, --y)."""
    root = tmp_path_factory.mktemp("trackers")
    return {
        "wandb": (tf.write_wandb_export(root / "export.csv"), "Step", [tf.METRIC]),
        "tensorboard": (tf.write_tensorboard(root / "tb", resumed=True), "step", [tf.METRIC]),
        "mlflow": (tf.write_mlflow(root / "mlruns"), "step", [tf.METRIC]),
        "wide": (tf.write_wide_csv(root / "wide.csv"), "step", ["seed0", "seed1", "seed2"]),
    }


def _truth() -> pd.DataFrame:
    frames = [frame.assign(run=name) for name, frame in tf.curves().items()]
    return pd.concat(frames, ignore_index=True).rename(columns={tf.METRIC: "y", "step": "x"})


def _same_points(curves, truth: pd.DataFrame, *, atol: float = 1e-6) -> None:
    got = curves.frame.sort_values(["run", "x"]).reset_index(drop=True)
    want = truth.sort_values(["run", "x"]).reset_index(drop=True)
    assert got["run"].tolist() == want["run"].tolist()
    np.testing.assert_allclose(got["x"], want["x"])
    np.testing.assert_allclose(got["y"], want["y"], atol=atol)  # TensorBoard keeps float32


@pytest.mark.parametrize("kind", ["wandb", "tensorboard", "mlflow", "wide"])
def test_every_source_reads_the_same_points_and_says_what_it_did(sources, kind):
    path, x, y = sources[kind]
    curves = bs.load_curves(path, x=x, y=y if kind == "wide" else y[0])
    assert curves.runs == ["seed0", "seed1", "seed2"]
    assert len(curves) == tf.N_POINTS
    _same_points(curves, _truth())
    notes = " ".join(curves.notes)
    if kind in ("wandb", "wide"):  # seed2 stopped at step 2500: blank cells, named
        assert "run 'seed2' is blank at 15 of 40" in notes
    if kind == "tensorboard":  # seed1 resumed from step 2000: the later values win, said
        assert "run 'seed1' logged eval/pass_rate at 11 steps more than once" in notes
        assert "kept the later value" in notes
    if kind == "mlflow":
        assert "run 'seed1' logged eval/pass_rate at 1 step more than once (step 1000" in notes


@pytest.mark.parametrize("kind", ["wandb", "tensorboard", "mlflow", "wide"])
def test_cli_fit_keeps_every_point_of_three_runs(sources, kind, tmp_path, capsys):
    path, x, y = sources[kind]
    out = tmp_path / "out"
    status = main(["fit", str(path), "--x", x, "--y", *y, *QUICK_CLI, "--out", str(out)])
    assert status in WROTE, capsys.readouterr().err
    data = json.loads((out / "fit.json").read_text())["data"]
    assert data["runs"] == ["seed0", "seed1", "seed2"]
    assert data["n_points"] == tf.N_POINTS


def test_steps_become_compute_recorded_in_the_fit_and_its_plot(sources, tmp_path, capsys):
    path, _, y = sources["tensorboard"]
    out = tmp_path / "out"
    argv = ["fit", str(path), "--x", "step", "--y", *y, "--compute-per-step", "2"]
    assert main([*argv, "--min-x", "1500", *QUICK_CLI, "--out", str(out)]) in WROTE
    printed = capsys.readouterr().out
    assert "note: x is compute (step × 2): steps converted to compute" in printed
    data = json.loads((out / "fit.json").read_text())["data"]
    assert data["columns"]["x"] == "compute (step × 2)"
    assert data["columns"]["compute_per_step"] == "2.0"
    fit = bs.load(out / "posterior.nc")
    assert fit.data.frame["x"].min() == 1600  # step 800 x 2 GPU-hours
    from bayescale.reporting.plots import plot_fit

    assert plot_fit(fit).get_xlabel() == "compute (step × 2)"


def test_compute_per_step_can_be_a_column():
    frame = pd.DataFrame({"step": [100, 200, 300], "per": [2.0, 2.0, 3.0], "r": [0.1, 0.2, 0.3]})
    curves = bs.load_curves(frame, x="step", y="r", compute_per_step="per", min_points=1)
    assert curves.frame["x"].tolist() == [200.0, 400.0, 900.0]
    assert curves.columns["x"] == "compute (step × per)"
    with pytest.raises(DataError, match=r"column 'per' must be > 0 \(compute per step\); row 2"):
        bs.load_curves(frame.assign(per=[2, 2, 0]), x="step", y="r", compute_per_step="per")


def test_pandas_wide_frame_with_runs_and_a_pattern():
    wide = pd.DataFrame({"step": tf.STEPS})
    for name, curve in tf.curves().items():
        wide[name] = curve.set_index("step")[tf.METRIC].reindex(tf.STEPS).to_numpy()
    by_runs = bs.load_curves(wide, x="step", y="pass_rate", runs=["seed0", "seed1", "seed2"])
    by_pattern = bs.load_curves(wide, x="step", y="seed*")
    assert by_runs.columns["y"] == "pass_rate"
    assert by_runs.frame.equals(by_pattern.frame)
    _same_points(by_runs, _truth())


def test_polars_frames_are_read_without_polars_being_a_dependency(tmp_path):
    pl = pytest.importorskip("polars")
    long = _truth().rename(columns={"x": "step", "y": "pass_rate"})
    curves = bs.load_curves(pl.from_pandas(long), x="step", y="pass_rate", run="run")
    assert curves.runs == ["seed0", "seed1", "seed2"] and len(curves) == tf.N_POINTS
    wide = pl.read_csv(tf.write_wide_csv(tmp_path / "wide.csv"))
    assert len(bs.load_curves(wide, x="step", y="seed*")) == tf.N_POINTS


def test_wandb_histories_as_a_mapping_or_a_folder(tmp_path):
    from_mapping = bs.load_curves(tf.histories(), x="_step", y=tf.METRIC)
    from_folder = bs.load_curves(tf.write_histories(tmp_path), x="_step", y=tf.METRIC)
    for curves in (from_mapping, from_folder):
        _same_points(curves, _truth())
        assert "W&B history: run 'seed0' logged no eval/pass_rate in 40 of 80 rows" in " ".join(
            curves.notes
        )
    assert from_folder.sha256 is not None and from_folder.path == str(tmp_path.resolve())


def test_step_zero_is_excluded_by_min_x_before_it_is_checked(tmp_path, capsys):
    """The README's promise, now kept by the CLI: --min-x excludes x = 0 rows first."""
    path = tmp_path / "rl.csv"
    long = _truth().rename(columns={"x": "Step", "y": "reward", "run": "model"})
    start = pd.DataFrame({"Step": 0, "reward": 0.05, "model": ["seed0", "seed1", "seed2"]})
    pd.concat([start, long]).to_csv(path, index=False)
    columns = ["--x", "Step", "--y", "reward", "--run", "model"]
    line = _refused(["fit", str(path), *columns, *SAMPLER, "--out", str(tmp_path / "o")], capsys)
    assert "column 'Step' must be > 0; lines 2, 3, 4 have 0" in line
    curves = bs.load_curves(path, x="Step", y="reward", run="model", min_x=1)
    assert len(curves) == tf.N_POINTS and "excluded 3 of 108 rows with Step < 1" in curves.notes


@pytest.mark.parametrize(
    "command",
    [
        ["fit", "--min-x", "1"],
        ["backtest", "--min-x", "1", "--cut", "3000"],
        ["windows", "--window", "1:3000", "100:"],
        ["compare-laws", "--min-x", "1"],
        ["report", "--min-x", "1"],
    ],
    ids=lambda c: c[0],
)
def test_curve_commands_read_tracker_logs_with_step_zero(
    command,
    tmp_path_factory,
    tmp_path,
    capsys,
    no_sampling,  # noqa: F811
):
    root = tmp_path_factory.mktemp("tb0")
    logs = tf.write_tensorboard(root / "tb")
    from tensorboard.summary import Writer

    for name in tf.LAST_STEP:  # the evaluation at step 0, logged by each run
        writer = Writer(str(logs / name))
        writer.add_scalar(tf.METRIC, 0.05, 0)
        writer.close()
    argv = [command[0], str(logs), "--x", "step", "--y", tf.METRIC, *command[1:], *SAMPLER]
    with pytest.raises(Sampled):
        main([*argv, "--out", str(tmp_path / "out")])


def _wandb(sources):
    return str(sources["wandb"][0])


BAD = {
    "absent W&B metric": (
        lambda s: [_wandb(s), "--x", "Step", "--y", "eval/pass"],
        "export.csv: no metric 'eval/pass' in the W&B export; the metrics are (closest "
        "first): eval/pass_rate",
    ),
    "absent TensorBoard tag": (
        lambda s: [str(s["tensorboard"][0]), "--x", "step", "--y", "train/los"],
        "no metric 'train/los' in the TensorBoard log; the metrics are (closest first): "
        "train/loss, eval/pass_rate",
    ),
    "absent MLflow metric": (
        lambda s: [str(s["mlflow"][0]), "--x", "step", "--y", "pass_rate"],
        "no metric 'pass_rate' in the MLflow store; the metrics are (closest first): "
        "eval/pass_rate",
    ),
    "bad x of a log": (
        lambda s: [str(s["tensorboard"][0]), "--x", "gpu_hours", "--y", tf.METRIC],
        "x must be 'step', 'wall_time' or a metric logged at the same steps; got 'gpu_hours'",
    ),
    "run emptied by the window": (
        lambda s: [_wandb(s), "--x", "Step", "--y", tf.METRIC, "--min-x", "3000"],
        "export.csv: run 'seed2' has no eval/pass_rate inside the window (Step >= 3000)",
    ),
    "run option with a tracker": (
        lambda s: [_wandb(s), "--x", "Step", "--y", tf.METRIC, "--run", "seed"],
        "the runs of a wandb source are named by it; drop run='seed' (--run)",
    ),
    "missing wide column": (
        lambda s: [str(s["wide"][0]), "--x", "step", "--y", "seed0", "sed1"],
        "wide.csv: missing run column 'sed1'; the columns are (closest first): seed1",
    ),
    "pattern matching nothing": (
        lambda s: [str(s["wide"][0]), "--x", "step", "--y", "run*"],
        "wide.csv: no column matches 'run*'; the columns are: gpu_hours, seed0, seed1, seed2",
    ),
    "folder of nothing known": (
        lambda s: [str(s["empty"]), "--x", "step", "--y", "m"],
        "empty: is a folder with no TensorBoard event files (events.out.tfevents.*)",
    ),
    "MLflow database store": (
        lambda s: [str(s["empty"] / "mlflow.db"), "--x", "step", "--y", tf.METRIC],
        "mlflow.db: an MLflow database store (mlflow.db) is not read",
    ),
    "format that does not fit": (
        lambda s: [_wandb(s), "--x", "Step", "--y", tf.METRIC, "--format", "tensorboard"],
        "format 'tensorboard' is read from a folder, not from one table",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_sources_are_refused_in_one_line(
    case,
    sources,
    tmp_path,
    capsys,
    no_sampling,  # noqa: F811
):
    build, message = BAD[case]
    (tmp_path / "empty").mkdir()
    args = build({**sources, "empty": tmp_path / "empty"})
    line = _refused(["fit", *args, *SAMPLER, "--out", str(tmp_path / "out")], capsys)
    assert line.startswith("bayescale fit: error: ")
    assert message in line


def test_tensorboard_without_the_extra_names_it(
    sources,
    monkeypatch,
    tmp_path,
    capsys,
    no_sampling,  # noqa: F811
):
    for name in [name for name in sys.modules if name.split(".")[0] == "tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    path, x, y = sources["tensorboard"]
    argv = ["fit", str(path), "--x", x, "--y", *y, *SAMPLER, "--out", str(tmp_path / "o")]
    line = _refused(argv, capsys)
    assert "reading TensorBoard logs needs the optional reader: pip install " in line
    assert "'bayescale[tensorboard]'" in line


def test_nested_tensorboard_folders_name_runs_by_their_path_and_can_be_recipes(tmp_path):
    for recipe in ("recipe_a", "recipe_b"):
        tf.write_tensorboard(tmp_path / recipe)
    curves = bs.load_curves(tmp_path, x="step", y=tf.METRIC)
    assert curves.runs[:3] == ["recipe_a/seed0", "recipe_a/seed1", "recipe_a/seed2"]
    assert curves.recipes == ["all"]
    by_folder = bs.load_curves(tmp_path, x="step", y=tf.METRIC, recipe="folder")
    assert by_folder.runs == curves.runs and by_folder.recipes == ["recipe_a", "recipe_b"]


@pytest.mark.parametrize(
    "command", [["compare", "--recipe"], ["plan", "--baseline", "a", "--sims", "5", "--recipe"]]
)
def test_recipes_of_tracker_logs_reach_compare_and_plan(
    command,
    tmp_path,
    no_sampling,  # noqa: F811
):
    """``compare`` and ``plan`` read the same logs: TensorBoard folders or MLflow experiments."""
    for recipe in ("a", "b"):
        tf.write_tensorboard(tmp_path / "tb" / recipe)
        tf.write_mlflow(tmp_path / "mlruns", experiment=recipe)
    for source, group in (("tb", "folder"), ("mlruns", "experiment")):
        argv = [command[0], str(tmp_path / source), "--x", "step", "--y", tf.METRIC]
        with pytest.raises(Sampled):
            main([*argv, *command[1:], group, *SAMPLER, "--out", str(tmp_path / "out")])


DOC = ROOT / "docs" / "reading_curves.md"


def _doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


@pytest.fixture(scope="module")
def doc_folder(tmp_path_factory):
    return tf.write_all(tmp_path_factory.mktemp("doc"))


def test_doc_python_examples_run(doc_folder, monkeypatch):
    monkeypatch.chdir(doc_folder)
    namespace: dict = {}
    blocks = _doc_blocks("python")
    assert len(blocks) >= 6
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)


def test_doc_commands_pass_their_checks_or_print_the_error_shown(
    doc_folder,
    monkeypatch,
    capsys,
    no_sampling,  # noqa: F811
):
    """Each ``$ bayescale ...`` line reaches sampling, or prints exactly the error below it."""
    monkeypatch.chdir(doc_folder)
    commands = []
    for block in _doc_blocks("console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                commands.append([line[2:], None])
            else:
                commands[-1][1] = line
    assert len(commands) >= 10
    for command, expected in commands:
        argv = [*shlex.split(command)[1:], *SAMPLER]
        if expected is None:
            with pytest.raises(Sampled):
                main(argv)
        else:
            assert main(argv) == 2, command
            assert capsys.readouterr().err.strip() == expected


def test_one_column_of_a_wide_table_says_the_others_look_like_runs(sources):
    """The issue's first surprise: ``--y seed0`` fitted one seed without a word."""
    path, _, _ = sources["wide"]
    curves = bs.load_curves(path, x="step", y="seed0")
    assert curves.runs == ["all"]
    assert curves.notes[0].startswith("all rows form one run; columns seed1, seed2 look like")
    assert "--y seed0 seed1 seed2 or 'seed*'" in curves.notes[0]
