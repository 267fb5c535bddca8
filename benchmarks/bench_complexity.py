"""Benchmark of the Θ map and the banded maps (issue 5 'must show').

    python benchmarks/bench_complexity.py [--constants derived|paper] [--n-u 500] [--n-bands 200]

1. Full Θ map, p = q = 3, κ = 0.9, σ_z = 1: Φ tabulated on 2000 x 100 (x, x1) points, the
   loss-space exponent F on the (n_u + margin)² loss grid (≥ 2000 x 100 points for n_u = 500),
   Θ on n_u x n_u by the dominance maximum.
2. Naive baseline measured in the same run: the published scripts' one boolean mask per
   (u_D, u_G) over all exponent points, timed on a random sample of threshold pairs and
   extrapolated to the whole map (it agrees exactly with the dominance maximum on the sample).
3. Banded maps Θ_{k,0}, Θ_{0,k} for k = 0..29 on n_bands x n_bands.
"""

from __future__ import annotations

import argparse
import os
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402


def main():
    from numerics.bands import banded_maps
    from numerics.complexity import (PhiSource, ThetaConfig, dominance_max, loss_axis,
                                     loss_coordinates, loss_space_objective, theta_map)
    from numerics.constants import complexity_problem
    from numerics.params import ModelParams

    ap = argparse.ArgumentParser()
    ap.add_argument("--constants", default="derived", choices=["derived", "paper"])
    ap.add_argument("--n-u", type=int, default=500)
    ap.add_argument("--n-bands", type=int, default=200)
    ap.add_argument("--k-max", type=int, default=29)
    ap.add_argument("--naive-sample", type=int, default=400)
    args = ap.parse_args()

    problem = complexity_problem(ModelParams(3, 3, 0.9, 1.0), args.constants)
    config = ThetaConfig()
    sd = loss_coordinates(problem).loss_sd
    u_d = np.linspace(-2.5 * sd[0], 2 * sd[0], args.n_u)
    u_g = np.linspace(-2.5 * sd[1], 2 * sd[1], args.n_u)

    t0, c0 = time.perf_counter(), time.process_time()
    ds = theta_map(problem, u_d, u_g, config=config)
    t_map, c_map = time.perf_counter() - t0, time.process_time() - c0

    # the pieces, timed separately on the same grids
    coords = loss_coordinates(problem)
    source = PhiSource(problem, coords, config, None)
    ld_axis, _ = loss_axis(u_d, config.margin_sd * sd[0], config.n_margin)
    lg_axis, _ = loss_axis(u_g, config.margin_sd * sd[1], config.n_margin)
    t0 = time.perf_counter()
    table = source.covering((ld_axis[0], ld_axis[-1]), (lg_axis[0], lg_axis[-1]), config.tau_half_width)
    t_phi = time.perf_counter() - t0
    LD, LG = np.meshgrid(ld_axis, lg_axis, indexing="ij")
    t0 = time.perf_counter()
    F = loss_space_objective(problem, LD, LG, phi=table, config=config)
    t_exponent = time.perf_counter() - t0
    t0 = time.perf_counter()
    best, _, _ = dominance_max(F)
    t_dom = time.perf_counter() - t0

    rng = np.random.default_rng(0)
    sample = rng.integers(0, [LD.shape[0], LD.shape[1]], size=(args.naive_sample, 2))
    flat_F, flat_D, flat_G = F.ravel(), LD.ravel(), LG.ravel()
    t0 = time.perf_counter()
    naive = np.array([flat_F[(flat_D <= ld_axis[i]) & (flat_G <= lg_axis[j])].max() for i, j in sample])
    t_naive_sample = time.perf_counter() - t0
    assert np.array_equal(naive, best[sample[:, 0], sample[:, 1]])
    t_naive = t_naive_sample / args.naive_sample * args.n_u**2

    print(f"constants: {args.constants}  (p=q=3, kappa=0.9, sigma_z=1); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times inflate with load)")
    print(f"Phi table: {table.x.size} x {table.x1.size} (x, x1) points: {t_phi:.2f} s")
    print(f"exponent F on {LD.shape[0]} x {LD.shape[1]} = {LD.size} loss points: {t_exponent:.2f} s")
    print(f"dominance max over the loss grid: {t_dom:.3f} s")
    print(f"full Theta map {args.n_u} x {args.n_u} (theta_map, end to end): {t_map:.2f} s wall, "
          f"{c_map:.2f} s CPU; "
          f"max Theta = {float(ds.theta.max()):.6f}")
    print(f"naive masks: {t_naive_sample / args.naive_sample * 1e3:.2f} ms per (u_D, u_G) over "
          f"{LD.size} points -> {t_naive:.0f} s for the map (extrapolated from {args.naive_sample}); "
          f"ratio naive / dominance max = {t_naive / t_dom:.0f}, naive / end to end = "
          f"{t_naive / t_map:.1f}")

    ub_d = np.linspace(u_d[0], u_d[-1], args.n_bands)
    ub_g = np.linspace(u_g[0], u_g[-1], args.n_bands)
    t0, c0 = time.perf_counter(), time.process_time()
    bands = banded_maps(problem, ub_d, ub_g, args.k_max, config=config)
    t_bands, c_bands = time.perf_counter() - t0, time.process_time() - c0
    print(f"banded maps k = 0..{args.k_max} on {args.n_bands} x {args.n_bands}: {t_bands:.1f} s wall, "
          f"{c_bands:.1f} s CPU; "
          f"largest k_D = {int(bands.max_k_d.max())}, largest k_G = {int(bands.max_k_g.max())} "
          f"(-1: none), max Theta_00 = {float(bands.theta_kd[0].max()):.4f}")


if __name__ == "__main__":
    main()
