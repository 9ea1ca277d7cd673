"""Compare laws on the same data by PSIS-LOO, with Pareto-k warnings surfaced.

nutpie does not store the pointwise log-likelihood, so it is computed here from
the posterior: the law (written once in :mod:`bayescale.model.laws`) gives each run's
curve at every observation for every draw, and the observation model's NumPy
``log_likelihood`` (:mod:`bayescale.model.likelihoods.registry`) scores the data.

- Every term is a density of the metric on its own scale: laws fitted to
  ``log(y)`` (losses) get the Jacobian ``-log(y)``, so they compare with laws
  fitted to ``y``.
- ``"ar1"`` contributes the conditional terms ``log p(y_t | y_(t-1), theta)`` and
  ``"drift"`` the Kalman filter's one-step terms ``log p(y_t | y_1..y_(t-1),
  theta)``; LOO then leaves out one term at a time, a common approximation for
  time series that slightly favours models that predict the next checkpoint well.
- Count models (``"binomial"``, ``"beta_binomial"``) give probabilities of counts,
  not densities of ``y``; they are compared only with each other.

Examples
--------
>>> import bayescale as bs
>>> from bayescale.analysis.law_comparison import compare_laws
>>> table = compare_laws(bs.example_path("scalerl_3seeds"), laws=["sigmoid", "saturating"],
...                      x="gpu_hours", y="pass_rate", run="seed",
...                      min_x=1500)  # doctest: +SKIP
>>> table.frame[["elpd", "se", "elpd_diff", "max_pareto_k"]]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayescale.inference.progress import Progress
from bayescale.model.laws import get_law
from bayescale.results.fit_result import Fit
from bayescale.results.pointwise import VAR_NAME, with_log_likelihood

PARETO_K_GOOD = 0.7
"""Pareto k above this marks an observation whose LOO estimate is unreliable."""


@dataclass
class LawComparison:
    """PSIS-LOO comparison of fits of the same data.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per model, best first: ``rank``, ``elpd`` (expected log pointwise
        predictive density), ``se``, ``elpd_diff`` and ``dse`` (difference to the
        best, <= 0, and its standard error), ``p_loo`` (effective parameters),
        ``weight`` (stacking), ``n_bad_pareto_k``, ``max_pareto_k`` and
        ``converged`` (the fit passed the convergence rule,
        :attr:`bayescale.Diagnostics.converged`; an unconverged model's rank is not
        to be trusted).
    pareto_k : dict of str to numpy.ndarray
        Pareto shape of every observation, per model.
    warnings : list of str
        One line per model with observations whose ``k > 0.7``, and one per
        unconverged model.
    fits : dict of str to Fit
        The compared fits (their parameters and diagnostics go into :meth:`to_dict`).
    """

    frame: pd.DataFrame
    pareto_k: dict[str, np.ndarray]
    warnings: list[str] = field(default_factory=list)
    fits: dict[str, Fit] = field(default_factory=dict)

    @property
    def unconverged(self) -> list[str]:
        """Names of the models whose fit did not converge, in the order fitted."""
        flags = self.frame["converged"]
        return [name for name in self.fits if not flags.get(name, True)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: ``models`` (the rows), ``laws`` (per model: the
        parameter summary and the fit's diagnostics), ``warnings`` and
        ``unconverged`` (:attr:`unconverged`)."""
        rows = self.frame.reset_index(names="model").to_dict(orient="records")
        laws = {
            name: {
                "likelihood": fit.spec.likelihood,
                "parameters": fit.summary().reset_index().to_dict(orient="records"),
                "diagnostics": fit.diagnostics.to_dict(),
            }
            for name, fit in self.fits.items()
        }
        return {
            "models": rows,
            "laws": laws,
            "warnings": list(self.warnings),
            "unconverged": self.unconverged,
        }


