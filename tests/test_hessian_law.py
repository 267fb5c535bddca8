"""Conditional law of the symmetrised Kac-Rice Jacobian and its reduction to H(x, x1)
(derivations/hessian.py; MODEL.md §3): derived vs Monte Carlo on sampled tensors."""

import numpy as np
import pytest
import sympy as sp

from derivations import hessian
from derivations.generated import hessian as gen
from numerics.model import SpinGlassModel
from numerics.montecarlo import Samples, moments, pole_samples

# (p, q, n_d, n_g, sigma_z): several kappa = n_d/N and sigma_z.
CASES = [(2, 2, 4, 3, 0.5), (3, 2, 3, 4, 2.0), (2, 3, 5, 3, 1.0)]
N_INSTANCES = 3000
Z_NONZERO = 3.0
#: Several hundred predicted-zero covariances per case: Bonferroni bound for a family-wise
#: false-alarm rate of 1e-3 (Gaussian tails).
Z_ZERO = 4.6


def shift_variables(samples):
    """S = (ℓ_D, f, d) per instance (unscaled: S = √N (u, v, δ))."""
    return np.stack([samples.column("l_d"), samples.column("l_g"),
                     samples.column("r_d") - samples.column("r_g")], axis=1)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: "p{}q{}nd{}ng{}s{}".format(*c))
def case(request):
    p, q, n_d, n_g, s = request.param
    model = SpinGlassModel(n_d, n_g, p, q, sigma_z=s)
    keys = ("l_d", "l_g", "r_d", "r_g", "loss_d", "loss_g", "jacobian_sym")
    samples = pole_samples(model, N_INSTANCES, seed=2000 + 31 * p + 7 * q + n_d, keys=keys)
    k = model.n - 2
    jac = samples.values[:, [samples.labels.index(f"jacobian_sym[{i},{j}]")
                             for i in range(k) for j in range(k)]].reshape(-1, k, k)
    args = (p, q, n_d / model.n, s)
    return model, samples, jac, args


def residual_matrix(model, jac, S, args):
    """J_sym + √N (x I + x1 diag(I, 0)) with (√N x, √N x1) = shift_map · S: the fluctuation
    b·M + b1·diag(M1, 0) (times √N) if the reduction holds."""
    A = np.array(gen.derived_shift_map(*args), float).reshape(2, 3)
    sx, sx1 = S @ A.T[:, 0], S @ A.T[:, 1]
    kd = model.n_d - 1
    diag = np.repeat(sx[:, None], model.n - 2, axis=1)
    diag[:, :kd] += sx1[:, None]
    out = jac.copy()
    idx = np.arange(model.n - 2)
    out[:, idx, idx] += diag
    return out


def test_jacobian_is_symmetric_after_negating_generator_row(case):
    _, _, jac, _ = case
    np.testing.assert_allclose(jac, np.swapaxes(jac, 1, 2), atol=1e-10)


