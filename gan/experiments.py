"""The σ_z and κ experiments of the paper's §6.2 (Figures 8–9; MODEL.md §7) on the shared sweep runner.

Each experiment is a :class:`ganspin.sweeps.Sweep` over (swept value, repetition); a point is
one DCGAN run (:func:`gan.train.train`) whose task returns the per-iteration loss curves and
their summaries:

- ``min_loss_*``: the raw per-iteration minimum (the paper's statistic);
- ``smooth_min_loss_*``: the minimum of the rolling mean over ``smooth_window`` iterations,
  which is not dominated by single-batch spikes;
- ``final_loss_*``: the mean over the last ``tail_fraction`` of training (end-of-training loss).

:func:`summarise` aggregates as the paper does (mean over repetitions, then a rolling mean over
5 neighbouring swept values) and adds standard errors over repetitions. Repetition r uses seed
``seed + r`` at every swept value (common random numbers), so differences between swept values
are not masked by seed-to-seed noise.

Profiles (:data:`PROFILES`) hold every default: ``paper`` is the published protocol (64×64
CIFAR-10, widths 128, batch 128, 10 epochs, 60 σ_z × 30 repetitions); ``quick`` runs on a
small CPU (16×16 digits, total width 16, batch 32, 200 iterations, 8 σ_z × 3 repetitions).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganspin.sweeps import Sweep, run_sweep

SAMPLE_IMAGES = 16
PAPER_SMOOTHING = 5  # rolling mean over 5 neighbouring swept values (paper §6.2)


@dataclass(frozen=True)
class Profile:
    """Run sizes of one profile; the only place where experiment defaults live."""

    name: str
    data: str
    image_size: int
    total_width: int
    latent_dim: int
    batch_size: int
    epochs: float
    iterations: int | None
    sigma_points: int
    kappa_points: int
    reps: int
    smooth_window: int
    kappa_range: tuple[float, float]
    tail_fraction: float = 0.1
    checkpoint_every: int = 200


PROFILES: dict[str, Profile] = {
    "quick": Profile("quick", data="digits", image_size=16, total_width=16, latent_dim=100,
                     batch_size=32, epochs=0.0, iterations=200, sigma_points=8, kappa_points=8,
                     reps=3, smooth_window=20, kappa_range=(0.1, 0.9), checkpoint_every=100),
    "paper": Profile("paper", data="cifar10", image_size=64, total_width=128, latent_dim=100,
                     batch_size=128, epochs=10.0, iterations=None, sigma_points=60, kappa_points=50,
                     reps=30, smooth_window=50, kappa_range=(0.05, 0.95), checkpoint_every=200),
}

DATA_CHANNELS = {"cifar10": 3, "digits": 1, "synthetic": 1}


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {name!r}")
    return PROFILES[name]


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs besides (σ_z, κ, seed): profile sizes, data and the generator
    variant of the MODEL.md §7 Check (first BatchNorm on/off, BatchNorm eps)."""

    profile: str = "quick"
    data: str | None = None
    iterations: int | None = None
    total_width: int | None = None
    first_batchnorm: bool = True
    bn_eps: float = 1e-5
    seed: int = 0

    def __post_init__(self):
        prof = profile(self.profile)
        if self.data is None:
            object.__setattr__(self, "data", prof.data)
        if self.data not in DATA_CHANNELS:
            raise ValueError(f"data must be one of {', '.join(DATA_CHANNELS)}, got {self.data!r}")
        if self.iterations is None:
            object.__setattr__(self, "iterations", prof.iterations)
        if self.total_width is None:
            object.__setattr__(self, "total_width", prof.total_width)

    def train_config(self, sigma_z: float, kappa: float, rep: int):
        from gan.models import ArchConfig
        from gan.train import TrainConfig

        prof = profile(self.profile)
        arch = ArchConfig(kappa=kappa, total_width=self.total_width, image_size=prof.image_size,
                          channels=DATA_CHANNELS[self.data], latent_dim=prof.latent_dim,
                          first_batchnorm=self.first_batchnorm, bn_eps=self.bn_eps)
        return TrainConfig(arch=arch, sigma_z=sigma_z, seed=self.seed + rep, epochs=prof.epochs,
                           iterations=self.iterations, batch_size=prof.batch_size,
                           checkpoint_every=prof.checkpoint_every)


