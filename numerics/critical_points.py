"""Every joint critical point of sampled instances of the finite-N model (MODEL.md §2).

A joint critical point is a pair (w_D, w_G) of unit vectors where the Riemannian gradient of
L_D on S^{n_d-1} and that of L_G on S^{n_g-1} both vanish (paper §3, eqs 7-8). For each
point the finders record L_D, L_G and the indices of the Riemannian Hessians ∇²_D L_D and
∇²_G L_G (numbers of negative eigenvalues; paper §5.1).

Two finders, both vectorised over instances and over points:

* :func:`torus_critical_points` (n_d = n_g = 2, the torus S¹ × S¹): the two gradients are
  trigonometric polynomials in the angles (θ_D, θ_G) of degree <= p + q in each angle, so
  their values on a (2(p+q)+2)² angle grid determine them exactly (FFT). The Fourier
  coefficients give rigorous Lipschitz bounds, which exclude every cell of a dense grid
  where one of the two gradients cannot vanish; Newton runs from every remaining cell, the
  limits are deduplicated. :func:`torus_count_stability` recounts on a refined grid.
* :func:`sphere_critical_points` (any sizes, used for S² × S²): many-start Newton on the
  product of spheres (retraction by normalisation), deduplicated; the number of distinct
  points found after each batch of starts is returned, so its stability as starts grow
  can be reported.

Both evaluate the glasses through :class:`PolynomialGlass`, the monomial expansion of a
coupling tensor drawn by :func:`numerics.model.sample_couplings`: for p + q = 6 on n = 6
weights it has 462 coefficients instead of the tensor's 6⁶, which is what makes many-start
Newton over hundreds of instances affordable. Its values and derivatives equal the
model's exact contractions (tests/test_critical_points.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np

from numerics.model import (Couplings, SpinGlassModel, jacobian_from_hessians, product_frame,
                            riemannian_hessian_from_euclidean)
from numerics.params import ParameterError, integer

# Newton is declared converged when the gradient's max-norm is below this.
GRADIENT_TOLERANCE = 1e-10
# Two critical points closer than this (Euclidean distance in R^n) are the same point.
DUPLICATE_DISTANCE = 1e-6
NEWTON_ITERATIONS = 40
# Points handled per vectorised Newton batch (bounds memory).
POINT_BATCH = 20000


def _exponents(n: int, degree: int) -> np.ndarray:
    """Exponent vectors of all monomials of ``degree`` in ``n`` variables, (M, n), sorted."""
    combos = list(combinations_with_replacement(range(n), degree))
    out = np.zeros((len(combos), n), dtype=np.int64)
    for row, combo in enumerate(combos):
        np.add.at(out[row], list(combo), 1)
    return out


def _codes(exponents: np.ndarray, degree: int) -> np.ndarray:
    """Integer code of each exponent vector (base degree + 1), for lookups."""
    base = (degree + 1) ** np.arange(exponents.shape[-1])
    return exponents @ base


class PolynomialGlass:
    """Monomial expansion F(w) = Σ_α c_α w^α of the form T[w, ..., w] of coupling tensors T of
    shape (I, n, ..., n) (d slots), with the coefficient tables of its gradient and Hessian.

    ``derivatives(w)`` evaluates value (I, P), gradient (I, P, n) and Hessian (I, P, n, n)
    at per-instance points w of shape (I, P, n).
    """

    def __init__(self, T: np.ndarray):
        T = np.asarray(T, dtype=float)
        I, d, n = T.shape[0], T.ndim - 1, T.shape[-1]
        self.n, self.degree = n, d
        self.exponents = [_exponents(n, k) for k in range(d + 1)]
        # Exponent vector of every ordered index tuple, summed into its monomial.
        tuples = np.indices((n,) * d).reshape(d, -1).T
        counts = np.zeros((tuples.shape[0], n), dtype=np.int64)
        for slot in range(d):
            counts[np.arange(tuples.shape[0]), tuples[:, slot]] += 1
        lookup = {int(c): i for i, c in enumerate(_codes(self.exponents[d], d))}
        target = np.array([lookup[int(c)] for c in _codes(counts, d)])
        coeff = np.zeros((I, len(self.exponents[d])))
        flat = T.reshape(I, -1)
        order = np.argsort(target, kind="stable")
        starts = np.flatnonzero(np.diff(np.concatenate([[-1], target[order]])))
        coeff[:, target[order][starts]] = np.add.reduceat(flat[:, order], starts, axis=1)
        self.value_coeff = coeff
        self.gradient_coeff = self._differentiate(coeff, d)  # (I, M_{d-1}, n)
        per_slot = self.gradient_coeff.transpose(0, 2, 1).reshape(I * n, -1)
        hess = self._differentiate(per_slot, d - 1)  # (I n, M_{d-2}, n)
        self.hessian_coeff = hess.reshape(I, n, -1, n).transpose(0, 2, 1, 3)  # (I, M_{d-2}, n, n)

    def _differentiate(self, coeff: np.ndarray, degree: int) -> np.ndarray:
        """Coefficients (B, M_{degree-1}, n) of ∂_j of polynomials with coefficients (B, M_degree)."""
        src = self.exponents[degree]
        lookup = {int(c): i for i, c in enumerate(_codes(self.exponents[degree - 1], degree - 1))}
        out = np.zeros((coeff.shape[0], len(self.exponents[degree - 1]), self.n))
        for j in range(self.n):
            rows = np.flatnonzero(src[:, j] > 0)
            lowered = src[rows].copy()
            lowered[:, j] -= 1
            tgt = np.array([lookup[int(c)] for c in _codes(lowered, degree - 1)], dtype=np.int64)
            out[:, tgt, j] = coeff[:, rows] * src[rows, j]
        return out

    def _monomials(self, w: np.ndarray, degree: int) -> np.ndarray:
        """w^α for every monomial of ``degree``, shape (I, P, M)."""
        powers = w[..., None] ** np.arange(degree + 1)  # (I, P, n, degree+1)
        exps = self.exponents[degree]
        out = np.ones(w.shape[:-1] + (exps.shape[0],))
        for j in range(self.n):
            out *= powers[..., j, exps[:, j]]
        return out

    def derivatives(self, w: np.ndarray):
        d = self.degree
        value = np.einsum("ipm,im->ip", self._monomials(w, d), self.value_coeff)
        grad = np.einsum("ipm,imj->ipj", self._monomials(w, d - 1), self.gradient_coeff)
        hess = np.einsum("ipm,imjk->ipjk", self._monomials(w, d - 2), self.hessian_coeff)
        return value, grad, hess


@dataclass(frozen=True)
class LossExpansion:
    """The two glasses of one batch of instances as polynomials (paper eqs 2-6)."""

    model: SpinGlassModel
    l_d: PolynomialGlass
    l_g: PolynomialGlass

    @classmethod
    def from_couplings(cls, model: SpinGlassModel, couplings: Couplings) -> "LossExpansion":
        return cls(model, PolynomialGlass(couplings.X), PolynomialGlass(couplings.Z))

    def losses(self, w: np.ndarray):
        """Values, Euclidean gradients (I, P, n) and Hessians (I, P, n, n) of L_D and L_G at
        per-instance points w (I, P, n)."""
        nd, s = self.model.n_d, self.model.sigma_z
        vd, gd, hd = self.l_d.derivatives(w[..., :nd])
        vg, gg, hg = self.l_g.derivatives(w)
        grad_d = -s * gg
        grad_d[..., :nd] += gd
        hess_d = -s * hg
        hess_d[..., :nd, :nd] += hd
        return (vd - s * vg, grad_d, hess_d), (s * vg, s * gg, s * hg)

    def field(self, w: np.ndarray):
        """At per-instance points w (I, P, n) on the unit spheres: Riemannian gradients in
        product-frame coordinates (I, P, n-2), the Kac-Rice Jacobian J (I, P, n-2, n-2), the
        losses (L_D, L_G) and the Riemannian Hessian blocks ∇²_D L_D, ∇²_G L_G.

        Same conventions as :func:`numerics.model.riemannian_gradients` and
        :func:`numerics.model.kac_rice_jacobian` (curvature term −(w·∇)/R² on each sphere).
        """
        mod = self.model
        nd = mod.n_d
        (loss_d, grad_d, hess_d), (loss_g, grad_g, hess_g) = self.losses(w)
        frame = product_frame(mod, w[..., :nd], w[..., nd:])
        kd = nd - 1

        def riemannian(grad, hess):
            # the frame is orthogonal to w, so frame coordinates of the Euclidean gradient are
            # those of the Riemannian one
            coords = np.einsum("...ak,...a->...k", frame, grad)
            return coords, riemannian_hessian_from_euclidean(mod, w, frame, grad, hess)

        cd, rhd = riemannian(grad_d, hess_d)
        cg, rhg = riemannian(grad_g, hess_g)
        gradient = np.concatenate([cd[..., :kd], cg[..., kd:]], axis=-1)
        jac = jacobian_from_hessians(mod, rhd, rhg)
        return gradient, jac, (loss_d, loss_g), (rhd[..., :kd, :kd], rhg[..., kd:, kd:])


@dataclass(frozen=True)
class CriticalPoints:
    """Joint critical points of a batch of instances, one row per point.

    ``instance`` is the instance index of each point, ``w`` its position (w_D, w_G),
    ``loss_d``/``loss_g`` the losses there, ``index_d``/``index_g`` the numbers of negative
    eigenvalues of ∇²_D L_D and ∇²_G L_G, ``residual`` the gradient max-norm after Newton.
    ``counts`` holds the number of points of every instance (zeros included).
    """

    n_instances: int
    instance: np.ndarray
    w: np.ndarray
    loss_d: np.ndarray
    loss_g: np.ndarray
    index_d: np.ndarray
    index_g: np.ndarray
    residual: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.instance, minlength=self.n_instances)


def _deduplicate(instance: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Indices of one representative of every cluster of points closer than DUPLICATE_DISTANCE
    within the same instance."""
    if instance.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Coarse pass: identical after rounding to well below the duplicate distance.
    key = np.round(w / (DUPLICATE_DISTANCE / 10.0)).astype(np.int64)
    _, first = np.unique(np.column_stack([instance, key]), axis=0, return_index=True)
    first = np.sort(first)
    inst, pts = instance[first], w[first]
    # Fine pass: points that straddled a rounding boundary, compared within each instance.
    order = np.argsort(inst, kind="stable")
    inst, pts, first = inst[order], pts[order], first[order]
    counts = np.bincount(inst)
    width = counts.max()
    slot = np.arange(inst.size) - np.repeat(np.cumsum(counts) - counts, counts)
    padded = np.full((counts.size, width, w.shape[-1]), np.nan)
    padded[inst, slot] = pts
    dist = np.linalg.norm(padded[:, :, None, :] - padded[:, None, :, :], axis=-1)
    earlier = np.tril(np.ones((width, width), dtype=bool), -1)
    duplicate = np.any((dist < DUPLICATE_DISTANCE) & earlier, axis=-1)
    return first[~duplicate[inst, slot]]


