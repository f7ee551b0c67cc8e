"""The ``rehabbot export`` command, ready to register: ``app.command("export")(export_command)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rehabbot.export.base import export_session
from rehabbot.storage.store import default_store_path


def export_command(
    session: Annotated[int, typer.Argument(help="id of the session (`rehabbot sessions list`)")],
    format: Annotated[
        str, typer.Option("--format", "-f",
                          help="export format: c3d, mot, csv, bids or a plug-in's")
    ] = "c3d",
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write into")] = Path("."),
    store: Annotated[
        Path | None,
        typer.Option("--store",
                     help="session store file [default: $REHABBOT_STORE or user data dir]"),
    ] = None,
) -> None:
    """Export a recorded session for gait-lab software (files readable by their owner only).

    Raises:
        ConfigurationError: unknown format.
        StorageError: no such store or session.
        ExportError: the folder cannot be written.
    """
    paths = export_session(store if store is not None else default_store_path(), session,
                           format, out)
    for path in paths:
        typer.echo(str(path))
