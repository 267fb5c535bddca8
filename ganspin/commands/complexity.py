"""``ganspin complexity`` (Θ at one threshold pair) and ``ganspin bands`` (Θ, Θ_{k,0}, Θ_{0,k}
and band maps on a grid, written as netCDF) — paper §5-§6.1, MODEL.md §5-§6."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click


def _model_options(f):
    for opt in reversed([
        click.option("--p", "p", default=3, show_default=True, help="Discriminator spin order p."),
        click.option("--q", "q", default=3, show_default=True, help="Generator extra order q."),
        click.option("--kappa", default=0.9, show_default=True, help="N_D / N in (0, 1)."),
        click.option("--sigma-z", "sigma_z", default=1.0, show_default=True, help="Generator noise scale."),
        click.option("--constants", type=click.Choice(["derived", "paper"]), default="derived",
                     show_default=True, help="Constant set (MODEL.md §3)."),
        click.option("--quick", is_flag=True, help="Coarser Φ table and τ search (numerics.complexity.QUICK)."),
    ]):
        f = opt(f)
    return f


def _problem(p, q, kappa, sigma_z, constants):
    from numerics.constants import complexity_problem
    from numerics.params import ModelParams

    return complexity_problem(ModelParams(p, q, kappa, sigma_z), constants)


def _number(value):
    return value if math.isfinite(value) else None


@click.command("complexity")
@_model_options
@click.option("--uD", "u_d", required=True, help="Discriminator loss threshold u_D.")
@click.option("--uG", "u_g", required=True, help="Generator loss threshold u_G.")
@click.option("--kd", "k_d", type=int, default=None, help="Prescribed discriminator index k_D.")
@click.option("--kg", "k_g", type=int, default=None, help="Prescribed generator index k_G.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def complexity(p, q, kappa, sigma_z, constants, quick, u_d, u_g, k_d, k_g, as_json):
    """Θ(u_D, u_G) (or Θ_{kD,kG} with --kd/--kg) and its maximiser."""
    from numerics.complexity import QUICK, ThetaConfig, theta
    from numerics.params import finite

    problem = _problem(p, q, kappa, sigma_z, constants)
    value, argmax = theta(problem, finite("uD", u_d), finite("uG", u_g), k_d, k_g,
                          config=QUICK if quick else ThetaConfig())
    if as_json:
        click.echo(json.dumps({"theta": _number(value), "feasible": math.isfinite(value),
                               "argmax": argmax, "constants": constants}))
        return
    if not math.isfinite(value):
        click.echo("theta = -inf (no critical points with that index below the thresholds)")
        return
    click.echo(f"theta = {value:.10g}")
    for name, v in argmax.items():
        click.echo(f"  {name} = {v:.10g}")


def _grid(text, name):
    """START,STOP,COUNT -> linspace (negative numbers allowed)."""
    import numpy as np

    from numerics.params import ParameterError, finite, integer

    parts = text.split(",")
    if len(parts) != 3:
        raise ParameterError(f"{name} must be START,STOP,COUNT, got {text!r}")
    return np.linspace(finite(name, parts[0]), finite(name, parts[1]), integer(name, parts[2], 2))


@click.command("bands")
@_model_options
@click.option("--ud-grid", default="-30,30,201", show_default=True, help="u_D grid START,STOP,COUNT.")
@click.option("--ug-grid", default="-30,30,201", show_default=True, help="u_G grid START,STOP,COUNT.")
@click.option("--k-max", default=29, show_default=True, help="Largest index considered.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder for theta.nc, bands.nc and claims.json.")
def bands(p, q, kappa, sigma_z, constants, quick, ud_grid, ug_grid, k_max, out_dir):
    """Θ map and the banded structure (largest k_D, k_G with Θ_{kD,kG} > 0) as netCDF, and the
    paper's qualitative claims evaluated on them (claims.json, also printed)."""
    from ganspin.atomic import write_text
    from ganspin.sweeps import write_netcdf
    from numerics.bands import banded_maps, qualitative_claims
    from numerics.complexity import QUICK, ThetaConfig, theta_map

    problem = _problem(p, q, kappa, sigma_z, constants)
    config = QUICK if quick else ThetaConfig()
    u_d, u_g = _grid(ud_grid, "ud-grid"), _grid(ug_grid, "ug-grid")
    theta_ds = theta_map(problem, u_d, u_g, config=config)
    click.echo(f"wrote {write_netcdf(theta_ds, out_dir / 'theta.nc')}")
    bands_ds = banded_maps(problem, u_d, u_g, k_max, config=config)
    click.echo(f"wrote {write_netcdf(bands_ds, out_dir / 'bands.nc')}")
    claims = qualitative_claims(problem, theta_ds, bands_ds, config=config)
    write_text(out_dir / "claims.json", json.dumps(claims, indent=1) + "\n")
    click.echo(json.dumps(claims))
