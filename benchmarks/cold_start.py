"""Benchmark: first contact with bayescale in new processes (issues 11 and 23).

Prints, in one run and for each of ``--rounds`` rounds (fresh private caches each:
PyTensor's compile dir and bayescale's, ``BAYESCALE_CACHE_DIR``), with the load
average beside every figure:

1. ``help``: ``bayescale --help`` against ``python -c "import numpy, pandas"``
   (median of ``--repeats`` alternating runs each; target ratio <= 2);
2. ``import``: ``python -c "import bayescale"`` against the same baseline
   (target <= 3);
3. ``first``: the first fit ever, both caches empty: ``bayescale fit`` of a
   simulated 3-seed x 125-point sigmoid curve (default model and sampler);
4. ``second``: the same fit in a new process, caches filled by (3), against a
   ``warm`` in-process ``bs.fit`` of the same data (the second fit in a process
   that fitted it once; target ratio <= 2).

It also checks that ``fit.json`` (all numbers; only the output paths removed)
is identical between (3) and (4): the same seed gives the same fit whether the
caches were empty or filled. Wall seconds of whole processes; the CPU seconds
(user + system, all threads) are printed too, as they depend less on a shared
machine's load. Compare figures within a round.

Run from the repository root::

    .venv/bin/python benchmarks/cold_start.py
    .venv/bin/python benchmarks/cold_start.py --rounds 1 --repeats 3

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

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [sys.executable, "-c", "import numpy, pandas"]
HELP = [sys.executable, "-m", "bayescale.cli", "--help"]
IMPORT = [sys.executable, "-c", "import bayescale"]
#: The in-process comparison: one fit to warm the process, then the timed one.
WARM_FIT = """
import json, sys, time, warnings
import bayescale as bs
warnings.simplefilter("ignore")
options = dict(x="gpu_hours", y="pass_rate", run="seed", seed=int(sys.argv[2]))
bs.fit(sys.argv[1], **options)
start, cpu = time.perf_counter(), time.process_time()
bs.fit(sys.argv[1], **options)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu}))
"""


def write_curves(path: Path) -> Path:
    """A simulated ScaleRL-like recipe: 3 seeds x 125 evaluations (1k GPU-hours apart)."""
    from bayescale.studies.simulate import simulate_runs

    frame = simulate_runs(
        params={"A": 0.61, "B": 1.92, "C_mid": 2542.0, "R0": 0.3},
        x_max=125_000.0,
        held_out_from=None,
        rng=0,
    )
    frame[["seed", "gpu_hours", "pass_rate"]].to_csv(path, index=False)
    return path


def environment(caches: Path) -> dict[str, str]:
    """This checkout first on the path, the caches under ``caches``."""
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={caches / 'pytensor'}"
    env["BAYESCALE_CACHE_DIR"] = str(caches / "bayescale")
    env.pop("BAYESCALE_COMPILE_CACHE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of ``command`` in a new process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, done.stdout


def paired(
    command: list[str], env: dict[str, str], repeats: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) seconds of ``command`` and of :data:`BASELINE`, run in
    turn (one warm-up of each first)."""
    ours, base = [], []
    for index in range(repeats + 1):
        first = timed(command, env)[:2]
        second = timed(BASELINE, env)[:2]
        if index:
            ours.append(first)
            base.append(second)
    return _medians(ours), _medians(base)


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def fit_command(data: Path, seed: int, out: Path) -> list[str]:
    """``bayescale fit`` of ``data`` with the default model and sampler."""
    return [
        *HELP[:3],
        "fit",
        str(data),
        "--x",
        "gpu_hours",
        "--y",
        "pass_rate",
        "--run",
        "seed",
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--overwrite",
    ]


def fit_numbers(out: Path) -> dict:
    """``fit.json`` without the output paths (everything else must be reproducible)."""
    result = json.loads((out / "fit.json").read_text())
    result.pop("files", None)
    return result


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the figures; 1 when the two cache states disagree."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each short command")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)

    print(f"first contact with bayescale; cpus {os.cpu_count()}; {load_average()}")
    ratios: dict[str, list[float]] = {}
    identical = True
    for round_ in range(1, options.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bayescale-cold-") as tmp:
            tmp_path = Path(tmp)
            env = environment(tmp_path / "caches")
            data = write_curves(tmp_path / "curves.csv")
            for name, command, target in (("help", HELP, 2.0), ("import", IMPORT, 3.0)):
                ours, base = paired(command, env, options.repeats)
                ratios.setdefault(name, []).append(ours[0] / base[0])
                ratios.setdefault(f"{name} (cpu)", []).append(ours[1] / base[1])
                print(
                    f"round {round_} {name:>7}: {ours[0]:5.2f} s ({ours[1]:5.2f} s cpu) vs import "
                    f"numpy, pandas {base[0]:5.2f} s ({base[1]:5.2f} s cpu): {ours[0] / base[0]:4.2f}x "
                    f"({ours[1] / base[1]:4.2f}x cpu; target <= {target:g}x)  ({load_average()})"
                )
            runs = {}
            for name in ("first", "second"):
                out = tmp_path / name
                seconds, cpu, _ = timed(fit_command(data, options.seed, out), env)
                runs[name] = seconds, cpu
                print(
                    f"round {round_} {name:>7}: {seconds:5.1f} s wall, {cpu:5.1f} s cpu "
                    f"(new-process bayescale fit)  ({load_average()})"
                )
            _, _, stdout = timed(
                [sys.executable, "-c", WARM_FIT, str(data), str(options.seed)], env
            )
            warm = json.loads(stdout.strip().splitlines()[-1])
            (second, second_cpu), (first, first_cpu) = runs["second"], runs["first"]
            ratios.setdefault("second/warm", []).append(second / warm["wall"])
            ratios.setdefault("second/warm (cpu)", []).append(second_cpu / warm["cpu"])
            ratios.setdefault("first", []).append(first)
            ratios.setdefault("first (cpu)", []).append(first_cpu)
            print(
                f"round {round_}    warm: {warm['wall']:5.1f} s wall, {warm['cpu']:5.1f} s cpu "
                f"(in-process bs.fit); second / warm {second / warm['wall']:4.2f}x "
                f"({second_cpu / warm['cpu']:4.2f}x cpu; target <= 2x)  ({load_average()})"
            )
            same = fit_numbers(tmp_path / "first") == fit_numbers(tmp_path / "second")
            identical = identical and same
            print(f"round {round_} fit.json identical, empty vs filled caches: {same}")
    print()
    for name, values in ratios.items():
        unit = " s" if name.startswith("first") else "x"
        shown = ", ".join(f"{value:.2f}{unit}" for value in values)
        print(f"{name:>12}: median {statistics.median(values):.2f}{unit} over ({shown})")
    print(f"fit.json identical across cache states: {identical}; {load_average()}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
