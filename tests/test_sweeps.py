"""The generic sweep runner (ganspin/sweeps.py): store round-trip, resumption after a kill,
failures, a 2-worker LocalCluster run, jobqueue construction and bad specs (issue 6)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from ganspin.sweeps import (Sweep, consolidate, finished_keys, jobqueue_cluster, open_store,
                            parts_dir, run_sweep)
from numerics.params import ParameterError

ROOT = Path(__file__).resolve().parent.parent
GRID = {"sigma_z": [1e-3, 0.5, 2.0], "kappa": [0.25, 0.75], "label": ["a", "b"]}


def poly_task(point):
    """Deterministic results of every supported kind: float, int, string, fixed and ragged 1-D."""
    s, k = point["sigma_z"], point["kappa"]
    n = 2 + int(k * 4)
    return {"value": s * k + len(point["label"]), "count": n, "tag": point["label"] * 2,
            "curve": np.linspace(0.0, s, 4), "ragged": np.arange(n, dtype=float) * k}


def make_sweep(task=poly_task, **config):
    return Sweep("unit", GRID, task, config={"resolution": 7, **config}, dims={"curve": "step"})


def test_store_round_trip(tmp_path):
    store = tmp_path / "s.nc"
    ds = run_sweep(make_sweep(), store, scheduler="synchronous", progress=False)
    back = open_store(store)
    assert back.identical(ds)
    assert list(back.sigma_z.values) == GRID["sigma_z"] and list(back.label.values) == ["a", "b"]
    assert back.value.dims == ("sigma_z", "kappa", "label")
    assert back.curve.dims == ("sigma_z", "kappa", "label", "step")
    assert back.attrs["sweep"] == "unit" and back.attrs["config_resolution"] == 7
    assert json.loads(back.attrs["config"]) == {"resolution": 7}
    assert back.attrs["ganspin_version"] and back.attrs["git_commit"]
    for point in make_sweep().points():
        sel = back.sel(point)
        want = poly_task(point)
        assert float(sel.value) == want["value"] and int(sel["count"]) == want["count"]
        assert str(sel.tag.values) == want["tag"]
        np.testing.assert_array_equal(sel.curve.values, want["curve"])
        n = want["count"]
        np.testing.assert_array_equal(sel.ragged.values[:n], want["ragged"])
        assert np.all(np.isnan(sel.ragged.values[n:]))
        assert str(sel.point_key.values) == make_sweep().key(point)


def test_keys_are_stable_and_config_dependent():
    sweep = make_sweep()
    point = {"sigma_z": np.float64(0.5), "kappa": 0.25, "label": "a"}
    # A literal: changing how keys are computed would orphan every user's finished parts.
    assert sweep.key(point) == "ea2cc7787d7a55f9392c" == sweep.key(dict(point, sigma_z=0.5))
    assert make_sweep(resolution=8).key(point) != sweep.key(point)
    assert len({sweep.key(pt) for pt in sweep.points()}) == len(sweep.points())


SLOW_SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_sweeps import make_sweep, poly_task
    from ganspin.sweeps import run_sweep

    def slow(point):
        time.sleep(0.15)
        return poly_task(point)

    run_sweep(make_sweep(slow), {store!r}, scheduler="synchronous", progress=False)
""")


def test_resume_after_kill(tmp_path):
    store = tmp_path / "killed.nc"
    script = SLOW_SCRIPT.format(tests=str(ROOT / "tests"), store=str(store))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    directory = parts_dir(store)
    deadline = time.monotonic() + 60
    try:
        while len(finished_keys(make_sweep(), store)) < 3:
            assert proc.poll() is None, "sweep finished or crashed before it could be killed"
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    sweep = make_sweep()
    survived = finished_keys(sweep, store)
    total = len(sweep.points())
    assert 3 <= len(survived) < total and not store.exists()
    stamps = {k: (directory / f"{k}.npz").stat().st_mtime_ns for k in survived}

    calls = []

    def counting(point):
        calls.append(sweep.key(point))
        return poly_task(point)

    resumed = run_sweep(make_sweep(counting), store, scheduler="synchronous", progress=False)
    assert len(calls) == total - len(survived) and not set(calls) & survived
    assert {k: (directory / f"{k}.npz").stat().st_mtime_ns for k in survived} == stamps
    fresh = run_sweep(make_sweep(), tmp_path / "fresh.nc", scheduler="synchronous", progress=False)
    assert resumed.drop_attrs().identical(fresh.drop_attrs())

    calls.clear()
    again = run_sweep(make_sweep(counting), store, scheduler="synchronous", progress=False)
    assert calls == [] and again.drop_attrs().identical(fresh.drop_attrs())