def _record(expansion: LossExpansion, n_instances: int, instance: np.ndarray, w: np.ndarray) -> CriticalPoints:
    """Deduplicate converged points and evaluate losses and Hessian indices there."""
    keep = _deduplicate(instance, w)
    instance, w = instance[keep], w[keep]
    losses_d, losses_g, index_d, index_g, residual = (np.zeros(instance.size) for _ in range(5))
    index_d = index_d.astype(np.int64)
    index_g = index_g.astype(np.int64)
    if instance.size:
        counts = np.bincount(instance, minlength=n_instances)
        width = counts.max()
        order = np.argsort(instance, kind="stable")
        instance, w = instance[order], w[order]
        slot = np.arange(instance.size) - np.repeat(np.cumsum(counts) - counts, counts)
        padded = np.zeros((n_instances, width, w.shape[-1]))
        padded[:, :, 0] = 1.0
        padded[:, :, expansion.model.n_d] = 1.0
        padded[instance, slot] = w
        grad, _, (ld, lg), (hd, hg) = expansion.field(padded)
        pick = (instance, slot)
        losses_d, losses_g = ld[pick], lg[pick]
        index_d = np.sum(np.linalg.eigvalsh(hd[pick]) < 0, axis=-1)
        index_g = np.sum(np.linalg.eigvalsh(hg[pick]) < 0, axis=-1)
        residual = np.max(np.abs(grad[pick]), axis=-1)
    return CriticalPoints(n_instances, instance, w, losses_d, losses_g, index_d, index_g, residual)


