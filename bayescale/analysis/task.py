"""Task accuracy at scale: from compute (or N, D) to loss to benchmark accuracy.

Teams fit loss but decide on downstream accuracy. :func:`fit_task` fits, on a
table with one row per model of a ladder,

- ``method="two_step"`` (OLMo ladder, Bhagia et al. 2024): step 1, the loss against
  compute (``"power_e"``, or any one-input loss law) or against ``N`` and ``D``
  (``"chinchilla"``), once for all tasks; step 2, per task, accuracy against that
  loss with the bounded sigmoid ``"task_sigmoid"`` (:mod:`bayescale.model.task_law`);
- ``method="direct"`` (tables without losses): per task, accuracy against
  compute with the same bounded sigmoid in log-compute (``"task_compute"``).

:func:`predict_task` carries both steps' uncertainty per posterior draw: each
draw of the loss law gives a loss at the target, and a draw of the task law maps
that loss to accuracy (the steps are fitted separately, so pairing their draws
is a draw of the joint posterior); nothing is plugged in as a point estimate. It
reports the credible interval of the expected accuracy and the interval of a new
evaluation: the new model's own loss scatter (step 1's noise), the task's
model-to-model scatter and, when the number of questions is given, binomial
evaluation noise (a beta-binomial observation model in step 2).

Examples
--------
>>> import bayescale as bs
>>> from bayescale.studies.task_study import simulate_ladder
>>> ladder = simulate_ladder(rng=0)
>>> tasks = bs.fit_task(ladder[ladder["n"] <= 1e9], tasks=["easy", "emergent"], loss="loss",
...                     compute="compute", chance=0.25, questions=1000)  # doctest: +SKIP
>>> bs.predict_task(tasks, compute=[1e23])  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import FLOP_PER_PARAMETER_TOKEN
from bayescale.data.sources import DataError, read_table
from bayescale.inference.fitting import fit
from bayescale.model.laws import NUMPY_OPS
from bayescale.model.task_law import chance_prior, task_inverse
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import SAMPLE_DIMS, check_ci, eti
from bayescale.results.provenance import SamplerSettings

METHODS = ("two_step", "direct")
"""How accuracy is tied to scale: through the loss, or directly to compute."""


@dataclass
class TaskFit:
    """Fitted task laws of one model ladder.

    Attributes
    ----------
    method : {"two_step", "direct"}
    loss_fit : Fit or None
        Step 1 (loss against compute or ``N``, ``D``), shared by all tasks;
        ``None`` for ``"direct"``.
    task_fits : dict of str to Fit
        Per task: accuracy against loss (``"task_sigmoid"``) or against compute
        (``"task_compute"``).
    questions : dict of str to int or None
        Questions per evaluation of each task (``None``: not given).
    """

    method: str
    loss_fit: Fit | None
    task_fits: dict[str, Fit]
    questions: dict[str, int | None]

    @property
    def tasks(self) -> list[str]:
        """Task names, in the order fitted."""
        return list(self.task_fits)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Scale inputs a prediction needs: ``("x",)`` (compute) or ``("n", "d")``."""
        if self.loss_fit is None:
            return ("x",)
        return self.loss_fit.law.inputs

    @property
    def fits(self) -> dict[str, Fit]:
        """Every fit by step: ``"loss"`` (step 1, ``"two_step"`` only), then each task."""
        steps = {"loss": self.loss_fit} if self.loss_fit is not None else {}
        return {**steps, **self.task_fits}

    @property
    def unconverged(self) -> list[str]:
        """The steps (keys of :attr:`fits`) whose fit did not converge, in fitting order."""
        return [name for name, step in self.fits.items() if step.diagnostics.converged is False]

    def warnings(self) -> dict[str, list[str]]:
        """Each step's diagnostics warnings (``"loss"`` and the task names)."""
        return {name: list(step.diagnostics.warnings) for name, step in self.fits.items()}

    def diagnostics(self) -> pd.DataFrame:
        """One row per fit: ``step`` (as :attr:`fits`), ``law``, ``max_r_hat``,
        ``min_ess_bulk``, ``divergences`` and ``converged``
        (:attr:`bayescale.Diagnostics.converged`)."""
        rows = [
            {
                "step": name,
                "law": step.law.name,
                "max_r_hat": step.diagnostics.max_r_hat,
                "min_ess_bulk": step.diagnostics.min_ess_bulk,
                "divergences": step.diagnostics.divergences,
                "converged": step.diagnostics.converged,
            }
            for name, step in self.fits.items()
        ]
        return pd.DataFrame(rows)


