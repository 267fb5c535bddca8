"""``ganspin sweep sigma|kappa``: the theory sweeps of paper §6.2 (MODEL.md §7) on Dask,
resumable, into one netCDF store (see :mod:`ganspin.sweeps`, :mod:`ganspin.theory_sweeps`)."""

import json
from pathlib import Path

import click


def _int_list(ctx, param, value):
    from numerics.params import ParameterError

    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise ParameterError(f"{param.name} must be a comma-separated list of integers, got {value!r}") from None


@click.command("sweep")
@click.argument("kind", type=click.Choice(["sigma", "kappa"]))
@click.option("--p", "p", default="5", show_default=True, callback=_int_list, help="Comma list of p.")
@click.option("--q", "q", default="5", show_default=True, callback=_int_list, help="Comma list of q.")
@click.option("--points", type=int, default=None, help="Grid points [default: 60 for sigma, 50 for kappa].")
@click.option("--kappa", type=float, default=None, help="Fixed kappa of a sigma sweep [default: 0.9].")
@click.option("--sigma-z", "sigma_z", type=float, default=None, help="Fixed sigma_z of a kappa sweep [default: 1].")
@click.option("--constants", type=click.Choice(["derived", "paper"]), default="derived", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Store path [default: sweep_<kind>_<constants>.nc].")
@click.option("--scheduler", default=None, help="Address of an existing Dask scheduler, or 'synchronous'.")
@click.option("--cluster", type=click.Choice(["pbs", "slurm"]), default=None,
              help="Submit workers through dask-jobqueue (configure it in jobqueue.yaml).")
@click.option("--workers", type=int, default=None, help="Workers (local cores by default; jobs for --cluster).")
@click.option("--json", "as_json", is_flag=True, help="Print the boundary curves as one JSON object.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sweep(kind, p, q, points, kappa, sigma_z, constants, out, scheduler, cluster, workers, as_json, quiet):
    """Theory sweep over sigma_z (KIND=sigma) or kappa (KIND=kappa): min u_D, min u_G,
    min (u_D + u_G) over {Theta > 0} and max |u_D - u_G| on its Pareto boundary, with argmins."""
    from ganspin.sweeps import run_sweep
    from ganspin.theory_sweeps import SWEEP_KAPPA, SWEEP_SIGMA_Z, TheorySweepConfig, theory_sweep

    config = TheorySweepConfig(kind=kind, p=p, q=q, points=points, constants=constants,
                               kappa=SWEEP_KAPPA if kappa is None else kappa,
                               sigma_z=SWEEP_SIGMA_Z if sigma_z is None else sigma_z)
    spec = theory_sweep(config)
    out = out or Path(f"sweep_{kind}_{constants}.nc")
    ds = run_sweep(spec, out, scheduler=scheduler, cluster=cluster, workers=workers,
                   progress=not quiet and not as_json)
    if as_json:
        names = ["min_u_d", "min_u_g", "min_sum", "max_abs_diff", "published_box_clips"]
        click.echo(json.dumps({"store": str(out), "coords": {k: ds[k].values.tolist() for k in spec.coords},
                               **{n: ds[n].values.tolist() for n in names}}))
    else:
        click.echo(f"wrote {out}")
