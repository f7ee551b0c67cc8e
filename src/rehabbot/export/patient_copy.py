"""A patient's own copy of everything the store holds about them (GDPR articles 15 and 20).

The research export is pseudonymized and consent-gated by design; this is the other direction:
the **identified** record, for the patient, in machine-readable formats. :func:`copy_patient`
writes into one folder:

* ``record.json``: the profile (code, name, birth date, ...), the research pseudonym, the
  fitting, the current consent and its history (every ``consent.set`` of the audit log), the
  clinical outcomes, every session (protocol, robot, times, status, parameters, summary, events,
  and the names of its sample files), the exports and reports made of their data, and the audit
  entries about them. Units are SI as stored, times ISO-8601 UTC.
* ``fhir.json``: a FHIR R4 ``collection`` Bundle with a ``Patient`` resource (code as
  identifier, name, birth date, gender), one ``Observation`` per session metric (the builders
  of :mod:`rehabbot.export.fhir`, about that Patient) and one per clinical outcome, validated
  with fhir.resources.
* ``sessions/session_<id>.csv`` and ``session_<id>_strides.csv``: each session's samples and
  strides (the :mod:`rehabbot.export.csv` format; a session without samples has none).

The copy is written like an export (:meth:`~rehabbot.storage.records.PatientRecords.begin_export`
and ``finish_export``): recorded before it is written, into a private staging folder, then
moved into place without following links (folders 0o700, files 0o600); its files are recorded
for the patient, so erasing the patient deletes them too, and a ``patient.copy`` audit entry
names who made it (file and session counts, no path).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rehabbot import __version__
from rehabbot.errors import StorageError
from rehabbot.export.base import SessionData, prepare_folder, read_session
from rehabbot.export.csv import CsvExporter
from rehabbot.export.fhir import entry_url, metric_observation, validated_bundle
from rehabbot.export.metrics import LOCAL_BASE, UCUM_SYSTEM, session_metrics
from rehabbot.storage.files import make_private_dirs, write_private_text
from rehabbot.storage.record_models import OUTCOME_TESTS, check_operator
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore

#: Format name of a copy in the store's exports and the document's ``format``.
COPY_FORMAT = "patient-copy"
FORMAT_VERSION = 1
#: Identifier system of the clinic's patient codes (local to the installation).
PATIENT_CODE_SYSTEM = f"{LOCAL_BASE}/NamingSystem/patient-code"
#: Code system of the clinical outcome tests (codes: the keys of ``OUTCOME_TESTS``).
OUTCOME_SYSTEM = f"{LOCAL_BASE}/CodeSystem/clinical-outcomes"
_GENDERS = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


@dataclass(frozen=True)
class PatientCopy:
    """What :func:`copy_patient` wrote.

    Attributes:
        files: every file, at its place in the folder.
        sessions: the sessions included.
    """

    files: list[Path]
    sessions: list[int]


def copy_patient(store_path: Path, code: str, out_dir: Path, *, operator: str) -> PatientCopy:
    """Write the patient's own copy of their record into ``out_dir`` (see the module docstring).

    Raises:
        ConfigurationError: empty operator.
        StorageError: no store or patient, a link in the way, or the patient was erased meanwhile.
        ExportError: the folder or a file cannot be written.
    """
    who = check_operator(operator)
    with SessionStore.open_existing(store_path) as store:
        records = PatientRecords(store)
        record = records.get(code)
        out, created = prepare_folder(out_dir)
        intent = records.begin_export(COPY_FORMAT, out, root_created=created,
                                       patient_code=code)
        try:
            document, sessions = _document(store, records, code)
            _write(store, records, document, sessions, intent.staging)
            files = records.finish_export(intent, COPY_FORMAT)
        except BaseException:
            records.abandon_export(intent)
            raise
        records.log("patient.copy", {"files": len(files), "sessions": [s.id for s in sessions]},
                    operator=who, patient_code=record.code)
    return PatientCopy([f.path for f in files], [s.id for s in sessions])


def _summary(store: SessionStore, session_id: int) -> dict[str, Any] | None:
    """A session's stored summary as it was stored (None: the session did not finish)."""
    summary = store.session_summary(session_id)
    return None if summary is None else summary.as_dict()


