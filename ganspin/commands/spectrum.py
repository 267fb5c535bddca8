"""``ganspin spectrum`` (density, Stieltjes transform and support of μ_{x1}) and ``ganspin logdet``
(Φ(x, x1) = ∫ log|λ − x| dμ_{x1}) — paper §4-§5, MODEL.md §4-§5.

The ensemble scales come either directly (--b, --b1) or from the model parameters (--p, --q,
--sigma-z, --kappa) through ``numerics.constants.complexity_problem(...).b/.b1`` with the
chosen constant set; the spectral numerics are the same for both constant sets.
"""

from __future__ import annotations

import json

import click


def _numbers(text, name):
    """Comma-separated list of reals (negative values allowed: ``--z=-2.5,-1,0``)."""
    from numerics.params import ParameterError, finite_array

    parts = [t for t in text.split(",") if t.strip()]
    if not parts:
        raise ParameterError(f"{name} must be a comma-separated list of numbers, got {text!r}")
    try:
        values = [float(t) for t in parts]
    except ValueError:
        raise ParameterError(f"{name} must be a comma-separated list of numbers, got {text!r}") from None
    return finite_array(name, values)


def _ensemble_options(f):
    for opt in reversed([
        click.option("--kappa", default=0.9, show_default=True, help="N_D / N in (0, 1)."),
        click.option("--b", "b", default=None, type=str, help="Scale b of the GOE_N part (with --b1)."),
        click.option("--b1", "b1", default=None, type=str, help="Scale b1 of the GOE_{κN} block."),
        click.option("--x1", "x1", required=True, type=str, help="Discriminator-block shift x1."),
        click.option("--p", "p", default=None, type=str, help="Spin order p (instead of --b/--b1) [3]."),
        click.option("--q", "q", default=None, type=str, help="Generator extra order q [3]."),
        click.option("--sigma-z", "sigma_z", default=None, type=str, help="Generator noise scale [1]."),
        click.option("--constants", type=click.Choice(["derived", "paper"]), default="derived",
                     show_default=True, help="Constant set giving b, b1 from p, q, sigma_z, kappa."),
    ]):
        f = opt(f)
    return f


def _scales(kappa, b, b1, p, q, sigma_z, constants):
    """(b, b1, kappa): given directly, or from the model parameters and constant set."""
    from numerics.params import ModelParams, ParameterError, unit_interval
    from numerics.spectrum import check_parameters

    kappa = unit_interval("kappa", kappa)
    model_given = any(v is not None for v in (p, q, sigma_z))
    if b is not None or b1 is not None:
        if model_given:
            raise ParameterError("give either --b/--b1 or --p/--q/--sigma-z, not both")
        if b is None or b1 is None:
            raise ParameterError("--b and --b1 must be given together")
        return check_parameters(b, b1, kappa)
    from numerics.constants import complexity_problem

    defaults = ModelParams()
    params = ModelParams(p if p is not None else defaults.p, q if q is not None else defaults.q,
                         kappa, sigma_z if sigma_z is not None else defaults.sigma_z)
    problem = complexity_problem(params, constants)
    return check_parameters(problem.b, problem.b1, kappa)


@click.command("spectrum")
@_ensemble_options
@click.option("--z", "z", required=True, help="Comma-separated real points (e.g. --z=-2.5,-1,0).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def spectrum(kappa, b, b1, x1, p, q, sigma_z, constants, z, as_json):
    """Limiting spectral density ρ, Stieltjes transform g(z + i0) and support of H(0, x1)."""
    from numerics.params import finite
    from numerics.spectrum import density, stieltjes, support

    b, b1, kappa = _scales(kappa, b, b1, p, q, sigma_z, constants)
    x1 = finite("x1", x1)
    z = _numbers(z, "z")
    rho = density(z, b, b1, kappa, x1)
    g = stieltjes(z, b, b1, kappa, x1)
    intervals = support(b, b1, kappa, x1)
    if as_json:
        click.echo(json.dumps({
            "density": rho.tolist(), "stieltjes_re": g.real.tolist(), "stieltjes_im": g.imag.tolist(),
            "support": [[lo, hi] for lo, hi in intervals], "b": b, "b1": b1, "kappa": kappa, "x1": x1,
        }))
        return
    click.echo(f"b = {b:.10g}, b1 = {b1:.10g}, kappa = {kappa:.10g}, x1 = {x1:.10g}")
    click.echo("support: " + " U ".join(f"[{lo:.10g}, {hi:.10g}]" for lo, hi in intervals))
    click.echo(f"{'z':>16} {'density':>16} {'Re g':>16} {'Im g':>16}")
    for zi, r, gi in zip(z, rho, g):
        click.echo(f"{zi:16.10g} {r:16.10g} {gi.real:16.10g} {gi.imag:16.10g}")


@click.command("logdet")
@_ensemble_options
@click.option("--x", "x", required=True, help="Comma-separated shifts x (e.g. --x=-3,0,2.5).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def logdet(kappa, b, b1, x1, p, q, sigma_z, constants, x, as_json):
    """Coulomb-gas log-determinant Φ(x, x1) = lim (1/N) log E|det H(x, x1)| (paper eq. 170)."""
    from numerics.coulomb import log_potential_grid
    from numerics.params import finite

    b, b1, kappa = _scales(kappa, b, b1, p, q, sigma_z, constants)
    x1 = finite("x1", x1)
    x = _numbers(x, "x")
    phi = log_potential_grid(x, [x1], b, b1, kappa)[0]
    if as_json:
        click.echo(json.dumps({"logdet": phi.tolist(), "b": b, "b1": b1, "kappa": kappa, "x1": x1}))
        return
    click.echo(f"b = {b:.10g}, b1 = {b1:.10g}, kappa = {kappa:.10g}, x1 = {x1:.10g}")
    click.echo(f"{'x':>16} {'logdet':>16}")
    for xi, v in zip(x, phi):
        click.echo(f"{xi:16.10g} {v:16.10g}")
