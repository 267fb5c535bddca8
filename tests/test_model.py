"""The finite-N model (numerics/model.py): exact contractions, derivatives against finite
differences (Euclidean and along geodesics), frames, the Kac-Rice Jacobian, memory limits."""

import itertools
import json
import math

import numpy as np
import pytest

from numerics.model import (
    SpinGlassModel,
    euclidean_gradients,
    euclidean_hessians,
    form_derivatives,
    kac_rice_jacobian,
    loss_covariances,
    losses,
    north_poles,
    pole_quantities,
    product_frame,
    radial_derivatives,
    random_points,
    riemannian_gradients,
    riemannian_hessians,
    sample_couplings,
    tangent_frame,
)
from numerics.params import ParameterError

FIELDS = ("l_d", "l_g", "loss_d", "loss_g")


@pytest.fixture(scope="module")
def model():
    # Unequal radii and orders so that no factor of 1 hides a mistake.
    return SpinGlassModel(3, 4, p=3, q=2, sigma_z=0.7, radius_d=1.3, radius_g=0.8)


@pytest.fixture(scope="module")
def couplings(model):
    return sample_couplings(model, 3, seed=11)


def _symmetrised(T):
    d = T.ndim - 1
    perms = itertools.permutations(range(1, d + 1))
    return sum(np.transpose(T, (0,) + p) for p in perms) / math.factorial(d)


