"""Plots of task laws: both steps of a two-step fit, with held-out models.

Left panel: the loss against compute with its credible band (two-step fits).
Right panel: each task's accuracy against the loss (two-step) or against compute
(direct) with its band; fitted models as dots, held-out models as crosses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.analysis.task import TaskFit, accuracy_draws, loss_draws
from bayescale.results.intervals import eti


def plot_task(
    task_fit: TaskFit,
    *,
    held_out: pd.DataFrame | None = None,
    columns: dict[str, str] | None = None,
    ci: float = 0.9,
    axes: Any = None,
) -> Any:
    """Draw both steps of ``task_fit``; returns the array of two axes.

    Parameters
    ----------
    task_fit : TaskFit
        A fit with a one-input loss step (compute), or a direct fit.
    held_out : DataFrame, optional
        Models not fitted, drawn as crosses: columns named by ``columns``.
    columns : dict, optional
        ``{"compute": ..., "loss": ...}`` column names of ``held_out`` (the task
        columns are the task names).
    ci : float
        Credible mass of the bands.
    axes : pair of matplotlib Axes, optional
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    columns = {"compute": "compute", "loss": "loss", **(columns or {})}
    loss_ax, task_ax = axes
    first = next(iter(task_fit.task_fits.values()))
    if task_fit.method == "two_step":
        fitted_x = task_fit.loss_fit.data.frame["x"].to_numpy()
    else:
        fitted_x = first.data.frame["x"].to_numpy()
    high = fitted_x.max() * (10 if held_out is None else 3)
    if held_out is not None:
        high = max(high, 1.5 * held_out[columns["compute"]].max())
    grid = np.geomspace(fitted_x.min() / 1.5, high, 60)
    rng = np.random.default_rng(0)
    if task_fit.method == "two_step":
        curve, _ = loss_draws(task_fit, {"x": grid}, rng)
        _band(loss_ax, grid, curve, ci, "loss law")
        loss_ax.scatter(
            fitted_x, task_fit.loss_fit.data.frame["y"], s=14, color="k", label="fitted"
        )
        if held_out is not None:
            loss_ax.scatter(
                held_out[columns["compute"]],
                held_out[columns["loss"]],
                marker="x",
                color="C3",
                label="held out",
            )
        loss_ax.set(
            xscale="log",
            xlabel="training compute (FLOP)",
            ylabel="loss",
            title="step 1: loss against compute",
        )
        loss_ax.legend(fontsize=8)
        fitted_losses = task_fit.loss_fit.data.frame["y"]
        lowest = min(float(curve.min()), float(fitted_losses.min()))
        losses = np.linspace(0.97 * lowest, 1.03 * float(fitted_losses.max()), 60)
    else:
        loss_ax.set_axis_off()
    for index, (task, step) in enumerate(task_fit.task_fits.items()):
        color = f"C{index}"
        frame = step.data.frame
        if task_fit.method == "two_step":
            params = step.parameter_draws()
            draws = step.law.curve({"x": xr.DataArray(np.log(losses), dims="point")}, params)
            low, up = eti(draws, ci)
            task_ax.fill_between(losses, low, up, color=color, alpha=0.25)
            task_ax.plot(losses, draws.median(("chain", "draw")), color=color, label=task)
            x_held = None if held_out is None else held_out[columns["loss"]]
        else:
            draws, _ = accuracy_draws(task_fit, task, {"x": grid}, rng)
            _band(task_ax, grid, draws, ci, task, color=color)
            x_held = None if held_out is None else held_out[columns["compute"]]
        task_ax.scatter(frame["x"], frame["y"], s=14, color=color)
        if x_held is not None and task in held_out:
            task_ax.scatter(x_held, held_out[task], marker="x", s=40, color=color)
    if task_fit.method == "two_step":
        task_ax.set(xlabel="loss", title="step 2: accuracy against loss")
        task_ax.invert_xaxis()
    else:
        task_ax.set(
            xscale="log",
            xlabel="training compute (FLOP)",
            title="accuracy against compute (direct)",
        )
    task_ax.set(ylabel="accuracy", ylim=(0, 1))
    task_ax.legend(fontsize=8, title=f"{ci:.0%} bands; x held out", title_fontsize=8)
    return axes


def _band(ax: Any, x: np.ndarray, draws: xr.DataArray, ci: float, label: str, color: str = "C0"):
    low, up = eti(draws, ci)
    ax.fill_between(x, low, up, color=color, alpha=0.25)
    ax.plot(x, draws.median("sample"), color=color, label=label)
