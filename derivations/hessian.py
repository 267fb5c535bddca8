"""The conditional law of the symmetrised Kac-Rice Jacobian and its reduction to
H(x, x1) = b·M + b1·diag(M1, 0) − x·I − x1·diag(I, 0) (paper §3, eqs 76-108, 114;
MODEL.md §2-§3).

Riemannian Hessian on a sphere of radius ρ, at a point with outward unit normal n:
Hess_S F = P ∇²F P − (1/ρ)(n·∇F) P (the curvature term), and on the product of the two
spheres the cross block is the plain mixed derivative. With L_D = ℓ_D − σ f, L_G = σ f:

    J = [[Hess_D L_D, ∂_G∂_D L_D], [∂_D∂_G L_G, Hess_G L_G]],

and negating the second block row gives the symmetric J_sym with the same |det J|.
Representative entries of J_sym are linear combinations of the pole variables of
:mod:`derivations.covariance`; Gaussian conditioning (Schur complement) on the Riemannian
gradients and on the shift variables S gives the conditional mean (the shifts) and the
conditional covariance (the fluctuation), which is compared entry by entry with the law of
b·M + b1·diag(M1, 0). Everything is then specialised to unit spheres (MODEL.md §1).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from derivations import covariance as cov
from derivations.codegen import Evaluator

p, q, m, rho_D, rho_G = cov.p, cov.q, cov.m, cov.rho_D, cov.rho_G
kappa, sigma_z = sp.symbols("kappa sigma_z", positive=True)
b, b1 = sp.symbols("b b1", positive=True)
s = sigma_z

#: Representative entries of J_sym (second block row negated), as {pole variable: coefficient}.
#: D indices 1, 2 and G indices 1, 2 are tangent directions; "DG" is the (D1, G1) entry.
J_ENTRIES: dict[str, dict] = {
    "DD11": {"h_lD_11": 1, "r_lD": -1 / rho_D, "h_f_D11": -s, "rD": s / rho_D},
    "DD12": {"h_lD_12": 1, "h_f_D12": -s},
    "DD22": {"h_lD_22": 1, "r_lD": -1 / rho_D, "h_f_D22": -s, "rD": s / rho_D},
    "DG": {"h_f_DG": -s},
    "GD": {"h_f_DG": -s},
    "GG11": {"h_f_G11": -s, "rG": s / rho_G},
    "GG12": {"h_f_G12": -s},
    "GG22": {"h_f_G22": -s, "rG": s / rho_G},
}

#: Riemannian gradient components (conditioned to be 0): of L_D along D1, D2; of L_G along G1.
GRADIENTS: dict[str, dict] = {
    "grad_D1 L_D": {"g_lD": 1, "g_fD": -s},
    "grad_D2 L_D": {"g_lD2": 1, "g_fD2": -s},
    "grad_G1 L_G": {"g_fG": s},
}

#: The Gaussian variables that the shifts depend on, on unit spheres: ℓ_D, f and the
#: radial difference d = r_D − r_G (Euler fixes only r_D + r_G = m f, MODEL.md §3).
SHIFT_VARIABLES: dict[str, dict] = {
    "u": {"lD": 1},
    "v": {"f": 1},
    "delta": {"rD": 1, "rG": -1},
}

#: Losses in terms of pole variables: L_D = ℓ_D − σ f, L_G = σ f (eqs 5-6).
LOSSES: dict[str, dict] = {"L_D": {"lD": 1, "f": -s}, "L_G": {"f": s}}


def _combination_matrix(combos: dict[str, dict]) -> sp.Matrix:
    names = list(cov.VARIABLES)
    return sp.Matrix([[sp.sympify(c.get(n, 0)) for n in names] for c in combos.values()])


@lru_cache(maxsize=None)
def _full_covariance() -> sp.Matrix:
    return cov.covariance_matrix(tuple(cov.VARIABLES))


def cross_covariance(a: dict[str, dict], c: dict[str, dict], unit: bool = True) -> sp.Matrix:
    """Cov(A, C) for two families of linear combinations of pole variables."""
    out = _combination_matrix(a) * _full_covariance() * _combination_matrix(c).T
    return out.subs(cov.UNIT) if unit else out


def _simplify(mat: sp.Matrix) -> sp.Matrix:
    return mat.applyfunc(lambda e: sp.powsimp(sp.factor(sp.expand(e)), combine="exp"))


@lru_cache(maxsize=None)
def conditional_law() -> tuple[sp.Matrix, sp.Matrix]:
    """(mean coefficients, covariance) of the J_sym entries given the Riemannian gradients
    = 0 and S = (u, v, δ)·√N, on unit spheres: E[J | grad = 0, S] = A·S,
    Cov(J | grad = 0, S) = the returned matrix (Schur complement)."""
    cond = {**GRADIENTS, **SHIFT_VARIABLES}
    sigma_jc = cross_covariance(J_ENTRIES, cond)
    sigma_cc = cross_covariance(cond, cond)
    sigma_jj = cross_covariance(J_ENTRIES, J_ENTRIES)
    solve = sigma_cc.inv()
    coeffs = _simplify(sigma_jc * solve)
    fluct = _simplify(sigma_jj - sigma_jc * solve * sigma_jc.T)
    n_grad = len(GRADIENTS)
    return coeffs[:, n_grad:], fluct


def gradient_cross_covariance() -> sp.Matrix:
    """Cov(gradients, J entries and S): zero, so conditioning on zero gradients leaves the law
    of the Hessian and of the shift variables unchanged (MODEL.md §3)."""
    return _simplify(cross_covariance(GRADIENTS, {**J_ENTRIES, **SHIFT_VARIABLES}, unit=False))


@lru_cache(maxsize=None)
def radial_residual_given_values() -> sp.Matrix:
    """Cov((r_D, r_G) | ℓ_D, f) on unit spheres (Schur complement). Rank 1 with range
    (1, −1): Euler removes r_D + r_G, and exactly one further Gaussian direction, d = r_D − r_G,
    survives conditioning on the loss values (MODEL.md §3)."""
    radial = {"rD": {"rD": 1}, "rG": {"rG": 1}}
    values = {"lD": {"lD": 1}, "f": {"f": 1}}
    c_rv = cross_covariance(radial, values)
    return _simplify(cross_covariance(radial, radial) - c_rv * cross_covariance(values, values).inv() * c_rv.T)


@lru_cache(maxsize=None)
def shift_precision() -> sp.Matrix:
    """P = Cov(ℓ_D, f, d)⁻¹ on unit spheres; (u, v, δ) = (ℓ_D, f, d)/√N has density
    ∝ exp(−N · ½ vᵀ P v)."""
    return _simplify(cross_covariance(SHIFT_VARIABLES, SHIFT_VARIABLES).inv())


@lru_cache(maxsize=None)
def block_scales() -> tuple[sp.Expr, sp.Expr]:
    """(b, b1): b² = 2·Var(J_GG off-diagonal) (the GOE_N part, off-diagonal variance b²/(2N)
    of H = J/√N), b1² = 2κ·(Var(J_DD off-diagonal) − b²/2) (the extra GOE_{κN} part)."""
    names = list(J_ENTRIES)
    fl = conditional_law()[1]
    var = lambda e: fl[names.index(e), names.index(e)]  # noqa: E731
    b_sq = sp.powsimp(sp.factor(2 * var("GG12")))
    b1_sq = sp.factor(2 * kappa * (var("DD12") - b_sq / 2))
    # Unevaluated square roots keep b = √(σ² m(m−1) 2^{m−1}) readable in the report.
    return sp.Pow(b_sq, sp.S.Half, evaluate=False), sp.Pow(b1_sq, sp.S.Half, evaluate=False)


def model_covariance() -> sp.Matrix:
    """Covariance (times N) of the same representative entries under
    H(0, 0) = b·M + b1·diag(M1, 0): GOE_n off-diagonal variance 1/(2n), diagonal 1/n."""
    names = list(J_ENTRIES)
    block = {"DD11": "D", "DD12": "D", "DD22": "D", "DG": "X", "GD": "X",
             "GG11": "G", "GG12": "G", "GG22": "G"}
    position = {"DD11": (1, 1), "DD12": (1, 2), "DD22": (2, 2), "DG": (1, 5), "GD": (5, 1),
                "GG11": (5, 5), "GG12": (5, 6), "GG22": (6, 6)}

    def entry_cov(e1, e2):
        i1, j1 = sorted(position[e1])
        i2, j2 = sorted(position[e2])
        if (i1, j1) != (i2, j2):
            return sp.Integer(0)
        diag = 2 if i1 == j1 else 1
        extra = b1**2 / (2 * kappa) if block[e1] == "D" else 0
        return diag * (b**2 / 2 + extra)

    return sp.Matrix(len(names), len(names), lambda i, j: entry_cov(names[i], names[j]))


def reduction_residual() -> sp.Matrix:
    """Conditional covariance of J_sym minus that of b·M + b1·diag(M1, 0) with the derived
    b, b1: the zero matrix iff the Jacobian reduces to H(x, x1)."""
    bb, bb1 = block_scales()
    return _simplify(conditional_law()[1] - model_covariance().subs({b: bb, b1: bb1}))


@lru_cache(maxsize=None)
def shift_map() -> sp.Matrix:
    """2×3 matrix A with (x, x1) = A·(u, v, δ): −x is the G-block diagonal shift and −(x + x1)
    the D-block one (eq. 96); off-diagonal conditional means vanish (checked in tests)."""
    names = list(J_ENTRIES)
    coeffs = conditional_law()[0]
    g_shift = coeffs[names.index("GG11"), :]
    d_shift = coeffs[names.index("DD11"), :]
    x_row = -g_shift
    return _simplify(sp.Matrix.vstack(x_row, -d_shift - x_row))


@lru_cache(maxsize=None)
def loss_map() -> sp.Matrix:
    """2×3 matrix with (L_D, L_G)/√N = loss_map·(u, v, δ) (regression of the losses on S,
    exact because the losses lie in the span of S)."""
    return _simplify(cross_covariance(LOSSES, SHIFT_VARIABLES) * cross_covariance(
        SHIFT_VARIABLES, SHIFT_VARIABLES).inv())


def loss_residual_variance() -> sp.Matrix:
    """Variance of the losses minus their regression on S: zero (the map is exact)."""
    a = loss_map()
    return _simplify(cross_covariance(LOSSES, LOSSES) - a * cross_covariance(SHIFT_VARIABLES, SHIFT_VARIABLES) * a.T)


ARGS = (p, q, kappa, sigma_z)


def evaluators() -> list[Evaluator]:
    bb, bb1 = block_scales()
    return [
        Evaluator("derived_b", ARGS, bb, "b of H(x, x1) (eqs 96, 114; MODEL.md §3), derived."),
        Evaluator("derived_b1", ARGS, bb1, "b1 of H(x, x1) (eqs 96, 114; MODEL.md §3), derived."),
        Evaluator("derived_precision", ARGS, tuple(shift_precision()),
                  "Row-major 3×3 precision P of (u, v, δ) = (ℓ_D, ℓ_G, r_D − r_G)/√N: density "
                  "∝ exp(−N·½ vᵀPv) (MODEL.md §3, §5)."),
        Evaluator("derived_shift_map", ARGS, tuple(shift_map()),
                  "Row-major 2×3 map (x, x1) = A·(u, v, δ) (MODEL.md §3; paper eq. 96)."),
        Evaluator("derived_loss_map", ARGS, tuple(loss_map()),
                  "Row-major 2×3 map (L_D, L_G)/√N = A·(u, v, δ); constraints A·v ≤ (u_D, u_G)."),
    ]


def report() -> str:
    bb, bb1 = block_scales()
    mean, _ = conditional_law()
    names = list(J_ENTRIES)
    mean_rows = "\n".join(f"| {n} | ${sp.latex(mean[i, 0])}$ | ${sp.latex(mean[i, 1])}$ | "
                          f"${sp.latex(mean[i, 2])}$ |" for i, n in enumerate(names))
    residual_zero = reduction_residual().is_zero_matrix
    grad_zero = gradient_cross_covariance().is_zero_matrix
    return (
        "## Conditional law of the Jacobian and the reduction to H(x, x1) (paper eqs 76-114; MODEL.md §3)\n\n"
        "Riemannian Hessians with the sphere curvature terms, $J_{\\rm sym}$ = J with its G block row "
        "negated. Gaussian conditioning (Schur complement, SymPy matrices) on the three Riemannian "
        "gradient components and on $S = (\\ell_D, f, d)$, $d = r_D - r_G$, on unit spheres.\n\n"
        f"- Gradients uncorrelated with every Hessian entry and with S (radii symbolic): **{grad_zero}**.\n"
        f"- Conditional covariance of $J_{{\\rm sym}}$ equals that of $bM + b_1\\,\\mathrm{{diag}}(M_1,0)$ "
        f"(all representative entry pairs): **{residual_zero}**, with\n"
        f"  $b = {sp.latex(bb)}$, $b_1 = {sp.latex(bb1)}$.\n"
        "- Conditional means $E[J_{\\rm sym} | S] = $ (coefficients of $\\ell_D$, $f$, $d$):\n\n"
        "| entry | $\\ell_D$ | $f$ | $d$ |\n|---|---|---|---|\n" + mean_rows + "\n\n"
        "Given the loss values, the radial derivatives keep the rank-1 covariance "
        f"$\\mathrm{{Cov}}((r_D, r_G) | \\ell_D, f) = {sp.latex(radial_residual_given_values())}$: Euler "
        "fixes $r_D + r_G = (p+q) f$ and the direction $d = r_D - r_G$ survives. "
        "It enters the shifts and is independent of $\\ell_D$ and $f$: **three** "
        "Gaussian variables survive, $(u, v, \\delta) = (\\ell_D, f, d)/\\sqrt N$, with\n\n"
        f"$$P = {sp.latex(shift_precision())},\\quad "
        f"\\begin{{pmatrix}}x\\\\x_1\\end{{pmatrix}} = {sp.latex(shift_map())}"
        f"\\begin{{pmatrix}}u\\\\v\\\\\\delta\\end{{pmatrix}},\\quad "
        f"\\begin{{pmatrix}}L_D\\\\L_G\\end{{pmatrix}}/\\sqrt N = {sp.latex(loss_map())}"
        "\\begin{pmatrix}u\\\\v\\\\\\delta\\end{pmatrix}.$$\n\n"
        "Laplace problem (MODEL.md §5): $\\Theta(u_D, u_G) = C + \\sup\\{-\\tfrac12 v^TPv + \\Phi(x, x_1) : "
        "L v \\le (u_D, u_G)\\}$.\n"
    )
