"""Theory sweeps (ganspin/theory_sweeps.py, ganspin sweep, figures 8t/9t): exact boundaries on
objectives with closed-form answers, brute force on a non-quadratic one, the real pipeline at
a few points, spec validation and the CLI (issue 6)."""

import json

import numpy as np
import pytest

from ganspin.cli import main
from ganspin.theory_sweeps import (KAPPA_POINTS, SIGMA_POINTS, TheorySweepConfig, loss_boundaries,
                                   problem_boundaries, theory_sweep)
from numerics.params import ParameterError


def quadratic(c0, mean, a):
    def objective(l_d, l_g):
        d0, d1 = l_d - mean[0], l_g - mean[1]
        return c0 - 0.5 * (a[0, 0] * d0 * d0 + 2 * a[0, 1] * d0 * d1 + a[1, 1] * d1 * d1)
    return objective


def ellipse_minimum(c0, mean, a, c):
    """argmin of c·l over {c0 - ½(l-m)ᵀA(l-m) > 0}: m - sqrt(2 c0 / cᵀA⁻¹c) A⁻¹c."""
    ai = np.linalg.inv(a)
    c = np.asarray(c, dtype=float)
    return mean - np.sqrt(2 * c0 / (c @ ai @ c)) * ai @ c


@pytest.mark.parametrize("seed", range(4))
def test_quadratic_objective_exact(seed):
    rng = np.random.default_rng(seed)
    scales = np.exp(rng.uniform(-5, 3, 2))  # ill-conditioned like l_D vs l_G at small sigma_z
    corr = rng.uniform(-0.9, 0.9)
    cov = np.array([[1, corr], [corr, 1]]) * np.outer(scales, scales)
    a = np.linalg.inv(cov) * rng.uniform(0.5, 2.0)
    mean = rng.normal(size=2) * scales
    c0 = rng.uniform(0.1, 3.0)
    # The search only takes the covariance as a scale: give it a deliberately wrong one.
    out = loss_boundaries(quadratic(c0, mean, a), cov * rng.uniform(0.3, 3.0))
    tol = 1e-7 * scales.max()
    assert out["theta_total"] == pytest.approx(c0, abs=1e-10)
    np.testing.assert_allclose([out["total_argmax_l_d"], out["total_argmax_l_g"]], mean, atol=1e-6 * scales.max())
    d = ellipse_minimum(c0, mean, a, (1, 0))
    g = ellipse_minimum(c0, mean, a, (0, 1))
    s = ellipse_minimum(c0, mean, a, (1, 1))
    assert out["min_u_d"] == pytest.approx(d[0], abs=tol)
    assert out["min_u_g"] == pytest.approx(g[1], abs=tol)
    assert out["min_sum"] == pytest.approx(s.sum(), abs=tol)
    # Argmins sit where F is flat along the level line: accurate to sqrt of the value tolerance.
    assert out["min_u_d_at_u_g"] == pytest.approx(d[1], abs=1e-4 * scales.max())
    assert out["min_u_g_at_u_d"] == pytest.approx(g[0], abs=1e-4 * scales.max())
    assert out["max_abs_diff"] == pytest.approx(max(abs(d[0] - d[1]), abs(g[0] - g[1])), abs=1e-4 * scales.max())


def test_empty_region_gives_nan():
    out = loss_boundaries(quadratic(-0.1, np.zeros(2), np.eye(2)), np.eye(2))
    assert out["theta_total"] == pytest.approx(-0.1)
    assert np.isnan(out["min_u_d"]) and np.isnan(out["max_abs_diff"])


def test_lower_component_is_found():
    """S = two discs, the lower one (centre -5, radius 1) smaller: the minimum u_D is -6, not
    the edge -sqrt(2) of the disc that holds the global maximum."""
    def two_bumps(l_d, l_g):
        main_disc = 1.0 - 0.5 * (l_d ** 2 + l_g ** 2)
        low_disc = 0.5 - 0.5 * ((l_d + 5.0) ** 2 + l_g ** 2)
        return np.maximum(main_disc, low_disc)

    out = loss_boundaries(two_bumps, np.eye(2))
    assert out["min_u_d"] == pytest.approx(-6.0, abs=1e-7)
    assert out["min_u_g"] == pytest.approx(-np.sqrt(2.0), abs=1e-7)


