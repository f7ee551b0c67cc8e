"""Writing a report file and recording it: HTML or PDF by the output's suffix, owner-only
(mode 0o600), recorded in the store like an export (format ``report-html`` or ``report-pdf``,
against each session it covers) so that erasing the patient deletes it and the audit log names
the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rehabbot.assessment.report.figures import curve_figures, progress_figures
from rehabbot.assessment.report.html_doc import html_document
from rehabbot.assessment.report.loading import ReportData, load_progress_data, load_report_data
from rehabbot.assessment.report.pdf_doc import write_pdf_document
from rehabbot.assessment.report.progress import change_table, progress_header, progress_table
from rehabbot.assessment.report.tables import header_rows, report_tables
from rehabbot.errors import ReportError
from rehabbot.storage.files import private_file
from rehabbot.storage.patients_cli import default_operator
from rehabbot.storage.record_models import ExportedFile, check_operator
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore

#: Output suffixes and their format.
SUFFIXES = (".html", ".pdf")


def render_html(data: ReportData) -> str:
    """The report as one HTML document with its plots embedded as base64 PNG images."""
    return html_document(f"Session {data.info.id} report", header_rows(data),
                          "Joint angles over the gait cycle", curve_figures(data),
                          report_tables(data), {"Strides": "stride"})


def write_pdf(data: ReportData, out_path: Path) -> None:
    """The report as a PDF: header and curves, then the tables (as many pages as they need)."""
    write_pdf_document(out_path, f"Session {data.info.id} report", header_rows(data),
                        curve_figures(data), report_tables(data))


def _checked_output(out_path: Path) -> Path:
    """``out_path`` with ``~`` expanded.

    Raises:
        ReportError: its suffix is not .html or .pdf.
    """
    out = Path(out_path).expanduser()
    if out.suffix.lower() not in SUFFIXES:
        raise ReportError(f"unsupported report file type {out.suffix or '(none)'!r} of {out}; "
                          f"give a path ending in .html or .pdf")
    return out


def _write_report(out: Path, html_text: Callable[[], str], pdf_writer: Callable[[Path], None],
                  record: tuple[Path, Sequence[int], str, str]) -> Path:
    """Write ``out`` (mode 0o600) as HTML or PDF by its suffix, record it; return it.

    ``record`` is (store, ids of the sessions the report covers, report kind, operator): the file
    is recorded in the store's exports, and its audit log, as format ``report-html`` or
    ``report-pdf`` (:func:`record_report`). If it cannot be recorded it is deleted again, so that
    no report exists that erasing the patient would miss.
    """
    with private_file(out) as path:
        if out.suffix.lower() == ".html":
            path.write_text(html_text(), encoding="utf-8")
        else:
            pdf_writer(path)
    try:
        record_report(*record, path=out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def record_report(store_path: Path, session_ids: Sequence[int], kind: str, operator: str, *,
                  path: Path) -> None:
    """Record a written report in the store: an exports row per covered session, an audit entry.

    Args:
        store_path: the session store the report was made from.
        session_ids: the sessions whose data the report shows (all of one patient).
        kind: ``"session"`` or ``"progress"`` (kept in the audit entry).
        operator: who wrote the report.
        path: the report file; its folder is the export root (erasure removes the file only).

    Raises:
        ConfigurationError: empty operator.
        StorageError: the store cannot be written or a session does not exist.
    """
    file = Path(path).resolve()
    fmt = "report-" + file.suffix.lower().removeprefix(".")
    with SessionStore.open(Path(store_path)) as store:
        PatientRecords(store).record_export(
            fmt, [ExportedFile(sid, file, file.parent) for sid in session_ids],
            operator=operator, detail={"report": kind})


def session_report(store_path: Path, session_id: int, out_path: Path, *,
                   operator: str | None = None) -> Path:
    """Write the report of a session to ``out_path`` (.html or .pdf, mode 0o600); return it.

    The file is recorded in the store as a ``report-html``/``report-pdf`` export of the session
    by ``operator`` (default :func:`~rehabbot.storage.patients_cli.default_operator`).

    Raises:
        ConfigurationError: empty operator.
        ReportError: unsupported suffix, or a session without a complete stride.
        StorageError: no such store or session.
        ExportError: the file cannot be written.
    """
    out = _checked_output(out_path)
    who = check_operator(default_operator() if operator is None else operator)
    data = load_report_data(Path(store_path), session_id)
    return _write_report(out, lambda: render_html(data), lambda path: write_pdf(data, path),
                         (Path(store_path), [session_id], "session", who))


def progress_report(store_path: Path, patient_code: str, out_path: Path, *,
                    operator: str | None = None) -> Path:
    """Write a patient's progress report to ``out_path`` (.html or .pdf, mode 0o600); return it.

    The file is recorded in the store as a ``report-html``/``report-pdf`` export of every
    session it covers, by ``operator`` (default
    :func:`~rehabbot.storage.patients_cli.default_operator`).

    Raises:
        ConfigurationError: empty operator.
        ReportError: unsupported suffix, or no completed or faulted session with a stride.
        StorageError: no such store or patient.
        ExportError: the file cannot be written.
    """
    out = _checked_output(out_path)
    who = check_operator(default_operator() if operator is None else operator)
    progress = load_progress_data(Path(store_path), patient_code)
    covered = [d.info.id for d in progress.sessions] + progress.without_strides
    title = f"Progress report of {patient_code}"
    header, figures = progress_header(progress), progress_figures(progress)
    tables = [progress_table(progress), change_table(progress)]
    return _write_report(
        out,
        lambda: html_document(title, header, "Progress across sessions", figures, tables,
                               {tables[0][0]: "session"}),
        lambda path: write_pdf_document(path, title, header, figures, tables),
        (Path(store_path), covered, "progress", who))
