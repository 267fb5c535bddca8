"""Shared test set-up: one BLAS/torch thread (the machines have two shared cores)."""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)
