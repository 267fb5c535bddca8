"""Limiting spectral density of H(0, x1) (numerics/spectrum.py; paper §4, MODEL.md §4)."""

import mpmath
import numpy as np
import pytest

from derivations.generated.quartic import discriminant_coefficients
from numerics.ensemble import sample_eigenvalues
from numerics.params import ParameterError
from numerics.spectrum import (
    block_stieltjes,
    density,
    density_max_rule,
    density_mp,
    distribution_function,
    n_components,
    stieltjes,
    stieltjes_mp,
    support,
    support_box,
    support_mp,
    tau_branch_mp,
)

FIG1 = dict(b=1.0, b1=0.5, kappa=0.9)
FIG1_X1 = (1.5, 1.1, 4.0)
# (b, b1, kappa, x1): Figure 1, both signs of x1, b1 = 0, x1² = 2 b1² (singular discriminant
# normalisation), and a point where the paper's max-over-roots rule puts spurious mass.
CASES = [(1.0, 0.5, 0.9, x1) for x1 in FIG1_X1] + [
    (1.0, 0.5, 0.9, -3.0), (2.0, 0.0, 0.5, 2.0), (1.0, 0.5, 0.9, np.sqrt(0.5)),
    (1.0, 1.910885061964363, 0.29280804238748326, -7.344423617020885), (1.3, 2.2, 0.4, 0.3),
]
SPURIOUS = CASES[-2]
# Extreme scale ratios b/b1 from 1e-4 to 1e4 and |x1| up to 500 (b ∝ σ_z in the sweeps): well
# separated components of very different widths; the first is the reported σ_z ≈ 1e-4 failure.
EXTREME = [
    (0.0021466, 6.0, 0.9, -47.45), (6e-4, 6.0, 0.9, -300.0), (0.006, 6.0, 0.1, 400.0),
    (3e-5, 0.3, 0.1, 3.0), (0.6, 6.0, 0.5, -47.45), (100.0, 1.0, 0.3, -500.0), (10.0, 1e-3, 0.5, -400.0),
]


def _integrate(f, case, upto=np.inf, panels=60):
    """∫_{λ ≤ upto} f(λ) ρ(λ) dλ over the support: on each component λ = mid + half·cos θ,
    which absorbs the square-root edges, then composite 40-point Gauss-Legendre in θ."""
    b, b1, kappa, x1 = case
    nodes, weights = np.polynomial.legendre.leggauss(40)
    cuts = np.linspace(0, np.pi, panels + 1)
    th = ((cuts[:-1, None] + cuts[1:, None]) / 2 + np.diff(cuts)[:, None] / 2 * nodes).ravel()
    w = (np.diff(cuts)[:, None] / 2 * weights).ravel()
    total = 0.0
    for lo, hi in support(b, b1, kappa, x1):
        hi = min(hi, upto)
        if hi <= lo:
            continue
        lam = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(th)
        total = total + np.sum(w * (hi - lo) / 2 * np.sin(th) * f(lam) * density(lam, b, b1, kappa, x1))
    return total


@pytest.mark.parametrize("case", CASES)
def test_mass_mean_variance_exact(case):
    """Mass 1; mean (1/N) tr H(0, x1) = −κ x1; variance from (1/N) E tr H² of the matrix,
    b²/2 + κ b1²/2 + κ x1² (GOE_n second moment 1/2 each), minus the mean squared."""
    b, b1, kappa, x1 = case
    mass = _integrate(np.ones_like, case)
    mean = _integrate(lambda s: s, case)
    var = _integrate(lambda s: s * s, case) - mean**2
    assert mass == pytest.approx(1.0, abs=1e-8)
    assert mean == pytest.approx(-kappa * x1, abs=1e-8)
    assert var == pytest.approx(b**2 / 2 + kappa * b1**2 / 2 + kappa * (1 - kappa) * x1**2, abs=1e-7)


