"""The fit result: posterior + data + spec, and everything read from them.

A :class:`Fit` never samples again. It evaluates the law (written once in
:mod:`bayescale.model.laws`) on posterior draws for predictions and derived
quantities, and summarises parameters with ArviZ.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import CurveData, DataError
from bayescale.inference.law_error import LawError, decades_outside, input_ranges
from bayescale.model.build import ModelSpec
from bayescale.model.laws import NUMPY_OPS, Law
from bayescale.model.likelihoods.registry import Likelihood
from bayescale.model.priors import hierarchy_prior_name
from bayescale.results.display import plural, result_table
from bayescale.results.intervals import DEFAULT_CI, SAMPLE_DIMS, check_ci, eti
from bayescale.results.provenance import SamplerSettings, SamplingTimes

LOCATORS = ("name", "coordinate")

#: Summary columns displayed first (the others are named below the table).
SHOWN = ("mean", "lower", "upper", "sd", "r_hat", "ess_bulk", "prior_sd_ratio", "level")
"""Columns of :meth:`Fit.summary` that locate a row (the variable and its recipe
or run); display tables drop them, code selects by them."""


_FORECAST_VALUES = 4_000_000
"""Most residual values held at once when forecasting a run (about 32 MB)."""


@dataclass(frozen=True)
class Diagnostics:
    """Convergence checks of one fit.

    Attributes
    ----------
    max_r_hat, min_ess_bulk : float
        Worst R-hat and bulk ESS over the reported parameters.
    divergences : int
        Divergent transitions after tuning.
    warnings : list of str
        Plain-language problems (convergence, weak identification, a failed
        posterior predictive check).
    prior_reliance : list of dict
        Per recipe and law parameter: prior and posterior sd, their ratio, the
        posterior median's prior quantile and ``leans_on_prior``
        (:mod:`bayescale.inference.identification`).
    predictive : dict or None
        The posterior predictive check (:mod:`bayescale.inference.predictive_check`).
    notes : list of str
        What the user should know that is not a problem (e.g. single-run recipes).
    law_check : dict or None
        The wrong-law check (:mod:`bayescale.inference.law_misfit`).
    attempts : list of dict
        Every sampling attempt (``tune``, ``draws``, ``target_accept`` and its
        ``max_r_hat``, ``min_ess_bulk``, ``divergences``, ``converged``); a second
        one when the first failed its convergence checks
        (:func:`bayescale.inference.fitting.fit_curves`). Empty for older fits.
    converged : bool
        R-hat <= 1.01, no divergent transitions and bulk ESS >= 400 (computed
        from the numbers above when not given): when ``False`` the results are
        not to be trusted, and the CLI exits with status 3.
    """

    max_r_hat: float
    min_ess_bulk: float
    divergences: int
    warnings: list[str] = field(default_factory=list)
    prior_reliance: list[dict[str, Any]] = field(default_factory=list)
    predictive: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    law_check: dict[str, Any] | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    converged: bool | None = None

    def __post_init__(self) -> None:
        if self.converged is None:
            from bayescale.inference.convergence import is_converged

            converged = is_converged(self.max_r_hat, self.min_ess_bulk, self.divergences)
            object.__setattr__(self, "converged", converged)

    def leaning_on_prior(self) -> dict[str, list[str]]:
        """Recipe -> the law parameters whose posterior leans on the prior."""
        out: dict[str, list[str]] = {}
        for row in self.prior_reliance:
            if row["leans_on_prior"]:
                out.setdefault(row["recipe"], []).append(row["parameter"])
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "max_r_hat": self.max_r_hat,
            "min_ess_bulk": self.min_ess_bulk,
            "divergences": self.divergences,
            "warnings": list(self.warnings),
            "prior_reliance": [dict(row) for row in self.prior_reliance],
            "predictive": None if self.predictive is None else dict(self.predictive),
            "notes": list(self.notes),
            "law_check": None if self.law_check is None else dict(self.law_check),
            "attempts": [dict(attempt) for attempt in self.attempts],
            "converged": self.converged,
        }


@dataclass
class Fit:
    """A fitted scaling law with its posterior.

    Attributes
    ----------
    tree : xarray.DataTree
        The ArviZ DataTree: groups ``posterior`` (the draws; also
        :attr:`draws_dataset`), ``sample_stats`` and ``observed_data``.
    data : CurveData
        The validated data that were fitted.
    spec : ModelSpec
        Law, observation model, hierarchy and priors.
    sampler : SamplerSettings
        NUTS settings used.
    diagnostics : Diagnostics
        Convergence checks and warnings.
    times : SamplingTimes or None
        Compile and sampling seconds (``None`` for a loaded fit).
    version : str
        bayescale version that made the fit.
    law_error : LawError or None
        The law's own error beyond the fitted range, learned by internal
        leave-largest-out folds (:mod:`bayescale.inference.law_error`); predictions
        outside the fitted range include it.

    Examples
    --------
    >>> fit = bs.fit(bs.example_path("scalerl_3seeds"), x="gpu_hours", y="pass_rate",
    ...              run="seed")  # doctest: +SKIP
    >>> fit.summary()  # doctest: +SKIP
    >>> fit.predict([1e5, 2e5])  # doctest: +SKIP
    >>> fit.compute_to_reach(0.6)  # doctest: +SKIP
    """

    tree: xr.DataTree
    data: CurveData
    spec: ModelSpec
    sampler: SamplerSettings
    diagnostics: Diagnostics
    times: SamplingTimes | None = None
    version: str = ""
    law_error: LawError | None = None

    # ------------------------------------------------------------------ access
    @property
    def posterior(self) -> xr.DataTree:
        """The whole DataTree under its 0.1 name (deprecated: use :attr:`tree`)."""
        warnings.warn(
            "Fit.posterior is now Fit.tree (the whole DataTree); the old name goes in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.tree

    @property
    def law(self) -> Law:
        """The fitted law."""
        return self.spec.law_obj

    @property
    def likelihood(self) -> Likelihood:
        """The observation model."""
        return self.spec.likelihood_obj

    @property
    def draws_dataset(self) -> xr.Dataset:
        """The posterior draws as an xarray Dataset."""
        return self.tree["posterior"].to_dataset()

    @property
    def recipes(self) -> list[str]:
        """Recipe labels."""
        return self.data.recipes

    @property
    def runs(self) -> list[str]:
        """Run labels."""
        return self.data.runs

    def recipe_name(self, recipe: str | None) -> str:
        """``recipe`` checked against the fit's recipes (``None``: the only one).

        Raises
        ------
        ValueError
            If the recipe is not in the fit, or ``None`` when there are several.
        """
        if recipe is None:
            if len(self.recipes) > 1:
                raise ValueError(f"name a recipe: one of {', '.join(self.recipes)}")
            return self.recipes[0]
        if recipe not in self.recipes:
            raise ValueError(f"no recipe {recipe!r}; the fit has: {', '.join(self.recipes)}")
        return recipe

    def _run(self, run: str) -> str:
        if run not in self.runs:
            raise ValueError(f"no run {run!r}; the fit has: {', '.join(self.runs)}")
        return run

    def parameter_draws(
        self,
        *,
        recipe: str | None = None,
        run: str | None = None,
        new_run: bool = False,
        rng: np.random.Generator | None = None,
    ) -> dict[str, xr.DataArray]:
        """Posterior draws of the law parameters at one level.

        Parameters
        ----------
        recipe : str, optional
            Recipe-level parameters (the typical seed of the recipe). Needed when
            the fit has several recipes.
        run : str, optional
            A fitted run's own parameters instead.
        new_run : bool
            Draw the parameters of a new, unseen run of the recipe (adds the
            run-to-run spread of the varying parameters).
        rng : numpy.random.Generator, optional
            For the new run's deviations.

        Returns
        -------
        dict of str to xarray.DataArray
            Each with dims ``(chain, draw)``.
        """
        post = self.draws_dataset
        law = self.law
        if run is not None:
            run = self._run(run)
            recipe = self.data.run_recipe[run]
        recipe = self.recipe_name(recipe)
        out = {}
        for name in law.parameters:
            value = post[name]
            if "recipe" in value.dims:
                value = value.sel(recipe=recipe, drop=True)
            if run is not None and name in self.spec.varying:
                value = post[f"{name}_run"].sel(run=run, drop=True)
            elif new_run and name in self.spec.varying:
                rng = rng if rng is not None else np.random.default_rng()
                spread = post[hierarchy_prior_name(law, name)]
                z = xr.DataArray(rng.standard_normal(spread.shape), dims=spread.dims)
                value = value * np.exp(spread * z) if name in law.positive else value + spread * z
            out[name] = value
        return out

    def noise_draws(self) -> dict[str, xr.DataArray]:
        """Posterior draws of the observation model's noise parameters."""
        post = self.draws_dataset
        return {name: post[name] for name in self.likelihood.parameters}

    # ------------------------------------------------------------- summaries
    def summary(self, ci: float = DEFAULT_CI) -> pd.DataFrame:
        """Parameter table: recipe level, per run, spreads and noise.

        Parameters
        ----------
        ci : float
            Credible mass of the equal-tailed interval (default 0.89).

        Returns
        -------
        pandas.DataFrame
            Index ``parameter`` (``A``, ``A[seed0]``, ``sigma_A``, ...; recipe-level
            names carry ``[recipe]`` when there are several recipes); columns
            ``level`` (recipe / run / spread / noise), ``mean``, ``median``, ``sd``,
            ``lower``, ``upper``, ``r_hat``, ``ess_bulk``, ``ess_tail`` and
            ``prior_sd_ratio`` (recipe-level law parameters: posterior sd over prior
            sd, log scale for positive parameters; near 1 the data added little),
            then ``name`` (the variable, e.g. ``A`` for ``A[seed0]``) and ``coordinate``
            (its recipe or run, empty for spreads and noise): select rows by
            these, not by the display labels of the index.
        """
        import arviz_stats as azs

        check_ci(ci)
        post = self.draws_dataset
        groups = self._summary_groups(post)
        frames = []
        for level, names in groups.items():
            if not names:
                continue
            table = azs.summary(post[names], ci_prob=ci, ci_kind="eti", round_to="none", kind="all")
            table = table.rename(columns=_interval_columns(table.columns))
            table.insert(0, "level", level)
            frames.append(table)
        table = pd.concat(frames)
        table["median"] = [
            float(post[name].sel(coords).median())
            for name, coords in map(_label_selection, table.index)
        ]
        table["prior_sd_ratio"] = [self._prior_sd_ratio(label) for label in table.index]
        selections = [_label_selection(label) for label in table.index]
        table["name"] = [name.removesuffix("_run") for name, _ in selections]
        table["coordinate"] = [next(iter(coords.values()), "") for _, coords in selections]
        table.index = [self._row_label(label) for label in table.index]
        table.index.name = "parameter"
        columns = ["level", "mean", "median", "sd", "lower", "upper", "r_hat", "ess_bulk"]
        return result_table(table[[*columns, "ess_tail", "prior_sd_ratio", *LOCATORS]], SHOWN)

    def _prior_sd_ratio(self, label: str) -> float:
        """Posterior over prior sd of a recipe-level law parameter (NaN for the others)."""
        name, coords = _label_selection(label)
        recipe = coords.get("recipe", self.recipes[0] if len(self.recipes) == 1 else None)
        for row in self.diagnostics.prior_reliance:
            if row["parameter"] == name and row["recipe"] == recipe:
                return float(row["sd_ratio"])
        return np.nan

    def _summary_groups(self, post: xr.Dataset) -> dict[str, list[str]]:
        law = self.law
        return {
            "recipe": list(law.parameters),
            "run": [f"{name}_run" for name in self.spec.varying],
            "spread": [hierarchy_prior_name(law, name) for name in self.spec.varying],
            "noise": [*self.likelihood.parameters, *self.likelihood.derived],
        }

    def _row_label(self, label: str) -> str:
        name, _, index = label.partition("[")
        name = name.removesuffix("_run")
        if not index:
            return name
        index = index.rstrip("]")
        if len(self.recipes) == 1 and index == self.recipes[0]:
            return name
        return f"{name}[{index}]"

    # ------------------------------------------------------------ predictions
    def predict(
        self,
        x: Sequence[float] | np.ndarray | float | None = None,
        *,
        n: Sequence[float] | np.ndarray | float | None = None,
        d: Sequence[float] | np.ndarray | float | None = None,
        recipe: str | None = None,
        run: str | None = None,
        ci: float = DEFAULT_CI,
        seed: int | None = 0,
        compute: Sequence[float] | np.ndarray | float | None = None,
        law_error: bool = True,
    ) -> pd.DataFrame:
        """Predicted metric with credible and predictive intervals.

        Parameters
        ----------
        x : array-like, optional
            Inputs (compute) for one-input laws.
        n, d : array-like, optional
            Parameters and tokens, for two-input laws.
        recipe : str, optional
            Which recipe (needed when the fit has several).
        run : str, optional
            Predict a fitted run instead of the recipe.
        ci : float
            Credible mass of the intervals.
        seed : int or None
            Seed for drawing new observations (fixed by default, so repeated
            calls agree).
        compute : array-like, optional
            Chinchilla fits: training budgets in FLOP; the loss is predicted along
            the compute-optimal frontier (:func:`bayescale.results.allocation.frontier_predict`).
        law_error : bool
            Include the law's own error beyond the fitted range in the
            new-observation interval (default); with ``False``, it assumes the law
            is exactly right.

        Returns
        -------
        pandas.DataFrame
            One row per input with the inputs, ``decades_beyond`` (decades outside
            the fitted range of the inputs, 0 inside), ``mean`` and ``median`` of the
            curve, ``lower``/``upper`` (credible interval of the curve: for the
            recipe, the typical seed's curve) and ``obs_lower``/``obs_upper``
            (interval for a new observation: for the recipe, from a new seed,
            including run-to-run spread and measurement noise; for a fitted
            run past its last evaluation, given that run's own data when the
            observation model has correlated noise, as ``"drift"`` has).
            Beyond the fitted range the new-observation interval includes the
            law's own error (:attr:`law_error`), which grows with
            ``decades_beyond``; ``law_error_sd`` is its sd in log loss. The curve's
            ``mean``, ``median`` and interval are the law's own.

        Examples
        --------
        >>> fit.predict([5e4, 1e5])  # doctest: +SKIP
        """
        if compute is not None:
            from bayescale.results.allocation import frontier_predict

            return frontier_predict(
                self, compute, recipe=recipe, ci=ci, seed=seed, law_error=law_error
            )
        check_ci(ci)
        inputs = self._inputs(x=x, n=n, d=d)
        rng = np.random.default_rng(seed)
        log_inputs = {role: xr.DataArray(np.log(v), dims="point") for role, v in inputs.items()}
        params = self.parameter_draws(recipe=recipe, run=run)
        curve = self.law.curve(log_inputs, params)
        new_params = (
            params
            if run is not None
            else self.parameter_draws(recipe=recipe, new_run=True, rng=rng)
        )
        response_mean = self.law.mean(NUMPY_OPS, log_inputs, new_params)
        observed = self.likelihood.draw(response_mean, self.noise_draws(), rng, self.trial_count())
        if run is not None:
            observed = self._continue_run(observed, response_mean, run, inputs, rng)
        if self.law.response == "log":
            observed = np.exp(observed)
        out = pd.DataFrame(inputs)
        out["decades_beyond"] = self.decades_beyond(inputs)
        out["mean"] = curve.mean(SAMPLE_DIMS).to_numpy()
        out["median"] = curve.median(SAMPLE_DIMS).to_numpy()
        if law_error:
            observed = self.with_law_error(out["decades_beyond"].to_numpy(), rng, observed)
        out["lower"], out["upper"] = eti(curve, ci)
        out["obs_lower"], out["obs_upper"] = eti(observed, ci)
        out["law_error_sd"] = self.law_error_sd(out["decades_beyond"].to_numpy(), law_error)
        return out

    def decades_beyond(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Decades outside the fitted range of the inputs (0 inside), per point.

        Parameters
        ----------
        inputs : dict of str to array
            Input values by role (``x``, or ``n`` and ``d``).
        """
        return decades_outside(inputs, input_ranges(self.data.frame, self.law))

    def with_law_error(
        self, decades: np.ndarray, rng: np.random.Generator, observed: xr.DataArray
    ) -> xr.DataArray:
        """New-observation draws (dims chain, draw, point; metric scale) moved by one
        law-error draw per posterior draw, ``decades`` outside the fitted range.
        Unchanged without a learned :attr:`law_error` or inside the range."""
        if self.law_error is None or not np.any(decades > 0):
            return observed
        ordered = observed.transpose(*SAMPLE_DIMS, "point")
        error = self.law_error.draw(decades, ordered.shape[:2], rng)
        return ordered.copy(data=self.law_error.apply(ordered.to_numpy(), error))

    def law_error_sd(self, decades: np.ndarray, include: bool = True) -> np.ndarray:
        """The law error's sd at ``decades`` outside the fitted range (error scale)."""
        if self.law_error is None or not include:
            return np.zeros_like(decades, dtype=float)
        return self.law_error.sd_per_decade * np.sqrt(decades)

    def _continue_run(
        self,
        observed: xr.DataArray,
        response_mean: xr.DataArray,
        run: str,
        inputs: dict[str, np.ndarray],
        rng: np.random.Generator,
    ) -> xr.DataArray:
        """New observations after a fitted run's last evaluation, drawn given the
        run's own residuals (:attr:`Likelihood.forecast`, e.g. ``"drift"``: its
        drift persists for a while past the data). The steps ahead count the
        run's mean evaluation spacing. Other points keep the stationary draw."""
        forecast = self.likelihood.forecast
        if forecast is None or tuple(self.law.inputs) != ("x",):
            return observed
        seen = self.data.frame[self.data.frame["run"] == run].sort_values("x")
        if len(seen) < 2:
            return observed
        x_seen = seen["x"].to_numpy(float)
        ahead = inputs["x"] > x_seen[-1]
        if not ahead.any():
            return observed
        y_seen = seen["y"].to_numpy(float)
        if self.law.response == "log":
            y_seen = np.log(y_seen)
        log_x = {"x": xr.DataArray(np.log(x_seen), dims="obs")}
        params = {
            name: value.stack(sample=SAMPLE_DIMS)
            for name, value in self.parameter_draws(run=run).items()
        }
        noise = {
            name: value.stack(sample=SAMPLE_DIMS).to_numpy()
            for name, value in self.noise_draws().items()
        }
        spacing = (x_seen[-1] - x_seen[0]) / (len(x_seen) - 1)
        steps = (inputs["x"][ahead] - x_seen[-1]) / spacing
        out = observed.transpose(*SAMPLE_DIMS, "point").copy()
        n_chain, n_draw = out.shape[:2]
        # Draws in blocks, so that a dense log (100k evaluations) never holds a
        # (draws x evaluations) array: memory stays linear in the evaluations.
        block = max(1, _FORECAST_VALUES // len(x_seen))
        parts = []
        for start in range(0, n_chain * n_draw, block):
            rows = slice(start, start + block)
            drawn = {name: value.isel(sample=rows) for name, value in params.items()}
            mean_seen = self.law.mean(NUMPY_OPS, log_x, drawn).transpose("sample", "obs")
            residual = y_seen - mean_seen.to_numpy()
            local = {name: value[rows] for name, value in noise.items()}
            parts.append(forecast(residual, steps, local, rng))
        deviation = np.concatenate(parts).reshape(n_chain, n_draw, -1)
        mean = response_mean.transpose(*SAMPLE_DIMS, "point").to_numpy()
        out.values[..., ahead] = mean[..., ahead] + deviation
        return out

    def _inputs(self, **given) -> dict[str, np.ndarray]:
        roles = self.law.inputs
        missing = [role for role in roles if given.get(role) is None]
        if missing:
            raise ValueError(f"law {self.law.name!r} needs {', '.join(roles)} to predict")
        arrays = {}
        for role in roles:
            try:
                arrays[role] = np.atleast_1d(np.asarray(given[role], dtype=float))
            except (TypeError, ValueError):
                raise DataError(f"predict: {role} must be numbers, got {given[role]!r}") from None
            if arrays[role].size == 0:
                raise DataError(f"predict: give at least one {role} value to predict at")
        for role, values in arrays.items():
            if not np.all(np.isfinite(values) & (values > 0)):
                raise ValueError(f"{role} must be finite and > 0")
        return dict(zip(roles, np.broadcast_arrays(*arrays.values()), strict=True))

    def trial_count(self) -> float | None:
        """Prompts per evaluation (the median of the ``trials`` column), or ``None``."""
        if "trials" not in self.data.frame:
            return None
        return float(self.data.frame["trials"].median())

    def compute_to_reach(
        self,
        target: float | Sequence[float],
        *,
        recipe: str | None = None,
        run: str | None = None,
        ci: float = DEFAULT_CI,
    ) -> pd.DataFrame:
        """Input (compute) needed for the curve to reach each target.

        The interval is over the posterior draws in which the target is
        reachable at all; ``p_reachable`` is the share of such draws (for the
        sigmoid: the target lies between ``R0`` and the asymptote ``A``).

        Parameters
        ----------
        target : float or sequence of float
            Metric values to reach.
        recipe, run : str, optional
            As in :meth:`predict`.
        ci : float
            Credible mass.

        Returns
        -------
        pandas.DataFrame
            Columns ``target``, ``p_reachable``, ``median``, ``lower``, ``upper``
            (NaN where no draw reaches the target).
        """
        check_ci(ci)
        if self.law.inverse is None:
            raise ValueError(f"law {self.law.name!r} has no compute-to-target inverse")
        params = {
            k: v.to_numpy().ravel() for k, v in self.parameter_draws(recipe=recipe, run=run).items()
        }
        rows = []
        for value in np.atleast_1d(np.asarray(target, dtype=float)):
            x, reachable = self.law.inverse(params, value)
            reached = x[reachable]
            low, high = eti(reached, ci)
            rows.append(
                {
                    "target": float(value),
                    "p_reachable": float(reachable.mean()),
                    "median": float(np.median(reached)) if reached.size else np.nan,
                    "lower": low,
                    "upper": high,
                }
            )
        return pd.DataFrame(rows)

    def compute_optimal(
        self,
        compute: Sequence[float] | np.ndarray | float,
        *,
        recipe: str | None = None,
        ci: float = DEFAULT_CI,
    ) -> pd.DataFrame:
        """Compute-optimal parameters, tokens, tokens per parameter and loss.

        For Chinchilla fits; see :func:`bayescale.results.allocation.compute_optimal`.

        Examples
        --------
        >>> fit.compute_optimal([5.88e23])  # doctest: +SKIP
        """
        from bayescale.results.allocation import compute_optimal

        return compute_optimal(self, compute, recipe=recipe, ci=ci)

    def inference_optimal(
        self,
        inference_tokens: Sequence[float] | float,
        *,
        loss: Sequence[float] | float | None = None,
        budget: Sequence[float] | float | None = None,
        recipe: str | None = None,
        ci: float = DEFAULT_CI,
    ) -> pd.DataFrame:
        """Inference-aware allocation (Sardana et al.) at a target loss or total budget.

        For Chinchilla fits; see :func:`bayescale.results.inference_allocation.inference_optimal`.

        Examples
        --------
        >>> fit.inference_optimal(2e12, loss=2.0)  # doctest: +SKIP
        """
        from bayescale.results.inference_allocation import inference_optimal

        return inference_optimal(
            self, inference_tokens, loss=loss, budget=budget, recipe=recipe, ci=ci
        )

    # ---------------------------------------------------------------- display
    def describe(self) -> str:
        """One line: the law, the observation model and what was fitted."""
        return (
            f"{self.law.name} fit, likelihood {self.spec.likelihood}: {plural(len(self.data), 'point')}, "
            f"{plural(len(self.runs), 'run')}, {plural(len(self.recipes), 'recipe')}"
        )

    def __repr__(self) -> str:
        d = self.diagnostics
        table = self.summary()
        recipe_level = table.loc[table["level"] == "recipe", list(SHOWN[:-1])]
        return (
            f"<bayescale.Fit: {self.describe()}; max r_hat {d.max_r_hat:.3f}, "
            f"{plural(d.divergences, 'divergence')}, {plural(len(d.warnings), 'warning')}>\n"
            f"{recipe_level.to_string(float_format=lambda v: f'{v:.4g}')}\n"
            "(fit.summary() has every row and column; fit.diagnostics the warnings)"
        )

    def _repr_html_(self) -> str:
        table = self.summary()._repr_html_()
        warnings = "".join(f"<li>{html.escape(w)}</li>" for w in self.diagnostics.warnings)
        notes = "".join(
            f"<li>{html.escape(n)}</li>" for n in [*self.data.notes, *self.diagnostics.notes]
        )
        return (
            f"<div><b>bayescale fit</b>: {html.escape(self.law.formula)}<br>"
            f"{html.escape(self.describe())}"
            f"<ul>{notes}{warnings}</ul>{table}</div>"
        )

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save to netCDF (no pickle), atomically; an existing file is replaced only
        with ``overwrite=True``. See :func:`bayescale.results.persistence.save_fit`."""
        from bayescale.results.persistence import save_fit

        return save_fit(self, path, overwrite=overwrite)

    def to_dict(self, ci: float = DEFAULT_CI, **options: Any) -> dict[str, Any]:
        """The ``fit.json`` payload (:func:`bayescale.results.export.fit_to_dict`,
        which takes the ``options``: ``predict_x``, ``targets``, ...)."""
        from bayescale.results.export import fit_to_dict

        return fit_to_dict(self, ci=ci, **options)

    def plot(self, **options: Any) -> Any:
        """The fitted curve with its bands and the data, on a matplotlib ``Axes``
        (:func:`bayescale.reporting.plots.plot_fit`, which takes the ``options``:
        ``recipe``, ``held_out``, ``ci``, ``ax``, ...)."""
        from bayescale.reporting.plots import plot_fit

        return plot_fit(self, **options)


def _label_selection(label: str) -> tuple[str, dict[str, str]]:
    """``"A[base]"`` of dim recipe/run -> (``"A"``, selection); arviz's summary labels."""
    name, _, index = label.partition("[")
    if not index:
        return name, {}
    dim = "run" if name.endswith("_run") else "recipe"
    return name, {dim: index.rstrip("]")}


def _interval_columns(columns: Sequence[str]) -> dict[str, str]:
    renames = {}
    for column in columns:
        if column.endswith("_lb"):
            renames[column] = "lower"
        elif column.endswith("_ub"):
            renames[column] = "upper"
    return renames
