"""GOE rate and index-prescribed terms (derivations/index.py; paper §5.1, eqs 244-260;
MODEL.md §6): symbolic checks and Monte Carlo index counts of sampled H(x, x1)
(numerics/ensemble.py)."""

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

from derivations import hessian, index
from derivations.generated import index as gen
from derivations.generated import published as gen_pub
from ganspin.audit import outlier_log_probability
from numerics.ensemble import discriminator_size, sample_hessians


def test_derived_rate_equals_published_eq_253():
    assert sp.simplify(index.goe_rate() - index.published_rate()) == 0


@pytest.mark.parametrize("ratio", [1.01, 1.3, 2.0, 5.0])
def test_generated_rate_is_the_integral_of_the_stieltjes_gap(ratio):
    """Independent numeric check: I(u; E) = ∫_E^u (2t/E² − G(t)) dt, G(t) = 2(t − √(t²−E²))/E²."""
    E = 1.7
    u = ratio * E
    val, _ = integrate.quad(lambda t: 2 * np.sqrt(t * t - E * E) / E**2, E, u)
    assert gen.goe_rate(u, E) == pytest.approx(val, rel=1e-10)


def test_edges_are_those_of_the_block_goe():
    edge_d, edge_g = index.block_edges()
    bb, bb1 = hessian.block_scales()
    for derived, in_b in zip((edge_d, edge_g), index.edges_in_b()):
        # both sides are positive: compare squares
        assert sp.simplify(sp.expand(derived**2 - in_b.subs({hessian.b: bb, hessian.b1: bb1})**2)) == 0


B, B1 = 1.0, 2.0


def edges(kappa):
    """(derived E_D, published E_D, E_G) for b = B, b1 = B1 (MODEL.md §6)."""
    e_d, e_g = gen.derived_edge_formulas(B, B1, kappa)
    return e_d, gen_pub.published_edge_formulas(B, B1, kappa)[0], e_g


def test_block_edges_match_sampled_extreme_eigenvalues():
    """Smallest eigenvalue of the D block of H(0, 0) sits at −√(2(κb² + b1²)), not at the
    published −√(2κ(b² + b1²)); the largest of the G block at √(2(1−κ))·b."""
    n, kappa = 400, 0.5
    e_d, e_d_pub, e_g = edges(kappa)
    nd = discriminator_size(n, kappa)
    h = sample_hessians(n, B, B1, kappa, size=8, seed=11)
    lam_min_d = np.linalg.eigvalsh(h[:, :nd, :nd])[:, 0].mean()
    lam_max_g = np.linalg.eigvalsh(h[:, nd:, nd:])[:, -1].mean()
    assert lam_min_d == pytest.approx(-e_d, abs=0.05 * e_d)
    assert abs(lam_min_d + e_d_pub) > 0.15 * e_d_pub
    assert lam_max_g == pytest.approx(e_g, abs=0.05 * e_g)


def test_shift_inside_the_bulk_gives_macroscopic_index():
    """k_D = 0 needs x + x1 ≤ −E_D: with the shift inside the bulk every sample has an index
    of order N, with index/N_D → semicircle mass below the shift."""
    n, kappa = 300, 0.5
    e_d = edges(kappa)[0]
    nd = discriminator_size(n, kappa)
    shift = -0.5 * e_d  # x + x1
    h = sample_hessians(n, B, B1, kappa, x=0.0, x1=shift, size=10, seed=12)
    counts = (np.linalg.eigvalsh(h[:, :nd, :nd]) < 0).sum(axis=1)
    a = 0.5
    mass = 0.5 - (np.arcsin(a) + a * np.sqrt(1 - a * a)) / np.pi
    assert counts.min() > 0
    assert counts.mean() / nd == pytest.approx(mass, abs=0.02)


@pytest.mark.parametrize("block,kappa", [("G", 0.75), ("D", 0.25)])
def test_outlier_cost_scales_with_the_block_fraction(block, kappa):
    """−d log P(one outlier)/dN → fraction·I(ratio·E; E): fraction 1−κ for the generator
    block and κ for the discriminator (derived), not κ and 1−κ (published). Slope between
    N = 24 and 56 (finite-size bias ≈ 15%); the published slope is three times larger."""
    ratio, n1, n2 = 1.2, 24, 56
    (l1, s1), (l2, s2) = (outlier_log_probability(n, B, B1, kappa, block, ratio, draws=20000, seed=3)
                          for n in (n1, n2))
    slope = -(l2 - l1) / (n2 - n1)
    slope_se = np.hypot(s1, s2) / (n2 - n1)
    rate = gen.goe_rate(ratio, 1.0)
    frac_d, frac_g = gen.derived_index_terms(3, 3, kappa, 1.0)[2:4]
    derived = (frac_g if block == "G" else frac_d) * rate
    published = (kappa if block == "G" else 1 - kappa) * rate
    assert abs(slope - derived) < 0.3 * derived + 3 * slope_se
    assert abs(slope - published) > 0.5 * published + 3 * slope_se
