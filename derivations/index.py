"""GOE large-deviation rate and the index-prescribed terms (paper §5.1, eqs 244-260;
MODEL.md §6).

Rate. A GOE_n whose semicircle has edge E has eigenvalue density ∝ Π|λ_i − λ_j|
exp(−(n/E²) Σ λ²) (our normalisation: E = √2 for off-diagonal variance 1/(2n)). Pulling one
eigenvalue to u > E costs n·I(u; E) with I'(u) = 2u/E² − G(u), G the semicircle Stieltjes
transform (the root of (E²/4)G² − uG + 1 = 0 with G ~ 1/u), and I(E) = 0. SymPy integrates it.

Blocks. The D block of H(x, x1) is b1·M1 + b·M_DD − (x + x1): an upper-left κN block of
b·M is √κ·b·GOE_{κN}, so the D block is a GOE_{κN} with scale √(κb² + b1²) and edge
E_D = √2·√(κb² + b1²). The G block is √(1−κ)·b·GOE_{(1−κ)N} − x, edge E_G = √2·√(1−κ)·b.
Hess L_D is the D block of J_sym (not negated): index k_D = #eigenvalues of W_D below x + x1,
so k_D outliers need x + x1 ≤ −E_D and cost N·κ·k_D·I(x + x1; E_D). Hess L_G = −(G block of
J_sym): index k_G = #eigenvalues of W_G above x, so x ≥ E_G and cost N·(1−κ)·k_G·I(x; E_G).
For k = 0 the whole bulk must lie on the right side: the same edge condition, no cost.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from derivations import hessian
from derivations.codegen import Evaluator

p, q, kappa, sigma_z = hessian.ARGS
u, E, t = sp.symbols("u E t", positive=True)


@lru_cache(maxsize=None)
def semicircle_stieltjes() -> sp.Expr:
    """G(u) for u > E: the root of (E²/4)G² − uG + 1 = 0 that decays like 1/u."""
    G = sp.symbols("G")
    roots = sp.solve(E**2 / 4 * G**2 - u * G + 1, G)
    return next(r for r in roots if sp.limit(r * u, u, sp.oo) == 1)


@lru_cache(maxsize=None)
def goe_rate() -> sp.Expr:
    """I(u; E) = ∫_E^u (2t/E² − G(t)) dt for u ≥ E (eq. 253)."""
    integrand = sp.simplify((2 * u / E**2 - semicircle_stieltjes()).subs(u, t))
    return sp.simplify(sp.integrate(integrand, (t, E, u)))


def published_rate() -> sp.Expr:
    """Eq. (253) as printed in MODEL.md §6, for u ≥ E."""
    r = sp.sqrt(u**2 - E**2)
    return u * r / E**2 - sp.log((u + r) / E)


@lru_cache(maxsize=None)
def block_edges() -> tuple[sp.Expr, sp.Expr]:
    """(E_D, E_G) from the conditional covariance of J_sym's off-diagonal entries:
    a GOE_n block with off-diagonal variance c²/(2n) of H has edge √2·c."""
    names = list(hessian.J_ENTRIES)
    fl = hessian.conditional_law()[1]
    var_dd = fl[names.index("DD12"), names.index("DD12")]
    var_gg = fl[names.index("GG12"), names.index("GG12")]
    return sp.sqrt(sp.factor(2 * 2 * kappa * var_dd)), sp.sqrt(sp.factor(2 * 2 * (1 - kappa) * var_gg))


def edges_in_b() -> tuple[sp.Expr, sp.Expr]:
    """(E_D, E_G) written with b, b1 (checked equal to :func:`block_edges` in tests)."""
    b, b1 = hessian.b, hessian.b1
    return sp.sqrt(2 * (kappa * b**2 + b1**2)), sp.sqrt(2 * (1 - kappa)) * b


#: Sign with which each loss Hessian appears in J_sym's diagonal blocks (G row negated).
HESSIAN_SIGN_IN_JSYM = {"D": 1, "G": -1}


def index_structure() -> tuple:
    """(index_d_map, index_g_map, index_d_sign, index_g_sign): block shift s = map·(x, x1)
    (the D block of J_sym/√N is W_D − (x + x1), the G block W_G − x); the index counts
    eigenvalues of the loss Hessian below 0, i.e. of W below s when the Hessian enters J_sym
    with sign +1 (outliers at the lower edge: −s ≥ E) and above s when −1 (s ≥ E)."""
    return ((1, 1), (1, 0), -HESSIAN_SIGN_IN_JSYM["D"], -HESSIAN_SIGN_IN_JSYM["G"])


def evaluators() -> list[Evaluator]:
    edge_d, edge_g = block_edges()
    d_map, g_map, d_sign, g_sign = index_structure()
    return [
        Evaluator("goe_rate", (u, E), goe_rate(),
                  "GOE largest-eigenvalue rate I(u; E) for u ≥ E (eq. 253; MODEL.md §6), derived by "
                  "integrating 2u/E² − G(u); NaN for u < E."),
        Evaluator("derived_edge_formulas", (hessian.b, hessian.b1, kappa), edges_in_b(),
                  "(E_D, E_G) = (√(2(κb² + b1²)), √(2(1−κ))·b): semicircle edges of the two diagonal "
                  "blocks of H(x, x1) (MODEL.md §6), equal to the derived block edges."),
        Evaluator("derived_index_terms", hessian.ARGS,
                  (edge_d, edge_g, kappa, 1 - kappa, *d_map, *g_map, d_sign, g_sign),
                  "(edge_d, edge_g, fraction_d, fraction_g, index_d_map (2), index_g_map (2), "
                  "index_d_sign, index_g_sign) of the derived index terms (MODEL.md §6)."),
    ]


def report() -> str:
    edge_d, edge_g = block_edges()
    diff = sp.simplify(goe_rate() - published_rate())
    return (
        "## GOE rate and index terms (paper §5.1, eqs 244-260; MODEL.md §6)\n\n"
        f"$I(u;E) = \\int_E^u (2t/E^2 - G(t))\\,dt = {sp.latex(goe_rate())}$; derived − published "
        f"(253) $= {sp.latex(diff)}$.\n\n"
        f"Block edges: $E_D = {sp.latex(edge_d)} = \\sqrt{{2(\\kappa b^2 + b_1^2)}}$, "
        f"$E_G = {sp.latex(edge_g)} = \\sqrt{{2(1-\\kappa)}}\\,b$.\n\n"
        "Derived index terms: $-k_D\\,\\kappa\\,I(-(x+x_1); E_D)$ with $x + x_1 \\le -E_D$ and "
        "$-k_G\\,(1-\\kappa)\\,I(x; E_G)$ with $x \\ge E_G$; for $k = 0$ the same edge condition "
        "holds with no cost. Published: fractions swapped ($(1-\\kappa)$ with $k_D$, $\\kappa$ with "
        "$k_G$), $E_D = \\sqrt{2\\kappa(b^2+b_1^2)}$, and no condition for $k = 0$.\n"
    )
