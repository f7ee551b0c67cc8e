"""Patient records: profile, fitting, research consent, clinical outcomes, erasure and audit log.

:class:`PatientRecords` works on an open :class:`~rehabbot.storage.store.SessionStore` (the same
SQLite file, schema version 3). Every change takes an ``operator`` (who makes it) and leaves an
entry in the audit log (:class:`AuditEntry`: who, when in UTC, what as JSON). The log names a
patient by row id only, never by code, name or pseudonym, records which profile fields changed
but not their values, and holds no paths (folder names may carry names or codes). Erasure
empties the details of the patient's entries (fitting values, outcome values, a caller's own
text) and keeps who, when and what kind, so the file keeps nothing of the patient.

Validation: a bad value raises one :class:`~rehabbot.errors.ConfigurationError` naming each bad
field, its value and what is allowed; an unknown patient raises
:class:`~rehabbot.errors.StorageError`. Nothing here prints: the CLI
(:mod:`rehabbot.storage.cli`) and the console present the values.

Units: lengths in m, mass in kg, joint angles in degrees (an edge of the system: what a
therapist measures and types), dates as :class:`datetime.date`, times of day ISO-8601 UTC text.

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

import hashlib
import hmac
import json
import math
import os
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rehabbot.body.range_of_motion import RangeOfMotion
from rehabbot.errors import ConfigurationError, StorageError, echo
from rehabbot.storage.files import (
    DIR_MODE,
    move_into,
    relative_parts,
    remove_empty_folders,
    remove_tree_beneath,
    unlink_beneath,
)
from rehabbot.storage.store import SessionStore

JointKind = Literal["hip", "knee", "ankle"]
#: Widest range of motion a fitting may allow per joint kind (deg; flexion, dorsiflexion > 0).
ROM_BOUNDS_DEG: dict[str, tuple[float, float]] = {
    "hip": (-40.0, 140.0), "knee": (-10.0, 140.0), "ankle": (-50.0, 50.0),
}
#: Length of a pseudonym (hex digits of HMAC-SHA256; 64 bits).
PSEUDONYM_HEX_DIGITS = 16
#: Longest operator name accepted (characters).
MAX_OPERATOR_LENGTH = 100
#: Profile fields whose values never enter the audit log (only their names do).
PROFILE_FIELDS = ("display_name", "birth_date", "sex", "height_m", "mass_kg", "affected_side",
                  "diagnosis")
#: Name prefix of the private folder an export writes into before its files are moved in place.
STAGING_PREFIX = ".rehabbot-export-"
_EARLIEST_BIRTH = date(1900, 1, 1)
M = TypeVar("M", bound=BaseModel)


def _today() -> date:
    """Today's date where the clinic is (dates typed by people are local dates, not UTC)."""
    return date.today()


def _not_future(value: date | None, what: str) -> date | None:
    if value is not None and value > _today():
        raise ValueError(f"{what} {value.isoformat()} is in the future")
    return value


