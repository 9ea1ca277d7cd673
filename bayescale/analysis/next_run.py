"""Which run to train next: the candidate runs that most shrink a target interval.

The target is ``ln N*`` (or the optimal loss, for a Chinchilla-law fit) at a
large budget. A candidate is one run ``(N, D)`` or a bundle of runs (an isoFLOP
sweep at a new budget: one run there says nothing about that budget's optimum,
three or more do). Its value is the expected variance of the target after its
results come in, computed from the posterior draws by Gaussian conditioning of
the joint draws of the target ``g`` and the candidate's predicted losses ``f``
(an ensemble-Kalman approximation, no derivatives needed):

    Var(g | y) = Var(g) - Cov(g, f) (Cov(f) + s^2 I)^-1 Cov(f, g)

with ``s^2`` the posterior mean noise variance. This is exact for a linear
Gaussian model and a linearisation otherwise; :func:`preposterior_sd` measures
it against refits (simulate the runs from posterior draws, refit, average the
posterior variance). Runs are chosen greedily by variance removed per FLOP under
a compute budget for the runs themselves, conditioning on each choice before
the next (so a second run at the same spot is worth less).

Examples
--------
>>> design = suggest_runs(result, target_compute=3.8e25, run_budget=3e23)  # doctest: +SKIP
>>> design.chosen  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayescale.analysis.isoflop import IsoflopFit
from bayescale.results.allocation import FLOP_PER_PARAMETER_TOKEN, optimal_allocation
from bayescale.results.fit_result import Fit

TARGETS = ("n_opt", "loss_opt")

MIN_GAIN = 2e-3
"""A greedy step must remove at least this fraction of the current variance
(0.1% of the sd): cheaper than training runs that change nothing."""


# ------------------------------------------------------------ draws per model
def target_draws(fit: IsoflopFit | Fit, target: str, compute: float) -> np.ndarray:
    """Posterior draws of the target: ``ln N*`` (``"n_opt"``) or the optimal loss.

    Examples
    --------
    >>> target_draws(result, "n_opt", 3.8e25).shape  # doctest: +SKIP
    (2000,)
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if isinstance(fit, IsoflopFit):
        if target != "n_opt":
            raise ValueError("an isoFLOP fit has no loss law to extrapolate; use target='n_opt'")
        return fit.log_n_opt(compute)[:, 0]
    _check_chinchilla(fit)
    params = {k: v.to_numpy().ravel() for k, v in fit.parameter_draws().items()}
    optimum = optimal_allocation(params, compute)
    return np.log(optimum["n_opt"]) if target == "n_opt" else optimum["loss_opt"]


