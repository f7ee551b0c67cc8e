"""The session metrics that the HDF5 and FHIR exports carry, each with a UCUM unit and a code.

The values are those of the session report (:func:`~rehabbot.assessment.report.load_report_data`:
the gait analysis of the samples with the protocol's treadmill speed, the guidance and the
patient's height), so that an export and a report never disagree. Each metric has a local code
of rehabbot's gait-metric code system (:data:`LOCAL_SYSTEM`) and, where LOINC has a code with the
same meaning, that LOINC code too (:data:`LOINC_CODES`). docs/export.md has the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rehabbot.assessment.gait_analysis import JOINT_KINDS
from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.assessment.report import load_report_data
from rehabbot.errors import ReportError
from rehabbot.export.base import SessionData

#: Base URL of rehabbot's local FHIR definitions. rehabbot has no web domain: the reserved
#: ``.invalid`` top-level domain (RFC 2606) marks the URLs as local names that never resolve.
LOCAL_BASE = "https://rehabbot.invalid/fhir"
#: rehabbot's code system of gait metrics (codes: :attr:`Metric.code`).
LOCAL_SYSTEM = f"{LOCAL_BASE}/CodeSystem/gait-metrics"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
#: LOINC codes with the same meaning as a local metric: local code → (LOINC code, display).
LOINC_CODES = {
    "step-count": ("66334-4", "Steps taken"),
    "walking-time": ("55411-3", "Exercise duration"),
}


@dataclass(frozen=True)
class Metric:
    """One session metric.

    Attributes:
        code: local code (:data:`LOCAL_SYSTEM`), e.g. ``"cadence"`` or ``"knee-rom-right"``.
        title: human-readable name with its side, e.g. ``"Knee flexion range of motion, right"``.
        value: the value in ``unit``.
        unit: UCUM code of the unit (``{steps}/min``, ``m/s``, ``deg``, ``%``, ``s``, ``min``).
    """

    code: str
    title: str
    value: float
    unit: str

    @property
    def loinc(self) -> tuple[str, str] | None:
        """The LOINC (code, display) of the same meaning, if LOINC has one."""
        return LOINC_CODES.get(self.code)


_KIND_TITLES = {"hip": "Hip flexion", "knee": "Knee flexion", "ankle": "Ankle dorsiflexion"}


def session_metrics(data: SessionData) -> list[Metric]:
    """The metrics of a session; empty if it has no complete stride (nothing to measure).

    Metrics that cannot be computed (no treadmill speed in the protocol, a joint the robot
    lacks, too few strides) are left out rather than given as NaN.

    Raises:
        StorageError: the session cannot be read again from its store.
    """
    try:
        report = load_report_data(data.store_path, data.info.id)
    except ReportError:
        return []
    gait = report.analysis
    candidates: list[tuple[str, str, float | None, str]] = [
        ("step-count", "Steps taken", float(gait.step_count), "{steps}"),
        ("walking-time", "Walking time", gait.walking_time_s / 60.0, "min"),
        ("cadence", "Cadence", gait.cadence_steps_per_min, "{steps}/min"),
        ("walking-speed", "Walking speed (treadmill)", report.speed_m_s, "m/s"),
        ("walking-distance", "Walking distance", gait.distance_m, "m"),
        ("gait-profile-score", "Gait Profile Score (sagittal)",
         gait.movement_analysis_profile.get("overall", {}).get("gps"), "deg"),
        ("robot-guidance", "Robot guidance", gait.assistance.get("guidance_pct"), "%"),
    ]
    for side in SIDES:
        stats = gait.summary[side]
        for key, code, title, unit in [
            ("stride_time_s", "stride-time", "Stride time", "s"),
            ("stance_pct", "stance-phase", "Stance phase", "%"),
            *((f"{kind}_rom_deg", f"{kind}-rom", f"{_KIND_TITLES[kind]} range of motion", "deg")
              for kind in JOINT_KINDS),
        ]:
            stat = stats.get(key)
            candidates.append((f"{code}-{side}", f"{title}, {side}",
                               None if stat is None else stat.mean, unit))
    return [Metric(code, title, float(value), unit) for code, title, value, unit in candidates
            if value is not None and math.isfinite(value)]
