"""The ``kinema`` Typer application; commands register on it from their modules."""

from __future__ import annotations

from typing import Annotated

import typer

from kinema import __version__

app = typer.Typer(
    name="kinema",
    help="Synthesize video frames from motion. Reads and writes video, GIF and image sequences.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kinema {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """kinema: interpolation, GIF restoration, video snapshots, per-video autoencoders."""
