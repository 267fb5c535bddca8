"""Training images for the DCGAN experiments (paper §6.2; MODEL.md §7).

Every dataset is returned as an :class:`ImageSet`: the images at their native resolution as a
float32 tensor (n, channels, h, w) normalised to [−1, 1] like the tutorial's
``Normalize(0.5, 0.5)``, the training resolution ``image_size`` (batches are resized on the fly,
as the tutorial's ``Resize`` does, so 64×64 CIFAR-10 takes 0.6 GB rather than 2.5 GB), and the
pixel standard deviation ``s_data`` (the generator's latent is scaled by σ_z / s_data).
Nothing is ever downloaded:

- ``cifar10``: the standard CIFAR-10 python batches in a local folder given by the user;
- ``digits``: scikit-learn's 1,797 handwritten 8×8 digits (ship with scikit-learn), upscaled;
- ``synthetic``: a tiny seeded set of blob images, for unit tests only.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")
CIFAR10_FOLDER = "cifar-10-batches-py"
DATASETS = ("cifar10", "digits", "synthetic")


@dataclass(frozen=True)
class ImageSet:
    name: str
    images: torch.Tensor
    image_size: int

    @functools.cached_property
    def pixel_std(self) -> float:
        """s_data: the standard deviation of all normalised training pixels, at the training
        resolution (MODEL.md §7); accumulated in chunks so that no resized copy is held."""
        total = total_sq = 0.0
        count = 0
        for start in range(0, len(self), 1024):
            chunk = self.batch(torch.arange(start, min(start + 1024, len(self)))).double()
            total += float(chunk.sum())
            total_sq += float((chunk * chunk).sum())
            count += chunk.numel()
        mean = total / count
        return float(np.sqrt(max(total_sq / count - mean * mean, 0.0) * count / (count - 1)))

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        """Images ``index`` at the training resolution (bilinear, antialiased when shrinking)."""
        images = self.images[index]
        if images.shape[-1] == self.image_size and images.shape[-2] == self.image_size:
            return images
        return F.interpolate(images, size=(self.image_size, self.image_size), mode="bilinear",
                             align_corners=False, antialias=images.shape[-1] > self.image_size).clamp(-1.0, 1.0)


def _unit_to_symmetric(images: torch.Tensor) -> torch.Tensor:
    """Map pixel values in [0, 1] to [−1, 1]."""
    return (images.clamp(0.0, 1.0) * 2.0 - 1.0).contiguous()


def cifar10_folder(data_dir: Path) -> Path:
    """The folder holding the CIFAR-10 python batches: ``data_dir`` itself or its
    ``cifar-10-batches-py`` subfolder. Raises FileNotFoundError naming the expected files."""
    data_dir = Path(data_dir)
    for folder in (data_dir, data_dir / CIFAR10_FOLDER):
        if all((folder / name).is_file() for name in CIFAR10_FILES):
            return folder
    raise FileNotFoundError(
        f"CIFAR-10 python batches not found in {data_dir} (nor in {data_dir / CIFAR10_FOLDER}): "
        f"expected files {', '.join(CIFAR10_FILES)}; nothing is downloaded, fetch "
        f"cifar-10-python.tar.gz yourself and pass its extracted folder as --data-dir")


def load_cifar10(data_dir: Path, image_size: int = 64) -> ImageSet:
    """The 50,000 CIFAR-10 training images (data_batch_1..5), 3 channels, resized to
    ``image_size`` as the tutorial's ``Resize`` does."""
    folder = cifar10_folder(data_dir)
    arrays = []
    for name in CIFAR10_FILES[:5]:
        with open(folder / name, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        arrays.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
    images = torch.from_numpy(np.concatenate(arrays)).float() / 255.0
    return ImageSet("cifar10", _unit_to_symmetric(images), image_size)


def load_digits(image_size: int = 16) -> ImageSet:
    """scikit-learn's handwritten digits (1,797 grayscale 8×8, levels 0..16), upscaled."""
    from sklearn.datasets import load_digits as sklearn_digits

    images = torch.from_numpy(sklearn_digits().images.astype(np.float32) / 16.0).unsqueeze(1)
    return ImageSet("digits", _unit_to_symmetric(images), image_size)


def load_synthetic(image_size: int = 16, n: int = 64, channels: int = 1, seed: int = 0) -> ImageSet:
    """A tiny seeded set of Gaussian blobs at random positions, for unit tests only."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(n, 2, generator=g) * 0.6 + 0.2
    widths = torch.rand(n, 1, 1, generator=g) * 0.1 + 0.08
    grid = (torch.arange(image_size, dtype=torch.float32) + 0.5) / image_size
    dy = (grid.view(1, -1, 1) - centres[:, 0].view(-1, 1, 1)) ** 2
    dx = (grid.view(1, 1, -1) - centres[:, 1].view(-1, 1, 1)) ** 2
    blobs = torch.exp(-(dx + dy) / (2 * widths**2))
    return ImageSet("synthetic", _unit_to_symmetric(blobs.unsqueeze(1).repeat(1, channels, 1, 1)), image_size)


def load_images(name: str, image_size: int, data_dir: Path | None = None) -> ImageSet:
    """Dispatch on the dataset name (one of :data:`DATASETS`)."""
    if name == "cifar10":
        if data_dir is None:
            raise FileNotFoundError(
                f"CIFAR-10 needs a local folder (--data-dir) holding {', '.join(CIFAR10_FILES)}; "
                f"nothing is downloaded")
        return load_cifar10(data_dir, image_size)
    if name == "digits":
        return load_digits(image_size)
    if name == "synthetic":
        return load_synthetic(image_size)
    raise ValueError(f"data must be one of {', '.join(DATASETS)}, got {name!r}")
