"""Limiting spectral density of H(0, x1) (paper §4, eqs 114-164; MODEL.md §4).

With G(z) = (z − H)^{-1}, g1 (g2) the normalised trace of G over the upper-left κN block (the
rest) and g = κ g1 + (1 − κ) g2, the Dyson equations read

    g1 = 1 / (z + x1 − (b²/2) g − (b1²/2) g1),     g2 = 1 / (z − (b²/2) g).

With τ = z − (b²/2) g, they reduce to the quartic of ``derivations/generated/quartic.py``
(derived, paper eq. 163 corrected): g = 2(z − τ)/b², g2 = 1/τ, g1 = (g − (1 − κ)/τ)/κ.

Branch selection (replaces the paper's "max over roots" rule, eq. 164). The system is an
operator-valued semicircle over the diagonal algebra C², so for Im z > 0 it has exactly one
solution with Im g1 < 0 and Im g2 < 0 (Helton, Rashidi Far, Speicher 2007), i.e. one root τ
with Im τ > 0 and Im g1 < 0. On the real axis z = λ + i0:
  - where some root is genuinely non-real, the physical one is the root with Im τ > 0 and
    Im g1 < 0 (two such roots at real λ would, by continuity, be two solutions at λ + iη);
  - otherwise τ is real and z ↦ λ + iη moves it by iη τ'(λ); the physical root is the real root
    with τ' > 0 and g1' < 0. For it, g' = −∫ρ/(λ−s)² ≤ −g² gives τ' ≥ 1 and |g1'| ≥ g1², so the
    bounded score min(τ'/(1+|τ'|), −g1'/(g1²+|g1'|)) is ≥ 1/2 for it and ≤ 0 for every
    other simple real root.
A root counts as non-real when |Im τ| exceeds its first-order rounding bound. The rule is
tested against histograms, against η → 0 limits off the axis and against the mpmath path.
The density is ρ(λ) = −Im g(λ + i0)/π.

Two parametrisations of the same four sheets (:func:`_sheets`), chosen per point by
:func:`_block_form`: roots in τ, or in τ1 = 1/g1 (the block quartic of
``derivations/quartic.py``). When b² is many orders of magnitude below |z|, |x1|, b1² (small
σ_z), τ agrees with z to ~ b²/|z| relative away from the G-block cluster at 0, so τ is then
resolved by no double-precision root and 2(z − τ)/b² keeps no correct digit; τ1 stays well
conditioned there, and τ is well conditioned inside the cluster. The other variable comes from
the block Dyson equations as quadratics, never from a cancelling formula, and
g = κ g1 + (1 − κ)/τ. All tolerances are relative to the roots themselves, so the rules are
scale-free (Φ of H/s is Φ of H minus log s).

:func:`density` on the real axis first takes the real quartic's roots by real Ferrari with
certified error bounds (:mod:`numerics.real_quartic`), ~200 times faster than per-point
``numpy.roots``; only uncertified points (next to edges) go through the rules above.
"""

from __future__ import annotations

import mpmath
import numpy as np

from derivations.generated.quartic import (
    block_quartic_coefficients,
    discriminant_coefficients,
    discriminant_coefficients_mp,
    published_quartic_coefficients,
    quartic_coefficients,
    quartic_coefficients_mp,
)
from numerics.params import finite, finite_array, nonnegative, positive, unit_interval
from numerics.real_quartic import upper_roots

_EPS = np.finfo(float).eps
# Complex-step size for ∂P/∂z: exact derivative of the analytic coefficient formulas, no
# cancellation (Squire & Trapp 1998).
_COMPLEX_STEP = 1e-30
# Distance above the axis, relative to |z| + b (b: the width scale of the smallest component,
# the G-block cluster), at which ambiguous (edge) points are resolved.
_ETA = 1e-8
# Roots whose rounding bound exceeds this (relative) are polished in extended precision.
_REFINE = 1e-12
# Relative Newton correction of a Ferrari root beyond which the closed form is not trusted.
_FERRARI_TRUST = 1e-7
# Points per chunk of the density fast path.
_CHUNK = 8192
# Error bound of the physical root, relative to |τ|, accepted on the density fast path; worse
# points (support edges) take the full path with its extended-precision edge refinement.
_DENSITY_TOL = 1e-11


def check_parameters(b, b1, kappa):
    """Validated (b, b1, kappa) of H(x, x1): b > 0, b1 >= 0, kappa in (0, 1)."""
    return positive("b", b), nonnegative("b1", b1), unit_interval("kappa", kappa)


def _coefficients(z, b, b1, kappa, x1, evaluator=quartic_coefficients):
    """Monic quartic coefficients stacked on the last axis (highest power first), broadcast
    over z and x1: the τ-quartic, or with ``evaluator=block_quartic_coefficients`` the
    τ1-quartic."""
    coeffs = evaluator(z, b, b1, kappa, x1)
    shape = np.broadcast_shapes(*(np.shape(c) for c in coeffs))
    dtype = np.result_type(*coeffs, float)
    return np.stack([np.broadcast_to(np.asarray(c, dtype=dtype), shape) for c in coeffs], axis=-1)