# --- the torus S¹ × S¹ ------------------------------------------------------------------------


def _torus_points(theta_d: np.ndarray, theta_g: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(theta_d), np.sin(theta_d), np.cos(theta_g), np.sin(theta_g)], axis=-1)


@dataclass(frozen=True)
class TorusGradients:
    """Fourier coefficients (I, K, K) of the angle derivatives F1 = ∂L_D/∂θ_D and
    F2 = ∂L_G/∂θ_G on the torus (exact: both are trigonometric polynomials of degree <= p+q)."""

    coeff: np.ndarray  # (I, 2, K, K) complex, numpy FFT ordering
    freq: np.ndarray  # (K,) integer frequencies

    @classmethod
    def from_expansion(cls, expansion: LossExpansion) -> "TorusGradients":
        I = expansion.l_d.value_coeff.shape[0]
        K = 2 * expansion.model.m + 2
        theta = 2.0 * np.pi * np.arange(K) / K
        td, tg = np.meshgrid(theta, theta, indexing="ij")
        w = np.broadcast_to(_torus_points(td, tg).reshape(1, K * K, 4), (I, K * K, 4))
        (_, grad_d, _), (_, grad_g, _) = expansion.losses(np.ascontiguousarray(w))
        tangent = np.stack([-np.sin(td), np.cos(td), -np.sin(tg), np.cos(tg)], axis=-1).reshape(K * K, 4)
        f1 = np.sum(grad_d[..., :2] * tangent[:, :2], axis=-1)
        f2 = np.sum(grad_g[..., 2:] * tangent[:, 2:], axis=-1)
        values = np.stack([f1, f2], axis=1).reshape(I, 2, K, K)
        return cls(np.fft.fft2(values) / (K * K), np.rint(np.fft.fftfreq(K) * K))

    def derivative_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Upper bounds of sup |∂F_i/∂θ_j| (I, 2, 2) and of sup |∂²F_i/∂θ_j∂θ_k| summed over
        j, k (I, 2), from Σ |k_j| |c_k| and Σ |k_j k_k| |c_k|."""
        a = np.abs(self.coeff)
        kd = np.abs(self.freq)[:, None]
        kg = np.abs(self.freq)[None, :]
        first = np.stack([np.sum(a * kd, axis=(-2, -1)), np.sum(a * kg, axis=(-2, -1))], axis=-1)
        second = np.sum(a * (kd + kg) ** 2, axis=(-2, -1))
        return first, second

    def on_grid(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F (I, 2, n, n) and its angle derivatives (I, 2, 2, n, n) at every grid point
        (θ_D, θ_G) ∈ theta²."""
        e = np.exp(1j * np.outer(theta, self.freq))  # (n, K)
        de = e * (1j * self.freq)
        value = np.real(e @ self.coeff @ e.T)
        deriv = np.stack([np.real(de @ self.coeff @ e.T), np.real(e @ self.coeff @ de.T)], axis=2)
        return value, deriv

    def at(self, instance: np.ndarray, theta: np.ndarray):
        """F (Q, 2) and its Jacobian (Q, 2, 2) at points theta (Q, 2) of the given instances."""
        ed = np.exp(1j * theta[:, 0, None] * self.freq)
        eg = np.exp(1j * theta[:, 1, None] * self.freq)
        c = self.coeff[instance]  # (Q, 2, K, K)
        left = np.matmul(ed[:, None, None, :], c)[:, :, 0, :]  # (Q, 2, K)
        dleft = np.matmul((1j * self.freq * ed)[:, None, None, :], c)[:, :, 0, :]
        value = np.real(np.sum(left * eg[:, None, :], -1))
        dd = np.real(np.sum(dleft * eg[:, None, :], -1))
        dg = np.real(np.sum(left * (1j * self.freq * eg)[:, None, :], -1))
        return value, np.stack([dd, dg], axis=-1)


