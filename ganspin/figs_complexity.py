"""Figures 2, 3, 5, 6, 7 of the paper: the complexity Θ(u_D, u_G), its sections, Θ_{1,1} and
the banded structure of low-index critical points (paper §5-§6.1; MODEL.md §5-§6).

Threshold ranges are chosen from the problem (marginal standard deviations of the losses), never
from a fixed box: u ∈ [−2.5 sd, +2 sd] on each axis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganspin.plotting import plt, save_figure


@dataclass(frozen=True)
class ComplexityFigureConfig:
    p: int = 3
    q: int = 3
    kappa: float = 0.9
    sigma_z: float = 1.0
    n_u_quick: int = 60
    n_u_full: int = 500
    n_u_bands_full: int = 200
    k_max: int = 29
    sd_below: float = 2.5
    sd_above: float = 2.0


DEFAULTS = ComplexityFigureConfig()


def _setup(constants, quick, sigma_z=None, bands=False, cfg: ComplexityFigureConfig = DEFAULTS):
    from numerics.complexity import QUICK, ThetaConfig, loss_coordinates
    from numerics.constants import complexity_problem
    from numerics.params import ModelParams

    params = ModelParams(cfg.p, cfg.q, cfg.kappa, cfg.sigma_z if sigma_z is None else sigma_z)
    problem = complexity_problem(params, constants)
    sd = loss_coordinates(problem).loss_sd
    n = cfg.n_u_quick if quick else (cfg.n_u_bands_full if bands else cfg.n_u_full)
    u_d = np.linspace(-cfg.sd_below * sd[0], cfg.sd_above * sd[0], n)
    u_g = np.linspace(-cfg.sd_below * sd[1], cfg.sd_above * sd[1], n)
    return problem, u_d, u_g, (QUICK if quick else ThetaConfig())


def _title(problem, extra=""):
    pr = problem.params
    return (f"{extra}p={pr.p}, q={pr.q}, κ={pr.kappa:g}, σ_z={pr.sigma_z:g} "
            f"({problem.which} constants)")


def _theta_panel(ax, ds, label):
    th = ds.theta.values.T
    finite = np.isfinite(th)
    if not finite.any():
        ax.text(0.5, 0.5, f"{label} = −∞ everywhere", ha="center", transform=ax.transAxes)
        return
    top = th[finite].max()
    # Θ falls quadratically far below the ground state; colour only the informative range
    floor = max(th[finite].min(), top - 3 * max(1.0, abs(top)))
    levels = np.linspace(floor, top, 30)
    cs = ax.contourf(ds.u_d, ds.u_g, np.where(finite, th, np.nan), levels=levels, cmap="viridis",
                     extend="min")
    plt.colorbar(cs, ax=ax, label=label)
    if th[finite].min() < 0 < th[finite].max():
        ax.contour(ds.u_d, ds.u_g, th, levels=[0.0], colors="w", linewidths=1.5)
    ax.set_xlabel("u_D")
    ax.set_ylabel("u_G")


def figure_2(out_dir: Path, quick: bool = True, constants: str = "derived") -> list[Path]:
    """Θ(u_D, u_G) with its zero contour (the ground-state boundary)."""
    from numerics.complexity import theta_map

    problem, u_d, u_g, config = _setup(constants, quick)
    ds = theta_map(problem, u_d, u_g, config=config)
    fig, ax = plt.subplots(figsize=(6, 5))
    _theta_panel(ax, ds, "Θ")
    ax.set_title(_title(problem, "Θ(u_D, u_G): "), fontsize=9)
    return save_figure(fig, out_dir, "figure_2")


def figure_3(out_dir: Path, quick: bool = True, constants: str = "derived") -> list[Path]:
    """Sections of Θ: Θ(u_D) at several u_G and Θ(u_G) at several u_D."""
    from numerics.complexity import theta_map

    problem, u_d, u_g, config = _setup(constants, quick)
    ds = theta_map(problem, u_d, u_g, config=config)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    picks = np.linspace(0, len(u_d) - 1, 6).astype(int)
    for i in picks:
        axes[0].plot(u_d, ds.theta.values[:, i], label=f"u_G={u_g[i]:.3g}")
        axes[1].plot(u_g, ds.theta.values[i, :], label=f"u_D={u_d[i]:.3g}")
    for ax, name in zip(axes, ("u_D", "u_G")):
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel(name)
        ax.set_ylabel("Θ")
        ax.legend(fontsize=7)
    fig.suptitle(_title(problem, "sections of Θ: "), fontsize=9)
    return save_figure(fig, out_dir, "figure_3")


def figure_5(out_dir: Path, quick: bool = True, constants: str = "derived") -> list[Path]:
    """Θ_{1,1}(u_D, u_G) at σ_z = 0.5."""
    from numerics.complexity import theta_map

    problem, u_d, u_g, config = _setup(constants, quick, sigma_z=0.5)
    ds = theta_map(problem, u_d, u_g, k_d=1, k_g=1, config=config)
    fig, ax = plt.subplots(figsize=(6, 5))
    _theta_panel(ax, ds, "Θ_{1,1}")
    ax.set_title(_title(problem, "Θ_{1,1}: "), fontsize=9)
    return save_figure(fig, out_dir, "figure_5")


def _bands(constants, quick):
    from numerics.bands import banded_maps

    problem, u_d, u_g, config = _setup(constants, quick, bands=True)
    return problem, banded_maps(problem, u_d, u_g, DEFAULTS.k_max, config=config)


def _empty_note(ax, ds, name):
    best = float(np.nanmax(np.where(np.isfinite(ds[name].values[0]), ds[name].values[0], np.nan)))
    ax.text(0.5, 0.5, f"no band: max Θ at k=0 is {best:.3g} ≤ 0", ha="center",
            transform=ax.transAxes)


def figure_6(out_dir: Path, quick: bool = True, constants: str = "derived") -> list[Path]:
    """Contours of the largest k_D and k_G with Θ_{kD,kG} > 0 on a shared plane."""
    problem, ds = _bands(constants, quick)
    fig, ax = plt.subplots(figsize=(6, 5))
    levels = np.arange(-0.5, DEFAULTS.k_max + 1)
    for name, cmap in (("max_k_d", "Blues"), ("max_k_g", "Reds")):
        z = ds[name].values.T.astype(float)
        if (z >= 0).any():
            cs = ax.contour(ds.u_d, ds.u_g, np.where(z >= 0, z, -1.0), levels=levels, cmap=cmap)
            ax.clabel(cs, fontsize=6, fmt="%d")
        else:
            _empty_note(ax, ds, name.replace("max_k_", "theta_k"))
    ax.set_xlabel("u_D")
    ax.set_ylabel("u_G")
    ax.set_title(_title(problem, "bands (blue k_D, red k_G): "), fontsize=9)
    return save_figure(fig, out_dir, "figure_6")


def figure_7(out_dir: Path, quick: bool = True, constants: str = "derived") -> list[Path]:
    """Filled maps of the largest k_D and k_G; white: beyond the ground-state boundary."""
    problem, ds = _bands(constants, quick)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for ax, name, label in zip(axes, ("max_k_d", "max_k_g"), ("k_D", "k_G")):
        z = ds[name].values.T.astype(float)
        if (z >= 0).any():
            cs = ax.contourf(ds.u_d, ds.u_g, np.where(z >= 0, z, np.nan),
                             levels=np.arange(-0.5, DEFAULTS.k_max + 1), cmap="viridis")
            plt.colorbar(cs, ax=ax, label=f"largest {label}")
        else:
            _empty_note(ax, ds, name.replace("max_k_", "theta_k"))
        ax.set_xlabel("u_D")
        ax.set_ylabel("u_G")
        ax.set_title(f"largest {label} with Θ > 0", fontsize=9)
    fig.suptitle(_title(problem), fontsize=9)
    return save_figure(fig, out_dir, "figure_7")