@dataclass(frozen=True)
class SigmaSweepConfig:
    """Figure 8: σ_z over logspace(−5, 2) at fixed κ (paper: 60 values, κ = 0.9)."""

    run: RunSettings = field(default_factory=RunSettings)
    points: int | None = None
    reps: int | None = None
    kappa: float = 0.9
    sigma_min_log10: float = -5.0
    sigma_max_log10: float = 2.0

    @property
    def swept(self) -> str:
        return "sigma_z"

    def values(self) -> list[float]:
        n = self.points or profile(self.run.profile).sigma_points
        return np.logspace(self.sigma_min_log10, self.sigma_max_log10, n).tolist()

    def fixed(self) -> dict:
        return {"kappa": self.kappa}


@dataclass(frozen=True)
class KappaSweepConfig:
    """Figure 9: κ over linspace(κ_min, κ_max) at fixed σ_z (paper: 50 values in [0.05, 0.95],
    σ_z = 1; the quick profile's total width 16 needs κ in [1/16, 15/16], so it uses [0.1, 0.9])."""

    run: RunSettings = field(default_factory=RunSettings)
    points: int | None = None
    reps: int | None = None
    sigma_z: float = 1.0
    kappa_min: float | None = None
    kappa_max: float | None = None

    @property
    def swept(self) -> str:
        return "kappa"

    def values(self) -> list[float]:
        prof = profile(self.run.profile)
        lo = prof.kappa_range[0] if self.kappa_min is None else self.kappa_min
        hi = prof.kappa_range[1] if self.kappa_max is None else self.kappa_max
        return np.linspace(lo, hi, self.points or prof.kappa_points).tolist()

    def fixed(self) -> dict:
        return {"sigma_z": self.sigma_z}


ExperimentConfig = SigmaSweepConfig | KappaSweepConfig


@functools.lru_cache(maxsize=4)
def _images(data: str, image_size: int, data_dir: str | None):
    from gan.data import load_images

    return load_images(data, image_size, Path(data_dir) if data_dir else None)


def loss_summaries(loss: np.ndarray, smooth_window: int, tail_fraction: float) -> dict[str, float]:
    """Raw minimum, minimum of the rolling mean over ``smooth_window`` iterations, and the mean
    over the last ``tail_fraction`` of the run."""
    loss = np.asarray(loss, dtype=float)
    window = max(1, min(smooth_window, loss.size))
    rolling = np.convolve(loss, np.ones(window) / window, mode="valid")
    tail = max(1, int(round(tail_fraction * loss.size)))
    return {"min": float(loss.min()), "smooth_min": float(rolling.min()), "final": float(loss[-tail:].mean())}


@dataclass(frozen=True)
class GanTask:
    """The pure sweep task: one training run at a grid point (picklable for Dask workers).

    ``checkpoint_dir`` (optional) holds per-run checkpoints so that a killed long run resumes
    mid-training; a run's checkpoint is removed once its result is returned."""

    experiment: ExperimentConfig
    data_dir: str | None = None
    checkpoint_dir: str | None = None
    device: str | None = None
    threads: int = 1

    def __call__(self, point: dict) -> dict:
        import torch

        from gan.train import train

        torch.set_num_threads(self.threads)
        values = {**self.experiment.fixed(), **point}
        settings = self.experiment.run
        config = settings.train_config(values["sigma_z"], values["kappa"], int(values["rep"]))
        prof = profile(settings.profile)
        images = _images(settings.data, prof.image_size, self.data_dir)
        checkpoint = None
        if self.checkpoint_dir is not None:
            digest = hashlib.sha256(json.dumps(dataclasses.asdict(config), sort_keys=True).encode())
            checkpoint = Path(self.checkpoint_dir) / f"run-{digest.hexdigest()[:20]}.pt"
        result = train(config, images, device=self.device, checkpoint=checkpoint)
        out = {"loss_d": result.loss_d, "loss_g": result.loss_g,
               "samples": result.samples[:sample_grid_side(prof.image_size), :sample_grid_side(prof.image_size),
                                         :DATA_CHANNELS[settings.data]].ravel()}
        for net, curve in (("d", result.loss_d), ("g", result.loss_g)):
            for stat, value in loss_summaries(curve, prof.smooth_window, prof.tail_fraction).items():
                out[f"{stat}_loss_{net}"] = value
        if checkpoint is not None:
            checkpoint.unlink(missing_ok=True)
        return out


