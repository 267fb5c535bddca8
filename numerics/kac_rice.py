"""Exact finite-N Kac-Rice expectation of the number of joint critical points (MODEL.md §2-§3).

Adler-Taylor Thm 12.1.1 on S^{n_d-1} × S^{n_g-1}; the integrand is the same at every point
(O(n_d) × O(n_g) invariance), so at the north poles (paper eqs 21-36)

    E #{crit, L_D <= t_D, L_G <= t_G, ind_D = k_D, ind_G = k_G}
        = |S^{n_d-1}| |S^{n_g-1}| φ_∇(0) E[ |det J| 1{...} ],

φ_∇ the density of the Riemannian gradients, J the Kac-Rice Jacobian. Gradients are
independent of values and Hessians, so the expectation is over the unconditioned law of

    ∇²_D L_D = Hess ℓ_D − p ℓ_D I − σ (Hess_DD f − r_D I),    ∇²_G L_G = σ (Hess_GG f − r_G I),
    J_DG = −σ Hess_DG f,   J_GD = σ Hess_GD f,   L_D = ℓ_D − σ f,   L_G = σ f,

with (f, r_D, r_G) jointly Gaussian of rank 2 (Euler: r_D + r_G = m f; the radial difference
d = r_D − r_G survives) and Euclidean tangent Hessians with independent entries. Every
variance comes from the SymPy-derived generated evaluators (``derivations/generated/
covariance.py``); :class:`FiniteLaw` holds them as named factors so that a test can perturb
each by 2. The expectation is a Monte Carlo over that exact law (no N → ∞ asymptotics).

:func:`paper_law` is the finite-N analogue of the published constants (paper eqs 96-108,
173): J_sym = √N (b M + b1 diag(M1, 0) − x I − x1 diag(I, 0)) on the same tangent blocks,
(x, x1) with the published precision and domain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np
from scipy.special import gammaln

from numerics.model import SpinGlassModel
from numerics.params import ModelParams, ParameterError, integer

# Monte Carlo draws per vectorised block (bounds memory).
BLOCK = 200_000


def log_sphere_area(n: int) -> float:
    """log |S^{n-1}| = log(2 π^{n/2} / Γ(n/2)) of the unit sphere in R^n."""
    return math.log(2.0) + 0.5 * n * math.log(math.pi) - float(gammaln(0.5 * n))


@dataclass(frozen=True)
class FiniteLaw:
    """Every factor of the finite-N Kac-Rice formula for one model (unit spheres).

    ``area_*`` are sphere areas, ``var_grad_*`` gradient-component variances (gradient
    density), ``euler_d`` the coefficient of ℓ_D in ℓ_D's radial derivative, the rest the
    variances/covariances of values, radial derivatives and Euclidean tangent Hessian entries.
    """

    n_d: int
    n_g: int
    p: int
    sigma_z: float
    area_d: float
    area_g: float
    var_grad_l_d: float
    var_grad_f_d: float
    var_grad_f_g: float
    var_l_d: float
    euler_d: float
    var_f: float
    var_r_d: float
    var_r_g: float
    cov_f_r_d: float
    cov_f_r_g: float
    cov_r_d_r_g: float
    var_hess_l_d_offdiag: float
    var_hess_l_d_diag: float
    var_hess_f_dd_offdiag: float
    var_hess_f_dd_diag: float
    var_hess_f_dg: float
    var_hess_f_gg_offdiag: float
    var_hess_f_gg_diag: float

    @classmethod
    def factors(cls) -> tuple[str, ...]:
        """Factors a perturbation may scale (every field but sizes, p and σ_z)."""
        return tuple(f.name for f in fields(cls))[4:]

    def perturbed(self, name: str, factor: float = 2.0) -> "FiniteLaw":
        """The law with one factor multiplied by ``factor``. A variance of a value or radial
        derivative is changed by scaling that variable, so its covariances scale by
        √factor and the joint law stays a valid covariance."""
        if name not in self.factors():
            raise ParameterError(f"unknown Kac-Rice factor {name!r}")
        changes = {name: getattr(self, name) * factor}
        root = math.sqrt(factor)
        linked = {"var_f": ("cov_f_r_d", "cov_f_r_g"), "var_r_d": ("cov_f_r_d", "cov_r_d_r_g"),
                  "var_r_g": ("cov_f_r_g", "cov_r_d_r_g")}
        for other in linked.get(name, ()):
            changes[other] = getattr(self, other) * root
        return replace(self, **changes)

    def log_prefactor(self) -> float:
        """log(|S^{n_d-1}| |S^{n_g-1}| φ_∇(0)), φ_∇ the Gaussian density of the gradients."""
        s2 = self.sigma_z**2
        vd = self.var_grad_l_d + s2 * self.var_grad_f_d
        vg = s2 * self.var_grad_f_g
        return (math.log(self.area_d) + math.log(self.area_g)
                - 0.5 * (self.n_d - 1) * math.log(2.0 * math.pi * vd)
                - 0.5 * (self.n_g - 1) * math.log(2.0 * math.pi * vg))

    def radial_cholesky(self) -> np.ndarray:
        """A factor A with A Aᵀ = Cov(f, r_D, r_G) (rank 2 under Euler's relation)."""
        cov = np.array([[self.var_f, self.cov_f_r_d, self.cov_f_r_g],
                        [self.cov_f_r_d, self.var_r_d, self.cov_r_d_r_g],
                        [self.cov_f_r_g, self.cov_r_d_r_g, self.var_r_g]])
        vals, vecs = np.linalg.eigh(cov)
        if vals[0] < -1e-9 * vals[-1]:
            raise ParameterError("the covariance of (f, r_D, r_G) is not positive semidefinite")
        return vecs * np.sqrt(np.clip(vals, 0.0, None))


def finite_law(model: SpinGlassModel) -> FiniteLaw:
    """The derived finite-N law of ``model`` from the generated evaluators (MODEL.md §3)."""
    from derivations.generated import covariance as cov

    if model.radius_d != 1.0 or model.radius_g != 1.0:
        raise ParameterError("the finite-N Kac-Rice law is generated for unit spheres (MODEL.md §1)")
    args = (float(model.p), float(model.q))
    return FiniteLaw(
        n_d=model.n_d, n_g=model.n_g, p=model.p, sigma_z=model.sigma_z,
        area_d=math.exp(log_sphere_area(model.n_d)), area_g=math.exp(log_sphere_area(model.n_g)),
        var_grad_l_d=float(cov.var_grad_lD(*args)), var_grad_f_d=float(cov.var_grad_fD(*args)),
        var_grad_f_g=float(cov.var_grad_fG(*args)),
        var_l_d=float(cov.var_lD(*args)),
        # Euler's relation for the degree-p form ℓ_D: its radial derivative is p ℓ_D.
        euler_d=float(model.p),
        var_f=float(cov.var_f(*args)), var_r_d=float(cov.var_rD(*args)), var_r_g=float(cov.var_rG(*args)),
        cov_f_r_d=float(cov.cov_f_rD(*args)), cov_f_r_g=float(cov.cov_f_rG(*args)),
        cov_r_d_r_g=float(cov.cov_rD_rG(*args)),
        var_hess_l_d_offdiag=float(cov.var_hess_lD_offdiag(*args)),
        var_hess_l_d_diag=float(cov.var_hess_lD_diag(*args)),
        var_hess_f_dd_offdiag=float(cov.var_hess_f_DD_offdiag(*args)),
        var_hess_f_dd_diag=float(cov.var_hess_f_DD_diag(*args)),
        var_hess_f_dg=float(cov.var_hess_f_DG(*args)),
        var_hess_f_gg_offdiag=float(cov.var_hess_f_GG_offdiag(*args)),
        var_hess_f_gg_diag=float(cov.var_hess_f_GG_diag(*args)),
    )


def _symmetric(rng, size: int, n: int, var_offdiag: float, var_diag: float) -> np.ndarray:
    """``size`` symmetric n×n matrices with independent N(0, var) entries on and above the diagonal."""
    a = np.triu(rng.standard_normal((size, n, n)), 1) * math.sqrt(var_offdiag)
    a = a + a.transpose(0, 2, 1)
    idx = np.arange(n)
    a[:, idx, idx] = rng.standard_normal((size, n)) * math.sqrt(var_diag)
    return a


@dataclass(frozen=True)
class JacobianSamples:
    """Draws of the Kac-Rice integrand: weight = prefactor × |det J| (so the mean weight is
    the expected total count), and per draw L_D, L_G and the two Hessian indices."""

    weight: np.ndarray
    loss_d: np.ndarray
    loss_g: np.ndarray
    index_d: np.ndarray
    index_g: np.ndarray


def _block_samples(rng, law: FiniteLaw, size: int):
    kd, kg = law.n_d - 1, law.n_g - 1
    s = law.sigma_z
    l_d = rng.standard_normal(size) * math.sqrt(law.var_l_d)
    f, r_d, r_g = law.radial_cholesky() @ rng.standard_normal((3, size))
    hf = np.zeros((size, kd + kg, kd + kg))
    hf[:, :kd, :kd] = _symmetric(rng, size, kd, law.var_hess_f_dd_offdiag, law.var_hess_f_dd_diag)
    hf[:, kd:, kd:] = _symmetric(rng, size, kg, law.var_hess_f_gg_offdiag, law.var_hess_f_gg_diag)
    cross = rng.standard_normal((size, kd, kg)) * math.sqrt(law.var_hess_f_dg)
    hf[:, :kd, kd:] = cross
    hf[:, kd:, :kd] = cross.transpose(0, 2, 1)
    hl = _symmetric(rng, size, kd, law.var_hess_l_d_offdiag, law.var_hess_l_d_diag)
    eye_d, eye_g = np.eye(kd), np.eye(kg)
    hess_d = hl - (law.euler_d * l_d)[:, None, None] * eye_d - s * (hf[:, :kd, :kd] - r_d[:, None, None] * eye_d)
    hess_g = s * (hf[:, kd:, kd:] - r_g[:, None, None] * eye_g)
    jac = np.zeros_like(hf)
    jac[:, :kd, :kd] = hess_d
    jac[:, kd:, kd:] = hess_g
    jac[:, :kd, kd:] = -s * hf[:, :kd, kd:]
    jac[:, kd:, :kd] = s * hf[:, kd:, :kd]
    return jac, l_d - s * f, s * f, hess_d, hess_g


def _paper_block_samples(rng, law: "PaperLaw", size: int):
    kd, kg = law.n_d - 1, law.n_g - 1
    n = kd + kg
    # J_sym = √N H: √N b M (M ~ GOE_N) has off-diagonal variance b²/2, √N b1 M1 (M1 ~ GOE_{κN})
    # has b1²/(2κ).
    h = _symmetric(rng, size, n, 0.5 * law.b**2, law.b**2)
    h[:, :kd, :kd] += _symmetric(rng, size, kd, 0.5 * law.b1**2 / law.kappa, law.b1**2 / law.kappa)
    # √N (x, x1) has covariance P⁻¹ when (x, x1) has density ∝ exp(−N/2 vᵀ P v).
    shifts = np.linalg.cholesky(np.linalg.inv(law.precision)) @ rng.standard_normal((2, size))
    x, x1 = shifts
    idx = np.arange(n)
    h[:, idx, idx] -= x[:, None]
    h[:, idx[:kd], idx[:kd]] -= x1[:, None]
    losses = law.loss_map @ shifts
    return h, losses[0], losses[1], h[:, :kd, :kd], -h[:, kd:, kd:]


@dataclass(frozen=True)
class PaperLaw:
    """The published constants at finite N (paper eqs 96-108, 173; MODEL.md §3): b, b1, the
    precision of (x, x1), the domain as loss_map · (x, x1) <= (u_D, u_G), and the published
    log-constant next to the derived one (their difference is applied as exp(N Δ) when
    ``with_published_constant``)."""

    n_d: int
    n_g: int
    kappa: float
    b: float
    b1: float
    precision: np.ndarray
    loss_map: np.ndarray
    log_prefactor_derived: float
    log_constant_gap: float

    def log_prefactor(self, with_published_constant: bool = False) -> float:
        gap = (self.n_d + self.n_g) * self.log_constant_gap if with_published_constant else 0.0
        return self.log_prefactor_derived + gap


def paper_law(model: SpinGlassModel) -> PaperLaw:
    """The published constants for κ = n_d / (n_d + n_g), on the tangent blocks of ``model``."""
    from numerics.constants import complexity_problem

    kappa = model.n_d / model.n
    params = ModelParams(model.p, model.q, kappa, model.sigma_z)
    paper = complexity_problem(params, "paper")
    derived = complexity_problem(params, "derived")
    return PaperLaw(model.n_d, model.n_g, kappa, paper.b, paper.b1, np.array(paper.precision),
                    np.array(paper.loss_map), finite_law(model).log_prefactor(),
                    paper.log_constant - derived.log_constant)


def sample_jacobians(law, n_samples: int, seed=0, with_published_constant: bool = False) -> JacobianSamples:
    """``n_samples`` draws of the Kac-Rice integrand under ``law`` (a :class:`FiniteLaw` or a
    :class:`PaperLaw`), seeded, in blocks of :data:`BLOCK`."""
    n_samples = integer("n_samples", n_samples, 1)
    rng = np.random.default_rng(seed)
    if isinstance(law, PaperLaw):
        draw, log_pre = _paper_block_samples, law.log_prefactor(with_published_constant)
    else:
        draw, log_pre = _block_samples, law.log_prefactor()
    out = {k: [] for k in ("weight", "loss_d", "loss_g", "index_d", "index_g")}
    for lo in range(0, n_samples, BLOCK):
        jac, loss_d, loss_g, hess_d, hess_g = draw(rng, law, min(BLOCK, n_samples - lo))
        out["weight"].append(np.exp(log_pre) * np.abs(np.linalg.det(jac)))
        out["loss_d"].append(loss_d)
        out["loss_g"].append(loss_g)
        out["index_d"].append(np.sum(np.linalg.eigvalsh(hess_d) < 0, axis=-1))
        out["index_g"].append(np.sum(np.linalg.eigvalsh(hess_g) < 0, axis=-1))
    return JacobianSamples(**{k: np.concatenate(v) for k, v in out.items()})


@dataclass(frozen=True)
class CountStatistics:
    """Mean counts with standard errors over ``n`` groups: ``total``; ``below[i, j]`` for
    L_D <= t_d[i], L_G <= t_g[j]; ``by_index[k_D, k_G]``. Each entry is (mean, se)."""

    n: int
    total: tuple[float, float]
    t_d: np.ndarray
    t_g: np.ndarray
    below: np.ndarray  # (len(t_d), len(t_g), 2)
    by_index: np.ndarray  # (n_d, n_g, 2)

    def as_dict(self) -> dict:
        return {"n": self.n, "total": list(self.total), "t_d": self.t_d.tolist(), "t_g": self.t_g.tolist(),
                "below": self.below.tolist(), "by_index": self.by_index.tolist()}


def _mean_se(values: np.ndarray) -> np.ndarray:
    """Mean and standard error over axis 0, stacked on the last axis."""
    n = values.shape[0]
    return np.stack([values.mean(0), values.std(0, ddof=1) / math.sqrt(n)], axis=-1)


def count_statistics(weight, loss_d, loss_g, index_d, index_g, group, n_groups, t_d, t_g,
                     n_d: int, n_g: int) -> CountStatistics:
    """Statistics of per-group sums of ``weight`` (group = instance for direct counts, with
    weight 1 per critical point; group = draw for Kac-Rice, with weight prefactor |det J|)."""
    t_d, t_g = np.asarray(t_d, float), np.asarray(t_g, float)

    def per_group(mask):
        return np.bincount(group, weights=weight * mask, minlength=n_groups)

    total = _mean_se(per_group(np.ones_like(weight))[:, None])[0]
    below_d = loss_d[:, None] <= t_d[None, :]
    below_g = loss_g[:, None] <= t_g[None, :]
    below = np.zeros((t_d.size, t_g.size, 2))
    for j in range(t_g.size):  # one pass per G threshold, vectorised over D thresholds
        mask = below_d & below_g[:, j, None]
        sums = np.stack([per_group(mask[:, i]) for i in range(t_d.size)], axis=-1)
        below[:, j] = _mean_se(sums)
    by_index = np.zeros((n_d, n_g, 2))
    for kd in range(n_d):
        for kg in range(n_g):
            by_index[kd, kg] = _mean_se(per_group((index_d == kd) & (index_g == kg))[:, None])[0]
    return CountStatistics(n_groups, tuple(total), t_d, t_g, below, by_index)


def predicted_counts(law, n_samples: int, t_d, t_g, seed=0, with_published_constant: bool = False) -> CountStatistics:
    """Kac-Rice expected counts (total, below thresholds, by index) with Monte Carlo SEs."""
    s = sample_jacobians(law, n_samples, seed, with_published_constant)
    group = np.arange(s.weight.size)
    return count_statistics(s.weight, s.loss_d, s.loss_g, s.index_d, s.index_g, group, s.weight.size,
                            t_d, t_g, law.n_d, law.n_g)


def z_scores(direct: CountStatistics, predicted: CountStatistics) -> dict[str, np.ndarray]:
    """(direct − predicted) / combined SE for the total, the threshold curve and the index table.

    The direct SE is floored at the Poisson value √(predicted / n_instances): for rare events
    (a few points per hundred instances) the sample SE is 0 when none was seen, which would
    turn any positive prediction into an infinite z. Entries with no SE at all get z = 0
    when they agree."""
    def z(a, b):
        se_direct2 = np.maximum(a[..., 1] ** 2, np.clip(b[..., 0], 0.0, None) / direct.n)
        se = np.sqrt(se_direct2 + b[..., 1] ** 2)
        diff = a[..., 0] - b[..., 0]
        fallback = np.where(diff == 0, 0.0, np.copysign(np.inf, diff))
        return np.divide(diff, se, out=fallback, where=se > 0)

    return {"total": z(np.array(direct.total), np.array(predicted.total)),
            "below": z(direct.below, predicted.below), "by_index": z(direct.by_index, predicted.by_index)}
