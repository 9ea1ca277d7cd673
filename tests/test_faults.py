"""Faults of issue 12 seen from the Python API: interrupted sampling, damaged or
stale fit files, the seed and source of a fit, overwriting, and user strings in
figures. One quick fit (run names with '$' signs, no seed, a relative path) is
shared by every test."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import signal
import warnings

import h5py
import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import QUICK_SAMPLER

matplotlib.use("Agg")
from matplotlib.cbook import is_math_text

import bayescale as bs
from bayescale.cli import main
from bayescale.inference import fitting
from bayescale.inference.interrupts import SamplingInterrupted, check_complete, interruptible
from bayescale.reporting import plots
from bayescale.reporting.report import report
from bayescale.results.export import fit_to_dict
from bayescale.results.output import MANIFEST_NAME, OutputError
from bayescale.results.persistence import FitFileError, netcdf_bytes, save_fit

RUN_NAMES = {"seed0": "$x^$", "seed1": r"$\alpha$"}
COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "run": "seed", "min_x": 1500}
QUICK = {key: value for key, value in QUICK_SAMPLER.items() if key != "seed"}


@pytest.fixture(scope="module")
def shared(scalerl_csv, tmp_path_factory):
    """(fit, its folder): fitted from the relative path 'runs.csv' without a seed."""
    folder = tmp_path_factory.mktemp("faults")
    frame = pd.read_csv(scalerl_csv).replace({"seed": RUN_NAMES})
    frame.to_csv(folder / "runs.csv", index=False)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bs.fit("runs.csv", **COLUMNS, max_x=50_000, **QUICK)
    finally:
        os.chdir(cwd)
    return fit, folder


@pytest.fixture(scope="module")
def saved(shared, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "fit.nc"
    return shared[0].save(path)


# ------------------------------------------------------------------ item 1
def _drawing(chains) -> bool:
    return all(not chain.tuning and chain.finished_draws > 0 for chain in chains)


def _tuning(chains) -> bool:
    return all(chain.tuning and chain.finished_draws > 0 for chain in chains)


@pytest.fixture
def ctrl_c_raises():
    """Python's own SIGINT handler for the test (a shell that starts a job in the
    background makes it ignore SIGINT, and the test runner inherits that)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.filterwarnings("ignore:Found chain dimension")
@pytest.mark.parametrize(
    ("tune", "draws", "when", "message"),
    [
        (50, 200_000, _drawing, r"after \d+ of 200000 draws"),
        (200_000, 50, _tuning, "during tuning"),
    ],
    ids=["during draws", "during tuning"],
)
def test_an_interrupt_raises_instead_of_returning_a_partial_fit(
    shared, monkeypatch, ctrl_c_raises, tune, draws, when, message
):
    """nutpie returns the draws made so far on Ctrl-C; that is never a fit.

    SIGINT is sent from nutpie's progress callback once the chains are where
    the case wants them (tuning, or drawing), whatever the machine's load."""
    import nutpie

    real = nutpie.sample

    def interrupted(*args, **kwargs):
        sent = []

        def on_progress(chains):
            if not sent and when(chains):
                sent.append(True)
                os.kill(os.getpid(), signal.SIGINT)

        return real(*args, **kwargs, progress_callback=on_progress, progress_rate=100)

    monkeypatch.setattr(nutpie, "sample", interrupted)
    folder = shared[1]
    with pytest.raises(SamplingInterrupted, match=message):
        bs.fit(folder / "runs.csv", **COLUMNS, draws=draws, tune=tune, chains=2, seed=1)


def test_short_or_padded_traces_and_errors_while_interrupted_are_interrupts(shared):
    fit, _ = shared
    settings = fit.sampler
    short = xr.DataTree.from_dict({"/posterior": fit.draws_dataset.isel(draw=slice(0, 40))})
    with pytest.raises(SamplingInterrupted, match="after 40 of 100 draws per chain"):
        check_complete(short, settings)
    stats = fit.tree["sample_stats"].to_dataset().copy(deep=True)
    stats["step_size"][1, 60:] = np.nan  # the second chain stopped at draw 60
    padded = {"/posterior": fit.draws_dataset, "/sample_stats": stats}
    with pytest.raises(SamplingInterrupted, match="after 100 of 100 draws"):
        check_complete(xr.DataTree.from_dict(padded), settings)
    check_complete(fit.tree, settings)  # a complete trace passes
    with pytest.raises(SamplingInterrupted, match="during tuning"):
        check_complete(xr.DataTree(), settings)
    with pytest.raises(SamplingInterrupted), interruptible():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            [][0]  # what nutpie's empty trace used to end in


# ------------------------------------------------------------------ item 3
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"priors": {"A": "Beta(alpha=nan, beta=2)"}}, "alpha must be a finite number"),
        ({"priors": {"B": {"dist": "LogNormal", "mu": 0, "sigma": -1}}}, "sigma must be > 0"),
        ({"seed": -1}, "seed must be a whole number from 0 to"),
        ({"seed": 2.5}, "seed must be a whole number"),
        ({"draws": 0}, "draws must be a whole number >= 1"),
    ],
)
def test_the_api_refuses_bad_priors_and_settings_before_compiling(
    scalerl_csv, monkeypatch, options, message
):
    def refuse(*args, **kwargs):
        raise AssertionError("compiled or sampled")

    monkeypatch.setattr(fitting, "sample_posterior", refuse)
    with pytest.raises(ValueError, match=message):
        bs.fit(scalerl_csv, **COLUMNS, **options)
    with pytest.raises(ValueError, match=message):
        bs.fit(scalerl_csv, **COLUMNS, **options, check_only=True)


