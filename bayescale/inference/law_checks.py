"""Refuse fits the law cannot honestly make: data moving the wrong way, priors off its range.

A decreasing curve fitted by the sigmoid comes out with ``A < R0`` and a target
"reached by falling"; a rising curve fitted by the (decreasing) power law runs
``X_c`` to infinity; ``A = Normal(mu=10, sigma=1)`` for a pass rate predicts rates
above 1. None of these fail loudly on their own, so they are refused here, before
sampling, with a one-line message saying what to use instead.

Examples
--------
>>> import pandas as pd
>>> from bayescale.data.curves import load_curves
>>> from bayescale.model.laws import get_law
>>> falling = pd.DataFrame({"c": [1.0, 2, 4, 8, 16, 32], "r": [.6, .55, .5, .42, .35, .3]})
>>> check_direction(get_law("sigmoid"), load_curves(falling, x="c", y="r"))
Traceback (most recent call last):
...
bayescale.data.sources.DataError: DataFrame: column 'r' falls as 'c' grows (Spearman rho -1.00), but law 'sigmoid' rises; use a decreasing law (power, power_e, task_sigmoid) or flip the metric
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bayescale.data.curves import CurveData, DataError
from bayescale.inference.identification import prior_draws
from bayescale.model.laws import Law, available_laws, get_law
from bayescale.model.priors import Prior

RHO_MIN = 0.5
"""Spearman correlation against the law's direction beyond which data are refused..."""

P_MAX = 0.01
"""...when it is also this significant (so a flat, noisy curve is not refused)."""

OUTSIDE_MASS_MAX = 0.01
"""Largest share of a prior's mass allowed outside the parameter's range."""


def check_direction(law: Law, data: CurveData) -> None:
    """Refuse data whose metric clearly moves against the law's direction.

    Each recipe is checked on its own (Spearman correlation of ``y`` with ``x``
    over its rows). Laws of two inputs and laws without a direction pass.

    Raises
    ------
    DataError
        Naming the column, the recipe, the correlation and the laws to use instead.
    """
    import scipy.stats

    if law.direction is None or law.inputs != ("x",):
        return
    sign = 1.0 if law.direction == "increasing" else -1.0
    for recipe, rows in data.frame.groupby("recipe", sort=False):
        if rows["x"].nunique() < 4:
            continue
        rho, p_value = scipy.stats.spearmanr(rows["x"], rows["y"])
        if not np.isfinite(rho) or sign * rho > -RHO_MIN or p_value > P_MAX:
            continue
        moves = "falls" if rho < 0 else "rises"
        law_moves = "rises" if sign > 0 else "falls"
        where = "" if len(data.recipes) == 1 else f" in recipe '{recipe}'"
        wanted = "decreasing" if rho < 0 else "increasing"
        others = ", ".join(
            name
            for name in available_laws()
            if get_law(name).direction == wanted and get_law(name).inputs == law.inputs
        )
        raise DataError(
            f"{data.source}: column '{data.columns['y']}' {moves} as '{data.columns['x']}' "
            f"grows{where} (Spearman rho {rho:.2f}), but law '{law.name}' {law_moves}; "
            f"use a {wanted} law ({others}) or flip the metric"
        )


def check_prior_ranges(law: Law, priors: Mapping[str, Prior]) -> None:
    """Refuse priors that put mass outside their law parameter's range.

    Raises
    ------
    ValueError
        Naming the parameter, the prior, the share of mass outside and the range.

    Examples
    --------
    >>> from bayescale.model.laws import get_law
    >>> check_prior_ranges(get_law("sigmoid"), {"A": Prior("Normal", mu=10, sigma=1)})
    Traceback (most recent call last):
    ...
    ValueError: prior A=Normal(mu=10, sigma=1) puts 100% of its mass outside A's range [0, 1] for law 'sigmoid'; use a prior on that range (e.g. Beta or TruncatedNormal with lower/upper)
    """
    rng = np.random.default_rng(0)
    for name in law.parameters:
        if name not in priors:
            continue
        low, high = law.parameter_range(name)
        if not (np.isfinite(low) or np.isfinite(high)):
            continue
        prior = priors[name]
        recipes = prior.per_recipe or 1
        draws = np.concatenate(
            [prior_draws(prior.for_recipe(i), 4000, rng) for i in range(recipes)]
        )
        outside = float(((draws < low) | (draws > high)).mean())
        if outside > OUTSIDE_MASS_MAX:
            raise ValueError(
                f"prior {name}={prior} puts {outside:.0%} of its mass outside {name}'s range "
                f"[{low:g}, {high:g}] for law '{law.name}'; use a prior on that range "
                "(e.g. Beta or TruncatedNormal with lower/upper)"
            )


LEARNING_CURVE_MIN_POINTS = 10
"""Fewest checkpoints of a single run before it is taken for a learning curve."""

LEARNING_CURVE_SPACING_CV = 0.25
"""Largest coefficient of variation of the input's steps of an evenly logged run."""


def learning_curve_message(law: Law, curves: CurveData) -> str | None:
    """A warning when the data look like one training run's loss against steps.

    One run of a loss (a log-response law of one input) logged at evenly spaced
    inputs over more than a factor of 5 is a learning curve, not a ladder of
    models (a ladder's sizes or budgets are spaced geometrically). Its shape comes
    from the learning-rate schedule (warm-up, cosine decay): it does not
    extrapolate like a scaling law in compute, and the intervals past the last
    checkpoint assume that it does.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from bayescale.data.curves import load_curves
    >>> from bayescale.model.laws import get_law
    >>> steps = np.arange(1000.0, 21000.0, 1000.0)
    >>> curve = load_curves(pd.DataFrame({"step": steps, "loss": 3 + 50 / steps**0.5}),
    ...                     x="step", y="loss", bounded=False, positive_y=True)
    >>> learning_curve_message(get_law("power_e"), curve).split(":")[0]
    'one run of 20 evenly spaced checkpoints of a loss'
    >>> ladder = load_curves(pd.DataFrame({"n": np.geomspace(1e7, 1e9, 20),
    ...                                    "loss": 3 + np.geomspace(1, 0.1, 20)}),
    ...                      x="n", y="loss", bounded=False, positive_y=True)
    >>> learning_curve_message(get_law("power_e"), ladder) is None
    True
    """
    if law.response != "log" or law.inputs != ("x",) or len(curves.runs) != 1:
        return None
    x = np.unique(curves.frame["x"].to_numpy(float))
    if len(x) < LEARNING_CURVE_MIN_POINTS or x[-1] < 5 * x[0]:
        return None
    steps = np.diff(x)
    if steps.std() > LEARNING_CURVE_SPACING_CV * steps.mean():
        return None
    name = curves.columns.get("x", "x")
    return (
        f"one run of {len(x)} evenly spaced checkpoints of a loss: this looks like a "
        f"learning curve (loss against {name}), whose shape follows the learning-rate "
        "schedule, not a scaling law across models; predictions past the last checkpoint "
        "assume the law holds there and can miss badly. For a scaling law, fit the final "
        "losses of several models (one row per model)"
    )