@pytest.mark.parametrize("case", EXTREME)
def test_mass_mean_variance_exact_at_extreme_scales(case):
    """As above where b/b1 spans 1e-4 … 1e4: the τ-quartic alone loses every digit of
    g = 2(z − τ)/b² once b² ≪ |z|, |x1|, b1² (it put mass 0.79 on the κ = 0.9 component)."""
    test_mass_mean_variance_exact(case)
    b, b1, kappa, x1 = case
    pieces = [_integrate(np.ones_like, case, upto=hi) for _, hi in support(b, b1, kappa, x1)]
    # Each block's mass sits on its own component: κ near −x1, 1 − κ near 0.
    assert pieces[0] == pytest.approx(kappa if x1 > 0 else 1 - kappa, abs=1e-8)


@pytest.mark.parametrize("case", EXTREME)
def test_mpmath_path_agrees_at_extreme_scales(case):
    """numpy vs mpmath (50 digits) for g, relative 1e-9, at random points of every component,
    just inside and outside every edge, in the gap and far outside."""
    b, b1, kappa, x1 = case
    s = support(b, b1, kappa, x1)
    edges = np.array([e for iv in s for e in iv])
    rng = np.random.default_rng(7)
    lam = np.concatenate([rng.uniform(lo, hi, 4) for lo, hi in s]
                         + [edges * (1 + 1e-6) + 1e-6 * b, edges * (1 - 1e-6) - 1e-6 * b,
                            [(s[0][1] + s[1][0]) / 2, edges[-1] + 3 * (edges[-1] - edges[0])]])
    with mpmath.workdps(50):
        ref = np.array([complex(stieltjes_mp(t, b, b1, kappa, x1)) for t in lam])
    g = stieltjes(lam, b, b1, kappa, x1)
    assert len(s) == 2
    # g is ~ 1/(b + b1 + |x1|) in the gap, where it also changes sign.
    np.testing.assert_allclose(g, ref, rtol=1e-9, atol=1e-12 / (b + b1 + abs(x1)))
    # Just above the axis on the scale b of the G-block cluster, which may be the narrow one
    # (1e-8: at its edges g has a square-root branch point).
    centre = s[0] if x1 < 0 else s[1]
    z = np.linspace(*centre, 5)[:, None] + 1j * b * np.array([1e-7, 1e-3, 0.1])
    with mpmath.workdps(50):
        ref = np.array([complex(stieltjes_mp(mpmath.mpc(t.real, t.imag), b, b1, kappa, x1)) for t in z.ravel()])
    np.testing.assert_allclose(stieltjes(z.ravel(), b, b1, kappa, x1), ref, rtol=1e-8)


def test_histogram_at_small_b():
    """The reported case against sampled spectra (KS distance, ~3000 eigenvalues)."""
    case = EXTREME[0]
    b, b1, kappa, x1 = case
    assert _ks(sample_eigenvalues(500, b, b1, kappa, 0.0, x1, size=6, seed=4).ravel(), case) < 0.02


@pytest.mark.parametrize("case", CASES)
def test_density_nonnegative_and_zero_off_support(case):
    b, b1, kappa, x1 = case
    lo, hi = support_box(b, b1, x1)
    lam = np.linspace(lo - 1, hi + 1, 4001)
    rho = density(lam, b, b1, kappa, x1)
    assert np.all(rho >= 0)
    on = np.zeros(lam.shape, bool)
    for a, c in support(b, b1, kappa, x1):
        on |= (lam >= a) & (lam <= c)
    assert np.all(rho[~on] == 0) and np.all(rho[on][1:-1] >= 0)


@pytest.mark.parametrize("case", CASES)
def test_distribution_function_matches_integrated_density(case):
    b, b1, kappa, x1 = case
    edges = [e for iv in support(b, b1, kappa, x1) for e in iv]
    lam = np.array([edges[0] - 5, edges[0], np.mean(edges[:2]), edges[-1] - 0.05, edges[-1] + 1])
    expected = [_integrate(np.ones_like, case, upto=t) for t in lam]
    np.testing.assert_allclose(distribution_function(lam, b, b1, kappa, x1), expected, atol=1e-9)


def _ks(eigs, case):
    b, b1, kappa, x1 = case
    eigs = np.sort(eigs)
    cdf = distribution_function(eigs, b, b1, kappa, x1)
    n = eigs.size
    return max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[2], SPURIOUS])
