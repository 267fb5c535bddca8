"""Critical-point finders (issue 8): exact polynomial evaluation, completeness on the torus,
agreement of the two finders, and bad input."""

import numpy as np
import pytest

from numerics.critical_points import (
    LossExpansion,
    sphere_critical_points,
    torus_count_stability,
    torus_critical_points,
)
from numerics.model import (
    SpinGlassModel,
    kac_rice_jacobian,
    losses,
    random_points,
    riemannian_gradients,
    sample_couplings,
)
from numerics.params import ParameterError


@pytest.mark.parametrize("n_d, n_g, p, q", [(2, 2, 2, 3), (3, 2, 3, 2), (3, 3, 2, 2)])
def test_polynomial_expansion_matches_model_contractions(n_d, n_g, p, q):
    model = SpinGlassModel(n_d, n_g, p, q, sigma_z=0.7)
    c = sample_couplings(model, 3, seed=1)
    w_d, w_g = random_points(model, (3, 5), seed=2)
    grad, jac, (loss_d, loss_g), _ = LossExpansion.from_couplings(model, c).field(np.concatenate([w_d, w_g], -1))
    ref = riemannian_gradients(model, c, w_d, w_g, per_instance=True, frame=True)
    kd = n_d - 1
    np.testing.assert_allclose(grad[..., :kd], ref.loss_d[..., :kd], atol=1e-12)
    np.testing.assert_allclose(grad[..., kd:], ref.loss_g[..., kd:], atol=1e-12)
    np.testing.assert_allclose(jac, kac_rice_jacobian(model, c, w_d, w_g, per_instance=True), atol=1e-11)
    ref_losses = losses(model, c, w_d, w_g, per_instance=True)
    np.testing.assert_allclose(loss_d, ref_losses.loss_d, atol=1e-12)
    np.testing.assert_allclose(loss_g, ref_losses.loss_g, atol=1e-12)


def test_torus_points_are_distinct_critical_points_of_the_model():
    model = SpinGlassModel(2, 2, 3, 2, sigma_z=0.5)
    c = sample_couplings(model, 10, seed=3)
    pts = torus_critical_points(model, c, grid=64)
    assert pts.counts.min() > 0
    for i in range(10):
        sel = pts.instance == i
        one = type(c)(c.X[i:i + 1], c.Z[i:i + 1])
        g = riemannian_gradients(model, one, pts.w[sel, :2], pts.w[sel, 2:], frame=True)
        # The model's own contractions: ∇_D L_D and ∇_G L_G vanish at every point found.
        assert np.max(np.abs(g.loss_d[0, :, 0])) < 1e-8
        assert np.max(np.abs(g.loss_g[0, :, 1])) < 1e-8
        gap = np.linalg.norm(pts.w[sel][:, None] - pts.w[sel][None], axis=-1) + np.eye(sel.sum())
        assert gap.min() > 1e-4
        ref = losses(model, one, pts.w[sel, :2], pts.w[sel, 2:])
        np.testing.assert_allclose(pts.loss_d[sel], ref.loss_d[0], atol=1e-12)


def test_torus_count_is_stable_under_grid_refinement():
    model = SpinGlassModel(2, 2, 3, 3, sigma_z=1.0)
    c = sample_couplings(model, 12, seed=4)
    counts = torus_count_stability(model, c, grids=(32, 64, 128, 256))
    assert np.all(counts == counts[-1])


def test_many_start_newton_reproduces_the_certified_torus_count():
    model = SpinGlassModel(2, 2, 2, 2, sigma_z=1.0)
    c = sample_couplings(model, 6, seed=5)
    certified = torus_critical_points(model, c, grid=64)
    found, growth = sphere_critical_points(model, c, n_starts=400, batches=2, seed=6)
    assert np.all(np.diff(growth, axis=0) >= 0)
    np.testing.assert_array_equal(found.counts, certified.counts)
    # Same points: every Newton point is within 1e-8 of a certified one of its instance.
    for i in range(6):
        a, b = found.w[found.instance == i], certified.w[certified.instance == i]
        assert np.max(np.min(np.linalg.norm(a[:, None] - b[None], axis=-1), axis=1)) < 1e-8
    np.testing.assert_array_equal(np.sort(found.index_d + 2 * found.index_g),
                                  np.sort(certified.index_d + 2 * certified.index_g))


def test_finders_reject_bad_input():
    with pytest.raises(ParameterError, match="n_d = n_g = 2"):
        model = SpinGlassModel(3, 2, 2, 2)
        torus_critical_points(model, sample_couplings(model, 1, seed=0))
    model = SpinGlassModel(2, 2, 2, 2)
    with pytest.raises(ParameterError, match="grid"):
        torus_critical_points(model, sample_couplings(model, 1, seed=0), grid=3)
    with pytest.raises(ParameterError, match="n_starts"):
        sphere_critical_points(model, sample_couplings(model, 1, seed=0), n_starts=0)
