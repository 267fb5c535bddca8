"""The DCGAN of the paper's experiments (§6.2; MODEL.md §7): the PyTorch DCGAN tutorial nets.

Both nets have five convolutional layers. At the tutorial's 64×64 size every inner layer
changes the resolution by a factor 2 (4 → 8 → 16 → 32 → 64). Smaller images (16×16 or 32×32,
for CPU runs) keep all five layers: the surplus inner layers become size-preserving 3×3
convolutions at the lowest resolution, so the depth and the width schedule
(8, 4, 2, 1) × width are those of the paper at every image size.

Widths come from κ as in the paper: ``ndf = ⌊total_width·κ⌋``, ``ngf = total_width − ndf``
(total_width = 128 in the paper). The generator's latent is scaled by ``σ_z / s_data``
(:meth:`Generator.latent`), so that σ_z is the noise scale relative to the data's pixel std.

MODEL.md §7 Check: the tutorial generator puts BatchNorm right after its first layer, which
removes the scale of z except where the activation variance approaches BatchNorm's eps;
``first_batchnorm`` and ``bn_eps`` expose both knobs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

N_LAYERS = 5
WIDTH_MULTIPLIERS = (8, 4, 2, 1)


@dataclass(frozen=True)
class ArchConfig:
    """Architecture of the pair (D, G). Defaults are the paper's (tutorial) values."""

    kappa: float = 0.9
    total_width: int = 128
    image_size: int = 64
    channels: int = 3
    latent_dim: int = 100
    first_batchnorm: bool = True
    bn_eps: float = 1e-5

    def __post_init__(self):
        if not 0.0 < self.kappa < 1.0:
            raise ValueError(f"kappa must lie in the open interval (0, 1), got {self.kappa!r}")
        if self.image_size not in (8, 16, 32, 64):
            raise ValueError(f"image_size must be one of 8, 16, 32, 64, got {self.image_size!r}")
        for name in ("channels", "latent_dim", "total_width"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if not self.bn_eps > 0:
            raise ValueError(f"bn_eps must be > 0, got {self.bn_eps!r}")
        if self.ndf < 1 or self.ngf < 1:
            raise ValueError(
                f"kappa={self.kappa} with total_width={self.total_width} leaves ndf={self.ndf}, "
                f"ngf={self.ngf}; both must be >= 1")

    @property
    def ndf(self) -> int:
        """Discriminator width ⌊total_width·κ⌋ (MODEL.md §7)."""
        return math.floor(self.total_width * self.kappa)

    @property
    def ngf(self) -> int:
        """Generator width total_width − ndf."""
        return self.total_width - self.ndf

    @property
    def upsampling_layers(self) -> int:
        """Inner layers that double the resolution (4 → image_size)."""
        return int(math.log2(self.image_size // 4))


class Generator(nn.Module):
    """Tutorial generator: ConvT(nz → 8ngf, 4×4) BN ReLU, three inner ConvT+BN+ReLU, ConvT → Tanh."""

    def __init__(self, config: ArchConfig):
        super().__init__()
        self.config = config
        widths = [m * config.ngf for m in WIDTH_MULTIPLIERS]
        last_changes = config.upsampling_layers >= 1
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.latent_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0], eps=config.bn_eps) if config.first_batchnorm else nn.Identity(),
            nn.ReLU(True),
        ]
        n_inner_up = config.upsampling_layers - 1 if last_changes else 0
        kinds = [False] * (N_LAYERS - 2 - n_inner_up) + [True] * n_inner_up
        for w_in, w_out, up in zip(widths[:-1], widths[1:], kinds):
            layers += [
                nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False) if up
                else nn.ConvTranspose2d(w_in, w_out, 3, 1, 1, bias=False),
                nn.BatchNorm2d(w_out, eps=config.bn_eps),
                nn.ReLU(True),
            ]
        layers += [
            nn.ConvTranspose2d(widths[-1], config.channels, 4, 2, 1, bias=False) if last_changes
            else nn.ConvTranspose2d(widths[-1], config.channels, 3, 1, 1, bias=False),
            nn.Tanh(),
        ]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    """Tutorial discriminator: Conv LeakyReLU, three inner Conv+BN+LeakyReLU, Conv(4×4) → Sigmoid."""

    def __init__(self, config: ArchConfig):
        super().__init__()
        self.config = config
        widths = [m * config.ndf for m in reversed(WIDTH_MULTIPLIERS)]
        first_changes = config.upsampling_layers >= 1
        n_inner_down = config.upsampling_layers - 1 if first_changes else 0
        kinds = [True] * n_inner_down + [False] * (N_LAYERS - 2 - n_inner_down)
        layers: list[nn.Module] = [
            nn.Conv2d(config.channels, widths[0], 4, 2, 1, bias=False) if first_changes
            else nn.Conv2d(config.channels, widths[0], 3, 1, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for w_in, w_out, down in zip(widths[:-1], widths[1:], kinds):
            layers += [
                nn.Conv2d(w_in, w_out, 4, 2, 1, bias=False) if down
                else nn.Conv2d(w_in, w_out, 3, 1, 1, bias=False),
                nn.BatchNorm2d(w_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)


def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """The tutorial's initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), bias 0.

    A dedicated ``generator`` makes the initial weights a function of the run's seed alone."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)


def latent_scale(sigma_z: float, pixel_std: float) -> float:
    """Standard deviation of the generator's latent: σ_z / s_data (MODEL.md §7)."""
    return sigma_z / pixel_std


def sample_latent(batch: int, config: ArchConfig, scale: float, generator: torch.Generator) -> torch.Tensor:
    """Latent batch z ~ N(0, scale²) of shape (batch, latent_dim, 1, 1), drawn on the CPU so
    that the noise stream does not depend on the device."""
    return scale * torch.randn(batch, config.latent_dim, 1, 1, generator=generator)
