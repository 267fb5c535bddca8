"""Complexity Θ(u_D, u_G) and the index-prescribed Θ_{kD,kG} (paper §5 eqs 170-176 and
§5.1 eqs 244-260; MODEL.md §5-§6).

Everything is driven by a :class:`numerics.constants.ComplexityProblem`: the Laplace problem

    Θ(u_D, u_G) = C + sup { −½ vᵀPv + Φ(x, x1) − index costs :  loss_map v ≤ (u_D, u_G) },
    (x, x1) = shift_map v.

Loss coordinates. Write v = B ℓ + c τ, where ℓ = loss_map v, B ℓ = E[v | ℓ] is the Gaussian
conditional mean and c τ (τ standard normal, independent of ℓ) spans the null space of
loss_map (no τ for the published 2-variable problem, one τ for the derived 3-variable one).
Then vᵀPv = ℓᵀΣ_ℓ⁻¹ℓ + τ² exactly, (x, x1) is affine in (ℓ, τ), and the loss constraints are
plain upper bounds on ℓ. So

    F(ℓ) = C − ½ ℓᵀΣ_ℓ⁻¹ℓ + sup_τ [ −½τ² + Φ(x, x1) − costs ]      (:func:`loss_space_objective`)
    Θ(u) = sup { F(ℓ) : ℓ ≤ u },

and on a grid the second line is an exact two-dimensional cumulative maximum
(:func:`dominance_max`): one pass gives the whole Θ map, and the constraint faces ℓ_D = u_D,
ℓ_G = u_G are grid lines. Scattered points fold into that pass exactly (a point ℓ* joins the
first node above it), which is how the maximiser of F along every grid line (the ridge of F,
narrow across the anti-diagonal) and, without τ, along every block-edge line of the index
terms are added, so maxima between nodes are not lost.
:func:`theta` polishes one point with a continuous constrained optimiser in (ℓ, τ), which is a
linear bijection of the original variables v.

Φ comes from :mod:`numerics.coulomb` tabulated once on an (x, x1) grid covering the image of the
whole search box and interpolated with cubic B-splines; evaluating outside the table raises, and a
maximiser on the edge of the τ window or on the lower faces of the loss grid widens the search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.ndimage import map_coordinates, spline_filter
from scipy.optimize import minimize

from derivations.generated.index import goe_rate as generated_goe_rate
from numerics.constants import ComplexityProblem
from numerics.params import ParameterError, finite, finite_array, integer


@dataclass(frozen=True)
class ThetaConfig:
    """Resolution of the Θ computations (the one place the defaults live)."""

    n_x: int = 2000  # Φ table: n_x·n_x1 points, split between x and x1 for equal spacing
    n_x1: int = 100
    table_pad: float = 0.02  # relative padding of the Φ table around the search box
    tau_half_width: float = 5.0  # initial τ window [−w, w] (τ is standard normal)
    n_tau: int = 17  # τ grid points before the golden-section refinement
    golden_steps: int = 24  # bracket of two grid cells shrinks by 0.618^24 ≈ 1e-5
    margin_sd: float = 2.0  # loss grid extends this many marginal sds below the u grid
    n_margin: int = 10  # extra (coarser) grid lines below the u grid per axis, to detect maxima there
    max_widen: int = 4  # doublings of the τ window / loss margin before giving up
    n_point: int = 101  # loss-grid lines per axis for a single-point :func:`theta`
    chunk: int = 8192  # loss points per vectorised block
    ridge: bool = True  # refine the maximum along every grid line


QUICK = ThetaConfig(n_x=800, n_x1=60, n_tau=13, golden_steps=16, ridge=False)


class SearchBoxError(RuntimeError):
    """The maximiser stays on the boundary of the search box after every allowed widening."""


def goe_rate(u, edge):
    """GOE top-eigenvalue large-deviation rate I(|u|; E) for a semicircle with edge E (paper
    eq. 253, Ben Arous-Dembo-Guionnet), the generated evaluator of ``derivations.index``
    extended by +inf inside the bulk. Vectorised (broadcasts u against edge)."""
    u = np.abs(np.asarray(u, dtype=float))
    edge = np.asarray(edge, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = generated_goe_rate(np.maximum(u, edge), edge)
    return np.where(u >= edge, np.maximum(rate, 0.0), np.inf)


def _clipped_goe_rate(u, edge):
    """I(max(|u|, E); E): finite everywhere, for smooth optimisers that enforce the edge
    through an explicit linear constraint instead."""
    return goe_rate(np.maximum(np.abs(np.asarray(u, dtype=float)), edge), edge)


# A G-block cluster resolved by fewer grid nodes than this is evaluated in closed form,
# within this many nodes of it (the cubic-spline ringing around a log singularity decays by
# a factor ~0.27 per node, so 12 nodes leave < 1e-6 of it).
CLUSTER_NODES = 20
EXACT_NODES = 12


class LogPotentialTable:
    """Φ(x, x1) tabulated on a regular (x, x1) grid, interpolated by cubic B-splines.

    ``values`` has shape (len(x1), len(x)), the layout of
    :func:`numerics.coulomb.log_potential_grid`. Calls outside the table raise
    :class:`SearchBoxError` (never extrapolate).

    ``exact`` (optional) is the closed-form Φ, used instead of the spline for queries with
    |x| < ``exact_radius``: the G-block cluster of μ_{x1} sits at 0 with width ~b, so for
    small b (σ_z ≲ 1e-4) Φ has log-singular structure there far finer than the grid, which
    the spline rings around for several nodes (MODEL.md §5)."""

    def __init__(self, x, x1, values, exact=None, exact_radius=0.0):
        self.x = np.asarray(x, dtype=float)
        self.x1 = np.asarray(x1, dtype=float)
        values = np.asarray(values, dtype=float)
        if values.shape != (self.x1.size, self.x.size) or not np.all(np.isfinite(values)):
            raise ValueError("log-potential table must be finite with shape (len(x1), len(x))")
        self.values = values
        self._coeffs = spline_filter(values, order=3, mode="mirror")
        self._x0, self._dx = self.x[0], (self.x[-1] - self.x[0]) / (self.x.size - 1)
        self._y0, self._dy = self.x1[0], (self.x1[-1] - self.x1[0]) / (self.x1.size - 1)
        self.exact, self.exact_radius = exact, float(exact_radius)

    @classmethod
    def from_function(cls, fn, x_range, x1_range, n_x, n_x1):
        x = np.linspace(*x_range, n_x)
        x1 = np.linspace(*x1_range, n_x1)
        return cls(x, x1, fn(x[None, :], x1[:, None]))

    @classmethod
    def for_problem(cls, problem: ComplexityProblem, x_range, x1_range, n_x, n_x1):
        """Φ of ``problem`` (b, b1, κ) from the Coulomb-gas log-potential (MODEL.md §5, eq. 170)."""
        from numerics.coulomb import log_potential_grid
        from numerics.spectrum import log_potential

        x = np.linspace(*x_range, n_x)
        x1 = np.linspace(*x1_range, n_x1)
        b, b1, kappa = problem.b, problem.b1, problem.kappa
        table = cls(x, x1, log_potential_grid(x, x1, b, b1, kappa))
        h = table._dx
        cluster = np.sqrt(2.0) * b  # the G-block cluster lies within ±√2 b of 0
        if 2.0 * cluster < CLUSTER_NODES * h:
            table.exact = lambda xq, x1q: log_potential(xq, b, b1, kappa, x1q)
            table.exact_radius = cluster + EXACT_NODES * h
        return table

    def covers(self, x_range, x1_range) -> bool:
        return (self.x[0] <= x_range[0] and x_range[1] <= self.x[-1]
                and self.x1[0] <= x1_range[0] and x1_range[1] <= self.x1[-1])

    def __call__(self, x, x1):
        x = np.asarray(x, dtype=float)
        x1 = np.asarray(x1, dtype=float)
        x, x1 = np.broadcast_arrays(x, x1)
        i = (x1 - self._y0) / self._dy
        j = (x - self._x0) / self._dx
        tol = 1e-9
        if x.size and (i.min() < -tol or i.max() > self.x1.size - 1 + tol
                       or j.min() < -tol or j.max() > self.x.size - 1 + tol):
            raise SearchBoxError(
                f"log-potential table [{self.x[0]:.4g}, {self.x[-1]:.4g}] x [{self.x1[0]:.4g}, "
                f"{self.x1[-1]:.4g}] does not cover x in [{x.min():.4g}, {x.max():.4g}], "
                f"x1 in [{x1.min():.4g}, {x1.max():.4g}]")
        out = map_coordinates(self._coeffs, [i.ravel(), j.ravel()], order=3, prefilter=False,
                              mode="mirror")
        if self.exact is not None:
            near = np.abs(x.ravel()) < self.exact_radius
            if near.any():
                out[near] = self.exact(x.ravel()[near], x1.ravel()[near])
        return out.reshape(x.shape)


@dataclass(frozen=True)
class LossCoordinates:
    """v = B ℓ + c τ with ℓ = loss_map v and τ ~ N(0, 1) independent of ℓ, so that
    vᵀPv = ℓᵀ Σ_ℓ⁻¹ ℓ + τ² (Σ_ℓ = loss_map P⁻¹ loss_mapᵀ); (x, x1) = shift_l ℓ + shift_tau τ."""

    B: np.ndarray  # (n, 2)
    c: np.ndarray  # (n,), zero when loss_map has no null space
    precision_l: np.ndarray  # Σ_ℓ⁻¹, (2, 2)
    shift_l: np.ndarray  # (2, 2)
    shift_tau: np.ndarray  # (2,)
    has_tau: bool

    @property
    def loss_sd(self) -> np.ndarray:
        return np.sqrt(np.diag(np.linalg.inv(self.precision_l)))

    def variables(self, l_d, l_g, tau):
        """The original Laplace variables v (last axis) at loss coordinates (ℓ_D, ℓ_G, τ)."""
        ell = np.stack(np.broadcast_arrays(l_d, l_g), axis=-1)
        return ell @ self.B.T + np.asarray(tau, dtype=float)[..., None] * self.c

    def shifts(self, l_d, l_g, tau):
        x = self.shift_l[0, 0] * l_d + self.shift_l[0, 1] * l_g + self.shift_tau[0] * tau
        x1 = self.shift_l[1, 0] * l_d + self.shift_l[1, 1] * l_g + self.shift_tau[1] * tau
        return x, x1

    def gaussian(self, l_d, l_g):
        """−½ ℓᵀ Σ_ℓ⁻¹ ℓ."""
        q = self.precision_l
        return -0.5 * (q[0, 0] * l_d * l_d + 2 * q[0, 1] * l_d * l_g + q[1, 1] * l_g * l_g)


def loss_coordinates(problem: ComplexityProblem) -> LossCoordinates:
    P = np.asarray(problem.precision, dtype=float)
    L = np.asarray(problem.loss_map, dtype=float)
    S = np.asarray(problem.shift_map, dtype=float)
    n = P.shape[0]
    if L.shape != (2, n) or S.shape != (2, n) or P.shape != (n, n):
        raise ValueError(f"inconsistent ComplexityProblem shapes: P {P.shape}, loss_map {L.shape}, "
                         f"shift_map {S.shape}")
    if n not in (2, 3):
        raise ValueError(f"the τ search handles at most one null-space coordinate; got {n} variables")
    cov = np.linalg.inv(P)
    sigma_l = L @ cov @ L.T
    precision_l = np.linalg.inv(sigma_l)
    B = cov @ L.T @ precision_l
    residual = cov - B @ L @ cov
    if n == 3:
        w, vecs = np.linalg.eigh(0.5 * (residual + residual.T))
        c = vecs[:, -1] * np.sqrt(max(w[-1], 0.0))
    else:
        c = np.zeros(n)
    return LossCoordinates(B=B, c=c, precision_l=precision_l, shift_l=S @ B, shift_tau=S @ c,
                           has_tau=n == 3)


def _check_k(name, k):
    if k is None:
        return None
    arr = np.asarray(k)
    if arr.ndim == 0:
        return integer(name, k, 0)
    flat = [integer(name, kk, 0) for kk in arr.ravel()]
    return np.asarray(flat, dtype=int).reshape(arr.shape)


@dataclass(frozen=True)
class IndexTerms:
    """The index-prescription terms of one block (MODEL.md §6): shift s = coef·(x, x1),
    cost k·fraction·I(s; edge), feasibility sign·s ≥ edge (derived, every k) or |s| ≥ edge
    for k > 0 only (published)."""

    coef: tuple[float, float]
    edge: float
    fraction: float
    sign: int
    zero_requires_edge: bool

    def shift(self, x, x1):
        return self.coef[0] * x + self.coef[1] * x1


def index_terms(problem: ComplexityProblem, block: str) -> IndexTerms:
    if block == "d":
        return IndexTerms(tuple(problem.index_d_map), problem.edge_d, problem.fraction_d,
                          problem.index_d_sign, problem.index_zero_requires_edge)
    return IndexTerms(tuple(problem.index_g_map), problem.edge_g, problem.fraction_g,
                      problem.index_g_sign, problem.index_zero_requires_edge)


EDGE_RTOL = 1e-11  # shifts this close to a block edge count as on it (interval ends are computed)


def index_cost(term: IndexTerms, s, k, diagonal=False):
    """k·fraction·I(s; edge), +inf where the prescription is infeasible. k's axes lead s's
    (``diagonal=False``) or are s's own leading axes (``diagonal=True``)."""
    k = np.asarray(k)
    s = np.asarray(s, dtype=float)
    tol = EDGE_RTOL * max(1.0, term.edge)
    s = np.where(np.abs(np.abs(s) - term.edge) <= tol, np.sign(s) * term.edge, s)
    kk = k.reshape(k.shape + (1,) * (s.ndim - (k.ndim if diagonal else 0))).astype(float)
    with np.errstate(invalid="ignore"):
        cost = np.where(kk == 0, 0.0, kk * term.fraction * goe_rate(s, term.edge))
    if term.zero_requires_edge:
        cost = np.where(term.sign * s >= term.edge, cost, np.inf)
    return cost


