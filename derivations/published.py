"""The paper's published constants (MODEL.md §3, §6; paper eqs 96-108, 173, 244-260), kept as
the 'paper' comparison set. These are the only constants typed in rather than derived: they
are what the paper prints, transcribed so that its figures can be regenerated beside ours.
"""

from __future__ import annotations

import sympy as sp

from derivations import constant, hessian, index
from derivations.codegen import Evaluator

p, q, kappa, sigma_z = hessian.ARGS
m = p + q

b = sigma_z * sp.sqrt(m * (m - 1) * 2**m)
b1 = sp.sqrt(p * (p - 1) * kappa)
s2 = sigma_z**2 * m**2 * 2 ** (3 * m) / 2
s1_2 = p**2 / sp.Integer(2)
#: Domain x < x_coeff·u_G and x1 > R·x − uD_coeff·u_D.
domain_x_coeff = m * 2**m
domain_R = -p / (m * 2**m)
domain_uD_coeff = p
log_constant = (sp.Rational(13, 2) * sp.log(2) + 5 * sp.log(sp.pi)
                - kappa / 2 * sp.log(p + sigma_z**2 * m * 2**m)
                - (1 - kappa) / 2 * sp.log(sigma_z**2 * m * 2**m)
                - kappa / 2 * sp.log(kappa) - (1 - kappa) / 2 * sp.log(1 - kappa))


def edge_formulas(b_, b1_) -> tuple[sp.Expr, sp.Expr]:
    """Published block edges as functions of b, b1 (eqs 253-260; MODEL.md §6):
    −k_G·κ·I(x; √(2(1−κ))·b) − k_D·(1−κ)·I(−(x + x1); √(2κ(b² + b1²)))."""
    return sp.sqrt(2 * kappa * (b_**2 + b1_**2)), sp.sqrt(2 * (1 - kappa)) * b_


edge_d, edge_g = edge_formulas(b, b1)
fraction_d = 1 - kappa
fraction_g = kappa


def precision() -> sp.Matrix:
    """Precision of (x, x1): density ∝ exp(−N(x²/(2s²) + x1²/(2s1²)))."""
    return sp.diag(1 / s2, 1 / s1_2)


def loss_map() -> sp.Matrix:
    """Rows (D, G) with the published domain written as loss_map·(x, x1) ≤ (u_D, u_G):
    x1 > R x − p u_D ⇔ (R x − x1)/p < u_D;  x < x_coeff u_G ⇔ x/x_coeff < u_G."""
    return sp.Matrix([[domain_R / domain_uD_coeff, -1 / domain_uD_coeff], [1 / domain_x_coeff, 0]])


ARGS = hessian.ARGS


def evaluators() -> list[Evaluator]:
    return [
        Evaluator("published_constants", ARGS,
                  (b, b1, s2, s1_2, log_constant, domain_x_coeff, domain_R, domain_uD_coeff),
                  "(b, b1, s2, s1_2, log_constant, domain_x_coeff, domain_R, domain_uD_coeff) as "
                  "published (eqs 96-108, 173; MODEL.md §3)."),
        Evaluator("published_precision", ARGS, tuple(precision()),
                  "Row-major 2×2 precision of (x, x1), published (MODEL.md §3)."),
        Evaluator("published_loss_map", ARGS, tuple(loss_map()),
                  "Row-major 2×2 published domain as loss_map·(x, x1) ≤ (u_D, u_G) (MODEL.md §3)."),
        Evaluator("published_edge_formulas", (hessian.b, hessian.b1, kappa),
                  edge_formulas(hessian.b, hessian.b1),
                  "(E_D, E_G) of the published index terms as functions of b, b1 (MODEL.md §6)."),
        Evaluator("published_index_terms", ARGS, (edge_d, edge_g, fraction_d, fraction_g),
                  "(edge_d, edge_g, fraction_d, fraction_g) of the published index terms (eqs 253-260; "
                  "MODEL.md §6)."),
    ]


def report() -> str:
    bb, bb1 = hessian.block_scales()
    P = hessian.shift_precision()
    rows = [
        ("b", b, bb),
        ("b_1", b1, bb1),
        ("\\text{log constant}", log_constant, constant.log_constant()),
        ("E_D(b, b_1)", edge_formulas(hessian.b, hessian.b1)[0], index.edges_in_b()[0]),
        ("E_G(b, b_1)", edge_formulas(hessian.b, hessian.b1)[1], index.edges_in_b()[1]),
        ("\\text{fraction with } k_D", fraction_d, kappa),
        ("\\text{fraction with } k_G", fraction_g, 1 - kappa),
    ]
    table = "\n".join(
        f"| ${name}$ | ${sp.latex(pub)}$ | ${sp.latex(der)}$ | "
        f"{'reproduced' if sp.simplify(pub - der) == 0 else 'refuted'} |" for name, pub, der in rows)
    return (
        "## Published vs derived constants (MODEL.md §3, §6, §8)\n\n"
        "| quantity | published | derived | verdict |\n|---|---|---|---|\n" + table + "\n\n"
        f"Published Gaussian variables $(x, x_1)$ with $s^2 = {sp.latex(s2)}$, $s_1^2 = {sp.latex(s1_2)}$ "
        f"(diagonal); derived: three variables $(u, v, \\delta)$ with precision ${sp.latex(P)}$ and "
        f"$(x, x_1) = {sp.latex(hessian.shift_map())}(u, v, \\delta)^T$, which pushes forward to "
        "the (non-diagonal) covariance of $(x, x_1)$ listed by `ganspin constants`. Published domain: "
        f"$x < {sp.latex(domain_x_coeff)}\\,u_G$, $x_1 > R x - {sp.latex(domain_uD_coeff)}\\,u_D$, "
        f"$R = {sp.latex(domain_R)}$; derived constraints: $u - \\sigma_z v \\le u_D$, "
        "$\\sigma_z v \\le u_G$.\n"
    )
