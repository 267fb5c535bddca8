"""Banded structure (numerics/bands.py; paper §6.1, Figures 6-7; MODEL.md §6) and the
qualitative claims of paper §6.1 (issue 5 item 4) on the project's derived problem."""

import numpy as np
import pytest
import xarray as xr
from test_complexity import FAST, make_problem, phi_stand_in

from numerics.bands import banded_maps, largest_positive_index, qualitative_claims
from numerics.complexity import ThetaConfig, theta, theta_map
from numerics.params import ModelParams


def test_largest_positive_index():
    th = np.array([[1.0, -1.0, 2.0], [0.5, -2.0, -1.0], [0.1, -3.0, 3.0]])
    np.testing.assert_array_equal(largest_positive_index(th), [2, -1, 2])


@pytest.mark.parametrize("n_vars,rule", [(3, "derived"), (2, "paper")])
def test_bands_equal_the_full_k_table(n_vars, rule):
    # a large constant so that several bands are non-empty on the grid
    problem = make_problem(n_vars, rule=rule, log_constant=3.0)
    u_d, u_g = np.linspace(-12, 12, 9), np.linspace(-10, 14, 7)
    k_max = 3
    ds = banded_maps(problem, u_d, u_g, k_max, phi=phi_stand_in, config=FAST)
    full = np.array([[theta_map(problem, u_d, u_g, kd, kg, phi=phi_stand_in, config=FAST).theta.values
                      for kg in range(k_max + 1)] for kd in range(k_max + 1)])
    np.testing.assert_allclose(ds.theta_kd.values, full[:, 0], rtol=1e-12)
    np.testing.assert_allclose(ds.theta_kg.values, full[0, :], rtol=1e-12)
    # largest k_D with Θ_{kD,kG} > 0 for some k_G, straight from the (K+1)² table
    any_kg = (full > 0).any(axis=1)
    np.testing.assert_array_equal(ds.max_k_d.values, largest_positive_index(any_kg.astype(float)))
    any_kd = (full > 0).any(axis=0)
    np.testing.assert_array_equal(ds.max_k_g.values, largest_positive_index(any_kd.astype(float)))
    assert (ds.max_k_d.values >= 1).any() and (ds.max_k_d.values == -1).any()
    # non-increasing in k for k ≥ 1 and bounded by the unprescribed Θ (polished pointwise: the
    # plain map is itself only a grid lower bound)
    assert np.all(np.diff(ds.theta_kd.values[1:], axis=0) <= 1e-12)
    for i, j in [(8, 6), (4, 3), (6, 1), (2, 5)]:
        plain, _ = theta(problem, u_d[i], u_g[j], phi=phi_stand_in, config=FAST)
        assert np.all(ds.theta_kd.values[:, i, j] <= plain + 1e-6)
        assert np.all(ds.theta_kg.values[:, i, j] <= plain + 1e-6)


def test_bands_dataset_roundtrip(tmp_path):
    from ganspin.sweeps import write_netcdf

    problem = make_problem(3, log_constant=3.0)
    ds = banded_maps(problem, np.linspace(-5, 5, 4), np.linspace(-5, 5, 3), 2, phi=phi_stand_in,
                     config=FAST)
    path = write_netcdf(ds, tmp_path / "b.nc")
    back = xr.open_dataset(path, engine="netcdf4")
    xr.testing.assert_allclose(back.load(), ds)
    assert back.attrs["k_max"] == 2 and back.attrs["kappa"] == 0.9


@pytest.fixture(scope="module")
def derived_claims():
    from numerics.complexity import loss_coordinates
    from numerics.constants import complexity_problem

    problem = complexity_problem(ModelParams(3, 3, 0.9, 1.0), "derived")
    sd = loss_coordinates(problem).loss_sd
    u_d, u_g = np.linspace(-3 * sd[0], 3 * sd[0], 31), np.linspace(-3 * sd[1], 3 * sd[1], 31)
    config = ThetaConfig(n_x=600, n_x1=80, n_tau=13, golden_steps=16)
    theta_ds = theta_map(problem, u_d, u_g, config=config)
    bands_ds = banded_maps(problem, u_d, u_g, 2, config=config)
    return problem, theta_ds, qualitative_claims(problem, theta_ds, bands_ds, config=config), config


def test_derived_claims_monotone_saturating_ground_state(derived_claims):
    """Paper §6.1 claims that hold for the derived constants (p = q = 3, κ = 0.9, σ_z = 1):
    Θ is non-decreasing in u_D and u_G, saturates at Θ_total = C + Φ(0, 0) for large thresholds,
    and is negative at low losses (a ground-state boundary exists)."""
    problem, theta_ds, claims, _ = derived_claims
    assert claims["monotone"] and claims["ground_state"]
    # the gap may be slightly negative: the map interpolates Φ, Θ_total uses it in closed form
    assert claims["theta_total"] > 0 and abs(claims["saturation_gap"]) < 1e-3
    th = theta_ds.theta.values
    assert th[0, 0] < 0 and th[0, -1] < 0 and th[-1, 0] < 0


def test_derived_minima_band_is_empty(derived_claims):
    """What does NOT hold with the derived constants: Θ_{0,0} < 0 for every threshold pair, so
    there is no k_D = k_G = 0 band and no traversal of minima from 'low u_G / high u_D' to
    'high u_G / low u_D' (issue 5 item 4); the published constants give one."""
    problem, _, claims, config = derived_claims
    assert not claims["minima_region"] and claims["max_k_d"] == -1 and claims["max_k_g"] == -1
    value, arg = theta(problem, 400.0, 400.0, 0, 0, config=config)
    assert value < 0
    # both block-edge conditions bind: the shifts sit on the edges
    assert arg["x"] + arg["x1"] == pytest.approx(-problem.edge_d, abs=1e-6)
    assert arg["x"] == pytest.approx(problem.edge_g, abs=1e-6)