def test_non_quadratic_objective_against_brute_force():
    """Brute force on a fine grid: Θ = 2-D cumulative max of F; the boundary quantities are
    read off {Θ > 0} (its Pareto boundary = minimal grid cells)."""
    a = np.array([[1.5, 0.4], [0.4, 0.8]])

    def objective(l_d, l_g):
        return 1.2 - 0.5 * (a[0, 0] * l_d ** 2 + 2 * a[0, 1] * l_d * l_g + a[1, 1] * l_g ** 2) \
            + 0.3 * np.sin(2 * l_d) + 0.2 * np.cos(3 * l_g + 1)

    out = loss_boundaries(objective, np.linalg.inv(a))
    grid = np.linspace(-4, 4, 1601)
    h = grid[1] - grid[0]
    ld, lg = np.meshgrid(grid, grid, indexing="ij")
    positive = objective(ld, lg) > 0
    assert out["min_u_d"] == pytest.approx(ld[positive].min(), abs=h)
    assert out["min_u_g"] == pytest.approx(lg[positive].min(), abs=h)
    assert out["min_sum"] == pytest.approx((ld + lg)[positive].min(), abs=2 * h)
    theta = np.maximum.accumulate(np.maximum.accumulate(objective(ld, lg), axis=0), axis=1)
    up = theta > 0
    below_d = np.zeros_like(up)
    below_d[1:] = up[:-1]
    below_g = np.zeros_like(up)
    below_g[:, 1:] = up[:, :-1]
    pareto = up & ~below_d & ~below_g
    assert pareto.sum() > 10
    brute = np.abs(ld - lg)[pareto].max()
    # The Pareto ends are tangency points: a grid locates them only to O(sqrt(h)).
    assert out["max_abs_diff"] == pytest.approx(brute, abs=np.sqrt(h))


@pytest.mark.parametrize("constants, sigma_z", [("derived", 0.03), ("derived", 3.0), ("paper", 1.0)])
def test_real_boundaries_are_zeros_of_the_objective(constants, sigma_z):
    """At each boundary point F = 0 (to the table accuracy), just below it F < 0 for every
    partner loss, and the up-set ordering holds."""
    from numerics.complexity import loss_space_objective
    from numerics.constants import complexity_problem
    from numerics.params import ModelParams
    from numerics.spectrum import log_potential

    problem = complexity_problem(ModelParams(3, 3, 0.9, sigma_z), constants)
    out = problem_boundaries(problem, 200, 40)
    assert out["theta_total"] > 0

    def exact(x, x1):
        return log_potential(x, problem.b, problem.b1, problem.kappa, x1)

    for l_d, l_g in [("min_u_d", "min_u_d_at_u_g"), ("min_u_g_at_u_d", "min_u_g"),
                     ("min_sum_at_u_d", "min_sum_at_u_g")]:
        value = loss_space_objective(problem, np.array([out[l_d]]), np.array([out[l_g]]), phi=exact)
        assert abs(value[0]) < 1e-8, (l_d, value)
    scale = abs(out["min_u_d"]) + 1.0
    partners = out["min_u_d_at_u_g"] + scale * np.linspace(-3, 3, 61)
    below = loss_space_objective(problem, np.full(61, out["min_u_d"] - 1e-3 * scale), partners, phi=exact)
    assert below.max() < 0
    assert out["min_sum"] >= out["min_u_d"] + out["min_u_g"] - 1e-9
    assert out["max_abs_diff"] >= max(abs(out["min_u_d"] - out["min_u_d_at_u_g"]),
                                      abs(out["min_u_g_at_u_d"] - out["min_u_g"])) - 1e-12
    assert out["phi_tables"] >= 1 and out["phi_queries"] > 0


