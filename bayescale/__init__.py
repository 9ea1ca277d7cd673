"""bayescale: Bayesian inference on scaling laws of large language models.

Examples
--------
>>> import bayescale as bs
>>> fit = bs.fit("data/scalerl_3seeds.csv", x="gpu_hours", y="pass_rate",
...              run="seed", min_x=1500)  # doctest: +SKIP
>>> fit.summary()  # doctest: +SKIP
"""

__version__ = "0.1.0"

from bayescale.analysis.recipes import Comparison, compare
from bayescale.data.curves import CurveData, DataError, load_curves, read_table
from bayescale.inference.fitting import fit
from bayescale.inference.many import ManyFits, fit_many
from bayescale.model.priors import Prior
from bayescale.results.fit_result import Fit
from bayescale.results.persistence import load_fit as load

__all__ = [
    "Comparison",
    "CurveData",
    "DataError",
    "Fit",
    "ManyFits",
    "Prior",
    "__version__",
    "compare",
    "fit",
    "fit_many",
    "load",
    "load_curves",
    "read_table",
]
