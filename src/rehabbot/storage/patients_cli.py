"""The ``rehabbot patients`` commands: ready to register with
``app.add_typer(patients_app, name="patients")``.

``list``, ``show CODE``, ``add CODE``, ``edit CODE`` (profile and fitting), ``consent CODE``,
``outcome CODE TEST VALUE``, ``erase CODE --yes``, ``audit`` and ``compact``. Only ``add``
creates the store; the others end with one line if there is none. Every change names
its operator (``--operator``, default ``$REHABBOT_OPERATOR`` or the login name) for the audit log.
The commands are a thin layer over :class:`~rehabbot.storage.records.PatientRecords`.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rehabbot.errors import ConfigurationError
from rehabbot.storage.record_models import (
    OUTCOME_TESTS,
    FittingParameters,
    PatientProfile,
    validated,
)
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore

OPERATOR_ENV_VAR = "REHABBOT_OPERATOR"

patients_app = typer.Typer(help="Patient records: profile, fitting, consent, outcomes, erasure, "
                                "audit log.", no_args_is_help=True)
#: Never parses markup: names, diagnoses, protocols and operators are shown as typed.
console = Console(markup=False)


def default_operator() -> str:
    """Who runs the command: ``$REHABBOT_OPERATOR``, else the login name."""
    return os.environ.get(OPERATOR_ENV_VAR) or getpass.getuser()


#: The ``--operator`` option of the commands that change or export records.
OperatorOption = Annotated[
    str | None,
    typer.Option("--operator", help=f"who does this, for the audit log \\[default: "
                                    f"${OPERATOR_ENV_VAR} or your login name]"),
]
#: The ``--store`` option.
StoreOption = Annotated[
    Path | None,
    typer.Option("--store",
                 help="session store file \\[default: $REHABBOT_STORE or user data dir]"),
]
Code = Annotated[str, typer.Argument(help="patient code (`rehabbot patients list`)")]
Name = Annotated[str | None, typer.Option("--name", help="name shown in the console")]
Birth = Annotated[str | None, typer.Option("--birth-date", help="date of birth, YYYY-MM-DD")]
Sex = Annotated[str | None, typer.Option(help="female, male, other or unknown")]
Height = Annotated[float | None, typer.Option("--height", help="body height (m)")]
Mass = Annotated[float | None, typer.Option("--mass", help="body mass (kg)")]
Side = Annotated[str | None, typer.Option("--affected-side", help="left, right, both or none")]
Diagnosis = Annotated[str | None, typer.Option(help="diagnosis (free text)")]


def _records(store: Path | None, *, create: bool = False) -> tuple[SessionStore, PatientRecords]:
    """The store (``--store`` or the default) and its records; only ``add`` may ``create`` it.

    Raises:
        StorageError: no store there and not ``create`` (one line naming the path).
    """
    st = SessionStore.open(store) if create else SessionStore.open_existing(store)
    return st, PatientRecords(st)


def _day(text: str | None, what: str) -> date:
    """``text`` as a date (today if None)."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"{what} {text!r} is not a date; write it YYYY-MM-DD") from None


def _profile_changes(name: str | None, birth_date: str | None, sex: str | None,
                     height: float | None, mass: float | None, affected_side: str | None,
                     diagnosis: str | None) -> dict[str, Any]:
    values = {"display_name": name, "birth_date": birth_date, "sex": sex, "height_m": height,
              "mass_kg": mass, "affected_side": affected_side, "diagnosis": diagnosis}
    return {k: v for k, v in values.items() if v is not None}


@patients_app.command("list")
def patients_list(store: StoreOption = None) -> None:
    """List the patients with their consent to research use and session count."""
    st, records = _records(store)
    with st:
        table = Table(title="Patients")
        for column in ("code", "name", "height (m)", "affected side", "research consent",
                       "sessions"):
            table.add_column(column)
        patients = records.list_patients()
        for p in patients:
            consent = records.consent(p.code)
            table.add_row(p.code, p.profile.display_name or "", str(p.profile.height_m or ""),
                          p.profile.affected_side or "",
                          "none" if consent is None else
                          f"{'yes' if consent.research_use else 'no'} ({consent.consent_date})",
                          str(len(st.list_sessions(p.id))))
    console.print(table if patients else "no patients yet: `rehabbot patients add CODE`")