def _torus_newton(grads: TorusGradients, instance: np.ndarray, theta: np.ndarray):
    """Newton from every start; returns (instance, theta) of the starts that converged."""
    done_inst, done_theta = [], []
    for _ in range(NEWTON_ITERATIONS):
        if instance.size == 0:
            break
        value, jac = grads.at(instance, theta)
        ok = np.max(np.abs(value), axis=-1) < GRADIENT_TOLERANCE
        done_inst.append(instance[ok])
        done_theta.append(np.mod(theta[ok], 2.0 * np.pi))
        instance, theta, value, jac = instance[~ok], theta[~ok], value[~ok], jac[~ok]
        det = jac[:, 0, 0] * jac[:, 1, 1] - jac[:, 0, 1] * jac[:, 1, 0]
        safe = np.where(np.abs(det) > 1e-300, det, np.inf)
        step = np.stack([jac[:, 1, 1] * value[:, 0] - jac[:, 0, 1] * value[:, 1],
                         jac[:, 0, 0] * value[:, 1] - jac[:, 1, 0] * value[:, 0]], -1) / safe[:, None]
        theta = theta - np.clip(step, -0.5, 0.5)  # never jump across the torus
    return np.concatenate(done_inst), np.concatenate(done_theta)


def torus_critical_points(model: SpinGlassModel, couplings: Couplings, grid: int = 128) -> CriticalPoints:
    """All joint critical points of every instance on S¹ × S¹ (n_d = n_g = 2).

    A cell of a ``grid``² grid of the angle torus (half-width r = h/2) is excluded when
    Taylor's theorem with the Fourier bounds proves that F1 = ∂L_D/∂θ_D or F2 = ∂L_G/∂θ_G has
    no zero in it: |F_i(c)| > r (|∂_D F_i(c)| + |∂_G F_i(c)|) + (r²/2) Σ_jk sup|∂_j∂_k F_i|.
    Every zero therefore lies in a remaining cell; Newton runs from the centre of each and
    the converged limits are deduplicated (a zero is missed only if Newton from its own cell
    goes elsewhere, which :func:`torus_count_stability` checks by refining the grid).
    """
    if model.n_d != 2 or model.n_g != 2:
        raise ParameterError(f"the torus finder needs n_d = n_g = 2, got n_d={model.n_d}, n_g={model.n_g}")
    grid = integer("grid", grid, 8)
    expansion = LossExpansion.from_couplings(model, couplings)
    grads = TorusGradients.from_expansion(expansion)
    h = 2.0 * np.pi / grid
    theta = (np.arange(grid) + 0.5) * h
    _, second = grads.derivative_bounds()
    f, df = grads.on_grid(theta)
    r = 0.5 * h
    reach = r * np.abs(df).sum(axis=2) + 0.5 * r**2 * second[:, :, None, None]
    candidate = np.all(np.abs(f) <= reach, axis=1)
    inst, a, b = np.nonzero(candidate)
    inst, th = _torus_newton(grads, inst, np.stack([theta[a], theta[b]], -1))
    return _record(expansion, couplings.n_instances, inst, _torus_points(th[:, 0], th[:, 1]))


