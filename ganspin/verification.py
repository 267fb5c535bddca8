"""End-to-end check of the Kac-Rice chain at finite N (issue 8; MODEL.md §2-§3).

For each configuration (n_d = n_g, p, q, σ_z) draw many instances of the model, find all
their joint critical points directly (:mod:`numerics.critical_points`) and compare the mean
counts (total, below loss thresholds, by Hessian indices) with the exact finite-N Kac-Rice
expectation under the derived law and under the published constants
(:mod:`numerics.kac_rice`). Thresholds are given in units of the standard deviations of
L_D and L_G at a point, so one grid of levels serves every configuration.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ganspin.atomic import write_text

from numerics.params import ParameterError, finite_array, integer

CONFIGURATIONS = (
    (2, 2, 2, 1.0), (2, 2, 2, 0.3), (2, 2, 3, 1.0), (2, 3, 2, 1.0), (2, 3, 3, 1.0), (2, 3, 3, 0.1),
    (3, 2, 2, 1.0),
)


@dataclass(frozen=True)
class KacRiceCheckConfig:
    """One comparison run. ``configurations`` are (n_d = n_g, p, q, σ_z); n = 2 uses the
    certified torus finder, n >= 3 many-start Newton with ``starts`` starts per instance."""

    configurations: tuple = CONFIGURATIONS
    torus_instances: int = 400
    sphere_instances: int = 40
    starts: int = 2048
    start_batches: int = 4
    grid: int = 128
    kac_rice_samples: int = 400_000
    levels: tuple = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 6.0)
    seed: int = 0

    def __post_init__(self):
        for name in ("torus_instances", "sphere_instances", "starts", "start_batches", "grid",
                     "kac_rice_samples"):
            integer(name, getattr(self, name), 2)
        finite_array("levels", self.levels)
        for conf in self.configurations:
            if len(conf) != 4:
                raise ParameterError(f"configurations must be (n, p, q, sigma_z) tuples, got {conf!r}")

    @classmethod
    def quick(cls) -> "KacRiceCheckConfig":
        return cls(configurations=((2, 2, 2, 1.0), (2, 3, 3, 1.0)), torus_instances=200,
                   kac_rice_samples=200_000)


def _thresholds(model, levels) -> tuple[np.ndarray, np.ndarray]:
    """Loss thresholds at ``levels`` standard deviations of L_D and L_G (MODEL.md §1 kernels)."""
    from numerics.model import loss_covariances

    point = loss_covariances(model, 1.0, 1.0)
    levels = np.asarray(levels, float)
    return levels * math.sqrt(point["loss_d,loss_d"]), levels * math.sqrt(point["loss_g,loss_g"])


def check_configuration(config: KacRiceCheckConfig, n: int, p: int, q: int, sigma_z: float) -> dict:
    """Direct vs Kac-Rice mean counts for one configuration (JSON-ready)."""
    from numerics.critical_points import sphere_critical_points, torus_critical_points, torus_count_stability
    from numerics.kac_rice import count_statistics, finite_law, paper_law, predicted_counts, z_scores
    from numerics.model import SpinGlassModel, sample_couplings

    model = SpinGlassModel(n, n, p, q, sigma_z)
    seed = np.random.SeedSequence([config.seed, n, p, q, int(round(sigma_z * 1e6))])
    s_couplings, s_starts, s_kr = seed.spawn(3)
    t_d, t_g = _thresholds(model, config.levels)
    out = {"n_d": n, "n_g": n, "p": p, "q": q, "sigma_z": sigma_z, "t_d": t_d.tolist(), "t_g": t_g.tolist()}
    if n == 2:
        couplings = sample_couplings(model, config.torus_instances, s_couplings)
        points = torus_critical_points(model, couplings, config.grid)
        recount = torus_count_stability(model, couplings, (2 * config.grid,))[0]
        out["finder"] = {"method": "torus grid + Newton", "instances": config.torus_instances,
                         "grid": config.grid,
                         "instances_changed_on_refining_grid": int(np.sum(recount != points.counts))}
    else:
        couplings = sample_couplings(model, config.sphere_instances, s_couplings)
        points, growth = sphere_critical_points(model, couplings, config.starts, config.start_batches, s_starts)
        out["finder"] = {"method": "many-start Newton", "instances": config.sphere_instances,
                         "starts": config.starts,
                         "mean_count_after_each_batch": growth.mean(axis=1).tolist()}
    out["finder"]["max_residual"] = float(points.residual.max()) if points.residual.size else 0.0
    direct = count_statistics(np.ones(points.instance.size), points.loss_d, points.loss_g, points.index_d,
                              points.index_g, points.instance, couplings.n_instances, t_d, t_g, n, n)
    derived = predicted_counts(finite_law(model), config.kac_rice_samples, t_d, t_g, s_kr)
    published = paper_law(model)
    paper = predicted_counts(published, config.kac_rice_samples, t_d, t_g, s_kr)
    paper_constant = published.log_prefactor(True) - published.log_prefactor(False)
    z = z_scores(direct, derived)
    z_paper = z_scores(direct, paper)
    out.update(
        direct=direct.as_dict(), derived=derived.as_dict(), paper=paper.as_dict(),
        z_derived={k: _finite_or_none(v) for k, v in z.items()},
        max_abs_z_derived=float(max(np.max(np.abs(v)) for v in z.values())),
        z_paper_total=float(z_paper["total"]),
        paper_over_direct_total=paper.total[0] / direct.total[0],
        # The published constant (173) differs from the derived one by this factor at this N.
        log_paper_constant_factor=paper_constant,
    )
    return out


def _finite_or_none(values):
    """Nested lists with non-finite entries as None (strict JSON)."""
    arr = np.asarray(values, dtype=float)
    return np.where(np.isfinite(arr), arr, None).tolist()


def _key(row: dict) -> tuple:
    return (row["n_d"], row["p"], row["q"], row["sigma_z"])


def run_check(config: KacRiceCheckConfig, progress: bool = False, out_path: Path | None = None) -> dict:
    """Run every configuration. With ``out_path`` the result is written after each
    configuration (atomically) and a rerun with the same settings resumes: configurations
    already in the file are reused."""
    from tqdm import tqdm

    settings = json.loads(json.dumps(asdict(config)))
    done = {}
    if out_path is not None and Path(out_path).exists():
        previous = json.loads(Path(out_path).read_text(encoding="utf-8"))
        same = {k: v for k, v in previous.get("config", {}).items() if k != "configurations"}
        if same == {k: v for k, v in settings.items() if k != "configurations"}:
            done = {_key(row): row for row in previous.get("configurations", [])}
    rows = []
    for n, p, q, sigma_z in tqdm(config.configurations, disable=not progress, desc="kac-rice"):
        row = done.get((n, p, q, float(sigma_z)))
        rows.append(row if row is not None else check_configuration(config, n, p, q, float(sigma_z)))
        if out_path is not None:
            write_json({"config": settings, "configurations": rows}, out_path)
    return {"config": settings, "configurations": rows}


def write_json(result: dict, path: Path) -> Path:
    """Atomic write of ``result`` as JSON."""
    return write_text(path, json.dumps(result, indent=1))


def summary_table(result: dict) -> str:
    """Markdown table of direct vs predicted mean total counts with standard errors."""
    lines = ["| n_d=n_g | p | q | σ_z | instances | direct | Kac-Rice (derived) | z | published H law | published × constant (173) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["configurations"]:
        d, k, pp = r["direct"]["total"], r["derived"]["total"], r["paper"]["total"]
        lines.append(
            f"| {r['n_d']} | {r['p']} | {r['q']} | {r['sigma_z']:g} | {r['finder']['instances']} | "
            f"{d[0]:.3f} ± {d[1]:.3f} | {k[0]:.3f} ± {k[1]:.3f} | {r['z_derived']['total']:+.2f} | "
            f"{pp[0]:.4g} ± {pp[1]:.2g} | {pp[0] * math.exp(r['log_paper_constant_factor']):.3g} |")
    return "\n".join(lines)


def figure(out_dir: Path, quick: bool = True, constants: str = "derived",
           result: dict | None = None) -> list[Path]:
    """Figure "kac-rice": mean number of critical points with L_D <= t_D (all L_G) and with
    L_G <= t_G (all L_D), direct counts vs the finite-N Kac-Rice prediction. ``result`` is a
    :func:`run_check` result; without it the quick (or full) check is run first."""
    import matplotlib.pyplot as plt

    from ganspin.plotting import save_figure

    if result is None:
        result = run_check(KacRiceCheckConfig.quick() if quick else KacRiceCheckConfig(), progress=True)
    rows = result["configurations"]
    fig, axes = plt.subplots(2, len(rows), figsize=(4 * len(rows), 6.5), squeeze=False)
    key = "paper" if constants == "paper" else "derived"
    for col, r in enumerate(rows):
        for row, (axis, label) in enumerate(((0, "t_D"), (1, "t_G"))):
            ax = axes[row, col]
            t = np.array(r["t_d" if axis == 0 else "t_g"])
            for name, style in (("direct", "o"), (key, "-")):
                below = np.array(r[name]["below"])
                curve = below[:, -1] if axis == 0 else below[-1, :]
                ax.errorbar(t, curve[:, 0], yerr=curve[:, 1], fmt=style, capsize=2,
                            label="direct count" if name == "direct" else f"Kac-Rice ({name})")
            ax.set_xlabel(f"threshold {label}")
            ax.set_ylabel("mean count")
            ax.set_title(f"n={r['n_d']}+{r['n_g']}, p={r['p']}, q={r['q']}, σ_z={r['sigma_z']:g}", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_dir, "figure_kac-rice")