def predicted_losses(
    fit: IsoflopFit | Fit, runs: pd.DataFrame, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the noiseless observation at each run and the noise variance.

    Parameters
    ----------
    fit : IsoflopFit or Fit
    runs : DataFrame
        Columns ``compute`` and ``n`` (tokens ``d = compute / (6 n)``).
    seed : int
        For the new-budget deviations of an isoFLOP fit.

    Returns
    -------
    draws : numpy.ndarray
        Shape (draws, runs), on the scale the model observes (loss for an isoFLOP
        fit, log loss for a Chinchilla-law fit).
    noise_var : float
        Posterior mean variance of one observation around it.
    """
    compute = runs["compute"].to_numpy(dtype=float)
    log_n = np.log(runs["n"].to_numpy(dtype=float))
    if isinstance(fit, IsoflopFit):
        return _isoflop_predictions(fit, compute, log_n, seed), float(
            np.mean(fit.draws["sigma"] ** 2)
        )
    mean, observed = _chinchilla_draws(fit, compute, log_n, seed)
    q25, q75 = np.quantile(observed - mean, [0.25, 0.75])
    return mean, float(((q75 - q25) / 1.349) ** 2)  # robust: Student-t noise


def _chinchilla_draws(
    fit: Fit, compute: np.ndarray, log_n: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draws x runs of the law's mean (log loss) and of a new observation of it."""
    import xarray as xr

    from bayescale.model.laws import NUMPY_OPS

    _check_chinchilla(fit)
    log_d = np.log(compute / FLOP_PER_PARAMETER_TOKEN) - log_n
    inputs = {"n": xr.DataArray(log_n, dims="point"), "d": xr.DataArray(log_d, dims="point")}
    mean = fit.law.mean(NUMPY_OPS, inputs, fit.parameter_draws())
    observed = fit.likelihood.draw(mean, fit.noise_draws(), np.random.default_rng(seed), None)

    def flat(values: xr.DataArray) -> np.ndarray:
        return values.stack(sample=("chain", "draw")).transpose("sample", "point").to_numpy()

    return flat(mean), flat(observed)


def _isoflop_predictions(
    fit: IsoflopFit, compute: np.ndarray, log_n: np.ndarray, seed: int
) -> np.ndarray:
    draws, budgets = fit.draws, fit.data.budgets
    rng = np.random.default_rng(seed)
    size = len(draws["a"])
    y_scale = float(np.std(fit.data.frame["loss"]))
    out = np.empty((size, len(compute)))
    new_budgets: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for j, (flop, x) in enumerate(zip(compute, log_n, strict=True)):
        match = np.flatnonzero(np.isclose(budgets, flop, rtol=1e-9))
        if match.size:
            k = match[0]
            optimum, curvature, lowest = (
                draws["log_n_opt"][:, k],
                draws["curvature"][:, k],
                draws["loss_opt"][:, k],
            )
        else:
            if flop not in new_budgets:
                c = np.log(flop) - fit.data.c_ref
                new_budgets[flop] = (
                    fit.log_n_opt(flop)[:, 0] + draws["tau"] * rng.standard_normal(size),
                    np.exp(
                        draws["h0"] + draws["h1"] * c + draws["s_h"] * rng.standard_normal(size)
                    ),
                    # the model's loss_opt prior is free per budget: an unknown offset
                    _level(fit, flop) + rng.normal(0.0, y_scale, size),
                )
            optimum, curvature, lowest = new_budgets[flop]
        out[:, j] = lowest + curvature * (x - optimum) ** 2
    return out


def _level(fit: IsoflopFit, flop: float) -> float:
    """Minimum loss at a new budget: linear in ln C through the largest three budgets."""
    log_c = np.log(fit.data.budgets[-3:])
    lowest = np.median(fit.draws["loss_opt"][:, -3:], axis=0)
    slope, intercept = np.polyfit(log_c, lowest, 1)
    return float(intercept + slope * np.log(flop))


def _check_chinchilla(fit: Fit) -> None:
    if fit.law.name != "chinchilla":
        raise ValueError(
            f"run design needs an isoFLOP fit or a chinchilla law fit, not {fit.law.name!r}"
        )


# --------------------------------------------------------------- conditioning
def conditional_variance(
    target: np.ndarray, predictions: np.ndarray, noise_var: float, columns: Sequence[int]
) -> float:
    """Variance of ``target`` after observing the ``columns`` of ``predictions`` with noise.

    Gaussian conditioning of the draws' joint covariance (linear-Gaussian
    approximation of the posterior update).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=20000)
    >>> f = np.column_stack([theta, 2 * theta])
    >>> round(conditional_variance(theta, f, 1.0, [0]), 2)  # 1 - 1/(1+1)
    0.5
    """
    columns = list(columns)
    prior = float(np.var(target))
    if not columns:
        return prior
    joint = np.cov(np.column_stack([target, predictions[:, columns]]), rowvar=False)
    cross = joint[0, 1:]
    block = joint[1:, 1:] + noise_var * np.eye(len(columns))
    return float(max(prior - cross @ np.linalg.solve(block, cross), 0.0))


@dataclass
class Design:
    """A chosen set of runs and what each is expected to do to the target interval.

    Attributes
    ----------
    target, target_compute : str, float
        ``"n_opt"`` (``ln N*``) or ``"loss_opt"`` at ``target_compute`` FLOP.
    run_budget : float
        FLOP available for the new runs.
    prior_sd : float
        Posterior sd of the target now.
    candidates : DataFrame
        One row per candidate: ``candidate``, ``label``, ``runs``, ``cost``,
        ``expected_sd`` (after that candidate alone) and ``reduction`` (1 - sd ratio).
    chosen : DataFrame
        The greedy choices in order: ``step``, ``candidate``, ``label``, ``cost``,
        ``total_cost``, ``expected_sd`` after the choices so far.
    runs : DataFrame
        The chosen runs: ``candidate``, ``compute``, ``n``, ``d``.
    converged : bool or None
        Whether the fit the design rests on passed the convergence rule
        (:func:`bayescale.inference.convergence.is_converged`); ``None``: not known.
    warnings : list of str
        That fit's diagnostics warnings.
    """

    target: str
    target_compute: float
    run_budget: float
    prior_sd: float
    candidates: pd.DataFrame
    chosen: pd.DataFrame
    runs: pd.DataFrame
    converged: bool | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def expected_sd(self) -> float:
        """Expected posterior sd of the target after all chosen runs."""
        return float(self.chosen["expected_sd"].iloc[-1]) if len(self.chosen) else self.prior_sd

    def to_dict(self) -> dict[str, Any]:
        """The ``next_run.json`` contract: target, budgets, sds, chosen, candidates,
        runs, and the fit's ``converged`` and ``warnings``."""
        return {
            "target": self.target,
            "target_compute": self.target_compute,
            "run_budget": self.run_budget,
            "prior_sd": self.prior_sd,
            "expected_sd": self.expected_sd,
            "expected_reduction": 1 - self.expected_sd / self.prior_sd,
            "chosen": self.chosen.to_dict(orient="records"),
            "runs": self.runs.to_dict(orient="records"),
            "candidates": self.candidates.to_dict(orient="records"),
            "converged": self.converged,
            "warnings": list(self.warnings),
        }


def design_runs(
    target: np.ndarray,
    predictions: np.ndarray,
    noise_var: float,
    candidates: pd.DataFrame,
    run_budget: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Greedy choice of candidates by variance removed per FLOP, within ``run_budget``.

    Parameters
    ----------
    target : numpy.ndarray
        Draws of the target.
    predictions : numpy.ndarray
        Draws x runs: predicted observation at each candidate run.
    noise_var : float
    candidates : DataFrame
        One row per run (aligned with ``predictions``' columns): ``candidate``
        (id), ``label``, ``compute``, ``n``.
    run_budget : float
        FLOP for the new runs.

    Returns
    -------
    table : DataFrame
        Per candidate: label, runs, cost, expected sd alone, reduction.
    chosen : DataFrame
        Greedy steps.

    Notes
    -----
    Per-FLOP greedy can miss a single expensive candidate worth more than the
    cheap ones it picks (knapsack); the better of the greedy set and the best
    affordable single candidate is returned.
    """
    prior = float(np.var(target))
    groups = {
        cid: np.flatnonzero(candidates["candidate"].to_numpy() == cid)
        for cid in candidates["candidate"].unique()
    }
    cost = candidates.groupby("candidate", sort=False)["compute"].sum()
    label = candidates.groupby("candidate", sort=False)["label"].first()
    alone = {
        cid: conditional_variance(target, predictions, noise_var, cols)
        for cid, cols in groups.items()
    }
    table = pd.DataFrame(
        {
            "candidate": list(groups),
            "label": [label[c] for c in groups],
            "runs": [len(cols) for cols in groups.values()],
            "cost": [float(cost[c]) for c in groups],
            "expected_sd": [np.sqrt(alone[c]) for c in groups],
        }
    )
    table["reduction"] = 1 - table["expected_sd"] / np.sqrt(prior)

    def greedy() -> list[tuple[Any, float]]:
        steps, columns, spent, current = [], [], 0.0, prior
        remaining = set(groups)
        while True:
            best, best_score, best_var = None, 0.0, current
            for cid in remaining:
                if spent + cost[cid] > run_budget * (1 + 1e-9):
                    continue
                var = conditional_variance(
                    target, predictions, noise_var, columns + list(groups[cid])
                )
                score = (current - var) / cost[cid]
                if score > best_score and current - var > MIN_GAIN * current:
                    best, best_score, best_var = cid, score, var
            if best is None:
                return steps
            remaining.discard(best)
            columns += list(groups[best])
            spent += cost[best]
            current = best_var
            steps.append((best, current))

    steps = greedy()
    affordable = table[table["cost"] <= run_budget * (1 + 1e-9)]
    if len(affordable):
        single = affordable.loc[affordable["expected_sd"].idxmin()]
        if not steps or single["expected_sd"] ** 2 < steps[-1][1]:
            steps = [(single["candidate"], float(single["expected_sd"]) ** 2)]
    rows, total = [], 0.0
    for step, (cid, var) in enumerate(steps, start=1):
        total += float(cost[cid])
        rows.append(
            {
                "step": step,
                "candidate": cid,
                "label": label[cid],
                "cost": float(cost[cid]),
                "total_cost": total,
                "expected_sd": float(np.sqrt(var)),
            }
        )
    return table, pd.DataFrame(
        rows, columns=["step", "candidate", "label", "cost", "total_cost", "expected_sd"]
    )


# ------------------------------------------------------------------ candidates
def isoflop_candidates(
    fit: IsoflopFit,
    *,
    steps_up: Sequence[int] = (1, 2, 3, 4),
    sweep_sizes: Sequence[int] = (3, 5, 12),
    span: float = 30.0,
    single_step: float | None = None,
) -> pd.DataFrame:
    """Candidate runs for an isoFLOP fit.

    Sweeps at new budgets ``steps_up`` grid steps above the largest (the grid's
    mean ratio between budgets), with ``sweep_sizes`` sizes log-spaced over a
    factor ``span`` around the predicted optimum; and single runs that extend each
    budget's sweep by one size step down or up (``single_step``: the ratio
    between neighbouring sizes; default the data's median ratio).

    Returns
    -------
    DataFrame
        ``candidate``, ``label``, ``compute``, ``n``, ``d`` (one row per run).
    """
    budgets = fit.data.budgets
    ratio = float(np.exp(np.mean(np.diff(np.log(budgets))))) if len(budgets) > 1 else 2.0
    frame = fit.data.frame
    if single_step is None:
        gaps = frame.sort_values("n").groupby("budget")["n"].apply(lambda s: np.diff(np.log(s)))
        single_step = float(np.exp(np.median(np.concatenate(gaps.to_list()))))
    rows = []
    for step in steps_up:
        flop = float(budgets.max() * ratio**step)
        centre = float(np.median(fit.log_n_opt(flop)))
        for count in sweep_sizes:
            offsets = np.linspace(-0.5, 0.5, count) * np.log(span)
            label = f"sweep {count} sizes at {flop:.3g}"
            rows += [
                {"candidate": label, "label": label, "compute": flop, "n": np.exp(centre + o)}
                for o in offsets
            ]
    for k, flop in enumerate(budgets):
        sizes = frame.loc[frame["budget"] == k, "n"]
        for name, n in (("below", sizes.min() / single_step), ("above", sizes.max() * single_step)):
            label = f"size {n:.3g} at {flop:.3g} ({name} the sweep)"
            rows.append({"candidate": label, "label": label, "compute": float(flop), "n": float(n)})
    out = pd.DataFrame(rows)
    out["d"] = out["compute"] / (FLOP_PER_PARAMETER_TOKEN * out["n"])
    return out


def chinchilla_candidates(
    fit: Fit, *, steps_up: Sequence[int] = (0, 1, 2, 3), sizes: int = 7, span: float = 100.0
) -> pd.DataFrame:
    """Single-run candidates for a Chinchilla-law fit.

    Budgets ``2^step`` times the largest fitted ``6 N D``, ``sizes`` model sizes
    log-spaced over a factor ``span`` around the posterior median optimum there.
    """
    _check_chinchilla(fit)
    largest = float((FLOP_PER_PARAMETER_TOKEN * fit.data.frame["n"] * fit.data.frame["d"]).max())
    params = {k: v.to_numpy().ravel() for k, v in fit.parameter_draws().items()}
    rows = []
    for step in steps_up:
        flop = largest * 2.0**step
        centre = float(np.median(np.log(optimal_allocation(params, flop)["n_opt"])))
        for offset in np.linspace(-0.5, 0.5, sizes) * np.log(span):
            n = float(np.exp(centre + offset))
            label = f"N {n:.3g} at {flop:.3g}"
            rows.append({"candidate": label, "label": label, "compute": flop, "n": n})
    out = pd.DataFrame(rows)
    out["d"] = out["compute"] / (FLOP_PER_PARAMETER_TOKEN * out["n"])
    return out


def naive_candidate(fit: IsoflopFit, kind: str = "sweep") -> pd.DataFrame:
    """The usual next step without a design.

    ``kind="sweep"``: a sweep at the next budget of the grid with as many sizes
    (and the same span) as the largest budget's sweep. ``kind="size"``: the next
    larger size on the grid at the largest budget.
    """
    budgets, frame = fit.data.budgets, fit.data.frame
    last = frame[frame["budget"] == len(budgets) - 1]
    sizes = np.sort(last["n"].to_numpy())
    step = float(np.exp(np.median(np.diff(np.log(sizes)))))
    if kind == "size":
        rows = [{"compute": float(budgets[-1]), "n": float(sizes[-1] * step)}]
        label = f"next larger size at {budgets[-1]:.3g}"
    elif kind == "sweep":
        ratio = float(np.exp(np.mean(np.diff(np.log(budgets)))))
        flop = float(budgets[-1] * ratio)
        centre = float(np.median(fit.log_n_opt(flop)))
        width = np.log(sizes[-1] / sizes[0])
        offsets = np.linspace(-0.5, 0.5, len(sizes)) * width
        rows = [{"compute": flop, "n": float(np.exp(centre + o))} for o in offsets]
        label = f"next budget {flop:.3g}, {len(sizes)} sizes"
    else:
        raise ValueError(f"kind must be 'sweep' or 'size', got {kind!r}")
    out = pd.DataFrame(rows)
    out["candidate"], out["label"] = label, label
    out["d"] = out["compute"] / (FLOP_PER_PARAMETER_TOKEN * out["n"])
    return out[["candidate", "label", "compute", "n", "d"]]


def suggest_runs(
    fit: IsoflopFit | Fit,
    *,
    target_compute: float,
    run_budget: float,
    target: str = "n_opt",
    candidates: pd.DataFrame | None = None,
    seed: int = 0,
) -> Design:
    """The runs that most shrink the target's interval for ``run_budget`` FLOP.

    Parameters
    ----------
    fit : IsoflopFit or Fit
        An isoFLOP fit or a ``"chinchilla"`` law fit.
    target_compute : float
        Budget of the target run (FLOP), e.g. 3.8e25.
    run_budget : float
        FLOP available for the new runs (sum of their ``6 N D``).
    target : {"n_opt", "loss_opt"}
        ``ln N*`` at the target, or the optimal loss (Chinchilla-law fits).
    candidates : DataFrame, optional
        ``candidate``, ``label``, ``compute``, ``n`` per run; default
        :func:`isoflop_candidates` or :func:`chinchilla_candidates`.
    seed : int
        For new-budget deviations and noise draws.

    Returns
    -------
    Design

    Examples
    --------
    >>> design = suggest_runs(result, target_compute=3.8e25, run_budget=3e23)  # doctest: +SKIP
    >>> design.chosen[["label", "expected_sd"]]  # doctest: +SKIP
    """
    for name, value in (("target_compute", target_compute), ("run_budget", run_budget)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be finite and > 0, got {value}")
    if candidates is None:
        candidates = (
            isoflop_candidates(fit) if isinstance(fit, IsoflopFit) else chinchilla_candidates(fit)
        )
    missing = {"candidate", "compute", "n"} - set(candidates.columns)
    if missing:
        raise ValueError(f"candidates need columns {sorted(missing)}")
    candidates = candidates.reset_index(drop=True).copy()
    if "label" not in candidates:
        candidates["label"] = candidates["candidate"].astype(str)
    candidates["d"] = candidates["compute"] / (FLOP_PER_PARAMETER_TOKEN * candidates["n"])
    goal = target_draws(fit, target, target_compute)
    predictions, noise_var = predicted_losses(fit, candidates, seed)
    table, chosen = design_runs(goal, predictions, noise_var, candidates, run_budget)
    runs = candidates[candidates["candidate"].isin(chosen["candidate"])][
        ["candidate", "compute", "n", "d"]
    ]
    converged, warnings = _checks(fit)
    return Design(
        target=target,
        target_compute=float(target_compute),
        run_budget=float(run_budget),
        prior_sd=float(np.std(goal)),
        candidates=table,
        chosen=chosen,
        runs=runs.reset_index(drop=True),
        converged=converged,
        warnings=warnings,
    )


def _checks(fit: IsoflopFit | Fit) -> tuple[bool | None, list[str]]:
    """Whether ``fit`` converged, and its diagnostics warnings."""
    if isinstance(fit, IsoflopFit):
        return fit.diagnostics.get("converged"), list(fit.diagnostics.get("warnings", []))
    return fit.diagnostics.converged, list(fit.diagnostics.warnings)


# ------------------------------------------------------------------ accuracy
def preposterior_sd(
    fit: IsoflopFit | Fit,
    runs: pd.DataFrame,
    *,
    target_compute: float,
    target: str = "n_opt",
    sims: int = 8,
    seed: int = 0,
    **fit_kwargs: Any,
) -> dict[str, Any]:
    """Expected posterior sd of the target after ``runs``, by simulation and refits.

    For each of ``sims`` posterior draws: simulate the runs' losses from that
    draw (with the observation model's noise), add them to the data, refit the
    same model, record the posterior variance of the target.

    Returns
    -------
    dict
        ``sd`` (square root of the mean variance over the refits), ``sds`` (each
        refit's), ``linear_sd`` (the Gaussian-conditioning prediction) and
        ``prior_sd`` (now).
    """
    rng = np.random.default_rng(seed)
    compute = runs["compute"].to_numpy(dtype=float)
    log_n = np.log(runs["n"].to_numpy(dtype=float))
    predictions, noise_var = predicted_losses(fit, runs, seed)
    goal = target_draws(fit, target, target_compute)
    linear = conditional_variance(goal, predictions, noise_var, range(len(runs)))
    if isinstance(fit, IsoflopFit):
        from bayescale.analysis.isoflop import fit_isoflop

        base = fit.data.frame[["compute", "n", "loss"]]
        noise = rng.normal(0.0, 1.0, (len(goal), len(runs))) * fit.draws["sigma"][:, None]
        simulated_all = predictions + noise

        def refit(extra: pd.DataFrame) -> IsoflopFit:
            return fit_isoflop(pd.concat([base, extra], ignore_index=True), n="n", **fit_kwargs)
    else:
        from bayescale.inference.fitting import fit as fit_law

        base = fit.data.frame[["n", "d", "y"]].rename(columns={"y": "loss"})
        base["compute"] = FLOP_PER_PARAMETER_TOKEN * base["n"] * base["d"]
        simulated_all = np.exp(_chinchilla_draws(fit, compute, log_n, seed + 1)[1])
        options = {"likelihood": fit.spec.likelihood, "repeats": "independent"}

        def refit(extra: pd.DataFrame) -> Fit:
            frame = pd.concat([base, extra], ignore_index=True)
            frame["d"] = frame["compute"] / (FLOP_PER_PARAMETER_TOKEN * frame["n"])
            return fit_law(frame, "chinchilla", n="n", d="d", y="loss", **options, **fit_kwargs)

    variances = []
    for index in rng.choice(len(goal), size=sims, replace=False):
        extra = pd.DataFrame({"compute": compute, "n": np.exp(log_n), "loss": simulated_all[index]})
        variances.append(float(np.var(target_draws(refit(extra), target, target_compute))))
    return {
        "sd": float(np.sqrt(np.mean(variances))),
        "sds": [float(np.sqrt(v)) for v in variances],
        "linear_sd": float(np.sqrt(linear)),
        "prior_sd": float(np.std(goal)),
    }
