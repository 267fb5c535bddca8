"""``ganspin derive``: regenerate (or check) the generated evaluators and derivation report."""

import sys

import click


@click.command("derive")
@click.option("--check", is_flag=True, help="Exit non-zero if committed generated files are stale.")
def derive(check):
    """Run the SymPy derivations and write derivations/generated/ and docs/derivation.md."""
    from derivations.generate import stale_files, write_all

    if check:
        stale = stale_files()
        for path in stale:
            click.echo(f"stale: {path}", err=True)
        if stale:
            click.echo("error: generated files are out of date; run `ganspin derive`", err=True)
            sys.exit(1)
        click.echo("generated files are up to date")
        return
    for path in write_all():
        click.echo(f"wrote {path}")
