"""Theory curves of the hyperparameter sweeps (paper §6.2, Figures 8 and 9; MODEL.md §7).

``8t``: min u_D, min u_G, min (u_D + u_G) over {Θ > 0} and max |u_D − u_G| on its Pareto
boundary against σ_z (κ = 0.9); ``9t``: the same against κ (σ_z = 1). The sweeps run through
:func:`ganspin.sweeps.run_sweep` into a store next to the figure, so a re-run (or the full
resolution after the quick one) reuses every finished point.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

QUICK_PAIRS = ((5, 5),)
FULL_PAIRS = tuple((p, q) for p in (2, 3, 5, 7) for q in (2, 3, 5, 7)) + ((10, 10),)
QUICK_POINTS = {"sigma": 10, "kappa": 8}
PANELS = (("min_u_g", "min $u_G$"), ("min_u_d", "min $u_D$"),
          ("min_sum", "min $(u_D + u_G)$"), ("max_abs_diff", "max $|u_D - u_G|$ (Pareto boundary)"))


def sweep_curves(kind: str, out_dir: Path, quick: bool, constants: str, settings: dict | None = None,
                 execution: dict | None = None):
    """Run (or resume) the theory sweep behind figure 8t/9t into ``out_dir`` and return its
    Datasets (one per (p, q)). ``settings`` overrides :class:`TheorySweepConfig` fields
    (e.g. ``points``, ``n_x``, ``n_x1``); ``execution`` is passed to
    :func:`ganspin.sweeps.run_sweep` (``scheduler``, ``cluster``, ``workers``)."""
    from ganspin.sweeps import run_sweep
    from ganspin.theory_sweeps import TheorySweepConfig, theory_sweep

    pairs = QUICK_PAIRS if quick else FULL_PAIRS
    overrides = {"points": QUICK_POINTS[kind] if quick else None, **(settings or {})}
    sweeps = []
    for p, q in pairs:
        config = TheorySweepConfig(kind, p=(p,), q=(q,), constants=constants, **overrides)
        store = Path(out_dir) / f"sweep_{kind}_{constants}_p{p}_q{q}_n{config.points}.nc"
        sweeps.append(run_sweep(theory_sweep(config), store, progress=False, **(execution or {})))
    return sweeps


def _figure(name: str, kind: str, out_dir: Path, quick: bool, constants: str,
            settings: dict | None, execution: dict | None) -> list[Path]:
    from ganspin.plotting import plt, save_figure

    stores = sweep_curves(kind, out_dir, quick, constants, settings, execution)
    axis = "sigma_z" if kind == "sigma" else "kappa"
    swept = "$\\sigma_z$" if kind == "sigma" else "$\\kappa$"
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), sharex=True)
    for ds in stores:
        curve = ds.isel(p=0, q=0).squeeze(drop=True)
        label = f"p={int(ds.p[0])}, q={int(ds.q[0])}"
        for ax, (var, title) in zip(axes.flat, PANELS):
            ax.plot(curve[axis], curve[var], marker=".", label=label)
            ax.set_title(title)
    fixed = (f"$\\kappa$ = {float(stores[0].kappa[0]):g}" if kind == "sigma"
             else f"$\\sigma_z$ = {float(stores[0].sigma_z[0]):g}")
    for ax, (var, _) in zip(axes.flat, PANELS):
        if kind == "sigma":
            ax.set_xscale("log")
        values = np.concatenate([np.ravel(ds[var].values) for ds in stores])
        if np.nanmax(np.abs(values)) > 100:  # derived boundaries grow like σ_z: show all decades
            ax.set_yscale("symlog", linthresh=1.0)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel(swept)
    axes[0, 0].legend(fontsize="small")
    fig.suptitle(f"Theory: boundaries of {{$\\Theta > 0$}} vs {swept} ({fixed}, constants: {constants})")
    return save_figure(fig, out_dir, f"figure_{name}")


def figure_8t(out_dir: Path, quick: bool = True, constants: str = "derived",
              settings: dict | None = None, execution: dict | None = None) -> list[Path]:
    """Figure 8 (theory): the σ_z sweep (``settings``: see :func:`sweep_curves`)."""
    return _figure("8t", "sigma", out_dir, quick, constants, settings, execution)


def figure_9t(out_dir: Path, quick: bool = True, constants: str = "derived",
              settings: dict | None = None, execution: dict | None = None) -> list[Path]:
    """Figure 9 (theory): the κ sweep (``settings``: see :func:`sweep_curves`)."""
    return _figure("9t", "kappa", out_dir, quick, constants, settings, execution)
