"""Benchmark (issue 6): the full theory σ_z sweep for (p, q) = (5, 5), κ = 0.9, at the default
resolution, on an embedded LocalCluster, next to the estimated time of the same workload with
per-point quadrature of Φ (scipy.integrate.quad of log|λ − x| ρ(λ) over the support, measured
here on a sample of the (x, x1) points the sweep needs).

    OMP_NUM_THREADS=1 python benchmarks/bench_sweeps.py [--points 60] [--workers 2] [--constants derived]
        [--store PATH]   (keep the sweep store; it must not exist yet, so that nothing is reused)
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.integrate import quad


def quad_phi(x, x1, b, b1, kappa):
    """Φ(x, x1) by adaptive quadrature over each support component (the naive baseline)."""
    from numerics.spectrum import density, support

    total = 0.0
    for lo, hi in support(b, b1, kappa, x1):
        f = lambda lam: np.log(abs(lam - x)) * float(density(np.array([lam]), b, b1, kappa, x1)[0])  # noqa: E731
        pts = [x] if lo < x < hi else None
        total += quad(f, lo, hi, points=pts, limit=200)[0]
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--constants", default="derived")
    ap.add_argument("--quad-samples", type=int, default=8)
    ap.add_argument("--store", type=Path, default=None)
    args = ap.parse_args()

    from ganspin.sweeps import parts_dir, run_sweep
    from ganspin.theory_sweeps import TheorySweepConfig, theory_sweep
    from numerics.constants import complexity_problem
    from numerics.params import ModelParams

    config = TheorySweepConfig("sigma", p=(5,), q=(5,), points=args.points, constants=args.constants)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "bench.nc"
        if store.exists() or parts_dir(store).exists():
            raise SystemExit(f"{store} (or its parts) exists: the benchmark must start from nothing")
        start = time.perf_counter()
        ds = run_sweep(theory_sweep(config), store, workers=args.workers)
        wall = time.perf_counter() - start
    queries = int(ds.phi_queries.sum() + ds.phi_exact_queries.sum())
    tables = int(ds.phi_tables.sum())

    rng = np.random.default_rng(0)
    sel = ds.isel(p=0, q=0, kappa=0)
    idx = rng.choice(sel.sigma_z.size, args.quad_samples, replace=False)
    times = []
    for i in idx:
        point = sel.isel(sigma_z=i)
        problem = complexity_problem(ModelParams(5, 5, 0.9, float(point.sigma_z)), args.constants)
        x, x1 = float(point.x_at_min_u_d), float(point.x1_at_min_u_d)
        t0 = time.perf_counter()
        quad_phi(x, x1, problem.b, problem.b1, problem.kappa)
        times.append(time.perf_counter() - t0)
    per_quad = float(np.median(times))
    naive = queries * per_quad / args.workers
    print(f"sigma_z sweep, (p,q)=(5,5), kappa=0.9, {args.points} points, constants={args.constants}, "
          f"{args.workers} workers")
    print(f"  wall time                         {wall:8.1f} s")
    print(f"  Phi tables built / Phi evaluated  {tables} / {queries:,} "
          f"({int(ds.phi_exact_queries.sum()):,} of them in closed form)")
    print(f"  per-point quad of Phi (median)    {per_quad * 1e3:8.2f} ms")
    print(f"  estimated per-point-quadrature    {naive:8.3g} s ({naive / 86400:.3g} days), "
          f"ratio {naive / wall:.3g}x")


if __name__ == "__main__":
    main()
