"""Kac-Rice constant (derivations/constant.py; paper Lemma 3.3, eq. 173; MODEL.md §3):
Stirling vs exact log-gamma, the single-sphere check, and mpmath vs numpy evaluators."""

import importlib
import inspect

import mpmath
import numpy as np
import pytest
import sympy as sp

from derivations import constant
from derivations.generated import constant as gen
from derivations.generated import published as gen_pub

PARAMS = [(3, 3, 0.9, 1.0), (2, 5, 0.25, 0.1), (5, 5, 0.5, 10.0)]


@pytest.fixture(scope="module")
def exact_log_prefactor():
    """Exact log K_N (log-gamma, no Stirling) as an mpmath function of (N, p, q, κ, σ_z)."""
    return sp.lambdify((constant.N, *constant.hessian.ARGS), constant.log_prefactor(), "mpmath")


@pytest.mark.parametrize("params", PARAMS)
def test_stirling_converges_to_exact_log_gamma(exact_log_prefactor, params):
    """N⁻¹ log K_N − C = O(1/N), and after the O(1) Stirling term the error is O(1/N) in
    log K_N with the constant of the next Stirling term 1/(12z): −1/(6κ(1−κ))."""
    p, q, kappa, s = params
    C = gen.derived_log_constant(p, q, kappa, s)
    errors_c, errors_s = [], []
    with mpmath.workdps(50):
        for n in (10**2, 10**4, 10**6):
            exact = exact_log_prefactor(mpmath.mpf(n), p, q, mpmath.mpf(kappa), mpmath.mpf(s))
            errors_c.append(float(exact / n - mpmath.mpf(C)))
            stirling = gen.log_prefactor_stirling_mp(mpmath.mpf(n), p, q, mpmath.mpf(kappa), mpmath.mpf(s))
            errors_s.append(float(exact - stirling) * n)
    for e1, e2 in zip(errors_c, errors_c[1:]):
        assert abs(e2) < 0.02 * abs(e1)  # N⁻¹ log K_N − C shrinks like 1/N
    predicted = -1 / (6 * kappa * (1 - kappa))
    assert errors_s[-1] == pytest.approx(predicted, rel=1e-4)
    assert abs(errors_s[0] - predicted) > abs(errors_s[-1] - predicted)


def test_log_constant_limit_is_not_the_published_one(exact_log_prefactor):
    """The published (173) carries O(1)-in-N terms (13/2 log 2 + 5 log π) that do not
    survive N⁻¹ log: at N = 10⁶ the exact N⁻¹ log K_N is within 1e-5 of the derived C and
    far from (173)."""
    p, q, kappa, s = 3, 3, 0.9, 1.0
    with mpmath.workdps(50):
        exact = float(exact_log_prefactor(mpmath.mpf(10**6), p, q, mpmath.mpf(kappa), mpmath.mpf(s)) / 10**6)
    assert exact == pytest.approx(gen.derived_log_constant(p, q, kappa, s), abs=1e-5)
    published = gen_pub.published_constants(p, q, kappa, s)[4]
    assert abs(exact - published) > 1.0


@pytest.mark.parametrize("p", [2, 3, 5, 10])
def test_single_sphere_constant_gives_auffinger_ben_arous_cerny(p):
    """C_single + Φ(0) = ½ log(p − 1) for the pure p-spin on one sphere, with Φ(0) the
    semicircle log-potential at 0 for b² = 2p(p−1) (edge √2·b), integrated numerically."""
    edge = mpmath.sqrt(2 * 2 * p * (p - 1))
    density = lambda t: 2 / (mpmath.pi * edge**2) * mpmath.sqrt(edge**2 - t**2)  # noqa: E731
    phi0 = 2 * mpmath.quad(lambda t: mpmath.log(t) * density(t), [0, edge])
    total = gen.single_sphere_log_constant(p) + float(phi0)
    assert total == pytest.approx(0.5 * np.log(p - 1), abs=1e-10)


MODULES = ["covariance", "hessian", "constant", "index", "published", "quartic"]


def random_arguments(names, rng):
    values = {}
    for n in names:
        if n in ("p", "q"):
            values[n] = float(rng.integers(2, 11))
        elif n == "kappa":
            values[n] = rng.uniform(0.05, 0.95)
        elif n == "sigma_z":
            values[n] = 10 ** rng.uniform(-3, 2)
        elif n == "N":
            values[n] = 10 ** rng.uniform(1, 6)
        elif n == "E":
            values[n] = 10 ** rng.uniform(-1, 1)
        else:
            values[n] = rng.uniform(-5, 5)
    if "u" in values:  # the GOE rate is defined outside the bulk
        values["u"] = values["E"] * rng.uniform(1.01, 5.0)
    for n in ("b", "b1"):
        if n in values:
            values[n] = abs(values[n]) + 0.1
    return values


@pytest.mark.parametrize("module_name", MODULES)
def test_mpmath_and_numpy_evaluators_agree(module_name):
    """Every generated evaluator: numpy vs mpmath at 50 digits, 1e-12 relative, 20 random points."""
    module = importlib.import_module(f"derivations.generated.{module_name}")
    rng = np.random.default_rng(MODULES.index(module_name))
    functions = [f for name, f in inspect.getmembers(module, inspect.isfunction)
                 if not name.endswith("_mp")]
    assert functions
    for f in functions:
        names = list(inspect.signature(f).parameters)
        f_mp = getattr(module, f.__name__ + "_mp")
        for _ in range(20):
            args = random_arguments(names, rng)
            got = np.atleast_1d(np.asarray(f(**args), dtype=float))
            with mpmath.workdps(50):
                ref = f_mp(**{k: mpmath.mpf(v) for k, v in args.items()})
                ref = np.atleast_1d(np.array([float(r) for r in np.atleast_1d(ref)]))
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0, err_msg=f"{f.__name__}{args}")