@patients_app.command("show")
def patients_show(code: Code, as_json: Annotated[bool, typer.Option("--json")] = False,
                  store: StoreOption = None) -> None:
    """Show a patient's profile, fitting, consent, outcomes and research pseudonym."""
    st, records = _records(store)
    with st:
        record = records.get(code)
        fitting = records.fitting(code)
        consent = records.consent(code)
        document: dict[str, Any] = {
            "id": record.id, "created_at": record.created_at,
            "profile": record.profile.model_dump(mode="json"),
            "pseudonym": records.pseudonym(code),
            "fitting": None if fitting is None else fitting.model_dump(mode="json"),
            "consent": None if consent is None else {
                "research_use": consent.research_use,
                "consent_date": consent.consent_date.isoformat()},
            "outcomes": [{"test": o.test, "value": o.value, "unit": o.unit,
                          "protocol": o.protocol, "measured_on": o.measured_on.isoformat()}
                         for o in records.outcomes(code)],
        }
    if as_json:
        print(json.dumps(document, indent=2))
        return
    table = Table(title=f"Patient {code}", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in document["profile"].items():
        table.add_row(key, "" if value is None else str(value))
    table.add_row("research pseudonym", document["pseudonym"])
    table.add_row("consent", json.dumps(document["consent"]))
    table.add_row("fitting", json.dumps(document["fitting"]))
    for o in document["outcomes"]:
        table.add_row(f"{o['measured_on']} {OUTCOME_TESTS[o['test']].title}",
                      f"{o['value']} {o['unit']} ({o['protocol']})")
    console.print(table)


@patients_app.command("add")
def patients_add(code: Code, name: Name = None, birth_date: Birth = None, sex: Sex = None,
                 height: Height = None, mass: Mass = None, affected_side: Side = None,
                 diagnosis: Diagnosis = None, operator: OperatorOption = None,
                 store: StoreOption = None) -> None:
    """Add a patient."""
    profile = validated(PatientProfile, {"code": code, **_profile_changes(
        name, birth_date, sex, height, mass, affected_side, diagnosis)}, f"patient {code!r}")
    st, records = _records(store, create=True)
    with st:
        records.add_patient(profile, operator=operator or default_operator())
    console.print(f"added patient {code}")


@patients_app.command("edit")
def patients_edit(
    code: Code, name: Name = None, birth_date: Birth = None, sex: Sex = None,
    height: Height = None, mass: Mass = None, affected_side: Side = None,
    diagnosis: Diagnosis = None,
    clear: Annotated[list[str] | None, typer.Option(help="profile field to empty (repeatable)")]
    = None,
    thigh_length: Annotated[float | None, typer.Option(help="thigh length (m)")] = None,
    shank_length: Annotated[float | None, typer.Option(help="shank length (m)")] = None,
    thigh_cuff: Annotated[float | None, typer.Option(help="thigh cuff below the hip (m)")] = None,
    shank_cuff: Annotated[float | None, typer.Option(help="shank cuff below the knee (m)")] = None,
    rom: Annotated[list[str] | None, typer.Option(
        help="allowed range of motion KIND=MIN:MAX in deg, e.g. knee=0:70 (repeatable)")] = None,
    operator: OperatorOption = None, store: StoreOption = None,
) -> None:
    """Change a patient's profile and fitting (only the options given)."""
    who = operator or default_operator()
    changes = _profile_changes(name, birth_date, sex, height, mass, affected_side, diagnosis)
    changes |= dict.fromkeys(clear or [])
    fitting_changes: dict[str, Any] = {k: v for k, v in {
        "thigh_length_m": thigh_length, "shank_length_m": shank_length,
        "thigh_cuff_m": thigh_cuff, "shank_cuff_m": shank_cuff}.items() if v is not None}
    st, records = _records(store)
    with st:
        if changes:
            records.update_profile(code, changes, operator=who)
        if fitting_changes or rom:
            current = records.fitting(code)
            values = {} if current is None else current.model_dump(mode="json")
            values |= fitting_changes
            values["rom_deg"] = values.get("rom_deg", {}) | dict(_rom(text) for text in rom or [])
            records.set_fitting(code, validated(FittingParameters, values,
                                                f"fitting of {code!r}"), operator=who)
    console.print(f"changed patient {code}")


def _rom(text: str) -> tuple[str, dict[str, str]]:
    """``knee=0:70`` as ``("knee", {"min_deg": "0", "max_deg": "70"})``."""
    kind, _, limits = text.partition("=")
    low, _, high = limits.partition(":")
    if not (kind and low and high):
        raise ConfigurationError(f"--rom {text!r} is not KIND=MIN:MAX, e.g. knee=0:70")
    return kind.strip(), {"min_deg": low.strip(), "max_deg": high.strip()}


@patients_app.command("consent")
def patients_consent(
    code: Code,
    research_use: Annotated[bool, typer.Option("--yes/--no",
                                               help="consent to research use or not")],
    on: Annotated[str | None, typer.Option("--date", help="day signed \\[default: today]")] = None,
    operator: OperatorOption = None, store: StoreOption = None,
) -> None:
    """Record a patient's consent (or refusal) to research use of their recordings."""
    st, records = _records(store)
    with st:
        records.set_consent(code, research_use, _day(on, "consent date"),
                            operator=operator or default_operator())
    console.print(f"research consent of {code}: {'yes' if research_use else 'no'}")


@patients_app.command("outcome")
def patients_outcome(
    code: Code,
    test: Annotated[str, typer.Argument(help=", ".join(
        f"{k} ({t.unit})" for k, t in OUTCOME_TESTS.items()))],
    value: Annotated[str, typer.Argument(help="the raw value, e.g. 0.62 or 1+")],
    on: Annotated[str | None, typer.Option("--date", help="day of the test \\[default: today]")]
    = None,
    unit: Annotated[str | None, typer.Option(help="unit of the value \\[default: the test's]")]
    = None,
    protocol: Annotated[str | None, typer.Option(help="how the test was done")] = None,
    operator: OperatorOption = None, store: StoreOption = None,
) -> None:
    """Add a clinical outcome measurement (10MWT, 6MWT, TUG, FAC, MAS, Berg)."""
    st, records = _records(store)
    with st:
        entry = records.add_outcome(code, test, value, measured_on=_day(on, "test date"),
                                    unit=unit, protocol=protocol,
                                    operator=operator or default_operator())
    console.print(f"{code}: {OUTCOME_TESTS[test].title} {entry.value} {entry.unit}")


@patients_app.command("erase")
def patients_erase(
    code: Code,
    yes: Annotated[bool, typer.Option("--yes", help="confirm: erasure cannot be undone")] = False,
    operator: OperatorOption = None, store: StoreOption = None,
) -> None:
    """Erase a patient: every row, recording and export file the store knows of."""
    if not yes:
        raise ConfigurationError(f"erasing patient {code!r} deletes their sessions, records and "
                                 "exported files for good; add --yes to confirm")
    st, records = _records(store)
    with st:
        report = records.erase(code, operator=operator or default_operator())
    console.print(f"erased patient {code}: {len(report.sessions)} session(s), "
                  f"{len(report.files_deleted)} export file(s) deleted, "
                  f"{len(report.files_missing)} already gone, {len(report.files_kept)} kept "
                  "(shared with other patients' exports)")
    for path in report.files_refused:
        print(f"not deleted: {path} (outside its export folder or behind a symbolic link; "
              "rehabbot deletes nothing outside the folders it wrote to: check it by hand)",
              file=sys.stderr)


@patients_app.command("audit")
def patients_audit(
    code: Annotated[str | None, typer.Option("--patient", help="only this patient's entries")]
    = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    store: StoreOption = None,
) -> None:
    """Show the audit log: who changed, exported or erased what, and when (UTC)."""
    st, records = _records(store)
    with st:
        entries = records.audit_log(None if code is None else records.get(code).id)
        codes = {p.id: p.code for p in records.list_patients()}
    if as_json:
        print(json.dumps([vars(e) for e in entries], indent=2))
        return
    table = Table(title="Audit log")
    for column in ("at (UTC)", "operator", "action", "patient", "detail"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(e.at, e.operator, e.action, _patient_cell(e.patient_id, codes),
                      json.dumps(e.detail))
    console.print(table)


def _patient_cell(patient_id: int | None, codes: dict[int, str]) -> str:
    """The audit table's patient column: the code a therapist knows; ``erased`` once the patient
    is gone (ids are never reused, so the entry cannot be mistaken for another patient's).

    >>> _patient_cell(3, {3: "P-007"}), _patient_cell(4, {3: "P-007"}), _patient_cell(None, {})
    ('P-007', 'erased (id 4)', '')
    """
    if patient_id is None:
        return ""
    return codes.get(patient_id, f"erased (id {patient_id})")


@patients_app.command("compact")
def patients_compact(store: StoreOption = None) -> None:
    """Rewrite the store so that no deleted data remains in it (erase does this itself)."""
    st = SessionStore.open_existing(store)
    with st:
        st.compact()
    console.print(f"compacted {st.path}")
