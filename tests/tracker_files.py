"""Real tracker files for the tests, written with the trackers' own writers.

Three runs of one recipe (``seed0``, ``seed1``, ``seed2``), evaluated every 100
steps from step 100 to 4000; ``seed2`` stopped early, at step 2500. The pass
rate follows the ScaleRL sigmoid in compute = 2 GPU-hours per step, plus noise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

METRIC = "eval/pass_rate"
STEPS = np.arange(100, 4001, 100)
LAST_STEP = {"seed0": 4000, "seed1": 4000, "seed2": 2500}
GPU_HOURS_PER_STEP = 2.0
N_POINTS = sum(int((STEPS <= last).sum()) for last in LAST_STEP.values())


def curves(seed: int = 0) -> dict[str, pd.DataFrame]:
    """Run name -> DataFrame with ``step`` and the metric, up to the run's last step."""
    rng = np.random.default_rng(seed)
    out = {}
    for k, (name, last) in enumerate(LAST_STEP.items()):
        steps = STEPS[STEPS <= last]
        compute = GPU_HOURS_PER_STEP * steps
        rate = 0.05 + (0.60 + 0.01 * k - 0.05) / (1 + (3000 / compute) ** 1.8)
        out[name] = pd.DataFrame({"step": steps, METRIC: rate + rng.normal(0, 0.005, len(steps))})
    return out


def write_wandb_export(path: Path) -> Path:
    """A W&B line-plot "Export CSV": ``Step``, then ``<run> - <metric>`` with its
    ``__MIN``/``__MAX`` companions per run, blank after a run stopped."""
    table = pd.DataFrame({"Step": STEPS})
    for name, frame in curves().items():
        values = frame.set_index("step")[METRIC].reindex(STEPS).to_numpy()
        for suffix in ("", "__MIN", "__MAX"):
            table[f"{name} - {METRIC}{suffix}"] = values
    table.to_csv(path, index=False)
    return path


def write_wide_csv(path: Path) -> Path:
    """``step, gpu_hours, seed0, seed1, seed2``: one column per run, blank after it stopped."""
    table = pd.DataFrame({"step": STEPS, "gpu_hours": GPU_HOURS_PER_STEP * STEPS})
    for name, frame in curves().items():
        table[name] = frame.set_index("step")[METRIC].reindex(STEPS).to_numpy()
    table.to_csv(path, index=False)
    return path


def write_tensorboard(root: Path, *, resumed: bool = False) -> Path:
    """One sub-folder per run. ``seed0`` and ``seed2`` through tensorboard's
    ``tensorboard.summary.Writer`` (tensor scalars, as TF2 writes them), ``seed1``
    as PyTorch's SummaryWriter writes (``simple_value`` summaries through
    tensorboard's ``EventFileWriter``). With ``resumed``, ``seed1`` is logged up to
    step 3000 first, then again from step 2000 (a resumed run) with other values
    at steps 2000-3000 the first time."""
    from tensorboard.summary import Writer

    for name, frame in curves().items():
        folder = root / name
        if name == "seed1":
            if resumed:  # stopped after step 3000, resumed from its checkpoint at step 2000
                lost = frame[frame["step"] <= 3000].copy()
                lost.loc[lost["step"] >= 2000, METRIC] += 0.1  # replaced by the resumed run
                _write_simple_values(folder, lost, wall_time=1e9)
                frame = frame[frame["step"] >= 2000]
            _write_simple_values(folder, frame, wall_time=2e9)
            continue
        writer = Writer(str(folder))
        for step, value in zip(frame["step"], frame[METRIC], strict=True):
            writer.add_scalar(METRIC, value, int(step))
            writer.add_scalar("train/loss", 1.0 - value, int(step))
        writer.close()
    return root


def _write_simple_values(folder: Path, frame: pd.DataFrame, *, wall_time: float) -> None:
    """Scalars as PyTorch's SummaryWriter writes them: ``simple_value`` summaries."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for k, (step, value) in enumerate(zip(frame["step"], frame[METRIC], strict=True)):
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=METRIC, simple_value=float(value))]
        )
        writer.add_event(event_pb2.Event(wall_time=wall_time + k, step=int(step), summary=summary))
    writer.close()


def write_mlflow(root: Path, experiment: str = "rl-recipe") -> Path:
    """A local MLflow file store (``mlruns/``) written by ``MlflowClient``, the runs in
    ``experiment``; ``seed1`` logs step 1000 twice (the later value is the right one)."""
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # file stores are in maintenance
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=root.resolve().as_uri())
    experiment_id = client.create_experiment(experiment)
    for name, frame in curves().items():
        run_id = client.create_run(experiment_id, run_name=name).info.run_id
        for step, value in zip(frame["step"], frame[METRIC], strict=True):
            if name == "seed1" and step == 1000:
                client.log_metric(run_id, METRIC, float(value) + 0.1, step=int(step), timestamp=1)
            client.log_metric(run_id, METRIC, float(value), step=int(step))
        client.set_terminated(run_id)
    return root


def histories() -> dict[str, pd.DataFrame]:
    """``run.history()`` frames: ``_step``, the metric, and rows of another metric
    logged at other steps (NaN in this one)."""
    out = {}
    for name, curve in curves().items():
        history = curve.rename(columns={"step": "_step"})
        other = pd.DataFrame({"_step": history["_step"] + 50, "train/loss": 1.0})
        out[name] = pd.concat([history, other]).sort_values("_step", kind="stable")
    return out


def write_histories(folder: Path) -> Path:
    """A folder of history exports, one CSV per run named after it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, history in histories().items():
        history.to_csv(folder / f"{name}.csv", index=False)
    return folder


def write_all(folder: Path) -> Path:
    """The files docs/reading_curves.md reads: export.csv, wide.csv, runs/, recipes/,
    mlruns/, histories/."""
    write_wandb_export(folder / "export.csv")
    write_wide_csv(folder / "wide.csv")
    write_tensorboard(folder / "runs")
    for recipe in ("recipe_a", "recipe_b"):
        write_tensorboard(folder / "recipes" / recipe)
    write_mlflow(folder / "mlruns")
    write_histories(folder / "histories")
    return folder