def test_histograms_ks_distance_shrinks_with_n(case):
    """KS distance between the pooled eigenvalues of sampled H(0, x1) (about 6000 of them)
    and the limiting distribution: small, and smaller at N = 1000 than at N = 300."""
    b, b1, kappa, x1 = case
    ks = [_ks(sample_eigenvalues(n, b, b1, kappa, 0.0, x1, size=6000 // n, seed=n).ravel(), case)
          for n in (300, 1000)]
    assert ks[1] < ks[0] < 0.02, ks


def _l1_to_histogram(rho_fn, eigs, lo, hi, bins=60):
    """L1 distance between a density and the normalised histogram, density averaged per bin."""
    edges = np.linspace(lo, hi, bins + 1)
    hist, _ = np.histogram(eigs, edges, density=True)
    fine = np.linspace(lo, hi, bins * 50 + 1)[:-1] + (hi - lo) / (bins * 100)
    per_bin = rho_fn(fine).reshape(bins, 50).mean(axis=1)
    return np.sum(np.abs(per_bin - hist)) * (hi - lo) / bins


def test_derived_quartic_beats_published_against_sampled_spectra():
    """The published eq. (163) differs from the derived quartic in its τ¹ coefficient; with a
    large b1 the difference is visible and sampled spectra side with the derived one."""
    b, b1, kappa, x1 = 1.0, 1.5, 0.5, 1.0
    eigs = sample_eigenvalues(1000, b, b1, kappa, 0.0, x1, size=6, seed=2).ravel()
    lo, hi = eigs.min() - 0.1, eigs.max() + 0.1
    derived = _l1_to_histogram(lambda s: density(s, b, b1, kappa, x1), eigs, lo, hi)
    published = _l1_to_histogram(lambda s: density_max_rule(s, b, b1, kappa, x1, published=True),
                                 eigs, lo, hi)
    assert derived < 0.05 < 0.2 < published, (derived, published)


def test_paper_max_rule_puts_spurious_mass_and_branch_rule_does_not():
    """At SPURIOUS the max-over-roots rule (eq. 164) picks a non-physical complex root outside
    the support (mass ≈ 1.2); the branch rule matches sampled spectra."""
    b, b1, kappa, x1 = SPURIOUS
    lo, hi = support_box(b, b1, x1)
    lam = np.linspace(lo - 1, hi + 1, 3001)
    assert np.trapezoid(density_max_rule(lam, b, b1, kappa, x1), lam) > 1.1
    eigs = sample_eigenvalues(600, b, b1, kappa, 0.0, x1, size=5, seed=9).ravel()
    ours = _l1_to_histogram(lambda s: density(s, b, b1, kappa, x1), eigs, lo - 1, hi + 1)
    paper = _l1_to_histogram(lambda s: density_max_rule(s, b, b1, kappa, x1), eigs, lo - 1, hi + 1)
    assert ours < 0.05 and paper > 0.15, (ours, paper)


@pytest.mark.parametrize("case", CASES)
def test_real_axis_branch_is_the_limit_from_above(case):
    """The real-axis rule and the upper-half-plane rule (Im τ > 0, Im g1 < 0) are selected
    independently; g(λ + iη) → g(λ + i0) with the √η rate at worst (edges)."""
    b, b1, kappa, x1 = case
    lo, hi = support_box(b, b1, x1)
    lam = np.linspace(lo - 1, hi + 1, 1501)
    on_axis = stieltjes(lam, b, b1, kappa, x1)
    for eta in (1e-4, 1e-6):
        above = stieltjes(lam + 1j * eta, b, b1, kappa, x1)
        assert np.max(np.abs(above - on_axis)) < 30 * np.sqrt(eta) * (1 + b1 + b) / b**2


@pytest.mark.parametrize("case", CASES)
def test_upper_half_plane_is_stieltjes_transform_of_density(case):
    """g(z) off the axis equals ∫ ρ(λ)/(z − λ) dλ of the real-axis density: the two branch
    selections agree, so neither can be on a wrong sheet; also Im g, Im g1, Im g2 < 0."""
    b, b1, kappa, x1 = case
    edges = [e for iv in support(b, b1, kappa, x1) for e in iv]
    z = np.array([edges[0] - 1 + 0.5j, np.mean(edges[:2]) + 0.05j, edges[-1] + 0.2j, 30 + 30j])
    g, g1, g2 = block_stieltjes(z, b, b1, kappa, x1)
    assert np.all(g.imag < 0) and np.all(g1.imag < 0) and np.all(g2.imag < 0)
    ref = np.array([_integrate(lambda s, zz=zz: 1 / (zz - s), case, panels=150) for zz in z])
    np.testing.assert_allclose(g, ref, atol=1e-8)


@pytest.mark.parametrize("case", CASES)
def test_infinity_behaviour(case):
    """z g(z) → 1, z (z g − 1) = m1 + m2/z + O(z⁻²) (moments of μ_{x1}) as |z| → ∞ in every
    direction, real included: the branch far outside the support, to full relative precision."""
    b, b1, kappa, x1 = case
    r = 1e5
    z = r * np.exp(1j * np.linspace(0, np.pi, 9))
    z = np.concatenate([z, [r, -r, 1e3, -1e3]])
    g = stieltjes(z, b, b1, kappa, x1)
    m2 = b**2 / 2 + kappa * b1**2 / 2 + kappa * x1**2
    np.testing.assert_allclose(z * (z * g - 1), -kappa * x1 + m2 / z, atol=1e-4 * (1 + abs(x1)))


def test_continuity_through_the_cusp():
    """Figure 1 parameters across the merger of the two components (x1 from 1.1 to 1.6):
    g along the real axis is Hölder-continuous (|Δg| ≤ C √Δλ), no jumps between sheets."""
    b, b1, kappa = FIG1.values()
    lam = np.linspace(-3.5, 1.5, 20001)
    h = lam[1] - lam[0]
    for x1 in np.linspace(1.1, 1.6, 11):
        g = stieltjes(lam, b, b1, kappa, x1)
        assert np.max(np.abs(np.diff(g))) < 5 * np.sqrt(h), x1


def test_components_and_cusp_location():
    """Figure 1: x1 = 1.1 one component, 4 two, 1.5 two with a small gap; the merger x1* lies
    between 1.1 and 1.5, the gap closes continuously, and edges are discriminant roots."""
    b, b1, kappa = FIG1.values()
    assert n_components(b, b1, kappa, 1.1) == 1
    assert n_components(b, b1, kappa, 4.0) == 2
    gap = support(b, b1, kappa, 1.5)
    assert len(gap) == 2 and 0 < gap[1][0] - gap[0][1] < 0.05
    lo, hi = 1.1, 1.5
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if n_components(b, b1, kappa, mid) == 1 else (lo, mid)
    s = support(b, b1, kappa, hi)
    assert s[1][0] - s[0][1] < 1e-3
    for x1 in FIG1_X1:
        coeffs = np.array(discriminant_coefficients(b, b1, kappa, x1), dtype=float)
        scale = np.polyval(np.abs(coeffs), 4.0)
        for edge in (e for iv in support(b, b1, kappa, x1) for e in iv):
            assert abs(np.polyval(coeffs, edge)) < 1e-9 * scale
            assert density(edge - 1e-6, b, b1, kappa, x1) + density(edge + 1e-6, b, b1, kappa, x1) > 0


def test_support_edges_at_high_precision():
    """support_mp polishes the edges to discriminant roots at 40 digits; the double-precision
    edges are within 1e-9 of them."""
    b, b1, kappa = FIG1.values()
    with mpmath.workdps(40):
        for x1 in FIG1_X1:
            fine = support_mp(b, b1, kappa, x1)
            for (lo, hi), (mlo, mhi) in zip(support(b, b1, kappa, x1), fine):
                assert abs(lo - float(mlo)) < 1e-9 and abs(hi - float(mhi)) < 1e-9


def test_mpmath_path_agrees():
    """numpy vs mpmath (40 digits): 1e-10 wherever the density exceeds 1e-8 of its maximum,
    including points 1e-6, 1e-9 and a few ulps from the edges (extended-precision polish)."""
    b, b1, kappa = FIG1.values()
    with mpmath.workdps(40):
        for x1 in FIG1_X1:
            edges = np.array([e for iv in support(b, b1, kappa, x1) for e in iv])
            lam = np.concatenate([np.linspace(edges[0] - 0.5, edges[-1] + 0.5, 9),
                                  edges + 1e-6, edges - 1e-9, np.nextafter(edges, np.inf),
                                  np.nextafter(edges, -np.inf)])
            taus = [tau_branch_mp(s, b, b1, kappa, x1) for s in lam]
            rho_mp = np.array([float(2 * t.imag / (mpmath.pi * b**2)) for t in taus])
            g_mp = np.array([complex(2 * (mpmath.mpf(s) - t) / b**2) for s, t in zip(lam, taus)])
            rho = density(lam, b, b1, kappa, x1)
            g = stieltjes(lam, b, b1, kappa, x1)
            keep = (rho_mp > 1e-8 * rho_mp.max()) | (rho_mp == 0)
            assert np.max(np.abs(rho - rho_mp)[keep]) < 1e-10
            assert np.max(np.abs(g - g_mp)[keep]) < 1e-10
        assert float(density_mp(0.0, b, b1, kappa, 1.1)) == pytest.approx(
            density(0.0, b, b1, kappa, 1.1), abs=1e-12)
        assert complex(stieltjes_mp(5.0, b, b1, kappa, 1.1)) == pytest.approx(
            complex(stieltjes(5.0, b, b1, kappa, 1.1)), abs=1e-12)


@pytest.mark.parametrize("call, name", [
    (lambda: density([0.0], 0.0, 0.5, 0.9, 1.0), "b"),
    (lambda: density([0.0], -1.0, 0.5, 0.9, 1.0), "b"),
    (lambda: density([0.0], 1.0, -0.5, 0.9, 1.0), "b1"),
    (lambda: density([0.0], 1.0, 0.5, 1.0, 1.0), "kappa"),
    (lambda: density([0.0], 1.0, 0.5, 0.0, 1.0), "kappa"),
    (lambda: density([np.nan], 1.0, 0.5, 0.9, 1.0), "lam"),
    (lambda: stieltjes([np.inf], 1.0, 0.5, 0.9, 1.0), "z"),
    (lambda: stieltjes(np.array([complex(1, np.nan)]), 1.0, 0.5, 0.9, 1.0), "z"),
    (lambda: density([0.0], 1.0, 0.5, 0.9, np.nan), "x1"),
    (lambda: support(1.0, 0.5, 1.5, 1.0), "kappa"),
])
def test_bad_input(call, name):
    with pytest.raises(ParameterError, match=name):
        call()


def _grid_with_edges(case, n=4000):
    """λ across the support box and a margin, plus points within 1e-10 … 1e-3 (relative) of
    every edge on both sides."""
    b, b1, kappa, x1 = case
    lo, hi = support_box(b, b1, x1)
    width = hi - lo
    edges = np.array(support(b, b1, kappa, x1)).ravel()
    offsets = np.concatenate([-np.logspace(-10, -3, 15), np.logspace(-10, -3, 15)]) * width
    return np.concatenate([np.linspace(lo - 0.2 * width, hi + 0.2 * width, n),
                           (edges[:, None] + offsets).ravel()])


@pytest.mark.parametrize("case", CASES + EXTREME)
def test_fast_path_agrees_with_the_full_branch_rule(case):
    """density() (certified real Ferrari, fallback to the general branch rule) equals −Im g/π
    from the general rule (stieltjes, edges refined in extended precision) to 2e-11 of the
    maximum, edges included: the fast path accepts a root error of 1e-11 |τ|."""
    b, b1, kappa, x1 = case
    lam = _grid_with_edges(case)
    fast = density(lam, b, b1, kappa, x1)
    full = -stieltjes(lam, b, b1, kappa, x1).imag / np.pi
    assert np.max(np.abs(fast - full)) <= 2e-11 * np.max(full)


@pytest.mark.parametrize("x1", FIG1_X1)
def test_fast_path_certifies_nearly_every_point(x1):
    """On Figure 1 grids at most 1% of points (those within ~1e-6 of an edge) need the
    general rule: the speed of density() rests on this."""
    from numerics.spectrum import _density_certified

    lo, hi = support_box(FIG1["b"], FIG1["b1"], x1)
    lam = np.linspace(lo - 0.5, hi + 0.5, 20000)
    unsure = _density_certified(lam, FIG1["b"], FIG1["b1"], FIG1["kappa"], np.full_like(lam, x1))[1]
    assert unsure.mean() < 0.01
