"""bayescale: Bayesian inference on scaling laws of large language models.

The package is layered; each folder is one step of the flow:

- :mod:`bayescale.data`: read and validate curves (:func:`load_curves`), the
  bundled examples (:func:`example_path`) and published data sets;
- :mod:`bayescale.model`: laws, priors, observation models, the PyMC builder;
- :mod:`bayescale.inference`: checks, compile-once sampling, :func:`fit`,
  :func:`fit_many`, diagnostics;
- :mod:`bayescale.results`: the :class:`Fit`, intervals, persistence, ``fit.json``;
- :mod:`bayescale.analysis`: recipe decisions, LOO, backtests, fit windows;
- :mod:`bayescale.baselines`, :mod:`bayescale.studies`, :mod:`bayescale.reporting`
  and :mod:`bayescale.cli` on top.

Examples
--------
>>> import bayescale as bs
>>> fit = bs.fit(bs.example_path("scalerl_3seeds"), x="gpu_hours", y="pass_rate",
...              run="seed", min_x=1500, max_x=50_000)  # doctest: +SKIP
>>> fit.summary()  # doctest: +SKIP
"""

__version__ = "0.2.0"

from bayescale._moved import install_moved_module_finder, renamed
from bayescale.analysis.backtest import backtest
from bayescale.analysis.data_constrained import fit_data_constrained
from bayescale.analysis.isoflop import IsoflopFit, fit_isoflop
from bayescale.analysis.law_comparison import compare_laws, compare_loo
from bayescale.analysis.next_run import Design, suggest_runs
from bayescale.analysis.planning import Plan, plan, stop_probability
from bayescale.analysis.recipes import Comparison, compare_recipes
from bayescale.analysis.sizes import SizesFit, fit_sizes
from bayescale.analysis.task import TaskFit, compute_to_reach_accuracy, fit_task, predict_task
from bayescale.analysis.windows import fit_windows
from bayescale.data.curves import CurveData, DataError, load_curves, read_table
from bayescale.data.examples import example_path, load_example
from bayescale.inference.fitting import fit
from bayescale.inference.many import ManyFits, fit_many
from bayescale.model.laws import Law, get_law, law_from_function, register_law
from bayescale.model.likelihoods.registry import Likelihood, get_likelihood, register_likelihood
from bayescale.model.priors import Prior
from bayescale.reporting.report import report
from bayescale.results.fit_result import Fit
from bayescale.results.persistence import load_fit as load
from bayescale.studies.calibration import calibrate

install_moved_module_finder()

compare = renamed(compare_recipes, "compare", "compare_recipes", {"by": "recipe"})

__all__ = [
    "Comparison",
    "CurveData",
    "DataError",
    "Design",
    "Fit",
    "IsoflopFit",
    "Law",
    "Likelihood",
    "ManyFits",
    "Plan",
    "Prior",
    "SizesFit",
    "TaskFit",
    "__version__",
    "backtest",
    "calibrate",
    "compare_laws",
    "compare_loo",
    "compare_recipes",
    "compute_to_reach_accuracy",
    "example_path",
    "fit",
    "fit_data_constrained",
    "fit_isoflop",
    "fit_many",
    "fit_sizes",
    "fit_task",
    "fit_windows",
    "get_law",
    "get_likelihood",
    "law_from_function",
    "load",
    "load_curves",
    "load_example",
    "plan",
    "predict_task",
    "read_table",
    "register_law",
    "register_likelihood",
    "report",
    "stop_probability",
    "suggest_runs",
]
