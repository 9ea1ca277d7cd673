"""Make the simulated data bundled with bayescale.

Run from anywhere with ``python scripts/make_example_data.py``. The random seeds are fixed, so
re-running with the same NumPy/SciPy/pandas versions rewrites the files byte for byte:

- ``scalerl_3seeds.csv``: three seeds of one recipe with parameters close to the
  ScaleRL 8B fit, evaluated every 100 steps up to 100k GPU-hours, held out beyond 50k.
- ``recipes.csv``: four recipes for the recipe-comparison feature, up to 50k GPU-hours.
- ``kaplan_ladder.csv``: final losses of a ladder of model sizes on Kaplan et al.'s
  power law in parameters (alpha_N = 0.076, N_c = 8.8e13).
- ``chinchilla_table.csv``: final losses of a grid of (parameters, tokens) runs on
  Hoffmann et al.'s approach-3 law (E = 1.69, A = 406.4, B = 410.7, alpha = 0.34,
  beta = 0.28).
- ``isoflop.csv``: an isoFLOP sweep (10 budgets x 12 sizes) whose frontier is Llama 3's
  published D* = 0.29 C^0.53.
- ``rl_sizes.csv``: RL curves of five model sizes (0.5B to 8B, 3 seeds each) on the
  across-size sigmoid law.
- ``truth.json``: the true parameters, the simulation settings and the
  per-run parameters actually drawn, per file.

See ``bayescale/data/examples/README.md`` for the noise model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescale.model.laws import get_law
from bayescale.studies.isoflop_simulate import chinchilla_for_frontier, simulate_isoflop
from bayescale.studies.simulate import simulate_recipes, simulate_runs
from bayescale.studies.size_simulate import simulate_sizes
from bayescale.studies.task_study import LOSS_LAW, TASKS
from bayescale.studies.task_study import simulate_ladder as simulate_task_ladder

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

# Kaplan et al. 2020: L(N) = (N_c / N)^alpha_N with alpha_N = 0.076, N_c = 8.8e13.
KAPLAN_FILE = {
    "file": "kaplan_ladder.csv",
    "rng": 2001_08361,
    "params": {"alpha": 0.076, "X_c": 8.8e13},
    "settings": {"sizes": [float(n) for n in np.geomspace(1e6, 1e10, 12)], "log_noise_sd": 0.01},
}

# Hoffmann et al. 2022, approach 3.
CHINCHILLA_FILE = {
    "file": "chinchilla_table.csv",
    "rng": 2203_15556,
    "params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
    "settings": {
        "sizes": [float(n) for n in np.geomspace(7e7, 1.6e10, 6)],
        "tokens": [float(d) for d in np.geomspace(5e9, 5e11, 6)],
        "log_noise_sd": 0.01,
    },
}

# Llama 3's frontier D* = 0.29 C^0.53 (the simulator's default).
ISOFLOP_FILE = {
    "file": "isoflop.csv",
    "rng": 2407_21783,
    "settings": {"h": 0.29, "b": 0.53, "beta": 0.28, "sizes": 12, "noise_sd": 0.01},
}

SIZES_FILE = {
    "file": "rl_sizes.csv",
    "rng": 2510_13788,
    "settings": {"sizes": [5e8, 1e9, 2e9, 4e9, 8e9], "n_runs": 3, "x_max": 30_000.0},
}

DECIMALS = 6


TASK_FILE = {
    "file": "task_ladder.csv",
    "rng": 20261203,
    "settings": {"questions": 1000, "loss_scatter": 0.01, "task_scatter": 0.01, "jitter": False},
}


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a simulated frame with a stable text format (noiseless columns rounded)."""
    rounded = {c: frame[c].round(DECIMALS) for c in ("true_mean", "true_loss") if c in frame}
    frame.assign(**rounded).to_csv(path, index=False, lineterminator="\n")


def _noisy_log(rng: np.random.Generator, loss: np.ndarray, sd: float) -> np.ndarray:
    """Loss with Normal noise of sd ``sd`` on the log scale."""
    return loss * np.exp(sd * rng.standard_normal(loss.shape))


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


