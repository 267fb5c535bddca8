"""Coulomb-gas log-determinant Φ(x, x1) = ∫ log|λ − x| dμ_{x1}(λ) (paper §5, eq. 170;
MODEL.md §5): (1/N) log E|det H(x, x1)| → Φ(x, x1), μ_{x1} the limiting spectral density of
H(0, x1) (:mod:`numerics.spectrum`).

Φ is evaluated in closed form from the branch-selected Stieltjes transforms (see
:func:`numerics.spectrum.log_potential`), one quartic solve per grid point, no quadrature.
"""

from __future__ import annotations

import numpy as np

from numerics.ensemble import sample_eigenvalues
from numerics.params import ParameterError, finite_array, integer
from numerics.spectrum import check_parameters, log_potential


def log_potential_grid(x, x1, b, b1, kappa) -> np.ndarray:
    """Φ on the outer grid of ``x`` (1-d) and ``x1`` (1-d): array of shape (len(x1), len(x))."""
    b, b1, kappa = check_parameters(b, b1, kappa)
    x = finite_array("x", x)
    x1 = finite_array("x1", x1)
    if x.ndim != 1 or x1.ndim != 1:
        raise ParameterError("x and x1 must be one-dimensional grids")
    return log_potential(x[None, :], b, b1, kappa, x1[:, None])


def mc_log_mean_abs_det(n, b, b1, kappa, x, x1, draws, seed) -> np.ndarray:
    """Monte Carlo side of eq. (176): (1/N) log mean |det H(x, x1)| over ``draws`` sampled H of
    order ``n``, for every x in the 1-d array ``x`` (one eigendecomposition per draw,
    log-sum-exp over draws, so no overflow)."""
    from scipy.special import logsumexp

    x = finite_array("x", x)
    draws = integer("draws", draws, 1)
    eig = sample_eigenvalues(n, b, b1, kappa, 0.0, x1, size=draws, seed=seed)
    log_dets = np.log(np.abs(eig[:, :, None] - x[None, None, :])).sum(axis=1)
    return (logsumexp(log_dets, axis=0) - np.log(draws)) / n
