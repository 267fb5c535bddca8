"""A resumable sweep runner on Dask, shared by the theory sweeps and the GAN experiments.

A :class:`Sweep` is a named Cartesian grid of parameter points plus a pure task
``point -> {name: scalar or 1-D array}``. :func:`run_sweep` executes the points that are not
finished yet and writes one self-describing xarray store (netCDF-4 via the netCDF4 engine: h5netcdf cannot write
without h5py, which is not installed):

* the grid coordinates are the dimensions, in the order given;
* every result is a data variable over the grid (1-D results get one more dimension, by
  default ``<name>_index``; see :attr:`Sweep.dims`); ragged 1-D results are NaN-padded;
* ``point_key`` holds each point's stable key; attributes record the sweep name, the code
  version (``ganspin.__version__`` and the git commit), the creation time and the config
  (``config`` as JSON, and each scalar entry as ``config_<name>``).

Resumability: each finished point is written atomically (temp file + ``os.replace``) to
``<store>.parts/<key>.npz`` the moment it completes, so killing a run loses nothing that has
finished; a re-run loads those parts and computes only the missing points. The store itself
is consolidated from the parts at the end, also atomically. A point's key hashes the sweep
name, its config and the point's coordinates, so changing the config never reuses stale parts.

Execution: an embedded ``distributed.LocalCluster`` by default; ``scheduler=ADDRESS`` for an
existing Dask scheduler; ``cluster="pbs"|"slurm"`` for a dask-jobqueue cluster (configure queue,
account, memory etc. in the usual ``jobqueue.yaml``); ``scheduler="synchronous"`` runs the
points one after the other in this process (debugging, tests, single-GPU work). Results are
written by the client, so workers need no shared file system.

Example::

    sweep = Sweep("demo", {"sigma_z": [0.1, 1.0], "kappa": [0.5]}, task=my_task,
                  config={"resolution": 200})
    ds = run_sweep(sweep, "demo.nc")
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import time
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ganspin.atomic import atomic_path
from numerics.params import ParameterError, finite, integer, positive, unit_interval

SYNCHRONOUS = "synchronous"
JOBQUEUE_CLUSTERS = ("pbs", "slurm")
NETCDF_ENGINE = "netcdf4"

# Coordinates with these names are validated before any work starts, whatever the sweep.
COORDINATE_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "p": lambda name, v: integer(name, v, 2),
    "q": lambda name, v: integer(name, v, 2),
    "kappa": unit_interval,
    "sigma_z": positive,
}

# Used only where dask-jobqueue's configuration (jobqueue.yaml) leaves them unset.
JOBQUEUE_DEFAULTS = {"cores": 1, "memory": "4GiB"}


def _plain(name: str, value):
    """A coordinate value as a plain JSON-able Python scalar (keys must not depend on numpy types)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return finite(name, value)
    if isinstance(value, str):
        return value
    raise ParameterError(f"{name} values must be numbers or strings, got {value!r}")


