"""Figures of a fit: curves with bands, posteriors, forests and diagnostics.

Every function reads a :class:`~bayescale.results.fit_result.Fit` (or draws taken from one),
never samples, takes an optional matplotlib ``ax`` where it draws a single panel,
returns what it drew on (the ``Axes``, or the ``Figure`` for multi-panel plots)
and never calls ``plt.show()``.

Examples
--------
>>> import bayescale as bs
>>> from bayescale.reporting import plots
>>> fit = bs.load("fit.nc")  # doctest: +SKIP
>>> ax = plots.plot_fit(fit, held_out=plots.held_out_points(fit))  # doctest: +SKIP
>>> ax.figure.savefig("fit.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescale.data.curves import FLOP_PER_PARAMETER_TOKEN, run_label
from bayescale.data.sources import read_table
from bayescale.model.laws import ASYMPTOTE_ROPE
from bayescale.model.priors import hierarchy_prior_name
from bayescale.results.fit_result import Fit
from bayescale.results.intervals import DEFAULT_CI, SAMPLE_DIMS, eti

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Half-width of the region of practical equivalence for asymptotes: ScaleRL's
#: three seeds of one recipe spread over about +/-0.015 in A.

CURVE_COLOR = "C0"
HELD_OUT_COLOR = "black"


def plain(text: object) -> str:
    r"""``text`` drawn as written: user strings (run, recipe and column names)
    never turn into matplotlib math text (``$x^$`` would abort drawing,
    ``$\alpha$`` become a Greek letter).

    Examples
    --------
    >>> print(plain("$x^$ run"))
    \$x^\$ run
    """
    return str(text).replace("$", r"\$")


def axes_for(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.2)) -> Axes:
    """``ax``, or the axes of a new figure of ``figsize`` (a plot draws on either)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def held_out_points(fit: Fit, data: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """Observations beyond the fitted range of the input: the extrapolation check.

    Parameters
    ----------
    fit : Fit
        A fit of a one-input law.
    data : DataFrame or path, optional
        Another table in the user's column names (e.g. runs that went on after
        the fit); default: the rows the fit's own data kept outside its window
        (``fit.data.excluded``: read with the fit, saved with it).

    Returns
    -------
    pandas.DataFrame
        Columns ``x``, ``y``, ``run`` and ``recipe`` (canonical names, as in
        ``fit.data.frame``) for the rows whose ``x`` lies above the largest fitted
        ``x`` of their recipe; empty when there are none.

    Examples
    --------
    >>> tail = held_out_points(fit)  # doctest: +SKIP
    """
    columns = ["x", "y", "run", "recipe"]
    if data is None:
        rows = fit.data.excluded
        out = rows[columns] if "x" in rows else pd.DataFrame({column: [] for column in columns})
    else:
        out = _canonical_rows(fit, read_table(data) if not isinstance(data, pd.DataFrame) else data)
    fitted_max = fit.data.frame.groupby("recipe")["x"].max()
    beyond = out["x"] > out["recipe"].map(fitted_max).astype(float)
    return out[beyond & out["y"].notna()].reset_index(drop=True)


def _canonical_rows(fit: Fit, table: pd.DataFrame) -> pd.DataFrame:
    """``table``'s rows in the fit's canonical columns (``x``, ``y``, ``recipe``, ``run``)."""
    columns = fit.data.columns
    out = pd.DataFrame(
        {
            "x": pd.to_numeric(table[columns["x"]], errors="coerce"),
            "y": pd.to_numeric(table[columns["y"]], errors="coerce"),
            "recipe": table[columns["recipe"]].astype(str) if "recipe" in columns else "all",
        }
    )
    run = table[columns["run"]].astype(str) if "run" in columns else out["recipe"]
    out["run"] = (
        [run_label(a, b) for a, b in zip(out["recipe"], run, strict=True)]
        if "recipe" in columns and "run" in columns
        else run
    )
    return out


def plot_fit(
    fit: Fit,
    *,
    recipe: str | None = None,
    held_out: pd.DataFrame | None = None,
    x_max: float | None = None,
    ci: float = DEFAULT_CI,
    ax: Axes | None = None,
) -> Axes:
    """The fitted curve on log compute with its bands and the data.

    Draws the observed points of each run, the recipe-level credible band (the
    typical seed's curve), the wider band for a new observation from a new seed,
    the posterior median curve, the extrapolated region (beyond the largest
    fitted input) shaded, and held-out points as black crosses.

    Parameters
    ----------
    fit : Fit
        A fit of a one-input law.
    recipe : str, optional
        Which recipe (needed when the fit has several).
    held_out : DataFrame, optional
        Points not used in the fit, with columns ``x`` and ``y`` (e.g. from
        :func:`held_out_points`); rows of other recipes are ignored.
    x_max : float, optional
        Right end of the curve; default twice the largest fitted input, or the
        largest held-out input if that is further.
    ci : float
        Credible mass of both bands.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_fit(fit, held_out=held_out_points(fit))  # doctest: +SKIP
    """
    if fit.law.inputs != ("x",):
        raise ValueError(f"plot_fit draws one-input laws; {fit.law.name!r} has {fit.law.inputs}")
    recipe = fit.recipe_name(recipe)
    ax = axes_for(ax)
    frame = fit.data.frame[fit.data.frame["recipe"] == recipe]
    if held_out is not None and "recipe" in held_out:
        held_out = held_out[held_out["recipe"] == recipe]
    fitted_max = float(frame["x"].max())
    held_x = list(held_out["x"]) if held_out is not None else []
    right = x_max or max([2 * fitted_max, *held_x])
    grid = np.geomspace(float(frame["x"].min()), right, 200)
    pred = fit.predict(grid, recipe=recipe, ci=ci)
    ax.fill_between(
        grid,
        pred["obs_lower"],
        pred["obs_upper"],
        color=CURVE_COLOR,
        alpha=0.15,
        label=f"{ci:.0%} new observation",
    )
    ax.fill_between(
        grid, pred["lower"], pred["upper"], color=CURVE_COLOR, alpha=0.35, label=f"{ci:.0%} curve"
    )
    ax.plot(grid, pred["median"], color=CURVE_COLOR, lw=1.5, label="posterior median")
    for run, points in frame.groupby("run", sort=False):
        ax.scatter(points["x"], points["y"], s=8, alpha=0.7, label=plain(run))
    if right > fitted_max:
        ax.axvspan(fitted_max, right, color="grey", alpha=0.12, lw=0, label="extrapolation")
    if held_out is not None and len(held_out):
        ax.scatter(
            held_out["x"],
            held_out["y"],
            s=14,
            marker="x",
            color=HELD_OUT_COLOR,
            label="held out",
        )
    ax.set_xscale("log")
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel(plain(fit.data.columns["x"]))
    ax.set_ylabel(plain(fit.data.columns["y"]))
    ax.set_title(plain(recipe) if len(fit.recipes) > 1 else fit.law.formula, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def _kde_line(values: np.ndarray, n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import gaussian_kde

    low, high = np.quantile(values, [0.001, 0.999])
    pad = 0.1 * (high - low)
    grid = np.linspace(low - pad, high + pad, n)
    return grid, gaussian_kde(values)(grid)


def plot_parameter_by_recipe(
    fit: Fit,
    parameter: str = "A",
    *,
    reference: str | None = None,
    rope: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Posterior density of a recipe-level parameter, one line per recipe.

    The shaded band is the reference recipe's posterior median +/- ``rope``:
    recipes whose density sits inside it are not distinguishable from the
    reference by the seed-to-seed rule (ScaleRL: +/-0.02 in ``A``).

    Parameters
    ----------
    fit : Fit
    parameter : str
        A law parameter (default the asymptote ``A``).
    reference : str, optional
        Recipe the band is centred on; default the first.
    rope : float, optional
        Half-width of the band (0 draws none); default the law's ROPE for the
        parameter (:func:`bayescale.analysis.recipes.default_rope`), else none.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_parameter_by_recipe(fit, "A", reference="baseline")  # doctest: +SKIP
    """
    if parameter not in fit.law.parameters:
        raise ValueError(f"{parameter!r} is not a parameter of {fit.law.name}")
    reference = fit.recipe_name(reference or fit.recipes[0])
    if rope is None:
        rope = fit.law.ropes.get(parameter, 0.0)
    ax = axes_for(ax)
    for recipe in fit.recipes:
        values = fit.parameter_draws(recipe=recipe)[parameter].to_numpy().ravel()
        ax.plot(*_kde_line(values), label=plain(recipe))
    if rope > 0:
        centre = float(fit.parameter_draws(recipe=reference)[parameter].median(SAMPLE_DIMS))
        ax.axvspan(
            centre - rope,
            centre + rope,
            color="grey",
            alpha=0.2,
            lw=0,
            label=f"{plain(reference)} ± {rope:g}",
        )
    ax.set_xlabel(plain(parameter))
    ax.set_ylabel("posterior density")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    return ax


def plot_difference(
    draws: np.ndarray | Sequence[float],
    *,
    rope: float = ASYMPTOTE_ROPE,
    decision: str | None = None,
    label: str = "difference",
    ci: float = DEFAULT_CI,
    ax: Axes | None = None,
) -> Axes:
    """Posterior of a difference with the ROPE and the decision.

    Parameters
    ----------
    draws : array-like
        Posterior draws of the difference (e.g. ``A[better] - A[baseline]``).
    rope : float
        Half-width of the region of practical equivalence, shaded around 0.
    decision : str, optional
        The word to show (higher / lower / equivalent / undecided), as decided
        by the comparison.
    label : str
        x-axis label.
    ci : float
        Credible mass of the interval drawn under the density.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The title gives P(diff > rope), P(|diff| <= rope), P(diff < -rope) and the decision.

    Examples
    --------
    >>> a = fit.parameter_draws(recipe="better")["A"]  # doctest: +SKIP
    >>> b = fit.parameter_draws(recipe="baseline")["A"]  # doctest: +SKIP
    >>> ax = plot_difference((a - b).values.ravel(), decision="higher")  # doctest: +SKIP
    """
    values = np.asarray(draws, dtype=float).ravel()
    ax = axes_for(ax)
    grid, density = _kde_line(values)
    ax.plot(grid, density, color=CURVE_COLOR)
    ax.axvspan(-rope, rope, color="grey", alpha=0.25, lw=0, label=f"ROPE ± {rope:g}")
    low, high = eti(values, ci)
    ax.hlines(0, low, high, color="black", lw=4, label=f"{ci:.0%} interval")
    above, below = (values > rope).mean(), (values < -rope).mean()
    title = (
        f"P(>{rope:g}) {above:.2f}   P(inside) {1 - above - below:.2f}   P(<-{rope:g}) {below:.2f}"
    )
    if decision:
        title = f"{decision}: {title}"
    ax.set_title(plain(title), fontsize=9)
    ax.set_xlabel(plain(label))
    ax.set_ylabel("posterior density")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    return ax


def _forest_rows(table: pd.DataFrame, parameter: str) -> pd.DataFrame:
    names = table.index.str.split("[").str[0]
    rows = table[(names == parameter) & table["level"].isin(["recipe", "run"])]
    return rows.assign(label=[str(name) for name in rows.index])


def plot_forest(
    fit: Fit,
    parameters: Sequence[str] | None = None,
    *,
    ci: float = DEFAULT_CI,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Forest plot: each parameter's interval per recipe and per run (seed).

    One panel per parameter; recipe-level rows are dark, run-level rows grey.

    Parameters
    ----------
    fit : Fit
    parameters : sequence of str, optional
        Law parameters; default all of them.
    ci : float
        Credible mass of the intervals.
    ax : Axes or sequence of Axes, optional
        One per parameter; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_forest(fit, ["A", "B"])  # doctest: +SKIP
    """
    parameters = list(parameters or fit.law.parameters)
    table = fit.summary(ci=ci)
    if ax is None:
        import matplotlib.pyplot as plt

        rows = max(len(_forest_rows(table, p)) for p in parameters)
        ax = plt.subplots(
            1,
            len(parameters),
            figsize=(3.2 * len(parameters), 1.2 + 0.3 * rows),
            layout="constrained",
            squeeze=False,
        )[1][0]
    from matplotlib.axes import Axes

    axes = [ax] if isinstance(ax, Axes) else list(ax)
    if len(axes) != len(parameters):
        raise ValueError(f"need one Axes per parameter ({len(parameters)}), got {len(axes)}")
    for panel, parameter in zip(axes, parameters, strict=True):
        rows = _forest_rows(table, parameter)
        y = np.arange(len(rows))[::-1]
        colors = np.where(rows["level"] == "recipe", "black", "grey")
        if parameter in fit.law.positive and rows["upper"].max() > 10 * rows["lower"].min():
            panel.set_xscale("log")
        panel.hlines(y, rows["lower"], rows["upper"], colors=colors, lw=2)
        panel.scatter(rows["mean"], y, c=colors, s=16, zorder=3)
        panel.set_yticks(y, [plain(label) for label in rows["label"]], fontsize=7)
        panel.set_ylim(-0.7, len(rows) - 0.3)
        panel.set_xlabel(f"{parameter} ({ci:.0%} interval)")
    return axes[0].figure


RANK_ENVELOPE = 0.99
"""Probability of the simultaneous envelope the rank plots draw."""


def plot_diagnostics(
    fit: Fit, *, kind: str = "rank", var_names: Sequence[str] | None = None
) -> Figure:
    """Convergence plots via ArviZ (arviz-plots, matplotlib backend).

    ``kind="rank"`` draws fractional-rank Δ-ECDF plots with their
    :data:`RANK_ENVELOPE` simultaneous envelope (ArviZ's ``method="envelope"``):
    with converged chains every chain's line stays inside it. (ArviZ's default
    instead prints a multi-chain test's p-value and highlights segments, which
    can disagree with R-hat on a converged fit; no such claim is drawn.) ``kind="trace"`` draws traces.
    The layout is a grid made by ArviZ, so there is no ``ax`` argument.

    Parameters
    ----------
    fit : Fit
    kind : {"rank", "trace"}
    var_names : sequence of str, optional
        Posterior variables; default the law parameters, the run-to-run spreads
        and the noise parameters.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_diagnostics(fit, kind="trace")  # doctest: +SKIP
    """
    import arviz_plots as azp

    functions = {"rank": azp.plot_rank, "trace": azp.plot_trace}
    if kind not in functions:
        raise ValueError(f"kind must be one of {', '.join(functions)}, got {kind!r}")
    if var_names is None:
        law = fit.law
        var_names = [
            *law.parameters,
            *(hierarchy_prior_name(law, name) for name in fit.spec.varying),
            *fit.likelihood.parameters,
        ]
    options = {"method": "envelope", "envelope_prob": RANK_ENVELOPE} if kind == "rank" else {}
    collection = functions[kind](
        fit.tree,
        var_names=list(var_names),
        backend="matplotlib",
        figure_kwargs={"layout": "constrained"},
        **options,
    )
    return collection.viz["figure"].item()


def _budget_range(fit: Fit) -> np.ndarray:
    compute = FLOP_PER_PARAMETER_TOKEN * fit.data.frame["n"] * fit.data.frame["d"]
    return np.geomspace(float(compute.min()), 10 * float(compute.max()), 60)


def plot_loss_contours(
    fit: Fit,
    *,
    recipe: str | None = None,
    levels: int = 12,
    ax: Axes | None = None,
) -> Axes:
    """Loss contours of a Chinchilla fit in (N, D), with the data and the frontier.

    Contours are the posterior median loss on a log grid around the data; the
    points are the fitted runs coloured by their loss; the dashed line is the
    compute-optimal frontier (posterior median ``N_opt(C)``, ``D_opt(C)``).

    Parameters
    ----------
    fit : Fit
        A fit of the ``"chinchilla"`` law.
    recipe : str, optional
    levels : int
        Number of contour levels.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_loss_contours(fit)  # doctest: +SKIP
    """
    recipe = fit.recipe_name(recipe)
    frame = fit.data.frame[fit.data.frame["recipe"] == recipe]
    ax = axes_for(ax)
    n = np.geomspace(frame["n"].min() / 2, frame["n"].max() * 2, 50)
    d = np.geomspace(frame["d"].min() / 2, frame["d"].max() * 2, 50)
    grid_n, grid_d = np.meshgrid(n, d)
    loss = fit.predict(n=grid_n.ravel(), d=grid_d.ravel(), recipe=recipe)["median"]
    lines = ax.contour(
        grid_n, grid_d, loss.to_numpy().reshape(grid_n.shape), levels, cmap="viridis"
    )
    ax.clabel(lines, fontsize=6, fmt="%.2f")
    ax.scatter(frame["n"], frame["d"], c=frame["y"], cmap="viridis", s=10, edgecolor="k", lw=0.3)
    optimum = fit.compute_optimal(_budget_range(fit), recipe=recipe)
    inside = optimum["n_opt_median"].between(n[0], n[-1]) & optimum["d_opt_median"].between(
        d[0], d[-1]
    )
    ax.plot(
        optimum.loc[inside, "n_opt_median"],
        optimum.loc[inside, "d_opt_median"],
        "k--",
        label="compute-optimal frontier",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n[0], n[-1])
    ax.set_ylim(d[0], d[-1])
    ax.set_xlabel(f"parameters N ({plain(fit.data.columns['n'])})")
    ax.set_ylabel("tokens D")
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_frontier(
    fit: Fit,
    *,
    compute: Sequence[float] | np.ndarray | None = None,
    recipe: str | None = None,
    ci: float = DEFAULT_CI,
    ax: Axes | None = None,
) -> Axes:
    """Compute-optimal model size ``N_opt(C)`` with its credible band.

    Parameters
    ----------
    fit : Fit
        A fit of the ``"chinchilla"`` law.
    compute : array-like, optional
        Budgets in FLOP; default from the smallest run's ``6 N D`` to ten times
        the largest.
    recipe : str, optional
    ci : float
        Credible mass of the band.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Log-log axes: the band, the median line and the fitted runs as
        ``(6 N D, N)`` points.

    Examples
    --------
    >>> ax = plot_frontier(fit, compute=np.geomspace(1e18, 1e25, 40))  # doctest: +SKIP
    """
    recipe = fit.recipe_name(recipe)
    budgets = _budget_range(fit) if compute is None else np.asarray(compute, dtype=float)
    optimum = fit.compute_optimal(budgets, recipe=recipe, ci=ci)
    ax = axes_for(ax)
    ax.fill_between(
        budgets,
        optimum["n_opt_lower"],
        optimum["n_opt_upper"],
        color=CURVE_COLOR,
        alpha=0.3,
        label=f"{ci:.0%} interval",
    )
    ax.plot(budgets, optimum["n_opt_median"], color=CURVE_COLOR, label="posterior median N_opt")
    frame = fit.data.frame[fit.data.frame["recipe"] == recipe]
    ax.scatter(
        FLOP_PER_PARAMETER_TOKEN * frame["n"] * frame["d"],
        frame["n"],
        s=6,
        color="grey",
        label="fitted runs",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(budgets[0], budgets[-1])
    ax.set_xlabel("training compute C = 6 N D (FLOP)")
    ax.set_ylabel("compute-optimal parameters N_opt")
    ax.legend(fontsize=7, loc="upper left")
    return ax
