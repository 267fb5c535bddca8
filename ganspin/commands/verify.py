"""``ganspin verify kac-rice``: direct critical-point counts vs the finite-N Kac-Rice prediction."""

import json
from pathlib import Path

import click


@click.group("verify")
def verify():
    """End-to-end checks of the theory against the finite-N model."""


@verify.command("kac-rice")
@click.option("--quick", is_flag=True, help="Two torus configurations, fewer instances.")
@click.option("--config", "configurations", multiple=True, metavar="N,P,Q,SIGMA_Z",
              help="A configuration n_d=n_g=N, p, q, sigma_z (repeatable); default: the standard set.")
@click.option("--instances", type=int, default=None, help="Instances per configuration.")
@click.option("--starts", type=int, default=None, help="Newton starts per instance (n >= 3).")
@click.option("--samples", type=int, default=None, help="Kac-Rice Monte Carlo draws.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the JSON result to this file (atomically, after each configuration); "
                   "rerunning with the same settings resumes from it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def kac_rice(quick, configurations, instances, starts, samples, seed, out_path, as_json):
    """Mean number of joint critical points: direct count vs exact finite-N Kac-Rice (derived and
    published constants), total, below loss thresholds and by Hessian indices."""
    from dataclasses import replace

    from ganspin.verification import KacRiceCheckConfig, run_check, summary_table
    from numerics.params import ParameterError, finite, integer

    config = KacRiceCheckConfig.quick() if quick else KacRiceCheckConfig()
    changes = {"seed": seed}
    if configurations:
        parsed = []
        for text in configurations:
            parts = text.split(",")
            if len(parts) != 4:
                raise ParameterError(f"--config must be N,P,Q,SIGMA_Z, got {text!r}")
            n, p, q = (integer(name, v, 2) for name, v in zip(("n", "p", "q"), parts[:3]))
            sigma = finite("sigma_z", parts[3])
            if sigma <= 0:
                raise ParameterError(f"sigma_z must be > 0, got {parts[3]!r}")
            parsed.append((n, p, q, sigma))
        changes["configurations"] = tuple(parsed)
    if instances is not None:
        changes["torus_instances"] = changes["sphere_instances"] = instances
    if starts is not None:
        changes["starts"] = starts
    if samples is not None:
        changes["kac_rice_samples"] = samples
    config = replace(config, **changes)
    result = run_check(config, progress=not as_json, out_path=out_path)
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(summary_table(result))
