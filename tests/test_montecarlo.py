"""Monte Carlo utilities (numerics/montecarlo.py) and the covariance kernels of MODEL.md §1.

Every random check is seeded and asserts agreement within 3 standard errors."""

import numpy as np
import pytest

from numerics.model import SpinGlassModel, loss_covariances
from numerics.montecarlo import (
    Samples,
    loss_covariance_check,
    moments,
    pole_samples,
    sample_statistic,
    z_scores,
)
from numerics.params import ParameterError


@pytest.mark.parametrize(
    "model",
    [
        SpinGlassModel(4, 3, p=2, q=2, sigma_z=0.7),
        SpinGlassModel(3, 2, p=3, q=2, sigma_z=1.5, radius_d=1.2, radius_g=0.8),
    ],
    ids=["p2q2", "p3q2-radii"],
)
def test_loss_covariances_at_random_pairs_match_kernels(model):
    checks = loss_covariance_check(model, n_instances=20000, n_pairs=3, seed=1)
    assert len(checks) == 3 * 9
    bad = [(c.pair, c.quantity, c.z) for c in checks if not abs(c.z) < 3]
    assert not bad, bad
    # The pairs probe overlaps away from the equal-point variance.
    cross = [c for c in checks if "w1" in c.quantity]
    assert max(abs(c.overlap_d + c.overlap_g) for c in cross) > 0.3


def test_covariance_check_detects_a_wrong_kernel():
    model = SpinGlassModel(4, 3, p=2, q=2, sigma_z=0.7)
    wrong = SpinGlassModel(4, 3, p=2, q=2, sigma_z=0.7 * 1.1)
    checks = loss_covariance_check(model, n_instances=20000, n_pairs=1, seed=2)
    var_g = next(c for c in checks if c.quantity == "loss_g(w0) loss_g(w0)")
    wrong_value = loss_covariances(wrong, var_g.overlap_d, var_g.overlap_g)["loss_g,loss_g"]
    assert abs(z_scores(var_g.estimate, var_g.standard_error, wrong_value)) > 10


def test_pole_covariances_match_kernel_derivatives():
    """Derivatives of E f f' = (w.w')^m and E l_D l_D' = (w_D.w_D')^p at the unit north poles
    (||w||^2 = 2): Var f = 2^m, Var r_D = m 2^(m-1) + m(m-1) 2^(m-2), Cov(r_D, r_G) = m(m-1) 2^(m-2),
    Cov(r_D, f) = m 2^(m-1), tangent gradient variance m 2^(m-1), tangent Hessian off-diagonal
    variance m(m-1) 2^(m-2) and diagonal twice that, uncorrelated with f."""
    model = SpinGlassModel(3, 3, p=2, q=2, sigma_z=1.0)
    p, m = model.p, model.m
    keys = ("l_d", "l_g", "r_d", "r_g", "grad_l_d", "grad_l_g", "hess_l_d", "hess_l_g")
    mom = moments(pole_samples(model, 20000, seed=3, keys=keys), known_mean=0.0)
    predicted = {
        ("l_g", "l_g"): 2.0**m,
        ("r_d", "r_d"): m * 2.0 ** (m - 1) + m * (m - 1) * 2.0 ** (m - 2),
        ("r_d", "r_g"): m * (m - 1) * 2.0 ** (m - 2),
        ("r_d", "l_g"): m * 2.0 ** (m - 1),
        ("grad_l_g[0]", "grad_l_g[0]"): m * 2.0 ** (m - 1),
        ("grad_l_g[0]", "grad_l_g[3]"): 0.0,
        ("hess_l_g[0,1]", "hess_l_g[0,1]"): m * (m - 1) * 2.0 ** (m - 2),
        ("hess_l_g[1,3]", "hess_l_g[1,3]"): m * (m - 1) * 2.0 ** (m - 2),
        ("hess_l_g[2,2]", "hess_l_g[2,2]"): 2 * m * (m - 1) * 2.0 ** (m - 2),
        ("hess_l_g[0,0]", "l_g"): 0.0,
        ("hess_l_g[0,0]", "r_d"): 0.0,
        ("l_d", "l_d"): 1.0,
        ("grad_l_d[1]", "grad_l_d[1]"): float(p),
        ("hess_l_d[0,1]", "hess_l_d[0,1]"): float(p * (p - 1)),
        ("l_d", "l_g"): 0.0,
    }
    z = {pair: z_scores(*mom.cov(*pair), value) for pair, value in predicted.items()}
    assert all(abs(v) < 3 for v in z.values()), z


