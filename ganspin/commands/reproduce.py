"""``ganspin reproduce``: every figure, the audit, the Monte Carlo checks and one report."""

import sys
from pathlib import Path

import click


@click.command("reproduce")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="Run folder; re-running with the same folder reuses finished stages.")
@click.option("--quick", "resolution", flag_value="quick", default=True,
              help="Quick resolution (default; about 15 minutes on two cores).")
@click.option("--full", "resolution", flag_value="full",
              help="The paper's resolutions and protocol (hours; CIFAR-10 via --data-dir).")
@click.option("--tiny", "resolution", flag_value="tiny", help="Smoke-test resolution (CI).")
@click.option("--constants", type=click.Choice(["derived", "paper"]), default="derived", show_default=True)
@click.option("--no-gan", is_flag=True, help="Skip the DCGAN experiments (figures 8 and 9).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="CIFAR-10 python-batches folder for the GAN experiments (default: offline digits).")
@click.option("--scheduler", default=None, help="Address of an existing Dask scheduler for the sweeps.")
@click.option("--cluster", type=click.Choice(["pbs", "slurm"]), default=None,
              help="Run the sweeps on a PBS or SLURM cluster through dask-jobqueue.")
@click.option("--workers", type=int, default=None, help="Dask workers (or cluster jobs) for the sweeps.")
def reproduce(out_dir, resolution, constants, no_gan, data_dir, scheduler, cluster, workers):
    """Run every stage of the paper's pipeline into OUT and write OUT/report.md and report.html."""
    from ganspin.reproduce import ReproduceConfig, StageError, reproduce as run

    cfg = ReproduceConfig(out_dir=out_dir, resolution=resolution, constants=constants, gan=not no_gan,
                          data="cifar10" if data_dir else "digits", data_dir=data_dir,
                          scheduler=scheduler, cluster=cluster, workers=workers)
    try:
        paths = run(cfg, echo=lambda msg: click.echo(msg, err=True))
    except StageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for path in paths:
        click.echo(f"wrote {path}")
