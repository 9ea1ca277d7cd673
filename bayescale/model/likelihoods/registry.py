"""The observation-model registry: what a likelihood is, and how to find one by name.

Each :class:`Likelihood` owns everything about itself: its noise parameters and
their default priors, the extra data arrays it needs, how to add itself to a
PyMC model, how to draw a new observation from posterior draws (for predictive
intervals), its pointwise log-likelihood (for LOO), and how the simulator
reproduces its noise (for calibration). Registering one with
:func:`register_likelihood` is the only step that makes it usable everywhere.

The built-in models (:mod:`~bayescale.model.likelihoods.gaussian`: ``"normal"``,
``"student_t"``, ``"ar1"``; :mod:`~bayescale.model.likelihoods.drift`:
``"drift"``; :mod:`~bayescale.model.likelihoods.counts`: ``"binomial"``,
``"beta_binomial"``) are registered the first time the registry is asked.

Choosing one:

- ``"normal"``: independent Gaussian noise. Right for losses and for curves whose
  checkpoints are far apart.
- ``"student_t"``: heavy tails; robust to outlier checkpoints (the Bayesian
  cousin of the Huber loss).
- ``"drift"``: slow AR(1) drift within a run plus fresh measurement noise at
  every evaluation, integrated out by a Kalman filter; the ``"auto"`` default
  for pass rates. Evaluations 100 steps apart on the same prompts drift
  together; ignoring that makes intervals too narrow.
- ``"ar1"``: Gaussian noise with AR(1) correlation between consecutive
  checkpoints of a run (correlation ``phi`` estimated), without separate
  measurement noise. It mistakes drift plus noise for a faster-decaying drift,
  so its extrapolation intervals are a little too narrow on such data.
- ``"binomial"``, ``"beta_binomial"``: counts of successes out of ``trials``
  graded generations, for independent evaluations.

Examples
--------
>>> from bayescale.model.likelihoods.registry import available_likelihoods
>>> {'ar1', 'beta_binomial', 'binomial', 'drift', 'normal', 'student_t'} <= set(available_likelihoods())
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from bayescale.data.curves import CurveData
from bayescale.model.priors import Prior
from bayescale.model.registry import Registry

if TYPE_CHECKING:
    from bayescale.model.laws import Law


@dataclass(frozen=True)
class Likelihood:
    """An observation model.

    Attributes
    ----------
    name : str
        Registry name.
    parameters : tuple of str
        Noise parameters that get priors.
    derived : tuple of str
        Deterministic noise quantities the model adds from ``parameters``
        (reported in summaries beside them).
    needs_trials : bool
        Whether the data must give the number of evaluation prompts (count
        models: their log-likelihood is not comparable with a density's).
    default_priors : callable
        ``(law) -> {parameter: Prior}``: default priors of ``parameters`` for a
        law (their scale depends on ``law.response``; see :func:`noise_scale`).
    arrays : callable
        ``(data) -> {name: ndarray}``: extra data containers for the model.
    add : callable
        ``(mu, observed, data_vars, params) -> None``; adds the observed variable
        ``obs`` inside the model context. ``observed`` is the response-scale data.
        For a model that integrates run offsets, ``params`` also holds
        ``offset_loading`` (per observation) and ``offset_sd`` (see
        ``run_offsets``).
    draw : callable
        ``(mu, params, rng, trials) -> DataArray``: a new observation on the
        response scale, from draws of the mean ``mu`` and of the noise parameters.
    log_likelihood : callable or None
        ``(y, mu, params, arrays) -> ndarray``: pointwise log-likelihood in NumPy,
        for PSIS-LOO. ``y`` has shape ``(obs,)``, ``mu`` ``(samples, obs)``, each
        noise parameter ``(samples, 1)``, ``arrays`` are the model's data arrays
        (:func:`bayescale.model.build.model_arrays`); returns ``(samples, obs)``.
    target_accept : float
        NUTS target acceptance used when the user gives none (0.9; higher for
        models whose posterior needs smaller steps).
    run_offsets : callable or None
        For models that integrate out the run-level deviation of a parameter the
        curve is linear in (:attr:`bayescale.model.laws.Law.linear`):
        ``(y, mu, loading, params, arrays) -> (mean, variance)`` for one
        posterior draw (``mu`` and ``loading`` of shape ``(obs,)``, each noise
        parameter and ``offset_sd`` a float): each run's deviation's posterior
        mean and variance given the data (:mod:`bayescale.model.likelihoods.run_offsets`).
    forecast : callable or None
        For models whose noise is correlated along a run:
        ``(residual, steps_ahead, params, rng) -> ndarray``, new observations'
        deviations from a fitted run's curve beyond its last evaluation, drawn
        given the run's residuals. ``residual`` has shape ``(samples, obs)`` (the
        run's observations minus its curve, per draw), ``steps_ahead`` ``(points,)``
        (evaluation steps after the run's last one, > 0), each noise parameter
        ``(samples,)``; returns ``(samples, points)``. ``None``: new observations
        of a fitted run are drawn with :attr:`draw`, as for any point.
    simulation_noise : callable or None
        ``(noise parameter values) -> {"drift_sd", "drift_corr", "sd"}``: the
        simulator's stationary AR(1) drift and extra Normal measurement noise that
        reproduce this model (:func:`bayescale.studies.calibration.calibrate`);
        ``None`` when the simulator cannot.
    """

    name: str
    parameters: tuple[str, ...]
    needs_trials: bool
    arrays: Callable[[CurveData], dict[str, np.ndarray]]
    add: Callable[[Any, Any, Mapping[str, Any], Mapping[str, Any]], None]
    draw: Callable[
        [xr.DataArray, Mapping[str, xr.DataArray], np.random.Generator, Any], xr.DataArray
    ]
    default_priors: Callable[[Law], dict[str, Prior]]
    log_likelihood: Callable[..., np.ndarray] | None = None
    target_accept: float = 0.9
    derived: tuple[str, ...] = ()
    run_offsets: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None
    forecast: Callable[..., np.ndarray] | None = None
    simulation_noise: Callable[[Mapping[str, float]], dict[str, float]] | None = None


LIKELIHOODS: Registry[Likelihood] = Registry(
    "likelihood", tuple(f"{__package__}.{module}" for module in ("gaussian", "drift", "counts"))
)
"""The observation-model registry; the built-in models register when it is first read."""


def register_likelihood(likelihood: Likelihood) -> Likelihood:
    """Add an observation model to the registry."""
    return LIKELIHOODS.register(likelihood)


def get_likelihood(name: str) -> Likelihood:
    """Return the registered observation model called ``name``.

    Raises
    ------
    ValueError
        If no observation model has that name; the message lists the known ones.
    """
    return LIKELIHOODS.get(name)


def available_likelihoods() -> list[str]:
    """Names of the registered observation models."""
    return LIKELIHOODS.names()


def no_arrays(data: CurveData) -> dict[str, np.ndarray]:
    """The ``arrays`` of a model that needs no extra data."""
    return {}


def noise_scale(law: Law) -> float:
    """Scale of the default noise priors: 0.05 for rates, 0.1 for log losses."""
    return 0.05 if law.response == "identity" else 0.1
