"""The sampler of H(x, x1) (numerics/ensemble.py): entry law, block structure, seeding."""

import numpy as np
import pytest

from numerics.ensemble import discriminator_size, sample_eigenvalues, sample_hessians
from numerics.params import ParameterError

B, B1, KAPPA = 1.3, 0.7, 0.75


def test_shape_symmetry_and_seed():
    h = sample_hessians(40, B, B1, KAPPA, x=0.3, x1=-1.2, size=3, seed=5)
    assert h.shape == (3, 40, 40)
    np.testing.assert_array_equal(h, h.transpose(0, 2, 1))
    np.testing.assert_array_equal(h, sample_hessians(40, B, B1, KAPPA, 0.3, -1.2, 3, seed=5))
    assert not np.array_equal(h, sample_hessians(40, B, B1, KAPPA, 0.3, -1.2, 3, seed=6))


def test_discriminator_size_is_floor_kappa_n():
    assert discriminator_size(100, 0.29) == 29  # 0.29 * 100 = 28.999999999999996 in floats
    assert discriminator_size(300, 0.9) == 270
    assert discriminator_size(7, 0.5) == 3


def _z_scores(samples, mean, var):
    """(sample mean − mean) / standard error, and the same for the sample variance."""
    n = samples.size
    z_mean = (samples.mean() - mean) / np.sqrt(var / n)
    # Gaussian entries: Var(sample variance) = 2 var² / n.
    z_var = (samples.var() - var) / np.sqrt(2 * var**2 / n)
    return z_mean, z_var


def test_entry_law_per_block():
    """Means and variances of every block's diagonal and off-diagonal entries equal
    those of b·M + b1·diag(M1, 0) − x I − x1 diag(I, 0) with GOE_n off-diagonal variance
    1/(2n) and diagonal variance 1/n (n = N and N_D), within 5 standard errors."""
    n, x, x1 = 24, 0.4, -1.5
    n_d = discriminator_size(n, KAPPA)
    h = sample_hessians(n, B, B1, KAPPA, x=x, x1=x1, size=4000, seed=11)
    iu_d = np.triu_indices(n_d, 1)
    iu_g = np.triu_indices(n - n_d, 1)
    cases = {
        "DD off-diagonal": (h[:, :n_d, :n_d][:, iu_d[0], iu_d[1]], 0.0,
                            B**2 / (2 * n) + B1**2 / (2 * n_d)),
        "GG off-diagonal": (h[:, n_d:, n_d:][:, iu_g[0], iu_g[1]], 0.0, B**2 / (2 * n)),
        "DG cross": (h[:, :n_d, n_d:], 0.0, B**2 / (2 * n)),
        "DD diagonal": (np.diagonal(h, axis1=1, axis2=2)[:, :n_d], -x - x1, B**2 / n + B1**2 / n_d),
        "GG diagonal": (np.diagonal(h, axis1=1, axis2=2)[:, n_d:], -x, B**2 / n),
    }
    for name, (samples, mean, var) in cases.items():
        z_mean, z_var = _z_scores(samples, mean, var)
        assert abs(z_mean) < 5 and abs(z_var) < 5, (name, z_mean, z_var)


def test_spectral_moments_match_exact_values():
    """(1/N) E tr H = −x − (N_D/N) x1 and (1/N) E tr H² from the entry law, within 5
    standard errors."""
    n, x, x1 = 50, 0.2, 1.5
    n_d = discriminator_size(n, KAPPA)
    ev = sample_eigenvalues(n, B, B1, KAPPA, x=x, x1=x1, size=400, seed=3)
    second = (B**2 * (1 + (n - 1) / 2) + B1**2 * (1 + (n_d - 1) / 2)) / n \
        + (n_d * (x + x1) ** 2 + (n - n_d) * x**2) / n
    for moment, exact in ((ev.mean(axis=1), -x - n_d / n * x1), ((ev**2).mean(axis=1), second)):
        z = (moment.mean() - exact) / (moment.std(ddof=1) / np.sqrt(moment.size))
        assert abs(z) < 5, z


@pytest.mark.parametrize("kwargs, name", [
    (dict(b=0.0), "b"), (dict(b1=-0.1), "b1"), (dict(kappa=1.0), "kappa"),
    (dict(kappa=0.0), "kappa"), (dict(x=np.nan), "x"), (dict(x1=np.inf), "x1"),
    (dict(n=10.5), "n"), (dict(n=1), "n"), (dict(size=0), "size"),
])
def test_bad_input(kwargs, name):
    args = dict(n=20, b=1.0, b1=0.5, kappa=0.5, x=0.0, x1=0.0, size=1)
    args.update(kwargs)
    with pytest.raises(ParameterError, match=name):
        sample_hessians(**args)


def test_kappa_too_small_for_n():
    with pytest.raises(ParameterError, match="kappa"):
        sample_hessians(5, 1.0, 0.5, 0.1)
