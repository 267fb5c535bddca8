"""Real quartics with certified roots: the fast path of the density on the real axis (paper §4,
eqs 163-164; MODEL.md §4).

At real z the τ-quartic P has real coefficients, so it splits over the reals into two
quadratics, found in real arithmetic by Ferrari's method:

    y⁴ + p y² + q y + r = (y² − w y + e_A)(y² + w y + e_B),   y = τ + a/4,

with w² = 2m, m the largest root of the resolvent cubic m³ + p m² + (p²/4 − r) m − q²/8 (real
and ≥ 0, polished by one Newton step), e_A, e_B = p/2 + m ± q/(2w) (the smaller in magnitude
as r over the larger). Every root then comes with an a-posteriori error bound: the
factorisation residual and the rounding of the coefficients, a polynomial E(|y|), divided by the
exact |P'(y)| of the factored form, |P'(y)| = |y − ȳ'| · |other quadratic at y| (ȳ' the root's
partner in its own quadratic), and doubled to cover the second-order terms. A root is
*certified* when that bound is a small fraction of its distance to every other root: then the
disc around it holds exactly one root of P, which is non-real iff the computed one is
(conjugate roots come in pairs). Roots that are not certified (near-multiple roots: support
edges) are left to the general solver of :mod:`numerics.spectrum`.
"""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(float).eps
# Safety factor on the first-order rounding of the coefficients and of the depressed form.
_ROUNDING = 16 * _EPS
# A root is certified when its error bound is below this fraction of its separation.
_SEPARATION = 0.05
# Factor on the first-order error estimate covering the second-order terms, which are a few
# per cent of it once the estimate is below _SEPARATION of the separation.
_FIRST_ORDER = 2.0


def factor(a, b, c, d):
    """Ferrari factorisation of the real monic quartic τ⁴ + a τ³ + b τ² + c τ + d (arrays):
    (w, e_A, e_B, (p, q, r)) with P(τ) = (y² − w y + e_A)(y² + w y + e_B), y = τ + a/4, and
    (p, q, r) the depressed coefficients (module docstring). NaN where m = 0 (q = 0)."""
    with np.errstate(all="ignore"):
        a2 = a * a
        p = b - 0.375 * a2
        q = c - 0.5 * a * b + 0.125 * a2 * a
        r = d - 0.25 * a * c + 0.0625 * a2 * b - 0.01171875 * a2 * a2
        # Resolvent depressed by m = t − p/3: t³ + P t + Q = 0.
        pp = p * p
        big_p = -pp / 12.0 - r
        big_q = -pp * p / 108.0 + p * r / 3.0 - 0.125 * q * q
        disc = 0.25 * big_q * big_q + big_p * big_p * big_p / 27.0
        # One real root: Cardano with the cube root of the larger-magnitude term (no cancellation).
        u = np.cbrt(-0.5 * big_q - np.copysign(np.sqrt(np.maximum(disc, 0.0)), big_q))
        t_one = u - big_p / (3.0 * u)
        t_one = np.where(u == 0.0, 0.0, t_one)
        # Three real roots (P ≤ 0): the largest is the k = 0 trigonometric one.
        s = np.sqrt(np.maximum(-big_p / 3.0, 0.0))
        cos3 = np.clip(-0.5 * big_q / (s * s * s), -1.0, 1.0)
        t_three = 2.0 * s * np.cos(np.arccos(cos3) / 3.0)
        m = np.where(disc > 0.0, t_one, t_three) - p / 3.0
        # One Newton step on the undepressed resolvent: Cardano's m carries the rounding of P,
        # Q, which cancel when the quartic's roots spread over orders of magnitude.
        linear = 0.25 * pp - r
        m = m - (((m + p) * m + linear) * m - 0.125 * q * q) / ((3.0 * m + 2.0 * p) * m + linear)
        w = np.sqrt(2.0 * m)
        h = q / (2.0 * w)
        half = 0.5 * p + m
        # e_A e_B = r: the larger of half ± h directly, the other from the product (no
        # cancellation).
        same = (h >= 0.0) == (half >= 0.0)
        big = half + np.copysign(h, half)
        other = r / big
        return w, np.where(same, big, other), np.where(same, other, big), (p, q, r)


