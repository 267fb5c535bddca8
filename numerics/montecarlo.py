"""Monte Carlo over independent instances of the finite-N model (MODEL.md §1, §3 "Check").

Draw many independent coupling tensors (vectorised, seeded, in batches that bound memory),
evaluate any statistic of them, and estimate means and covariances with standard errors::

    samples = sample_statistic(model, statistic, n_instances, seed)   # Samples(values, labels)
    samples = pole_samples(model, n_instances, seed, keys=("l_g", "r_d", "r_g"))
    mom = moments(samples)                 # Moments: mean, mean_se, covariance, covariance_se
    z = z_scores(mom.covariance, mom.covariance_se, predicted)
    check = loss_covariance_check(model, n_instances, n_pairs, seed)  # kernels of MODEL.md §1

``statistic(couplings)`` returns an array with leading instance axis (I, ...) or a dict of
such arrays; it is flattened to (I, k) with one label per column (``"hess_l_g[0,1]"``).
The standard error of a covariance entry is the sample standard deviation of the centred
products (x_i - mean_i)(x_j - mean_j) over sqrt(n_instances).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from numerics.model import (
    Couplings,
    SpinGlassModel,
    loss_covariances,
    losses,
    pole_quantities,
    random_points,
    sample_couplings,
)
from numerics.params import ParameterError, integer

# Couplings drawn per batch (bytes); small enough for many engineers sharing one machine.
BATCH_BYTES = 2**25
# Elements of the product array built per block when estimating covariances.
PRODUCT_BLOCK_ELEMENTS = 2**24


@dataclass(frozen=True)
class Samples:
    """Per-instance samples (n_instances, k) with one label per column."""

    values: np.ndarray
    labels: tuple[str, ...]

    def column(self, label: str) -> np.ndarray:
        return self.values[:, self.labels.index(label)]


@dataclass(frozen=True)
class Moments:
    """Empirical mean and covariance of the columns of a :class:`Samples`, with standard errors."""

    labels: tuple[str, ...]
    n: int
    mean: np.ndarray
    mean_se: np.ndarray
    covariance: np.ndarray
    covariance_se: np.ndarray

    def index(self, label: str) -> int:
        return self.labels.index(label)

    def cov(self, a: str, b: str) -> tuple[float, float]:
        """(covariance, standard error) of columns ``a`` and ``b``."""
        i, j = self.index(a), self.index(b)
        return float(self.covariance[i, j]), float(self.covariance_se[i, j])


def _flatten(stat) -> tuple[np.ndarray, tuple[str, ...]]:
    """Flatten an array (I, ...) or a dict of them to (I, k) and column labels."""
    items = stat.items() if isinstance(stat, dict) else [("x", stat)]
    columns, labels = [], []
    for name, arr in items:
        arr = np.asarray(arr, dtype=float)
        columns.append(arr.reshape(arr.shape[0], -1))
        if arr.ndim == 1:
            labels.append(name)
        else:
            labels.extend(f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(arr.shape[1:]))
    return np.concatenate(columns, axis=1), tuple(labels)


def _seed_sequence(seed) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def default_batch_size(model: SpinGlassModel) -> int:
    """Instances per batch so that the couplings of one batch take about BATCH_BYTES."""
    return max(1, BATCH_BYTES // model.coupling_bytes(1))


def sample_statistic(
    model: SpinGlassModel,
    statistic: Callable[[Couplings], object],
    n_instances: int,
    seed=0,
    batch_size: int | None = None,
    progress: bool = False,
) -> Samples:
    """Evaluate ``statistic`` on ``n_instances`` independent instances, drawn in batches.

    Batch b uses the b-th child of ``numpy.random.SeedSequence(seed)`` (``seed`` may be a
    SeedSequence), so the result is
    determined by (seed, batch_size).
    """
    n_instances = integer("n_instances", n_instances, 2)
    batch_size = default_batch_size(model) if batch_size is None else integer("batch_size", batch_size, 1)
    n_batches = -(-n_instances // batch_size)
    children = _seed_sequence(seed).spawn(n_batches)
    blocks, labels = [], None
    iterator = range(n_batches)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="instances", unit="batch")
    for b in iterator:
        size = min(batch_size, n_instances - b * batch_size)
        values, labels = _flatten(statistic(sample_couplings(model, size, children[b])))
        blocks.append(values)
    return Samples(np.concatenate(blocks, axis=0), labels)


def pole_samples(model, n_instances, seed=0, keys=None, batch_size=None, progress=False) -> Samples:
    """Samples of :func:`numerics.model.pole_quantities` (all keys, or only ``keys``)."""

    def statistic(couplings):
        q = pole_quantities(model, couplings)
        if keys is None:
            return q
        missing = [k for k in keys if k not in q]
        if missing:
            raise ParameterError(f"keys must be among {', '.join(q)}, got {', '.join(missing)}")
        return {k: q[k] for k in keys}

    return sample_statistic(model, statistic, n_instances, seed, batch_size, progress)


def moments(samples: Samples, known_mean=None) -> Moments:
    """Means and covariances with standard errors.

    Covariances are centred at ``known_mean`` when given (e.g. 0 for the centred model),
    otherwise at the sample mean (then normalised by n - 1).
    """
    x = samples.values
    n, k = x.shape
    if n < 2:
        raise ParameterError(f"n_instances must be >= 2 for moments, got {n}")
    mean = x.mean(axis=0)
    mean_se = x.std(axis=0, ddof=1) / np.sqrt(n)
    centre = mean if known_mean is None else np.broadcast_to(np.asarray(known_mean, float), (k,))
    xc = x - centre
    norm = n - 1 if known_mean is None else n
    cov = np.empty((k, k))
    cov_se = np.empty((k, k))
    rows = max(1, PRODUCT_BLOCK_ELEMENTS // (n * k))
    for start in range(0, k, rows):
        prod = xc[:, start : start + rows, None] * xc[:, None, :]
        cov[start : start + rows] = prod.sum(axis=0) / norm
        cov_se[start : start + rows] = prod.std(axis=0, ddof=1) / np.sqrt(n)
    return Moments(samples.labels, n, mean, mean_se, cov, cov_se)


def z_scores(estimate, standard_error, predicted) -> np.ndarray:
    """(estimate - predicted) / standard_error; 0 where both the error and the SE vanish."""
    diff = np.asarray(estimate, float) - np.asarray(predicted, float)
    se = np.asarray(standard_error, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / se
    return np.where((se == 0) & (diff == 0), 0.0, z)


@dataclass(frozen=True)
class CovarianceCheck:
    """One Monte Carlo covariance entry against its predicted kernel value."""

    pair: int
    quantity: str
    overlap_d: float | None
    overlap_g: float | None
    predicted: float
    estimate: float
    standard_error: float
    z: float


# (first function, first point, second function, second point) of each checked entry.
_ENTRIES = (
    ("loss_d", 0, "loss_d", 0),
    ("loss_g", 0, "loss_g", 0),
    ("loss_d", 0, "loss_g", 0),
    ("loss_d", 0, "loss_d", 1),
    ("loss_g", 0, "loss_g", 1),
    ("loss_d", 0, "loss_g", 1),
    ("loss_g", 0, "loss_d", 1),
)


def loss_covariance_check(
    model: SpinGlassModel, n_instances: int, n_pairs: int = 3, seed=0, batch_size=None, progress=False
) -> list[CovarianceCheck]:
    """Covariances of L_D, L_G at random pairs of points vs the kernels of MODEL.md §1.

    ``n_pairs`` pairs of independent uniform points (fixed by ``seed``) are shared by all
    instances; for each pair the variances, cross covariances and covariances between the
    two points are estimated (centred at the sample mean) and compared with
    :func:`numerics.model.loss_covariances`. Means (predicted 0) are reported as entries
    ``mean loss_d`` / ``mean loss_g`` of the first point.
    """
    n_pairs = integer("n_pairs", n_pairs, 1)
    seeds = _seed_sequence(seed).spawn(2)
    w_d, w_g = random_points(model, (n_pairs, 2), seeds[0])

    def statistic(couplings):
        v = losses(model, couplings, w_d, w_g)
        return {"loss_d": v.loss_d, "loss_g": v.loss_g}

    mom = moments(sample_statistic(model, statistic, n_instances, seeds[1], batch_size, progress))
    checks = []
    for pair in range(n_pairs):
        m0 = [mom.index(f"{f}[{pair},0]") for f in ("loss_d", "loss_g")]
        for f, i in zip(("loss_d", "loss_g"), m0):
            checks.append(
                CovarianceCheck(pair, f"mean {f}", None, None, 0.0, float(mom.mean[i]),
                                float(mom.mean_se[i]), float(z_scores(mom.mean[i], mom.mean_se[i], 0.0)))
            )
        for fa, pa, fb, pb in _ENTRIES:
            qd = float(w_d[pair, pa] @ w_d[pair, pb])
            qg = float(w_g[pair, pa] @ w_g[pair, pb])
            kernels = loss_covariances(model, qd, qg)
            key = f"{fa},{fb}" if f"{fa},{fb}" in kernels else f"{fb},{fa}"
            predicted = float(kernels[key])
            est, se = mom.cov(f"{fa}[{pair},{pa}]", f"{fb}[{pair},{pb}]")
            name = f"{fa}(w{pa}) {fb}(w{pb})"
            checks.append(CovarianceCheck(pair, name, qd, qg, predicted, est, se,
                                          float(z_scores(est, se, predicted))))
    return checks