class PatientProfile(BaseModel):
    """Who the patient is and their body.

    Attributes:
        code: the clinic's patient code, unique in the store (letters, digits, ``-_.``, up to
            32 characters; e.g. ``"P-001"``); it never leaves the store (exports carry a
            pseudonym), and cannot be changed.
        display_name: name shown in the console.
        birth_date: date of birth (1900 or later, not in the future).
        sex: ``female``, ``male``, ``other`` or ``unknown``.
        height_m: body height (m, 0.5–2.5).
        mass_kg: body mass (kg, 10–300).
        affected_side: ``left``, ``right``, ``both`` or ``none``.
        diagnosis: free text, up to 200 characters (e.g. ``"ischaemic stroke, 3 months"``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    birth_date: date | None = None
    sex: Literal["female", "male", "other", "unknown"] | None = None
    height_m: float | None = Field(default=None, ge=0.5, le=2.5)
    mass_kg: float | None = Field(default=None, ge=10.0, le=300.0)
    affected_side: Literal["left", "right", "both", "none"] | None = None
    diagnosis: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, value: date | None) -> date | None:
        if value is not None and value < _EARLIEST_BIRTH:
            raise ValueError(f"birth date {value.isoformat()} is before 1900")
        return _not_future(value, "birth date")


class FittingParameters(BaseModel):
    """How the exoskeleton is fitted to the patient.

    Attributes:
        thigh_length_m: hip to knee joint centre (m, 0.25–0.60).
        shank_length_m: knee to ankle joint centre (m, 0.25–0.55).
        thigh_cuff_m: thigh cuff centre below the hip joint (m), within the thigh.
        shank_cuff_m: shank cuff centre below the knee joint (m), within the shank.
        rom_deg: allowed range of motion per joint kind (``hip``, ``knee``, ``ankle``; deg,
            flexion and dorsiflexion positive), each within :data:`ROM_BOUNDS_DEG`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    thigh_length_m: float = Field(ge=0.25, le=0.60)
    shank_length_m: float = Field(ge=0.25, le=0.55)
    thigh_cuff_m: float = Field(gt=0.0)
    shank_cuff_m: float = Field(gt=0.0)
    rom_deg: dict[JointKind, RangeOfMotion] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _within_body(self) -> Self:
        problems = []
        if self.thigh_cuff_m >= self.thigh_length_m:
            problems.append(f"thigh_cuff_m {self.thigh_cuff_m:g} m is not within the thigh "
                            f"(thigh_length_m {self.thigh_length_m:g} m)")
        if self.shank_cuff_m >= self.shank_length_m:
            problems.append(f"shank_cuff_m {self.shank_cuff_m:g} m is not within the shank "
                            f"(shank_length_m {self.shank_length_m:g} m)")
        for kind, rom in self.rom_deg.items():
            low, high = ROM_BOUNDS_DEG[kind]
            if rom.min_deg < low or rom.max_deg > high:
                problems.append(f"rom_deg.{kind} {rom.min_deg:g}..{rom.max_deg:g} deg is outside "
                                f"{low:g}..{high:g} deg")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class OutcomeTest:
    """A clinical outcome measure and what a value of it may be.

    Attributes:
        key: its name in the store and on the command line (e.g. ``"10mwt"``).
        title: its full name.
        unit: the unit of its raw value (UCUM; ``{score}`` for a scale).
        low, high: the allowed range of a numeric value (inclusive; ``low`` exclusive for
            ``kind == "positive"``).
        kind: ``"positive"`` (a measurement > low), ``"integer"`` (a score) or ``"levels"``.
        levels: the allowed values of a ``"levels"`` scale, in order.
    """

    key: str
    title: str
    unit: str
    kind: Literal["positive", "integer", "levels"]
    low: float = 0.0
    high: float = 0.0
    levels: tuple[str, ...] = ()

    @property
    def allowed(self) -> str:
        """What a value may be, for messages."""
        if self.kind == "levels":
            return "one of " + ", ".join(self.levels)
        if self.kind == "integer":
            return f"a whole number {self.low:g} to {self.high:g}"
        return f"a number above {self.low:g} and up to {self.high:g} {self.unit}"

    def canonical(self, value: str | float) -> str:
        """The value as stored (text), checked against the test's range.

        Raises:
            ValueError: the value is not allowed (the message says what is).
        """
        text = str(value).strip()
        if self.kind == "levels":
            if text not in self.levels:
                raise ValueError(f"{text!r} is not {self.allowed}")
            return text
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number; give {self.allowed}") from None
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not {self.allowed}")
        if self.kind == "integer":
            if number != round(number) or not self.low <= number <= self.high:
                raise ValueError(f"{text} is not {self.allowed}")
            return str(round(number))
        if not self.low < number <= self.high:
            raise ValueError(f"{text} {self.unit} is not {self.allowed}")
        return repr(number)


#: The outcome measures a record can hold, by key.
OUTCOME_TESTS: dict[str, OutcomeTest] = {t.key: t for t in (
    OutcomeTest("10mwt", "10-metre walk test (gait speed)", "m/s", "positive", 0.0, 4.0),
    OutcomeTest("6mwt", "6-minute walk test (distance)", "m", "positive", 0.0, 1200.0),
    OutcomeTest("tug", "Timed Up and Go", "s", "positive", 0.0, 600.0),
    OutcomeTest("fac", "Functional Ambulation Category", "{score}", "integer", 0.0, 5.0),
    OutcomeTest("mas", "Modified Ashworth Scale", "{score}", "levels",
                levels=("0", "1", "1+", "2", "3", "4")),
    OutcomeTest("berg", "Berg Balance Scale", "{score}", "integer", 0.0, 56.0),
)}


