"""The Coulomb-gas log-determinant Φ(x, x1) (numerics/coulomb.py; paper §5, eq. 170)."""

import mpmath
import numpy as np
import pytest

from numerics.coulomb import log_potential_grid, mc_log_mean_abs_det
from numerics.params import ParameterError
from numerics.spectrum import density, log_potential, stieltjes, support, tau_branch_mp

B, B1, KAPPA = 1.0, 0.5, 0.9


def _phi_reference(x, b, b1, kappa, x1):
    """∫ log|λ − x| ρ(λ) dλ by mpmath tanh-sinh quadrature, split at the support edges and at
    x (endpoint singularities: square roots, the logarithm)."""
    total = mpmath.mpf(0)
    for lo, hi in support(b, b1, kappa, x1):
        pts = [lo, x, hi] if lo < x < hi else [lo, hi]
        total += mpmath.quad(lambda s: mpmath.log(abs(s - x)) * float(density(float(s), b, b1, kappa, x1)),
                             pts)
    return float(total)


@pytest.mark.parametrize("b, b1, kappa, x1", [
    (B, B1, KAPPA, 1.5), (B, B1, KAPPA, 1.1), (B, B1, KAPPA, 4.0), (31.0, 3.3, 0.9, -45.0),
])
def test_phi_matches_mpmath_quadrature(b, b1, kappa, x1):
    """1e-8 at x inside the support, exactly at its edges, in a gap and far outside."""
    s = support(b, b1, kappa, x1)
    width = s[-1][1] - s[0][0]
    x = np.array([s[0][0], s[0][0] + 0.3 * width, s[-1][1], s[-1][1] + 0.01 * width,
                  s[0][0] - 40 * width] + ([(s[0][1] + s[1][0]) / 2] if len(s) > 1 else []))
    phi = log_potential_grid(x, [x1], b, b1, kappa)[0]
    with mpmath.workdps(15):
        ref = np.array([_phi_reference(t, b, b1, kappa, x1) for t in x])
    np.testing.assert_allclose(phi, ref, rtol=0, atol=1e-8)


def _phi_closed_form_mp(x, b, b1, kappa, x1):
    """The closed form of Φ at 50 digits on the independently selected mpmath branch
    (numerics.spectrum.tau_branch_mp): a reference where b/b1 is too extreme for quadrature
    of the double-precision density to resolve both components."""
    with mpmath.workdps(50):
        x, b, b1, kappa, x1 = (mpmath.mpf(v) for v in (x, b, b1, kappa, x1))
        t = tau_branch_mp(x, b, b1, kappa, x1)
        g, g2 = 2 * (x - t) / b**2, 1 / t
        g1 = (g - (1 - kappa) * g2) / kappa
        return float(mpmath.re(x * g + kappa * x1 * g1 - b**2 / 4 * g**2 - kappa * b1**2 / 4 * g1**2
                               - kappa * mpmath.log(g1) - (1 - kappa) * mpmath.log(g2) - 1))


# b/b1 from 1e-4 to 1e4, |x1| up to 500; the first is the reported σ_z ≈ 1e-4 sweep failure.
EXTREME = [(0.0021466, 6.0, 0.9, -47.45), (6e-4, 6.0, 0.9, -300.0), (0.006, 6.0, 0.1, 400.0),
           (3e-5, 0.3, 0.1, 3.0), (3e-4, 3.3, 0.9, 1.0), (100.0, 1.0, 0.3, -500.0),
           (1e4, 1.0, 0.5, 400.0), (10.0, 1e-3, 0.5, -400.0)]


@pytest.mark.parametrize("b, b1, kappa, x1", EXTREME)
def test_phi_at_extreme_scales(b, b1, kappa, x1):
    """1e-8 against the 50-digit closed form at every edge, just inside and outside it, in
    the gaps, inside each component and far outside."""
    s = support(b, b1, kappa, x1)
    edges = np.array([e for iv in s for e in iv])
    width = edges[-1] - edges[0]
    x = np.concatenate([edges, edges + 1e-3 * b, edges - 1e-3 * b, [lo + 0.3 * (hi - lo) for lo, hi in s],
                        [(s[i][1] + s[i + 1][0]) / 2 for i in range(len(s) - 1)],
                        [edges[0] - 3 * width, edges[-1] + 40 * width]])
    ref = np.array([_phi_closed_form_mp(t, b, b1, kappa, x1) for t in x])
    np.testing.assert_allclose(log_potential(x, b, b1, kappa, x1), ref, rtol=0, atol=1e-8)