@pytest.mark.parametrize("d,n", [(2, 3), (3, 2), (4, 3), (5, 2), (6, 2)])
def test_form_derivatives_match_symmetrised_tensor(d, n):
    rng = np.random.default_rng(d * 10 + n)
    T = rng.standard_normal((2,) + (n,) * d)
    w = rng.standard_normal((2, 4, n))
    value, grad, hess = form_derivatives(T, w, order=2)
    S = _symmetrised(T)
    for i, k in np.ndindex(2, 4):
        x = w[i, k]
        t = S[i]
        for _ in range(d - 2):
            t = t @ x
        np.testing.assert_allclose(hess[i, k], d * (d - 1) * t, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(grad[i, k], d * (t @ x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(value[i, k], t @ x @ x, rtol=1e-12, atol=1e-12)


def test_shapes_and_point_broadcasting(model, couplings):
    I, n = couplings.n_instances, model.n
    w_d, w_g = random_points(model, (5, 2), seed=1)
    assert losses(model, couplings, w_d, w_g).loss_d.shape == (I, 5, 2)
    assert euclidean_hessians(model, couplings, w_d, w_g).l_g.shape == (I, 5, 2, n, n)
    assert riemannian_gradients(model, couplings, w_d, w_g, frame=True).loss_g.shape == (I, 5, 2, n - 2)
    assert kac_rice_jacobian(model, couplings, w_d[0, 0], w_g[0, 0]).shape == (I, n - 2, n - 2)
    # The same point for every instance vs per-instance copies of it.
    shared = losses(model, couplings, w_d[:, 0], w_g[:, 0])
    per = losses(model, couplings, np.broadcast_to(w_d[:, 0], (I, 5, model.n_d)),
                 np.broadcast_to(w_g[:, 0], (I, 5, model.n_g)), per_instance=True)
    for a, b in zip(shared, per):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_losses_are_the_defining_sums(model, couplings):
    w_d, w_g = random_points(model, (), seed=2)
    w = np.concatenate([w_d, w_g])
    v = losses(model, couplings, w_d, w_g)
    X, Z = couplings
    l_d = np.einsum("iabc,a,b,c->i", X, w_d, w_d, w_d)
    l_g = np.einsum("iabcde,a,b,c,d,e->i", Z, w, w, w, w, w)
    np.testing.assert_allclose(v.l_d, l_d, rtol=1e-12)
    np.testing.assert_allclose(v.l_g, l_g, rtol=1e-12)
    np.testing.assert_allclose(v.loss_d, l_d - model.sigma_z * l_g, rtol=1e-12)
    np.testing.assert_allclose(v.loss_g, model.sigma_z * l_g, rtol=1e-12)


def _split(model, w):
    return w[..., : model.n_d], w[..., model.n_d :]


def test_euclidean_derivatives_match_finite_differences(model, couplings):
    w_d, w_g = random_points(model, (), seed=3)
    w = np.concatenate([w_d, w_g])
    grad = euclidean_gradients(model, couplings, w_d, w_g)
    hess = euclidean_hessians(model, couplings, w_d, w_g)
    h = 1e-4
    steps = h * np.eye(model.n)
    plus_w = w + steps
    minus_w = w - steps
    plus = losses(model, couplings, *_split(model, plus_w))
    minus = losses(model, couplings, *_split(model, minus_w))
    gp = euclidean_gradients(model, couplings, *_split(model, plus_w))
    gm = euclidean_gradients(model, couplings, *_split(model, minus_w))
    for name in FIELDS:
        fd_grad = (getattr(plus, name) - getattr(minus, name)) / (2 * h)
        np.testing.assert_allclose(getattr(grad, name), fd_grad, rtol=1e-6, atol=1e-6)
        fd_hess = (getattr(gp, name) - getattr(gm, name)) / (2 * h)  # (I, n (step), n)
        np.testing.assert_allclose(getattr(hess, name), fd_hess, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(getattr(hess, name), np.swapaxes(getattr(hess, name), -1, -2))


def _geodesic(w, xi, radius, t):
    """Great circle through w (|w| = radius) with initial velocity xi (tangent at w)."""
    speed = np.linalg.norm(xi)
    if speed == 0:
        return np.broadcast_to(w, np.shape(t) + w.shape)
    t = np.asarray(t)[..., None]
    return w * np.cos(speed * t / radius) + radius * xi / speed * np.sin(speed * t / radius)


def test_riemannian_derivatives_match_finite_differences_along_geodesics(model, couplings):
    rng = np.random.default_rng(4)
    w_d, w_g = random_points(model, (), seed=5)
    E = product_frame(model, w_d, w_g)
    grad = riemannian_gradients(model, couplings, w_d, w_g, frame=True)
    hess = riemannian_hessians(model, couplings, w_d, w_g)
    h = 1e-3
    t = np.array([-2 * h, -h, 0.0, h, 2 * h])
    for _ in range(4):
        c = rng.standard_normal(model.n - 2)
        xi = E @ c
        path_d = _geodesic(w_d, xi[: model.n_d], model.radius_d, t)
        path_g = _geodesic(w_g, xi[model.n_d :], model.radius_g, t)
        np.testing.assert_allclose(np.linalg.norm(path_d, axis=-1), model.radius_d, rtol=1e-13)
        vals = losses(model, couplings, path_d, path_g)
        for name in FIELDS:
            f = getattr(vals, name)  # (I, 5)
            d1 = (-f[:, 4] + 8 * f[:, 3] - 8 * f[:, 1] + f[:, 0]) / (12 * h)
            d2 = (-f[:, 4] + 16 * f[:, 3] - 30 * f[:, 2] + 16 * f[:, 1] - f[:, 0]) / (12 * h**2)
            np.testing.assert_allclose(getattr(grad, name) @ c, d1, rtol=1e-7, atol=1e-7)
            np.testing.assert_allclose(np.einsum("ikl,k,l->i", getattr(hess, name), c, c), d2,
                                       rtol=1e-5, atol=1e-5)


def test_riemannian_gradient_is_tangent_and_matches_frame_coordinates(model, couplings):
    w_d, w_g = random_points(model, 6, seed=6)
    amb = riemannian_gradients(model, couplings, w_d, w_g)
    coords = riemannian_gradients(model, couplings, w_d, w_g, frame=True)
    E = product_frame(model, w_d, w_g)
    for name in FIELDS:
        g = getattr(amb, name)
        scale = np.abs(g).max()
        assert np.abs(np.einsum("ipa,pa->ip", g[..., : model.n_d], w_d)).max() < 1e-12 * scale
        assert np.abs(np.einsum("ipa,pa->ip", g[..., model.n_d :], w_g)).max() < 1e-12 * scale
        np.testing.assert_allclose(np.einsum("pak,ipk->ipa", E, getattr(coords, name)), g, atol=1e-12 * scale)


def test_tangent_frame_is_orthonormal_and_coordinate_at_the_pole():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((50, 5))
    w[0] = [1.0, 1e-9, 0, 0, 0]  # next to the north pole: no cancellation
    w[1] = [-2.0, 0, 0, 0, 0]  # south pole
    w[2] = [3.0, 0, 0, 0, 0]  # north pole of a radius-3 sphere
    E = tangent_frame(w)
    assert E.shape == (50, 5, 4)
    np.testing.assert_allclose(np.swapaxes(E, -1, -2) @ E, np.broadcast_to(np.eye(4), (50, 4, 4)), atol=1e-14)
    assert np.abs(np.einsum("nak,na->nk", E, w)).max() < 1e-13
    np.testing.assert_array_equal(E[2], np.eye(5)[:, 1:])
    with pytest.raises(ParameterError, match="w must be non-zero"):
        tangent_frame(np.zeros(3))
    with pytest.raises(ParameterError, match="radius"):
        tangent_frame(np.ones(3), radius=1.0)


def test_pole_quantities_are_coordinate_blocks_and_satisfy_euler(model, couplings):
    q = pole_quantities(model, couplings)
    w_d, w_g = north_poles(model)
    hess = euclidean_hessians(model, couplings, w_d, w_g)
    tangent = [i for i in range(model.n) if i not in (0, model.n_d)]
    np.testing.assert_allclose(q["hess_l_g"], hess.l_g[:, tangent][:, :, tangent], rtol=1e-13)
    np.testing.assert_allclose(q["jacobian"], kac_rice_jacobian(model, couplings, w_d, w_g), rtol=1e-13)
    # Euler on the product: only the SUM of the radial derivatives is tied to the value.
    np.testing.assert_allclose(q["r_d"] + q["r_g"], model.m * q["l_g"], rtol=1e-12)
    # The Riemannian blocks of the reconstruction (common.md), with the radii made explicit:
    # D block of L_D: Hess l_D - p l_D/R_D^2 - sigma (Hess_DD f - r_D/R_D^2); G block of L_G:
    # sigma (Hess_GG f - r_G/R_G^2); cross block of L_D: -sigma Hess_DG f.
    kd, s = model.n_d - 1, model.sigma_z
    eye_d, eye_g = np.eye(kd), np.eye(model.n_g - 1)
    rd2, rg2 = model.radius_d**2, model.radius_g**2
    expected_dd = (q["hess_l_d"][:, :kd, :kd] - (model.p * q["l_d"] / rd2)[:, None, None] * eye_d
                   - s * (q["hess_l_g"][:, :kd, :kd] - (q["r_d"] / rd2)[:, None, None] * eye_d))
    expected_gg = s * (q["hess_l_g"][:, kd:, kd:] - (q["r_g"] / rg2)[:, None, None] * eye_g)
    np.testing.assert_allclose(q["jacobian"][:, :kd, :kd], expected_dd, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(q["jacobian"][:, kd:, kd:], expected_gg, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(q["jacobian"][:, :kd, kd:], -s * q["hess_l_g"][:, :kd, kd:], rtol=1e-12)
    points = random_points(model, 3, seed=8)
    r = radial_derivatives(model, couplings, *points)
    np.testing.assert_allclose(r.l_d[..., 0], model.p * losses(model, couplings, *points).l_d)
    assert np.all(r.l_d[..., 1] == 0)


def test_symmetrised_jacobian_is_symmetric_with_the_same_abs_det(model, couplings):
    w_d, w_g = random_points(model, 4, seed=9)
    J = kac_rice_jacobian(model, couplings, w_d, w_g)
    Js = kac_rice_jacobian(model, couplings, w_d, w_g, symmetrise=True)
    np.testing.assert_allclose(Js, np.swapaxes(Js, -1, -2), atol=1e-12 * np.abs(Js).max())
    np.testing.assert_allclose(np.abs(np.linalg.det(Js)), np.abs(np.linalg.det(J)), rtol=1e-10)
    assert not np.allclose(J, np.swapaxes(J, -1, -2))
    # J's rows: D rows from Hess L_D, G rows from Hess L_G.
    h = riemannian_hessians(model, couplings, w_d, w_g)
    kd = model.n_d - 1
    np.testing.assert_array_equal(J[..., :kd, :], h.loss_d[..., :kd, :])
    np.testing.assert_array_equal(J[..., kd:, :], h.loss_g[..., kd:, :])


def test_kernels_at_equal_points_are_variances():
    m = SpinGlassModel(3, 3, p=2, q=3, sigma_z=2.0)
    k = loss_covariances(m, 1.0, 1.0)
    assert k["loss_g,loss_g"] == 4.0 * 2**5
    assert k["loss_d,loss_d"] == 1.0 + 4.0 * 2**5
    assert k["loss_d,loss_g"] == -4.0 * 2**5


def test_model_validation_names_the_parameter():
    for kwargs, name in [
        (dict(n_d=1, n_g=3), "n_d"),
        (dict(n_d=3, n_g=2.5), "n_g"),
        (dict(n_d=3, n_g=3, p=1), "p"),
        (dict(n_d=3, n_g=3, q=float("nan")), "q"),
        (dict(n_d=3, n_g=3, sigma_z=0.0), "sigma_z"),
        (dict(n_d=3, n_g=3, radius_g=-1.0), "radius_g"),
    ]:
        with pytest.raises(ParameterError, match=f"^{name} "):
            SpinGlassModel(**kwargs)
    with pytest.raises(ParameterError, match="^kappa "):
        SpinGlassModel.from_kappa(10, 1.0)
    m = SpinGlassModel.from_kappa(10, 0.7)
    assert (m.n_d, m.n_g) == (7, 3)
    assert SpinGlassModel.from_kappa(20, 0.9).n_d == 18


def test_bad_points_and_couplings_raise():
    m = SpinGlassModel(3, 3, 2, 2)
    c = sample_couplings(m, 2, seed=0)
    with pytest.raises(ParameterError, match="w_d"):
        losses(m, c, np.ones(4), np.ones(3))
    with pytest.raises(ParameterError, match="w_g"):
        losses(m, c, np.ones(3), np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ParameterError, match="per_instance"):
        losses(m, c, np.ones((3, 3)), np.ones((3, 3)), per_instance=True)
    with pytest.raises(ParameterError, match="couplings"):
        losses(SpinGlassModel(3, 3, 2, 3), c, np.ones(3), np.ones(3))


def test_memory_limit_states_the_size_needed():
    m = SpinGlassModel(12, 12, 3, 3)
    needed = m.coupling_bytes(1)
    assert needed == (12**3 + 24**6) * 8
    with pytest.raises(ParameterError, match=r"need 1\.42 GiB but only 0\.50 GiB"):
        sample_couplings(m, 1, seed=0, max_bytes=2**29)
    with pytest.raises(ParameterError, match="need"):
        sample_couplings(SpinGlassModel(40, 40, 3, 3), 1, seed=0)


@pytest.mark.slow
def test_largest_supported_size_runs():
    """N_D = N_G = 12 with p + q = 6: one instance, a Kac-Rice Jacobian at a random point."""
    m = SpinGlassModel(12, 12, 3, 3)
    c = sample_couplings(m, 1, seed=0)
    w_d, w_g = random_points(m, (), seed=1)
    J = kac_rice_jacobian(m, c, w_d, w_g, symmetrise=True)
    assert J.shape == (1, 22, 22)
    np.testing.assert_allclose(J, np.swapaxes(J, -1, -2), atol=1e-10 * np.abs(J).max())
    r = radial_derivatives(m, c, w_d, w_g)
    np.testing.assert_allclose(r.l_g.sum(-1), 6 * losses(m, c, w_d, w_g).l_g, rtol=1e-10)


def test_cli_help_lists_model_check_and_json_output(capsys):
    from ganspin.cli import main

    main(["--help"])
    assert "model-check" in capsys.readouterr().out
    main(["model-check", "--json", "--instances", "4000", "--pairs", "2", "--seed", "3"])
    out = json.loads(capsys.readouterr().out)
    assert out["model"]["n_d"] == 4 and out["instances"] == 4000
    assert len(out["checks"]) == 2 * 9
    assert all(set(c) >= {"predicted", "estimate", "standard_error", "z"} for c in out["checks"])
    assert out["passed"] and out["max_abs_z"] < 4
