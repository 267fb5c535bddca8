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
    generated evaluators in ``derivations/generated``)."""
    raise NotImplementedError("filled by the derivations issue")
