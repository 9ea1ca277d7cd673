"""Pretraining ladders whose truth departs from the Chinchilla law, and the study
of how the intervals hold one and two decades beyond the fitted sizes.

Real laws are only approximately right. These simulators draw a ladder of
(parameters, tokens, loss) rows from a truth that bends away from the fitted law
in one of the ways real sweeps do:

- ``"exact"``: the Chinchilla law itself (the control);
- ``"curvature"``: the size exponent drifts with scale,
  ``alpha(N) = alpha + gamma * log10(N / N_ref)`` (``gamma`` drawn per data set),
  a curvature term in log N;
- ``"broken"``: a broken power law, the size exponent changes by ``delta``
  at a break size drawn between the fitted sizes and two decades beyond them.

Every data set draws its own departure, so a study over many data sets asks
whether a stated 90% holds over the departures a user may meet.

Examples
--------
>>> ladder = simulate_ladder("curvature", rng=0)
>>> sorted(ladder.columns.tolist())
['d', 'loss', 'n', 'split']
>>> ladder.groupby("split")["n"].max().round(-9).to_dict()
{'fit': 1000000000.0, 'one_decade': 10000000000.0, 'two_decades': 100000000000.0}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("exact", "curvature", "broken")
"""Kinds of truth :func:`simulate_ladder` draws."""

TRUTH: dict[str, float] = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
"""Base truth: Hoffmann et al.'s published Chinchilla-law fit."""

FIT_SIZES = tuple(np.geomspace(1e7, 1e9, 9).tolist())
"""Model sizes of the fitted ladder (two decades)."""

TOKENS_PER_PARAMETER = (5.0, 10.0, 20.0, 40.0)
"""Training lengths of each fitted size, in tokens per parameter."""

HELD_OUT = {"one_decade": 1e10, "two_decades": 1e11}
"""Held-out sizes (trained at 20 tokens per parameter) by split name."""

DEPARTURE_SD = {"curvature": 0.02, "broken": 0.06}
"""Sd of the drawn departure: ``gamma`` (change of alpha per decade) and ``delta``
(change of alpha at the break)."""

N_REF = 1e8
"""Size at which the curved exponent equals ``alpha``."""


def simulate_ladder(
    kind: str,
    *,
    noise_sd: float = 0.01,
    rng: int | np.random.Generator | None = None,
    truth: Mapping[str, float] = TRUTH,
    departure: float | None = None,
) -> pd.DataFrame:
    """One ladder of (n, d, loss) rows from a truth of ``kind``.

    Parameters
    ----------
    kind : {"exact", "curvature", "broken"}
        How the truth departs from the Chinchilla law (module notes).
    noise_sd : float
        Sd of the log-normal measurement noise of each loss.
    rng : int or numpy.random.Generator, optional
        Seed or generator.
    truth : dict
        Chinchilla-law parameters ``E, A, B, alpha, beta``.
    departure : float, optional
        Fix the departure (``gamma`` or ``delta``) instead of drawing it with sd
        :data:`DEPARTURE_SD`.

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``d``, ``loss`` and ``split`` (``"fit"``, ``"one_decade"``,
        ``"two_decades"``).

    Raises
    ------
    ValueError
        On an unknown kind or a negative noise.
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: choose from {', '.join(KINDS)}")
    if not noise_sd >= 0:
        raise ValueError(f"noise_sd must be >= 0, got {noise_sd}")
    rng = np.random.default_rng(rng)
    fitted = [(n, n * ratio, "fit") for n in FIT_SIZES for ratio in TOKENS_PER_PARAMETER]
    held = [(n, 20.0 * n, split) for split, n in HELD_OUT.items()]
    frame = pd.DataFrame(fitted + held, columns=["n", "d", "split"])
    if departure is None and kind != "exact":
        departure = DEPARTURE_SD[kind] * rng.standard_normal()
    exponent = _size_exponent(kind, frame["n"].to_numpy(), truth["alpha"], departure, rng)
    loss = (
        truth["E"]
        + truth["A"] / frame["n"].to_numpy() ** exponent
        + truth["B"] / frame["d"].to_numpy() ** truth["beta"]
    )
    frame["loss"] = loss * np.exp(noise_sd * rng.standard_normal(len(frame)))
    return frame[["n", "d", "loss", "split"]]


def simulate_table(
    rows: int = 30,
    *,
    noise_sd: float = 0.01,
    rng: int | np.random.Generator | None = None,
    truth: Mapping[str, float] = TRUTH,
    sizes: tuple[float, float] = (5e7, 5e9),
    tokens_per_parameter: tuple[float, float] = (5.0, 200.0),
) -> pd.DataFrame:
    """A small pretraining table from the Chinchilla law itself: sizes log-uniform
    in ``sizes``, training lengths log-uniform in ``tokens_per_parameter``,
    log-normal noise of sd ``noise_sd`` (the shape of a sweep of a few dozen runs).

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``d``, ``loss``.

    Examples
    --------
    >>> table = simulate_table(rng=0)
    >>> len(table), bool(table["loss"].between(2.0, 5.0).all())
    (30, True)
    """
    rng = np.random.default_rng(rng)
    n = np.exp(rng.uniform(*np.log(sizes), rows))
    d = n * np.exp(rng.uniform(*np.log(tokens_per_parameter), rows))
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    return pd.DataFrame(
        {"n": n, "d": d, "loss": loss * np.exp(noise_sd * rng.standard_normal(rows))}
    )


def _size_exponent(
    kind: str, n: np.ndarray, alpha: float, departure: float | None, rng: np.random.Generator
) -> np.ndarray:
    """The truth's effective size exponent at each ``n`` (``A / n^exponent``)."""
    if kind == "curvature":
        return alpha + departure * np.log10(n / N_REF)
    if kind == "broken":
        log_break = rng.uniform(np.log10(FIT_SIZES[2]), np.log10(max(HELD_OUT.values())))
        # continuous at the break: A / n^alpha below, scaled A' / n^(alpha + delta) above
        beyond = np.log10(n) > log_break
        shift = departure * (np.log10(n) - log_break) / np.log10(n)
        return np.where(beyond, alpha + shift, alpha)
    return np.full(n.shape, alpha)


