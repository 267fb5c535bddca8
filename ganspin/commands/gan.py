"""``ganspin gan``: DCGAN runs and the σ_z / κ experiments of the paper's §6.2 (MODEL.md §7).

torch and the gan package are imported inside the commands so that ``ganspin --help`` stays light.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ganspin.atomic import atomic_path
from numerics.params import ParameterError, integer, positive, unit_interval

PROFILE_CHOICE = click.Choice(["quick", "paper"])
DATA_CHOICE = click.Choice(["cifar10", "digits"])


def _run_options(f):
    """Options shared by ``train`` and ``sweep``: profile, data and the generator variant."""
    options = [
        click.option("--profile", type=PROFILE_CHOICE, default="quick", show_default=True,
                     help="quick: 16×16 digits on a CPU; paper: 64×64 CIFAR-10, the published protocol."),
        click.option("--data", type=DATA_CHOICE, default=None,
                     help="Training images [default: digits for quick, cifar10 for paper]."),
        click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                     help="Folder with the CIFAR-10 python batches (data_batch_1..5, test_batch, batches.meta)."),
        click.option("--iterations", type=str, default=None,
                     help="Training iterations per run [default: the profile's; paper: 10 epochs]."),
        click.option("--width", type=str, default=None,
                     help="Total feature width split as ndf = floor(width·κ), ngf = width − ndf [profile's]."),
        click.option("--no-first-batchnorm", is_flag=True,
                     help="Remove the generator's first BatchNorm (MODEL.md §7 Check)."),
        click.option("--bn-eps", type=str, default="1e-5", show_default=True,
                     help="BatchNorm eps of the generator (MODEL.md §7 Check)."),
        click.option("--seed", type=str, default="0", show_default=True, help="Base seed (rep r uses seed + r)."),
        click.option("--device", type=str, default=None, help="torch device [default: cuda if present, else cpu]."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object to stdout."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _settings(profile, data, iterations, width, no_first_batchnorm, bn_eps, seed):
    from gan.experiments import RunSettings

    return _gan_call(
        RunSettings,
        profile=profile, data=data,
        iterations=None if iterations is None else integer("iterations", iterations, 1),
        total_width=None if width is None else integer("width", width, 2),
        first_batchnorm=not no_first_batchnorm, bn_eps=positive("bn-eps", bn_eps),
        seed=integer("seed", seed, 0))


def _gan_call(fn, *args, **kwargs):
    """Call into gan/, turning its ValueErrors (bad sizes, κ too extreme for the width) into
    ParameterError so that the CLI prints one line and exits 2."""
    try:
        return fn(*args, **kwargs)
    except ParameterError:
        raise
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


@click.group("gan")
def gan():
    """DCGAN experiments: one training run, or the σ_z / κ sweeps of Figures 8-9."""


@gan.command("train")
@_run_options
@click.option("--sigma-z", type=str, default="1", show_default=True, help="Generator noise scale σ_z.")
@click.option("--kappa", type=str, default="0.9", show_default=True, help="Width split κ.")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Checkpoint file: written during training, resumed from if present.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/gan-train"),
              show_default=True, help="Folder for losses.npz and samples.png.")
def train_command(profile, data, data_dir, iterations, width, no_first_batchnorm, bn_eps, seed, device,
                  as_json, sigma_z, kappa, checkpoint, out_dir):
    """Train one DCGAN and record per-iteration L_D (real + fake BCE) and L_G."""
    import os

    import numpy as np
    import torch
    from tqdm.auto import tqdm

    from gan.data import load_images
    from gan.experiments import loss_summaries, profile as get_profile
    from gan.train import select_device, train

    settings = _settings(profile, data, iterations, width, no_first_batchnorm, bn_eps, seed)
    config = _gan_call(settings.train_config, positive("sigma-z", sigma_z), unit_interval("kappa", kappa), 0)
    prof = get_profile(profile)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    images = _gan_call(load_images, settings.data, prof.image_size, data_dir)
    total = _gan_call(config.total_iterations, len(images))
    with tqdm(total=total, desc="train", unit="it", disable=as_json) as bar:
        result = _gan_call(train, config, images, device=device, checkpoint=checkpoint,
                           callback=lambda it, ld, lg: (bar.update(1), bar.set_postfix(L_D=f"{ld:.3f}", L_G=f"{lg:.3f}")))
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "losses.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, loss_d=result.loss_d, loss_g=result.loss_g)
    _save_png(result.samples, out_dir / "samples.png")
    summary = {"device": str(select_device(device)), "iterations": total, "sigma_z": config.sigma_z,
               "kappa": config.arch.kappa, "ndf": config.arch.ndf, "ngf": config.arch.ngf,
               "pixel_std": images.pixel_std, "out": str(out_dir)}
    for net, curve in (("d", result.loss_d), ("g", result.loss_g)):
        for stat, value in loss_summaries(curve, prof.smooth_window, prof.tail_fraction).items():
            summary[f"{stat}_loss_{net}"] = value
    if as_json:
        click.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            click.echo(f"{key:>20}: {value}")


def _save_png(image, path: Path) -> None:
    from ganspin.plotting import plt

    with atomic_path(path) as tmp:
        plt.imsave(tmp, image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)


@gan.command("sweep")
@click.argument("experiment", type=click.Choice(["sigma", "kappa"]))
@_run_options
@click.option("--reps", type=str, default=None, help="Repetitions per point [profile's: quick 3, paper 30].")
@click.option("--points", type=str, default=None, help="Swept values [profile's: σ_z quick 8 / paper 60, κ 8 / 50].")
@click.option("--kappa", type=str, default="0.9", show_default=True, help="Fixed κ of the σ_z sweep.")
@click.option("--sigma-z", type=str, default="1", show_default=True, help="Fixed σ_z of the κ sweep.")
@click.option("--out", "store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="netCDF store [default: runs/gan-<experiment>-<profile>[-variant].nc]; resumable.")
@click.option("--workers", type=str, default=None, help="Dask workers [default: the available cores].")
@click.option("--scheduler", type=str, default=None,
              help="Dask scheduler address, or 'synchronous' to run in this process.")
def sweep_command(experiment, profile, data, data_dir, iterations, width, no_first_batchnorm, bn_eps, seed,
                  device, as_json, reps, points, kappa, sigma_z, store, workers, scheduler):
    """Run (or resume) the σ_z or κ sweep and print the per-value summary over repetitions."""
    from gan.experiments import KappaSweepConfig, SigmaSweepConfig, run_experiment, summarise

    settings = _settings(profile, data, iterations, width, no_first_batchnorm, bn_eps, seed)
    common = {"run": settings,
              "points": None if points is None else integer("points", points, 1),
              "reps": None if reps is None else integer("reps", reps, 1)}
    if experiment == "sigma":
        config = SigmaSweepConfig(**common, kappa=unit_interval("kappa", kappa))
    else:
        config = KappaSweepConfig(**common, sigma_z=positive("sigma-z", sigma_z))
    if store is None:
        store = Path("runs") / f"gan-{experiment}-{profile}{variant_suffix(settings)}.nc"
    ds = _gan_call(run_experiment, config, store, data_dir=data_dir, scheduler=scheduler,
                   workers=None if workers is None else integer("workers", workers, 1),
                   device=device, progress=not as_json)
    _print_summary(summarise(ds), store, as_json)


def variant_suffix(settings) -> str:
    """Store-name suffix for the generator variants of the MODEL.md §7 Check."""
    suffix = "" if settings.first_batchnorm else "-nofirstbn"
    return suffix + ("" if settings.bn_eps == 1e-5 else f"-eps{settings.bn_eps:g}")


@gan.command("summary")
@click.argument("store", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object to stdout.")
def summary_command(store, as_json):
    """Print the per-value summary (mean ± s.e. over repetitions) of a finished sweep store."""
    from ganspin.sweeps import open_store
    from gan.experiments import summarise

    if not store.is_file():
        raise FileNotFoundError(2, "no such sweep store", str(store))
    _print_summary(summarise(open_store(store)), store, as_json)


STATS = ("min", "smooth_min", "final")


def _print_summary(summary, store: Path, as_json: bool) -> None:
    import numpy as np

    swept = summary.attrs["config_experiment"]
    values = summary[swept].values.tolist()
    if as_json:
        def plain(array):  # NaN (one repetition has no standard error) is not JSON
            return [None if np.isnan(v) else float(v) for v in np.asarray(array, dtype=float)]

        click.echo(json.dumps({"store": str(store), "swept": swept, swept: values,
                               **{name: plain(summary[name].values) for name in summary.data_vars}}))
        return
    click.echo(f"store: {store}: mean ± s.e. over {summary.attrs['repetitions']} repetitions; min = raw "
               f"per-iteration minimum, smooth_min = min of the rolling mean, final = end-of-training mean")
    header = (f"{swept:>10} " + " ".join(f"{f'{s}_L{n}':>18}" for n in ("D", "G") for s in STATS)
              + f" {'argmin_it_LG':>12}")
    click.echo(header)
    for i, v in enumerate(values):
        cells = []
        for net in ("d", "g"):
            for stat in STATS:
                mean = summary[f"{stat}_loss_{net}_mean"].values[i]
                sem = summary[f"{stat}_loss_{net}_sem"].values[i]
                cells.append(f"{mean:9.4f} ± {sem:6.4f}")
        argmin = summary["argmin_iteration_g_mean"].values[i]
        click.echo(f"{v:10.3g} " + " ".join(f"{c:>18}" for c in cells) + f" {argmin:12.1f}")
