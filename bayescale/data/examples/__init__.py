"""The example data bundled with bayescale (simulated; see this folder's README.md).

- ``scalerl_3seeds``: one recipe, 3 seeds x 100 evaluations, 1k to 100k GPU-hours.
- ``recipes``: 4 recipes x 10 runs x 50 evaluations, 1k to 50k GPU-hours.
- ``kaplan_ladder``: final loss of 12 model sizes on Kaplan's power law in parameters.
- ``chinchilla_table``: final loss of 36 (parameters, tokens) runs on Chinchilla's law.
- ``isoflop``: an isoFLOP sweep, 10 budgets x 12 sizes, Llama 3's frontier.
- ``rl_sizes``: RL curves of 5 model sizes x 3 seeds on the across-size sigmoid law.
- ``truth``: the true parameters of all of them (JSON).

Examples
--------
>>> from bayescale.data.examples import example_path, load_example
>>> example_path("scalerl_3seeds").name
'scalerl_3seeds.csv'
>>> load_example("recipes")["recipe"].unique().tolist()
['baseline', 'baseline_repeat', 'better', 'single_seed']
>>> load_example("truth")["recipes.csv"]["recipes"]["better"]["params"]["A"]
0.66
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

#: Example name -> (file, what it holds).
EXAMPLES = {
    "scalerl_3seeds": (
        "scalerl_3seeds.csv",
        "one recipe, 3 seeds x 100 evaluations to 100k GPU-hours",
    ),
    "recipes": ("recipes.csv", "4 recipes x 10 runs x 50 evaluations to 50k GPU-hours"),
    "kaplan_ladder": (
        "kaplan_ladder.csv",
        "final loss of 12 model sizes, Kaplan power law in parameters (params, loss)",
    ),
    "chinchilla_table": (
        "chinchilla_table.csv",
        "final loss of 6 sizes x 6 token counts, Chinchilla law (n, d, compute, loss)",
    ),
    "isoflop": (
        "isoflop.csv",
        "isoFLOP sweep, 10 budgets x 12 sizes, Llama 3 frontier (compute, n, d, loss)",
    ),
    "rl_sizes": (
        "rl_sizes.csv",
        "RL curves of 5 model sizes x 3 seeds to 30k GPU-hours (size, seed, gpu_hours, pass_rate)",
    ),
    "task_ladder": (
        "task_ladder.csv",
        "24 models 60M-1B and 2 held out (7B, 13B): loss and 3 four-choice task accuracies",
    ),
    "truth": ("truth.json", "the true parameters of every simulated data set above"),
}


def example_path(name: str) -> Path:
    """Path of the bundled example ``name`` (see :data:`EXAMPLES`).

    Raises
    ------
    ValueError
        If there is no such example; the message lists them.
    """
    if name not in EXAMPLES:
        raise ValueError(f"no example {name!r}; the examples are: {', '.join(EXAMPLES)}")
    return Path(str(files(__package__) / EXAMPLES[name][0]))


def load_example(name: str) -> pd.DataFrame | dict[str, Any]:
    """The bundled example ``name``: a DataFrame (CSV) or a dict (``truth``)."""
    path = example_path(name)
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    return pd.read_csv(path)
