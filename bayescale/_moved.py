"""Names kept for one release after a rename, with a DeprecationWarning.

bayescale 0.2 moved its modules into folders that name the architecture
(``bayescale.laws`` is now ``bayescale.model.laws``) and renamed ``bs.compare``
(which means LOO comparison in ArviZ) to ``bs.compare_recipes``. The old module
paths and names still work in 0.2 and warn; they go in 0.3.

Examples
--------
>>> import warnings
>>> import bayescale as bs
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     from bayescale.compare_study import decision_rates
>>> decision_rates.__module__, caught[0].category.__name__
('bayescale.studies.decision_rates', 'DeprecationWarning')
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

#: Module of bayescale 0.1 -> its place in 0.2.
MOVED_MODULES = {
    "data": "data.curves",
    "datasets": "data.published",
    "laws": "model.laws",
    "priors": "model.priors",
    "default_priors": "model.law_priors",
    "model": "model.build",
    "likelihoods": "model.likelihoods.registry",
    "count_likelihoods": "model.likelihoods.counts",
    "drift_likelihood": "model.likelihoods.drift",
    "kalman": "model.likelihoods.kalman",
    "run_offsets": "model.likelihoods.run_offsets",
    "fitting": "inference.fitting",
    "many": "inference.many",
    "sampling": "inference.sampling",
    "compile_cache": "inference.compile_cache",
    "diagnostics": "inference.diagnostics",
    "checks": "inference.sampler_settings",
    "interrupts": "inference.interrupts",
    "progress": "inference.progress",
    "identification": "inference.identification",
    "law_checks": "inference.law_checks",
    "predictive_check": "inference.predictive_check",
    "result": "results.fit_result",
    "persistence": "results.persistence",
    "export": "results.export",
    "output": "results.output",
    "allocation": "results.allocation",
    "compare": "analysis.recipes",
    "law_comparison": "analysis.law_comparison",
    "backtest": "analysis.backtest",
    "windows": "analysis.windows",
    "least_squares": "baselines.least_squares",
    "simulate": "studies.simulate",
    "calibration": "studies.calibration",
    "compare_study": "studies.decision_rates",
    "plots": "reporting.plots",
    "report": "reporting.report",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``bayescale.<old>`` as its new module, warning once per import."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        package, _, old = fullname.partition(".")
        if package != "bayescale" or old not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> Any:
        new = f"bayescale.{MOVED_MODULES[spec.name.partition('.')[2]]}"
        warnings.warn(
            f"{spec.name} moved to {new} in bayescale 0.2; the old path goes in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(new)

    def exec_module(self, module: Any) -> None:
        """Nothing to run: the new module was imported by :meth:`create_module`."""


def install_moved_module_finder() -> None:
    """Let the 0.1 module paths import (once per process)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())


def renamed(
    function: Callable[..., Any], old: str, new: str, keywords: Mapping[str, str] | None = None
) -> Callable[..., Any]:
    """``function`` under its 0.1 name ``old``, warning and renaming old keywords."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"bayescale.{old} is now bayescale.{new}; the old name goes in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        for before, after in (keywords or {}).items():
            if before in kwargs:
                kwargs[after] = kwargs.pop(before)
        return function(*args, **kwargs)

    wrapper.__name__ = old
    return wrapper
