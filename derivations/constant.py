"""The Kac-Rice constant: sphere areas, Gaussian density of the gradients at 0 and the Jacobian
scaling, and its N → ∞ limit by Stirling (paper Lemma 3.3, eq. 173; MODEL.md §2-§3).

    E C_N = |S^{N_D−1}| · |S^{N_G−1}| · φ_∇(0) · E[ |det J| 1{…} | ∇ = 0 ],
    |det J| = N^{(N−2)/2} |det H|,  H = J_sym/√N  ((N−2)×(N−2)),

so K_N = |S^{N_D−1}| |S^{N_G−1}| φ_∇(0) N^{(N−2)/2} and C = lim N⁻¹ log K_N; the Gaussian
integral over (u, v, δ) and E|det H| contribute only through the exponent of the Laplace
problem (polynomial prefactors vanish under N⁻¹ log). |S^{n−1}| = 2π^{n/2}/Γ(n/2).
φ_∇(0): the Riemannian gradients are N_D − 1 iid components of variance v_D and N_G − 1 of
variance v_G, independent (derived in :mod:`derivations.covariance`).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from derivations import hessian
from derivations.codegen import Evaluator

p, q, kappa, sigma_z = hessian.ARGS
N = sp.symbols("N", positive=True)


def sphere_log_area(n) -> sp.Expr:
    """log |S^{n−1}| = log(2π^{n/2}/Γ(n/2))."""
    return sp.log(2) + n / 2 * sp.log(sp.pi) - sp.loggamma(n / 2)


@lru_cache(maxsize=None)
def gradient_variances() -> tuple[sp.Expr, sp.Expr]:
    """(v_D, v_G): variance of one tangent component of grad L_D and of grad L_G on unit
    spheres; the matrix of all three representative components is checked diagonal."""
    g = hessian.cross_covariance(hessian.GRADIENTS, hessian.GRADIENTS)
    g = g.applyfunc(lambda e: sp.powsimp(sp.collect(sp.expand(sp.powdenest(e)), sigma_z, sp.factor)))
    if not (g - sp.diag(*g.diagonal())).is_zero_matrix or sp.simplify(g[0, 0] - g[1, 1]) != 0:
        raise AssertionError("gradient components are not iid within blocks / independent across")
    return g[0, 0], g[2, 2]


V_D, V_G = sp.symbols("v_D v_G", positive=True)


def _log_prefactor_in_v() -> sp.Expr:
    n_d, n_g = kappa * N, (1 - kappa) * N
    return (sphere_log_area(n_d) + sphere_log_area(n_g)
            - (N - 2) / 2 * sp.log(2 * sp.pi) - (n_d - 1) / 2 * sp.log(V_D) - (n_g - 1) / 2 * sp.log(V_G)
            + (N - 2) / 2 * sp.log(N))


def _substitute_v(expr: sp.Expr) -> sp.Expr:
    v_d, v_g = gradient_variances()
    return expr.subs({V_D: v_d, V_G: v_g})


@lru_cache(maxsize=None)
def log_prefactor() -> sp.Expr:
    """Exact log K_N at finite N (N_D = κN, N_G = (1−κ)N)."""
    return _substitute_v(_log_prefactor_in_v())


_Z = sp.symbols("z", positive=True)


def stirling(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every log Γ(z) replaced by SymPy's asymptotic series at z = ∞ up to
    O(1/z) (Stirling: z log z − z − ½ log z + ½ log 2π)."""
    series = sp.loggamma(_Z).series(_Z, sp.oo, 1).removeO()
    return expr.replace(sp.loggamma, lambda arg: series.subs(_Z, arg))


