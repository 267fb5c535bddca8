"""One DCGAN training run as in the PyTorch DCGAN tutorial (paper §6.2; MODEL.md §7).

Per iteration: the discriminator takes one Adam step on BCE(D(real), 1) + BCE(D(G(z)), 0),
then the generator one on BCE(D(G(z)), 1) with the same fake batch; both losses are recorded
(L_D = real + fake BCE, L_G). Everything random is drawn from generators seeded by the run's
seed (weights, latent noise, batch order), so a run is a function of its configuration, and
a checkpoint stores every piece of state, so an interrupted run resumes to identical curves.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from gan.data import ImageSet
from gan.models import ArchConfig, Discriminator, Generator, init_weights, latent_scale, sample_latent

SAMPLE_GRID_SIZE = 64


@dataclass(frozen=True)
class TrainConfig:
    """One run. ``iterations`` wins over ``epochs`` when both are given; defaults are the paper's."""

    arch: ArchConfig = field(default_factory=ArchConfig)
    sigma_z: float = 1.0
    seed: int = 0
    epochs: float = 10.0
    iterations: int | None = None
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    checkpoint_every: int = 200

    def __post_init__(self):
        if not self.sigma_z > 0 or not np.isfinite(self.sigma_z):
            raise ValueError(f"sigma_z must be > 0, got {self.sigma_z!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if self.iterations is not None and self.iterations < 1:
            raise ValueError(f"iterations must be an integer >= 1, got {self.iterations!r}")
        if self.iterations is None and not self.epochs > 0:
            raise ValueError(f"epochs must be > 0, got {self.epochs!r}")
        if self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be an integer >= 1, got {self.checkpoint_every!r}")

    def batches_per_epoch(self, n_images: int) -> int:
        if n_images < self.batch_size:
            raise ValueError(f"batch_size {self.batch_size} exceeds the {n_images} training images")
        return n_images // self.batch_size

    def total_iterations(self, n_images: int) -> int:
        if self.iterations is not None:
            return int(self.iterations)
        return max(1, int(round(self.epochs * self.batches_per_epoch(n_images))))


@dataclass
class TrainResult:
    loss_d: np.ndarray
    loss_g: np.ndarray
    samples: np.ndarray
    """Sample grid of G(fixed noise) at the end of training, uint8 (height, width, channels)."""


def select_device(device: str | None = None) -> torch.device:
    """The requested device, else CUDA when present, else the CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _epoch_order(seed: int, epoch: int, n_images: int) -> torch.Tensor:
    """Batch order of one epoch, a function of (seed, epoch) alone, so resuming needs no state."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch + 1)
    return torch.randperm(n_images, generator=g)


def _config_dict(config: TrainConfig) -> dict:
    return dataclasses.asdict(config)


def _save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train(
    config: TrainConfig,
    data: ImageSet,
    device: str | None = None,
    checkpoint: Path | None = None,
    callback: Callable[[int, float, float], None] | None = None,
) -> TrainResult:
    """Train D and G on ``data``; return the per-iteration losses and a final sample grid.

    With ``checkpoint``, the full state is written there every ``config.checkpoint_every``
    iterations and at the end (atomically), and an existing checkpoint of the same
    configuration is resumed. ``callback(iteration, loss_d, loss_g)`` runs after each step."""
    arch = config.arch
    if data.channels != arch.channels or data.image_size != arch.image_size:
        raise ValueError(
            f"data are {data.channels}×{data.image_size}² images but the nets expect "
            f"{arch.channels}×{arch.image_size}²")
    dev = select_device(device)
    n_images = len(data)
    per_epoch = config.batches_per_epoch(n_images)
    total = config.total_iterations(n_images)
    scale = latent_scale(config.sigma_z, data.pixel_std)

    init_gen = torch.Generator().manual_seed(config.seed)
    net_d, net_g = Discriminator(arch), Generator(arch)
    init_weights(net_d, init_gen)
    init_weights(net_g, init_gen)
    net_d.to(dev)
    net_g.to(dev)
    opt_d = torch.optim.Adam(net_d.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    noise_gen = torch.Generator().manual_seed(config.seed + 7919)
    fixed_noise = sample_latent(SAMPLE_GRID_SIZE, arch, scale, torch.Generator().manual_seed(config.seed + 104729))
    loss_d = np.full(total, np.nan)
    loss_g = np.full(total, np.nan)
    start = 0

    checkpoint = Path(checkpoint) if checkpoint is not None else None
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location=dev, weights_only=False)
        if state["config"] != _config_dict(config) or state["pixel_std"] != data.pixel_std:
            raise ValueError(f"checkpoint {checkpoint} belongs to a different run configuration")
        net_d.load_state_dict(state["net_d"])
        net_g.load_state_dict(state["net_g"])
        opt_d.load_state_dict(state["opt_d"])
        opt_g.load_state_dict(state["opt_g"])
        noise_gen.set_state(state["noise_gen"])
        start = int(state["iteration"])
        loss_d[:start] = state["loss_d"][:start]
        loss_g[:start] = state["loss_g"][:start]

    def save(iteration: int) -> None:
        _save_checkpoint(checkpoint, {
            "config": _config_dict(config), "pixel_std": data.pixel_std, "iteration": iteration,
            "net_d": net_d.state_dict(), "net_g": net_g.state_dict(),
            "opt_d": opt_d.state_dict(), "opt_g": opt_g.state_dict(),
            "noise_gen": noise_gen.get_state(), "loss_d": loss_d.copy(), "loss_g": loss_g.copy(),
        })

    net_d.train()
    net_g.train()
    order = None
    for it in range(start, total):
        epoch, j = divmod(it, per_epoch)
        if order is None or j == 0:
            order = _epoch_order(config.seed, epoch, n_images)
        real = data.batch(order[j * config.batch_size:(j + 1) * config.batch_size]).to(dev)

        fake = net_g(sample_latent(config.batch_size, arch, scale, noise_gen).to(dev))
        loss_d[it] = discriminator_step(net_d, opt_d, real, fake)
        loss_g[it] = generator_step(net_g, net_d, opt_g, fake)
        if checkpoint is not None and (it + 1) % config.checkpoint_every == 0 and it + 1 < total:
            save(it + 1)
        if callback is not None:
            callback(it, loss_d[it], loss_g[it])

    if checkpoint is not None:
        save(total)
    return TrainResult(loss_d, loss_g, sample_grid(net_g, fixed_noise.to(dev)))


def discriminator_step(net_d: Discriminator, opt_d: torch.optim.Optimizer, real: torch.Tensor,
                       fake: torch.Tensor) -> float:
    """One Adam step of D on BCE(D(real), 1) + BCE(D(fake), 0); returns that loss (L_D) as it
    was before the step. ``fake`` is detached: the generator is not touched."""
    net_d.zero_grad()
    err_real = F.binary_cross_entropy(net_d(real), torch.ones(len(real), device=real.device))
    err_real.backward()
    err_fake = F.binary_cross_entropy(net_d(fake.detach()), torch.zeros(len(fake), device=fake.device))
    err_fake.backward()
    opt_d.step()
    return err_real.item() + err_fake.item()


def generator_step(net_g: Generator, net_d: Discriminator, opt_g: torch.optim.Optimizer,
                   fake: torch.Tensor) -> float:
    """One Adam step of G on BCE(D(fake), 1), with the fake batch D was just trained on (as in
    the tutorial); returns L_G before the step."""
    net_g.zero_grad()
    err_g = F.binary_cross_entropy(net_d(fake), torch.ones(len(fake), device=fake.device))
    err_g.backward()
    opt_g.step()
    return err_g.item()


@torch.no_grad()
def sample_grid(net_g: Generator, noise: torch.Tensor) -> np.ndarray:
    """G(noise) tiled into one uint8 image (height, width, channels), pixels mapped from [−1, 1]."""
    from torchvision.utils import make_grid

    was_training = net_g.training
    net_g.eval()
    fake = net_g(noise).cpu()
    net_g.train(was_training)
    grid = make_grid(fake, nrow=int(np.ceil(np.sqrt(len(fake)))), padding=1, normalize=True,
                     value_range=(-1, 1))
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
