"""``rehabbot report``: a session report, or with ``--patient`` a progress report; registered
with ``app.command("report")(report_command)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rehabbot.assessment.report.writing import progress_report, session_report
from rehabbot.errors import ReportError
from rehabbot.storage.patients_cli import OperatorOption
from rehabbot.storage.store import default_store_path


def report_command(
    out: Annotated[Path, typer.Option("--out", "-o",
                                      help="report file to write: .html or .pdf")],
    session: Annotated[
        int | None, typer.Argument(help="id of the session (`rehabbot sessions list`)")
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option("--patient", help="patient code: progress report across their sessions"),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store",
                     help="session store file \\[default: $REHABBOT_STORE or user data dir]"),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Write a session report, or with --patient a progress report across sessions.

    The report is recorded in the store (erasing the patient deletes it) and in its audit log.

    Raises:
        ConfigurationError: empty operator.
        ReportError: neither or both of SESSION and --patient, unsupported suffix, or nothing
            with a complete stride to report.
        StorageError: no such store, session or patient.
        ExportError: the file cannot be written.
    """
    if (session is None) == (patient is None):
        raise ReportError("give exactly one of a SESSION id (session report) and --patient CODE "
                          "(progress report)")
    store_path = store if store is not None else default_store_path()
    path = (session_report(store_path, session, out, operator=operator) if session is not None
            else progress_report(store_path, str(patient), out, operator=operator))
    typer.echo(str(path))
