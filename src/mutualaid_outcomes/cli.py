"""The ``mutualaid`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Outcomes research on 12-step mutual-aid groups.",
)


@app.command()
def demo() -> None:
    """Run the worked analysis on the bundled sample cohort."""
    typer.echo("mutualaid demo: the sample cohort is not bundled yet.")


@app.command()
def version() -> None:
    """Print the package version."""
    from . import __version__

    typer.echo(__version__)


def main() -> None:
    """Entry point of the ``mutualaid`` script."""
    app()
