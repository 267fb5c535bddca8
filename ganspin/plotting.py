"""Shared plotting helpers (matplotlib, Agg): every figure is written as PNG and PDF, atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ganspin.atomic import atomic_path  # noqa: E402


def save_figure(fig, out_dir: Path, name: str) -> list[Path]:
    """Write ``fig`` to ``out_dir/name.png`` and ``.pdf`` (temp file + rename) and close it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        path = out_dir / f"{name}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths
