"""The store's own defences (issue 15): ids never reused, other files left untouched, private
folders. Items 6, 7 and 8."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from rehabbot.storage.record_models import PatientProfile
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.schema import BASE_SCHEMA, MIGRATIONS
from rehabbot.storage.store import SessionStore
from tests.storage.filemodes import umask

JOINTS = ["knee_angle_r"]


def test_an_erased_patients_ids_are_never_given_again(tmp_path: Path) -> None:
    with SessionStore.open(tmp_path / "s.sqlite") as store:
        records = PatientRecords(store)
        records.add_patient(PatientProfile(code="P-A"), operator="anna")
        first = records.get("P-A").id
        session = store.create_session(first, "gait", "robot", 0.001, JOINTS, {})
        records.set_consent("P-A", True, date(2026, 1, 2), operator="anna")
        records.erase("P-A", operator="anna")
        records.add_patient(PatientProfile(code="P-B"), operator="ben")
        second = records.get("P-B").id
        assert second != first
        # the new patient's audit log is their own: not the erased patient's add, consent, erase
        assert [(e.operator, e.action) for e in records.audit_log(second)] == [
            ("ben", "patient.add")]
        assert store.create_session(second, "gait", "robot", 0.001, JOINTS, {}) != session


def version_3_store(path: Path) -> None:
    """A schema 3 store in which patient 1 and session 1 were erased, then given again."""
    with sqlite3.connect(path) as db:
        for statement in BASE_SCHEMA:
            db.execute(statement)
        step = MIGRATIONS[2]
        assert isinstance(step, tuple)
        for statement in step:
            db.execute(statement)
        audit = "INSERT INTO audit_log (at, operator, action, patient_id, detail) VALUES " \
                "('2026-01-01T00:00:00+00:00', ?, ?, ?, ?)"
        db.execute(audit, ("anna", "patient.add", 1, json.dumps({"fields": []})))
        db.execute(audit, ("anna", "consent.set", 1, "{}"))
        db.execute(audit, ("anna", "patient.erase", 1, json.dumps({"sessions": [1, 2]})))
        # what version 3 then did: the next patient and session got ids 1 again
        db.execute("INSERT INTO patients (id, code, created_at) VALUES (1, 'P-NEW', 'x')")
        db.execute("INSERT INTO sessions (id, patient_id, protocol_name, robot_name, started_at,"
                   " started_unix, status, period_s, joint_names) VALUES (1, 1, 'gait', 'robot',"
                   " 'x', 0, 'completed', 0.001, '[\"knee_angle_r\"]')")
        db.execute("INSERT INTO consents VALUES (1, 1, '2026-01-02', 'x')")
        db.execute(audit, ("ben", "patient.add", 1, json.dumps({"fields": []})))
        db.execute(audit, ("ben", "export", 1, json.dumps({"sessions": [1], "patients": [1]})))
        db.execute("INSERT INTO patients (id, code, created_at) VALUES (2, 'P-OTHER', 'x')")
        db.execute(audit, ("carl", "patient.add", 2, json.dumps({"fields": []})))
        db.execute("PRAGMA user_version = 3")


def test_a_version_3_store_is_migrated_so_that_reused_ids_are_told_apart(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    version_3_store(path)
    with SessionStore.open(path) as store:
        records = PatientRecords(store)
        new = records.get("P-NEW")
        assert new.id not in (1, 2)
        assert [(e.operator, e.action) for e in records.audit_log(new.id)] == [
            ("ben", "patient.add"), ("ben", "export")]
        assert records.audit_log(new.id)[1].detail == {"sessions": [1], "patients": [new.id]}
        # the erased patient's entries stay under the old id, with no living patient there
        assert [e.action for e in records.audit_log(1)] == [
            "patient.add", "consent.set", "patient.erase"]
        assert records.get("P-OTHER").id == 2
        assert records.consent("P-NEW") is not None
        assert [s.patient_code for s in store.list_sessions()] == ["P-NEW"]
        records.add_patient(PatientProfile(code="P-LATER"), operator="dora")
        assert records.get("P-LATER").id > new.id
        # session 2 of the erased patient is named in the log: never given again
        assert store.create_session(new.id, "gait", "robot", 0.001, JOINTS, {}) == 3
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("kind", ["text", "sqlite"])
def test_store_on_another_file_leaves_its_mode_and_content(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "thesis.tex"
    if kind == "text":
        path.write_text("\\documentclass{article}\n" * 100)
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    path.chmod(0o644)
    before = path.read_bytes()
    ended = subprocess.run([sys.executable, "-m", "rehabbot", "patients", "list", "--store",
                            str(path)], capture_output=True, text=True, timeout=120)
    assert ended.returncode == 2
    assert "not a rehabbot session store" in ended.stderr and ended.stderr.count("\n") == 1
    assert (path.stat().st_mode & 0o777) == 0o644
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


def test_store_folders_are_created_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    with umask(0o000):
        SessionStore.open(tmp_path / "a" / "b" / "s.sqlite").close()
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert (folder.stat().st_mode & 0o777) == 0o700, folder
    assert (tmp_path / "a" / "b" / "s.sqlite").stat().st_mode & 0o777 == 0o600
