"""Speed of the exact contractions in numerics/model.py against a naive baseline.

Baseline: symmetrise the coupling tensor over all d! slot permutations, then contract it
with the point slot by slot (what one would write first). Both are timed in the same run
and the ratio is printed; nothing is asserted (see tests/test_model.py for correctness).

    python benchmarks/bench_model.py
"""

import itertools
import math
import time

import numpy as np

from numerics.model import form_derivatives


def naive_derivatives(T, w):
    d = T.ndim - 1
    S = sum(np.transpose(T, (0,) + p) for p in itertools.permutations(range(1, d + 1))) / math.factorial(d)
    value = np.empty(w.shape[:2])
    grad = np.empty(w.shape)
    hess = np.empty(w.shape + w.shape[-1:])
    for i, k in np.ndindex(*w.shape[:2]):
        t = S[i]
        for _ in range(d - 2):
            t = t @ w[i, k]
        hess[i, k] = d * (d - 1) * t
        grad[i, k] = d * (t @ w[i, k])
        value[i, k] = t @ w[i, k] @ w[i, k]
    return value, grad, hess


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    rng = np.random.default_rng(0)
    print(f"{'d':>2} {'n':>3} {'points':>6} {'naive s':>9} {'exact s':>9} {'speed-up':>9}")
    for d, n, points in [(4, 8, 16), (5, 8, 8), (6, 8, 4)]:
        T = rng.standard_normal((1,) + (n,) * d)
        w = rng.standard_normal((1, points, n))
        t_naive, ref = best_of(lambda: naive_derivatives(T, w), repeats=1)
        t_fast, out = best_of(lambda: form_derivatives(T, w, 2))
        for a, b in zip(ref, out):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
        print(f"{d:>2} {n:>3} {points:>6} {t_naive:9.3f} {t_fast:9.4f} {t_naive / t_fast:9.1f}")


if __name__ == "__main__":
    main()
