"""The patient's own copy of their record (issue 15 item 20): complete, identified, private,
audited, and erased with the patient."""

from __future__ import annotations

import json
import math
import sys
from datetime import date
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from rehabbot.cli import main
from rehabbot.export import export_sessions
from rehabbot.export.base import load_session
from rehabbot.export.metrics import session_metrics
from rehabbot.storage.record_models import FittingParameters, validated
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.export.conftest import OPERATOR, record
from tests.storage.traces import traces

CODE = "PX-COPY-3"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A patient with a profile, fitting, two consents, two outcomes and one 3 s session."""
    path = tmp_path / "store" / "s.sqlite"
    record(path, 3.0, CODE)
    with SessionStore.open(path) as st:
        records = PatientRecords(st)
        records.update_profile(CODE, {"display_name": "Zebulon [x] Quaxworth",
                                      "birth_date": date(1960, 3, 14), "sex": "male"},
                               operator="anna")
        records.set_fitting(CODE, validated(FittingParameters, {
            "thigh_length_m": 0.4271, "shank_length_m": 0.40, "thigh_cuff_m": 0.2,
            "shank_cuff_m": 0.15}, "fitting"), operator="anna")
        records.set_consent(CODE, False, date(2026, 11, 5), operator="ben")
        records.add_outcome(CODE, "mas", "1+", measured_on=date(2026, 11, 3), operator="anna",
                            protocol="right knee flexors")
        records.add_outcome(CODE, "10mwt", 0.62, measured_on=date(2026, 11, 4), operator="anna")
        st.add_event(1, 1.25, "parameter:guidance_pct", detail={"old": 100, "new": 80})
    return path


def copy(store: Path, out: Path, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> list[Path]:
    monkeypatch.setattr(sys, "argv", ["rehabbot", "patients", "copy", CODE, "--out", str(out),
                                      "--store", str(store), "--operator", "clerk"])
    with pytest.raises(SystemExit) as ended:
        main()
    out_text, err = capsys.readouterr()
    assert ended.value.code in (0, None), err
    return [Path(line) for line in out_text.splitlines()]


def test_the_copy_holds_the_whole_record_privately_and_is_audited(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "for the patient"
    files = copy(store, out, monkeypatch, capsys)
    assert sorted(f.relative_to(out).as_posix() for f in files) == [
        "fhir.json", "record.json", "sessions/session_1.csv", "sessions/session_1_strides.csv"]
    for f in files:
        assert (f.stat().st_mode & 0o777) == 0o600, f
    for folder in (out, out / "sessions"):
        assert (folder.stat().st_mode & 0o777) == 0o700
    assert sorted(p.name for p in out.iterdir()) == ["fhir.json", "record.json", "sessions"]

    document = json.loads((out / "record.json").read_text())
    patient = document["patient"]
    assert (patient["code"], patient["display_name"], patient["birth_date"], patient["sex"]) == (
        CODE, "Zebulon [x] Quaxworth", "1960-03-14", "male")
    assert document["fitting"]["thigh_length_m"] == 0.4271
    assert document["consent"]["research_use"] is False
    assert [(c["operator"], c["research_use"]) for c in document["consent_history"]] == [
        (OPERATOR, True), ("ben", False)]
    assert [(o["test"], o["value"], o["unit"], o["protocol"]) for o in document["outcomes"]] == [
        ("mas", "1+", "{score}", "right knee flexors"),
        ("10mwt", "0.62", "m/s", "10-metre walk test (gait speed)")]
    (session,) = document["sessions"]
    with SessionStore.open(store) as st:
        summary = st.session_summary(1)
        parameters = st.session_parameters(1)
        own_audit = PatientRecords(st).audit_log(PatientRecords(st).get(CODE).id)
    assert summary is not None
    assert session["status"] == "completed" and session["parameters"] == parameters
    assert session["summary"]["duration_s"] == summary.duration_s
    assert {"t_s": 1.25, "kind": "parameter:guidance_pct", "joint": None,
            "detail": {"old": 100, "new": 80}}.items() <= next(
        e for e in session["events"] if e["t_s"] == 1.25).items()
    assert session["files"] == ["sessions/session_1.csv", "sessions/session_1_strides.csv"]
    assert [e["action"] for e in document["audit_log"]][:3] == [
        "consent.set", "patient.edit", "fitting.set"]
    # the copy is itself in the audit log, keyed to the patient, with no path
    assert own_audit[-1].action == "patient.copy" and own_audit[-1].operator == "clerk"
    assert own_audit[-1].detail == {"files": 4, "sessions": [1]}

    # the samples are the CSV exporter's, byte for byte
    research = tmp_path / "research"
    export_sessions(store, [1], "csv", research, operator=OPERATOR,
                    include_without_consent=True)
    for name in ("session_1.csv", "session_1_strides.csv"):
        assert (out / "sessions" / name).read_bytes() == (research / name).read_bytes()

    # FHIR: a valid bundle with the identified Patient, its metrics and outcomes
    bundle_json = json.loads((out / "fhir.json").read_text())
    Bundle.model_validate(bundle_json)
    resources = [e["resource"] for e in bundle_json["entry"]]
    patient_entry = bundle_json["entry"][0]
    assert patient_entry["resource"]["resourceType"] == "Patient"
    assert patient_entry["resource"]["name"] == [{"text": "Zebulon [x] Quaxworth"}]
    assert patient_entry["resource"]["birthDate"] == "1960-03-14"
    assert patient_entry["resource"]["identifier"][0]["value"] == CODE
    observations = resources[1:]
    metrics = session_metrics(load_session(store, 1))
    assert len(observations) == len(metrics) + 2
    assert {o["subject"]["reference"] for o in observations} == {patient_entry["fullUrl"]}
    mas = next(o for o in observations if o["id"] == "outcome-1")
    assert mas["valueString"] == "1+" and mas["method"]["text"] == "right knee flexors"
    walk = next(o for o in observations if o["id"] == "outcome-2")
    assert walk["valueQuantity"]["value"] == 0.62 and walk["valueQuantity"]["code"] == "m/s"
    assert not any(isinstance(v, float) and math.isnan(v) for v in document["sessions"][0]
                   ["summary"].values())


def test_erasing_the_patient_deletes_their_copy(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "Zebulon_Quaxworth"
    copy(store, out, monkeypatch, capsys)
    assert traces(tmp_path, [CODE, "Quaxworth", "1960-03-14"])
    with SessionStore.open(store) as st:
        report = PatientRecords(st).erase(CODE, operator="nurse")
    assert len(report.files_deleted) == 4
    assert not out.exists()
    assert traces(tmp_path, [CODE, "Quaxworth", "1960-03-14", "0.4271"]) == {}