def _block_coefficients(z, b, b1, kappa, x1):
    """The τ1-quartic (τ1 = 1/g1) as stacked coefficients."""
    return _coefficients(z, b, b1, kappa, x1, block_quartic_coefficients)


def _block_form(z, b, b1, kappa, x1):
    """Where (boolean, shape of z broadcast against x1) the sheets are solved in τ1 = 1/g1
    rather than τ (module docstring). The τ form gets g = 2(z − τ)/b² with a cancellation
    factor |τ/(z − τ)| ≈ z²/((1 − κ) b²/2) away from the G-block cluster at 0; the τ1 form
    gets τ = τ1 + (b1²/2)/τ1 − x1 with a factor ≈ (|τ1| + |x1|)/|τ|, |τ1| ≲ |z + x1| + b1,
    |τ| ≈ |z|. Each point takes the smaller; for b ≥ b1 the τ form throughout."""
    z, x1 = np.broadcast_arrays(np.asarray(z), np.asarray(x1, dtype=float))
    if b >= b1:
        return np.zeros(z.shape, dtype=bool)
    az = np.abs(z)
    return az**3 > (1.0 - kappa) * (b**2 / 2) * (np.abs(z + x1) + np.abs(x1) + b1)


def _from_tau1(tau1, b1, x1):
    """(τ, g1) from τ1 = 1/g1: τ = τ1 + (b1²/2)/τ1 − x1 (the g1 Dyson equation, no 1/b)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return tau1 + (b1**2 / 2) / tau1 - x1, 1.0 / tau1


def _sheets(z, b, b1, kappa, x1, slopes=False):
    """The four solutions of the Dyson equations at z (1-d, x1 alike), each of shape (n, 4):
    the quartic roots r (τ, or τ1 = 1/g1 where :func:`_block_form`), τ, g1, the first-order
    rounding bounds of r, τ and g1 and, with ``slopes``, the z-derivatives (τ', g1') at real z;
    first the :func:`_block_form` mask itself."""
    block = _block_form(z, b, b1, kappa, x1)
    if not np.any(block) or np.all(block):
        return (block, *_sheets_in(bool(np.any(block)), z, b, b1, kappa, x1, slopes))
    out = None
    for mask, form in ((~block, False), (block, True)):
        if np.any(mask):
            part = _sheets_in(form, z[mask], b, b1, kappa, x1[mask], slopes)
            if out is None:
                out = [np.empty(block.shape + (4,), dtype=a.dtype) for a in part]
            for o, a in zip(out, part):
                o[mask] = a
    return (block, *out)


def _sheets_in(block, z, b, b1, kappa, x1, slopes):
    """:func:`_sheets` in one parametrisation (``block``: τ1, else τ).

    The other variable is not taken from its cancelling formula (2(z − τ)/b², or
    τ1 + (b1²/2)/τ1 − x1) but, like the root, from a well-conditioned equation: the block
    Dyson equations as quadratics, τ1² − (τ + x1) τ1 + b1²/2 = 0 given τ, and
    τ² − (z − κ (b²/2) g1) τ + (1 − κ) b²/2 = 0 given g1, taking the root that the cancelling
    formula points at (the two are far apart except at the blocks' own edges)."""
    coefficients = _block_coefficients if block else _coefficients
    c = coefficients(z, b, b1, kappa, x1)
    roots, dp = _roots_and_slopes(c)
    noise = _rounding_bound(c[..., None, :], roots, dp)
    zz, xx = z[..., None], x1[..., None]
    cg = b**2 / 2
    tau, g1 = _complete(block, roots, zz, b, b1, kappa, xx)
    with np.errstate(all="ignore"):
        if block:
            s = zz - cg * kappa * g1
            # τ² − sτ + c(1 − κ) = 0 with s = z − cκ g1: dτ = τ (dz − cκ dg1)/(2τ − s).
            dtau_dg1 = -cg * kappa * tau / (2.0 * tau - s)
            noise_g1 = noise / np.abs(roots) ** 2
            noise_tau = np.abs(dtau_dg1) * noise_g1
        else:
            s = tau + xx
            tau1 = 1.0 / g1
            # τ1² − sτ1 + c1 = 0 with s = τ + x1: dτ1 = τ1 dτ/(2τ1 − s), dg1 = −dτ1/τ1².
            dg1_dtau = -1.0 / (tau1 * (2.0 * tau1 - s))
            noise_tau = noise
            noise_g1 = np.abs(dg1_dtau) * noise
        out = (roots, tau, g1, noise, noise_tau, noise_g1)
        if not slopes:
            return out
        # Root slope −P_z/P_r, P_z by a complex step in z (coefficients are analytic in z).
        cz = coefficients(z + 1j * _COMPLEX_STEP, b, b1, kappa, x1).imag
        dr = -(_horner(cz[..., None, :], roots)[0] / _COMPLEX_STEP) / dp
        if block:
            dg1 = -dr / roots**2
            dtau = tau * (1.0 - cg * kappa * dg1) / (2.0 * tau - s)
        else:
            dtau, dg1 = dr, dg1_dtau * dr
    return out + (dtau, dg1)


def _complete(block, r, z, b, b1, kappa, x1):
    """(τ, g1) from quartic roots r: τ1 = 1/g1 where ``block``, else τ (:func:`_sheets_in`)."""
    with np.errstate(all="ignore"):
        if np.all(block):
            g1 = 1.0 / r
            tau = _quadratic_root(z - (b**2 / 2) * kappa * g1, (b**2 / 2) * (1.0 - kappa),
                                  _from_tau1(r, b1, x1)[0])
            return tau, g1
        tau1 = _quadratic_root(r + x1, b1**2 / 2, 1.0 / _blocks(r, z, b, kappa)[1])
        if not np.any(block):
            return r, 1.0 / tau1
        tau_b, g1_b = _complete(True, r, z, b, b1, kappa, x1)
        return np.where(block, tau_b, r), np.where(block, g1_b, 1.0 / tau1)


def _quadratic_root(s, p, estimate):
    """The root of t² − s t + p = 0 nearest to ``estimate`` (cancellation-free pair)."""
    d = np.sqrt(s * s - 4.0 * p + 0j)
    big = np.where(np.abs(s + d) >= np.abs(s - d), s + d, s - d) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        small = p / big
    return np.where(np.abs(big - estimate) <= np.abs(small - estimate), big, small)


def quartic_roots(c):
    """All four roots of monic quartics with coefficients ``c`` (..., 5), shape (..., 4).

    Ferrari's closed form, vectorised (depressed quartic, resolvent cubic by Cardano with the
    cancellation-free choice of cube root and the largest resolvent root), then one Newton
    step. Where that step moves some root by more than _FERRARI_TRUST relative (degenerate
    resolvent, or roots spread over many orders of magnitude: Ferrari's shift by a/4 then
    wipes out the small ones) the roots are recomputed as balanced companion-matrix
    eigenvalues, which keep every root to relative accuracy."""
    return _roots_and_slopes(c)[0]


def _roots_and_slopes(c):
    """(roots, P'(roots)) of :func:`quartic_roots`."""
    roots = _ferrari(c)
    polished, dp = _newton_polish(c, roots)
    with np.errstate(all="ignore"):
        moved = np.abs(polished - roots) > _FERRARI_TRUST * np.abs(polished)
    bad = np.any(moved | ~np.isfinite(polished), axis=-1)
    if np.any(bad):
        comp = np.zeros((np.count_nonzero(bad), 4, 4), dtype=c.dtype)
        comp[:, 0, :] = -c[bad][:, 1:]
        comp[:, 1, 0] = comp[:, 2, 1] = comp[:, 3, 2] = 1.0
        polished[bad], dp[bad] = _newton_polish(c[bad], np.linalg.eigvals(comp))
    return polished, dp


def _newton_polish(c, roots):
    """One Newton step on each root, kept only where it reduces |P| (at near double roots
    P' ~ 0 and a raw step can jump to another root); returns the roots and P' there."""
    cc = c[..., None, :]
    with np.errstate(all="ignore"):
        p, dp = _horner(cc, roots)
        trial = roots - p / dp
        p_trial, dp_trial = _horner(cc, trial)
        better = np.abs(p_trial) < np.abs(p)
    return np.where(better, trial, roots), np.where(better, dp_trial, dp)


def _ferrari(c):
    a, b, cc, d = (c[..., k].astype(complex) for k in range(1, 5))
    with np.errstate(all="ignore"):
        a2 = a * a
        p = b - 3 * a2 / 8
        q = cc - a * b / 2 + a2 * a / 8
        r = d - a * cc / 4 + a2 * b / 16 - 3 * a2 * a2 / 256
        # Resolvent cubic m³ + p m² + (p²/4 − r) m − q²/8 = 0, depressed by m = t − p/3.
        big_p = (p * p / 4 - r) - p * p / 3
        big_q = 2 * p**3 / 27 - p * (p * p / 4 - r) / 3 - q * q / 8
        disc = np.sqrt(big_q * big_q / 4 + big_p**3 / 27)
        u3 = np.where(np.abs(-big_q / 2 + disc) >= np.abs(-big_q / 2 - disc),
                      -big_q / 2 + disc, -big_q / 2 - disc)
        u = u3 ** (1 / 3)
        omega = np.exp(2j * np.pi / 3)
        ms = np.stack([uk - big_p / (3 * uk) - p / 3 for uk in (u, u * omega, u * omega**2)], axis=-1)
        ms = np.where(np.abs(u3)[..., None] == 0, (-p / 3)[..., None], ms)
        m = np.take_along_axis(ms, np.argmax(np.abs(ms), axis=-1)[..., None], axis=-1)[..., 0]
        w = np.sqrt(2 * m)
        s_plus = np.sqrt(-2 * p - 2 * m - 2 * q / w)
        s_minus = np.sqrt(-2 * p - 2 * m + 2 * q / w)
        y = np.stack([(w + s_plus) / 2, (w - s_plus) / 2, (-w + s_minus) / 2, (-w - s_minus) / 2], axis=-1)
    return y - (a / 4)[..., None]


def _horner(c, t):
    """Horner values P(t), P'(t); the leading axes of the coefficient stack c (..., 5) broadcast
    against t."""
    p = np.ones_like(t) * c[..., 0]
    dp = np.zeros_like(t)
    for k in range(1, c.shape[-1]):
        dp = dp * t + p
        p = p * t + c[..., k]
    return p, dp


def _rounding_bound(c, t, dp):
    """First-order bound on the rounding error of the roots t: eps·Σ|c_k||t|^k / |P'(t)|."""
    a = np.abs(t)
    mag = np.zeros_like(a)
    for k in range(c.shape[-1]):
        mag = mag * a + np.abs(c[..., k])
    with np.errstate(divide="ignore", invalid="ignore"):
        return 64 * _EPS * mag / np.abs(dp)


def _blocks(tau, z, b, kappa):
    """(g, g1, g2) from τ in the τ parametrisation (module docstring)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 2.0 * (z - tau) / b**2
        g2 = 1.0 / tau
        g1 = (g - (1.0 - kappa) * g2) / kappa
    return g, g1, g2


def _select_real_axis(z, b, b1, kappa, x1):
    """Physical (τ, g1) at λ + i0 for real λ = z (z and x1 arrays of the same shape)."""
    z = np.asarray(z, dtype=float)
    block, roots, tau, g1, noise, noise_tau, noise_g1, dtau, dg1 = _sheets(z, b, b1, kappa, x1, slopes=True)
    with np.errstate(all="ignore"):
        nonreal = (np.abs(tau.imag) > noise_tau) & (np.abs(g1.imag) > noise_g1)
        complex_ok = nonreal & (tau.imag > 0) & (g1.imag < 0)
    score = np.where(complex_ok, 2.0, -2.0)
    off = ~np.any(complex_ok, axis=-1)
    if np.any(off):
        # Off the support: score the real roots by the signs of τ' and g1'.
        gg1 = g1[off]
        with np.errstate(all="ignore"):
            rt, rg = dtau[off].real, dg1[off].real
            real_score = np.minimum(rt / (1 + np.abs(rt)), -rg / (np.abs(gg1) ** 2 + np.abs(rg)))
            real_score = np.where(np.isfinite(real_score), real_score, -np.inf)
        score[off] = np.where(nonreal[off], -2.0, real_score)
    pick = np.argmax(score, axis=-1)
    best = np.take_along_axis(score, pick[..., None], axis=-1)[..., 0]
    unsure = best < 0.25
    if np.any(unsure):
        # Only at (numerically) double roots, i.e. support edges, is no root certified: take
        # the real-axis root nearest to the certified physical root at z + iη (the colliding
        # pair agrees to O(√η) there, every other root is O(1) away).
        eta = _ETA * (b + np.abs(z[unsure]))
        near_tau, near_g1 = _select_upper(z[unsure] + 1j * eta, b, b1, kappa, x1[unsure])
        near = np.where(block[unsure], 1.0 / near_g1, near_tau)
        pick[unsure] = np.argmin(np.abs(roots[unsure] - near[..., None]), axis=-1)
    take = lambda a: np.take_along_axis(a, pick[..., None], axis=-1)[..., 0]  # noqa: E731
    r, is_complex = take(roots), take(complex_ok)
    # The physical root has Im τ > 0 and Im τ1 = −Im g1/|g1|² > 0: both forms take Im r ≥ 0.
    r = np.where(is_complex, r.real + 1j * np.abs(r.imag), r.real + 0j)
    rough = take(noise) > _REFINE * np.abs(r)
    for form, coefficients in ((False, _coefficients), (True, _block_coefficients)):
        redo = rough & (block == form)
        if np.any(redo):
            r[redo] = _refine_extended(coefficients, z[redo], b, b1, kappa, x1[redo], r[redo],
                                       take(noise)[redo])
    return _complete(block, r, z, b, b1, kappa, x1)


def _refine_extended(coefficients, z, b, b1, kappa, x1, tau, noise):
    """Re-solve the nearly double root pair (support edges) containing the real-axis root
    ``tau`` of the quartic ``coefficients`` (in τ, or in τ1 = 1/g1: the same rules apply) in
    extended precision (np.longdouble; a no-op gain where that is plain double).

    In double precision such a pair carries an error ~ eps/|P'| ~ √eps. Here P is expanded to
    second order about the pair's critical point τ0 (Newton on P', real since z is real), the
    pair is r± = τ0 + (−P' ± √(P'² − 2PP''))/P'', and the physical member is the one with
    Im τ > 0 (complex pair, inside the support) or with τ' = −P_z/P' > 0 (real pair, outside);
    for τ1 likewise (Im g1 < 0, g1' < 0). The result replaces ``tau`` only within 10 times
    its first-order rounding bound ``noise`` (≳ the pair separation at a true near-double
    root): elsewhere the quadratic model may describe a different pair.
    """
    ld = np.longdouble
    zl, x1l = z.astype(ld), x1.astype(ld)
    c = coefficients(zl, ld(b), ld(b1), ld(kappa), x1l)
    t0 = tau.real.astype(ld)
    with np.errstate(all="ignore"):
        for _ in range(6):
            p, dp, d2p = _horner2(c, t0)
            t0 = np.where(d2p != 0, t0 - dp / d2p, t0)
        p, dp, d2p = _horner2(c, t0)
        disc = dp * dp - 2 * p * d2p
        root = np.sqrt(np.abs(disc)) / d2p
        cz = coefficients(zl + 1j * ld(_COMPLEX_STEP), ld(b), ld(b1), ld(kappa), x1l).imag
        centre = t0 - dp / d2p
        # Real pair: at an edge the members' slopes −P_z/P' have opposite signs and τ' > 0
        # picks the physical one. Equal signs mean two sheets merely passing close (not an
        # edge, e.g. a far-away G-block cluster): the double-precision choice stands, so
        # keep the member nearest to it.
        ends = [centre + np.abs(root), centre - np.abs(root)]
        slope = [-_horner2(cz, m)[0] / _horner2(c, m)[1] for m in ends]
        by_slope = np.where(slope[0] > 0, ends[0], ends[1])
        nearest = np.where(np.abs(ends[0] - tau.real) <= np.abs(ends[1] - tau.real), ends[0], ends[1])
        real_pair = np.where(slope[0] * slope[1] < 0, by_slope, nearest)
        refined = np.where(disc < 0, centre + 1j * np.abs(root), real_pair + 0j)
        p, _ = _horner(c, refined)
        for _ in range(4):
            # Newton on P itself removes the quadratic model's O(separation²) error.
            _, dp = _horner(c, refined)
            trial = refined - p / dp
            trial = np.where(disc < 0, trial.real + 1j * np.abs(trial.imag), trial.real + 0j)
            p_trial, _ = _horner(c, trial)
            better = np.abs(p_trial) < np.abs(p)
            refined = np.where(better, trial, refined)
            p = np.where(better, p_trial, p)
    refined = refined.astype(complex)
    ok = np.isfinite(refined) & (np.abs(refined - tau) < np.minimum(1e-3 * np.abs(tau), 10 * noise))
    return np.where(ok, refined, tau)


def _horner2(c, t):
    """P(t), P'(t), P''(t) for a coefficient stack c (..., 5) broadcast against t."""
    p = np.ones_like(t) * c[..., 0]
    dp = np.zeros_like(t)
    d2p = np.zeros_like(t)
    for k in range(1, c.shape[-1]):
        d2p = d2p * t + 2 * dp
        dp = dp * t + p
        p = p * t + c[..., k]
    return p, dp, d2p


def _select_upper(z, b, b1, kappa, x1):
    """Physical (τ, g1) for Im z > 0: the unique solution with Im τ > 0 and Im g1 < 0."""
    tau, g1 = _sheets(z, b, b1, kappa, x1)[2:4]
    with np.errstate(all="ignore"):
        score = np.minimum(tau.imag / np.abs(tau), -g1.imag / np.abs(g1))
        score = np.where(np.isfinite(score), score, -np.inf)
    pick = np.argmax(score, axis=-1)[..., None]
    return (np.take_along_axis(tau, pick, axis=-1)[..., 0], np.take_along_axis(g1, pick, axis=-1)[..., 0])


def tau_branch(z, b, b1, kappa, x1):
    """Physical τ(z) = z − (b²/2) g(z); real z means λ + i0. Broadcasts z against x1."""
    return _branch(z, b, b1, kappa, x1)[0]


def _branch(z, b, b1, kappa, x1):
    """Physical (τ, g1) at z (real z: λ + i0), broadcasting z against x1."""
    b, b1, kappa = check_parameters(b, b1, kappa)
    x1 = finite_array("x1", x1)
    z = np.asarray(z)
    if np.iscomplexobj(z):
        z = z.astype(complex)
        if not np.all(np.isfinite(z)):
            finite_array("z", np.abs(z))
        upper = z.imag >= 0
        zu = np.where(upper, z, np.conj(z))
        zr, zx = np.broadcast_arrays(zu, x1)
        # Within a relative _ETA of the axis the signs of Im τ, Im g1 drown in rounding: select
        # on the axis, then move the root to z by Newton steps.
        on_axis = zr.imag <= _ETA * (b + np.abs(zr))
        tau = np.empty(zr.shape, dtype=complex)
        g1 = np.empty(zr.shape, dtype=complex)
        if np.any(on_axis):
            za, xa = zr[on_axis], zx[on_axis]
            t, u = _select_real_axis(za.real, b, b1, kappa, xa)
            if np.any(za.imag != 0):
                block = _block_form(za.real, b, b1, kappa, xa)
                c = np.where(block[:, None], _block_coefficients(za, b, b1, kappa, xa),
                             _coefficients(za, b, b1, kappa, xa))
                r = np.where(block, 1.0 / u, t)
                for _ in range(2):
                    r = _newton_polish(c, r[:, None])[0][:, 0]
                t, u = _complete(block, r, za, b, b1, kappa, xa)
            tau[on_axis], g1[on_axis] = t, u
        if np.any(~on_axis):
            tau[~on_axis], g1[~on_axis] = _select_upper(zr[~on_axis], b, b1, kappa, zx[~on_axis])
        upper = np.broadcast_to(upper, tau.shape)
        return np.where(upper, tau, np.conj(tau)), np.where(upper, g1, np.conj(g1))
    z = finite_array("z", z)
    shape = np.broadcast_shapes(z.shape, x1.shape)
    zr, xr = (np.atleast_1d(np.broadcast_to(a, shape)) for a in (z, x1))
    tau, g1 = _select_real_axis(zr, b, b1, kappa, xr)
    return tau.reshape(shape), g1.reshape(shape)


def stieltjes(z, b, b1, kappa, x1):
    """g(z) = ∫ dμ_{x1}(λ)/(z − λ) (so g ~ 1/z at infinity, Im g < 0 above the axis); real z
    is read as λ + i0, so Re g is the principal value and −Im g/π the density."""
    return block_stieltjes(z, b, b1, kappa, x1)[0]


def block_stieltjes(z, b, b1, kappa, x1):
    """(g, g1, g2): the full and the two block-trace Stieltjes transforms at z (real z: + i0)."""
    b, b1, kappa = check_parameters(b, b1, kappa)
    tau, g1 = _branch(z, b, b1, kappa, x1)
    z = np.asarray(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        g2 = 1.0 / tau
    g = kappa * g1 + (1 - kappa) * g2
    # Far from the support the quartic roots are poorly conditioned relative to g (τ ≈ z −
    # b²/(2z)); polish there on the Dyson equations themselves.
    far = np.abs(z) > 100 * np.abs(z - tau)
    if np.any(far):
        zf, x1f, g1f, g2f = (np.broadcast_to(a, far.shape)[far] for a in (z, np.asarray(x1, float), g1, g2))
        g1, g2 = np.array(np.broadcast_to(g1, far.shape)), np.array(np.broadcast_to(g2, far.shape))
        g1[far], g2[far] = _polish_dyson(zf, b, b1, kappa, x1f, g1f, g2f)
        g = kappa * g1 + (1 - kappa) * g2
    return g, g1, g2


def _polish_dyson(z, b, b1, kappa, x1, g1, g2):
    """Newton steps on the Dyson equations in (g1, g2) themselves, well conditioned far from
    the support; a step is kept only if it cuts the residual by 4."""
    c, c1 = b**2 / 2, b1**2 / 2

    def residual(u1, u2):
        a1 = z + x1 - c * (kappa * u1 + (1 - kappa) * u2) - c1 * u1
        a2 = z - c * (kappa * u1 + (1 - kappa) * u2)
        return u1 * a1 - 1, u2 * a2 - 1, a1, a2

    f1, f2, a1, a2 = residual(g1, g2)
    with np.errstate(all="ignore"):
        for _ in range(2):
            j11, j12 = a1 - g1 * (c * kappa + c1), -g1 * c * (1 - kappa)
            j21, j22 = -g2 * c * kappa, a2 - g2 * c * (1 - kappa)
            det = j11 * j22 - j12 * j21
            t1 = g1 - (f1 * j22 - f2 * j12) / det
            t2 = g2 - (j11 * f2 - j21 * f1) / det
            n1, n2, b1_, b2_ = residual(t1, t2)
            better = np.abs(n1) + np.abs(n2) < 0.25 * (np.abs(f1) + np.abs(f2))
            g1, g2 = np.where(better, t1, g1), np.where(better, t2, g2)
            f1, f2 = np.where(better, n1, f1), np.where(better, n2, f2)
            a1, a2 = np.where(better, b1_, a1), np.where(better, b2_, a2)
    return g1, g2


def density(lam, b, b1, kappa, x1):
    """ρ(λ) of μ_{x1}, the limiting spectral density of H(0, x1) (paper eq. 164, corrected
    branch rule); broadcasts λ against x1.

    Fast path: the real τ-quartic split by real Ferrari with certified roots
    (:mod:`numerics.real_quartic`). Then ρ = 2 Im τ/(π b²) for the one root with Im τ > 0 and
    Im g1 < 0, i.e. |τ|² > (1 − κ) b²/2 (g1 = (g − (1 − κ)/τ)/κ, Im g = −2 Im τ/b²), and
    ρ = 0 where no root is physical. Points where a root or the physical test is not
    certified, or the physical root only to worse than _DENSITY_TOL relative (support edges,
    near-double roots), or where :func:`_block_form` holds, take the full path
    :func:`_branch`."""
    b, b1, kappa = check_parameters(b, b1, kappa)
    lam = finite_array("lam", lam)
    x1 = finite_array("x1", x1)
    shape = np.broadcast_shapes(lam.shape, x1.shape)
    flat_lam = np.broadcast_to(lam, shape).ravel()
    flat_x1 = np.broadcast_to(x1, shape).ravel()
    # The τ-quartic's roots carry no digit of g where the τ1 form is needed: skip them there.
    unsure = _block_form(flat_lam, b, b1, kappa, flat_x1)
    easy = ~unsure
    lam_easy, x1_easy = flat_lam[easy], flat_x1[easy]
    rho_easy = np.empty(lam_easy.shape)
    unsure_easy = np.empty(lam_easy.shape, dtype=bool)
    # Chunks keep the ~100 temporaries in cache; whole-array temporaries cost more in page
    # faults than the arithmetic.
    for start in range(0, lam_easy.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        rho_easy[part], unsure_easy[part] = _density_certified(lam_easy[part], b, b1, kappa, x1_easy[part])
    rho = np.empty(flat_lam.shape)
    rho[easy], unsure[easy] = rho_easy, unsure_easy
    if np.any(unsure):
        tau, g1 = _branch(flat_lam[unsure], b, b1, kappa, flat_x1[unsure])
        with np.errstate(divide="ignore", invalid="ignore"):
            rho[unsure] = -(kappa * g1.imag + (1.0 - kappa) * (1.0 / tau).imag) / np.pi
    return rho.reshape(shape)


def _density_certified(lam, b, b1, kappa, x1):
    """(ρ, unsure) on 1-d λ, x1 (outside :func:`_block_form`) by the certified real-Ferrari
    path of :func:`density`. Only the upper root of each real quadratic factor can have Im τ > 0 (:mod:`numerics.real_quartic`)."""
    _, a, bb, c, d = quartic_coefficients(lam, b, b1, kappa, x1)
    re, im, err, ok = upper_roots(a, bb, c, d)
    threshold = (1.0 - kappa) * b**2 / 2
    rho = 0.0
    n_physical = 0
    for k in (0, 1):
        modulus2 = re[k] * re[k] + im[k] * im[k]
        modulus = np.sqrt(modulus2)
        candidate = im[k] > 0.0
        physical = candidate & (modulus2 > threshold)
        # |τ|² − threshold must clear its error, and the density its relative tolerance.
        decided = np.abs(modulus2 - threshold) > 2.0 * err[k] * (modulus + err[k])
        ok &= (decided | ~candidate) & ((err[k] <= _DENSITY_TOL * modulus) | ~physical)
        rho = rho + im[k] * physical
        n_physical = n_physical + physical
    ok &= n_physical <= 1
    return (2.0 / (np.pi * b**2)) * rho, ~ok


def complex_log_potential(z, b, b1, kappa, x1):
    """L(z) = ∫ log(z − λ) dμ_{x1}(λ), the branch real on (max supp, ∞); real z means λ + i0,
    where Re L = Φ(λ, x1) (paper eq. 170) and Im L = π (1 − F(λ)), F the distribution
    function of μ_{x1}. Broadcasts z against x1.

    Closed form from the Dyson equations (module docstring): with g, g1, g2 at z,

        L = x g + κ x1 g1 − (b²/4) g² − κ (b1²/4) g1² − κ log g1 − (1 − κ) log g2 − 1.

    Its z-derivative is g by the Dyson equations and it behaves as 1 + log z at infinity,
    whence the −1. It is stationary in (g1, g2) at the solution (the Dyson equations are its
    critical-point conditions), so root errors enter only quadratically, also at the edges.
    The logs take arguments in [−π, 0], continuous from +∞ because Im g1, Im g2 ≤ 0 on and
    above the axis.
    """
    b, b1, kappa = check_parameters(b, b1, kappa)
    x1 = finite_array("x1", x1)
    g, g1, g2 = block_stieltjes(z, b, b1, kappa, x1)
    z = np.asarray(z)
    bracket = z * g + kappa * x1 * g1 - (b**2 / 4) * g**2 - kappa * (b1**2 / 4) * g1**2

    def log(w):
        # |Im w| maps a signed zero to +0, so a negative real w gets the argument −π.
        return np.log(np.abs(w)) - 1j * np.arctan2(np.abs(w.imag), w.real)

    return bracket - kappa * log(g1) - (1 - kappa) * log(g2) - 1.0


def log_potential(x, b, b1, kappa, x1):
    """Φ(x, x1) = ∫ log|λ − x| dμ_{x1}(λ) (paper eq. 170), broadcasting x against x1
    (closed form: :func:`complex_log_potential`)."""
    x = finite_array("x", x)
    return complex_log_potential(x, b, b1, kappa, x1).real


def distribution_function(lam, b, b1, kappa, x1):
    """F(λ) = μ_{x1}((−∞, λ]) in closed form, 1 − Im L(λ + i0)/π (:func:`complex_log_potential`)."""
    lam = finite_array("lam", lam)
    return 1.0 - complex_log_potential(lam, b, b1, kappa, x1).imag / np.pi


def support_box(b, b1, x1):
    """An interval certain to contain the spectrum of H(0, x1): ‖b M‖ ≤ √2 b and
    ‖b1 M1‖ ≤ √2 b1 in the limit, and the shift lies between −x1 and 0."""
    r = np.sqrt(2.0) * (b + b1)
    return min(-x1, 0.0) - r, max(-x1, 0.0) + r


def support(b, b1, kappa, x1):
    """Support of μ_{x1} as a list of disjoint closed intervals [(lo, hi), ...], increasing.

    Edge candidates are the real roots of the quartic's discriminant in z (where two branches
    of τ collide); an interval between consecutive candidates belongs to the support iff the
    density is positive at its midpoint.
    """
    b, b1, kappa = check_parameters(b, b1, kappa)
    x1 = finite("x1", x1)
    scale = b + b1 + abs(x1)
    coeffs = np.array(discriminant_coefficients(b, b1, kappa, x1), dtype=float)
    lo, hi = support_box(b, b1, x1)
    roots = np.roots(coeffs)
    real = roots[np.abs(roots.imag) <= 1e-7 * scale].real
    cand = np.unique(np.concatenate([[lo, hi], real[(real > lo) & (real < hi)]]))
    mids = 0.5 * (cand[:-1] + cand[1:])
    inside = density(mids, b, b1, kappa, x1) > 0
    intervals = []
    for (a, c), on in zip(zip(cand[:-1], cand[1:]), inside):
        if not on:
            continue
        if intervals and intervals[-1][1] == a:
            intervals[-1] = (intervals[-1][0], c)
        else:
            intervals.append((a, c))
    return [(float(a), float(c)) for a, c in intervals]


def n_components(b, b1, kappa, x1):
    """Number of connected components of the support of μ_{x1}."""
    return len(support(b, b1, kappa, x1))


# ---------------------------------------------------------------------------------------
# High-precision path (mpmath, working precision of mpmath.mp): the same branch rule.


def tau_branch_mp(z, b, b1, kappa, x1):
    """Physical τ(z) at mpmath precision for a single z (real z: λ + i0)."""
    z = mpmath.mpmathify(z)
    b, b1, kappa, x1 = (mpmath.mpf(v) for v in (b, b1, kappa, x1))
    coeffs = quartic_coefficients_mp(z, b, b1, kappa, x1)
    roots = mpmath.polyroots([mpmath.mpmathify(c) for c in coeffs], maxsteps=200,
                             extraprec=2 * mpmath.mp.prec)
    on_axis = mpmath.im(z) == 0
    tiny = mpmath.mpf(2) ** (-mpmath.mp.prec // 2) * (abs(b) + abs(b1) + abs(x1) + abs(z))
    best, best_score = None, -mpmath.inf
    for t in roots:
        t = mpmath.mpc(t)
        g = 2 * (z - t) / b**2
        g1 = (g - (1 - kappa) / t) / kappa
        if on_axis and abs(mpmath.im(t)) <= tiny:
            dpdz = mpmath.diff(lambda s: _poly_mp(quartic_coefficients_mp(s, b, b1, kappa, x1), t),
                               mpmath.re(z))
            dpdt = mpmath.diff(lambda s: _poly_mp(coeffs, s), mpmath.re(t))
            dt = -mpmath.re(dpdz / dpdt)
            dg = 2 * (1 - dt) / b**2
            dg1 = (dg + (1 - kappa) * dt / mpmath.re(t) ** 2) / kappa
            score = min(dt / (1 + abs(dt)), -dg1 / (abs(g1) ** 2 + abs(dg1)))
            t = mpmath.mpc(mpmath.re(t), 0)
        elif mpmath.im(t) > 0 and mpmath.im(g1) < 0:
            score = 2
        else:
            score = -2
        if score > best_score:
            best, best_score = t, score
    return best


def _poly_mp(coeffs, t):
    return mpmath.polyval([mpmath.mpmathify(c) for c in coeffs], t)


def stieltjes_mp(z, b, b1, kappa, x1):
    """g(z) at mpmath precision (single z)."""
    tau = tau_branch_mp(z, b, b1, kappa, x1)
    return 2 * (mpmath.mpmathify(z) - tau) / mpmath.mpf(b) ** 2


def density_mp(lam, b, b1, kappa, x1):
    """ρ(λ) at mpmath precision (single λ)."""
    tau = tau_branch_mp(mpmath.mpf(lam), b, b1, kappa, x1)
    return 2 * mpmath.im(tau) / (mpmath.pi * mpmath.mpf(b) ** 2)


def support_mp(b, b1, kappa, x1):
    """Support edges polished at mpmath precision: the real discriminant roots closest to the
    double-precision edges of :func:`support`."""
    edges = support(b, b1, kappa, x1)
    coeffs = [mpmath.mpmathify(c) for c in discriminant_coefficients_mp(
        mpmath.mpf(b), mpmath.mpf(b1), mpmath.mpf(kappa), mpmath.mpf(x1))]
    polish = lambda e: mpmath.findroot(lambda s: mpmath.polyval(coeffs, s), mpmath.mpf(e))  # noqa: E731
    return [(polish(lo), polish(hi)) for lo, hi in edges]


def density_max_rule(lam, b, b1, kappa, x1, published: bool = False):
    """The paper's own evaluation (eq. 164): per point, ``numpy.roots`` of the quartic and
    ρ = 2/(π b²) · max over roots of max(Im τ, 0). A per-point Python loop, kept as the
    baseline of ``benchmarks/bench_spectrum.py`` and, with ``published=True`` (eq. 163 as
    published), for the derived-versus-published comparison against sampled spectra."""
    b, b1, kappa = check_parameters(b, b1, kappa)
    lam = finite_array("lam", lam)
    x1 = finite("x1", x1)
    coefficients = published_quartic_coefficients if published else quartic_coefficients
    out = np.empty(lam.shape)
    for i, z in np.ndenumerate(lam):
        roots = np.roots(np.array(coefficients(z, b, b1, kappa, x1), dtype=float))
        out[i] = 2.0 / (np.pi * b**2) * max(0.0, float(np.max(roots.imag)))
    return out