def ladder_coverage(
    kinds: Sequence[str] = KINDS,
    n_sets: int = 100,
    *,
    ci: float = 0.9,
    seed: int = 0,
    **fit_options: Any,
) -> pd.DataFrame:
    """Fit each simulated ladder and check its held-out sizes against the intervals.

    Parameters
    ----------
    kinds : sequence of str
        Kinds of truth (:data:`KINDS`).
    n_sets : int
        Data sets per kind.
    ci : float
        Credible mass of the new-observation intervals checked.
    seed : int
        Data set ``i`` of every kind is drawn with seed ``seed + i``.
    **fit_options
        Passed to :func:`bayescale.fit` (e.g. ``draws``, ``tune``).

    Returns
    -------
    pandas.DataFrame
        One row per kind, data set and held-out split: ``kind``, ``set``,
        ``split``, ``inside`` (the held-out loss in its interval, law error
        included), ``inside_exact_law`` (in the interval that assumes the law
        exactly right), ``decades``, ``log_error`` (log of observed over predicted
        median), ``max_r_hat``.
    """
    import warnings

    from bayescale.inference.fitting import fit

    rows = []
    for kind in kinds:
        for index in range(n_sets):
            ladder = simulate_ladder(kind, rng=seed + index)
            train, held = ladder[ladder["split"] == "fit"], ladder[ladder["split"] != "fit"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = fit(
                    train.drop(columns="split"),
                    "chinchilla",
                    n="n",
                    d="d",
                    y="loss",
                    seed=seed + index,
                    **fit_options,
                )
            observed = held["loss"].to_numpy()
            inside = {}
            for law_error in (True, False):
                predicted = result.predict(
                    n=held["n"].to_numpy(), d=held["d"].to_numpy(), ci=ci, law_error=law_error
                )
                inside[law_error] = (observed >= predicted["obs_lower"]) & (
                    observed <= predicted["obs_upper"]
                )
            for k, split in enumerate(held["split"]):
                rows.append(
                    {
                        "kind": kind,
                        "set": index,
                        "split": split,
                        "inside": bool(inside[True].iloc[k]),
                        "inside_exact_law": bool(inside[False].iloc[k]),
                        "decades": float(predicted["decades_beyond"].iloc[k]),
                        "log_error": float(np.log(observed[k] / predicted["median"].iloc[k])),
                        "max_r_hat": result.diagnostics.max_r_hat,
                    }
                )
    return pd.DataFrame(rows)