def torus_count_stability(model: SpinGlassModel, couplings: Couplings, grids=(64, 128, 256)) -> np.ndarray:
    """Counts per instance (len(grids), I) found with each grid: equal rows mean the count is
    stable under grid refinement."""
    return np.stack([torus_critical_points(model, couplings, g).counts for g in grids])


# --- many-start Newton on S^{n_d-1} × S^{n_g-1} -----------------------------------------------


def _sphere_newton(expansion: LossExpansion, w: np.ndarray):
    """Newton with retraction from starts w (I, S, n); returns (instance, w) of converged ones.

    Converged starts leave the batch, so later iterations only pay for the active ones."""
    mod = expansion.model
    nd = mod.n_d
    I, S = w.shape[:2]
    instance = np.repeat(np.arange(I), S)
    w = w.reshape(I * S, mod.n)
    done_inst, done_w = [], []
    for _ in range(NEWTON_ITERATIONS):
        if instance.size == 0:
            break
        # The expansion evaluates per instance: pad the active starts into (I, width, n).
        counts = np.bincount(instance, minlength=I)
        slot = np.arange(instance.size) - np.repeat(np.cumsum(counts) - counts, counts)
        padded = np.zeros((I, counts.max(), mod.n))
        padded[..., 0] = 1.0
        padded[..., nd] = 1.0
        padded[instance, slot] = w
        grad, jac, *_ = expansion.field(padded)
        grad, jac = grad[instance, slot], jac[instance, slot]
        ok = np.max(np.abs(grad), axis=-1) < GRADIENT_TOLERANCE
        done_inst.append(instance[ok])
        done_w.append(w[ok])
        instance, w, grad, jac = instance[~ok], w[~ok], grad[~ok], jac[~ok]
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(jac, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:  # an exactly singular J somewhere in the batch
                step = np.einsum("...kl,...l->...k", np.linalg.pinv(jac), grad)
        step = np.nan_to_num(step, nan=0.0, posinf=0.0, neginf=0.0)
        norm = np.linalg.norm(step, axis=-1, keepdims=True)
        step *= np.minimum(1.0, 1.0 / np.maximum(norm, 1e-300))  # at most a radian per step
        frame = product_frame(mod, w[..., :nd], w[..., nd:])
        w = w - np.einsum("...ak,...k->...a", frame, step)
        w[..., :nd] *= mod.radius_d / np.linalg.norm(w[..., :nd], axis=-1, keepdims=True)
        w[..., nd:] *= mod.radius_g / np.linalg.norm(w[..., nd:], axis=-1, keepdims=True)
    return np.concatenate(done_inst), np.concatenate(done_w)


def sphere_critical_points(model: SpinGlassModel, couplings: Couplings, n_starts: int = 512,
                           batches: int = 4, seed=0) -> tuple[CriticalPoints, np.ndarray]:
    """Joint critical points found by Newton from ``n_starts`` uniform random starts per
    instance, run in ``batches`` equal batches.

    Returns the points and the per-instance numbers of distinct points found after each
    batch, shape (batches, I): a count that stops growing as starts are added is the
    evidence of completeness (there is no certificate in dimension > 2).
    """
    n_starts = integer("n_starts", n_starts, 1)
    batches = integer("batches", batches, 1)
    if model.radius_d != 1.0 or model.radius_g != 1.0:
        raise ParameterError("the critical-point finders use unit spheres (MODEL.md §1)")
    expansion = LossExpansion.from_couplings(model, couplings)
    I = couplings.n_instances
    rng = np.random.default_rng(seed)
    per_batch = max(1, math.ceil(n_starts / batches))
    chunk = max(1, POINT_BATCH // I)
    found_inst, found_w, growth = [], [], []
    for _ in range(batches):
        for lo in range(0, per_batch, chunk):
            size = min(chunk, per_batch - lo)
            w = rng.standard_normal((I, size, model.n))
            w[..., : model.n_d] /= np.linalg.norm(w[..., : model.n_d], axis=-1, keepdims=True)
            w[..., model.n_d:] /= np.linalg.norm(w[..., model.n_d:], axis=-1, keepdims=True)
            inst, pts = _sphere_newton(expansion, w)
            found_inst.append(inst)
            found_w.append(pts)
        inst, pts = np.concatenate(found_inst), np.concatenate(found_w)
        keep = _deduplicate(inst, pts)
        found_inst, found_w = [inst[keep]], [pts[keep]]
        growth.append(np.bincount(inst[keep], minlength=I))
    return _record(expansion, I, found_inst[0], found_w[0]), np.stack(growth)
