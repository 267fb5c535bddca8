"""``ganspin model-check``: Monte Carlo covariances of L_D, L_G vs the kernels of MODEL.md §1."""

import json
import sys
from dataclasses import asdict

import click


@click.command("model-check")
@click.option("--n-d", default="4", show_default=True, metavar="INT", help="Discriminator weights N_D.")
@click.option("--n-g", default="3", show_default=True, metavar="INT", help="Generator weights N_G.")
@click.option("--kappa", default=None, metavar="FLOAT",
              help="Size ratio in (0, 1): with --n, sets N_D = floor(kappa N), N_G = N - N_D.")
@click.option("--n", "n_total", default="8", show_default=True, metavar="INT",
              help="Total weights N (used with --kappa).")
@click.option("--p", default="2", show_default=True, metavar="INT", help="Discriminator spin order p.")
@click.option("--q", default="2", show_default=True, metavar="INT", help="Generator extra order q.")
@click.option("--sigma-z", default="0.7", show_default=True, metavar="FLOAT", help="Generator noise scale.")
@click.option("--radius-d", default="1", show_default=True, metavar="FLOAT", help="Radius of the w_D sphere.")
@click.option("--radius-g", default="1", show_default=True, metavar="FLOAT", help="Radius of the w_G sphere.")
@click.option("--instances", default="20000", show_default=True, metavar="INT", help="Independent instances.")
@click.option("--pairs", default="3", show_default=True, metavar="INT", help="Random pairs of points.")
@click.option("--seed", default="0", show_default=True, metavar="INT", help="Seed of points and couplings.")
@click.option("--tolerance", default="4", show_default=True, metavar="FLOAT",
              help="Exit 1 if any |z| exceeds this.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--progress", is_flag=True, help="Show a progress bar.")
def model_check(n_d, n_g, kappa, n_total, p, q, sigma_z, radius_d, radius_g, instances, pairs, seed,
                tolerance, as_json, progress):
    """Sample the finite-N model and compare covariances of L_D and L_G at random pairs of
    points with the kernels (w_D.w_D')^p + sigma_z^2 (w.w')^(p+q) etc., with z-scores."""
    from numerics.model import SpinGlassModel
    from numerics.montecarlo import loss_covariance_check
    from numerics.params import integer, positive

    if kappa is None:
        model = SpinGlassModel(n_d, n_g, p, q, sigma_z, radius_d, radius_g)
    else:
        model = SpinGlassModel.from_kappa(n_total, kappa, p, q, sigma_z, radius_d, radius_g)
    instances = integer("instances", instances, 2)
    seed = integer("seed", seed, 0)
    tolerance = positive("tolerance", tolerance)
    checks = loss_covariance_check(model, instances, integer("pairs", pairs, 1), seed, progress=progress)
    max_z = max(abs(c.z) for c in checks)
    beyond = sum(abs(c.z) > 3 for c in checks)
    passed = max_z <= tolerance
    if as_json:
        click.echo(json.dumps({
            "model": {"n_d": model.n_d, "n_g": model.n_g, "p": model.p, "q": model.q,
                      "sigma_z": model.sigma_z, "radius_d": model.radius_d, "radius_g": model.radius_g},
            "instances": instances,
            "seed": seed,
            "checks": [asdict(c) for c in checks],
            "max_abs_z": max_z,
            "beyond_3se": beyond,
            "tolerance": tolerance,
            "passed": passed,
        }))
    else:
        click.echo(f"model n_d={model.n_d} n_g={model.n_g} p={model.p} q={model.q} sigma_z={model.sigma_z:g} "
                   f"radii=({model.radius_d:g}, {model.radius_g:g}); {instances} instances, seed {seed}")
        click.echo(f"{'pair':>4} {'quantity':<22} {'w_D.w_D':>8} {'w_G.w_G':>8} {'kernel':>10} "
                   f"{'MC':>10} {'SE':>8} {'z':>6}")
        for c in checks:
            qd = "" if c.overlap_d is None else f"{c.overlap_d:8.3f}"
            qg = "" if c.overlap_g is None else f"{c.overlap_g:8.3f}"
            click.echo(f"{c.pair:>4} {c.quantity:<22} {qd:>8} {qg:>8} {c.predicted:10.4f} "
                       f"{c.estimate:10.4f} {c.standard_error:8.4f} {c.z:6.2f}")
        click.echo(f"max |z| = {max_z:.2f}; {beyond} of {len(checks)} beyond 3 SE; "
                   f"{'PASS' if passed else 'FAIL'} (tolerance {tolerance:g})")
    if not passed:
        sys.exit(1)
