"""Covariances at the north poles of the two spin glasses (paper §2-§3, eqs 2-6, 21-36;
MODEL.md §1-§3).

The fields are centred Gaussian with covariance kernels

    E ℓ_D(x) ℓ_D(x') = (x_D·x_D')^p,        E ℓ_G(w) ℓ_G(w') = (w_D·w_D' + w_G·w_G')^m,  m = p + q,

and ℓ_D is independent of ℓ_G (=: f). For Gaussian fields
Cov(∂^α F(w), ∂^β F(w')) = ∂^α_w ∂^β_{w'} K(w, w'), so every covariance of values, Euclidean
derivatives and Hessian entries at the poles w = w' = (ρ_D e_D, ρ_G e_G) is a derivative of a
kernel, computed here by SymPy with p, q and the radii ρ_D, ρ_G symbolic.

Coordinates: on each sphere one radial coordinate (index 0, along e_D or e_G) and two tangent
ones (1, 2). Two tangent directions per sphere are enough to represent every pattern of a
Hessian entry (diagonal, off-diagonal, cross-block) and every pattern of a covariance between
two of them; rotational invariance in the tangent space gives the rest.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from derivations.codegen import Evaluator

p, q = sp.symbols("p q", positive=True, integer=True)
rho_D, rho_G = sp.symbols("rho_D rho_G", positive=True)
m = p + q

#: Coordinates of the two points w (unprimed) and w' (primed): (D0, D1, D2, G0, G1, G2).
COORDS = sp.symbols("D0 D1 D2 G0 G1 G2", real=True)
COORDS_PRIMED = sp.symbols("D0p D1p D2p G0p G1p G2p", real=True)
_INDEX = {name: i for i, name in enumerate(("D0", "D1", "D2", "G0", "G1", "G2"))}

#: The representative variables at the poles: name -> (field, derivative coordinates).
#: ``lD`` is ℓ_D, ``f`` is ℓ_G; ``r*`` are radial derivatives, ``g*`` tangent gradient
#: components, ``h*`` Euclidean tangent Hessian entries.
VARIABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "lD": ("D", ()),
    "f": ("G", ()),
    "r_lD": ("D", ("D0",)),
    "rD": ("G", ("D0",)),
    "rG": ("G", ("G0",)),
    "g_lD": ("D", ("D1",)),
    "g_lD2": ("D", ("D2",)),
    "g_fD": ("G", ("D1",)),
    "g_fD2": ("G", ("D2",)),
    "g_fG": ("G", ("G1",)),
    "h_lD_11": ("D", ("D1", "D1")),
    "h_lD_12": ("D", ("D1", "D2")),
    "h_lD_22": ("D", ("D2", "D2")),
    "h_f_D11": ("G", ("D1", "D1")),
    "h_f_D12": ("G", ("D1", "D2")),
    "h_f_D22": ("G", ("D2", "D2")),
    "h_f_DG": ("G", ("D1", "G1")),
    "h_f_G11": ("G", ("G1", "G1")),
    "h_f_G12": ("G", ("G1", "G2")),
    "h_f_G22": ("G", ("G2", "G2")),
}


def kernel(field: str):
    """Covariance kernel K(w, w') of ℓ_D (field "D") or ℓ_G (field "G")."""
    x, y = COORDS, COORDS_PRIMED
    dot_d = x[0] * y[0] + x[1] * y[1] + x[2] * y[2]
    dot_g = x[3] * y[3] + x[4] * y[4] + x[5] * y[5]
    return dot_d**p if field == "D" else (dot_d + dot_g) ** m


def _pole() -> dict:
    values = (rho_D, 0, 0, rho_G, 0, 0)
    return {**dict(zip(COORDS, values)), **dict(zip(COORDS_PRIMED, values))}


@lru_cache(maxsize=None)
def covariance(a: str, b: str) -> sp.Expr:
    """Cov(a, b) at the poles for two names of :data:`VARIABLES`."""
    field_a, da = VARIABLES[a]
    field_b, db = VARIABLES[b]
    if field_a != field_b:
        return sp.Integer(0)
    expr = kernel(field_a)
    for c in da:
        expr = sp.diff(expr, COORDS[_INDEX[c]])
    for c in db:
        expr = sp.diff(expr, COORDS_PRIMED[_INDEX[c]])
    return sp.powsimp(sp.factor(expr.subs(_pole())), combine="exp")


@lru_cache(maxsize=None)
def covariance_matrix(names: tuple[str, ...]) -> sp.Matrix:
    """Joint covariance matrix of the named variables at the poles."""
    return sp.Matrix(len(names), len(names), lambda i, j: covariance(names[i], names[j]))


def linear_covariance(u: dict, v: dict) -> sp.Expr:
    """Cov(Σ u_k X_k, Σ v_k X_k) for linear combinations given as {name: coefficient}."""
    return sp.simplify(sum(cu * cv * covariance(a, b) for a, cu in u.items() for b, cv in v.items()))


def euler_residuals() -> dict[str, sp.Expr]:
    """Variances of the Euler relations ρ_D ∂_r ℓ_D − p ℓ_D and ρ_D r_D + ρ_G r_G − m f
    (zero: the relations hold almost surely, MODEL.md §3)."""
    return {
        "rho_D r_lD - p lD": linear_covariance({"r_lD": rho_D, "lD": -p}, {"r_lD": rho_D, "lD": -p}),
        "rho_D rD + rho_G rG - m f": linear_covariance({"rD": rho_D, "rG": rho_G, "f": -m},
                                                         {"rD": rho_D, "rG": rho_G, "f": -m}),
    }


UNIT = {rho_D: 1, rho_G: 1}

#: The finite-N law at the poles handed to the numerics layer (unit spheres, MODEL.md §1).
EXPORTED = [
    ("var_lD", "lD", "lD", "Var ℓ_D at the pole."),
    ("var_f", "f", "f", "Var ℓ_G at the poles (‖w‖² = ρ_D² + ρ_G²)."),
    ("var_rD", "rD", "rD", "Var of the radial derivative ∂ℓ_G/∂e_D."),
    ("var_rG", "rG", "rG", "Var of the radial derivative ∂ℓ_G/∂e_G."),
    ("cov_rD_rG", "rD", "rG", "Cov of the two radial derivatives of ℓ_G."),
    ("cov_f_rD", "f", "rD", "Cov(ℓ_G, ∂ℓ_G/∂e_D)."),
    ("cov_f_rG", "f", "rG", "Cov(ℓ_G, ∂ℓ_G/∂e_G)."),
    ("var_grad_lD", "g_lD", "g_lD", "Variance of one tangent gradient component of ℓ_D."),
    ("var_grad_fD", "g_fD", "g_fD", "Variance of one D-tangent gradient component of ℓ_G."),
    ("var_grad_fG", "g_fG", "g_fG", "Variance of one G-tangent gradient component of ℓ_G."),
    ("var_hess_lD_offdiag", "h_lD_12", "h_lD_12", "Variance of an off-diagonal Euclidean tangent Hessian entry of ℓ_D."),
    ("var_hess_lD_diag", "h_lD_11", "h_lD_11", "Variance of a diagonal Euclidean tangent Hessian entry of ℓ_D."),
    ("var_hess_f_DD_offdiag", "h_f_D12", "h_f_D12", "Variance of an off-diagonal DD Euclidean Hessian entry of ℓ_G."),
    ("var_hess_f_DD_diag", "h_f_D11", "h_f_D11", "Variance of a diagonal DD Euclidean Hessian entry of ℓ_G."),
    ("var_hess_f_DG", "h_f_DG", "h_f_DG", "Variance of a cross-block DG Euclidean Hessian entry of ℓ_G."),
    ("var_hess_f_GG_offdiag", "h_f_G12", "h_f_G12", "Variance of an off-diagonal GG Euclidean Hessian entry of ℓ_G."),
    ("var_hess_f_GG_diag", "h_f_G11", "h_f_G11", "Variance of a diagonal GG Euclidean Hessian entry of ℓ_G."),
]


def evaluators() -> list[Evaluator]:
    """Covariances at the poles of unit spheres as functions of (p, q) (MODEL.md §1, §3).
    Every pair not exported is zero (see :func:`report`)."""
    return [
        Evaluator(name, (p, q), covariance(a, b).subs(UNIT),
                  doc + " Unit spheres, MODEL.md §1/§3; derived from the kernels by SymPy.")
        for name, a, b, doc in EXPORTED
    ]


def report() -> str:
    names = tuple(VARIABLES)
    cov = covariance_matrix(names)
    rows = []
    for i, a in enumerate(names):
        for j in range(i, len(names)):
            if cov[i, j] != 0:
                rows.append(f"| {a} | {names[j]} | ${sp.latex(cov[i, j])}$ | "
                            f"${sp.latex(sp.simplify(cov[i, j].subs(UNIT)))}$ |")
    euler = "\n".join(f"- Var({k}) = ${sp.latex(v)}$" for k, v in euler_residuals().items())
    return (
        "## Covariances at the north poles (MODEL.md §1, §3; paper eqs 21-36)\n\n"
        "Kernels $(w_D\\cdot w_D')^p$ for $\\ell_D$ and $(w_D\\cdot w_D' + w_G\\cdot w_G')^{p+q}$ for "
        "$f=\\ell_G$, differentiated by SymPy at the poles $(\\rho_D e_D, \\rho_G e_G)$. Names: `r_lD` "
        "radial derivative of $\\ell_D$; `rD`, `rG` radial derivatives of $f$ along $e_D$, $e_G$; "
        "`g_*` tangent gradient components; `h_*` Euclidean tangent Hessian entries (1, 2 tangent "
        "directions of the D sphere, G1, G2 of the G sphere). Every pair not listed has covariance 0 "
        "(in particular gradients are independent of everything else, and Euclidean Hessian entries are "
        "independent of values and radial derivatives).\n\n"
        "| a | b | Cov(a, b) | unit spheres |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Euler relations (hold almost surely):\n\n" + euler + "\n"
    )