def test_losses_are_the_derived_linear_map_of_the_shift_variables(case):
    _, samples, _, args = case
    L = np.array(gen.derived_loss_map(*args), float).reshape(2, 3)
    pred = shift_variables(samples) @ L.T
    np.testing.assert_allclose(pred[:, 0], samples.column("loss_d"), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(pred[:, 1], samples.column("loss_g"), rtol=1e-10, atol=1e-10)


def test_shift_variables_have_the_derived_covariance(case):
    _, samples, _, args = case
    S = shift_variables(samples)
    cov_pred = np.linalg.inv(np.array(gen.derived_precision(*args), float).reshape(3, 3))
    n = len(S)
    for i in range(3):
        for j in range(i, 3):
            prod = S[:, i] * S[:, j]
            se = prod.std(ddof=1) / np.sqrt(n)
            assert abs(prod.mean() - cov_pred[i, j]) < Z_NONZERO * se, (i, j)


def test_reduced_matrix_law_matches_monte_carlo(case):
    """The residual R = J_sym + shifts is independent of S and has the covariance of
    √N (b·M + b1·diag(M1, 0)), entry by entry (upper triangle), with the generated b, b1."""
    model, samples, jac, args = case
    S = shift_variables(samples)
    R = residual_matrix(model, jac, S, args)
    k, kd = model.n - 2, model.n_d - 1
    iu = np.triu_indices(k)
    entries = R[:, iu[0], iu[1]]
    b, b1 = gen.derived_b(*args), gen.derived_b1(*args)
    kappa = args[2]

    def predicted_var(i, j):
        base = b**2 / 2 + (b1**2 / (2 * kappa) if i < kd and j < kd else 0.0)
        return base * (2 if i == j else 1)

    cols = np.concatenate([entries, S], axis=1)
    labels = tuple(f"R{i},{j}" for i, j in zip(*iu)) + ("lD", "f", "d")
    mom = moments(Samples(cols, labels), known_mean=0.0)
    n_r = entries.shape[1]
    bad = []
    for a in range(n_r):
        for c in range(a, n_r + 3):
            if c < n_r:
                pred = predicted_var(iu[0][a], iu[1][a]) if a == c else 0.0
            else:
                pred = 0.0  # fluctuation independent of the shift variables
            z = (mom.covariance[a, c] - pred) / mom.covariance_se[a, c]
            if abs(z) > (Z_NONZERO if pred else Z_ZERO):
                bad.append((labels[a], labels[c], pred, mom.covariance[a, c], z))
    assert not bad, bad


def test_symbolic_reduction_is_exact():
    assert hessian.reduction_residual().is_zero_matrix
    assert hessian.gradient_cross_covariance().is_zero_matrix
    assert hessian.loss_residual_variance().is_zero_matrix
    mean, _ = hessian.conditional_law()
    names = list(hessian.J_ENTRIES)
    for off in ("DD12", "DG", "GD", "GG12"):
        assert all(c == 0 for c in mean[names.index(off), :])


def test_quartic_used_by_numerics_is_the_derived_one():
    """Quartic derived = quartic used: numerics.spectrum evaluates the generated module, whose
    coefficients equal the SymPy elimination, and every root τ solves the Dyson equations
    (MODEL.md §4) with g = 2(z − τ)/b², g2 = 1/τ, g1 = (g − (1−κ)g2)/κ."""
    from derivations import quartic
    from derivations.generated import quartic as gen_quartic
    from numerics import spectrum

    assert spectrum.quartic_coefficients is gen_quartic.quartic_coefficients
    rng = np.random.default_rng(5)
    poly = quartic.derived_quartic()
    for _ in range(5):
        z = complex(rng.uniform(-3, 3), rng.uniform(0.05, 1))
        b, b1, kappa, x1 = rng.uniform(0.5, 2), rng.uniform(0.1, 2), rng.uniform(0.1, 0.9), rng.uniform(-2, 2)
        coeffs = np.array(gen_quartic.quartic_coefficients(z, b, b1, kappa, x1), complex)
        subs = {quartic.z: z, quartic.b: b, quartic.b1: b1, quartic.kappa: kappa, quartic.x1: x1}
        expected = [complex(c.subs(subs)) for c in poly.all_coeffs()]
        np.testing.assert_allclose(coeffs, expected, rtol=1e-12)
        for tau in np.roots(coeffs):
            g = 2 * (z - tau) / b**2
            g2 = 1 / tau
            g1 = (g - (1 - kappa) * g2) / kappa
            assert abs(g1 * (z + x1 - b**2 / 2 * g - b1**2 / 2 * g1) - 1) < 1e-8
            assert abs(g2 * (z - b**2 / 2 * g) - 1) < 1e-12


def test_exactly_one_radial_direction_survives_the_loss_values():
    """Cov((r_D, r_G) | ℓ_D, f) has rank 1 with range (1, −1): d = r_D − r_G is the one
    further variable (MODEL.md §3), with Var d = m 2^m."""
    res = hessian.radial_residual_given_values()
    assert res.rank() == 1
    assert (res * sp.Matrix([1, 1])).is_zero_matrix
    assert sp.simplify(sp.Matrix([1, -1]).T * res * sp.Matrix([1, -1]))[0] == sp.simplify(
        (hessian.m * 2**hessian.m))
