"""The constants of the complexity problem, as derived (default) or as published.

This module is the contract between the derivations and everything downstream
(spectrum, Coulomb gas, complexity, bands, sweeps, finite-N checks): they all take a
:class:`ComplexityProblem` from :func:`complexity_problem` and never re-derive anything.

Scaling (MODEL.md §1-§3): unit spheres, H = J_sym/√N, Gaussian variables v scaled by 1/√N so
that their joint density is ∝ exp(−N · ½ vᵀ P v). The Laplace problem is (MODEL.md §5)

    Θ(u_D, u_G) = log_constant + sup { −½ vᵀ P v + Φ(x, x1) :  loss_map @ v ≤ (u_D, u_G) },
    (x, x1) = shift_map @ v,

with Φ(x, x1) = ∫ log|λ − x| dμ_{x1}(λ) for μ_{x1} the LSD of
H(0, x1) = b·M + b1·diag(M1, 0) − x1·diag(I_{κN}, 0)  (M ~ GOE_N, M1 ~ GOE_{κN}, each with
off-diagonal variance 1/(2n) for its own size n).

Index terms (MODEL.md §6): the discriminator block's shift is s_D = index_d_map @ (x, x1), the
generator block's s_G = index_g_map @ (x, x1); a block with prescribed index k costs
k · fraction · I(s; edge) and requires sign·s ≥ edge (``index_*_sign``), or, in the published
variant, only |s| ≥ edge and no requirement at all when k = 0 (``index_zero_requires_edge``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from numerics.params import ModelParams, ParameterError

CONSTANT_SETS = ("derived", "paper")


@dataclass(frozen=True)
class ComplexityProblem:
    params: ModelParams
    which: str
    b: float
    b1: float
    log_constant: float
    variables: tuple[str, ...]
    precision: np.ndarray = field(repr=False)
    shift_map: np.ndarray = field(repr=False)
    loss_map: np.ndarray = field(repr=False)
    edge_d: float
    edge_g: float
    fraction_d: float
    fraction_g: float
    index_d_map: tuple[float, float]
    index_g_map: tuple[float, float]
    index_d_sign: int
    index_g_sign: int
    index_zero_requires_edge: bool

    @property
    def kappa(self) -> float:
        return self.params.kappa


def check_constant_set(which: str) -> str:
    if which not in CONSTANT_SETS:
        raise ParameterError(f"constants must be one of {', '.join(CONSTANT_SETS)}, got {which!r}")
    return which


def complexity_problem(params: ModelParams, which: str = "derived") -> ComplexityProblem:
    """The Laplace problem for ``params`` with the ``which`` constant set (filled from the
    generated evaluators in ``derivations/generated``).

    ``"derived"``: variables (u, v, δ) = (ℓ_D, ℓ_G, r_D − r_G)/√N (MODEL.md §3), constraints
    u − σ_z v ≤ u_D, σ_z v ≤ u_G, index terms with the derived block edges and fractions and
    the edge condition also for k = 0. ``"paper"``: variables (x, x1) with the published
    diagonal precision, domain (as loss_map·(x, x1) ≤ (u_D, u_G)), constant (173) and index
    terms (MODEL.md §3, §6).
    """
    from derivations.generated import constant, hessian, index, published

    check_constant_set(which)
    args = (float(params.p), float(params.q), params.kappa, params.sigma_z)
    if which == "derived":
        edge_d, edge_g, frac_d, frac_g, d0, d1, g0, g1, d_sign, g_sign = index.derived_index_terms(*args)
        return ComplexityProblem(
            params=params, which=which,
            b=float(hessian.derived_b(*args)), b1=float(hessian.derived_b1(*args)),
            log_constant=float(constant.derived_log_constant(*args)),
            variables=("u", "v", "delta"),
            precision=_matrix(hessian.derived_precision(*args), 3, 3),
            shift_map=_matrix(hessian.derived_shift_map(*args), 2, 3),
            loss_map=_matrix(hessian.derived_loss_map(*args), 2, 3),
            edge_d=float(edge_d), edge_g=float(edge_g),
            fraction_d=float(frac_d), fraction_g=float(frac_g),
            index_d_map=(float(d0), float(d1)), index_g_map=(float(g0), float(g1)),
            index_d_sign=int(d_sign), index_g_sign=int(g_sign),
            index_zero_requires_edge=True,
        )
    b, b1, _, _, log_c, *_ = published.published_constants(*args)
    edge_d, edge_g, frac_d, frac_g = published.published_index_terms(*args)
    return ComplexityProblem(
        params=params, which=which, b=float(b), b1=float(b1), log_constant=float(log_c),
        variables=("x", "x1"),
        precision=_matrix(published.published_precision(*args), 2, 2),
        shift_map=np.eye(2),
        loss_map=_matrix(published.published_loss_map(*args), 2, 2),
        edge_d=float(edge_d), edge_g=float(edge_g),
        fraction_d=float(frac_d), fraction_g=float(frac_g),
        # Published terms: I(−(x + x1); E_D) and I(x; E_G), I taking |u| (MODEL.md §6).
        index_d_map=(1.0, 1.0), index_g_map=(1.0, 0.0), index_d_sign=-1, index_g_sign=1,
        index_zero_requires_edge=False,
    )


def _matrix(entries, rows: int, cols: int) -> np.ndarray:
    out = np.array([float(e) for e in entries]).reshape(rows, cols)
    out.setflags(write=False)
    return out
