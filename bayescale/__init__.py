"""bayescale: Bayesian inference on scaling laws of large language models.

Examples
--------
>>> import bayescale as bs
>>> fit = bs.fit("data/scalerl_3seeds.csv", x="gpu_hours", y="pass_rate",
...              run="seed", min_x=1500)  # doctest: +SKIP
>>> fit.summary()  # doctest: +SKIP
"""

__version__ = "0.1.0"

from bayescale import (
    count_likelihoods,  # noqa: F401  (registers binomial, beta_binomial)
    drift_likelihood,  # noqa: F401  (registers drift)
)
from bayescale.compare import Comparison, compare
from bayescale.data import CurveData, DataError, load_curves, read_table
from bayescale.fitting import fit
from bayescale.many import ManyFits, fit_many
from bayescale.persistence import load_fit as load
from bayescale.planning import Plan, plan, stop_probability
from bayescale.priors import Prior
from bayescale.result import Fit

__all__ = [
    "Comparison",
    "CurveData",
    "DataError",
    "Fit",
    "ManyFits",
    "Plan",
    "Prior",
    "__version__",
    "compare",
    "fit",
    "fit_many",
    "load",
    "load_curves",
    "plan",
    "read_table",
    "stop_probability",
]