def _tau_interval(coords: LossCoordinates, terms, l_d, l_g, w):
    """Per loss point, the τ interval [lo, hi] ⊂ [−w, w] on which every sign-type index
    constraint sign·s ≥ edge holds (s is affine in τ). Returns lo, hi and whether each end is
    the window edge (rather than a constraint)."""
    lo = np.full(np.shape(l_d), -w, dtype=float)
    hi = np.full(np.shape(l_d), w, dtype=float)
    for term in terms:
        if not term.zero_requires_edge:
            continue
        a = term.sign * term.shift(*coords.shifts(l_d, l_g, 0.0))
        beta = term.sign * term.shift(*coords.shift_tau)
        if abs(beta) > 1e-12 * (1 + np.abs(coords.shift_tau).max()):
            bound = (term.edge - a) / beta
            if beta > 0:
                lo = np.maximum(lo, bound)
            else:
                hi = np.minimum(hi, bound)
        else:
            hi = np.where(a >= term.edge, hi, -np.inf)
    return lo, hi, lo <= -w, hi >= w


class _Objective:
    """G(ℓ, τ) = C − ½ℓᵀΣ_ℓ⁻¹ℓ − ½τ² + Φ(x, x1) − Σ_blocks k·fraction·I, vectorised over k."""

    def __init__(self, problem, coords, phi, k_d, k_g):
        self.problem, self.coords, self.phi = problem, coords, phi
        self.blocks = [(index_terms(problem, "d"), k_d)] if k_d is not None else []
        if k_g is not None:
            self.blocks.append((index_terms(problem, "g"), k_g))
        shape = np.broadcast_shapes(*(np.shape(k) for _, k in self.blocks)) if self.blocks else ()
        self.k_shape = shape
        self.blocks = [(t, np.broadcast_to(np.asarray(k), shape)) for t, k in self.blocks]

    @property
    def terms(self):
        return [t for t, _ in self.blocks]

    def base(self, l_d, l_g, tau):
        x, x1 = self.coords.shifts(l_d, l_g, tau)
        return (self.problem.log_constant + self.coords.gaussian(l_d, l_g) - 0.5 * tau * tau
                + self.phi(x, x1)), x, x1

    def __call__(self, l_d, l_g, tau):
        """Values with leading k axes (self.k_shape) over the shape of the points."""
        value, x, x1 = self.base(l_d, l_g, tau)
        value = np.broadcast_to(value, self.k_shape + value.shape)
        for term, k in self.blocks:
            value = value - index_cost(term, term.shift(x, x1), k)
        return value


GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def _best_tau(obj: _Objective, l_d, l_g, w, config: ThetaConfig):
    """sup over τ ∈ [−w, w] (∩ the index-feasible interval) at each loss point: a grid search,
    then golden-section search on the two grid cells around the best node. Golden section (not
    parabolic steps) because the τ profile can have a kink at its maximum (Φ is not C² where
    the τ line crosses a bulk edge). Returns value, τ and a flag for maxima on the window
    edge (all with leading k axes)."""
    ks = obj.k_shape
    if not obj.coords.has_tau:
        value = obj(l_d, l_g, np.zeros_like(l_d))
        return value, np.zeros_like(value), np.zeros(value.shape, dtype=bool)
    lo, hi, lo_open, hi_open = _tau_interval(obj.coords, obj.terms, l_d, l_g, w)
    empty = hi < lo
    lo = np.where(empty, 0.0, lo)
    hi = np.where(empty, 0.0, hi)
    frac = np.linspace(0.0, 1.0, config.n_tau)
    taus = lo[..., None] + (hi - lo)[..., None] * frac
    vals = obj(l_d[..., None], l_g[..., None], taus)
    vals = np.where(empty[..., None], -np.inf, vals)
    j = np.argmax(vals, axis=-1)
    best = np.take_along_axis(vals, j[..., None], axis=-1)[..., 0]
    taus_k = np.broadcast_to(taus, ks + taus.shape)
    tau_best = np.take_along_axis(taus_k, j[..., None], axis=-1)[..., 0]
    live = np.isfinite(best)
    a = np.take_along_axis(taus_k, np.clip(j - 1, 0, None)[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(taus_k, np.clip(j + 1, None, config.n_tau - 1)[..., None], axis=-1)[..., 0]
    l_dk, l_gk = np.broadcast_to(l_d, best.shape), np.broadcast_to(l_g, best.shape)
    t_new, f_new, _ = _golden_max(lambda m: (_evaluate_diag(obj, l_dk, l_gk, m), m), a, b,
                                  config.golden_steps)
    better = live & (f_new > best)
    tau_best, best = np.where(better, t_new, tau_best), np.where(better, f_new, best)
    on_edge = live & (((j == 0) & np.broadcast_to(lo_open, best.shape))
                      | ((j == config.n_tau - 1) & np.broadcast_to(hi_open, best.shape)))
    return best, tau_best, on_edge


def _evaluate_diag(obj: _Objective, l_d, l_g, tau):
    """Objective at per-k points (arrays of shape k_shape + points): the diagonal k entry."""
    if not obj.k_shape:
        return obj(l_d, l_g, tau)
    value, x, x1 = obj.base(l_d, l_g, tau)
    for term, k in obj.blocks:
        value = value - index_cost(term, term.shift(x, x1), k, diagonal=True)
    return value


def _shift_box(coords: LossCoordinates, l_d_range, l_g_range, w):
    corners = np.array([[a, b, t] for a in l_d_range for b in l_g_range for t in (-w, w)])
    x, x1 = coords.shifts(corners[:, 0], corners[:, 1], corners[:, 2] if coords.has_tau else 0.0)
    return (x.min(), x.max()), (x1.min(), x1.max())


def _padded(rng, pad):
    width = max(rng[1] - rng[0], 1.0)
    return rng[0] - pad * width, rng[1] + pad * width


def table_shape(x_range, x1_range, config: ThetaConfig) -> tuple[int, int]:
    """(n_x, n_x1) with n_x·n_x1 ≈ config.n_x·config.n_x1 and equal spacing in x and x1: Φ
    varies on the same scale in both (each shifts the spectrum), so a box much longer in one
    direction must not be resolved coarsely in that one."""
    budget = config.n_x * config.n_x1
    rx, rx1 = x_range[1] - x_range[0], x1_range[1] - x1_range[0]
    h = np.sqrt(rx * rx1 / budget)
    return max(16, int(np.ceil(rx / h)) + 1), max(16, int(np.ceil(rx1 / h)) + 1)


class PhiSource:
    """Builds (and rebuilds, when a search widens) a Φ table covering the current search box;
    a user-supplied table or callable is used as given."""

    def __init__(self, problem, coords, config, phi):
        self.problem, self.coords, self.config = problem, coords, config
        self.fixed = phi
        self.table = None

    def exact(self, x, x1):
        """Φ without interpolation (the closed-form log-potential), for polishing single points."""
        if self.fixed is not None:
            return self.fixed(x, x1)
        from numerics.spectrum import log_potential

        return log_potential(np.asarray(x, dtype=float), self.problem.b, self.problem.b1,
                             self.problem.kappa, np.asarray(x1, dtype=float))

    def covering(self, l_d_range, l_g_range, w):
        if self.fixed is not None:
            return self.fixed
        x_rng, x1_rng = _shift_box(self.coords, l_d_range, l_g_range, w)
        if self.table is None or not self.table.covers(x_rng, x1_rng):
            x_rng, x1_rng = _padded(x_rng, self.config.table_pad), _padded(x1_rng, self.config.table_pad)
            if self.table is not None:
                # grow to the union so that alternating sub-boxes do not rebuild it again
                x_rng = (min(x_rng[0], self.table.x[0]), max(x_rng[1], self.table.x[-1]))
                x1_rng = (min(x1_rng[0], self.table.x1[0]), max(x1_rng[1], self.table.x1[-1]))
            self.table = LogPotentialTable.for_problem(self.problem, x_rng, x1_rng,
                                                       *table_shape(x_rng, x1_rng, self.config))
        return self.table


def _objective_on_points(problem, coords, source, l_d, l_g, k_d, k_g, config):
    """F(ℓ) and the maximising τ at flat arrays of loss points, widening the τ window where
    the maximiser sits on its edge."""
    w = config.tau_half_width
    phi = source.covering((l_d.min(), l_d.max()), (l_g.min(), l_g.max()), w)
    obj = _Objective(problem, coords, phi, k_d, k_g)
    out_v = np.empty(obj.k_shape + l_d.shape)
    out_t = np.empty_like(out_v)
    chunk = max(64, config.chunk // max(1, int(np.prod(obj.k_shape))))
    for start in range(0, l_d.size, chunk):
        sl = slice(start, start + chunk)
        v, t, edge = _best_tau(obj, l_d[sl], l_g[sl], w, config)
        ww = w
        for _ in range(config.max_widen):
            if not edge.any():
                break
            ww *= 2
            idx = np.nonzero(edge.reshape(-1, edge.shape[-1]).any(axis=0))[0]
            sub_d, sub_g = l_d[sl][idx], l_g[sl][idx]
            wide = _Objective(problem, coords, source.covering(
                (sub_d.min(), sub_d.max()), (sub_g.min(), sub_g.max()), ww), k_d, k_g)
            v2, t2, e2 = _best_tau(wide, sub_d, sub_g, ww, config)
            v[..., idx], t[..., idx] = v2, t2
            edge = np.zeros_like(edge)
            edge[..., idx] = e2
        if edge.any():
            raise SearchBoxError(f"the τ maximiser stays on the edge of the window ±{ww:g} "
                                 "(the Laplace objective is not decaying: check the problem)")
        out_v[..., sl], out_t[..., sl] = v, t
    return out_v, out_t


def loss_space_objective(problem: ComplexityProblem, l_d, l_g, k_d=None, k_g=None, *,
                         phi=None, config: ThetaConfig = ThetaConfig(), return_tau=False):
    """F(ℓ_D, ℓ_G) = C + sup over the null-space coordinate of [−½vᵀPv + Φ(x, x1) − costs]
    at loss values (ℓ_D, ℓ_G) (MODEL.md §5; paper eqs 172-175 and 259-260).

    ``l_d``, ``l_g`` broadcast together; ``k_d``/``k_g`` (None: no index prescription for that
    block) may be integer arrays, which broadcast together and become leading axes of the
    result. ``phi`` is a callable Φ(x, x1) or :class:`LogPotentialTable` (default: tabulated
    from :mod:`numerics.coulomb` over the needed box). −inf where the prescription is
    infeasible."""
    l_d, l_g = np.broadcast_arrays(finite_array("l_d", l_d), finite_array("l_g", l_g))
    k_d, k_g = _check_k("k_d", k_d), _check_k("k_g", k_g)
    coords = loss_coordinates(problem)
    source = PhiSource(problem, coords, config, phi)
    v, t = _objective_on_points(problem, coords, source, l_d.ravel(), l_g.ravel(), k_d, k_g, config)
    lead = v.shape[:-1]
    v, t = v.reshape(lead + l_d.shape), t.reshape(lead + l_d.shape)
    return (v, t) if return_tau else v


def dominance_max(values):
    """Θ[i, j] = max_{i' ≤ i, j' ≤ j} values[i', j'] with the maximising indices (exact
    two-dimensional cumulative maximum; on ties the earlier, lower-loss point is kept).
    Returns (max, arg_i, arg_j)."""
    best = np.array(values, dtype=float)
    if best.ndim != 2 or np.isnan(best).any():
        raise ValueError("dominance_max needs a 2-D array without NaN")
    arg_i = np.broadcast_to(np.arange(best.shape[0])[:, None], best.shape).copy()
    arg_j = np.broadcast_to(np.arange(best.shape[1])[None, :], best.shape).copy()
    for axis in (0, 1):
        b = np.moveaxis(best, axis, 0)
        ai, aj = np.moveaxis(arg_i, axis, 0), np.moveaxis(arg_j, axis, 0)
        for r in range(1, b.shape[0]):
            keep = b[r - 1] > b[r]
            b[r] = np.where(keep, b[r - 1], b[r])
            ai[r] = np.where(keep, ai[r - 1], ai[r])
            aj[r] = np.where(keep, aj[r - 1], aj[r])
    return best, arg_i, arg_j


def loss_axis(u, margin, n_margin):
    """The loss grid on one axis: the u grid preceded by up to ``n_margin`` lines spanning
    ``margin`` below it (spacing no finer than the u grid's)."""
    step = u[1] - u[0] if u.size > 1 else margin / n_margin
    n = int(min(n_margin, max(1, np.ceil(margin / step))))
    below = u[0] - margin * np.arange(n, 0, -1) / n
    return np.concatenate([below, u]), n


def sorted_axis(name, values):
    arr = np.atleast_1d(finite_array(name, values))
    if arr.ndim != 1 or arr.size < 1 or np.any(np.diff(arr) <= 0):
        raise ParameterError(f"{name} must be a strictly increasing 1-D grid")
    return arr


def _edge_lines(coords, blocks):
    """The block-edge lines s = ±edge as (h, g, e) with h·ℓ_D + g·ℓ_G = e (straight lines in the
    loss plane when there is no τ). Index-prescribed maxima hug them: the cost k·I vanishes on
    them and grows steeply off them, so grid nodes alone can miss them entirely."""
    lines = []
    for term in blocks:
        h = term.shift(*coords.shift_l[:, 0])
        g = term.shift(*coords.shift_l[:, 1])
        if h == 0 and g == 0:
            continue
        for e in ((term.sign * term.edge,) if term.zero_requires_edge else (term.edge, -term.edge)):
            lines.append((h, g, e))
    return lines


def _line_point(line, t):
    """Point of an edge line at parameter t (ℓ_D when the line is steeper in ℓ_G, else ℓ_G)."""
    h, g, e = line
    t = np.asarray(t, dtype=float)
    return np.stack([t, (e - h * t) / g] if abs(g) >= abs(h) else [(e - g * t) / h, t], axis=-1)


def _line_samples(line, ld_axis, lg_axis):
    """Parameters where the line crosses the grid lines inside the box, sorted."""
    h, g, e = line
    on_d = abs(g) >= abs(h)
    t = [ld_axis if on_d else lg_axis]
    other = lg_axis if on_d else ld_axis
    if (h if on_d else g) != 0:
        t.append((e - (g if on_d else h) * other) / (h if on_d else g))
    t = np.unique(np.concatenate(t))
    pts = _line_point(line, t)
    inside = ((pts[:, 0] >= ld_axis[0]) & (pts[:, 0] <= ld_axis[-1])
              & (pts[:, 1] >= lg_axis[0]) & (pts[:, 1] <= lg_axis[-1]))
    return t[inside]


def _golden_max(f, a, b, steps):
    """Vectorised golden-section maximisation of f (array -> (values, τ)) on brackets [a, b];
    returns (argmax, max, τ) of the final pair."""
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    (fc, tc), (fd, td) = f(c), f(d)
    for _ in range(steps):
        left = fc > fd  # the maximum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        m = np.where(left, b - GOLDEN * (b - a), a + GOLDEN * (b - a))
        fm, tm = f(m)
        c, d, fc, fd, tc, td = (np.where(left, m, d), np.where(left, c, m),
                                np.where(left, fm, fd), np.where(left, fc, fm),
                                np.where(left, tm, td), np.where(left, tc, tm))
    best_c = fc >= fd
    return np.where(best_c, c, d), np.where(best_c, fc, fd), np.where(best_c, tc, td)


def _fold(F, T, ld, lg, pts, Fp, Tp, ld_axis, lg_axis):
    """Fold scattered loss points into the node arrays (in place): a point ℓ* counts for every
    u ≥ ℓ*, so it joins the first node above it in both axes, which keeps the dominance maximum
    exact. Fp, Tp have the k axes leading, like F."""
    i = np.searchsorted(ld_axis, pts[:, 0] - 1e-12 * (1 + np.abs(pts[:, 0])))
    j = np.searchsorted(lg_axis, pts[:, 1] - 1e-12 * (1 + np.abs(pts[:, 1])))
    i, j = np.clip(i, 0, ld_axis.size - 1), np.clip(j, 0, lg_axis.size - 1)
    flat = (-1,) + F.shape[-2:]
    for f, t, a, b, fp, tp in zip(F.reshape(flat), T.reshape(flat), ld.reshape(flat),
                                  lg.reshape(flat), Fp.reshape(-1, len(pts)), Tp.reshape(-1, len(pts))):
        order = np.argsort(fp, kind="stable")  # ascending: the last write per node is its max
        better = fp[order] > f[i[order], j[order]]
        ii, jj, sel = i[order][better], j[order][better], order[better]
        f[ii, jj], t[ii, jj] = fp[sel], tp[sel]
        a[ii, jj], b[ii, jj] = pts[sel, 0], pts[sel, 1]


def _ridge_points(problem, coords, source, F, ld_axis, lg_axis, k_d, k_g, config):
    """On every grid row (and column), the maximiser of F along it, by golden section in the
    two cells around the best node: F is a narrow ridge across the anti-diagonal (the
    conditional sd of ℓ_D given ℓ_G is ~1 against a marginal ~8), so nodes alone lose
    O(h²) at interior maxima. Returns points, values and τ (scalar k)."""
    out_p, out_f, out_t = [], [], []
    for axis, fixed, moving in ((1, ld_axis, lg_axis), (0, lg_axis, ld_axis)):
        vals = F if axis == 1 else F.T
        ok = np.isfinite(vals).any(axis=1)
        if not ok.any():
            continue
        j = np.argmax(np.where(np.isfinite(vals), vals, -np.inf), axis=1)[ok]
        line = fixed[ok]
        a = moving[np.clip(j - 1, 0, None)]
        b = moving[np.clip(j + 1, None, moving.size - 1)]

        def f_at(m, line=line, axis=axis):
            ld_, lg_ = (line, m) if axis == 1 else (m, line)
            return _objective_on_points(problem, coords, source, ld_, lg_, k_d, k_g, config)

        m, fm, tm = _golden_max(f_at, a, b, config.golden_steps)
        keep = np.isfinite(fm)
        pts = np.stack([line, m] if axis == 1 else [m, line], axis=1)[keep]
        out_p.append(pts)
        out_f.append(fm[keep])
        out_t.append(tm[keep])
    if not out_p:
        return np.empty((0, 2)), np.empty(0), np.empty(0)
    return np.concatenate(out_p), np.concatenate(out_f), np.concatenate(out_t)


def _refine_line(problem, coords, source, line, t, Fp, F, T, ld, lg, ld_axis, lg_axis, k_d, k_g,
                 config):
    """For each k: the maximiser along one edge line (golden section around its best sample),
    folded into that k's node arrays. Between samples the constrained maximum along the line is
    either this point or a sample where a face ℓ = u crosses the line, so the line is exact."""
    shape = F.shape[:-2]
    kd_all = None if k_d is None else np.broadcast_to(k_d, shape).ravel()
    kg_all = None if k_g is None else np.broadcast_to(k_g, shape).ravel()
    fp_all = Fp.reshape(-1, t.size)
    flat = (-1,) + F.shape[-2:]
    for n, (f, tt, a, b) in enumerate(zip(F.reshape(flat), T.reshape(flat), ld.reshape(flat),
                                          lg.reshape(flat))):
        fp = fp_all[n]
        if not np.isfinite(fp).any():
            continue
        j = int(np.argmax(fp))
        kd = None if kd_all is None else int(kd_all[n])
        kg = None if kg_all is None else int(kg_all[n])

        def f_at(m, kd=kd, kg=kg):
            p = _line_point(line, m)
            return _objective_on_points(problem, coords, source, p[..., 0], p[..., 1], kd, kg, config)

        m, fm, tm = _golden_max(f_at, np.array([t[max(j - 1, 0)]]),
                                np.array([t[min(j + 1, t.size - 1)]]), config.golden_steps)
        if np.isfinite(fm[0]):
            _fold(f, tt, a, b, _line_point(line, m), fm, tm, ld_axis, lg_axis)


def _node_objective(problem, coords, source, ld_axis, lg_axis, k_d, k_g, config):
    """F on the grid nodes with the ℓ (and τ) attaining it, after folding in the block-edge
    points (problems without τ) and the ridge points of every grid line (per k). Arrays
    have the broadcast k shape leading."""
    shape = np.broadcast_shapes(*(np.shape(k) for k in (k_d, k_g) if k is not None))
    LD, LG = np.meshgrid(ld_axis, lg_axis, indexing="ij")
    F, T = _objective_on_points(problem, coords, source, LD.ravel(), LG.ravel(), k_d, k_g, config)
    F, T = F.reshape(shape + LD.shape), T.reshape(shape + LD.shape)
    ld = np.broadcast_to(LD, F.shape).copy()
    lg = np.broadcast_to(LG, F.shape).copy()
    blocks = [index_terms(problem, b) for b, k in (("d", k_d), ("g", k_g)) if k is not None]
    for line in ([] if coords.has_tau else _edge_lines(coords, blocks)):
        t = _line_samples(line, ld_axis, lg_axis)
        if not t.size:
            continue
        pts = _line_point(line, t)
        Fp, Tp = _objective_on_points(problem, coords, source, pts[:, 0], pts[:, 1], k_d, k_g, config)
        _fold(F, T, ld, lg, pts, Fp, Tp, ld_axis, lg_axis)
        if config.ridge and t.size > 1:
            _refine_line(problem, coords, source, line, t, Fp, F, T, ld, lg, ld_axis, lg_axis,
                         k_d, k_g, config)
    if config.ridge:
        kd_all = None if k_d is None else np.broadcast_to(k_d, shape).ravel()
        kg_all = None if k_g is None else np.broadcast_to(k_g, shape).ravel()
        flat = (-1,) + LD.shape
        for n, (f, t, a, b) in enumerate(zip(F.reshape(flat), T.reshape(flat), ld.reshape(flat),
                                             lg.reshape(flat))):
            kd = None if kd_all is None else int(kd_all[n])
            kg = None if kg_all is None else int(kg_all[n])
            pts, Fp, Tp = _ridge_points(problem, coords, source, f, ld_axis, lg_axis, kd, kg, config)
            if len(pts):
                _fold(f, t, a, b, pts, Fp, Tp, ld_axis, lg_axis)
    return F, ld, lg, T


def theta_grid(problem, coords, source, u_d, u_g, k_d, k_g, config):
    """Arrays behind :func:`theta_map` (k may be arrays; their broadcast shape leads): Θ on the
    grid u_d x u_g with its maximiser (value, ℓ_D, ℓ_G, τ), widening the loss margin while any
    maximiser sits on the lowest grid line (Θ's supremum would lie further down)."""
    margin = config.margin_sd * coords.loss_sd
    for _ in range(config.max_widen + 1):
        ld_axis, nd = loss_axis(u_d, margin[0], config.n_margin)
        lg_axis, ng = loss_axis(u_g, margin[1], config.n_margin)
        F, LDn, LGn, T = _node_objective(problem, coords, source, ld_axis, lg_axis, k_d, k_g, config)
        shape = F.shape[:-2]
        out = []
        low_face = False
        sel = (slice(nd, None), slice(ng, None))
        for f, a, b, t in zip(*(arr.reshape((-1,) + arr.shape[-2:]) for arr in (F, LDn, LGn, T))):
            best, ai, aj = dominance_max(f)
            best, ai, aj = best[sel], ai[sel], aj[sel]
            low_face |= bool(np.any(np.isfinite(best) & ((ai == 0) | (aj == 0))))
            out.append((best, a[ai, aj], b[ai, aj], t[ai, aj]))
        if not low_face:
            return [np.stack([o[n] for o in out]).reshape(shape + out[0][n].shape) for n in range(4)]
        margin = 2 * margin
    raise SearchBoxError("the maximiser of Θ stays on the lowest line of the loss grid after "
                         f"{config.max_widen} widenings")


def theta_map(problem: ComplexityProblem, u_d, u_g, k_d=None, k_g=None, *, phi=None,
              config: ThetaConfig = ThetaConfig()) -> xr.Dataset:
    """Θ(u_D, u_G) (or Θ_{kD,kG}) on the grid ``u_d`` x ``u_g`` (MODEL.md §5-§6; paper eqs 175,
    260) as an xarray Dataset: ``theta`` and its maximiser (``l_d``, ``l_g``, ``x``, ``x1`` and the
    problem's Laplace variables), parameters as attributes. Scalar k only (see
    :mod:`numerics.bands` for k-vectorised maps). −inf where no critical point of that index
    exists under the thresholds."""
    u_d, u_g = sorted_axis("u_d", u_d), sorted_axis("u_g", u_g)
    k_d, k_g = _check_k("k_d", k_d), _check_k("k_g", k_g)
    if np.ndim(k_d) or np.ndim(k_g):
        raise ParameterError("theta_map takes scalar k_d, k_g")
    coords = loss_coordinates(problem)
    source = PhiSource(problem, coords, config, phi)
    best, ld, lg, tau = theta_grid(problem, coords, source, u_d, u_g, k_d, k_g, config)
    return _dataset(problem, coords, u_d, u_g, best, ld, lg, tau, k_d, k_g)


def problem_attrs(problem: ComplexityProblem) -> dict:
    """Parameters and constants of ``problem`` as netCDF-safe attributes."""
    pr = problem.params
    return {"p": pr.p, "q": pr.q, "kappa": pr.kappa, "sigma_z": pr.sigma_z,
            "constants": problem.which, "log_constant": problem.log_constant,
            "b": problem.b, "b1": problem.b1, "edge_d": problem.edge_d, "edge_g": problem.edge_g,
            "fraction_d": problem.fraction_d, "fraction_g": problem.fraction_g,
            "variables": ",".join(problem.variables)}


def _dataset(problem, coords, u_d, u_g, best, ld, lg, tau, k_d, k_g):
    feasible = np.isfinite(best)
    x, x1 = coords.shifts(ld, lg, tau)
    v = coords.variables(ld, lg, tau)
    nan = np.where(feasible, 1.0, np.nan)
    dims = ("u_d", "u_g")
    data = {"theta": (dims, best), "l_d": (dims, ld * nan), "l_g": (dims, lg * nan),
            "x": (dims, x * nan), "x1": (dims, x1 * nan)}
    for i, name in enumerate(problem.variables):
        data[f"v_{name}"] = (dims, v[..., i] * nan)
    attrs = problem_attrs(problem)
    attrs.update({"k_d": -1 if k_d is None else int(k_d), "k_g": -1 if k_g is None else int(k_g)})
    return xr.Dataset(data, coords={"u_d": u_d, "u_g": u_g}, attrs=attrs)


def _polish(problem, coords, phi, u_d, u_g, lower, k_d, k_g, start, w):
    """Maximise G(ℓ, τ) with ℓ_D ≤ u_D, ℓ_G ≤ u_G (bounds) and the index feasibility as linear
    constraints, by SLSQP from ``start``; the GOE rate is clipped at the edge so the objective is
    finite and smooth on the whole box."""
    blocks = []
    for term, k in ((index_terms(problem, "d"), k_d), (index_terms(problem, "g"), k_g)):
        if k is not None:
            blocks.append((term, k))
    ld0, lg0, t0 = start

    def value(z, clip=True):
        ld, lg, t = z[0], z[1], z[2] if coords.has_tau else 0.0
        x, x1 = coords.shifts(ld, lg, t)
        val = problem.log_constant + coords.gaussian(ld, lg) - 0.5 * t * t + float(phi(x, x1))
        for term, k in blocks:
            if clip:
                val -= k * term.fraction * float(_clipped_goe_rate(term.shift(x, x1), term.edge))
            else:
                val -= float(index_cost(term, term.shift(x, x1), k))
        return val

    constraints = []
    x0s, x10s = coords.shifts(ld0, lg0, t0)
    for term, k in blocks:
        if term.zero_requires_edge:
            side = term.sign
        elif k:
            side = 1.0 if term.shift(x0s, x10s) >= 0 else -1.0
        else:
            continue
        a = side * np.array([term.shift(*coords.shift_l[:, 0]), term.shift(*coords.shift_l[:, 1]),
                             term.shift(*coords.shift_tau)])

        def cons(z, a=a, e=term.edge):
            t = z[2] if coords.has_tau else 0.0
            return a[0] * z[0] + a[1] * z[1] + a[2] * t - e

        constraints.append({"type": "ineq", "fun": cons})
    z0 = np.array([ld0, lg0, t0]) if coords.has_tau else np.array([ld0, lg0])
    bounds = [(lower[0], u_d), (lower[1], u_g)] + ([(-w, w)] if coords.has_tau else [])
    res = minimize(lambda z: -value(z), z0, method="SLSQP", bounds=bounds, constraints=constraints,
                   options={"ftol": 1e-12, "maxiter": 200})
    z = np.clip(res.x, [b[0] for b in bounds], [b[1] for b in bounds])
    start_value = value(z0, clip=False)
    if not all(c["fun"](z) >= -1e-9 for c in constraints) or not value(z, clip=False) > start_value:
        return start_value, (ld0, lg0, t0)
    return value(z, clip=False), (z[0], z[1], z[2] if coords.has_tau else 0.0)


def theta(problem: ComplexityProblem, u_d, u_g, k_d=None, k_g=None, *, phi=None,
          config: ThetaConfig = ThetaConfig()):
    """Θ(u_D, u_G) (or Θ_{kD,kG}) at one point: grid maximum over the loss quadrant (with the
    τ search, on the interpolated Φ table), then an SLSQP polish in (ℓ_D, ℓ_G, τ) from the best
    grid local maxima with the closed-form Φ (so the value carries no interpolation error). Returns (value, argmax) where argmax has
    ``l_d``, ``l_g``, ``x``, ``x1``, ``tau`` and the problem's variables; value is −inf (and
    argmax empty) when no critical point with that index exists below the thresholds."""
    u_d, u_g = finite("u_d", u_d), finite("u_g", u_g)
    k_d, k_g = _check_k("k_d", k_d), _check_k("k_g", k_g)
    if np.ndim(k_d) or np.ndim(k_g):
        raise ParameterError("theta takes scalar k_d, k_g")
    coords = loss_coordinates(problem)
    source = PhiSource(problem, coords, config, phi)
    sd = coords.loss_sd
    n = config.n_point
    lower = np.array([min(u_d, 0.0), min(u_g, 0.0)]) - config.margin_sd * sd
    for _ in range(config.max_widen + 1):
        u_axes = [np.linspace(lo, hi, n) for lo, hi in ((lower[0], u_d), (lower[1], u_g))]
        starts = _grid_candidates(problem, coords, source, u_axes, k_d, k_g, config)
        if starts is not None:
            break
        lower = lower - config.margin_sd * sd
    else:
        raise SearchBoxError("the maximiser of Θ stays on the lowest face of the loss grid")
    if not starts:
        return -np.inf, {}
    value, arg = -np.inf, None
    w = config.tau_half_width
    while max(abs(c[3]) for c in starts) > 0.5 * w:
        w *= 2
    for start in starts:
        polished, parg = _polish(problem, coords, source.exact, u_d, u_g, lower, k_d, k_g,
                                 start[1:], w)
        if polished > value:
            value, arg = polished, parg
    return value, _argmax_dict(problem, coords, value, arg)


def _grid_candidates(problem, coords, source, u_axes, k_d, k_g, config, n_starts=5):
    """Starts for the polish: the ``n_starts`` best local maxima of F over the box [lower, u]
    (nodes with the block-edge points folded in), best first, as (value, ℓ_D, ℓ_G, τ); [] when
    F = −inf everywhere, None when the best sits on a lower face (the box must widen)."""
    F, LD, LG, T = _node_objective(problem, coords, source, u_axes[0], u_axes[1], k_d, k_g, config)
    if not np.isfinite(F).any():
        return []
    ii, jj = np.unravel_index(int(np.argmax(F)), F.shape)
    if (ii == 0 and F.shape[0] > 1) or (jj == 0 and F.shape[1] > 1):
        return None
    padded = np.pad(F, 1, constant_values=-np.inf)
    peak = np.isfinite(F)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                peak &= F >= padded[1 + di:1 + di + F.shape[0], 1 + dj:1 + dj + F.shape[1]]
    idx = np.flatnonzero(peak)
    idx = idx[np.argsort(F.ravel()[idx])[::-1][:n_starts]]
    return [(float(F.flat[k]), float(LD.flat[k]), float(LG.flat[k]), float(T.flat[k])) for k in idx]


def _argmax_dict(problem, coords, value, arg):
    if not np.isfinite(value):
        return {}
    ld, lg, tau = arg
    x, x1 = coords.shifts(ld, lg, tau)
    out = {"x": float(x), "x1": float(x1), "l_d": float(ld), "l_g": float(lg), "tau": float(tau)}
    v = coords.variables(ld, lg, tau)
    out.update({name: float(v[i]) for i, name in enumerate(problem.variables)})
    return out