@dataclass(frozen=True)
class PatientRecord:
    """A patient as the records keep them.

    Attributes:
        id: row id in the store (what the audit log names).
        created_at: when the patient was added (ISO-8601 UTC).
        profile: who they are.
    """

    id: int
    created_at: str
    profile: PatientProfile

    @property
    def code(self) -> str:
        """The patient's code."""
        return self.profile.code


@dataclass(frozen=True)
class Consent:
    """Consent to research use of the patient's recordings.

    Attributes:
        research_use: whether the patient consented.
        consent_date: when they gave (or refused) it.
        recorded_at: when it was entered (ISO-8601 UTC).
    """

    research_use: bool
    consent_date: date
    recorded_at: str


@dataclass(frozen=True)
class OutcomeEntry:
    """One clinical outcome measurement, kept as entered.

    Attributes:
        id: row id.
        test: the :data:`OUTCOME_TESTS` key (``"10mwt"``, ``"mas"``, ...).
        value: the raw value as text (``"0.62"``, ``"1+"``, ``"42"``).
        unit: its unit (UCUM; ``{score}`` for scales).
        protocol: how the test was done (e.g. ``"comfortable speed, flying start"``, or for the
            Modified Ashworth Scale the muscle group and side).
        measured_on: the day of the test.
        recorded_at: when it was entered (ISO-8601 UTC).
    """

    id: int
    test: str
    value: str
    unit: str
    protocol: str
    measured_on: date
    recorded_at: str


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log.

    Attributes:
        id: row id, increasing with time.
        at: when (ISO-8601 UTC).
        operator: who.
        action: what kind of change (``patient.add``, ``patient.edit``, ``fitting.set``,
            ``consent.set``, ``outcome.add``, ``export``, ``patient.erase``, or a caller's own
            such as ``parameter.change``).
        patient_id: the patient's row id, if one patient is concerned.
        detail: what exactly, as JSON values; empty (``{}``) once that patient is erased.
    """

    id: int
    at: str
    operator: str
    action: str
    patient_id: int | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class ExportedFile:
    """A file an export wrote for a session.

    Attributes:
        session_id: the session exported (None for a file about the patient as a whole, e.g.
            their copy of their record).
        path: the file (absolute), inside ``root``.
        root: the export folder it was written into (absolute); erasure removes the file and
            then the folders it leaves empty below ``root``, and ``root`` itself (whose name may
            carry the patient's name) if an export created it.
    """

    session_id: int | None
    path: Path
    root: Path


@dataclass(frozen=True)
class ExportIntent:
    """An export under way, recorded before its first byte is written.

    Attributes:
        id: its row in ``export_intents``.
        staging: the private folder (0o700, inside ``root``) the files are written into first.
        root: the export folder the files are moved into when complete.
        session_id: the session exported, None for a patient's copy of their record.
    """

    id: int
    staging: Path
    root: Path
    session_id: int | None


@dataclass(frozen=True)
class ErasureReport:
    """What :meth:`PatientRecords.erase` removed.

    Attributes:
        patient_id: the erased patient's former row id.
        sessions: ids of the sessions deleted with their samples and events.
        files_deleted: export files deleted.
        files_missing: export files recorded but already gone.
        files_kept: export files kept because they hold other patients' data too (e.g. a BIDS
            ``dataset_description.json``).
        files_refused: recorded files not deleted because they lie outside their export folder
            or behind a symbolic link (recorded so by versions before schema 4, which resolved
            links): rehabbot deletes nothing outside the folders it wrote to; check them by hand.
    """

    patient_id: int
    sessions: tuple[int, ...]
    files_deleted: tuple[Path, ...]
    files_missing: tuple[Path, ...]
    files_kept: tuple[Path, ...]
    files_refused: tuple[Path, ...] = ()


def check_operator(operator: str) -> str:
    """The operator's name, stripped.

    Raises:
        ConfigurationError: it is empty or longer than :data:`MAX_OPERATOR_LENGTH`.
    """
    name = operator.strip() if isinstance(operator, str) else ""
    if not name or len(name) > MAX_OPERATOR_LENGTH:
        raise ConfigurationError(
            f"operator {echo(operator)} is not a name of 1 to {MAX_OPERATOR_LENGTH} characters; "
            "say who makes the change (--operator NAME or $REHABBOT_OPERATOR)"
        )
    return name


def invalid(what: str, exc: ValidationError) -> ConfigurationError:
    """One error naming ``what`` and, for each bad value, the field, the value and the rule."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"] if p != "[key]") or "value"
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        shown = "" if isinstance(given, Mapping) or error["type"] == "missing" else \
            f" (got {echo(given)})"
        parts.append(f"{field}: {message}{shown}")
    return ConfigurationError(f"{what}: " + "; ".join(parts))