def sample_grid_side(image_size: int) -> int:
    """Side of the stored sample grid: the first √SAMPLE_IMAGES rows and columns of G's grid."""
    return int(np.sqrt(SAMPLE_IMAGES)) * (image_size + 1) + 1


def build_sweep(experiment: ExperimentConfig, data_dir: Path | None = None,
                checkpoint_dir: Path | None = None, device: str | None = None) -> Sweep:
    """The :class:`Sweep` of ``experiment``: grid (swept value × rep), config recorded in the store."""
    reps = experiment.reps or profile(experiment.run.profile).reps
    if reps < 1:
        raise ValueError(f"reps must be an integer >= 1, got {reps!r}")
    if experiment.run.data == "cifar10":
        from gan.data import cifar10_folder

        if data_dir is None:
            raise FileNotFoundError("--data cifar10 needs --data-dir, a local folder with the CIFAR-10 python batches")
        cifar10_folder(data_dir)
    prof = profile(experiment.run.profile)
    run = dataclasses.asdict(experiment.run)
    config = {"experiment": experiment.swept, **experiment.fixed(), **run,
              **{k: v for k, v in dataclasses.asdict(prof).items() if k not in run and k != "name"},
              "channels": DATA_CHANNELS[experiment.run.data]}
    task = GanTask(experiment, str(data_dir) if data_dir else None,
                   str(checkpoint_dir) if checkpoint_dir else None, device)
    return Sweep(name=f"gan-{experiment.swept}",
                 coords={experiment.swept: experiment.values(), "rep": list(range(reps))},
                 task=task, config=config,
                 dims={"loss_d": "iteration", "loss_g": "iteration", "samples": "sample_pixel"},
                 check=functools.partial(_check_point, experiment))


def _check_point(experiment: ExperimentConfig, point: dict) -> None:
    """Build the run's configuration, so that e.g. a κ too extreme for the width fails before any work."""
    values = {**experiment.fixed(), **point}
    experiment.run.train_config(values["sigma_z"], values["kappa"], int(values["rep"]))


def run_experiment(experiment: ExperimentConfig, store: Path, data_dir: Path | None = None,
                   scheduler: str | None = None, workers: int | None = None, device: str | None = None,
                   progress: bool = True, cluster: str | None = None):
    """Run (or resume) ``experiment`` into the netCDF ``store``; return the xarray Dataset."""
    store = Path(store)
    checkpoints = store.with_name(store.name + ".checkpoints")
    sweep = build_sweep(experiment, data_dir, checkpoints, device)
    ds = run_sweep(sweep, store, scheduler=scheduler, cluster=cluster, workers=workers, progress=progress)
    if checkpoints.is_dir() and not any(checkpoints.iterdir()):
        checkpoints.rmdir()
    return ds


def summarise(ds, window: int = PAPER_SMOOTHING):
    """Per swept value: mean and standard error over repetitions of every summary statistic
    (and of the iteration where each raw minimum occurs), and the paper's rolling mean over
    ``window`` neighbouring swept values of each mean."""
    import xarray as xr

    swept = ds.attrs.get("config_experiment") or next(d for d in ds.dims if d in ("sigma_z", "kappa"))
    reps = ds.sizes["rep"]
    # Where the raw minimum sits: at iteration 0 it is the loss at initialisation, not a trained one.
    per_run = {name: ds[name] for name in ds.data_vars}
    for net in ("d", "g"):
        per_run[f"argmin_iteration_{net}"] = ds[f"loss_{net}"].argmin("iteration")
    out = {}
    for name, values in per_run.items():
        if values.dims != (swept, "rep") or not np.issubdtype(values.dtype, np.number):
            continue
        values = values.astype(float)
        mean = values.mean("rep")
        out[f"{name}_mean"] = mean
        out[f"{name}_sem"] = values.std("rep", ddof=1) / np.sqrt(reps) if reps > 1 else mean * np.nan
        out[f"{name}_rolling"] = mean.rolling({swept: window}, center=True, min_periods=1).mean()
    return xr.Dataset(out, attrs={**ds.attrs, "repetitions": reps})


def sample_image(ds, **selection) -> np.ndarray:
    """The stored sample grid of one run (select with e.g. ``sigma_z=..., rep=0``) as an
    (height, width, channels) uint8 image."""
    side = sample_grid_side(int(ds.attrs["config_image_size"]))
    flat = np.asarray(ds["samples"].sel(**selection, method="nearest"))
    return flat.astype(np.uint8).reshape(side, side, int(ds.attrs["config_channels"]))
