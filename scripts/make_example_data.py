"""Make the simulated data bundled with bayescale.

Run from anywhere with ``python scripts/make_example_data.py``. The random seeds are fixed, so
re-running with the same NumPy/SciPy/pandas versions rewrites the files byte for byte:

- ``scalerl_3seeds.csv``: three seeds of one recipe with parameters close to the
  ScaleRL 8B fit, evaluated every 100 steps up to 100k GPU-hours, held out beyond 50k.
- ``recipes.csv``: four recipes for the recipe-comparison feature, up to 50k GPU-hours.
- ``truth.json``: the true recipe-level parameters, the simulation settings and the
  per-run parameters actually drawn, per file.

See ``bayescale/data/examples/README.md`` for the noise model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from bayescale.studies.simulate import simulate_recipes, simulate_runs

HERE = Path(__file__).resolve().parents[1] / "bayescale" / "data" / "examples"

# ScaleRL 8B (Khatri et al. 2025): A = 0.610, B = 1.92, C_mid = 2542 GPU-hours.
# R0 (the pass rate at the start of RL) is not reported; 0.28 is our choice.
SCALERL_8B = {"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.28}

# Shared by both files: ScaleRL's evaluation (mean@16 on 1,000 prompts, every
# eval_every steps) and a run-to-run spread of A of 0.01 (three ScaleRL seeds gave A
# within +/-0.015).
COMMON = {
    "law": "sigmoid",
    "seed_sd": {"A": 0.01},
    "gpu_hours_per_step": 10.0,
    "eval_every": 100,
    "n_prompts": 1000,
    "samples_per_prompt": 16,
    "prompt_concentration": 2.0,
    "drift_sd": 0.01,
    "drift_corr": 0.9,
    "held_out_from": 50_000.0,
}

SCALERL_FILE = {
    "file": "scalerl_3seeds.csv",
    "rng": 2510_13786,
    "params": SCALERL_8B,
    "n_runs": 3,
    "settings": {**COMMON, "x_max": 100_000.0},
}

# B and C_mid of "better" and "single_seed" come from ScaleRL's table (batch 512 and
# 32 generations per prompt); their A values are set by us.
RECIPES = {
    "baseline": {"params": SCALERL_8B, "n_runs": 3},
    "baseline_repeat": {"params": SCALERL_8B, "n_runs": 3},
    "better": {"params": {"A": 0.66, "B": 1.77, "C_mid": 2818.0, "R0": 0.28}, "n_runs": 3},
    "single_seed": {"params": {"A": 0.61, "B": 2.07, "C_mid": 2936.0, "R0": 0.28}, "n_runs": 1},
}

RECIPES_FILE = {
    "file": "recipes.csv",
    "rng": 2510_13787,
    "recipes": RECIPES,
    "settings": {**COMMON, "x_max": 50_000.0},
}

TRUE_MEAN_DECIMALS = 6


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a simulated frame with a stable text format."""
    frame = frame.assign(true_mean=frame["true_mean"].round(TRUE_MEAN_DECIMALS))
    frame.to_csv(path, index=False, lineterminator="\n")


def make_scalerl() -> dict[str, Any]:
    """Simulate ``scalerl_3seeds.csv`` and return its entry of ``truth.json``."""
    spec = SCALERL_FILE
    frame = simulate_runs(
        params=spec["params"], n_runs=spec["n_runs"], rng=spec["rng"], **spec["settings"]
    )
    write_csv(frame, HERE / spec["file"])
    return {
        "rng_seed": spec["rng"],
        "settings": spec["settings"],
        "params": spec["params"],
        "n_runs": spec["n_runs"],
        "runs": frame.attrs["run_params"],
        "n_rows": len(frame),
    }


def make_recipes() -> dict[str, Any]:
    """Simulate ``recipes.csv`` and return its entry of ``truth.json``."""
    spec = RECIPES_FILE
    frame = simulate_recipes(spec["recipes"], rng=spec["rng"], **spec["settings"])
    write_csv(frame, HERE / spec["file"])
    run_params = frame.attrs["run_params"]
    recipes = {
        name: {
            "params": recipe["params"],
            "n_runs": recipe["n_runs"],
            "runs": {s: v for s, v in run_params.items() if s.startswith(f"{name}/")},
        }
        for name, recipe in spec["recipes"].items()
    }
    return {
        "rng_seed": spec["rng"],
        "settings": spec["settings"],
        "recipes": recipes,
        "n_rows": len(frame),
    }


def main() -> None:
    """Write the CSV files and ``truth.json`` into the package's example folder."""
    truth = {
        SCALERL_FILE["file"]: make_scalerl(),
        RECIPES_FILE["file"]: make_recipes(),
    }
    text = json.dumps(truth, indent=2) + "\n"
    (HERE / "truth.json").write_text(text, encoding="utf-8")
    for name in [*truth, "truth.json"]:
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