def _expansion_in_n(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(C, a, c0) with expr = C·N + a·log N + c0 after Stirling and log expansion."""
    series = sp.expand(sp.expand_log(stirling(expr), force=True))
    lead = series.coeff(N, 1)
    rest = sp.expand(series - lead * N)
    a = rest.coeff(sp.log(N))
    c0 = sp.collect(sp.expand(rest - a * sp.log(N)), [sp.log(V_D), sp.log(V_G)])
    if lead.has(N) or a.has(N) or c0.has(N):
        raise AssertionError(f"unexpected N dependence in the Stirling expansion of {expr}")
    return lead, a, c0


@lru_cache(maxsize=None)
def stirling_expansion() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(C, a, c0) with log K_N = C·N + a·log N + c0 + O(1/N) (Stirling at N = ∞)."""
    lead, a, c0 = _expansion_in_n(_log_prefactor_in_v())
    lead = sp.collect(lead, [sp.log(V_D), sp.log(V_G), sp.log(kappa), sp.log(1 - kappa)])
    return _substitute_v(lead), _substitute_v(a), _substitute_v(c0)


def log_constant() -> sp.Expr:
    """C = lim N⁻¹ log K_N (MODEL.md §3, our reconstruction of eq. 173)."""
    return stirling_expansion()[0]


@lru_cache(maxsize=None)
def single_sphere_constant() -> sp.Expr:
    """Same construction on one unit sphere S^{N−1} with a pure p-spin (gradient variance p):
    lim N⁻¹ log(|S^{N−1}| φ_∇(0) N^{(N−1)/2}). Adding Φ(0) of the semicircle with
    b² = 2p(p−1) must give Auffinger-Ben Arous-Černý's ½ log(p − 1) (tested numerically)."""
    expr = sphere_log_area(N) - (N - 1) / 2 * sp.log(2 * sp.pi * p) + (N - 1) / 2 * sp.log(N)
    return _expansion_in_n(expr)[0]


def evaluators() -> list[Evaluator]:
    c, a, c0 = stirling_expansion()
    return [
        Evaluator("derived_log_constant", hessian.ARGS, c,
                  "C = lim N⁻¹ log K_N: sphere areas × gradient density at 0 × N^{(N−2)/2} "
                  "(paper Lemma 3.3 / eq. 173, MODEL.md §3), derived with Stirling."),
        Evaluator("log_prefactor_stirling", (N, *hessian.ARGS), c * N + a * sp.log(N) + c0,
                  "C·N + a·log N + c0: Stirling's prediction of log K_N up to O(1/N) "
                  "(N_D = κN, N_G = (1−κ)N)."),
        Evaluator("single_sphere_log_constant", (p,), single_sphere_constant(),
                  "Single-sphere analogue of C (pure p-spin on S^{N−1}); + Φ(0) gives ½ log(p−1)."),
    ]


def report() -> str:
    c, a, c0 = stirling_expansion()
    v_d, v_g = gradient_variances()
    return (
        "## Kac-Rice constant (paper Lemma 3.3, eq. 173; MODEL.md §3)\n\n"
        "$K_N = |S^{N_D-1}|\\,|S^{N_G-1}|\\,\\varphi_\\nabla(0)\\,N^{(N-2)/2}$ with gradient component "
        f"variances $v_D = {sp.latex(v_d)}$, $v_G = {sp.latex(v_g)}$ (independent, derived). "
        "Stirling (SymPy series of $\\log\\Gamma$ at $\\infty$):\n\n"
        f"$$\\log K_N = N\\Big({sp.latex(c)}\\Big) + ({sp.latex(a)})\\log N + O(1)$$\n\n"
        f"so $C = {sp.latex(c)}$. The $O(1)$ term is ${sp.latex(c0)}$: constants such as "
        "$\\tfrac{13}{2}\\log 2 + 5\\log\\pi$ in the published (173) are of this order and do not "
        "survive $N^{-1}\\log$.\n\n"
        f"Single-sphere check: the same construction gives ${sp.latex(single_sphere_constant())}$; "
        "adding $\\Phi(0) = \\log(b/\\sqrt2) - \\tfrac12$ for $b^2 = 2p(p-1)$ gives "
        "$\\tfrac12\\log(p-1)$ (Auffinger-Ben Arous-Černý), checked numerically in tests.\n"
    )
