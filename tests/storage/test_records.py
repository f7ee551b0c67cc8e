"""Patient records: profile, fitting, consent and outcome validation, audit log, erasure."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from rehabbot.errors import ConfigurationError, StorageError
from rehabbot.storage.record_models import (
    OUTCOME_TESTS,
    FittingParameters,
    PatientProfile,
    pseudonym_of,
    validated,
)
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.schema import BASE_SCHEMA, SCHEMA_VERSION
from rehabbot.storage.store import SessionStore
from tests.conftest import simulate
from tests.storage.traces import traces

DAY = date(2026, 11, 2)
ADA = PatientProfile(code="P-001", display_name="Ada Lovelace", birth_date=date(1951, 12, 10),
                     sex="female", height_m=1.68, mass_kg=61.5, affected_side="left",
                     diagnosis="ischaemic stroke")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    with SessionStore.open(tmp_path / "store.sqlite") as st:
        yield st


@pytest.fixture
def records(store: SessionStore) -> PatientRecords:
    records = PatientRecords(store)
    records.add_patient(ADA, operator="anna")
    return records


def fitting(**changes: object) -> FittingParameters:
    values: dict[str, object] = {"thigh_length_m": 0.42, "shank_length_m": 0.40,
                                 "thigh_cuff_m": 0.20, "shank_cuff_m": 0.18,
                                 "rom_deg": {"knee": {"min_deg": 0.0, "max_deg": 70.0}}}
    return validated(FittingParameters, values | changes, "fitting of 'P-001'")


def test_a_profile_round_trips_and_edits_keep_the_rest(records: PatientRecords) -> None:
    record = records.get("P-001")
    assert record.profile == ADA
    edited = records.update_profile("P-001", {"mass_kg": 63.0, "diagnosis": None},
                                    operator="ben")
    assert edited.profile == ADA.model_copy(update={"mass_kg": 63.0, "diagnosis": None})
    assert [r.code for r in records.list_patients()] == ["P-001"]
    # the session store's own view of the patient agrees
    assert records.store.get_patient("P-001").mass_kg == 63.0


def test_bad_profile_values_get_one_message_naming_each(records: PatientRecords) -> None:
    future = date.today() + timedelta(days=400)
    with pytest.raises(ConfigurationError) as caught:
        records.update_profile("P-001", {"height_m": 3.1, "birth_date": future, "sex": "f"},
                               operator="ben")
    message = str(caught.value)
    assert message.startswith("patient 'P-001': ")
    assert "height_m: Input should be less than or equal to 2.5 (got 3.1)" in message
    assert f"birth_date: birth date {future.isoformat()} is in the future" in message
    assert "sex: Input should be 'female', 'male', 'other' or 'unknown' (got 'f')" in message
    assert "\n" not in message
    with pytest.raises(ConfigurationError, match="code of patient 'P-001' cannot be changed"):
        records.update_profile("P-001", {"code": "P-002"}, operator="ben")
    with pytest.raises(ConfigurationError, match="nickname: Extra inputs are not permitted"):
        records.update_profile("P-001", {"nickname": "A"}, operator="ben")
    assert records.get("P-001").profile == ADA  # nothing was stored
    with pytest.raises(StorageError, match="exists already"):
        records.add_patient(ADA, operator="anna")
    with pytest.raises(StorageError, match="no patient 'P-404'"):
        records.get("P-404")


def test_fitting_is_validated_against_the_body_and_joint_bounds(records: PatientRecords) -> None:
    assert records.fitting("P-001") is None
    records.set_fitting("P-001", fitting(), operator="anna")
    assert records.fitting("P-001") == fitting()
    cases = {
        "thigh_cuff_m 0.5 m is not within the thigh": {"thigh_cuff_m": 0.5},
        "shank_length_m: Input should be less than or equal to 0.55": {"shank_length_m": 0.9},
        "rom_deg.knee -20..70 deg is outside -10..140 deg":
            {"rom_deg": {"knee": {"min_deg": -20.0, "max_deg": 70.0}}},
        "rom_deg.hip: min_deg 30 is not below max_deg 10":
            {"rom_deg": {"hip": {"min_deg": 30, "max_deg": 10}}},
        "rom_deg.elbow: Input should be 'hip', 'knee' or 'ankle'":
            {"rom_deg": {"elbow": {"min_deg": 0, "max_deg": 10}}},
    }
    for expected, change in cases.items():
        with pytest.raises(ConfigurationError) as caught:
            fitting(**change)
        message = str(caught.value)
        assert message.startswith("fitting of 'P-001': ") and expected in message, message
        assert "\n" not in message


def test_consent_is_recorded_and_replaced(records: PatientRecords) -> None:
    assert records.consent("P-001") is None
    patient_id = records.get("P-001").id
    assert records.consenting({patient_id}) == set()
    records.set_consent("P-001", True, DAY, operator="anna")
    consent = records.consent("P-001")
    assert consent is not None and (consent.research_use, consent.consent_date) == (True, DAY)
    assert records.consenting({patient_id, 99}) == {patient_id}
    records.set_consent("P-001", False, DAY + timedelta(days=1), operator="anna")
    assert records.consenting({patient_id}) == set()
    with pytest.raises(ConfigurationError, match="is in the future"):
        records.set_consent("P-001", True, date.today() + timedelta(days=2), operator="anna")


@pytest.mark.parametrize(("test", "value", "stored"), [
    ("10mwt", 0.62, "0.62"), ("10mwt", "1.1", "1.1"), ("6mwt", 310, "310.0"),
    ("tug", "14.2", "14.2"), ("fac", 3, "3"), ("fac", "5", "5"), ("fac", 0.0, "0"),
    ("mas", "1+", "1+"), ("mas", 4, "4"), ("berg", 56, "56"),
])
def test_outcomes_keep_their_raw_value_unit_and_protocol(
    records: PatientRecords, test: str, value: str | float, stored: str
) -> None:
    entry = records.add_outcome("P-001", test, value, measured_on=DAY, operator="anna",
                                protocol="right knee flexors" if test == "mas" else None)
    assert (entry.test, entry.value, entry.unit) == (test, stored, OUTCOME_TESTS[test].unit)
    assert entry.protocol == ("right knee flexors" if test == "mas" else OUTCOME_TESTS[test].title)
    assert records.outcomes("P-001", test) == [entry]


@pytest.mark.parametrize(("test", "value", "unit", "message"), [
    ("10mwt", -0.2, None, "10-metre walk test (gait speed) value: -0.2 m/s is not a number above "
                          "0 and up to 4 m/s"),
    ("10mwt", "fast", None, "'fast' is not a number"),
    ("10mwt", 0.8, "km/h", "unit 'km/h' is not its unit; give the value in m/s"),
    ("6mwt", float("nan"), None, "'nan' is not a number above 0"),
    ("tug", 0, None, "0 s is not a number above 0"),
    ("fac", 3.5, None, "Functional Ambulation Category value: 3.5 is not a whole number 0 to 5"),
    ("fac", 6, None, "6 is not a whole number 0 to 5"),
    ("mas", "5", None, "Modified Ashworth Scale value: '5' is not one of 0, 1, 1+, 2, 3, 4"),
    ("mas", "2+", None, "'2+' is not one of"),
    ("berg", 57, None, "Berg Balance Scale value: 57 is not a whole number 0 to 56"),
    ("walk", 1, None, "unknown outcome test 'walk'; known: 10mwt"),
])
def test_bad_outcomes_get_one_message_naming_the_test_and_what_is_allowed(
    records: PatientRecords, test: str, value: str | float, unit: str | None, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        records.add_outcome("P-001", test, value, measured_on=DAY, operator="anna", unit=unit)
    assert message in str(caught.value)
    assert records.outcomes("P-001") == []


def test_every_change_is_audited_with_operator_and_no_identifying_values(
    records: PatientRecords,
) -> None:
    records.update_profile("P-001", {"display_name": "Ada King", "height_m": 1.70},
                           operator="ben")
    records.set_fitting("P-001", fitting(), operator="carl")
    records.set_fitting("P-001", fitting(thigh_cuff_m=0.22), operator="carl")
    records.set_consent("P-001", True, DAY, operator="dora")
    records.add_outcome("P-001", "berg", 41, measured_on=DAY, operator="emil")
    records.log("parameter.change", {"guidance_pct": [80, 70]}, operator="fay",
                patient_code="P-001")
    patient_id = records.get("P-001").id
    log = records.audit_log(patient_id)
    assert [(e.operator, e.action) for e in log] == [
        ("anna", "patient.add"), ("ben", "patient.edit"), ("carl", "fitting.set"),
        ("carl", "fitting.set"), ("dora", "consent.set"), ("emil", "outcome.add"),
        ("fay", "parameter.change")]
    assert log[0].detail == {"fields": ["affected_side", "birth_date", "diagnosis",
                                        "display_name", "height_m", "mass_kg", "sex"]}
    assert log[1].detail == {"fields": ["display_name", "height_m"]}
    assert log[2].detail["old"] is None and log[3].detail["old"]["thigh_cuff_m"] == 0.20
    assert log[3].detail["new"]["thigh_cuff_m"] == 0.22
    assert log[4].detail == {"research_use": True, "consent_date": DAY.isoformat()}
    assert log[5].detail["test"] == "berg" and log[5].detail["value"] == "41"
    assert all(e.at.endswith("+00:00") for e in log)
    text = repr(log)
    for identifying in ("Ada", "Lovelace", "King", "1951", "P-001", "stroke"):
        assert identifying not in text
    for bad in ("", "   "):
        with pytest.raises(ConfigurationError, match="say who makes the change"):
            records.set_consent("P-001", True, DAY, operator=bad)
    assert len(records.audit_log()) == len(log)


def test_pseudonyms_are_stable_per_key_and_differ_across_installations(tmp_path: Path) -> None:
    key_a, key_b = b"a" * 32, b"b" * 32
    assert pseudonym_of(key_a, "P-001") == pseudonym_of(key_a, "P-001")
    assert pseudonym_of(key_a, "P-001") != pseudonym_of(key_a, "P-002")
    assert pseudonym_of(key_a, "P-001") != pseudonym_of(key_b, "P-001")
    with SessionStore.open(tmp_path / "a.sqlite") as a, \
            SessionStore.open(tmp_path / "b.sqlite") as b:
        first = PatientRecords(a).pseudonym("P-001")
        assert first == PatientRecords(a).pseudonym("P-001")
        assert first != PatientRecords(b).pseudonym("P-001")
        assert "P-001" not in first and len(first) == 16
    with SessionStore.open(tmp_path / "a.sqlite") as again:  # the key is kept, made once
        assert PatientRecords(again).pseudonym("P-001") == first


def test_a_version_2_store_is_migrated_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        for statement in BASE_SCHEMA:
            db.execute(statement)
        db.execute("INSERT INTO patients (code, display_name, created_at) VALUES "
                   "('P-007', 'Old', '2025-01-01T00:00:00+00:00')")
        db.execute("PRAGMA user_version = 2")
    with SessionStore.open(path) as store:
        records = PatientRecords(store)
        assert records.get("P-007").profile.display_name == "Old"
        records.set_consent("P-007", True, DAY, operator="anna")
        assert len(records.pseudonym("P-007")) == 16
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5


def test_the_store_and_its_wal_and_shm_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with SessionStore.open(path) as store:
        PatientRecords(store).add_patient(ADA, operator="anna")
        for suffix in ("", "-wal", "-shm"):
            assert (Path(f"{path}{suffix}").stat().st_mode & 0o777) == 0o600, suffix
    # a copy made readable by others, with companions left by a crash, is restricted on opening
    path.chmod(0o644)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").touch(mode=0o666)
        Path(f"{path}{suffix}").chmod(0o666)
    with SessionStore.open(path):
        for suffix in ("", "-wal", "-shm"):
            assert (Path(f"{path}{suffix}").stat().st_mode & 0o777) == 0o600, suffix


def test_erasure_leaves_no_trace_of_the_patient_in_the_store_file(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "store.sqlite"
    simulate(path, duration_s=0.5, patient_code="PX-ERASE-7")
    other = simulate(path, duration_s=0.5, patient_code="P-KEEP")
    with SessionStore.open(path) as store:
        records = PatientRecords(store)
        records.update_profile("PX-ERASE-7", {"display_name": "Zebulon Quaxworth",
                                              "birth_date": date(1960, 3, 14)}, operator="anna")
        records.set_fitting("PX-ERASE-7", fitting(), operator="anna")
        records.set_fitting("PX-ERASE-7", fitting(thigh_length_m=0.4271), operator="anna")
        records.set_consent("PX-ERASE-7", True, DAY, operator="anna")
        records.add_outcome("PX-ERASE-7", "mas", "1+", measured_on=DAY, operator="anna",
                            protocol="Quaxworth protocol")
        records.add_outcome("PX-ERASE-7", "10mwt", 2.4689, measured_on=DAY, operator="anna")
        records.log("note", {"text": "Zebulon walked to the door"}, operator="anna",
                    patient_code="PX-ERASE-7")
        patient_id = records.get("PX-ERASE-7").id
        other_id = records.get("P-KEEP").id
        # an export entry of an earlier version, which kept the export folder's path
        records.log("export", {"format": "csv", "patients": [patient_id, other_id],
                               "out_dir": "/data/Zebulon_Quaxworth_PX-ERASE-7"}, operator="anna")
        pseudonym = records.pseudonym("PX-ERASE-7")
        needles = ["PX-ERASE-7", "Zebulon", "Quaxworth", "1960-03-14", pseudonym, "0.4271",
                   "2.4689"]
        assert set(traces(folder, needles)) >= {"PX-ERASE-7", "Zebulon", "Quaxworth", "0.4271",
                                                "2.4689"}
        before = records.audit_log()
        report = records.erase("PX-ERASE-7", operator="ben")
        assert report.patient_id == patient_id and len(report.sessions) == 1
        assert traces(folder, needles) == {}
        # the rest is intact and the erasure is audited by row id only
        assert [s.id for s in store.list_sessions()] == [other]
        assert len(store.load_samples(other)) > 0
        with pytest.raises(StorageError, match="no patient 'PX-ERASE-7'"):
            records.get("PX-ERASE-7")
        *kept, entry = records.audit_log()
        assert entry.action == "patient.erase" and entry.patient_id == patient_id
        assert entry.operator == "ben" and entry.detail["sessions"] == list(report.sessions)
        # who, when and what kind stay; the erased patient's details go, and the old export
        # entry loses its folder but keeps the rest
        assert [(e.id, e.at, e.operator, e.action, e.patient_id) for e in kept] == [
            (e.id, e.at, e.operator, e.action, e.patient_id) for e in before]
        for old, new in zip(before, kept, strict=True):
            if old.patient_id == patient_id:
                assert new.detail == {}, old
            elif old.action == "export":
                assert new.detail == {"format": "csv", "patients": [patient_id, other_id]}
            else:
                assert new.detail == old.detail
        with sqlite3.connect(path) as db:
            for table in ("sessions", "outcomes", "consents", "fittings", "exports"):
                assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE patient_id = ?",
                                  (patient_id,)).fetchone()[0] == 0
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert traces(folder, needles) == {}