def _per_task(value: Any, tasks: Sequence[str], option: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(tasks))
        if unknown:
            raise ValueError(f"{option} names tasks that are not fitted: {', '.join(unknown)}")
        return {task: value.get(task) for task in tasks}
    return dict.fromkeys(tasks, value)


def _quiet_fit(*args: Any, **kwargs: Any) -> Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(*args, **kwargs)


def fit_task(
    data: pd.DataFrame | str | Path,
    tasks: Sequence[str] | str,
    *,
    loss: str | None = None,
    compute: str | None = None,
    n: str | None = None,
    d: str | None = None,
    method: str = "two_step",
    loss_law: str | None = None,
    chance: float | Mapping[str, float] | None = None,
    questions: int | Mapping[str, int] | None = None,
    draws: int = SamplerSettings.draws,
    tune: int = SamplerSettings.tune,
    chains: int = SamplerSettings.chains,
    seed: int | None = None,
    target_accept: float | None = None,
) -> TaskFit:
    """Fit task laws to a model ladder (one row per model).

    Parameters
    ----------
    data : DataFrame or path
        One row per model: scale columns, a loss column (two-step) and one
        accuracy column per task (in [0, 1]).
    tasks : str or sequence of str
        Accuracy columns.
    loss : str, optional
        The loss column (needed for ``"two_step"``; the same loss serves all tasks).
    compute : str, optional
        Training FLOP column (the loss step's input with ``"power_e"``; the
        direct law's input).
    n, d : str, optional
        Parameters and tokens columns for a ``"chinchilla"`` loss step (``d``
        may be replaced by ``compute``: tokens ``compute / (6 n)``).
    method : {"two_step", "direct"}
    loss_law : str, optional
        Step 1's law: default ``"chinchilla"`` when ``n`` is given, else ``"power_e"``.
    chance : float or dict, optional
        Known chance level per task (0.25 for four choices), else fitted.
    questions : int or dict, optional
        Questions per evaluation: step 2 becomes beta-binomial on them and new
        evaluations include binomial noise.
    draws, tune, chains, seed, target_accept
        NUTS settings of every step (the same, so draws pair one to one).

    Returns
    -------
    TaskFit

    Raises
    ------
    ValueError
        For an unknown method, missing columns or accuracy outside [0, 1]
        (:class:`bayescale.DataError` naming the file, column and rows).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    tasks = [tasks] if isinstance(tasks, str) else list(tasks)
    if not tasks:
        raise ValueError("give at least one task (accuracy column)")
    frame = data if isinstance(data, pd.DataFrame) else read_table(data)
    source = "the table" if isinstance(data, pd.DataFrame) else str(data)
    missing = [c for c in [*tasks, loss, compute, n, d] if c is not None and c not in frame]
    if missing:
        raise DataError(f"{source}: no column {missing[0]!r}; columns: {', '.join(frame.columns)}")
    chances = _per_task(chance, tasks, "chance")
    counts = _per_task(questions, tasks, "questions")
    sampler = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": seed,
        "target_accept": target_accept,
    }
    loss_fit = None
    if method == "two_step":
        if loss is None:
            raise ValueError("method 'two_step' needs the loss column: loss=")
        law = loss_law or ("chinchilla" if n is not None else "power_e")
        scale = {"n": n, "d": d, "compute": compute} if n is not None else {"x": compute}
        if all(value is None for value in scale.values()):
            raise ValueError("give the scale: compute= (or n= with d= or compute=)")
        loss_fit = _quiet_fit(frame, law, y=loss, likelihood="student_t", **scale, **sampler)
    elif compute is None:
        raise ValueError("method 'direct' needs the training compute column: compute=")
    task_fits = {}
    for task in tasks:
        options: dict[str, Any] = {"likelihood": "student_t"}
        if counts[task] is not None:
            options = {"likelihood": "beta_binomial", "trials": int(counts[task])}
        if method == "two_step":
            law, x = "task_sigmoid", loss
        else:
            law, x = "task_compute", compute
        if chances[task] is not None:
            options["priors"] = {"chance": chance_prior(float(chances[task]))}
        task_fits[task] = _quiet_fit(frame, law, x=x, y=task, **options, **sampler)
    return TaskFit(method=method, loss_fit=loss_fit, task_fits=task_fits, questions=counts)


def _flat(draws: Mapping[str, xr.DataArray], size: int) -> dict[str, xr.DataArray]:
    """Draws as 1-D ``sample`` arrays of the first ``size`` draws (pairs two fits' draws)."""
    return {
        name: xr.DataArray(value.transpose(*SAMPLE_DIMS).to_numpy().ravel()[:size], dims="sample")
        for name, value in draws.items()
    }


def _sample_size(task_fit: TaskFit) -> int:
    fits = task_fit.fits.values()
    return min(f.draws_dataset.sizes["chain"] * f.draws_dataset.sizes["draw"] for f in fits)


def _scale_inputs(task_fit: TaskFit, compute: Any, n: Any, d: Any) -> dict[str, np.ndarray]:
    if task_fit.inputs == ("n", "d"):
        if n is None or (d is None and compute is None):
            raise ValueError(
                "this task fit's loss step is chinchilla: give n= and d= (or compute=)"
            )
        n = np.atleast_1d(np.asarray(n, dtype=float))
        if d is None:
            d = np.atleast_1d(np.asarray(compute, dtype=float)) / (FLOP_PER_PARAMETER_TOKEN * n)
        inputs = dict(
            zip(("n", "d"), np.broadcast_arrays(n, np.asarray(d, dtype=float)), strict=True)
        )
    else:
        if compute is None:
            raise ValueError("give the training compute to predict at: compute=")
        inputs = {"x": np.atleast_1d(np.asarray(compute, dtype=float))}
    for role, values in inputs.items():
        if not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError(f"{'compute' if role == 'x' else role} must be finite and > 0")
    return inputs


def loss_draws(
    task_fit: TaskFit, inputs: Mapping[str, np.ndarray], rng: np.random.Generator
) -> tuple[xr.DataArray, xr.DataArray]:
    """Step 1 per draw at ``inputs``: the law's loss and a new model's loss (with noise).

    Returns two DataArrays of dims ``(sample, point)``.
    """
    loss_fit = task_fit.loss_fit
    size = _sample_size(task_fit)
    log_inputs = {role: xr.DataArray(np.log(v), dims="point") for role, v in inputs.items()}
    params = _flat(loss_fit.parameter_draws(), size)
    curve = loss_fit.law.curve(log_inputs, params)
    mean = loss_fit.law.mean(NUMPY_OPS, log_inputs, params)
    noise = _flat(loss_fit.noise_draws(), size)
    observed = loss_fit.likelihood.draw(mean, noise, rng, None)
    if loss_fit.law.response == "log":
        observed = np.exp(observed)
    return curve.transpose("sample", "point"), observed.transpose("sample", "point")


def accuracy_draws(
    task_fit: TaskFit,
    task: str,
    inputs: Mapping[str, np.ndarray],
    rng: np.random.Generator,
    losses: tuple[xr.DataArray, xr.DataArray] | None = None,
) -> tuple[xr.DataArray, xr.DataArray]:
    """Per draw at ``inputs``: the expected accuracy and a new evaluation's accuracy.

    Two-step: the task law at step 1's loss draws (``losses`` from
    :func:`loss_draws`, computed once for all tasks). Direct: the sigmoid at the
    compute. New evaluations are clipped to [0, 1].
    """
    step = task_fit.task_fits[task]
    size = _sample_size(task_fit)
    params = _flat(step.parameter_draws(), size)
    if task_fit.method == "two_step":
        curve_loss, new_loss = losses if losses is not None else loss_draws(task_fit, inputs, rng)
        curve = step.law.curve({"x": np.log(curve_loss)}, params)
        mean = step.law.mean(NUMPY_OPS, {"x": np.log(new_loss)}, params)
    else:
        log_x = {"x": xr.DataArray(np.log(inputs["x"]), dims="point")}
        curve = step.law.curve(log_x, params)
        mean = step.law.mean(NUMPY_OPS, log_x, params)
    noise = _flat(step.noise_draws(), size)
    evaluation = step.likelihood.draw(mean, noise, rng, task_fit.questions[task])
    return curve.transpose("sample", "point"), np.clip(evaluation, 0.0, 1.0).transpose(
        "sample", "point"
    )


def predict_task(
    task_fit: TaskFit,
    compute: Sequence[float] | float | None = None,
    *,
    n: Sequence[float] | float | None = None,
    d: Sequence[float] | float | None = None,
    tasks: Sequence[str] | None = None,
    ci: float = 0.9,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Accuracy at target scales with a credible and a new-evaluation interval.

    Parameters
    ----------
    task_fit : TaskFit
    compute : float or sequence, optional
        Training FLOPs (``N`` and ``D`` follow for a chinchilla loss step given ``n``).
    n, d : float or sequence, optional
        Parameters and tokens (chinchilla loss step).
    tasks : sequence of str, optional
        Default: all fitted tasks.
    ci : float
        Credible mass of the intervals.
    seed : int or None
        Seed of the new-evaluation draws.

    Returns
    -------
    pandas.DataFrame
        One row per task and point: ``task``, the inputs, for two-step fits
        ``loss_median``, ``loss_lower``, ``loss_upper`` (the loss law's interval),
        then ``median``, ``lower``, ``upper`` (expected accuracy) and
        ``eval_lower``, ``eval_upper`` (a new evaluation of a new model).
    """
    check_ci(ci)
    inputs = _scale_inputs(task_fit, compute, n, d)
    rng = np.random.default_rng(seed)
    losses = loss_draws(task_fit, inputs, rng) if task_fit.method == "two_step" else None
    frames = []
    for task in tasks or task_fit.tasks:
        if task not in task_fit.task_fits:
            raise ValueError(f"no task {task!r}; fitted: {', '.join(task_fit.tasks)}")
        curve, evaluation = accuracy_draws(task_fit, task, inputs, rng, losses)
        out = pd.DataFrame(
            {"task": task, **{("compute" if r == "x" else r): v for r, v in inputs.items()}}
        )
        if losses is not None:
            out["loss_median"] = losses[0].median("sample").to_numpy()
            out["loss_lower"], out["loss_upper"] = eti(losses[0], ci)
        out["median"] = curve.median("sample").to_numpy()
        out["lower"], out["upper"] = eti(curve, ci)
        out["eval_lower"], out["eval_upper"] = eti(evaluation, ci)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def compute_to_reach_accuracy(
    task_fit: TaskFit, accuracy: Sequence[float] | float, *, task: str, ci: float = 0.9
) -> pd.DataFrame:
    """Training compute at which the expected accuracy reaches each target.

    Two-step: per paired draw, the loss at which the task law reaches the target,
    then the compute at which the loss law reaches that loss (on the
    compute-optimal frontier for chinchilla). ``p_reachable`` is the share of
    draws where both can (the target lies between chance and the ceiling, and
    the loss above the loss law's floor ``E``).

    Returns
    -------
    pandas.DataFrame
        ``task``, ``accuracy``, ``p_reachable``, ``median``, ``lower``, ``upper``
        (FLOPs, over the draws that reach the target).
    """
    check_ci(ci)
    if task not in task_fit.task_fits:
        raise ValueError(f"no task {task!r}; fitted: {', '.join(task_fit.tasks)}")
    step = task_fit.task_fits[task]
    size = _sample_size(task_fit)

    def numpy_draws(f: Fit) -> dict[str, np.ndarray]:
        return {k: v.to_numpy() for k, v in _flat(f.parameter_draws(), size).items()}

    rows = []
    for target in np.atleast_1d(np.asarray(accuracy, dtype=float)):
        if task_fit.method == "direct":
            x, reachable = step.law.inverse(numpy_draws(step), target)
        else:
            target_loss, on_task = task_inverse(numpy_draws(step), target)
            x, on_loss = task_fit.loss_fit.law.inverse(numpy_draws(task_fit.loss_fit), target_loss)
            reachable = on_task & on_loss
        reached = np.asarray(x)[reachable]
        low, high = eti(reached, ci)
        rows.append(
            {
                "task": task,
                "accuracy": float(target),
                "p_reachable": float(np.mean(reachable)),
                "median": float(np.median(reached)) if reached.size else np.nan,
                "lower": low,
                "upper": high,
            }
        )
    return pd.DataFrame(rows)
