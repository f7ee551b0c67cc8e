"""Reading what a report shows from the store: one session (:class:`ReportData`, analyzed by
:func:`~rehabbot.assessment.gait_analysis.analyze_samples` with the treadmill speed and guidance
from the session's protocol parameters and the leg length from the patient's height) or a
patient's sessions (:class:`ProgressData`); and a session's stored events.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehabbot.assessment.engagement import Engagement, engagement, feedback_record
from rehabbot.assessment.gait_analysis import GaitAnalysis, analyze_samples
from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.errors import ReportError, StorageError
from rehabbot.storage.store import SessionInfo, SessionStore
from rehabbot.storage.summary import StoredSummary
from rehabbot.storage.truth import MUSCLE_TORQUE, load_truth


@dataclass(frozen=True)
class ReportData:
    """What a report shows: the session's record, its analysis and its events.

    Attributes:
        info: the session's record.
        analysis: the gait metrics of its samples.
        speed_m_s: treadmill speed (m/s) from the protocol, if known.
        height_m: the patient's height (m), if known.
        events: the session's stored events: time (s), kind, joint, detail (JSON text).
        faults: the faults listed in the session's summary.
        summary: the session's stored summary (empty if it has none).
        engagement: the engagement measures, for a session with the robot's torques.
    """

    info: SessionInfo
    analysis: GaitAnalysis
    speed_m_s: float | None
    height_m: float | None
    events: list[tuple[float, str, str, str]]
    faults: list[str]
    summary: StoredSummary = field(default_factory=StoredSummary)
    engagement: Engagement | None = None


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def stored_events(store_path: Path, session_id: int) -> list[tuple[float, str, str, str]]:
    """A session's stored events, by time, read through a read-only connection.

    Each row is (loop time (s), kind, joint or ``""``, detail as JSON text or ``""``): the safety
    events (``fault:*``, ``warning:*``, ``stop:*``, ...), the console's commands
    (``console:*``, with the operator) and the runner's own (``phase_started``, ...).

    Raises:
        StorageError: the store cannot be read.
    """
    try:
        db = sqlite3.connect(f"{Path(store_path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT t_s, kind, joint, detail FROM events WHERE session_id = ? "
                              "ORDER BY t_s, id", (session_id,)).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the events of session {session_id} from {store_path}: "
                           f"{exc}") from None
    return [(float(t), str(kind), joint or "", detail or "") for t, kind, joint, detail in rows]


def load_report_data(store_path: Path, session_id: int) -> ReportData:
    """Read and analyze a session.

    Raises:
        StorageError: no store at ``store_path``, or no session ``session_id`` in it.
        ReportError: the session has no complete stride.
    """
    with SessionStore.open_existing(Path(store_path)) as store:
        info = store.get_session(session_id)
        samples = store.load_walking_samples(session_id)  # no assessment battery
        truth = load_truth(store, session_id, MUSCLE_TORQUE)  # a simulated session's
        parameters = store.session_parameters(session_id)
        summary = store.session_summary(session_id) or StoredSummary()
        try:
            patient = store.get_patient(info.patient_code)
            height, mass = patient.height_m, patient.mass_kg
        except StorageError:
            height = mass = None
    protocol = parameters.get("protocol")
    protocol = protocol if isinstance(protocol, dict) else {}
    speed_kmh = number(protocol.get("treadmill_speed_kmh"))
    speed = None if speed_kmh is None else speed_kmh / 3.6
    guidance = number(parameters.get("guidance_pct", protocol.get("guidance_pct")))
    try:
        analysis = analyze_samples(
            samples, speed_m_s=speed, height_m=height, guidance_pct=guidance, mass_kg=mass,
            muscle_torque_nm=None if truth is None else truth.acting_from(samples.tick),
        ) if len(samples) else None
    except KeyError:
        analysis = None
    if analysis is None or analysis.step_count == 0:
        raise ReportError(f"session {session_id} has no complete stride in {info.duration_s:.2f} s "
                          f"of data (a stride needs two foot strikes of one side); record a "
                          f"longer walking session")
    faults = list(summary.faults)
    events = stored_events(store_path, session_id)
    robot = any("_biofeedback_" in key for side in SIDES for key in analysis.strides[side])
    return ReportData(info, analysis, speed, height, events, faults, summary,
                      engagement(analysis, feedback_record(events)) if robot else None)


#: Session statuses the progress report includes.
PROGRESS_STATUSES = ("completed", "faulted")


@dataclass(frozen=True)
class ProgressData:
    """A patient's sessions for the progress report.

    Attributes:
        patient_code: the patient's code.
        sessions: the analyzed sessions, in date order.
        without_strides: ids of included sessions that have no complete stride (not analyzed).
    """

    patient_code: str
    sessions: list[ReportData]
    without_strides: list[int]


def load_progress_data(store_path: Path, patient_code: str) -> ProgressData:
    """Read and analyze every completed or faulted session of a patient, in date order.

    Raises:
        StorageError: no store at ``store_path``, or no such patient in it.
        ReportError: the patient has no completed or faulted session with a complete stride.
    """
    with SessionStore.open_existing(Path(store_path)) as store:
        patient = store.get_patient(patient_code)
        infos = [i for i in store.list_sessions(patient.id) if i.status in PROGRESS_STATUSES]
    infos.sort(key=lambda i: (i.started_at, i.id))
    sessions, without = [], []
    for info in infos:
        try:
            sessions.append(load_report_data(Path(store_path), info.id))
        except ReportError:
            without.append(info.id)
    if not sessions:
        raise ReportError(f"patient {patient_code!r} has no completed or faulted session with a "
                          f"complete stride ({len(infos)} such sessions in {store_path})")
    return ProgressData(patient_code, sessions, without)