def upper_roots(a, b, c, d):
    """The "upper" root of each real quadratic factor of τ⁴ + a τ³ + b τ² + c τ + d (arrays)
    with error bounds, and whether all four roots are certified (module docstring).

    Returns (re, im, err, ok): pairs (first factor, second factor) of real parts, imaginary
    parts and error bounds of the root with Im > 0 of a complex pair, or the larger-magnitude
    root of a real pair; the other root of each factor is the conjugate, or e/(upper root),
    and is certified too. NaN inputs give ok = False. Distances are bounded by |Re| + |Im|
    where that is cheaper than the modulus: the bounds only get more conservative."""
    w, e_a, e_b, (p, q, r) = factor(a, b, c, d)
    # Bound on the perturbation of the depressed coefficients: the factorisation residual plus
    # first-order rounding of a..d and of the depression.
    abs_a, abs_b = np.abs(a), np.abs(b)
    a2 = a * a
    err2 = np.abs(e_a + e_b - w * w - p) + _ROUNDING * (abs_b + 0.375 * a2)
    err1 = np.abs(w * (e_a - e_b) - q) + _ROUNDING * (np.abs(c) + abs_a * (0.5 * abs_b + 0.125 * a2))
    err0 = np.abs(e_a * e_b - r) + _ROUNDING * (
        np.abs(d) + abs_a * (0.25 * np.abs(c) + abs_a * (0.0625 * abs_b + 0.01171875 * a2)))
    shift = 0.25 * a
    shift_err = _ROUNDING * np.abs(shift)
    re, im, err = [], [], []
    ok = np.isfinite(w) & np.isfinite(e_a) & np.isfinite(e_b)

    def perturbation(y_abs):
        return _FIRST_ORDER * ((err2 * y_abs + err1) * y_abs + err0)

    with np.errstate(all="ignore"):
        for sw, e, e_other in ((w, e_a, e_b), (-w, e_b, e_a)):
            # Own factor y² − sw·y + e, centre sw/2; the other is y² + sw·y + e_other, centre
            # −sw/2, its roots within |y + centre| + half_other of y.
            centre = 0.5 * sw
            centre2 = centre * centre
            disc = centre2 - e
            half_gap = np.sqrt(np.abs(disc))
            gap = 2.0 * half_gap
            half_other = np.sqrt(np.abs(centre2 - e_other))
            real_pair = disc >= 0.0
            # Rounding of the quadratic's discriminant moves the pair by |δdisc|/(2·half_gap).
            quad_err = _ROUNDING * (centre2 + np.abs(e)) / gap
            # Real pair: the larger-magnitude root directly, the other as e/it (no cancellation).
            big = centre + np.copysign(half_gap, centre) * real_pair
            y_im = half_gap * ~real_pair
            o_re = (big + sw) * big - y_im * y_im + e_other
            o_im = (2.0 * big + sw) * y_im
            o_abs = np.sqrt(o_re * o_re + o_im * o_im)
            y_abs = np.abs(big)
            bound = perturbation(y_abs + y_im) / (gap * o_abs) + quad_err
            far = np.abs(big + centre) + y_im + half_other
            ok &= (bound < _SEPARATION * gap) & (bound * far < _SEPARATION * o_abs)
            small = e / big
            o_small = np.abs((small + sw) * small + e_other)
            bound_small = perturbation(np.abs(small)) / (gap * o_small) + quad_err
            far_small = np.abs(small + centre) + half_other
            ok &= ~real_pair | ((bound_small < _SEPARATION * gap) & (bound_small * far_small < _SEPARATION * o_small))
            re.append(big - shift)
            im.append(y_im)
            err.append(bound + _ROUNDING * y_abs + shift_err)
    return tuple(re), tuple(im), tuple(err), ok