@dataclass(frozen=True)
class Sweep:
    """A named grid of points and the pure task evaluated at each.

    name:   identifies the sweep (part of every point key).
    coords: ordered mapping coordinate name -> list of values (numbers or strings); the grid is
            their Cartesian product. Names in :data:`COORDINATE_CHECKS` are validated.
    task:   picklable ``task(point: dict) -> dict`` of named scalars or 1-D arrays; the same
            names on every point. It must be pure: the result depends only on the point and
            the config it closes over.
    config: JSON-serialisable settings that affect the results (resolution, constants set,
            ...); recorded as store attributes and hashed into every key.
    dims:   optional result name -> dimension name for 1-D results (e.g. two loss curves sharing
            ``"iteration"``); default ``<name>_index``.
    check:  optional ``check(point)`` raising ParameterError for invalid points; called on
            every point before any work starts.
    """

    name: str
    coords: dict[str, list]
    task: Callable[[dict], dict]
    config: dict = field(default_factory=dict)
    dims: dict[str, str] = field(default_factory=dict)
    check: Callable[[dict], Any] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("sweep name must be a non-empty string")
        if not self.coords:
            raise ParameterError(f"sweep {self.name}: empty grid (no coordinates)")
        coords = {}
        for cname, values in self.coords.items():
            values = [_plain(cname, v) for v in np.atleast_1d(np.asarray(values, dtype=object)).tolist()]
            if not values:
                raise ParameterError(f"sweep {self.name}: empty grid (coordinate {cname} has no values)")
            if len(set(values)) != len(values):
                raise ParameterError(f"{cname} values must be distinct, got {values}")
            if cname in COORDINATE_CHECKS:
                for v in values:
                    COORDINATE_CHECKS[cname](cname, v)
            coords[cname] = values
        object.__setattr__(self, "coords", coords)
        try:
            json.dumps(self.config, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"sweep {self.name}: config must be JSON-serialisable ({exc})") from None
        if self.check is not None:
            for point in self.points():
                self.check(point)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.coords.values())

    def points(self) -> list[dict]:
        """All grid points in C order of :attr:`coords`."""
        names = list(self.coords)
        return [dict(zip(names, combo)) for combo in product(*self.coords.values())]

    def key(self, point: dict) -> str:
        """Stable key of ``point``: a hash of the sweep name, its config and the coordinates."""
        blob = json.dumps({"sweep": self.name, "config": self.config,
                           "point": {k: point[k] for k in self.coords}},
                          sort_keys=True, allow_nan=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


def parts_dir(store_path) -> Path:
    """The folder of per-point results that make ``store_path`` resumable."""
    store_path = Path(store_path)
    return store_path.with_name(store_path.name + ".parts")


def _check_result(point: dict, result) -> dict[str, np.ndarray]:
    if not isinstance(result, dict) or not result:
        raise TypeError(f"sweep task must return a non-empty dict, got {type(result).__name__} at {point}")
    out = {}
    for name, value in result.items():
        arr = np.asarray(value)
        if arr.ndim > 1 or arr.dtype == object or not isinstance(name, str) or name.startswith("__"):
            raise TypeError(f"sweep task result {name!r} must be a scalar or 1-D array at {point}")
        out[name] = arr
    return out


def _write_part(directory: Path, key: str, point: dict, result: dict[str, np.ndarray]) -> None:
    with atomic_path(directory / f"{key}.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, __point__=np.array(json.dumps(point)), **result)
        fh.flush()
        os.fsync(fh.fileno())


def _read_part(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files if name != "__point__"}


def finished_keys(sweep: Sweep, store_path) -> set[str]:
    """Keys of the points of ``sweep`` whose results are already persisted."""
    directory = parts_dir(store_path)
    wanted = {sweep.key(pt) for pt in sweep.points()}
    if not directory.is_dir():
        return set()
    return {p.stem for p in directory.glob("*.npz") if not p.name.startswith(".")} & wanted


def code_version() -> dict[str, str]:
    """``ganspin.__version__`` and the git commit of the source tree (``unknown`` outside git)."""
    import ganspin

    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        commit += "-dirty" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"ganspin_version": ganspin.__version__, "git_commit": commit}


def consolidate(sweep: Sweep, store_path):
    """Assemble the finished parts into the xarray store at ``store_path`` (atomically) and return it.

    Every point must be finished."""
    import xarray as xr

    directory = parts_dir(store_path)
    points = sweep.points()
    keys = [sweep.key(pt) for pt in points]
    missing = [pt for pt, k in zip(points, keys) if not (directory / f"{k}.npz").exists()]
    if missing:
        raise RuntimeError(f"sweep {sweep.name}: {len(missing)} points unfinished, e.g. {missing[0]}")
    results = [_read_part(directory / f"{k}.npz") for k in keys]
    names = list(dict.fromkeys(n for r in results for n in r))
    shape, grid_dims = sweep.shape, list(sweep.coords)
    data_vars = {"point_key": (grid_dims, np.array(keys, dtype=str).reshape(shape))}
    for name in names:
        values = [r.get(name) for r in results]
        absent = [pt for pt, v in zip(points, values) if v is None]
        if absent:
            raise RuntimeError(f"sweep {sweep.name}: result {name!r} missing at {absent[0]}")
        if values[0].ndim == 0:
            data_vars[name] = (grid_dims, np.stack(values).reshape(shape))
            continue
        length = max(v.size for v in values)
        if all(v.size == length for v in values):
            stacked = np.stack(values)
        else:
            stacked = np.full((len(values), length), np.nan)
            for i, v in enumerate(values):
                stacked[i, :v.size] = v
        data_vars[name] = (grid_dims + [sweep.dims.get(name, f"{name}_index")],
                           stacked.reshape(shape + (length,)))
    attrs = {"sweep": sweep.name, **code_version(),
             "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "config": json.dumps(sweep.config, sort_keys=True)}
    for k, v in sweep.config.items():
        if isinstance(v, (bool, int, float, str)):
            attrs[f"config_{k}"] = int(v) if isinstance(v, bool) else v
    ds = xr.Dataset(data_vars, coords={k: np.asarray(v) for k, v in sweep.coords.items()}, attrs=attrs)
    write_netcdf(ds, store_path)
    return ds


def write_netcdf(ds, path) -> Path:
    """Write ``ds`` to the netCDF file ``path`` atomically."""
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=NETCDF_ENGINE)
    return Path(path)


def open_store(store_path):
    """Load a consolidated sweep store into memory (the file is closed again)."""
    import xarray as xr

    with xr.open_dataset(store_path, engine=NETCDF_ENGINE) as ds:
        return ds.load()


def jobqueue_cluster(kind: str, **kwargs):
    """A dask-jobqueue ``PBSCluster`` or ``SLURMCluster`` (no jobs are submitted until it is scaled).

    Settings come from dask's ``jobqueue.yaml``, then ``kwargs``; :data:`JOBQUEUE_DEFAULTS`
    fill only what both leave unset."""
    import dask.config
    import dask_jobqueue

    if kind not in JOBQUEUE_CLUSTERS:
        raise ParameterError(f"cluster must be one of {', '.join(JOBQUEUE_CLUSTERS)}, got {kind!r}")
    cls = {"pbs": dask_jobqueue.PBSCluster, "slurm": dask_jobqueue.SLURMCluster}[kind]
    for name, value in JOBQUEUE_DEFAULTS.items():
        if kwargs.get(name) is None and dask.config.get(f"jobqueue.{kind}.{name}", None) is None:
            kwargs[name] = value
    return cls(**kwargs)


def _client(scheduler, cluster, workers, processes):
    """A ``distributed.Client`` and the cluster this call created (to be closed), if any."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler), None
    if cluster is not None:
        created = jobqueue_cluster(cluster)
        created.scale(workers or 1)
        return Client(created), created
    n = workers or max(1, min(os.cpu_count() or 1, len(os.sched_getaffinity(0))))
    created = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                           dashboard_address=":0")
    return Client(created), created


def run_sweep(sweep: Sweep, store_path, scheduler: str | None = None, cluster: str | None = None,
              workers: int | None = None, progress: bool = True, processes: bool = True):
    """Run the unfinished points of ``sweep`` and return the consolidated store (xarray.Dataset).

    scheduler: ``None`` (embedded LocalCluster with ``workers`` single-threaded workers, default
               the available cores; ``processes=False`` keeps them in this process), a Dask
               scheduler address, or ``"synchronous"`` (in-process, one point after another).
    cluster:   ``"pbs"`` or ``"slurm"``: a dask-jobqueue cluster scaled to ``workers`` jobs.

    If some tasks fail, the others still finish and are persisted; then a RuntimeError names
    the first failure, and a re-run retries only the failed points.
    """
    from tqdm.auto import tqdm

    if workers is not None:
        workers = integer("workers", workers, 1)
    if scheduler is not None and cluster is not None:
        raise ParameterError("give either scheduler or cluster, not both")
    if cluster is not None and cluster not in JOBQUEUE_CLUSTERS:
        raise ParameterError(f"cluster must be one of {', '.join(JOBQUEUE_CLUSTERS)}, got {cluster!r}")
    directory = parts_dir(store_path)
    directory.mkdir(parents=True, exist_ok=True)
    done = finished_keys(sweep, store_path)
    todo = [(sweep.key(pt), pt) for pt in sweep.points() if sweep.key(pt) not in done]
    failures = []
    bar = tqdm(total=math.prod(sweep.shape), initial=len(done), desc=sweep.name, unit="pt",
               disable=not progress or not todo)

    def finish(key, point, result):
        _write_part(directory, key, point, _check_result(point, result))
        bar.update(1)

    try:
        if todo and scheduler == SYNCHRONOUS:
            for key, point in todo:
                try:
                    result = sweep.task(dict(point))
                except Exception as exc:  # noqa: BLE001 - recorded and re-raised after the others
                    failures.append((point, exc))
                    continue
                finish(key, point, result)
        elif todo:
            from distributed import as_completed

            client, created = _client(scheduler, cluster, workers, processes)
            try:
                futures = client.map(sweep.task, [dict(pt) for _, pt in todo],
                                     key=[f"{sweep.name}-{k}" for k, _ in todo], pure=False)
                by_future = {f.key: (k, pt) for f, (k, pt) in zip(futures, todo)}
                for future in as_completed(futures):
                    key, point = by_future[future.key]
                    if future.status == "error":
                        failures.append((point, future.exception()))
                    else:
                        finish(key, point, future.result())
                    future.release()
            finally:
                client.close()
                if created is not None:
                    created.close()
    finally:
        bar.close()
    if failures:
        point, exc = failures[0]
        raise RuntimeError(f"sweep {sweep.name}: {len(failures)} of {len(todo)} points failed; "
                           f"first at {point}: {type(exc).__name__}: {exc}") from exc
    return consolidate(sweep, store_path)