def validated(model: type[M], values: Mapping[str, Any], what: str) -> M:
    """``values`` as a ``model`` (e.g. :class:`FittingParameters`).

    Raises:
        ConfigurationError: one message naming ``what`` and each bad value (:func:`invalid`).
    """
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise invalid(what, exc) from None


def pseudonym_of(key: bytes, code: str) -> str:
    """The keyed pseudonym of a patient code: HMAC-SHA256 with ``key``, first 16 hex digits.

    Stable for one key, unrelated across keys, and not reversible without the key.

    >>> pseudonym_of(b"k" * 32, "P-001") == pseudonym_of(b"k" * 32, "P-001")
    True
    >>> len(pseudonym_of(b"k" * 32, "P-001"))
    16
    """
    digest = hmac.new(key, code.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_DIGITS]


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_PATIENT_COLUMNS = ("id", "created_at", "code", *PROFILE_FIELDS)


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

    def _row(self, db: sqlite3.Connection, code: str) -> tuple[Any, ...]:
        row = db.execute(f"SELECT {', '.join(_PATIENT_COLUMNS)} FROM patients WHERE code = ?",
                         (code,)).fetchone()
        if row is None:
            raise StorageError(f"no patient {code!r} in session store {self.store.path}; "
                               "`rehabbot patients list` shows the codes")
        return tuple(row)

    @staticmethod
    def _record(row: tuple[Any, ...]) -> PatientRecord:
        values = dict(zip(_PATIENT_COLUMNS, row, strict=True))
        patient_id, created_at = values.pop("id"), values.pop("created_at")
        if values["birth_date"] is not None:
            values["birth_date"] = date.fromisoformat(values["birth_date"])
        # rows were validated when written, or come from SessionStore.ensure_patient, which
        # the session runner calls with whatever code it is given: not validated again
        return PatientRecord(patient_id, created_at, PatientProfile.model_construct(**values))

    def get(self, code: str) -> PatientRecord:
        """The patient with this code.

        Raises:
            StorageError: there is none.
        """
        with self.store._transaction(f"reading patient {code!r}", write=False) as db:
            return self._record(self._row(db, code))

    def list_patients(self) -> list[PatientRecord]:
        """Every patient, by id."""
        with self.store._transaction("listing patients", write=False) as db:
            rows = db.execute(
                f"SELECT {', '.join(_PATIENT_COLUMNS)} FROM patients ORDER BY id").fetchall()
        return [self._record(tuple(row)) for row in rows]

    def fitting(self, code: str) -> FittingParameters | None:
        """The patient's fitting, None if none was set.

        Raises:
            StorageError: no such patient.
        """
        with self.store._transaction(f"reading the fitting of {code!r}", write=False) as db:
            patient_id = self._row(db, code)[0]
            row = db.execute("SELECT parameters FROM fittings WHERE patient_id = ?",
                             (patient_id,)).fetchone()
        return None if row is None else FittingParameters.model_validate_json(row[0])

    def consent(self, code: str) -> Consent | None:
        """The patient's research consent, None if none was recorded (which counts as no).

        Raises:
            StorageError: no such patient.
        """
        with self.store._transaction(f"reading the consent of {code!r}", write=False) as db:
            patient_id = self._row(db, code)[0]
            row = db.execute("SELECT research_use, consent_date, recorded_at FROM consents "
                             "WHERE patient_id = ?", (patient_id,)).fetchone()
        return None if row is None else Consent(bool(row[0]), date.fromisoformat(row[1]), row[2])

    def consenting(self, patient_ids: set[int]) -> set[int]:
        """Those of ``patient_ids`` who consented to research use."""
        with self.store._transaction("reading consents", write=False) as db:
            rows = db.execute("SELECT patient_id FROM consents WHERE research_use = 1").fetchall()
        return patient_ids & {int(r[0]) for r in rows}

    def outcomes(self, code: str, test: str | None = None) -> list[OutcomeEntry]:
        """The patient's outcome entries (one test's if ``test`` is given), by date of test.

        Raises:
            StorageError: no such patient.
        """
        with self.store._transaction(f"reading the outcomes of {code!r}", write=False) as db:
            patient_id = self._row(db, code)[0]
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
        with self.store._transaction("reading the pseudonym key", write=False) as db:
            (key,) = db.execute(
                "SELECT value FROM installation WHERE name = 'pseudonym_key'").fetchone()
        return bytes(key)

    def audit_log(self, patient_id: int | None = None) -> list[AuditEntry]:
        """The audit log, oldest first; only entries about ``patient_id`` if given."""
        with self.store._transaction("reading the audit log", write=False) as db:
            rows = db.execute(
                "SELECT id, at, operator, action, patient_id, detail FROM audit_log "
                "WHERE ?1 IS NULL OR patient_id = ?1 ORDER BY id", (patient_id,),
            ).fetchall()
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    # -- changing ---------------------------------------------------------------------------

    @staticmethod
    def _audit(db: sqlite3.Connection, operator: str, action: str, patient_id: int | None,
               detail: Mapping[str, Any]) -> None:
        db.execute("INSERT INTO audit_log (at, operator, action, patient_id, detail) "
                   "VALUES (?, ?, ?, ?, ?)",
                   (_utc_now(), operator, action, patient_id, json.dumps(dict(detail))))

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
        with self.store._transaction(f"logging {action!r}", write=True) as db:
            patient_id = None if patient_code is None else self._row(db, patient_code)[0]
            self._audit(db, who, action.strip(), patient_id, detail)

    def add_patient(self, profile: PatientProfile, *, operator: str) -> PatientRecord:
        """Add a new patient.

        Raises:
            ConfigurationError: empty operator.
            StorageError: a patient with this code exists already.
        """
        who = check_operator(operator)
        values = profile.model_dump(mode="json")
        columns = ["code", *PROFILE_FIELDS]
        with self.store._transaction(f"adding patient {profile.code!r}", write=True) as db:
            if db.execute("SELECT 1 FROM patients WHERE code = ?", (profile.code,)).fetchone():
                raise StorageError(f"patient {profile.code!r} exists already; change it with "
                                   f"`rehabbot patients edit {profile.code}`")
            cursor = db.execute(
                f"INSERT INTO patients ({', '.join(columns)}, created_at) "
                f"VALUES ({', '.join('?' * len(columns))}, ?)",
                [*(values[c] for c in columns), _utc_now()],
            )
            patient_id = int(cursor.lastrowid or 0)
            self._audit(db, who, "patient.add", patient_id,
                        {"fields": sorted(f for f in PROFILE_FIELDS if values[f] is not None)})
            return self._record(self._row(db, profile.code))

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
        with self.store._transaction(f"changing patient {code!r}", write=True) as db:
            current = self._record(self._row(db, code))
            updated = validated(PatientProfile, current.profile.model_dump() | dict(changes),
                                f"patient {code!r}")
            old = current.profile.model_dump(mode="json")
            new = updated.model_dump(mode="json")
            changed = [f for f in PROFILE_FIELDS if old[f] != new[f]]
            if changed:
                db.execute(f"UPDATE patients SET {', '.join(f'{f} = ?' for f in changed)} "
                           "WHERE id = ?", [*(new[f] for f in changed), current.id])
                self._audit(db, who, "patient.edit", current.id, {"fields": changed})
            return self._record(self._row(db, code))

    def set_fitting(self, code: str, fitting: FittingParameters, *, operator: str) -> None:
        """Set the patient's fitting; the audit log keeps the old and the new parameters.

        Raises:
            ConfigurationError: empty operator.
            StorageError: no such patient.
        """
        who = check_operator(operator)
        text = fitting.model_dump_json()
        with self.store._transaction(f"setting the fitting of {code!r}", write=True) as db:
            patient_id = self._row(db, code)[0]
            row = db.execute("SELECT parameters FROM fittings WHERE patient_id = ?",
                             (patient_id,)).fetchone()
            db.execute("INSERT INTO fittings (patient_id, parameters, updated_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (patient_id) DO UPDATE SET parameters = excluded.parameters, "
                       "updated_at = excluded.updated_at", (patient_id, text, _utc_now()))
            self._audit(db, who, "fitting.set", patient_id,
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
        if consent_date > _today():
            raise ConfigurationError(f"consent date {consent_date.isoformat()} of {code!r} is in "
                                     "the future; give the day the patient signed")
        recorded_at = _utc_now()
        with self.store._transaction(f"recording the consent of {code!r}", write=True) as db:
            patient_id = self._row(db, code)[0]
            db.execute("INSERT INTO consents (patient_id, research_use, consent_date, recorded_at)"
                       " VALUES (?, ?, ?, ?) ON CONFLICT (patient_id) DO UPDATE SET "
                       "research_use = excluded.research_use, consent_date = "
                       "excluded.consent_date, recorded_at = excluded.recorded_at",
                       (patient_id, int(research_use), consent_date.isoformat(), recorded_at))
            self._audit(db, who, "consent.set", patient_id,
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
        if measured_on > _today():
            raise ConfigurationError(f"{spec.title}: test date {measured_on.isoformat()} is in "
                                     "the future")
        how = (protocol or spec.title).strip()
        if len(how) > 200:
            raise ConfigurationError(f"{spec.title}: the protocol text has {len(how)} "
                                     "characters; keep it to 200")
        recorded_at = _utc_now()
        with self.store._transaction(f"adding an outcome of {code!r}", write=True) as db:
            patient_id = self._row(db, code)[0]
            cursor = db.execute(
                "INSERT INTO outcomes (patient_id, test, value, unit, protocol, measured_on, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (patient_id, test, stored, spec.unit, how, measured_on.isoformat(), recorded_at))
            outcome_id = int(cursor.lastrowid or 0)
            self._audit(db, who, "outcome.add", patient_id,
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
        with self.store._transaction(f"recording a {fmt} export", write=True) as db:
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
                owners[f.session_id] = self.store._session_row(db, f.session_id, "patient_id")[0]
        now = _utc_now()
        db.executemany(
            "INSERT INTO exports (patient_id, session_id, format, path, root, exported_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(patient_id if f.session_id is None else owners[f.session_id], f.session_id, fmt,
              str(f.path), str(f.root), now) for f in files])
        return owners

    def _log_export(self, db: sqlite3.Connection, who: str, fmt: str, owners: Mapping[int, int],
                    files: list[ExportedFile], detail: Mapping[str, Any]) -> None:
        patients = sorted(set(owners.values()))
        self._audit(db, who, "export", patients[0] if len(patients) == 1 else None,
                    {"format": fmt, "sessions": sorted(owners), "patients": patients,
                     "files": len({f.path for f in files}), **detail})

    def audit_export(self, fmt: str, files: list[ExportedFile], *, operator: str,
                     detail: Mapping[str, Any]) -> None:
        """Log an export whose files :meth:`finish_export` recorded (see :meth:`record_export`).

        Raises:
            ConfigurationError: empty operator.
        """
        who = check_operator(operator)
        with self.store._transaction(f"logging a {fmt} export", write=True) as db:
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
        with self.store._transaction(f"recording a {fmt} export", write=True) as db:
            if session_id is not None:
                patient_id = self.store._session_row(db, session_id, "patient_id")[0]
            else:
                patient_id = self._row(db, patient_code or "")[0]
            cursor = db.execute(
                "INSERT INTO export_intents (patient_id, session_id, format, staging, root, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (patient_id, session_id, fmt, str(staging), str(root), _utc_now()))
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
        with self.store._transaction(f"recording a {fmt} export", write=True) as db:
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
        with self.store._transaction("forgetting a failed export", write=True) as db:
            db.execute("DELETE FROM export_intents WHERE id = ?", (intent.id,))

    def erase(self, code: str, *, operator: str) -> ErasureReport:
        """Erase a patient: export files, then every row, then every trace in the file.

        In one write transaction (so that no export can record or move a file meanwhile):
        deletes the export files recorded for the patient (not those that other patients'
        exports share), the staging folders of their exports that never completed, and the
        folders this leaves empty below each export folder (the export folder itself if an
        export created it), never following a link nor leaving the export folder; then the
        sessions with their parameters, events and samples, the outcomes, consent, fitting,
        export records and the patient row; empties the details of the patient's audit entries
        (keeping who, when and the action) and removes the export folder that entries of
        earlier versions kept from the exports that name the patient; and logs
        ``patient.erase`` (patient row id, session ids and counts only). Finally
        :meth:`compact` rewrites the file so that no deleted byte remains in it or in its
        write-ahead log.

        Raises:
            ConfigurationError: empty operator.
            StorageError: no such patient, a file that cannot be deleted (nothing is erased
                from the store then), or another connection kept the write-ahead log from being
                emptied (the rows are gone; run :meth:`compact` when it has closed).
        """
        who = check_operator(operator)
        deleted: list[Path] = []
        missing: list[Path] = []
        kept: list[Path] = []
        refused: list[Path] = []
        with self.store._transaction(f"erasing patient {code!r}", write=True) as db:
            patient_id = int(self._row(db, code)[0])
            sessions = tuple(int(r[0]) for r in db.execute(
                "SELECT id FROM sessions WHERE patient_id = ? ORDER BY id", (patient_id,)))
            mine = db.execute("SELECT DISTINCT path, root FROM exports WHERE patient_id = ?",
                              (patient_id,)).fetchall()
            shared = {r[0] for r in db.execute(
                "SELECT DISTINCT path FROM exports WHERE patient_id != ?", (patient_id,))}
            staged = db.execute("SELECT staging, root FROM export_intents WHERE patient_id = ?",
                                (patient_id,)).fetchall()
            created = {r[0] for r in db.execute("SELECT path FROM export_folders")}
            emptied: list[Path] = []
            for path_text, root_text in mine:
                path, root = Path(path_text), Path(root_text)
                if path_text in shared:
                    kept.append(path)
                    continue
                try:
                    (deleted if unlink_beneath(path, root) else missing).append(path)
                except StorageError:
                    refused.append(path)
                    continue
                emptied += remove_empty_folders(path.parent, root,
                                                remove_root=root_text in created)
            for staging_text, root_text in staged:
                staging, root = Path(staging_text), Path(root_text)
                try:
                    relative_parts(staging, root)
                    deleted += sorted(p for p in staging.rglob("*") if not p.is_dir())
                    remove_tree_beneath(staging, root)
                except StorageError:
                    refused.append(staging)
                    continue
                emptied += remove_empty_folders(root, root, remove_root=root_text in created)
            db.executemany("DELETE FROM export_folders WHERE path = ?",
                           [(str(f),) for f in emptied])
            for table in ("exports", "export_intents", "outcomes", "consents", "fittings"):
                db.execute(f"DELETE FROM {table} WHERE patient_id = ?", (patient_id,))
            db.execute("DELETE FROM sessions WHERE patient_id = ?", (patient_id,))
            db.execute("DELETE FROM patients WHERE id = ?", (patient_id,))
            db.execute("UPDATE audit_log SET detail = '{}' WHERE patient_id = ?", (patient_id,))
            db.execute("UPDATE audit_log SET detail = json_remove(detail, '$.out_dir') "
                       "WHERE action = 'export' AND EXISTS (SELECT 1 FROM json_each(detail, "
                       "'$.patients') WHERE value = ?)", (patient_id,))
            self._audit(db, who, "patient.erase", patient_id,
                        {"sessions": list(sessions), "files_deleted": len(deleted),
                         "files_missing": len(missing), "files_kept": len(kept),
                         "files_refused": len(refused)})
        self.compact()
        return ErasureReport(patient_id, sessions, tuple(deleted), tuple(missing), tuple(kept),
                             tuple(refused))

    def compact(self) -> None:
        """Rewrite the store without its free pages and empty its write-ahead log.

        SQLite keeps deleted rows' bytes in free pages and in the ``-wal`` file; ``VACUUM``
        rebuilds the file from the live rows only, and a ``TRUNCATE`` checkpoint copies the log
        into it and cuts the log to zero bytes.

        Raises:
            StorageError: another connection is reading or writing, so the log could not be
                emptied; close the other rehabbot programs and compact again.
        """
        with self.store._translated("compacting"):
            self.store._db.execute("VACUUM")
            busy, _, _ = self.store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise StorageError(
                f"another program has session store {self.store.path} open, so deleted data "
                "may remain in its write-ahead log; close the other rehabbot programs and run "
                "`rehabbot patients compact`"
            )

