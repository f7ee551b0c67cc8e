"""The types of patient records and how they sit in the store's rows: profile, fitting, outcome
tests, consent, audit entries, exports and erasure reports (pydantic models validating what a
person types, dataclasses for what is read back), the operator check, pseudonyms, and the row
helpers (:func:`patient_row`, :func:`record_of_row`, :func:`write_audit`) that
:mod:`~rehabbot.storage.records` and :mod:`~rehabbot.storage.erasure` share.

Units: lengths in m, mass in kg, joint angles in degrees (an edge of the system: what a
therapist measures and types), dates as :class:`datetime.date`, times of day ISO-8601 UTC text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rehabbot.body.range_of_motion import RangeOfMotion
from rehabbot.errors import ConfigurationError, StorageError, echo

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

def today() -> date:
    """Today's date where the clinic is (dates typed by people are local dates, not UTC)."""
    return date.today()

def _not_future(value: date | None, what: str) -> date | None:
    if value is not None and value > today():
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

def utc_now() -> str:
    """Now, as ISO-8601 UTC text with whole seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")

#: The columns of a ``patients`` row, in the order :func:`patient_row` reads them.
PATIENT_COLUMNS = ("id", "created_at", "code", *PROFILE_FIELDS)


def patient_row(db: sqlite3.Connection, code: str, store_path: Path) -> tuple[Any, ...]:
    """The ``patients`` row (:data:`PATIENT_COLUMNS`) of the patient with this code, read on
    ``db`` inside a store transaction.

    Raises:
        StorageError: there is no such patient in the store at ``store_path``.
    """
    row = db.execute(f"SELECT {', '.join(PATIENT_COLUMNS)} FROM patients WHERE code = ?",
                     (code,)).fetchone()
    if row is None:
        raise StorageError(f"no patient {code!r} in session store {store_path}; "
                           "`rehabbot patients list` shows the codes")
    return tuple(row)


def record_of_row(row: tuple[Any, ...]) -> PatientRecord:
    """A :class:`PatientRecord` from its ``patients`` row."""
    values = dict(zip(PATIENT_COLUMNS, row, strict=True))
    patient_id, created_at = values.pop("id"), values.pop("created_at")
    if values["birth_date"] is not None:
        values["birth_date"] = date.fromisoformat(values["birth_date"])
    # rows were validated when written, or come from SessionStore.ensure_patient, which
    # the session runner calls with whatever code it is given: not validated again
    return PatientRecord(patient_id, created_at, PatientProfile.model_construct(**values))


def write_audit(db: sqlite3.Connection, operator: str, action: str, patient_id: int | None,
                detail: Mapping[str, Any]) -> None:
    """Add one audit-log entry (now, UTC) on ``db`` inside the change's store transaction."""
    db.execute("INSERT INTO audit_log (at, operator, action, patient_id, detail) "
               "VALUES (?, ?, ?, ?, ?)",
               (utc_now(), operator, action, patient_id, json.dumps(dict(detail))))
