"""The finite-N interacting spin-glass model of GANs (paper §2, eqs 2-6; MODEL.md §1).

Discriminator p-spin glass on w_D in R^{n_d} and generator (p+q)-spin glass on the
concatenation w = (w_D, w_G) in R^n, n = n_d + n_g (paper eq. 4):

    l_D(w_D) = sum X[i1..ip] w_D[i1]...w_D[ip],        X iid N(0, 1)
    l_G(w)   = sum Z[i1..im] w[i1]...w[im],  m = p+q,  Z iid N(0, 1)
    L_D = l_D - sigma_z l_G,     L_G = sigma_z l_G                              (eqs 5-6)

w_D and w_G live on spheres of radii ``radius_d`` and ``radius_g`` (unit spheres are the
convention of MODEL.md §1; the north poles are radius * e_1). X and Z are NOT symmetrised:
every ordered index tuple has its own coupling, which is what gives E l_D l_D' = (w_D.w_D')^p
and E l_G l_G' = (w.w')^m exactly (:func:`loss_covariances`).

API (all evaluations are exact tensor contractions, vectorised over instances and points)::

    model = SpinGlassModel(n_d, n_g, p, q, sigma_z, radius_d=1.0, radius_g=1.0)
    model = SpinGlassModel.from_kappa(n, kappa, p, q, sigma_z)   # n_d = floor(kappa n)
    c = sample_couplings(model, n_instances, seed)   # Couplings(X, Z); ParameterError with
                                                     # the size needed when it will not fit
    w_d, w_g = north_poles(model)  /  random_points(model, shape, seed)

    losses(model, c, w_d, w_g)               -> LossQuantities of shape (I, *P)
    euclidean_gradients(model, c, w_d, w_g)  -> LossQuantities of shape (I, *P, n)
    euclidean_hessians(model, c, w_d, w_g)   -> LossQuantities of shape (I, *P, n, n)
    radial_derivatives(model, c, w_d, w_g)   -> LossQuantities of shape (I, *P, 2),
                                                (w_D.grad_D, w_G.grad_G)
    riemannian_gradients(..., frame=False)   -> LossQuantities (I, *P, n) ambient,
                                                or (I, *P, n-2) frame coordinates
    riemannian_hessians(model, c, w_d, w_g)  -> LossQuantities (I, *P, n-2, n-2) in product_frame
    kac_rice_jacobian(..., symmetrise=False) -> (I, *P, n-2, n-2)
    tangent_frame(w) / product_frame(model, w_d, w_g)
    riemannian_gradient_from_euclidean / riemannian_hessian_from_euclidean / jacobian_from_hessians
                                              (for callers with their own Euclidean derivatives)
    pole_quantities(model, c)                -> dict of everything above at the north poles
    loss_covariances(model, overlap_d, overlap_g) -> the kernels E L L' of MODEL.md §1

Points: ``w_d`` has shape (*P, n_d) (the same points for every instance) or
(I, *P, n_d) with ``per_instance=True`` (its own points for each instance); ``w_g`` likewise.
Results always carry the instance axis first, then the point axes ``*P`` (empty for a
single point). Points are used as given (they are not projected onto the spheres), so the
Euclidean quantities are valid anywhere; the Riemannian ones assume the points lie on
the spheres.

Every vector over all weights is ordered (w_D, w_G); tangent frames are ordered the same way:
the first n_d - 1 frame vectors span T S_D, the last n_g - 1 span T S_G. At a north pole the
frame is exactly (e_2, ..., e_n) of that sphere, so pole tangent Hessians are coordinate
sub-blocks of the Euclidean Hessians.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from numerics.params import ParameterError, finite_array, integer, positive, unit_interval

BYTES_PER_FLOAT = 8
# Fraction of the currently available memory that couplings plus working arrays may use.
MEMORY_FRACTION = 0.5


@dataclass(frozen=True)
class SpinGlassModel:
    """Sizes, spin orders, generator noise scale and sphere radii of the finite-N model."""

    n_d: int
    n_g: int
    p: int = 3
    q: int = 3
    sigma_z: float = 1.0
    radius_d: float = 1.0
    radius_g: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "n_d", integer("n_d", self.n_d, 2))
        object.__setattr__(self, "n_g", integer("n_g", self.n_g, 2))
        object.__setattr__(self, "p", integer("p", self.p, 2))
        object.__setattr__(self, "q", integer("q", self.q, 2))
        object.__setattr__(self, "sigma_z", positive("sigma_z", self.sigma_z))
        object.__setattr__(self, "radius_d", positive("radius_d", self.radius_d))
        object.__setattr__(self, "radius_g", positive("radius_g", self.radius_g))

    @property
    def n(self) -> int:
        """Total number of weights n_d + n_g."""
        return self.n_d + self.n_g

    @property
    def m(self) -> int:
        """Order p + q of the generator glass."""
        return self.p + self.q

    @classmethod
    def from_kappa(cls, n, kappa, p=3, q=3, sigma_z=1.0, radius_d=1.0, radius_g=1.0):
        """The model with N = ``n`` weights split as n_d = floor(kappa N), n_g = N - n_d
        (MODEL.md notation; n_g differs from floor((1 - kappa) N) by at most 1)."""
        n = integer("n", n, 4)
        kappa = unit_interval("kappa", kappa)
        # The small offset keeps e.g. kappa = 0.9, N = 10 from flooring 8.999... to 8.
        n_d = math.floor(kappa * n + 1e-9)
        return cls(n_d, n - n_d, p, q, sigma_z, radius_d, radius_g)

    def coupling_bytes(self, n_instances: int = 1) -> int:
        """Memory taken by the couplings X and Z of ``n_instances`` instances."""
        return n_instances * (self.n_d**self.p + self.n**self.m) * BYTES_PER_FLOAT


class Couplings(NamedTuple):
    """Coupling tensors of independent instances: X of shape (I, n_d, ..., n_d) (p axes),
    Z of shape (I, n, ..., n) (p + q axes)."""

    X: np.ndarray
    Z: np.ndarray

    @property
    def n_instances(self) -> int:
        return self.X.shape[0]


class LossQuantities(NamedTuple):
    """One quantity for each of the four functions: the glasses l_D, l_G and the losses L_D, L_G."""

    l_d: np.ndarray
    l_g: np.ndarray
    loss_d: np.ndarray
    loss_g: np.ndarray


def available_memory() -> int:
    """Bytes of memory currently available to this process (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(what: str, needed: int, budget: int | None = None) -> None:
    """Raise ParameterError naming ``what`` when ``needed`` bytes exceed the memory budget."""
    budget = int(MEMORY_FRACTION * available_memory()) if budget is None else budget
    if needed > budget:
        raise ParameterError(
            f"{what} need {needed / 2**30:.2f} GiB but only {budget / 2**30:.2f} GiB may be used "
            f"(reduce n_d, n_g, p + q or the number of instances/points)"
        )


def sample_couplings(
    model: SpinGlassModel, n_instances: int = 1, seed=None, max_bytes: int | None = None
) -> Couplings:
    """Draw X and Z for ``n_instances`` independent instances (paper eqs 2-4).

    ``seed`` is anything :func:`numpy.random.default_rng` accepts. Raises ParameterError
    stating the size needed when the tensors would not fit in ``max_bytes`` (default: half
    of the available memory).
    """
    n_instances = integer("n_instances", n_instances, 1)
    check_memory(
        f"couplings for {n_instances} instance(s) of n_d={model.n_d}, n_g={model.n_g}, "
        f"p={model.p}, q={model.q}",
        model.coupling_bytes(n_instances),
        max_bytes,
    )
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_instances,) + (model.n_d,) * model.p)
    Z = rng.standard_normal((n_instances,) + (model.n,) * model.m)
    return Couplings(X, Z)


