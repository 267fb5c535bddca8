"""Certified roots of real quartics (numerics/real_quartic.py): the density fast path."""

import mpmath
import numpy as np
import pytest

from numerics.real_quartic import factor, upper_roots


def _quartics(rng, n):
    """Monic real quartics with prescribed roots: four real, one complex pair, two pairs; roots
    of both signs and magnitudes 1e-3 … 1e2, as the τ-quartic has across the sweeps."""
    scale = 10.0 ** rng.uniform(-3, 2, size=(n, 4))
    parts = rng.standard_normal((n, 4)) * scale
    kind = rng.integers(0, 3, size=n)
    roots = np.empty((n, 4), dtype=complex)
    roots[kind == 0] = parts[kind == 0]
    one = kind == 1
    roots[one] = np.stack([parts[one, 0], parts[one, 1], parts[one, 2] + 1j * parts[one, 3],
                           parts[one, 2] - 1j * parts[one, 3]], axis=-1)
    two = kind == 2
    roots[two] = np.stack([parts[two, 0] + 1j * parts[two, 1], parts[two, 0] - 1j * parts[two, 1],
                           parts[two, 2] + 1j * parts[two, 3], parts[two, 2] - 1j * parts[two, 3]], axis=-1)
    coeffs = np.array([np.poly(r).real for r in roots])
    return coeffs


def _exact_roots(c):
    """Roots of the double-precision coefficients themselves, at 40 digits."""
    with mpmath.workdps(40):
        return [complex(t) for t in mpmath.polyroots([mpmath.mpf(float(v)) for v in c],
                                                      maxsteps=200, extraprec=200)]


def test_factorisation_reproduces_the_quartic():
    """Multiplying the two quadratic factors back gives the depressed quartic to a backward
    error of a few ulps of the terms involved, for 99% of quartics with roots spread over five
    orders of magnitude (the rest are caught by the certification, next test)."""
    rng = np.random.default_rng(11)
    c = _quartics(rng, 2000)
    w, e_a, e_b, (p, q, r) = factor(c[:, 1], c[:, 2], c[:, 3], c[:, 4])
    relative = np.maximum.reduce([
        np.abs(e_a + e_b - w * w - p) / (np.abs(e_a) + np.abs(e_b) + w * w + np.abs(p)),
        np.abs(w * (e_a - e_b) - q) / (np.abs(w) * (np.abs(e_a) + np.abs(e_b)) + np.abs(q)),
        np.abs(e_a * e_b - r) / (np.abs(e_a * e_b) + np.abs(r)),
    ])
    assert np.median(relative) < 1e-15
    assert np.percentile(relative, 99) < 1e-14


def test_certified_roots_lie_within_their_bounds():
    """Every certified upper root is within its error bound of a true root (40-digit roots
    of the same double coefficients), with the right type: non-real iff Im > 0 reported."""
    rng = np.random.default_rng(12)
    c = _quartics(rng, 300)
    re, im, err, ok = upper_roots(c[:, 1], c[:, 2], c[:, 3], c[:, 4])
    assert ok.mean() > 0.9
    for i in np.flatnonzero(ok):
        exact = np.array(_exact_roots(c[i]))
        for k in range(2):
            got = re[k][i] + 1j * im[k][i]
            dist = np.abs(exact - got)
            j = np.argmin(dist)
            assert dist[j] <= err[k][i], (i, k, got, exact[j], err[k][i])
            assert (abs(exact[j].imag) > 0) == (im[k][i] > 0)
            assert im[k][i] >= 0


def test_the_bounds_are_not_vacuous():
    """Bounds of well-separated roots stay near rounding level (relative 1e-12), so the fast
    path really carries the density."""
    rng = np.random.default_rng(13)
    c = _quartics(rng, 300)
    re, im, err, ok = upper_roots(c[:, 1], c[:, 2], c[:, 3], c[:, 4])
    modulus = np.hypot(re[0], im[0])
    assert np.median(err[0][ok] / modulus[ok]) < 1e-13


@pytest.mark.parametrize("roots", [
    [1.0, 1.0 + 1e-9, -2.0, 3.0],              # near-double real root
    [1.0 + 1e-9j, 1.0 - 1e-9j, -2.0, 3.0],     # complex pair about to become real
    [1.0, 1.0 + 1e-9, 1.0 + 2e-9j, 1.0 - 2e-9j],  # cluster of four
])
def test_near_multiple_roots_are_not_certified(roots):
    c = np.poly(np.array(roots, dtype=complex)).real
    assert not upper_roots(*(np.array([v]) for v in c[1:]))[3][0]


def test_non_finite_input_is_not_certified():
    a = np.array([np.nan, 1.0, np.inf])
    ok = upper_roots(a, np.ones(3), np.ones(3), np.ones(3))[3]
    assert not ok[0] and not ok[2]
