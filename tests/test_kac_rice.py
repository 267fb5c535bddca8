"""Exact finite-N Kac-Rice expectation vs direct critical-point counts (issue 8).

The comparison must accept the derived law and reject it when any factor of the Kac-Rice
constant (sphere areas, gradient variances) or of the conditional law (variances and
covariances of values, radial derivatives and Hessian entries, Euler coefficient) is off by
a factor of 2.
"""

import math

import numpy as np
import pytest

from ganspin.verification import _thresholds
from numerics.critical_points import sphere_critical_points, torus_critical_points
from numerics.kac_rice import (
    FiniteLaw,
    count_statistics,
    finite_law,
    log_sphere_area,
    predicted_counts,
    z_scores,
)
from numerics.model import SpinGlassModel, sample_couplings
from numerics.params import ParameterError

LEVELS = (-1.0, 0.0, 1.0, 6.0)
# Reject when any of the ~25 compared statistics is this many combined SEs away.
REJECT_Z = 4.0
KR_SAMPLES = 100_000
# Factors absent on the torus (1×1 tangent blocks have no off-diagonal entries).
OFFDIAGONAL = ("var_hess_l_d_offdiag", "var_hess_f_dd_offdiag", "var_hess_f_gg_offdiag")


def _max_abs_z(direct, law, t_d, t_g):
    z = z_scores(direct, predicted_counts(law, KR_SAMPLES, t_d, t_g, seed=3))
    return max(float(np.max(np.abs(v))) for v in z.values())


def _direct(model, points, n_instances):
    t_d, t_g = _thresholds(model, LEVELS)
    stats = count_statistics(np.ones(points.instance.size), points.loss_d, points.loss_g, points.index_d,
                             points.index_g, points.instance, n_instances, t_d, t_g, model.n_d, model.n_g)
    return stats, t_d, t_g


@pytest.fixture(scope="module")
def torus_direct():
    model = SpinGlassModel(2, 2, 2, 2, sigma_z=0.3)
    couplings = sample_couplings(model, 300, seed=1)
    return model, *_direct(model, torus_critical_points(model, couplings, grid=64), 300)


def test_sphere_area():
    assert math.isclose(math.exp(log_sphere_area(2)), 2 * math.pi)
    assert math.isclose(math.exp(log_sphere_area(3)), 4 * math.pi)


def test_derived_law_matches_direct_torus_counts(torus_direct):
    model, direct, t_d, t_g = torus_direct
    assert _max_abs_z(direct, finite_law(model), t_d, t_g) < REJECT_Z


@pytest.mark.parametrize("factor", [f for f in FiniteLaw.factors() if f not in OFFDIAGONAL])
def test_factor_of_two_is_rejected_on_the_torus(torus_direct, factor):
    model, direct, t_d, t_g = torus_direct
    try:
        wrong = finite_law(model).perturbed(factor, 2.0)
        worst = _max_abs_z(direct, wrong, t_d, t_g)
    except ParameterError:
        # A doubled cross-covariance of (f, r_D, r_G) is not a covariance at all: no law exists.
        return
    assert worst > REJECT_Z, f"doubling {factor} was not detected (max |z| = {worst:.2f})"


# Off-diagonal Hessian entries exist only on blocks of size >= 2: each is tested on the
# smallest product of spheres where it exists and matters (σ_z small makes Hess ℓ_D dominate
# the D block, σ_z = 1 makes Hess ℓ_G dominate). ~50-85 points per instance; 1024 Newton starts
# find all but ~1% of them.
OFFDIAGONAL_CASES = {
    "var_hess_l_d_offdiag": (4, 2, 0.1),
    "var_hess_f_dd_offdiag": (4, 2, 1.0),
    "var_hess_f_gg_offdiag": (2, 4, 1.0),
}


@pytest.fixture(scope="module")
def sphere_direct():
    cache = {}

    def direct(n_d, n_g, sigma_z):
        if (n_d, n_g, sigma_z) not in cache:
            model = SpinGlassModel(n_d, n_g, 2, 2, sigma_z=sigma_z)
            couplings = sample_couplings(model, 16, seed=1)
            points, _ = sphere_critical_points(model, couplings, n_starts=1024, batches=4, seed=2)
            cache[n_d, n_g, sigma_z] = (model, *_direct(model, points, 16))
        return cache[n_d, n_g, sigma_z]

    return direct


@pytest.mark.parametrize("factor", OFFDIAGONAL)
def test_offdiagonal_factor_of_two_is_rejected_on_larger_spheres(sphere_direct, factor):
    model, direct, t_d, t_g = sphere_direct(*OFFDIAGONAL_CASES[factor])
    assert _max_abs_z(direct, finite_law(model), t_d, t_g) < REJECT_Z
    worst = _max_abs_z(direct, finite_law(model).perturbed(factor, 2.0), t_d, t_g)
    assert worst > REJECT_Z, f"doubling {factor} was not detected (max |z| = {worst:.2f})"