def test_moments_of_gaussian_samples():
    """Point estimates, standard errors against their Gaussian formulas, and calibration:
    over 400 independent repetitions the z-scores have mean 0 and standard deviation 1."""
    rng = np.random.default_rng(4)
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
    mean = np.array([1.0, -2.0, 0.5])
    labels = ("a", "b", "c")
    n = 40000
    x = rng.multivariate_normal(mean, cov, size=n)
    mom = moments(Samples(x, labels))
    # SE of a Gaussian covariance entry: sqrt((S_ii S_jj + S_ij^2) / n).
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    np.testing.assert_allclose(mom.covariance_se, se, rtol=0.05)
    np.testing.assert_allclose(mom.mean_se, np.sqrt(np.diag(cov) / n), rtol=0.05)
    np.testing.assert_allclose(mom.covariance, np.cov(x, rowvar=False), rtol=1e-12)

    reps = 400
    draws = rng.multivariate_normal(mean, cov, size=(reps, 2000))
    z_mean, z_cov, z_known = [], [], []
    for d in draws:
        m = moments(Samples(d, labels))
        z_mean.append(z_scores(m.mean, m.mean_se, mean))
        z_cov.append(z_scores(m.covariance, m.covariance_se, cov)[np.triu_indices(3)])
        k = moments(Samples(d - mean, labels), known_mean=0.0)
        z_known.append(z_scores(k.covariance, k.covariance_se, cov)[np.triu_indices(3)])
    for z in (np.array(z_mean), np.array(z_cov), np.array(z_known)):
        # 4 standard errors of a mean (1/sqrt(reps)) and of a standard deviation (1/sqrt(2 reps)).
        assert np.all(np.abs(z.mean(axis=0)) < 4 / np.sqrt(reps)), z.mean(axis=0)
        assert np.all(np.abs(z.std(axis=0) - 1) < 4 / np.sqrt(2 * reps)), z.std(axis=0)


def test_sample_statistic_is_seeded_and_batched():
    model = SpinGlassModel(2, 2, 2, 2)

    def stat(c):
        return {"x00": c.X[:, 0, 0], "z": c.Z[:, 0, 1, :, 0]}

    a = sample_statistic(model, stat, 10, seed=5, batch_size=3)
    b = sample_statistic(model, stat, 10, seed=5, batch_size=3)
    c = sample_statistic(model, stat, 10, seed=6, batch_size=3)
    assert a.values.shape == (10, 1 + 4)
    assert a.labels == ("x00", "z[0]", "z[1]", "z[2]", "z[3]")
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)
    assert len(np.unique(a.column("x00"))) == 10  # instances in different batches differ


def test_bad_inputs():
    model = SpinGlassModel(2, 2, 2, 2)
    with pytest.raises(ParameterError, match="^keys "):
        pole_samples(model, 4, keys=("nope",))
    with pytest.raises(ParameterError, match="^n_instances "):
        sample_statistic(model, lambda c: c.X[:, 0, 0], 1)
    with pytest.raises(ParameterError, match="^batch_size "):
        sample_statistic(model, lambda c: c.X[:, 0, 0], 4, batch_size=0)
    with pytest.raises(ParameterError, match="^n_pairs "):
        loss_covariance_check(model, 10, n_pairs=0)


def test_z_scores_handle_zero_standard_error():
    z = z_scores([1.0, 2.0, 3.0], [0.5, 0.0, 0.0], [0.0, 2.0, 1.0])
    assert z[0] == 2.0 and z[1] == 0.0 and np.isinf(z[2])