def compare_loo(fits: Mapping[str, Fit]) -> LawComparison:
    """Compare fits of the same observations by PSIS-LOO.

    Parameters
    ----------
    fits : mapping of str to Fit
        Model name -> fit. All must have fitted the same rows (same runs, inputs
        and metric values).

    Returns
    -------
    LawComparison

    Raises
    ------
    ValueError
        With fewer than two fits, fits of different observations, or count and
        continuous observation models mixed.

    Examples
    --------
    >>> cmp = compare_loo({"sigmoid": fit_a, "saturating": fit_b})  # doctest: +SKIP
    >>> cmp.frame["elpd_diff"]  # doctest: +SKIP
    """
    import arviz_stats as azs

    if len(fits) < 2:
        raise ValueError("compare at least two fits")
    _check_same_observations(fits)
    trees = {name: with_log_likelihood(fit) for name, fit in fits.items()}
    loos = {name: azs.loo(tree, pointwise=True, var_name=VAR_NAME) for name, tree in trees.items()}
    table = azs.compare(loos, round_to="none")
    pareto_k = {name: np.asarray(loo.pareto_k).ravel() for name, loo in loos.items()}
    frame = pd.DataFrame(
        {
            "rank": table["rank"].astype(int),
            "elpd": table["elpd"],
            "se": table["se"],
            "elpd_diff": table["elpd_diff"],
            "dse": table["dse"],
            "p_loo": table["p"],
            "weight": table["weight"],
            "n_bad_pareto_k": [int((pareto_k[name] > PARETO_K_GOOD).sum()) for name in table.index],
            "max_pareto_k": [float(pareto_k[name].max()) for name in table.index],
            "converged": [bool(fits[name].diagnostics.converged) for name in table.index],
        },
        index=table.index,
    )
    frame.index.name = "model"
    warnings = [
        f"{name}: {row.n_bad_pareto_k} of {len(pareto_k[name])} observations have Pareto k > "
        f"{PARETO_K_GOOD} (max {row.max_pareto_k:.2f}); their LOO estimates are unreliable"
        for name, row in frame.iterrows()
        if row.n_bad_pareto_k
    ]
    warnings += [
        f"{name}: did not converge (max R-hat {fits[name].diagnostics.max_r_hat:.3f}, "
        f"{fits[name].diagnostics.divergences} divergences, min bulk ESS "
        f"{fits[name].diagnostics.min_ess_bulk:.0f}); its elpd and rank are not to be trusted"
        for name in frame.index
        if not frame.loc[name, "converged"]
    ]
    return LawComparison(frame=frame, pareto_k=pareto_k, warnings=warnings, fits=dict(fits))


def _check_same_observations(fits: Mapping[str, Fit]) -> None:
    names = list(fits)
    first = fits[names[0]].data.frame
    roles = ["run", *fits[names[0]].law.inputs, "y"]
    for name in names[1:]:
        other = fits[name].data.frame
        same = len(other) == len(first) and all(
            role in other and np.array_equal(other[role].to_numpy(), first[role].to_numpy())
            for role in roles
        )
        if not same:
            raise ValueError(f"fits {names[0]!r} and {name!r} are of different observations")
    counts = {name: fit.likelihood.needs_trials for name, fit in fits.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(
            "count likelihoods (binomial, beta_binomial) score counts, not densities of y: "
            "compare them only with each other"
        )


def compare_laws(
    data: Any,
    laws: Sequence[str] = ("sigmoid", "saturating"),
    *,
    progress: bool = True,
    **fit_options: Any,
) -> LawComparison:
    """Fit each law to the same data and compare them by PSIS-LOO.

    Parameters
    ----------
    data : DataFrame or path
        As for :func:`bayescale.fit`.
    laws : sequence of str
        Registered law names (e.g. ``"sigmoid"``, ``"saturating"`` and ``"power"``
        on the same metric).
    progress : bool
        Show a progress bar with the time left on a terminal (stderr).
    **fit_options
        Passed to :func:`bayescale.fit` for every law (columns, ``likelihood``,
        ``min_x``, sampler settings, ...). Each fit goes through the compile-once
        cache of :mod:`bayescale.inference.sampling`.

    Returns
    -------
    LawComparison
        Rows named by law.

    Examples
    --------
    >>> cmp = compare_laws(bs.example_path("scalerl_3seeds"), laws=["sigmoid", "saturating"],
    ...                    x="gpu_hours", y="pass_rate", run="seed")  # doctest: +SKIP
    >>> cmp.warnings  # doctest: +SKIP
    []
    """
    from bayescale.inference.fitting import LOAD_OPTIONS, curves_for_law, fit

    names = list(dict.fromkeys(laws))
    if not names:
        raise ValueError("give at least one law")
    load = {
        key: fit_options.pop(key) for key in (*LOAD_OPTIONS, "min_x", "max_x") if key in fit_options
    }
    curves = curves_for_law(data, get_law(names[0]), min_points=1, **load)
    fits = {}
    with Progress(len(names), label="compare_laws", enabled=progress) as bar:
        for law in names:
            fits[law] = fit(curves, law, **fit_options)
            bar.advance()
    return compare_loo(fits)
