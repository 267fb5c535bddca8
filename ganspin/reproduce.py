"""``ganspin reproduce``: every stage of the paper's pipeline, one folder, one report.

A run is a list of :class:`Stage` s. Each stage writes its outputs into the run folder and a
summary (numbers, Markdown tables, timings) to ``.stages/<name>.json``; that marker is written
atomically only after the stage finished, so re-running the same command skips finished
stages and an interrupted or failed run loses nothing finished. The report (``report.md``
and ``report.html``) is rebuilt from the markers at the end of every run.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from numerics.params import ParameterError


class StageError(RuntimeError):
    """A stage failed; the message names the stage and what to do."""


@dataclass(frozen=True)
class ReproduceConfig:
    """One reproduce run. ``quick`` is the default resolution (minutes on two cores),
    ``full`` the paper's resolutions and protocol, ``tiny`` the CI smoke resolution."""

    out_dir: Path
    resolution: str = "quick"
    constants: str = "derived"
    gan: bool = True
    data: str = "digits"
    data_dir: Path | None = None
    scheduler: str | None = None
    cluster: str | None = None
    workers: int | None = None

    def __post_init__(self):
        if self.resolution not in ("tiny", "quick", "full"):
            raise ParameterError(f"resolution must be tiny, quick or full, got {self.resolution!r}")
        if self.constants not in ("derived", "paper"):
            raise ParameterError(f"constants must be derived or paper, got {self.constants!r}")

    @property
    def quick(self) -> bool:
        return self.resolution != "full"


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    run: Callable[[ReproduceConfig], dict]
    paper_claim: str = ""
    figures: tuple[str, ...] = field(default=())


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _call(target: str, *args, **kwargs):
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)(*args, **kwargs)


def _check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ParameterError(f"out folder {out_dir} is not writable ({exc.strerror})") from None


def stage_marker(cfg: ReproduceConfig, name: str) -> Path:
    return Path(cfg.out_dir) / ".stages" / f"{name}.json"


def run_stages(cfg: ReproduceConfig, stages: list[Stage], echo=print) -> dict[str, dict]:
    """Run every unfinished stage in order; return all stage summaries."""
    _check_writable(Path(cfg.out_dir))
    summaries: dict[str, dict] = {}
    for i, stage in enumerate(stages, 1):
        marker = stage_marker(cfg, stage.name)
        if marker.exists():
            summaries[stage.name] = json.loads(marker.read_text(encoding="utf-8"))
            echo(f"[{i}/{len(stages)}] {stage.title}: done earlier, reused")
            continue
        echo(f"[{i}/{len(stages)}] {stage.title} ...")
        start = time.perf_counter()
        try:
            summary = stage.run(cfg)
        except (ParameterError, OSError) as exc:
            raise StageError(f"stage '{stage.name}' failed: {exc}. Fix the input and rerun; "
                             f"finished stages are kept in {cfg.out_dir}") from exc
        except Exception as exc:  # a stage bug must still end in one line naming the stage
            raise StageError(f"stage '{stage.name}' failed ({type(exc).__name__}: {exc}). Rerun the "
                             f"same command to resume; finished stages are kept in {cfg.out_dir}") from exc
        summary["seconds"] = round(time.perf_counter() - start, 2)
        _atomic_write_text(marker, json.dumps(summary, indent=1, default=str))
        summaries[stage.name] = summary
        echo(f"    finished in {summary['seconds']:.1f} s")
    return summaries


def software_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("ganspin", "numpy", "scipy", "sympy", "mpmath", "matplotlib", "xarray", "dask",
                "distributed", "torch", "torchvision"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def write_report(cfg: ReproduceConfig, stages: list[Stage], summaries: dict[str, dict]) -> list[Path]:
    """``report.md`` and ``report.html`` from the stage summaries."""
    import markdown

    out = Path(cfg.out_dir)
    lines = [
        "# ganspin reproduction report",
        "",
        f"Resolution: **{cfg.resolution}**; constants: **{cfg.constants}**.",
        "",
        "## Stage timings",
        "",
        "| stage | seconds |",
        "|---|---|",
    ]
    lines += [f"| {s.title} | {summaries[s.name]['seconds']:.1f} |" for s in stages if s.name in summaries]
    for stage in stages:
        summary = summaries.get(stage.name)
        if summary is None:
            continue
        lines += ["", f"## {stage.title}", ""]
        if stage.paper_claim:
            lines += [f"**Paper:** {stage.paper_claim}", ""]
        if summary.get("finding"):
            lines += [f"**Here:** {summary['finding']}", ""]
        for table in summary.get("tables", []):
            lines += [table, ""]
        for fig in summary.get("figures", []):
            png = Path(fig)
            if png.suffix == ".png":
                lines += [f"![{png.stem}]({png.relative_to(out) if png.is_absolute() else png})", ""]
    lines += ["", "## Software versions", "", "| package | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in software_versions().items()]
    text = "\n".join(lines) + "\n"
    md_path, html_path = out / "report.md", out / "report.html"
    _atomic_write_text(md_path, text)
    body = markdown.markdown(text, extensions=["tables"])
    _atomic_write_text(html_path, "<!doctype html><meta charset='utf-8'><title>ganspin report</title>"
                                  "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
                                  "img{max-width:100%}table{border-collapse:collapse}"
                                  "td,th{border:1px solid #999;padding:2px 6px}</style>\n" + body)
    return [md_path, html_path]


def config_dict(cfg: ReproduceConfig) -> dict:
    return {k: str(v) for k, v in asdict(cfg).items()}
