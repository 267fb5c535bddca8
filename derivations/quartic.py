"""The quartic for the limiting spectral density (paper §4, eqs 158-164; MODEL.md §4).

Starting point: the Dyson (Pastur) equations for the block resolvents of
H(0, x1) = b·M + b1·diag(M1, 0) − x1·diag(I_{κN}, 0), with M ~ GOE_N, M1 ~ GOE_{κN}
(off-diagonal variance 1/(2n), each normalised by its own size), G(z) = (z − H)^{-1}:

    g1 = 1 / (z + x1 − (b²/2) g − (b1²/2) g1),   g2 = 1 / (z − (b²/2) g),   g = κ g1 + (1−κ) g2.

With τ = z − (b²/2) g we have g2 = 1/τ and g = 2(z − τ)/b², so g1 = (g − (1−κ)/τ)/κ, and the
first equation becomes a polynomial in τ after clearing denominators. SymPy does the
elimination; :func:`published_quartic` is the paper's eq. (163) as transcribed in MODEL.md,
kept only so the two can be compared coefficient by coefficient.
"""

from __future__ import annotations

import sympy as sp

from derivations.codegen import Evaluator

z, x1, b, b1, kappa, tau = sp.symbols("z x1 b b1 kappa tau")


def stieltjes_from_tau(t):
    """g(z) in terms of τ: g = 2(z − τ)/b²."""
    return 2 * (z - t) / b**2


def derived_quartic() -> sp.Poly:
    """Polynomial in τ whose roots contain τ(z) = z − (b²/2) g(z), normalised to leading
    coefficient 1 (eliminated from the Dyson equations above)."""
    g = stieltjes_from_tau(tau)
    g1 = (g - (1 - kappa) / tau) / kappa
    numerator, _ = sp.fraction(sp.together(g1 * (tau + x1 - b1**2 / 2 * g1) - 1))
    poly = sp.Poly(sp.expand(numerator), tau)
    return sp.Poly([sp.factor(c / poly.LC()) for c in poly.all_coeffs()], tau)


def block_quartic() -> sp.Poly:
    """Monic polynomial in τ1 = 1/g1 = z + x1 − (b²/2) g − (b1²/2) g1 (the D-block analogue of
    τ = 1/g2) whose roots contain τ1(z). Its Dyson equation gives τ = τ1 + (b1²/2)/τ1 − x1
    with no division by b, so unlike the τ-quartic it keeps g = κ/τ1 + (1 − κ)/τ accurate
    when b² ≪ |z|, |x1|, b1² (there g = 2(z − τ)/b² cancels catastrophically). The leading
    coefficient is a pure number, so b1 = 0 is regular (τ1 = 0 is then a spurious root)."""
    t1 = sp.Symbol("tau1")
    t = t1 + b1**2 / 2 / t1 - x1
    numerator, _ = sp.fraction(sp.together(b**2 / 2 * (kappa / t1 + (1 - kappa) / t) - (z - t)))
    poly = sp.Poly(sp.expand(numerator), t1)
    return sp.Poly([sp.factor(c / poly.LC()) for c in poly.all_coeffs()], t1)


def published_quartic() -> sp.Poly:
    """Eq. (163) as published (MODEL.md §4), normalised to leading coefficient 1."""
    D = 1 + b1**2 / (kappa * b**2)
    E = x1 - b1**2 / (kappa * b**2) * z
    F = -(1 - kappa) * b1**2 / (2 * kappa)
    poly = sp.Poly(
        sp.expand((tau**2 - z * tau + (1 - kappa) * b**2 / 2) * (D * tau**2 + E * tau + F)
                  + kappa * b**2 / 2 * tau**2),
        tau,
    )
    return sp.Poly([sp.factor(c / poly.LC()) for c in poly.all_coeffs()], tau)


def quartic_difference() -> list:
    """Coefficient-wise derived − published (highest power first); all zero iff they agree."""
    return [sp.factor(d - p) for d, p in zip(derived_quartic().all_coeffs(),
                                             published_quartic().all_coeffs())]


def discriminant_in_z() -> sp.Poly:
    """Discriminant of the derived quartic in τ, as a polynomial in z. The support edges of
    the density are among its real roots (where two branches of τ(z) collide)."""
    disc = sp.discriminant(derived_quartic().as_expr(), tau)
    numerator, _ = sp.fraction(sp.together(disc))
    # Primitive rather than monic: the leading coefficient vanishes at b1 = 0 and x1² = 2 b1²,
    # where dividing by it would make the evaluator singular although the edges are fine.
    _, primitive = sp.Poly(sp.expand(numerator), z).primitive()
    return primitive


def evaluators() -> list[Evaluator]:
    return [
        Evaluator(
            "quartic_coefficients", (z, b, b1, kappa, x1), tuple(derived_quartic().all_coeffs()),
            "Coefficients (τ⁴ first, monic) of the quartic in τ = z − (b²/2)g, derived from the "
            "Dyson equations (MODEL.md §4; paper eq. 163).",
        ),
        Evaluator(
            "block_quartic_coefficients", (z, b, b1, kappa, x1), tuple(block_quartic().all_coeffs()),
            "Coefficients (τ1⁴ first, monic) of the quartic in τ1 = 1/g1, derived from the Dyson "
            "equations (MODEL.md §4); accurate where b is small.",
        ),
        Evaluator(
            "published_quartic_coefficients", (z, b, b1, kappa, x1),
            tuple(published_quartic().all_coeffs()),
            "Coefficients (τ⁴ first, monic) of the paper's eq. (163) as published, for comparison.",
        ),
        Evaluator(
            "discriminant_coefficients", (b, b1, kappa, x1), tuple(discriminant_in_z().all_coeffs()),
            "Coefficients (highest power of z first, primitive over Z[b, b1, kappa, x1]) of the "
            "quartic's discriminant in z; support edges are among its real roots.",
        ),
    ]


def report() -> str:
    q = derived_quartic()
    diff = quartic_difference()
    rows = "\n".join(
        f"| τ^{4 - i} | ${sp.latex(c)}$ | ${sp.latex(d)}$ |"
        for i, (c, d) in enumerate(zip(q.all_coeffs(), diff))
    )
    return (
        "## The quartic (paper §4, eq. 163)\n\n"
        "Eliminating g₁, g₂ from the Dyson equations with τ = z − (b²/2)g gives the monic quartic "
        "below. The last column is derived − published (eq. 163 as transcribed in MODEL.md §4).\n\n"
        "| power | derived coefficient | derived − published |\n|---|---|---|\n" + rows + "\n\n"
        f"The discriminant in z has degree {discriminant_in_z().degree()}.\n"
    )
