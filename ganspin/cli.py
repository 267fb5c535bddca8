"""The ``ganspin`` command line.

Subcommands are loaded lazily from :data:`COMMANDS` so that ``ganspin --help`` and the
theory commands never import torch or SymPy. Each entry maps a command name to
``"module:attribute"`` of a ``click.Command``; add a line here when you add a command.
"""

from __future__ import annotations

import importlib
import sys

import click

from numerics.params import ParameterError

COMMANDS: dict[str, str] = {
    "derive": "ganspin.commands.derive:derive",
    "verify": "ganspin.commands.verify:verify",
    "figure": "ganspin.commands.figure:figure",
    "reproduce": "ganspin.commands.reproduce:reproduce",
    "complexity": "ganspin.commands.complexity:complexity",
    "bands": "ganspin.commands.complexity:bands",
    "gan": "ganspin.commands.gan:gan",
    "model-check": "ganspin.commands.model:model_check",
    "sweep": "ganspin.commands.sweep:sweep",
    "constants": "ganspin.commands.constants:constants",
    "spectrum": "ganspin.commands.spectrum:spectrum",
    "logdet": "ganspin.commands.spectrum:logdet",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganspin")
def cli():
    """Interacting spin-glass model of GAN loss surfaces: derivations, numerics, experiments."""


def main(argv=None):
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ParameterError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
