"""Banded structure of low-index critical points (paper §6.1, Figures 6-7; MODEL.md §6).

For each threshold pair (u_D, u_G): the largest k_D in 0..K such that Θ_{kD,kG}(u_D, u_G) > 0
for some k_G, and separately the largest such k_G.

Only 2(K+1) maps are needed, not (K+1)²: every index cost k·fraction·I is non-negative and
non-decreasing in k, and the feasibility constraint of k = 0 is implied by that of k ≥ 1 (the
derived rule imposes the same edge condition for every k; the published rule imposes none at
k = 0). Hence Θ_{kD,kG} ≤ Θ_{kD,0} and ``∃ k_G: Θ_{kD,kG} > 0 ⇔ Θ_{kD,0} > 0``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from numerics.complexity import (ThetaConfig, PhiSource, sorted_axis, theta_grid,
                                 loss_coordinates, problem_attrs)
from numerics.constants import ComplexityProblem
from numerics.params import integer


def largest_positive_index(theta_k):
    """Largest k (leading axis) with theta_k[k] > 0, or −1 where none is."""
    pos = np.asarray(theta_k) > 0
    k = np.arange(pos.shape[0]).reshape((-1,) + (1,) * (pos.ndim - 1))
    return np.where(pos, k, -1).max(axis=0)


def banded_maps(problem: ComplexityProblem, u_d, u_g, k_max: int = 29, *, phi=None,
                config: ThetaConfig = ThetaConfig()) -> xr.Dataset:
    """Θ_{k,0} and Θ_{0,k} for k = 0..k_max on the grid ``u_d`` x ``u_g`` (vectorised over k)
    and the band maps ``max_k_d``, ``max_k_g`` (−1: no critical points of any index ≤ k_max
    there, the region beyond the 'ground state' boundary)."""
    u_d, u_g = sorted_axis("u_d", u_d), sorted_axis("u_g", u_g)
    k_max = integer("k_max", k_max, 0)
    ks = np.arange(k_max + 1)
    coords = loss_coordinates(problem)
    source = PhiSource(problem, coords, config, phi)
    theta_kd = theta_grid(problem, coords, source, u_d, u_g, ks, 0, config)[0]
    theta_kg = theta_grid(problem, coords, source, u_d, u_g, 0, ks, config)[0]
    dims = ("k", "u_d", "u_g")
    attrs = problem_attrs(problem)
    attrs["k_max"] = k_max
    return xr.Dataset(
        {"theta_kd": (dims, theta_kd), "theta_kg": (dims, theta_kg),
         "max_k_d": (dims[1:], largest_positive_index(theta_kd)),
         "max_k_g": (dims[1:], largest_positive_index(theta_kg))},
        coords={"k": ks, "u_d": u_d, "u_g": u_g}, attrs=attrs)


def qualitative_claims(problem: ComplexityProblem, theta_ds: xr.Dataset, bands_ds: xr.Dataset, *,
                       phi=None, config: ThetaConfig = ThetaConfig()) -> dict:
    """The qualitative claims of paper §6.1 (issue 5 item 4), read off a Θ map
    (:func:`numerics.complexity.theta_map`) and band maps (:func:`banded_maps`) on the same grid
    (choose it wide enough to contain the ground-state boundary):

    - ``monotone``: Θ is non-decreasing in u_D and in u_G;
    - ``saturation_gap``: Θ_total − Θ at the grid's top corner (≈ 0: saturated), with
      Θ_total = Θ at thresholds 50 sd above zero;
    - ``ground_state``: Θ < 0 somewhere at low losses, with the smallest u_D, u_G, u_D + u_G on
      {Θ > 0} (grid resolution);
    - ``minima_region``: Θ_{0,0} > 0 somewhere (exponentially many critical points that are
      minima for both networks); ``minima_tradeoff``: along the lower boundary of that region
      u_G falls as u_D rises (from 'high u_G / low u_D' to 'low u_G / high u_D'), with
      ``minima_ud_span``/``minima_ug_span`` the ranges it covers, and ``max_theta_00``."""
    from numerics.complexity import theta

    u_d, u_g = theta_ds.u_d.values, theta_ds.u_g.values
    bands = bands_ds
    th = theta_ds.theta.values
    sd = loss_coordinates(problem).loss_sd
    total, _ = theta(problem, 50 * sd[0], 50 * sd[1], phi=phi, config=config)
    pos = th > 0
    ud = np.asarray(u_d)[:, None] * np.ones_like(th)
    ug = np.asarray(u_g)[None, :] * np.ones_like(th)
    t00 = bands.theta_kd.values[0]
    # Θ_{0,kG} ≤ Θ_{0,0}: the minima region is {Θ_{0,0} > 0} = {max_k_d ≥ 0 and max_k_g ≥ 0 at k = 0}
    minima = t00 > 0
    cols = np.nonzero(minima.any(axis=1))[0]
    boundary = np.array([np.asarray(u_g)[np.argmax(minima[i])] for i in cols])
    out = {
        "monotone": bool(np.all(np.diff(th, axis=0) >= -1e-9) and np.all(np.diff(th, axis=1) >= -1e-9)),
        "theta_total": float(total),
        "saturation_gap": float(total - th[-1, -1]),
        "ground_state": bool((~pos).any() and pos.any()),
        "min_u_d": float(ud[pos].min()) if pos.any() else None,
        "min_u_g": float(ug[pos].min()) if pos.any() else None,
        "min_u_sum": float((ud + ug)[pos].min()) if pos.any() else None,
        "max_theta_00": float(np.max(t00)),
        "minima_region": bool(minima.any()),
        "minima_tradeoff": bool(len(cols) > 1 and boundary[0] > boundary[-1]
                                and np.all(np.diff(boundary) <= 0)),
        "minima_ud_span": [float(np.asarray(u_d)[cols[0]]), float(np.asarray(u_d)[cols[-1]])]
        if len(cols) else None,
        "minima_ug_span": [float(boundary.min()), float(boundary.max())] if len(cols) else None,
        "max_k_d": int(bands.max_k_d.max()), "max_k_g": int(bands.max_k_g.max()),
    }
    return out
