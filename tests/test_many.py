"""fit_many: many independent data sets through one compiled model per structure.

Every data set here has the structure of the session's ``scalerl_fit`` (sigmoid,
drift likelihood, A varying over three seeds, one recipe), so the in-process tests
reuse its compiled model and only pay for sampling.
"""

from __future__ import annotations

import pickle
import warnings
from concurrent.futures import Future

import numpy as np
import pandas as pd
import pytest
from conftest import QUICK_SAMPLER

import bayescale as bs
from bayescale.inference import sampling
from bayescale.inference.many import FitManyWarning, ManyFits
from bayescale.studies.simulate import simulate_runs

COLUMNS = {"x": "gpu_hours", "y": "pass_rate", "run": "seed", "min_x": 1500}


@pytest.fixture(scope="module")
def cut_frames(scalerl_csv) -> dict[str, pd.DataFrame]:
    """The bundled data cut at two compute budgets: same runs, different point counts."""
    frame = pd.read_csv(scalerl_csv)
    return {
        "to20k": frame[frame["gpu_hours"] <= 20_000],
        "to35k": frame[frame["gpu_hours"] <= 35_000],
    }


@pytest.fixture(scope="module")
def serial_fits(scalerl_fit, cut_frames) -> ManyFits:
    """Two good data sets and a missing file, fitted in this process."""
    datasets = {**cut_frames, "missing": "no_such_file.csv"}
    with pytest.warns(FitManyWarning, match="1 of 3 fits failed"):
        return bs.fit_many(datasets, executor="serial", progress=False, **COLUMNS, **QUICK_SAMPLER)


def _draws(fit: bs.Fit) -> np.ndarray:
    return fit.draws_dataset["A"].to_numpy()


def test_fits_come_back_in_order_and_a_failure_is_recorded(serial_fits, cut_frames):
    assert serial_fits.names == ["to20k", "to35k", "missing"]
    for name, frame in cut_frames.items():
        expected_points = int((frame["gpu_hours"] >= 1500).sum())
        assert len(serial_fits[name].data) == expected_points
    assert serial_fits.fits[2] is None
    assert list(serial_fits.failed) == ["missing"]
    assert "no_such_file.csv" in serial_fits.failed["missing"]
    with pytest.raises(RuntimeError, match=r"no_such_file\.csv"):
        serial_fits["missing"]
    table = serial_fits.table()
    assert table["ok"].tolist() == [True, True, False]
    assert table.loc["to20k", "points"] < table.loc["to35k", "points"]


def test_new_point_counts_reuse_the_compiled_model(serial_fits):
    # The session fit compiled this structure; fewer points must not recompile.
    assert [serial_fits[i].times.compile for i in range(2)] == [0.0, 0.0]


def test_fit_many_is_fit_with_seed_plus_position(serial_fits, cut_frames):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = bs.fit(cut_frames["to35k"], **COLUMNS, **{**QUICK_SAMPLER, "seed": 8})
    np.testing.assert_array_equal(_draws(single), _draws(serial_fits["to35k"]))


def test_dask_local_cluster_gives_the_same_fits(serial_fits, cut_frames):
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    )
    size_before = sampling.cache_size()
    with cluster, distributed.Client(cluster) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fits on worker threads warn as usual
        fits = bs.fit_many(
            list(cut_frames.values()), executor=client, progress=False, **COLUMNS, **QUICK_SAMPLER
        )
    assert fits.failed == {}
    # Two fits ran concurrently on the worker's threads, sharing one compiled model.
    assert sampling.cache_size() == size_before
    for position, name in enumerate(cut_frames):
        np.testing.assert_array_equal(_draws(fits[position]), _draws(serial_fits[name]))


def test_grouped_data_frame_gives_one_fit_per_group_with_its_truth(scalerl_fit):
    truth = {"low": 0.55, "high": 0.66}
    frame = pd.concat(
        simulate_runs(
            params={"A": a, "B": 1.92, "C_mid": 2542.0, "R0": 0.28},
            n_runs=3,
            x_max=30_000,
            rng=i,
        ).assign(recipe=name)
        for i, (name, a) in enumerate(truth.items())
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitManyWarning)
        fits = bs.fit_many(
            frame, by="recipe", executor="serial", progress=False, **COLUMNS, **QUICK_SAMPLER
        )
    assert fits.names == ["low", "high"]
    for name, a in truth.items():
        row = fits[name].summary(ci=0.99).loc["A"]
        assert row["lower"] <= a <= row["upper"], (name, row)


class _LostWorkers:
    """An executor whose every task dies, like a worker process that was killed."""

    def submit(self, fn, *args):
        future: Future = Future()
        future.set_exception(RuntimeError("worker lost"))
        return future


def test_a_lost_task_fails_only_its_data_sets(cut_frames):
    with pytest.warns(FitManyWarning, match="2 of 2 fits failed"):
        fits = bs.fit_many(
            cut_frames, executor=_LostWorkers(), chunk_size=2, progress=False, **COLUMNS
        )
    assert fits.fits == [None, None]
    assert set(fits.failed.values()) == {"RuntimeError: worker lost"}


def test_worker_processes_report_bad_data_with_file_and_column(tmp_path, cut_frames):
    bad = tmp_path / "bad.csv"
    cut_frames["to20k"].drop(columns="pass_rate").to_csv(bad, index=False)
    with pytest.warns(FitManyWarning):
        fits = bs.fit_many([str(bad), "absent.csv"], workers=1, progress=False, **COLUMNS)
    assert "bad.csv" in fits.errors[0] and "pass_rate" in fits.errors[0]
    assert "absent.csv" in fits.errors[1]


def test_a_fit_survives_pickling(scalerl_fit):
    copy = pickle.loads(pickle.dumps(scalerl_fit))
    pd.testing.assert_frame_equal(copy.summary(), scalerl_fit.summary())


@pytest.mark.parametrize(
    ("datasets", "options", "error", "match"),
    [
        (pd.DataFrame({"a": [1]}), {}, ValueError, "pass by="),
        (pd.DataFrame({"a": [1]}), {"by": "recipe"}, ValueError, "no column recipe"),
        ([pd.DataFrame()], {"by": "recipe"}, ValueError, "single DataFrame"),
        ([], {}, ValueError, "no data sets"),
        ([pd.DataFrame()], {"drawz": 10}, TypeError, "drawz"),
        ([pd.DataFrame()], {"chunk_size": 0}, ValueError, "chunk_size"),
        ([pd.DataFrame()], {"executor": "threads"}, TypeError, "submit method"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(datasets, options, error, match):
    with pytest.raises(error, match=match):
        bs.fit_many(datasets, y="pass_rate", progress=False, **options)


@pytest.mark.slow
def test_a_worker_process_compiles_once_for_many_data_sets(cut_frames):
    """Default executor: one spawned worker; its first fit compiles, the next is warm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitManyWarning)
        fits = bs.fit_many(list(cut_frames.values()), workers=1, **COLUMNS, **QUICK_SAMPLER)
    assert fits.failed == {}
    assert fits[0].times.compile > 0
    assert fits[1].times.compile == 0
    assert fits[1].summary().loc["A", "r_hat"] < 1.2
