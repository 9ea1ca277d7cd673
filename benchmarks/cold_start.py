"""Benchmark: cold start of ``bayescale fit`` in new processes (issue 11, items 3-4).

Each round uses fresh, private cache directories (PyTensor's compile dir and
bayescale's callback cache, ``BAYESCALE_CACHE_DIR``) and runs the same CLI fit
in new processes:

1. ``first``: both caches empty (the first fit ever on this machine);
2. ``second``: both caches filled by (1) (a later fit of the same model
   structure: the case the disk cache is for);
3. ``no-callback-cache`` (``--baseline``): PyTensor's cache filled, bayescale's
   callback cache switched off (``BAYESCALE_COMPILE_CACHE=0``);
4. ``nutpie`` (``--baseline``): PyTensor's cache filled, the model compiled by
   ``nutpie.compile_pymc_model`` itself (the code before the callback cache; note
   it also compiles with PyTensor's default fast-math flags).

It prints the wall and CPU seconds of every run, the ratio second / first, and whether
``fit.json`` (all numbers; only the output paths removed) is identical between
(1) and (2), i.e. whether the seed reproduces the fit with an empty and with a
filled cache. The load average is printed with the figures: the machine is
shared, so compare runs within one round.

Run from the repository root::

    .venv/bin/python benchmarks/cold_start.py
    .venv/bin/python benchmarks/cold_start.py --likelihood ar1 --rounds 3 --baseline

Exit status 1 when ``fit.json`` differs between the two cache states.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bayescale.data.examples import example_path

ROOT = Path(__file__).resolve().parents[1]
NUTPIE_DRIVER = (
    "import sys, nutpie, bayescale.inference.sampling as s; "
    "s.compile_pymc_model = nutpie.compile_pymc_model; "
    "from bayescale.cli import main; sys.argv = ['bayescale', *sys.argv[1:]]; main()"
)


def fit_command(likelihood: str, seed: int, out: Path, draws: int | None) -> list[str]:
    """Arguments of the CLI fit on the bundled three-seed data."""
    args = [
        "fit",
        str(example_path("scalerl_3seeds")),
        "--x",
        "gpu_hours",
        "--y",
        "pass_rate",
        "--run",
        "seed",
        "--min-x",
        "1500",
        "--seed",
        str(seed),
        "--likelihood",
        likelihood,
        "--out",
        str(out),
        "--overwrite",
    ]
    if draws is not None:
        args += ["--draws", str(draws), "--tune", str(draws)]
    return args


def run_fit(
    args: list[str], caches: Path, *, callback_cache: bool = True, nutpie: bool = False
) -> tuple[float, float]:
    """Wall and CPU seconds of one CLI fit in a new process with the caches under ``caches``.

    The CPU seconds (user + system, all threads) depend much less on the load of
    a shared machine than the wall seconds; on an idle machine the wall time is
    at most about the CPU time (only the sampling runs chains in parallel).
    """
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={caches / 'pytensor'}"
    env["BAYESCALE_CACHE_DIR"] = str(caches / "bayescale")
    env["BAYESCALE_COMPILE_CACHE"] = "1" if callback_cache else "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", NUTPIE_DRIVER] if nutpie else [sys.executable, "-m"]
    if not nutpie:
        command.append("bayescale.cli")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"fit failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def fit_numbers(out: Path) -> dict:
    """``fit.json`` without the output paths (everything else must be reproducible)."""
    result = json.loads((out / "fit.json").read_text())
    result.pop("files", None)
    return result


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the figures; 1 when the two cache states disagree."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--likelihood", default="normal")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draws", type=int, help="draws and tuning steps (CLI default if unset)")
    parser.add_argument(
        "--baseline", action="store_true", help="also time runs without the callback cache"
    )
    options = parser.parse_args(argv)

    print(f"cold start of `bayescale fit --likelihood {options.likelihood}`; cpus {os.cpu_count()}")
    rows: dict[str, list[float]] = {}
    cpu_rows: dict[str, list[float]] = {}
    identical = True
    for round_ in range(options.rounds):
        with tempfile.TemporaryDirectory(prefix="bayescale-cold-") as tmp:
            caches, outputs = Path(tmp) / "caches", Path(tmp) / "out"
            runs = [("first", {}), ("second", {})]
            if options.baseline:
                runs += [
                    ("no-callback-cache", {"callback_cache": False}),
                    ("nutpie", {"nutpie": True}),
                ]
            for name, kwargs in runs:
                out = outputs / name
                args = fit_command(options.likelihood, options.seed, out, options.draws)
                seconds, cpu = run_fit(args, caches, **kwargs)
                rows.setdefault(name, []).append(seconds)
                cpu_rows.setdefault(name, []).append(cpu)
                print(
                    f"round {round_ + 1} {name:>18}: {seconds:6.1f} s wall, {cpu:6.1f} s cpu"
                    f"  (load {load_average()})"
                )
            same = fit_numbers(outputs / "first") == fit_numbers(outputs / "second")
            identical = identical and same
            print(f"round {round_ + 1} fit.json identical, empty vs filled cache: {same}")
    print()
    for name, values in rows.items():
        print(
            f"{name:>18}: median {statistics.median(values):6.1f} s wall, "
            f"{statistics.median(cpu_rows[name]):6.1f} s cpu over {len(values)}"
        )
    ratio = statistics.median(rows["second"]) / statistics.median(rows["first"])
    print(f"second / first: {ratio:.2f}; fit.json identical across cache states: {identical}")
    print(f"load average at the end: {load_average()}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
