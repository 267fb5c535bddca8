"""Derived pole covariances (derivations/covariance.py) vs Monte Carlo on sampled tensors
(numerics/model.py), MODEL.md §1, §3; issue 3 "Must show"."""

import numpy as np
import pytest
import sympy as sp

from derivations import covariance as cov
from derivations.generated import covariance as gen
from numerics.model import SpinGlassModel
from numerics.montecarlo import moments, pole_samples

# (p, q, n_d, n_g): p, q in {2, 3}; two tangent directions per sphere need n_d, n_g >= 3.
CASES = [(2, 2, 3, 3), (2, 3, 4, 3), (3, 2, 3, 4), (3, 3, 3, 3)]
N_INSTANCES = 3000
#: A covariance the derivation predicts nonzero must be within 3 standard errors.
Z_NONZERO = 3.0
#: About 140 pairs per case are predicted independent: a family-wise false-alarm rate of
#: 1e-3 over the 4 cases needs |z| < 4.4 for each (Bonferroni, Gaussian tails).
Z_ZERO = 4.4

#: VARIABLES name -> sample label, given n_d (frame coordinates: D tangents first).
def sample_label(name: str, n_d: int) -> str:
    g0 = n_d - 1
    return {
        "lD": "l_d", "f": "l_g", "rD": "r_d", "rG": "r_g",
        "g_lD": "grad_l_d[0]", "g_lD2": "grad_l_d[1]",
        "g_fD": "grad_l_g[0]", "g_fD2": "grad_l_g[1]", "g_fG": f"grad_l_g[{g0}]",
        "h_lD_11": "hess_l_d[0,0]", "h_lD_12": "hess_l_d[0,1]", "h_lD_22": "hess_l_d[1,1]",
        "h_f_D11": "hess_l_g[0,0]", "h_f_D12": "hess_l_g[0,1]", "h_f_D22": "hess_l_g[1,1]",
        "h_f_DG": f"hess_l_g[0,{g0}]",
        "h_f_G11": f"hess_l_g[{g0},{g0}]", "h_f_G12": f"hess_l_g[{g0},{g0 + 1}]",
        "h_f_G22": f"hess_l_g[{g0 + 1},{g0 + 1}]",
    }[name]


SAMPLED = [n for n in cov.VARIABLES if n != "r_lD"]  # ∂_r ℓ_D = p ℓ_D (Euler) is not sampled
KEYS = ("l_d", "l_g", "r_d", "r_g", "grad_l_d", "grad_l_g", "hess_l_d", "hess_l_g")


@pytest.fixture(scope="module", params=CASES, ids=lambda c: "p{}q{}nd{}ng{}".format(*c))
def case(request):
    p, q, n_d, n_g = request.param
    model = SpinGlassModel(n_d, n_g, p, q, sigma_z=1.0)
    samples = pole_samples(model, N_INSTANCES, seed=1000 + 17 * p + q, keys=KEYS)
    return request.param, samples


def test_pole_covariances_match_monte_carlo(case):
    (p, q, n_d, _), samples = case
    mom = moments(samples, known_mean=0.0)
    bad = []
    for i, a in enumerate(SAMPLED):
        for b in SAMPLED[i:]:
            predicted = float(cov.covariance(a, b).subs({**cov.UNIT, cov.p: p, cov.q: q}))
            est, se = mom.cov(sample_label(a, n_d), sample_label(b, n_d))
            z = (est - predicted) / se
            if abs(z) > (Z_NONZERO if predicted != 0 else Z_ZERO):
                bad.append((a, b, predicted, est, se, z))
    assert not bad, bad


def test_generated_covariances_equal_symbolic():
    for p, q in [(2, 2), (3, 5), (7, 10)]:
        for name, a, b, _ in cov.EXPORTED:
            expected = float(cov.covariance(a, b).subs({**cov.UNIT, cov.p: p, cov.q: q}))
            assert getattr(gen, name)(p, q) == pytest.approx(expected, rel=1e-14)


def test_euler_relations_hold_in_samples(case):
    (p, q, _, _), samples = case
    l_g, r_d, r_g = (samples.column(k) for k in ("l_g", "r_d", "r_g"))
    np.testing.assert_allclose(r_d + r_g, (p + q) * l_g, rtol=1e-9, atol=1e-9)
    assert all(v == 0 for v in cov.euler_residuals().values())


def test_radial_difference_is_a_further_variable(case):
    """d = r_D − r_G is not a function of f: Var d = m 2^m, Cov(d, f) = 0 (MODEL.md §3)."""
    (p, q, _, _), samples = case
    d = samples.column("r_d") - samples.column("r_g")
    f = samples.column("l_g")
    m = p + q
    var_pred = float(sp.simplify(cov.covariance("rD", "rD") + cov.covariance("rG", "rG")
                                 - 2 * cov.covariance("rD", "rG")).subs({**cov.UNIT, cov.p: p, cov.q: q}))
    assert var_pred == m * 2**m
    n = len(d)
    se_var = np.std(d**2, ddof=1) / np.sqrt(n)
    assert abs(np.mean(d**2) - var_pred) < 3 * se_var
    se_cov = np.std(d * f, ddof=1) / np.sqrt(n)
    assert abs(np.mean(d * f)) < 3 * se_cov