def test_phi_in_gap_at_small_b_matches_quadrature_and_monte_carlo():
    """The reported failure (b = 0.0021466, b1 = 6, κ = 0.9, x1 = −47.45): Φ(10) was 33.7 and
    Φ(0.0098) 54.0; they are 3.485… and 3.007…, by mpmath quadrature of the density (1e-8)
    and by (1/N) log E|det| at N = 400 (0.01)."""
    b, b1, kappa, x1 = EXTREME[0]
    x = np.array([-1.0, 0.0098, 10.0, 47.45, 100.0])
    phi = log_potential(x, b, b1, kappa, x1)
    with mpmath.workdps(15):
        ref = np.array([_phi_reference(t, b, b1, kappa, x1) for t in x[1:3]])
    np.testing.assert_allclose(phi[1:3], ref, rtol=0, atol=1e-8)
    mc = mc_log_mean_abs_det(400, b, b1, kappa, x, x1, 4, seed=1)
    np.testing.assert_allclose(mc, phi, rtol=0, atol=0.01)


def test_grid_shape_and_pointwise_consistency():
    x = np.linspace(-6, 6, 37)
    x1 = np.array([-2.0, 0.0, 1.5, 4.0])
    grid = log_potential_grid(x, x1, B, B1, KAPPA)
    assert grid.shape == (4, 37)
    for row, v in zip(grid, x1):
        np.testing.assert_allclose(row, log_potential(x, B, B1, KAPPA, v), rtol=0, atol=1e-13)


def test_derivative_is_principal_value_stieltjes():
    """∂Φ/∂x = Re g(x + i0) (principal value), by central differences."""
    for x1 in (1.1, 4.0):
        x = np.linspace(-5.5, 2.5, 23)
        h = 1e-5
        fd = (log_potential(x + h, B, B1, KAPPA, x1) - log_potential(x - h, B, B1, KAPPA, x1)) / (2 * h)
        np.testing.assert_allclose(fd, stieltjes(x, B, B1, KAPPA, x1).real, atol=1e-5)


def test_far_field_expansion():
    """Φ(x) = log|x| − m1/x − (m2/2)/x² + O(x⁻³) with m1 = −κ x1 and m2 the second moment."""
    x1 = 1.5
    m1 = -KAPPA * x1
    m2 = B**2 / 2 + KAPPA * B1**2 / 2 + KAPPA * x1**2
    x = np.array([-1e3, -1e2, 1e2, 1e3])
    phi = log_potential(x, B, B1, KAPPA, x1)
    remainder = phi - (np.log(np.abs(x)) - m1 / x - m2 / (2 * x**2))
    assert np.all(np.abs(remainder) < 10 / np.abs(x) ** 3), remainder


def test_monte_carlo_log_det_gap_shrinks_with_n():
    """(1/N) log E|det(H(0, x1) − x)| → Φ(x, x1) (eq. 170): the mean gap over a grid of x
    through and beyond the support decreases along N = 50, 100, 200, 400."""
    x = np.linspace(-7, 5, 9)
    for x1 in (-2.0, 4.0):
        phi = log_potential(x, B, B1, KAPPA, x1)
        gaps = [np.mean(np.abs(mc_log_mean_abs_det(n, B, B1, KAPPA, x, x1, 16, seed=n) - phi))
                for n in (50, 100, 200, 400)]
        assert all(a > c for a, c in zip(gaps, gaps[1:])), gaps
        assert gaps[-1] < 0.005, gaps


@pytest.mark.parametrize("args, name", [
    (dict(b=0.0), "b"), (dict(b1=-1.0), "b1"), (dict(kappa=1.2), "kappa"),
    (dict(x=[0.0, np.nan]), "x"), (dict(x1=[np.inf]), "x1"), (dict(x=[[0.0]]), "one-dimensional"),
])
def test_bad_input(args, name):
    call = dict(x=[0.0], x1=[1.0], b=B, b1=B1, kappa=KAPPA)
    call.update(args)
    with pytest.raises(ParameterError, match=name):
        log_potential_grid(**call)