def make_kaplan() -> dict[str, Any]:
    """Simulate ``kaplan_ladder.csv`` and return its entry of ``truth.json``."""
    spec = KAPLAN_FILE
    n = np.asarray(spec["settings"]["sizes"])
    true = (spec["params"]["X_c"] / n) ** spec["params"]["alpha"]
    rng = np.random.default_rng(spec["rng"])
    loss = _noisy_log(rng, true, spec["settings"]["log_noise_sd"])
    write_csv(pd.DataFrame({"params": n, "loss": loss, "true_loss": true}), HERE / spec["file"])
    return {"rng_seed": spec["rng"], "law": "power", **spec, "n_rows": len(n)}


def make_chinchilla() -> dict[str, Any]:
    """Simulate ``chinchilla_table.csv`` and return its entry of ``truth.json``."""
    spec = CHINCHILLA_FILE
    n, d = (a.ravel() for a in np.meshgrid(spec["settings"]["sizes"], spec["settings"]["tokens"]))
    true = get_law("chinchilla").curve({"n": np.log(n), "d": np.log(d)}, spec["params"])
    rng = np.random.default_rng(spec["rng"])
    loss = _noisy_log(rng, true, spec["settings"]["log_noise_sd"])
    frame = pd.DataFrame({"n": n, "d": d, "compute": 6 * n * d, "loss": loss, "true_loss": true})
    write_csv(frame.sort_values(["n", "d"], ignore_index=True), HERE / spec["file"])
    return {"rng_seed": spec["rng"], "law": "chinchilla", **spec, "n_rows": len(frame)}


def make_isoflop() -> dict[str, Any]:
    """Simulate ``isoflop.csv`` and return its entry of ``truth.json``."""
    spec = ISOFLOP_FILE
    settings = spec["settings"]
    frame = simulate_isoflop(rng=spec["rng"], **settings)
    write_csv(frame, HERE / spec["file"])
    params = chinchilla_for_frontier(settings["h"], settings["b"], beta=settings["beta"])
    frontier = {"H": settings["h"], "b": settings["b"], "a": 1 - settings["b"]}
    return {
        "rng_seed": spec["rng"],
        "settings": settings,
        "params": params,
        "frontier": frontier,
        "n_rows": len(frame),
    }


def make_sizes() -> dict[str, Any]:
    """Simulate ``rl_sizes.csv`` and return its entry of ``truth.json``."""
    spec = SIZES_FILE
    settings = spec["settings"]
    frame = simulate_sizes(
        settings["sizes"], n_runs=settings["n_runs"], x_max=settings["x_max"], rng=spec["rng"]
    )
    truth = {
        "rng_seed": spec["rng"],
        "settings": settings,
        "params": frame.attrs["truth"],
        "size_params": frame.attrs["size_params"],
        "n_rows": len(frame),
    }
    write_csv(frame, HERE / spec["file"])
    return truth


def make_task() -> dict[str, Any]:
    """Simulate ``task_ladder.csv`` and return its entry of ``truth.json``."""
    spec = TASK_FILE
    frame = simulate_task_ladder(rng=spec["rng"], **spec["settings"])
    write_csv(frame, HERE / spec["file"])
    return {
        "rng_seed": spec["rng"],
        "settings": spec["settings"],
        "loss_law": LOSS_LAW,
        "tasks": TASKS,
        "chance": 0.25,
        "n_rows": len(frame),
    }


def main() -> None:
    """Write the CSV files and ``truth.json`` into the package's example folder."""
    truth = {
        SCALERL_FILE["file"]: make_scalerl(),
        RECIPES_FILE["file"]: make_recipes(),
        KAPLAN_FILE["file"]: make_kaplan(),
        CHINCHILLA_FILE["file"]: make_chinchilla(),
        ISOFLOP_FILE["file"]: make_isoflop(),
        SIZES_FILE["file"]: make_sizes(),
        TASK_FILE["file"]: make_task(),
    }
    text = json.dumps(truth, indent=2) + "\n"
    (HERE / "truth.json").write_text(text, encoding="utf-8")
    for name in [*truth, "truth.json"]:
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