def test_sweep_specs():
    sigma = theory_sweep(TheorySweepConfig("sigma", p=(2, 3), q=(5,)))
    assert sigma.shape == (2, 1, 1, SIGMA_POINTS)
    assert sigma.coords["sigma_z"][0] == pytest.approx(1e-5) and sigma.coords["sigma_z"][-1] == pytest.approx(100)
    assert sigma.coords["kappa"] == [0.9]
    kappa = theory_sweep(TheorySweepConfig("kappa"))
    assert kappa.shape == (1, 1, KAPPA_POINTS, 1)
    assert kappa.coords["kappa"][0] == pytest.approx(0.05) and kappa.coords["kappa"][-1] == pytest.approx(0.95)
    assert theory_sweep(TheorySweepConfig("sigma", constants="paper")).key(sigma.points()[0]) != \
        theory_sweep(TheorySweepConfig("sigma")).key(sigma.points()[0])


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "sigma", "kappa": 1.0}, "kappa"),
    ({"kind": "kappa", "sigma_z": -0.5}, "sigma_z"),
    ({"kind": "sigma", "points": 0}, "points"),
    ({"kind": "sigma", "p": (1,)}, "p"),
    ({"kind": "sigma", "constants": "published"}, "constants"),
    ({"kind": "beta"}, "kind"),
])
def test_bad_theory_specs(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        TheorySweepConfig(**kwargs)


def test_cli_sweep_json(tmp_path, capsys):
    store = tmp_path / "s.nc"
    main(["sweep", "kappa", "--p", "3", "--q", "3", "--points", "2", "--out", str(store),
          "--sigma-z", "2", "--scheduler", "synchronous", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["coords"]["kappa"] == pytest.approx([0.05, 0.95]) and out["coords"]["sigma_z"] == [2.0]
    assert np.all(np.isfinite(out["min_u_d"])) and store.exists()
    assert np.all(np.array(out["min_sum"]) >= np.array(out["min_u_d"]) + np.array(out["min_u_g"]) - 1e-9)


@pytest.mark.torture  # ~1-2 min: thousands of small closed-form Φ calls (per-call overhead)
def test_small_sigma_derived_point():
    from ganspin.theory_sweeps import theory_point

    for constants in ("derived", "paper"):
        out = theory_point({"p": 3, "q": 3, "kappa": 0.9, "sigma_z": 1e-5}, constants, 200, 40)
        assert out["error"] == "" and np.isfinite(out["min_u_g"])


@pytest.mark.parametrize("args, message", [
    (["sweep", "kappa", "--sigma-z=-1"], "sigma_z"),
    (["sweep", "sigma", "--kappa", "1"], "kappa"),
    (["sweep", "sigma", "--p", "2,x"], "p"),
    (["sweep", "sigma", "--cluster", "pbs", "--scheduler", "tcp://x:1"], "not both"),
])
def test_cli_bad_input(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(args + ["--out", str(tmp_path / "bad.nc")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and "Traceback" not in err
    assert not (tmp_path / "bad.nc.parts").exists()


def test_figures_8t_9t(tmp_path, monkeypatch):
    """The theory figures, at 3 points a sweep, through the default LocalCluster path."""
    import ganspin.figs_sweeps as figs
    from ganspin.figures import FIGURES

    assert FIGURES["8t"] == "ganspin.figs_sweeps:figure_8t" and FIGURES["9t"] == "ganspin.figs_sweeps:figure_9t"
    import ganspin.theory_sweeps as theory

    monkeypatch.setattr(figs, "QUICK_POINTS", {"sigma": 3, "kappa": 3})
    # Below sigma_z ~ 1e-4 each point costs ~1 min (closed-form Φ near the narrow G-block cluster).
    monkeypatch.setattr(theory, "SIGMA_RANGE", (1e-2, 1e2))
    paths = figs.figure_8t(tmp_path) + figs.figure_9t(tmp_path, constants="paper")
    assert sorted(p.name for p in paths) == ["figure_8t.pdf", "figure_8t.png", "figure_9t.pdf", "figure_9t.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert len(list(tmp_path.glob("sweep_*.nc"))) == 2