def _document(store: SessionStore, records: PatientRecords,
              code: str) -> tuple[dict[str, Any], list[Any]]:
    """The JSON record of the patient and their sessions' infos."""
    record = records.get(code)
    fitting = records.fitting(code)
    consent = records.consent(code)
    audit = [asdict(e) for e in records.audit_log()
             if e.patient_id == record.id or record.id in e.detail.get("patients", [])]
    sessions = store.list_sessions(record.id)
    with store.transaction("reading the exports of a patient") as db:
        exports = [{"format": f, "session_id": s, "path": p, "exported_at": at}
                   for f, s, p, at in db.execute(
                       "SELECT format, session_id, path, exported_at FROM exports WHERE "
                       "patient_id = ? ORDER BY id", (record.id,))]
    document = {
        "format": "rehabbot-patient-record",
        "format_version": FORMAT_VERSION,
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "made_by": f"rehabbot {__version__}",
        "units": "SI (m, kg, s, rad, rad/s, N.m); angles in the CSV files in deg",
        "patient": {"id": record.id, "created_at": record.created_at,
                    **record.profile.model_dump(mode="json")},
        "research_pseudonym": records.pseudonym(code),
        "fitting": None if fitting is None else fitting.model_dump(mode="json"),
        "consent": None if consent is None else {
            "research_use": consent.research_use,
            "consent_date": consent.consent_date.isoformat(),
            "recorded_at": consent.recorded_at},
        "consent_history": [{"at": e["at"], "operator": e["operator"], **e["detail"]}
                            for e in audit if e["action"] == "consent.set"],
        "outcomes": [{**asdict(o), "measured_on": o.measured_on.isoformat(),
                      "title": OUTCOME_TESTS[o.test].title} for o in records.outcomes(code)],
        "sessions": [{**asdict(s), "parameters": store.session_parameters(s.id),
                      "summary": _summary(store, s.id), "events": store.list_events(s.id),
                      "files": [] if s.n_ticks == 0 else [
                          f"sessions/session_{s.id}.csv", f"sessions/session_{s.id}_strides.csv"]}
                     for s in sessions],
        "exports_and_reports": exports,
        "audit_log": audit,
    }
    return document, sessions


def _write(store: SessionStore, records: PatientRecords, document: dict[str, Any],
           sessions: list[Any], folder: Path) -> None:
    """Write record.json, fhir.json and the session CSV files into ``folder``."""
    make_private_dirs(folder / "sessions")
    data: list[SessionData] = []
    for info in sessions:
        if info.n_ticks == 0:
            continue
        try:
            data.append(read_session(store, info.id))
        except StorageError:  # no samples after all: the JSON has what there is
            continue
        CsvExporter().write(data[-1], folder / "sessions")
    text = json.dumps(_finite(document), indent=2, ensure_ascii=False, allow_nan=False,
                      default=str)
    write_private_text(folder / "record.json", text + "\n")
    bundle = _bundle(document, data)
    write_private_text(folder / "fhir.json",
                       json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity (a summary's metric that could not be computed)
    replaced by None, so that the file is standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _bundle(document: dict[str, Any], sessions: list[SessionData]) -> dict[str, Any]:
    """The FHIR Bundle: the Patient, their session metrics and clinical outcomes."""
    patient = document["patient"]
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": "patient",
        "identifier": [{"system": PATIENT_CODE_SYSTEM, "value": patient["code"]}],
    }
    if patient["display_name"]:
        resource["name"] = [{"text": patient["display_name"]}]
    if patient["birth_date"]:
        resource["birthDate"] = patient["birth_date"]
    if patient["sex"]:
        resource["gender"] = _GENDERS[patient["sex"]]
    patient_url = entry_url(patient["code"], "patient")
    subject = {"reference": patient_url}
    entries = [{"fullUrl": patient_url, "resource": resource}]
    for data in sessions:
        for metric in session_metrics(data):
            observation = metric_observation(data, metric, subject)
            entries.append({"fullUrl": entry_url(patient["code"], observation["id"]),
                            "resource": observation})
    for outcome in document["outcomes"]:
        observation = _outcome_observation(outcome, subject)
        entries.append({"fullUrl": entry_url(patient["code"], observation["id"]),
                        "resource": observation})
    return validated_bundle(entries, f"patient {patient['code']!r}")


def _outcome_observation(outcome: dict[str, Any], subject: dict[str, Any]) -> dict[str, Any]:
    """A clinical outcome as an Observation: a number with its UCUM unit, or a scale level."""
    spec = OUTCOME_TESTS[outcome["test"]]
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"outcome-{outcome['id']}",
        "status": "final",
        "code": {"coding": [{"system": OUTCOME_SYSTEM, "code": spec.key,
                             "display": spec.title}], "text": spec.title},
        "subject": subject,
        "effectiveDateTime": outcome["measured_on"],
        "method": {"text": outcome["protocol"]},
    }
    if spec.kind == "levels":  # an ordinal scale (Modified Ashworth 1+): its level as text
        observation["valueString"] = outcome["value"]
    else:
        observation["valueQuantity"] = {"value": float(outcome["value"]), "unit": spec.unit,
                                        "system": UCUM_SYSTEM, "code": spec.unit}
    return observation