def north_poles(model: SpinGlassModel) -> tuple[np.ndarray, np.ndarray]:
    """The north poles radius_d * e_1 in R^{n_d} and radius_g * e_1 in R^{n_g} (eqs 21-36)."""
    w_d = np.zeros(model.n_d)
    w_g = np.zeros(model.n_g)
    w_d[0] = model.radius_d
    w_g[0] = model.radius_g
    return w_d, w_g


def random_points(model: SpinGlassModel, shape=(), seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Independent uniform points on the two spheres, arrays of shape (*shape, n_d), (*shape, n_g)."""
    rng = np.random.default_rng(seed)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    w_d = rng.standard_normal(shape + (model.n_d,))
    w_g = rng.standard_normal(shape + (model.n_g,))
    w_d *= model.radius_d / np.linalg.norm(w_d, axis=-1, keepdims=True)
    w_g *= model.radius_g / np.linalg.norm(w_g, axis=-1, keepdims=True)
    return w_d, w_g


def loss_covariances(model: SpinGlassModel, overlap_d, overlap_g) -> dict[str, np.ndarray]:
    """Covariance kernels of the losses as functions of the overlaps (MODEL.md §1).

    For points (w_D, w_G), (w_D', w_G') with overlap_d = w_D.w_D', overlap_g = w_G.w_G'::

        E l_D l_D' = overlap_d^p,      E l_G l_G' = (overlap_d + overlap_g)^(p+q)
        E L_D L_D' = overlap_d^p + sigma_z^2 (overlap_d + overlap_g)^(p+q)
        E L_G L_G' = sigma_z^2 (overlap_d + overlap_g)^(p+q)
        E L_D L_G' = E L_G L_D' = -sigma_z^2 (overlap_d + overlap_g)^(p+q)
    """
    qd = finite_array("overlap_d", overlap_d)
    qg = finite_array("overlap_g", overlap_g)
    gen = (qd + qg) ** model.m
    s2 = model.sigma_z**2
    return {
        "l_d,l_d": qd**model.p,
        "l_g,l_g": gen,
        "loss_d,loss_d": qd**model.p + s2 * gen,
        "loss_g,loss_g": s2 * gen,
        "loss_d,loss_g": -s2 * gen,
    }


# --- exact contractions of a (non-symmetric) coupling tensor with a point ---------------------


def _contract_last(T: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Contract the last slot of T (I, Pt, A, n) with w (Iw, P, n) -> (I, P, A); Pt is 1 or P."""
    if T.shape[1] == 1:
        out = np.matmul(T[:, 0], np.swapaxes(w, -1, -2))  # one gemm per instance
        return np.moveaxis(out, -1, 1)
    return np.matmul(T, w[..., None])[..., 0]


def _contract_first(T: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Contract the first slot of T (I, Pt, n, A) with w (Iw, P, n) -> (I, P, A)."""
    if T.shape[1] == 1:
        return np.matmul(w, T[:, 0])
    return np.matmul(w[..., None, :], T)[..., 0, :]


def _outer_powers(w: np.ndarray, top: int) -> list[np.ndarray]:
    """[w^{(x)0}, ..., w^{(x)top}] flattened row-major, each of shape (Iw, P, n^r)."""
    powers = [np.ones(w.shape[:-1] + (1,))]
    for _ in range(top):
        powers.append((powers[-1][..., :, None] * w[..., None, :]).reshape(w.shape[:-1] + (-1,)))
    return powers


def form_derivatives(T: np.ndarray, w: np.ndarray, order: int = 2):
    """Value, gradient and Hessian of the form F(w) = T[w, ..., w] for a non-symmetric T.

    T has shape (I, n, ..., n) with d slots, w has shape (Iw, P, n) with Iw in {1, I}.
    Returns (value (I, P), gradient (I, P, n) or None, Hessian (I, P, n, n) or None) for
    ``order`` 0, 1, 2. The gradient sums the contraction leaving slot k free over k; the
    Hessian sums the contractions leaving slots k < l free and symmetrises. Left prefixes
    (slots < k contracted) and right suffixes are shared, so the cost is a few passes over T.
    """
    I, d, n = T.shape[0], T.ndim - 1, T.shape[-1]
    P = w.shape[1]
    powers = _outer_powers(w, max(d - 2, 0)) if order >= 2 else None
    grad = np.zeros((I, P, n)) if order >= 1 else None
    hess = np.zeros((I, P, n, n)) if order >= 2 else None
    value = None
    prefix = T.reshape(I, 1, n**d)  # slots k..d-1 free, the first k contracted with w
    for k in range(d):
        if order == 0 and k > 0:
            break
        right = prefix  # slots k..l free
        for l in range(d - 1, k, -1):
            if order >= 2:
                mid = l - k - 1
                S = np.broadcast_to(
                    right.reshape(I, right.shape[1], n, n**mid, n), (I, P, n, n**mid, n)
                )
                W = np.broadcast_to(powers[mid], (I, P, n**mid))
                hess += np.einsum("ipamb,ipm->ipab", S, W)
            right = _contract_last(right.reshape(I, right.shape[1], -1, n), w)
        vec = np.broadcast_to(right, (I, P, n))  # slot k free only
        if k == 0:
            value = np.einsum("ipa,ipa->ip", vec, np.broadcast_to(w, (I, P, n)))
        if order >= 1:
            grad += vec
        if order >= 1 and k < d - 1:
            prefix = _contract_first(prefix.reshape(I, prefix.shape[1], n, -1), w)
    if order >= 2:
        hess += np.swapaxes(hess, -1, -2).copy()
    return value, grad, hess


# --- points ----------------------------------------------------------------------------------


def _points(model: SpinGlassModel, n_instances: int, w_d, w_g, per_instance: bool):
    """Validate and flatten points to (Iw, P, n) plus the point batch shape."""
    w_d = finite_array("w_d", w_d)
    w_g = finite_array("w_g", w_g)
    if w_d.ndim == 0 or w_d.shape[-1] != model.n_d:
        raise ParameterError(f"w_d must have last axis of length n_d={model.n_d}, got shape {w_d.shape}")
    if w_g.ndim == 0 or w_g.shape[-1] != model.n_g:
        raise ParameterError(f"w_g must have last axis of length n_g={model.n_g}, got shape {w_g.shape}")
    try:
        batch = np.broadcast_shapes(w_d.shape[:-1], w_g.shape[:-1])
    except ValueError:
        raise ParameterError(
            f"w_d and w_g point shapes {w_d.shape[:-1]} and {w_g.shape[:-1]} do not broadcast"
        ) from None
    w_d = np.broadcast_to(w_d, batch + (model.n_d,))
    w_g = np.broadcast_to(w_g, batch + (model.n_g,))
    if per_instance:
        if len(batch) == 0 or batch[0] != n_instances:
            raise ParameterError(
                f"per_instance points need a leading axis of length n_instances={n_instances}, "
                f"got point shape {batch}"
            )
        iw, point_shape = n_instances, batch[1:]
    else:
        iw, point_shape = 1, batch
    w = np.concatenate([w_d, w_g], axis=-1).reshape(iw, -1, model.n)
    return w, point_shape


@dataclass(frozen=True)
class _Expansion:
    """Values, Euclidean gradients and Hessians of l_D and l_G (over all n weights) at the
    points w (Iw, P, n); each glass is a tuple (value (I, P), gradient, Hessian)."""

    w: np.ndarray
    point_shape: tuple
    l_d: tuple
    l_g: tuple

    def quantities(self, model, d: np.ndarray, g: np.ndarray) -> LossQuantities:
        """The four functions from a quantity of l_D and of l_G (I, P, ...) that is linear in
        the function (L_D = l_D - sigma_z l_G, L_G = sigma_z l_G), reshaped to (I, *P, ...)."""
        s = model.sigma_z
        shape = (d.shape[0],) + self.point_shape + d.shape[2:]
        return LossQuantities(*(a.reshape(shape) for a in (d, g, d - s * g, s * g)))

    def frames(self, model) -> np.ndarray:
        return product_frame(model, self.w[..., : model.n_d], self.w[..., model.n_d :])


def _expand(model, couplings, w_d, w_g, order, per_instance=False) -> _Expansion:
    I = couplings.n_instances
    w, point_shape = _points(model, I, w_d, w_g, per_instance)
    P = w.shape[1]
    # The largest working arrays are the first prefix/suffix contractions of Z at every point.
    check_memory(
        f"evaluating {I} instance(s) at {P} point(s)",
        4 * I * P * (model.n ** (model.m - 1) + model.n**2) * BYTES_PER_FLOAT,
    )
    if couplings.X.shape[1:] != (model.n_d,) * model.p or couplings.Z.shape[1:] != (model.n,) * model.m:
        raise ParameterError("couplings do not match the model's sizes and spin orders")
    vd, gd, hd = form_derivatives(couplings.X, w[..., : model.n_d], order)
    vg, gg, hg = form_derivatives(couplings.Z, w, order)
    if order >= 1:
        gd = np.concatenate([gd, np.zeros((I, P, model.n_g))], axis=-1)
    if order >= 2:
        hd = np.pad(hd, ((0, 0), (0, 0), (0, model.n_g), (0, model.n_g)))
    return _Expansion(w, point_shape, (vd, gd, hd), (vg, gg, hg))


def losses(model, couplings, w_d, w_g, per_instance=False) -> LossQuantities:
    """l_D, l_G, L_D = l_D - sigma_z l_G and L_G = sigma_z l_G at the points (eqs 2-6)."""
    exp = _expand(model, couplings, w_d, w_g, 0, per_instance)
    return exp.quantities(model, exp.l_d[0], exp.l_g[0])


def euclidean_gradients(model, couplings, w_d, w_g, per_instance=False) -> LossQuantities:
    """Gradients in R^n = R^{n_d} x R^{n_g} (ordered (w_D, w_G)), shape (I, *P, n)."""
    exp = _expand(model, couplings, w_d, w_g, 1, per_instance)
    return exp.quantities(model, exp.l_d[1], exp.l_g[1])


def euclidean_hessians(model, couplings, w_d, w_g, per_instance=False) -> LossQuantities:
    """Hessians in R^n (ordered (w_D, w_G)), shape (I, *P, n, n)."""
    exp = _expand(model, couplings, w_d, w_g, 2, per_instance)
    return exp.quantities(model, exp.l_d[2], exp.l_g[2])


def radial_parts(model, w, grad) -> np.ndarray:
    """(w_D . grad_D, w_G . grad_G) of Euclidean gradients grad (..., n) at points w (..., n),
    shape (..., 2)."""
    prod = w * grad
    return np.stack([prod[..., : model.n_d].sum(-1), prod[..., model.n_d :].sum(-1)], axis=-1)


def radial_derivatives(model, couplings, w_d, w_g, per_instance=False) -> LossQuantities:
    """(w_D . grad_D, w_G . grad_G) of each function, shape (I, *P, 2).

    At the unit north poles these are r_D = d/de_D and r_G = d/de_G; for l_G Euler's
    relation gives r_D + r_G = (p + q) l_G (MODEL.md §3).
    """
    exp = _expand(model, couplings, w_d, w_g, 1, per_instance)
    rd, rg = (radial_parts(model, exp.w, g[1]) for g in (exp.l_d, exp.l_g))
    return exp.quantities(model, rd, rg)


def tangent_frame(w, radius=None) -> np.ndarray:
    """Orthonormal basis of the tangent space at w of the sphere through w, shape (..., n, n-1).

    The columns are H e_2, ..., H e_n for the Householder reflection H mapping e_1 to w/|w|,
    so at the north pole the frame is exactly (e_2, ..., e_n). When ``radius`` is given,
    |w| is checked against it.
    """
    w = finite_array("w", w)
    norm = np.linalg.norm(w, axis=-1, keepdims=True)
    if np.any(norm == 0):
        raise ParameterError("w must be non-zero to define a tangent frame")
    if radius is not None:
        radius = positive("radius", radius)
        if not np.allclose(norm, radius, rtol=1e-8, atol=0):
            raise ParameterError(f"w must lie on the sphere of radius {radius}")
    u = w / norm
    v = u.copy()
    # u_1 - 1 computed without cancellation near the north pole.
    tail = np.sum(u[..., 1:] ** 2, axis=-1)
    v[..., 0] = np.where(u[..., 0] > 0, -tail / (1.0 + np.abs(u[..., 0])), u[..., 0] - 1.0)
    vv = np.sum(v**2, axis=-1)[..., None, None]
    n = w.shape[-1]
    outer = v[..., :, None] * v[..., None, :]
    H = np.eye(n) - np.divide(2.0 * outer, vv, out=np.zeros_like(outer), where=vv > 0)
    return H[..., :, 1:]


def product_frame(model, w_d, w_g) -> np.ndarray:
    """Block-diagonal orthonormal frame of T(S_D x S_G) at (w_D, w_G), shape (..., n, n-2)."""
    fd = tangent_frame(w_d)
    fg = tangent_frame(w_g)
    batch = np.broadcast_shapes(fd.shape[:-2], fg.shape[:-2])
    frame = np.zeros(batch + (model.n, model.n - 2))
    frame[..., : model.n_d, : model.n_d - 1] = fd
    frame[..., model.n_d :, model.n_d - 1 :] = fg
    return frame


def riemannian_gradient_from_euclidean(model, w, grad) -> np.ndarray:
    """Projection of Euclidean gradients grad (..., n) onto T S_D x T S_G at w (..., n)."""
    rad = radial_parts(model, w, grad)
    out = grad.copy()
    out[..., : model.n_d] -= (rad[..., 0] / model.radius_d**2)[..., None] * w[..., : model.n_d]
    out[..., model.n_d :] -= (rad[..., 1] / model.radius_g**2)[..., None] * w[..., model.n_d :]
    return out


def riemannian_hessian_from_euclidean(model, w, frame, grad, hess) -> np.ndarray:
    """Riemannian Hessian on S_D x S_G in ``frame`` coordinates (..., n-2, n-2) from the
    Euclidean gradient (..., n) and Hessian (..., n, n) at w (..., n):

        E^T Hess E - diag((w_D.grad_D)/R_D^2 I_{n_d-1}, (w_G.grad_G)/R_G^2 I_{n_g-1})

    (the curvature term of each sphere; none in the cross block).
    """
    rad = radial_parts(model, w, grad)
    out = np.einsum("...ak,...ab,...bl->...kl", frame, hess, frame)
    kd = model.n_d - 1
    idx_d = np.arange(kd)
    idx_g = np.arange(kd, model.n - 2)
    out[..., idx_d, idx_d] -= (rad[..., 0] / model.radius_d**2)[..., None]
    out[..., idx_g, idx_g] -= (rad[..., 1] / model.radius_g**2)[..., None]
    return out


def riemannian_gradients(model, couplings, w_d, w_g, per_instance=False, frame=False) -> LossQuantities:
    """Riemannian gradients on S_D x S_G: ambient tangent vectors (I, *P, n), or with
    ``frame=True`` their coordinates (I, *P, n-2) in :func:`product_frame`."""
    exp = _expand(model, couplings, w_d, w_g, 1, per_instance)
    gd, gg = (riemannian_gradient_from_euclidean(model, exp.w, g[1]) for g in (exp.l_d, exp.l_g))
    if frame:
        E = exp.frames(model)
        gd, gg = (np.einsum("...ak,...a->...k", E, g) for g in (gd, gg))
    return exp.quantities(model, gd, gg)


def riemannian_hessians(model, couplings, w_d, w_g, per_instance=False) -> LossQuantities:
    """Riemannian Hessians on S_D x S_G in :func:`product_frame` coordinates, (I, *P, n-2, n-2).

    On a sphere of radius R the curvature term is -(w . grad)/R^2 times the identity
    (MODEL.md §3; for a homogeneous glass at a pole this is the shift by the value).
    """
    exp = _expand(model, couplings, w_d, w_g, 2, per_instance)
    E = exp.frames(model)
    hd, hg = (riemannian_hessian_from_euclidean(model, exp.w, E, g[1], g[2]) for g in (exp.l_d, exp.l_g))
    return exp.quantities(model, hd, hg)


def jacobian_from_hessians(model, hess_loss_d, hess_loss_g, symmetrise=False) -> np.ndarray:
    """Assemble J = [[Hess_DD L_D, Hess_DG L_D], [Hess_GD L_G, Hess_GG L_G]] (paper §3, Kac-Rice)
    from Riemannian Hessians of L_D and L_G; ``symmetrise`` negates the G block row."""
    kd = model.n_d - 1
    J = np.concatenate([hess_loss_d[..., :kd, :], hess_loss_g[..., kd:, :]], axis=-2)
    if symmetrise:
        J[..., kd:, :] *= -1.0
    return J


def kac_rice_jacobian(model, couplings, w_d, w_g, symmetrise=False, per_instance=False) -> np.ndarray:
    """The Kac-Rice Jacobian J of the vector field (grad_D L_D, grad_G L_G) on S_D x S_G in
    :func:`product_frame` coordinates, shape (I, *P, n-2, n-2).

    With ``symmetrise=True`` its G block row is negated; for this model that matrix is
    symmetric (the cross blocks are -sigma_z Hess_DG l_G and sigma_z Hess_GD l_G) and has
    the same |det| (MODEL.md §2).
    """
    h = riemannian_hessians(model, couplings, w_d, w_g, per_instance)
    return jacobian_from_hessians(model, h.loss_d, h.loss_g, symmetrise)


def pole_quantities(model: SpinGlassModel, couplings: Couplings) -> dict[str, np.ndarray]:
    """Everything at the north poles, per instance (leading axis I), for Monte Carlo checks.

    Keys: ``l_d, l_g, loss_d, loss_g`` (values); ``r_d, r_g`` (radial derivatives of l_G);
    ``grad_l_d, grad_l_g`` (Euclidean tangent gradients, n-2 frame coordinates);
    ``hess_l_d, hess_l_g`` (Euclidean tangent Hessians, (n-2, n-2));
    ``riem_hess_loss_d, riem_hess_loss_g`` (Riemannian Hessians of L_D, L_G);
    ``jacobian, jacobian_sym`` (Kac-Rice J and its symmetrised form).
    """
    w_d, w_g = north_poles(model)
    exp = _expand(model, couplings, w_d, w_g, 2)
    E = exp.frames(model)
    values = exp.quantities(model, exp.l_d[0], exp.l_g[0])
    out = {name: getattr(values, name) for name in LossQuantities._fields}
    rad = radial_parts(model, exp.w, exp.l_g[1])[:, 0]
    out["r_d"], out["r_g"] = rad[:, 0], rad[:, 1]
    for name, (_, g, h) in (("l_d", exp.l_d), ("l_g", exp.l_g)):
        out[f"grad_{name}"] = np.einsum("...ak,...a->...k", E, g)[:, 0]
        out[f"hess_{name}"] = np.einsum("...ak,...ab,...bl->...kl", E, h, E)[:, 0]
    riem = exp.quantities(
        model, *(riemannian_hessian_from_euclidean(model, exp.w, E, g[1], g[2]) for g in (exp.l_d, exp.l_g))
    )
    out["riem_hess_loss_d"], out["riem_hess_loss_g"] = riem.loss_d, riem.loss_g
    out["jacobian"] = jacobian_from_hessians(model, riem.loss_d, riem.loss_g)
    out["jacobian_sym"] = jacobian_from_hessians(model, riem.loss_d, riem.loss_g, symmetrise=True)
    return out
