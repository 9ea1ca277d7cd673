"""Shared fixtures: fits are made once per test session and reused.

Compiling a model costs seconds; sampling a small one well under a second. Every
fixture that fits goes through bayescale's compile cache, so tests that need a
new data set of an existing model structure only pay for sampling.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayescale as bs
from bayescale.data.examples import example_path
from bayescale.inference.sampling import log_density_and_gradient

ROOT = Path(__file__).resolve().parents[1]
DATA = example_path("scalerl_3seeds").parent
ANCHORS = ROOT.parent / "shared" / "anchors"
CHINCHILLA_CSV = ANCHORS / "chinchilla" / "svg_extracted_data.csv"
#: Skip a test when the published Chinchilla data are not beside the repository.
needs_chinchilla = pytest.mark.skipif(
    not CHINCHILLA_CSV.is_file(), reason="../shared/anchors/chinchilla is not present"
)
#: CLI columns and likelihood of the robust Chinchilla fit, tokens from compute.
CHINCHILLA_CLI = [
    "--law",
    "chinchilla",
    "--n",
    "Model Size",
    "--compute",
    "Training FLOP",
    "--y",
    "loss",
    "--likelihood",
    "student_t",
]

#: Small but honest NUTS settings for tests that check statistics.
STAT_SAMPLER = {"draws": 500, "tune": 500, "chains": 4, "seed": 20251013}
#: Minimal settings for tests that only check plumbing.
QUICK_SAMPLER = {"draws": 100, "tune": 150, "chains": 2, "seed": 7}
#: Exit status of CLI commands run with QUICK_SAMPLER: 100 draws x 2 chains cannot reach
#: bulk ESS 400, so such fits are not converged and the results are flagged (status 3).
QUICK_STATUS = 3
#: Exit statuses of a command that wrote its outputs: 0, or 3 when a fit with the
#: quick sampler settings did not pass the convergence rule.
WROTE = (0, QUICK_STATUS)
#: QUICK_SAMPLER as command-line options.
QUICK_CLI = [item for key, value in QUICK_SAMPLER.items() for item in (f"--{key}", str(value))]


@pytest.fixture(scope="session")
def scalerl_csv() -> Path:
    """The bundled three-seed simulated ScaleRL data (up to 100k GPU-hours)."""
    return DATA / "scalerl_3seeds.csv"


@pytest.fixture(scope="session")
def truth() -> dict:
    """True parameters of the bundled simulated data."""
    return json.loads((DATA / "truth.json").read_text())


def fit_bundled_data(**options):
    """Fit the bundled three-seed data up to 50k GPU-hours (held-out tail
    excluded), with the default model and ``options``; warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit(
            DATA / "scalerl_3seeds.csv",
            x="gpu_hours",
            y="pass_rate",
            run="seed",
            min_x=1500,
            max_x=50_000,
            **options,
        )


@pytest.fixture(scope="session")
def scalerl_fit():
    """The default fit of the bundled data up to 50k GPU-hours (held-out tail
    excluded), with the default sampler settings and a fixed seed."""
    return fit_bundled_data(seed=STAT_SAMPLER["seed"])


def fit_bundled_recipes(**options):
    """Fit the bundled four-recipe data (ten runs, 1.5k GPU-hours on) with
    ``options``; warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit(
            DATA / "recipes.csv",
            x="gpu_hours",
            y="pass_rate",
            run="seed",
            recipe="recipe",
            min_x=1500,
            **options,
        )


@pytest.fixture(scope="session")
def recipes_fit():
    """The bundled four-recipe data (ten runs), fitted with the quick sampler."""
    return fit_bundled_recipes(**QUICK_SAMPLER)


def compiled_log_density(compiled, point: np.ndarray) -> float:
    """Log density (unconstrained space) of a nutpie compiled model with its data,
    through its compiled C callback."""
    return log_density_and_gradient(compiled, point)[0]
