"""``ganspin figure NAME``: draw one of the paper's figures (see :mod:`ganspin.figures`)."""

import importlib
from pathlib import Path

import click

from ganspin.figures import FIGURES


@click.command("figure")
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("figures"),
              show_default=True, help="Output folder.")
@click.option("--full", is_flag=True, help="Paper resolution instead of the quick default.")
@click.option("--constants", type=click.Choice(["derived", "paper"]), default="derived", show_default=True)
def figure(name, out_dir, full, constants):
    """Draw figure NAME (the paper's number, e.g. 1, 4, 8t) as PNG and PDF."""
    if name not in FIGURES:
        raise click.BadParameter(f"unknown figure {name!r}; known: {', '.join(sorted(FIGURES))}",
                                 param_hint="NAME")
    module, attr = FIGURES[name].split(":")
    make = getattr(importlib.import_module(module), attr)
    for path in make(out_dir, quick=not full, constants=constants):
        click.echo(f"wrote {path}")
