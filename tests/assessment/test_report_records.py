"""Reports are recorded like exports: audited with their operator, deleted by erasure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rehabbot.assessment.report import progress_report, report_command, session_report
from rehabbot.errors import ConfigurationError, StorageError
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.conftest import simulate
from tests.storage.traces import traces

CODE = "PX-REPORT-3"


def test_erasure_deletes_the_patients_reports_and_leaves_no_trace(tmp_path: Path) -> None:
    db_folder, out = tmp_path / "db", tmp_path / "reports"
    db_folder.mkdir()
    out.mkdir()
    store = db_folder / "store.sqlite"
    first = simulate(store, duration_s=3.0, patient_code=CODE)
    second = simulate(store, duration_s=3.0, patient_code=CODE, guidance_pct=70.0)
    other = simulate(store, duration_s=3.0, patient_code="P-KEEP")
    html = session_report(store, first, out / f"{CODE}-session.html", operator="anna")
    pdf = progress_report(store, CODE, out / f"{CODE}-progress.pdf", operator="ben")
    kept = session_report(store, other, out / "keep.html", operator="anna")
    assert CODE in html.read_text(encoding="utf-8")
    with SessionStore.open(store) as st:
        records = PatientRecords(st)
        patient_id = records.get(CODE).id
        entries = [e for e in records.audit_log(patient_id) if e.action == "export"]
        assert [(e.operator, e.detail["format"], e.detail["report"], e.detail["sessions"])
                for e in entries] == [("anna", "report-html", "session", [first]),
                                      ("ben", "report-pdf", "progress", [first, second])]
        assert all(str(out) not in str(e.detail) for e in entries)  # no paths in the log
        erased = records.erase(CODE, operator="carl")
    assert sorted(erased.files_deleted) == sorted([html.resolve(), pdf.resolve()])
    assert not html.exists() and not pdf.exists() and kept.is_file()
    assert out.is_dir()  # the report folder itself stays
    assert traces(tmp_path, [CODE]) == {}


def test_the_report_command_records_its_operator(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    session = simulate(store, duration_s=3.0)
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("other")(lambda: None)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(session), "--out", str(out), "--store",
                                      str(store), "--operator", "dora"])
    assert result.exit_code == 0, result.output
    with SessionStore.open(store) as st:
        (entry,) = [e for e in PatientRecords(st).audit_log() if e.action == "export"]
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT session_id, format, path FROM exports").fetchall()
    assert entry.operator == "dora" and entry.detail["format"] == "report-html"
    assert rows == [(session, "report-html", str(out.resolve()))]


def test_a_report_that_cannot_be_recorded_is_not_left_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store.sqlite"
    session = simulate(store, duration_s=3.0)
    with pytest.raises(ConfigurationError, match="operator"):
        session_report(store, session, tmp_path / "r.html", operator="  ")
    assert not (tmp_path / "r.html").exists()

    def fail(*args: object, **kwargs: object) -> None:
        raise StorageError("store is locked")

    monkeypatch.setattr(PatientRecords, "record_export", fail)
    with pytest.raises(StorageError, match="locked"):
        session_report(store, session, tmp_path / "r.pdf", operator="anna")
    assert not (tmp_path / "r.pdf").exists()
