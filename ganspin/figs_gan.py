"""Figures 8 and 9 (paper §6.2; MODEL.md §7): DCGAN experiment and theory side by side.

Each figure has a discriminator and a generator panel. The left axis carries the theory
(min u_D or min u_G over {Θ > 0}, from a theory sweep store written by ``ganspin sweep``), the
twin right axis the experiment (from a ``ganspin gan sweep`` store): the paper's statistic,
the mean over repetitions of each run's minimum loss smoothed by a rolling mean over 5
neighbouring values, with ± one standard error over repetitions, and beside it the
end-of-training loss (mean over the last 10% of iterations), which single-batch spikes do not
dominate.

Stores (all in the figure's output folder, so a re-run reuses them):

- experiment: ``gan-<sigma|kappa>-<quick|paper>.nc``, computed (resumably) when missing: quick
  profile on the offline digits, or the paper profile on CIFAR-10 (``data_dir``), see
  :func:`experiment_store` and ``ganspin gan sweep --out``;
- theory: the stores of :func:`ganspin.figs_sweeps.sweep_curves` (figures 8t/9t), computed
  when missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganspin.plotting import plt, save_figure

SWEPT = {"sigma": "sigma_z", "kappa": "kappa"}
LABELS = {"sigma_z": r"$\sigma_z$", "kappa": r"$\kappa$"}


def experiment_store(kind: str, out_dir: Path, quick: bool, settings: dict | None = None,
                     execution: dict | None = None) -> Path:
    """The experiment store of ``kind`` in ``out_dir``, computed (resumably) when missing with the
    quick profile (offline digits) or, with ``quick=False``, the paper profile (CIFAR-10: give
    ``data_dir``). ``settings`` may set ``points``, ``reps``, ``iterations``, ``data`` and
    ``data_dir``; ``execution`` is passed to the sweep runner (``scheduler``, ``cluster``,
    ``workers``)."""
    from gan.experiments import KappaSweepConfig, RunSettings, SigmaSweepConfig, run_experiment

    profile = "quick" if quick else "paper"
    store = Path(out_dir) / f"gan-{kind}-{profile}.nc"
    if store.is_file():
        return store
    settings = dict(settings or {})
    data_dir = settings.pop("data_dir", None)
    run = RunSettings(profile=profile, data=settings.pop("data", None),
                      iterations=settings.pop("iterations", None))
    config = (SigmaSweepConfig if kind == "sigma" else KappaSweepConfig)(run, **settings)
    run_experiment(config, store, data_dir=data_dir, progress=False, **(execution or {}))
    return store


def _theory_curves(theory: list, swept: str, name: str):
    """(x, y, label) for every (p, q) of the theory Datasets, swept coordinate on x."""
    curves = []
    for ds in theory:
        for p in np.atleast_1d(ds["p"].values):
            for q in np.atleast_1d(ds["q"].values):
                da = ds[name].sel(p=p, q=q).squeeze(drop=True)
                curves.append((da[swept].values, da.values, f"theory p={p}, q={q}"))
    return curves


def draw(kind: str, experiment_path: Path, theory, out_dir: Path, name: str,
         constants: str = "derived") -> list[Path]:
    """Draw the figure for ``kind`` ("sigma" or "kappa") from the experiment store and the
    theory Datasets (``theory``: a list of them, a store path, or None for no theory)."""
    from ganspin.sweeps import open_store
    from gan.experiments import summarise

    swept = SWEPT[kind]
    summary = summarise(open_store(experiment_path))
    if isinstance(theory, (str, Path)):
        theory = [open_store(theory)]
    x = summary[swept].values
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, net, theory_name in ((axes[0], "d", "min_u_d"), (axes[1], "g", "min_u_g")):
        handles = []
        if theory:
            magnitudes = []
            for tx, ty, label in _theory_curves(theory, swept, theory_name):
                handles += ax.plot(tx, ty, color="k", lw=1.5, label=f"{label} ({constants})")
                magnitudes += [abs(v) for v in ty if np.isfinite(v) and v != 0]
            if kind == "sigma" and magnitudes:
                # u scales with σ_z over decades: a linear axis would flatten all but the last points
                ax.set_yscale("symlog", linthresh=min(magnitudes))
        ax.set_ylabel(f"theory: min $u_{net.upper()}$ over $\\Theta>0$")
        twin = ax.twinx()
        for stat, color, label in (("min", "C0", "exp.: min loss (rolling mean of 5)"),
                                   ("final", "C3", "exp.: end-of-training loss")):
            mean = summary[f"{stat}_loss_{net}_mean"].values
            sem = summary[f"{stat}_loss_{net}_sem"].values
            rolling = summary[f"{stat}_loss_{net}_rolling"].values
            handles += twin.plot(x, rolling, color=color, lw=2, label=label)
            twin.errorbar(x, mean, yerr=sem, fmt="o", ms=3, color=color, alpha=0.6, capsize=2)
        twin.set_ylabel(f"experiment: $L_{net.upper()}$ (BCE)")
        ax.set_xlabel(LABELS[swept])
        if kind == "sigma":
            ax.set_xscale("log")
        ax.set_title("discriminator" if net == "d" else "generator")
        ax.legend(handles=handles, fontsize=7, loc="center left")
    attrs = summary.attrs
    fig.suptitle(f"Figure {name}: DCGAN ({attrs.get('config_profile')} profile, {attrs.get('config_data')}, "
                 f"{attrs['repetitions']} reps, {attrs.get('config_iterations') or attrs.get('config_epochs')} "
                 f"{'iterations' if attrs.get('config_iterations') else 'epochs'}) vs theory", fontsize=10)
    return save_figure(fig, out_dir, f"figure_{name}")


def _make(kind: str, name: str, out_dir: Path, quick: bool, constants: str,
          experiment: dict | None, theory: dict | None, execution: dict | None) -> list[Path]:
    from ganspin.figs_sweeps import sweep_curves

    return draw(kind, experiment_store(kind, out_dir, quick, experiment, execution),
                sweep_curves(kind, out_dir, quick, constants, theory, execution), Path(out_dir), name,
                constants)


def figure_8(out_dir: Path, quick: bool = True, constants: str = "derived",
             experiment: dict | None = None, theory: dict | None = None,
             execution: dict | None = None) -> list[Path]:
    """Figure 8: min losses against σ_z (κ = 0.9), experiment and theory (stores in ``out_dir``;
    ``experiment``/``theory`` override the sweep settings)."""
    return _make("sigma", "8", out_dir, quick, constants, experiment, theory, execution)


def figure_9(out_dir: Path, quick: bool = True, constants: str = "derived",
             experiment: dict | None = None, theory: dict | None = None,
             execution: dict | None = None) -> list[Path]:
    """Figure 9: min losses against κ (σ_z = 1), experiment and theory (stores in ``out_dir``)."""
    return _make("kappa", "9", out_dir, quick, constants, experiment, theory, execution)
