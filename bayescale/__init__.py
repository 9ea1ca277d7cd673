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

``import bayescale`` loads none of them: each public name is imported from its
module the first time it is used (PEP 562 module ``__getattr__``), so a
command's ``--help`` or a script that only reads data does not pay for PyMC,
PyTensor, nutpie, ArviZ, SciPy or matplotlib.

Examples
--------
>>> import bayescale as bs
>>> fit = bs.fit(bs.example_path("scalerl_3seeds"), x="gpu_hours", y="pass_rate",
...              run="seed", min_x=1500, max_x=50_000)  # doctest: +SKIP
>>> fit.summary()  # doctest: +SKIP
"""

from __future__ import annotations

from bayescale._bootstrap import require_python

require_python()

import importlib
from typing import Any

# first: in the bayescale command, a Ctrl-C or SIGTERM while it starts is one line
from bayescale import _signals  # noqa: F401  (imported for its effect)
from bayescale._version import __version__ as __version__

#: Public name -> (module, attribute) it is imported from on first use.
_EXPORTS: dict[str, tuple[str, str]] = {
    "backtest": ("bayescale.analysis.backtest", "backtest"),
    "fit_data_constrained": ("bayescale.analysis.data_constrained", "fit_data_constrained"),
    "IsoflopFit": ("bayescale.analysis.isoflop", "IsoflopFit"),
    "fit_isoflop": ("bayescale.analysis.isoflop", "fit_isoflop"),
    "compare_laws": ("bayescale.analysis.law_comparison", "compare_laws"),
    "compare_loo": ("bayescale.analysis.law_comparison", "compare_loo"),
    "Design": ("bayescale.analysis.next_run", "Design"),
    "suggest_runs": ("bayescale.analysis.next_run", "suggest_runs"),
    "Plan": ("bayescale.analysis.planning", "Plan"),
    "plan": ("bayescale.analysis.planning", "plan"),
    "stop_probability": ("bayescale.analysis.planning", "stop_probability"),
    "Comparison": ("bayescale.analysis.recipes", "Comparison"),
    "compare_recipes": ("bayescale.analysis.recipes", "compare_recipes"),
    "SizesFit": ("bayescale.analysis.sizes", "SizesFit"),
    "fit_sizes": ("bayescale.analysis.sizes", "fit_sizes"),
    "TaskFit": ("bayescale.analysis.task", "TaskFit"),
    "compute_to_reach_accuracy": ("bayescale.analysis.task", "compute_to_reach_accuracy"),
    "fit_task": ("bayescale.analysis.task", "fit_task"),
    "predict_task": ("bayescale.analysis.task", "predict_task"),
    "fit_windows": ("bayescale.analysis.windows", "fit_windows"),
    "CurveData": ("bayescale.data.curves", "CurveData"),
    "DataError": ("bayescale.data.sources", "DataError"),
    "load_curves": ("bayescale.data.curves", "load_curves"),
    "read_table": ("bayescale.data.sources", "read_table"),
    "example_path": ("bayescale.data.examples", "example_path"),
    "load_example": ("bayescale.data.examples", "load_example"),
    "fit": ("bayescale.inference.fitting", "fit"),
    "ManyFits": ("bayescale.inference.many", "ManyFits"),
    "fit_many": ("bayescale.inference.many", "fit_many"),
    "Law": ("bayescale.model.laws", "Law"),
    "get_law": ("bayescale.model.laws", "get_law"),
    "law_from_function": ("bayescale.model.laws", "law_from_function"),
    "register_law": ("bayescale.model.laws", "register_law"),
    "Likelihood": ("bayescale.model.likelihoods.registry", "Likelihood"),
    "get_likelihood": ("bayescale.model.likelihoods.registry", "get_likelihood"),
    "register_likelihood": ("bayescale.model.likelihoods.registry", "register_likelihood"),
    "Prior": ("bayescale.model.priors", "Prior"),
    "report": ("bayescale.reporting.report", "report"),
    "Fit": ("bayescale.results.fit_result", "Fit"),
    "load": ("bayescale.results.protocol", "load"),
    "Result": ("bayescale.results.protocol", "Result"),
    "calibrate": ("bayescale.studies.calibration", "calibrate"),
}

#: Sub-packages reachable as attributes (``bs.model.laws``) without an import.
_SUBPACKAGES = (
    "analysis",
    "baselines",
    "cli",
    "data",
    "inference",
    "model",
    "reporting",
    "results",
    "studies",
)

__all__ = sorted(["__version__", *_EXPORTS])


def __getattr__(name: str) -> Any:
    """Import a public name (or a sub-package) the first time it is asked for."""
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = getattr(importlib.import_module(module), attribute)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})
