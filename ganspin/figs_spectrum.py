"""Figures 1 and 4 of the paper (§4 and §5; MODEL.md §4-§5).

Figure 1: limiting spectral density of H(0, x1) against histograms of sampled H, κ = 0.9,
b = 1, b1 = 0.5, x1 ∈ {1.5, 1.1, 4} (two components nearly touching, merged, separate).
Figure 4: Coulomb-gas check (eq. 176): (1/N) log mean |det(H(x, x1))| over sampled H against
Φ(x, x1), p = q = 3, σ_z = 1, κ = 0.9, b and b1 from the chosen constant set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Figure1Config:
    kappa: float = 0.9
    b: float = 1.0
    b1: float = 0.5
    x1_values: tuple[float, ...] = (1.5, 1.1, 4.0)
    n: int = 300
    draws: int = 100
    quick_draws: int = 20
    bins: int = 80
    seed: int = 1


@dataclass(frozen=True)
class Figure4Config:
    p: int = 3
    q: int = 3
    sigma_z: float = 1.0
    kappa: float = 0.9
    x1_values: tuple[float, ...] = tuple(np.linspace(-90, 90, 5))
    x_range: tuple[float, float, int] = (-200.0, 200.0, 50)
    sizes: tuple[int, ...] = (50, 100, 200, 400)
    quick_sizes: tuple[int, ...] = (50, 100, 200)
    draws: int = 50
    quick_draws: int = 20
    seed: int = 4


def figure_1(out_dir: Path, quick: bool = True, constants: str = "derived",
             config: Figure1Config = Figure1Config()) -> list[Path]:
    """Density vs histograms (the constant set does not enter: b, b1 are the paper's)."""
    import matplotlib.pyplot as plt

    from ganspin.plotting import save_figure
    from numerics.ensemble import sample_eigenvalues
    from numerics.spectrum import density, support

    c = config
    draws = c.quick_draws if quick else c.draws
    fig, axes = plt.subplots(1, len(c.x1_values), figsize=(4 * len(c.x1_values), 3.2))
    for i, (ax, x1) in enumerate(zip(axes, c.x1_values)):
        eigs = sample_eigenvalues(c.n, c.b, c.b1, c.kappa, 0.0, x1, size=draws, seed=c.seed + i).ravel()
        intervals = support(c.b, c.b1, c.kappa, x1)
        lo, hi = intervals[0][0], intervals[-1][1]
        pad = 0.1 * (hi - lo)
        lam = np.linspace(lo - pad, hi + pad, 2001)
        ax.hist(eigs, bins=c.bins, range=(lo - pad, hi + pad), density=True, color="0.8",
                label=f"N = {c.n}, {draws} draws")
        ax.plot(lam, density(lam, c.b, c.b1, c.kappa, x1), "C0", lw=1.5, label="limiting density")
        ax.set_title(f"$x_1$ = {x1:g}: {len(intervals)} component{'s' * (len(intervals) > 1)}")
        ax.set_xlabel(r"$\lambda$")
        if i == 0:
            ax.set_ylabel("density")
            ax.legend(fontsize=7)
    fig.suptitle(rf"Spectrum of $H(0, x_1)$, $\kappa$ = {c.kappa}, $b$ = {c.b}, $b_1$ = {c.b1}", fontsize=10,
                 y=1.04)
    return save_figure(fig, out_dir, "figure_1")


def figure_4(out_dir: Path, quick: bool = True, constants: str = "derived",
             config: Figure4Config = Figure4Config()) -> list[Path]:
    """Monte Carlo (1/N) log mean |det| for several N against Φ, and the mean gap vs N."""
    import matplotlib.pyplot as plt

    from ganspin.plotting import save_figure
    from numerics.coulomb import log_potential_grid, mc_log_mean_abs_det
    from numerics.constants import complexity_problem
    from numerics.params import ModelParams

    c = config
    problem = complexity_problem(ModelParams(c.p, c.q, c.kappa, c.sigma_z), constants)
    b, b1 = problem.b, problem.b1
    sizes = c.quick_sizes if quick else c.sizes
    draws = c.quick_draws if quick else c.draws
    x = np.linspace(*c.x_range)
    x1s = np.asarray(c.x1_values, dtype=float)
    phi = log_potential_grid(x, x1s, b, b1, c.kappa)
    fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]})
    gaps = np.zeros((len(x1s), len(sizes)))
    markers = "o^sv"
    for i, x1 in enumerate(x1s):
        ax.plot(x, phi[i], color=f"C{i}", lw=1.2, label=rf"$\Phi$, $x_1$ = {x1:g}")
        for j, n in enumerate(sizes):
            mc = mc_log_mean_abs_det(n, b, b1, c.kappa, x, x1, draws, seed=c.seed + 1000 * i + n)
            gaps[i, j] = np.mean(np.abs(mc - phi[i]))
            if j in (0, len(sizes) - 1):
                ax.plot(x, mc, markers[j % 4], color=f"C{i}", ms=3, mfc="none" if j else None,
                        label=f"MC N = {n}" if i == 0 else None)
    ax.set_xlabel("$x$")
    ax.set_ylabel(r"$\frac{1}{N}\log \mathbb{E}|\det H(x, x_1)|$")
    ax.legend(fontsize=6, ncol=2)
    for i, x1 in enumerate(x1s):
        ax_gap.loglog(sizes, gaps[i], "o-", color=f"C{i}", label=rf"$x_1$ = {x1:g}")
    ax_gap.loglog(sizes, gaps.mean() * sizes[0] / np.asarray(sizes), "k--", lw=0.8, label=r"$\propto 1/N$")
    ax_gap.set_xlabel("$N$")
    ax_gap.set_ylabel(r"mean $|$MC $- \Phi|$ over $x$")
    ax_gap.legend(fontsize=6)
    fig.suptitle(rf"Coulomb gas check (eq. 176), p = q = {c.p}, $\sigma_z$ = {c.sigma_z}, "
                 rf"$\kappa$ = {c.kappa}, {constants} b = {b:.4g}, $b_1$ = {b1:.4g}, {draws} draws",
                 fontsize=9)
    return save_figure(fig, out_dir, "figure_4")