def test_failed_points_are_retried_alone(tmp_path):
    store = tmp_path / "f.nc"

    def flaky(point):
        if point["sigma_z"] == 0.5 and point["label"] == "b":
            raise FloatingPointError("boom")
        return poly_task(point)

    with pytest.raises(RuntimeError, match="2 of 12 points failed.*FloatingPointError"):
        run_sweep(make_sweep(flaky), store, scheduler="synchronous", progress=False)
    assert len(finished_keys(make_sweep(), store)) == 10 and not store.exists()
    with pytest.raises(RuntimeError, match="unfinished"):
        consolidate(make_sweep(), store)
    calls = []
    run_sweep(make_sweep(lambda pt: calls.append(pt) or poly_task(pt)), store,
              scheduler="synchronous", progress=False)
    assert sorted(c["kappa"] for c in calls) == [0.25, 0.75] and {c["label"] for c in calls} == {"b"}


def test_bad_task_results_are_rejected(tmp_path):
    with pytest.raises(TypeError, match="'m' must be a scalar or 1-D array"):
        run_sweep(make_sweep(lambda pt: {"m": np.zeros((2, 2))}), tmp_path / "m.nc",
                  scheduler="synchronous", progress=False)


def worker_task(point):
    from distributed import get_worker

    time.sleep(0.05)
    return {**poly_task(point), "worker": get_worker().address}


def test_local_cluster_two_workers(tmp_path):
    sweep = Sweep("unit", GRID, worker_task, config={"resolution": 7}, dims={"curve": "step"})
    ds = run_sweep(sweep, tmp_path / "c.nc", workers=2, processes=False, progress=False)
    assert len(set(ds.worker.values.ravel())) == 2
    ref = run_sweep(make_sweep(), tmp_path / "r.nc", scheduler="synchronous", progress=False)
    assert ds.drop_vars("worker").drop_attrs().identical(ref.drop_attrs())


@pytest.mark.parametrize("kind, marker", [("pbs", "#PBS"), ("slurm", "#SBATCH")])
def test_jobqueue_cluster_construction(kind, marker):
    cluster = jobqueue_cluster(kind, scheduler_options={"dashboard_address": None})
    try:
        script = cluster.job_script()
        assert marker in script and "distributed.cli.dask_worker" in script
        assert "4096" in script or "4G" in script
    finally:
        cluster.close()


@pytest.mark.parametrize("coords, message", [
    ({}, "empty grid"),
    ({"sigma_z": []}, "empty grid"),
    ({"sigma_z": [1.0], "kappa": [0.5, 1.0]}, "kappa"),
    ({"sigma_z": [1.0, -0.1]}, "sigma_z"),
    ({"sigma_z": [1.0, float("nan")]}, "sigma_z"),
    ({"p": [2.5]}, "p"),
    ({"sigma_z": [1.0, 1.0]}, "distinct"),
])
def test_bad_specs_rejected_before_any_work(tmp_path, coords, message):
    calls = []
    with pytest.raises(ParameterError, match=message):
        sweep = Sweep("bad", coords, lambda pt: calls.append(pt) or {"x": 1.0})
        run_sweep(sweep, tmp_path / "bad.nc", scheduler="synchronous", progress=False)
    assert calls == [] and not parts_dir(tmp_path / "bad.nc").exists()


def test_bad_run_options(tmp_path):
    with pytest.raises(ParameterError, match="cluster"):
        run_sweep(make_sweep(), tmp_path / "x.nc", cluster="lsf", progress=False)
    with pytest.raises(ParameterError, match="workers"):
        run_sweep(make_sweep(), tmp_path / "x.nc", workers=0, progress=False)
    assert not parts_dir(tmp_path / "x.nc").exists()