def _damaged(saved, target, **attrs):
    target.write_bytes(saved.read_bytes())
    with h5py.File(target, "r+") as handle:
        for name, value in attrs.items():
            if value is None:
                del handle[name]
            else:
                handle.attrs[name] = value
    return target


def _data_without_source(saved) -> str:
    info = json.loads(h5py.File(saved, "r").attrs["data"])
    info.pop("source")
    return json.dumps(info)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("deep spec", "damaged bayescale attributes"),
        ("no source", r"damaged bayescale attributes \(missing 'data.source'\)"),
        ("no run", "observed_data lacks run"),
        ("no A", "posterior lacks A"),
        ("fewer draws", "posterior has 2 chains x 40 draws; the settings say 2 x 100"),
    ],
)
def test_damaged_fit_files_are_refused_in_one_line(
    shared, saved, tmp_path, capsys, damage, message
):
    target = tmp_path / "damaged.nc"
    if damage == "deep spec":
        _damaged(saved, target, spec="[" * 100_000 + "]" * 100_000)
    elif damage == "no source":
        _damaged(saved, target, data=_data_without_source(saved))
    elif damage == "no run":
        _damaged(saved, target, **{"observed_data/run": None})
    elif damage == "no A":
        _damaged(saved, target, **{"posterior/A": None})
    else:
        fit = shared[0]
        tree = fit.tree.copy()
        tree["posterior"] = tree["posterior"].to_dataset().isel(draw=slice(0, 40))
        target.write_bytes(netcdf_bytes(dataclasses.replace(fit, tree=tree)))
    with pytest.raises(FitFileError, match=message):
        bs.load(target)
    assert main(["report", "--from", str(target), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(target) in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ item 8
def test_the_seed_used_and_the_source_file_are_recorded(shared):
    fit, _ = shared
    assert isinstance(fit.sampler.seed, int)
    payload = fit_to_dict(fit, ci=0.9)
    assert payload["sampler"]["seed"] == fit.sampler.seed
    assert payload["data"]["path"] == fit.data.path and len(payload["data"]["sha256"]) == 64


def test_the_source_is_kept_by_absolute_path_and_hash(shared, saved, tmp_path, monkeypatch):
    """A relative path used to be resolved against the current folder when reporting."""
    fit, folder = shared
    assert fit.data.source == "runs.csv"
    assert fit.data.path == str((folder / "runs.csv").resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "runs.csv").write_text("gpu_hours,pass_rate,seed\n1e9,0.99,seed0\n")
    monkeypatch.chdir(elsewhere)
    held = plots.held_out_points(bs.load(saved))
    assert len(held) == 150 and held["x"].min() > 50_000


def test_a_fit_whose_source_changed_is_refused(shared, tmp_path, capsys):
    fit, folder = shared
    copy = tmp_path / "copy.csv"
    copy.write_bytes((folder / "runs.csv").read_bytes())
    moved = dataclasses.replace(fit, data=dataclasses.replace(fit.data, path=str(copy)))
    path = moved.save(tmp_path / "fit.nc")
    assert bs.load(path, check_source=True).data.path == str(copy)
    with copy.open("a") as handle:
        handle.write("seed0,99999,999990.0,0.9,True,0.9\n")
    with pytest.raises(FitFileError, match=r"fit.nc: its data source .*copy.csv changed after"):
        bs.load(path, check_source=True)
    assert bs.load(path).data.path == str(copy)  # the source is hashed only on request
    # held-out points come from the fit itself, never from the changed file
    held = plots.held_out_points(moved)
    assert len(held) == 150 and held["x"].min() > 50_000
    out = ["--out", str(tmp_path / "out")]
    assert main(["report", "--from", str(path), "--check-source", *out]) == 2
    assert "changed after the fit" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ item 2
def test_a_file_size_limit_while_saving_keeps_the_old_fit_and_the_process(shared, saved, tmp_path):
    """HDF5 used to truncate the old file in place and then crash the process."""
    target = tmp_path / "fit.nc"
    target.write_bytes(saved.read_bytes())
    before = target.read_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) // 3, hard))
    try:
        with pytest.raises(OutputError, match=r"fit\.nc: cannot write \(File too large\)"):
            save_fit(shared[0], target, overwrite=True)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.nc"]


# ------------------------------------------------------------ items 7 and 9
def test_run_names_with_dollar_signs_are_drawn_as_written(shared):
    fit, _ = shared
    ax = plots.plot_fit(fit)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert r"\$x^\$" in labels and r"\$\alpha\$" in labels
    assert not any(is_math_text(label) for label in labels)
    ax.figure.canvas.draw()  # '$x^$' used to abort drawing
    figure = plots.plot_forest(fit, ["A"])
    ticks = [text.get_text() for text in figure.axes[0].get_yticklabels()]
    assert r"A[\$x^\$]" in ticks
    figure.canvas.draw()


def test_save_and_report_replace_files_only_when_asked(shared, tmp_path):
    fit, _ = shared
    path = fit.save(tmp_path / "fit.nc")
    with pytest.raises(OutputError, match=r"fit\.nc already exists; pass --overwrite"):
        fit.save(path)
    fit.save(path, overwrite=True)
    out = tmp_path / "report"
    paths = report(fit, out)
    assert sorted(paths) == ["figures", "report.html", "report.md"]
    assert "\\$x^\\$" in (out / "report.md").read_text()
    with pytest.raises(OutputError, match=r"report\.html already exists"):
        report(fit, out)
    report(fit, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST_NAME,
        "figures",
        "report.html",
        "report.md",
    ]
