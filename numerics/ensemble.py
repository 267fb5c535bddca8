"""Sampler of the Hessian ensemble H(x, x1) (paper eqs 96, 114; MODEL.md §3-§4).

    H(x, x1) = b·M + b1·diag(M1, 0) − x·I_N − x1·diag(I_{N_D}, 0),

M ~ GOE_N and M1 ~ GOE_{N_D} independent, N_D = ⌊κN⌋, the upper-left block the
discriminator's. GOE_n normalisation (numerics/constants.py, MODEL.md preamble): off-diagonal
variance 1/(2n), diagonal variance 1/n, each matrix normalised by its own size n, so the
semicircle of GOE_n lives on [−√2, √2].
"""

from __future__ import annotations

import math

import numpy as np

from numerics.params import ParameterError, finite, integer, nonnegative, positive, unit_interval


def discriminator_size(n: int, kappa: float) -> int:
    """N_D = ⌊κN⌋ (MODEL.md notation), robust to κN landing just below an integer in floating
    point (0.29 * 100 = 28.999999999999996)."""
    return int(math.floor(kappa * n + 1e-9))


def goe(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` independent GOE_n matrices, shape (size, n, n): off-diagonal variance 1/(2n),
    diagonal variance 1/n."""
    a = rng.standard_normal((size, n, n)) / math.sqrt(n)
    return (a + a.transpose(0, 2, 1)) / 2.0


def sample_hessians(n: int, b: float, b1: float, kappa: float, x: float = 0.0, x1: float = 0.0,
                    size: int = 1, seed=None) -> np.ndarray:
    """``size`` independent draws of H(x, x1) of order ``n``, shape (size, n, n).

    ``seed`` is anything :func:`numpy.random.default_rng` accepts (int, SeedSequence,
    Generator); the same seed gives the same matrices.
    """
    n = integer("n", n, 2)
    size = integer("size", size, 1)
    b = positive("b", b)
    b1 = nonnegative("b1", b1)
    kappa = unit_interval("kappa", kappa)
    x = finite("x", x)
    x1 = finite("x1", x1)
    n_d = discriminator_size(n, kappa)
    if not 1 <= n_d < n:
        raise ParameterError(f"n = {n} too small for kappa = {kappa}: need 1 <= floor(kappa*n) < n")
    rng = np.random.default_rng(seed)
    h = b * goe(n, size, rng)
    h[:, :n_d, :n_d] += b1 * goe(n_d, size, rng)
    diag = np.full(n, -x)
    diag[:n_d] -= x1
    h[:, np.arange(n), np.arange(n)] += diag
    return h


def sample_eigenvalues(n: int, b: float, b1: float, kappa: float, x: float = 0.0, x1: float = 0.0,
                       size: int = 1, seed=None) -> np.ndarray:
    """Sorted eigenvalues of ``size`` draws of H(x, x1), shape (size, n)."""
    return np.linalg.eigvalsh(sample_hessians(n, b, b1, kappa, x, x1, size, seed))
