"""Patient records: profile, fitting, research consent, clinical outcomes, erasure and audit log.

:class:`PatientRecords` works on an open :class:`~rehabbot.storage.store.SessionStore` (the same
SQLite file). Every change takes an ``operator`` (who makes it) and leaves an
entry in the audit log (:class:`AuditEntry`: who, when in UTC, what as JSON). The log names a
patient by row id only, never by code, name or pseudonym, records which profile fields changed
but not their values, and holds no paths (folder names may carry names or codes). Erasure
empties the details of the patient's entries (fitting values, outcome values, a caller's own
text) and keeps who, when and what kind, so the file keeps nothing of the patient.

Validation: a bad value raises one :class:`~rehabbot.errors.ConfigurationError` naming each bad
field, its value and what is allowed; an unknown patient raises
:class:`~rehabbot.errors.StorageError`. Nothing here prints: the CLI
(:mod:`rehabbot.storage.patients_cli`) and the console present the values.

Units: lengths in m, mass in kg, joint angles in degrees (an edge of the system: what a
therapist measures and types), dates as :class:`datetime.date`, times of day ISO-8601 UTC text.

The types (profile, fitting, outcome tests, entries, reports) live in
:mod:`~rehabbot.storage.record_models`, erasure in :mod:`~rehabbot.storage.erasure`; every
statement runs in the store's public :meth:`~rehabbot.storage.store.SessionStore.transaction`.

Example::

    with SessionStore.open(path) as store:
        records = PatientRecords(store)
        records.add_patient(PatientProfile(code="P-001", height_m=1.72), operator="anna")
        records.set_consent("P-001", True, date(2026, 11, 2), operator="anna")
        records.add_outcome("P-001", "10mwt", 0.62, measured_on=date(2026, 11, 2),
                            operator="anna")
        records.erase("P-001", operator="anna")   # every row, recording and export file
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from rehabbot.errors import ConfigurationError, StorageError
from rehabbot.storage.erasure import erase_patient
from rehabbot.storage.files import (
    DIR_MODE,
    move_into,
    remove_tree_beneath,
)
from rehabbot.storage.record_models import (
    OUTCOME_TESTS,
    PATIENT_COLUMNS,
    PROFILE_FIELDS,
    STAGING_PREFIX,
    AuditEntry,
    Consent,
    ErasureReport,
    ExportedFile,
    ExportIntent,
    FittingParameters,
    OutcomeEntry,
    PatientProfile,
    PatientRecord,
    check_operator,
    patient_row,
    pseudonym_of,
    record_of_row,
    today,
    utc_now,
    validated,
    write_audit,
)
from rehabbot.storage.store import SessionStore


class PatientRecords:
    """The patient records of a store. Construct it on an open store; it does not own it.

    Example::

        records = PatientRecords(store)
        record = records.get("P-001")
        print(record.profile.height_m, records.consent("P-001"))
    """

    def __init__(self, store: SessionStore) -> None:
        """Work on ``store`` (kept open by the caller)."""
        self.store = store

    # -- reading ----------------------------------------------------------------------------

    def get(self, code: str) -> PatientRecord:
        """The patient with this code.

        Raises:
            StorageError: there is none.
        """
        with self.store.transaction(f"reading patient {code!r}", write=False) as db:
            return record_of_row(patient_row(db, code, self.store.path))

    def list_patients(self) -> list[PatientRecord]:
        """Every patient, by id."""
        with self.store.transaction("listing patients", write=False) as db:
            rows = db.execute(
                f"SELECT {', '.join(PATIENT_COLUMNS)} FROM patients ORDER BY id").fetchall()
        return [record_of_row(tuple(row)) for row in rows]

    def fitting(self, code: str) -> FittingParameters | None:
        """The patient's fitting, None if none was set.

        Raises:
            StorageError: no such patient.
        """
        with self.store.transaction(f"reading the fitting of {code!r}", write=False) as db:
            patient_id = patient_row(db, code, self.store.path)[0]
            row = db.execute("SELECT parameters FROM fittings WHERE patient_id = ?",
                             (patient_id,)).fetchone()
        return None if row is None else FittingParameters.model_validate_json(row[0])

    def consent(self, code: str) -> Consent | None:
        """The patient's research consent, None if none was recorded (which counts as no).

        Raises:
            StorageError: no such patient.
        """
        with self.store.transaction(f"reading the consent of {code!r}", write=False) as db:
            patient_id = patient_row(db, code, self.store.path)[0]
            row = db.execute("SELECT research_use, consent_date, recorded_at FROM consents "
                             "WHERE patient_id = ?", (patient_id,)).fetchone()
        return None if row is None else Consent(bool(row[0]), date.fromisoformat(row[1]), row[2])

    def consenting(self, patient_ids: set[int]) -> set[int]:
        """Those of ``patient_ids`` who consented to research use."""
        with self.store.transaction("reading consents", write=False) as db:
            rows = db.execute("SELECT patient_id FROM consents WHERE research_use = 1").fetchall()
        return patient_ids & {int(r[0]) for r in rows}

    def outcomes(self, code: str, test: str | None = None) -> list[OutcomeEntry]:
        """The patient's outcome entries (one test's if ``test`` is given), by date of test.

        Raises:
            StorageError: no such patient.
        """
        with self.store.transaction(f"reading the outcomes of {code!r}", write=False) as db:
            patient_id = patient_row(db, code, self.store.path)[0]
            rows = db.execute(
                "SELECT id, test, value, unit, protocol, measured_on, recorded_at FROM outcomes "
                "WHERE patient_id = ? AND (?2 IS NULL OR test = ?2) ORDER BY measured_on, id",
                (patient_id, test),
            ).fetchall()
        return [OutcomeEntry(r[0], r[1], r[2], r[3], r[4], date.fromisoformat(r[5]), r[6])
                for r in rows]

    def pseudonym(self, code: str) -> str:
        """The patient's pseudonym in research exports (:func:`pseudonym_of` with this store's
        key, made once when the store was created)."""
        return pseudonym_of(self._key(), code)

    def _key(self) -> bytes:
        with self.store.transaction("reading the pseudonym key", write=False) as db:
            (key,) = db.execute(
                "SELECT value FROM installation WHERE name = 'pseudonym_key'").fetchone()
        return bytes(key)

    def audit_log(self, patient_id: int | None = None) -> list[AuditEntry]:
        """The audit log, oldest first; only entries about ``patient_id`` if given."""
        with self.store.transaction("reading the audit log", write=False) as db:
            rows = db.execute(
                "SELECT id, at, operator, action, patient_id, detail FROM audit_log "
                "WHERE ?1 IS NULL OR patient_id = ?1 ORDER BY id", (patient_id,),
            ).fetchall()
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    # -- changing ---------------------------------------------------------------------------

    def log(self, action: str, detail: Mapping[str, Any], *, operator: str,
            patient_code: str | None = None) -> None:
        """Add an entry of the caller's own to the audit log (e.g. a live parameter change).

        Args:
            action: what kind of change, e.g. ``"parameter.change"``.
            detail: what exactly (JSON values; no names: the log outlives erasures).
            operator: who made it.
            patient_code: the patient concerned, if any (logged by row id).

        Raises:
            ConfigurationError: empty operator or action, or a detail that is not JSON.
            StorageError: no such patient.
        """
        who = check_operator(operator)
        if not action.strip():
            raise ConfigurationError("an audit entry needs an action, e.g. 'parameter.change'")
        try:
            json.dumps(dict(detail), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"audit detail of {action!r} is not JSON: {exc}") from None
        with self.store.transaction(f"logging {action!r}", write=True) as db:
            patient_id = None if patient_code is None else patient_row(
                db, patient_code, self.store.path)[0]
            write_audit(db, who, action.strip(), patient_id, detail)

    def add_patient(self, profile: PatientProfile, *, operator: str) -> PatientRecord:
        """Add a new patient.

        Raises:
            ConfigurationError: empty operator.
            StorageError: a patient with this code exists already.
        """
        who = check_operator(operator)
        values = profile.model_dump(mode="json")
        columns = ["code", *PROFILE_FIELDS]
        with self.store.transaction(f"adding patient {profile.code!r}", write=True) as db:
            if db.execute("SELECT 1 FROM patients WHERE code = ?", (profile.code,)).fetchone():
                raise StorageError(f"patient {profile.code!r} exists already; change it with "
                                   f"`rehabbot patients edit {profile.code}`")
            cursor = db.execute(
                f"INSERT INTO patients ({', '.join(columns)}, created_at) "
                f"VALUES ({', '.join('?' * len(columns))}, ?)",
                [*(values[c] for c in columns), utc_now()],
            )
            patient_id = int(cursor.lastrowid or 0)
            write_audit(db, who, "patient.add", patient_id,
                        {"fields": sorted(f for f in PROFILE_FIELDS if values[f] is not None)})
            return record_of_row(patient_row(db, profile.code, self.store.path))

    def update_profile(self, code: str, changes: Mapping[str, Any], *,
                       operator: str) -> PatientRecord:
        """Change fields of a patient's profile (a value of None clears the field).

        The audit log records which fields changed, not their values.

        Raises:
            ConfigurationError: empty operator, an unknown field, a bad value, or an attempt to
                change the code (pseudonyms derive from it).
            StorageError: no such patient.
        """
        who = check_operator(operator)
        if "code" in changes and changes["code"] != code:
            raise ConfigurationError(f"the code of patient {code!r} cannot be changed (research "
                                     "pseudonyms derive from it); add a new patient instead")
        with self.store.transaction(f"changing patient {code!r}", write=True) as db:
            current = record_of_row(patient_row(db, code, self.store.path))
            updated = validated(PatientProfile, current.profile.model_dump() | dict(changes),
                                f"patient {code!r}")
            old = current.profile.model_dump(mode="json")
            new = updated.model_dump(mode="json")
            changed = [f for f in PROFILE_FIELDS if old[f] != new[f]]
            if changed:
                db.execute(f"UPDATE patients SET {', '.join(f'{f} = ?' for f in changed)} "
                           "WHERE id = ?", [*(new[f] for f in changed), current.id])
                write_audit(db, who, "patient.edit", current.id, {"fields": changed})
            return record_of_row(patient_row(db, code, self.store.path))

    def set_fitting(self, code: str, fitting: FittingParameters, *, operator: str) -> None:
        """Set the patient's fitting; the audit log keeps the old and the new parameters.

        Raises:
            ConfigurationError: empty operator.
            StorageError: no such patient.
        """
        who = check_operator(operator)
        text = fitting.model_dump_json()
        with self.store.transaction(f"setting the fitting of {code!r}", write=True) as db:
            patient_id = patient_row(db, code, self.store.path)[0]
            row = db.execute("SELECT parameters FROM fittings WHERE patient_id = ?",
                             (patient_id,)).fetchone()
            db.execute("INSERT INTO fittings (patient_id, parameters, updated_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (patient_id) DO UPDATE SET parameters = excluded.parameters, "
                       "updated_at = excluded.updated_at", (patient_id, text, utc_now()))
            write_audit(db, who, "fitting.set", patient_id,
                        {"old": None if row is None else json.loads(row[0]),
                         "new": json.loads(text)})

    def set_consent(self, code: str, research_use: bool, consent_date: date, *,
                    operator: str) -> Consent:
        """Record the patient's research consent (replacing an earlier one).

        Raises:
            ConfigurationError: empty operator, or a consent date in the future.
            StorageError: no such patient.
        """
        who = check_operator(operator)
        if consent_date > today():
            raise ConfigurationError(f"consent date {consent_date.isoformat()} of {code!r} is in "
                                     "the future; give the day the patient signed")
        recorded_at = utc_now()
        with self.store.transaction(f"recording the consent of {code!r}", write=True) as db:
            patient_id = patient_row(db, code, self.store.path)[0]
            db.execute("INSERT INTO consents (patient_id, research_use, consent_date, recorded_at)"
                       " VALUES (?, ?, ?, ?) ON CONFLICT (patient_id) DO UPDATE SET "
                       "research_use = excluded.research_use, consent_date = "
                       "excluded.consent_date, recorded_at = excluded.recorded_at",
                       (patient_id, int(research_use), consent_date.isoformat(), recorded_at))
            write_audit(db, who, "consent.set", patient_id,
                        {"research_use": research_use, "consent_date": consent_date.isoformat()})
        return Consent(research_use, consent_date, recorded_at)

    def add_outcome(self, code: str, test: str, value: str | float, *, measured_on: date,
                    operator: str, unit: str | None = None,
                    protocol: str | None = None) -> OutcomeEntry:
        """Add a clinical outcome measurement, checked against its test.

        Args:
            code: the patient.
            test: a key of :data:`OUTCOME_TESTS` (``10mwt`` m/s, ``6mwt`` m, ``tug`` s, ``fac``
                0–5, ``mas`` 0/1/1+/2/3/4, ``berg`` 0–56).
            value: the raw value (a number, or for ``mas`` one of its levels).
            measured_on: the day of the test (not in the future).
            operator: who enters it.
            unit: the value's unit; must be the test's (the default).
            protocol: how the test was done (default: the test's title).

        Raises:
            ConfigurationError: unknown test, a value out of its range, another unit, a future
                date or an empty operator; one message naming the test and what is allowed.
            StorageError: no such patient.
        """
        who = check_operator(operator)
        spec = OUTCOME_TESTS.get(test)
        if spec is None:
            raise ConfigurationError(f"unknown outcome test {test!r}; known: "
                                     + ", ".join(f"{k} ({t.title})"
                                                 for k, t in OUTCOME_TESTS.items()))
        if unit is not None and unit != spec.unit:
            raise ConfigurationError(f"{spec.title}: unit {unit!r} is not its unit; give the "
                                     f"value in {spec.unit}")
        try:
            stored = spec.canonical(value)
        except ValueError as exc:
            raise ConfigurationError(f"{spec.title} value: {exc}") from None
        if measured_on > today():
            raise ConfigurationError(f"{spec.title}: test date {measured_on.isoformat()} is in "
                                     "the future")
        how = (protocol or spec.title).strip()
        if len(how) > 200:
            raise ConfigurationError(f"{spec.title}: the protocol text has {len(how)} "
                                     "characters; keep it to 200")
        recorded_at = utc_now()
        with self.store.transaction(f"adding an outcome of {code!r}", write=True) as db:
            patient_id = patient_row(db, code, self.store.path)[0]
            cursor = db.execute(
                "INSERT INTO outcomes (patient_id, test, value, unit, protocol, measured_on, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (patient_id, test, stored, spec.unit, how, measured_on.isoformat(), recorded_at))
            outcome_id = int(cursor.lastrowid or 0)
            write_audit(db, who, "outcome.add", patient_id,
                        {"outcome_id": outcome_id, "test": test, "value": stored,
                         "unit": spec.unit, "measured_on": measured_on.isoformat()})
        return OutcomeEntry(outcome_id, test, stored, spec.unit, how, measured_on, recorded_at)

    def record_export(self, fmt: str, files: list[ExportedFile], *, operator: str,
                      detail: Mapping[str, Any]) -> None:
        """Remember files written straight into place (a report) and log the export.

        Exports of sessions go through :meth:`begin_export` and :meth:`finish_export` instead,
        which record them before they are written.

        Args:
            fmt: the export format.
            files: every file written, with its session.
            operator: who exported.
            detail: what the audit entry says besides the format, sessions and patients (no
                paths and no typed text: folder names may carry names, codes or pseudonyms).

        Raises:
            ConfigurationError: empty operator.
            StorageError: a session that does not exist.
        """
        who = check_operator(operator)
        with self.store.transaction(f"recording a {fmt} export", write=True) as db:
            owners = self._insert_exports(db, fmt, files)
            self._log_export(db, who, fmt, owners, files, detail)

    def _insert_exports(self, db: sqlite3.Connection, fmt: str, files: list[ExportedFile],
                        patient_id: int | None = None) -> dict[int, int]:
        """Insert export rows; return session id → patient id of the sessions named.

        A file of no session belongs to ``patient_id``.
        """
        owners: dict[int, int] = {}
        for f in files:
            if f.session_id is not None and f.session_id not in owners:
                owners[f.session_id] = self.store.session_row(db, f.session_id, "patient_id")[0]
        now = utc_now()
        db.executemany(
            "INSERT INTO exports (patient_id, session_id, format, path, root, exported_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(patient_id if f.session_id is None else owners[f.session_id], f.session_id, fmt,
              str(f.path), str(f.root), now) for f in files])
        return owners

    def _log_export(self, db: sqlite3.Connection, who: str, fmt: str, owners: Mapping[int, int],
                    files: list[ExportedFile], detail: Mapping[str, Any]) -> None:
        patients = sorted(set(owners.values()))
        write_audit(db, who, "export", patients[0] if len(patients) == 1 else None,
                    {"format": fmt, "sessions": sorted(owners), "patients": patients,
                     "files": len({f.path for f in files}), **detail})

    def audit_export(self, fmt: str, files: list[ExportedFile], *, operator: str,
                     detail: Mapping[str, Any]) -> None:
        """Log an export whose files :meth:`finish_export` recorded (see :meth:`record_export`).

        Raises:
            ConfigurationError: empty operator.
        """
        who = check_operator(operator)
        with self.store.transaction(f"logging a {fmt} export", write=True) as db:
            owners = {int(sid): int(pid) for sid, pid in db.execute(
                "SELECT id, patient_id FROM sessions WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted({f.session_id for f in files if f.session_id is not None})),))}
            self._log_export(db, who, fmt, owners, files, detail)

    def begin_export(self, fmt: str, root: Path, *, root_created: bool,
                     session_id: int | None = None,
                     patient_code: str | None = None) -> ExportIntent:
        """Record an export of a session (or of a patient's own record) before it is written.

        The intent row names a new private staging folder inside ``root`` (mode 0o700, made
        after the row is committed), into which the exporter writes; :meth:`finish_export`
        moves the files into place, :meth:`abandon_export` deletes them. A process killed in
        between leaves the intent, so that erasing the patient deletes the staged files.
        ``root_created`` (the export created ``root``) is recorded at once, so that erasure
        removes the folder once empty even if the export never completes.

        Raises:
            StorageError: no such session or patient; the staging folder cannot be made.
        """
        staging = root / f"{STAGING_PREFIX}{secrets.token_hex(8)}"
        with self.store.transaction(f"recording a {fmt} export", write=True) as db:
            if session_id is not None:
                patient_id = self.store.session_row(db, session_id, "patient_id")[0]
            else:
                patient_id = patient_row(db, patient_code or "", self.store.path)[0]
            cursor = db.execute(
                "INSERT INTO export_intents (patient_id, session_id, format, staging, root, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (patient_id, session_id, fmt, str(staging), str(root), utc_now()))
            if root_created:
                db.execute("INSERT OR IGNORE INTO export_folders (path) VALUES (?)", (str(root),))
        intent = ExportIntent(int(cursor.lastrowid or 0), staging, root, session_id)
        try:
            os.mkdir(staging, DIR_MODE)
        except OSError as exc:
            self.abandon_export(intent)
            raise StorageError(f"cannot write into the export folder {root}: "
                               f"{exc.strerror or exc}; choose another folder (--out)") from None
        return intent

    def finish_export(self, intent: ExportIntent, fmt: str) -> list[ExportedFile]:
        """Move an export's staged files into its folder and record them, in one transaction.

        Holding the store's write lock, so that an erasure runs wholly before or after: if the
        patient was erased meanwhile (the intent is gone), nothing is moved, the staged files
        are deleted and :class:`StorageError` is raised. Files are moved with
        :func:`~rehabbot.storage.files.move_into` (no link followed, folders 0o700); if a move
        fails, those already moved are recorded and the rest stay staged under the intent.

        Args:
            intent: what :meth:`begin_export` returned.
            fmt: the export format.

        Returns:
            the files at their places, in name order.

        Raises:
            StorageError: the patient was erased meanwhile, or a file cannot be moved into
                place (a symbolic link in the way).
        """
        moved: list[Path] = []
        made: list[Path] = []
        failure: StorageError | None = None
        with self.store.transaction(f"recording a {fmt} export", write=True) as db:
            row = db.execute("SELECT patient_id FROM export_intents WHERE id = ?",
                             (intent.id,)).fetchone()
            if row is None:
                failure = StorageError(
                    f"the patient of session {intent.session_id} was erased while it was being "
                    "exported; nothing of it was written") if intent.session_id is not None \
                    else StorageError("the patient was erased while their record was being "
                                      "copied; nothing of it was written")
            else:
                try:
                    move_into(intent.staging, intent.root, moved, made)
                except StorageError as exc:
                    failure = exc
                self._insert_exports(db, fmt, [ExportedFile(intent.session_id, f, intent.root)
                                               for f in moved], patient_id=int(row[0]))
                db.executemany("INSERT OR IGNORE INTO export_folders (path) VALUES (?)",
                               [(str(f),) for f in made])
                if failure is None:
                    db.execute("DELETE FROM export_intents WHERE id = ?", (intent.id,))
        if failure is not None:
            if not moved:
                self.abandon_export(intent)
            raise failure
        remove_tree_beneath(intent.staging, intent.root)
        return [ExportedFile(intent.session_id, f, intent.root) for f in moved]

    def abandon_export(self, intent: ExportIntent) -> None:
        """Delete an export's staged files and its intent (the export failed)."""
        remove_tree_beneath(intent.staging, intent.root)
        with self.store.transaction("forgetting a failed export", write=True) as db:
            db.execute("DELETE FROM export_intents WHERE id = ?", (intent.id,))

    def erase(self, code: str, *, operator: str) -> ErasureReport:
        """Erase a patient: export files, every row, every trace in the file
        (:func:`~rehabbot.storage.erasure.erase_patient`, which says how).

        Raises:
            ConfigurationError: empty operator.
            StorageError: as :func:`~rehabbot.storage.erasure.erase_patient`.
        """
        return erase_patient(self.store, code, operator=operator)
