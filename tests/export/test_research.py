"""Research export: HDF5 and FHIR read back, consent filtering, batch export, audit, erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import h5py  # type: ignore[import-untyped]
import numpy as np
import pytest
import typer
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from rehabbot.assessment.report import load_report_data
from rehabbot.errors import ExportError
from rehabbot.export import available_exporters, export_sessions
from rehabbot.export.base import load_session
from rehabbot.export.cli import export_command
from rehabbot.export.metrics import LOCAL_SYSTEM, session_metrics
from rehabbot.storage.record_models import AuditEntry, FittingParameters
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.export.conftest import CONSENT_DAY, OPERATOR, RecordedSession, record
from tests.storage.traces import traces

UCUM = "http://unitsofmeasure.org"


def test_hdf5_reads_back_the_same_samples_with_units(recorded: RecordedSession,
                                                     tmp_path: Path) -> None:
    (path,) = recorded.export("hdf5", tmp_path)
    data, samples = recorded.data, recorded.data.samples
    assert path.name == f"session_{recorded.session_id}.h5"
    assert (path.stat().st_mode & 0o777) == 0o600
    with h5py.File(path, "r") as f:
        session = f["session"].attrs
        assert session["subject"] == data.subject
        assert session["session_id"] == recorded.session_id
        assert session["period_s"] == data.info.period_s
        assert json.loads(session["parameters_json"]) == data.parameters
        np.testing.assert_array_equal(f["samples/t_s"][()], samples.t_s)
        assert f["samples/t_s"].attrs["units"] == "s"
        np.testing.assert_array_equal(f["samples/contact"][()] == 1, samples.contact)
        assert list(f["joints"]) == sorted(samples.joint_names)
        units = {"q": "rad", "qd": "rad/s", "tau": "N.m", "tau_cmd": "N.m", "q_ref": "rad"}
        for j, joint in enumerate(samples.joint_names):
            group = f[f"joints/{joint}"]
            assert group.attrs["index"] == j
            for array, unit in units.items():
                np.testing.assert_array_equal(group[array][()], getattr(samples, array)[:, j])
                assert group[array].attrs["units"] == unit
        for side in ("right", "left"):
            np.testing.assert_array_equal(f[f"events/{side}/foot_strike"][()],
                                          data.events[side].foot_strike_s)
            assert f[f"strides/{side}/cadence_steps_per_min"].attrs["units"] == "{steps}/min"
            assert f[f"strides/{side}/stance_pct"].attrs["units"] == "%"
        cadence = f["metrics/cadence"]
        report = load_report_data(recorded.store_path, recorded.session_id).analysis
        assert cadence[()] == pytest.approx(report.cadence_steps_per_min, rel=1e-12)
        assert cadence.attrs["units"] == "{steps}/min"
        assert f["metrics/step-count"].attrs["loinc"] == "66334-4"
        assert f["metrics/step-count"][()] == report.step_count


def test_fhir_bundle_validates_with_ucum_units_and_loinc_codes(recorded: RecordedSession,
                                                              tmp_path: Path) -> None:
    (path,) = recorded.export("fhir", tmp_path)
    assert path.name == f"session_{recorded.session_id}.fhir.json"
    text = path.read_text()
    document = json.loads(text)
    bundle = Bundle.model_validate(document)
    assert bundle.type == "collection"
    observations = [e["resource"] for e in document["entry"]]
    assert {o["resourceType"] for o in observations} == {"Observation"}
    metrics = {m.code: m for m in session_metrics(recorded.data)}
    assert len(observations) == len(metrics) >= 10
    by_code = {}
    for o in observations:
        assert o["status"] == "final"
        assert o["subject"]["identifier"]["value"] == recorded.data.subject
        quantity = o["valueQuantity"]
        assert quantity["system"] == UCUM and quantity["code"] == quantity["unit"]
        local = [c for c in o["code"]["coding"] if c["system"] == LOCAL_SYSTEM]
        assert len(local) == 1
        by_code[local[0]["code"]] = o
    assert set(by_code) == set(metrics)
    steps = by_code["step-count"]
    assert steps["code"]["coding"][0] == {"system": "http://loinc.org", "code": "66334-4",
                                          "display": "Steps taken"}
    assert by_code["walking-time"]["code"]["coding"][0]["code"] == "55411-3"
    assert by_code["walking-time"]["valueQuantity"]["code"] == "min"
    assert by_code["cadence"]["valueQuantity"]["code"] == "{steps}/min"
    assert by_code["knee-rom-right"]["valueQuantity"]["code"] == "deg"
    report = load_report_data(recorded.store_path, recorded.session_id).analysis
    assert steps["valueQuantity"]["value"] == report.step_count
    assert by_code["cadence"]["valueQuantity"]["value"] == pytest.approx(
        report.cadence_steps_per_min, rel=1e-12)
    assert recorded.data.info.patient_code not in text
    # the same export gives the same bundle
    (again,) = recorded.export("fhir", tmp_path / "again")
    assert again.read_text() == text


@dataclass(frozen=True)
class TwoPatients:
    """A store with a consenting patient's session and a non-consenting one's."""

    store: Path
    consenting: int
    refusing: int


@pytest.fixture(scope="module")
def two_patients(tmp_path_factory: pytest.TempPathFactory) -> TwoPatients:
    store = tmp_path_factory.mktemp("two") / "sessions.sqlite"
    return TwoPatients(store, record(store, 0.5, "P-YES"), record(store, 0.5, "P-NO",
                                                                   consent=False))


def _export_entries(store: Path) -> list[AuditEntry]:
    with SessionStore.open(store) as st:
        return [e for e in PatientRecords(st).audit_log() if e.action == "export"]


def test_only_consenting_patients_are_exported_unless_overridden_and_audited(
    two_patients: TwoPatients, tmp_path: Path
) -> None:
    both = [two_patients.consenting, two_patients.refusing]
    before = len(_export_entries(two_patients.store))
    result = export_sessions(two_patients.store, both, "mot", tmp_path / "a", operator="rita")
    assert result.sessions == [two_patients.consenting]
    assert result.skipped == {two_patients.refusing: "P-NO"}
    assert [p.name for p in result.files] == [f"session_{two_patients.consenting}.mot"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        f"session_{two_patients.consenting}.mot"]

    with pytest.raises(ExportError) as caught:
        export_sessions(two_patients.store, [two_patients.refusing], "mot", tmp_path / "b",
                        operator="rita")
    assert "patient P-NO did not consent to research use" in str(caught.value)
    assert "--include-without-consent" in str(caught.value)
    assert not (tmp_path / "b").exists()

    forced = export_sessions(two_patients.store, both, "mot", tmp_path / "c", operator="sam",
                             include_without_consent=True)
    assert forced.sessions == both and forced.without_consent == [two_patients.refusing]
    bids = export_sessions(two_patients.store, both, "bids", tmp_path / "d", operator="sam",
                           include_without_consent=True)
    assert len(bids.files) == len(set(bids.files)) == 3 + 2 * 4  # 3 shared files

    first, second, third = _export_entries(two_patients.store)[before:]
    assert third.detail["files"] == 11
    assert (first.operator, second.operator) == ("rita", "sam")
    assert first.detail["include_without_consent"] is False
    assert first.detail["sessions"] == [two_patients.consenting]
    assert first.detail["sessions_skipped"] == [two_patients.refusing]
    assert first.detail["format"] == "mot" and first.detail["files"] == 1
    assert second.detail["include_without_consent"] is True
    assert second.detail["sessions_without_consent"] == [two_patients.refusing]
    assert second.detail["sessions"] == both
    assert "P-NO" not in json.dumps(second.detail)


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("export")(export_command)
    app.command("noop")(lambda: None)  # two commands, so that "export" is a subcommand
    return app


def test_batch_export_by_ids_patient_or_all_into_one_folder(two_patients: TwoPatients,
                                                            tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["--format", "csv", "--store", str(two_patients.store), "--operator", "tom"]
    yes, no = two_patients.consenting, two_patients.refusing

    result = runner.invoke(_cli(), ["export", "--all", "--out", str(tmp_path / "all"), *common])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        f"session_{yes}.csv", f"session_{yes}_strides.csv"]
    assert f"skipped session(s) {no}: no research consent" in result.output

    result = runner.invoke(_cli(), ["export", str(yes), str(no), "--include-without-consent",
                                    "--out", str(tmp_path / "ids"), *common])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "ids").iterdir())) == 4
    assert result.output.split() == [
        str((tmp_path / "ids" / f"session_{s}{suffix}").resolve())
        for s in (yes, no) for suffix in (".csv", "_strides.csv")]

    result = runner.invoke(_cli(), ["export", "--patient", "P-NO", "--out",
                                    str(tmp_path / "p"), *common])
    assert isinstance(result.exception, ExportError)
    result = runner.invoke(_cli(), ["export", "--out", str(tmp_path / "none"), *common])
    assert isinstance(result.exception, ExportError)
    assert "name the sessions to export" in str(result.exception)
    assert _export_entries(two_patients.store)[-1].operator == "tom"


@pytest.fixture
def erasable(tmp_path: Path) -> Iterator[tuple[Path, Path, int, int]]:
    """A store (in its own folder) with two consenting patients, one with name and birth date,
    and an export folder; yields (store, export folder, erasable session, kept session)."""
    (tmp_path / "db").mkdir()
    store = tmp_path / "db" / "sessions.sqlite"
    erased = record(store, 2.5, "PX-ERASE-9")
    kept = record(store, 2.5, "P-KEEP")
    with SessionStore.open(store) as st:
        PatientRecords(st).update_profile(
            "PX-ERASE-9", {"display_name": "Zebulon Quaxworth", "birth_date": date(1958, 7, 21)},
            operator=OPERATOR)
    yield store, tmp_path / "exports", erased, kept


def test_erasure_leaves_no_trace_in_the_store_nor_the_exports(
    erasable: tuple[Path, Path, int, int],
) -> None:
    store, out, erased, kept = erasable
    formats = ["c3d", "mot", "csv", "bids", "hdf5", "fhir"]
    assert set(formats) <= set(available_exporters())
    for fmt in formats:
        export_sessions(store, [erased, kept], fmt, out, operator=OPERATOR)
    # a folder a user named after the patient, and values only the patient's records hold
    by_name = out.parent / "by-name"
    named = by_name / "Zebulon_Quaxworth_PX-ERASE-9"
    export_sessions(store, [erased], "csv", named, operator=OPERATOR)
    with SessionStore.open(store) as st:
        records = PatientRecords(st)
        records.set_fitting("PX-ERASE-9", FittingParameters(
            thigh_length_m=0.42718391, shank_length_m=0.39136217, thigh_cuff_m=0.2,
            shank_cuff_m=0.2), operator=OPERATOR)
        records.add_outcome("PX-ERASE-9", "10mwt", 2.46891357, measured_on=CONSENT_DAY,
                            operator=OPERATOR)
    pseudonym = load_session(store, erased).subject
    identifying = ["PX-ERASE-9", "Zebulon", "Quaxworth", "1958-07-21"]
    values = ["0.42718391", "0.39136217", "2.46891357"]  # digits no motion sample has
    # exports never carry the code, the name or the birth date; the pseudonym they do carry
    assert traces(out, identifying) == {}
    assert len(traces(out, [pseudonym])[pseudonym]) >= 3  # bids folder, hdf5, fhir
    assert set(traces(store.parent, identifying + values)) >= {
        "PX-ERASE-9", "Zebulon", "Quaxworth", *values}
    assert set(traces(by_name, identifying)) == {"PX-ERASE-9", "Zebulon", "Quaxworth"}

    with SessionStore.open(store) as st:
        report = PatientRecords(st).erase("PX-ERASE-9", operator="ida")
        assert report.sessions == (erased,)
        assert set(report.files_kept) == {(out / name).resolve() for name in (
            "dataset_description.json", "README", "task-gait_events.json")}
        assert len(report.files_deleted) == 2 + 1 + 1 + 4 + 1 + 1 + 2  # csv 2 (twice), bids 4
        remaining = [s.id for s in st.list_sessions()]
        log = PatientRecords(st).audit_log()
    needles = [*identifying, pseudonym, *values]
    assert traces(store.parent, needles) == {}
    assert traces(out, needles) == {}
    assert not named.exists() and list(by_name.iterdir()) == []
    # the export entries keep who, when and what kind; none names a folder
    assert [e.action for e in log].count("export") == len(formats) + 1
    assert all("out_dir" not in e.detail for e in log)
    assert remaining == [kept]
    # the other patient's exports are intact
    left = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert Path(f"session_{kept}.c3d") in left and Path("dataset_description.json") in left
    assert not any(f"session_{erased}" in str(p) for p in left)
    assert len(left) == 2 + 1 + 1 + 4 + 1 + 1 + 3  # bids: 4 + description, README, events.json
