"""The ``rehabbot export`` command, ready to register: ``app.command("export")(export_command)``;
and ``rehabbot patients copy`` (``patients_app.command("copy")(copy_command)``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rehabbot.export.patient_copy import copy_patient
from rehabbot.export.research import export_sessions, select_sessions
from rehabbot.storage.patients_cli import OperatorOption, StoreOption, default_operator
from rehabbot.storage.store import default_store_path


def export_command(
    sessions: Annotated[
        list[int] | None,
        typer.Argument(help="ids of the sessions (`rehabbot sessions list`)", show_default=False),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f",
                          help="export format: c3d, mot, csv, bids, hdf5, fhir or a plug-in's")
    ] = "c3d",
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write into")] = Path("."),
    patient: Annotated[
        str | None, typer.Option("--patient", help="every session of this patient code")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="every session of the store")] = False,
    include_without_consent: Annotated[
        bool,
        typer.Option("--include-without-consent",
                     help="also export sessions of patients without research consent (recorded "
                          "in the audit log)"),
    ] = False,
    operator: OperatorOption = None,
    store: StoreOption = None,
) -> None:
    """Export recorded sessions, pseudonymized, for research (files readable by their owner only).

    Only sessions of patients who consented to research use are exported, unless
    --include-without-consent; every export is recorded in the store's audit log.

    Raises:
        ConfigurationError: unknown format.
        StorageError: no such store, session or patient.
        ExportError: nothing to export, or the folder cannot be written.
    """
    store_path = store if store is not None else default_store_path()
    ids = select_sessions(store_path, sessions or (), patient=patient, every=every)
    result = export_sessions(store_path, ids, format, out,
                             operator=operator or default_operator(),
                             include_without_consent=include_without_consent)
    for path in result.files:
        typer.echo(str(path))
    if result.skipped:
        print(f"skipped session(s) {', '.join(map(str, result.skipped))}: no research consent "
              "(--include-without-consent to override)", file=sys.stderr)
    if result.running:
        print(f"skipped session(s) {', '.join(map(str, result.running))}: still running, their "
              "recording is incomplete (export them when they have ended)", file=sys.stderr)


def copy_command(
    code: Annotated[str, typer.Argument(help="patient code (`rehabbot patients list`)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write into")],
    operator: OperatorOption = None,
    store: StoreOption = None,
) -> None:
    """Write the patient's own copy of their record (identified; GDPR art. 15 and 20).

    record.json (profile, fitting, consent history, outcomes, sessions with summaries and
    events, exports, audit entries), fhir.json (Patient and Observations) and each session's CSV
    files; readable by their owner only, recorded so that erasing the patient deletes them too,
    and in the audit log.

    Raises:
        StorageError: no such store or patient.
        ExportError: the folder cannot be written.
    """
    copy = copy_patient(store if store is not None else default_store_path(), code, out,
                        operator=operator or default_operator())
    for path in copy.files:
        typer.echo(str(path))
