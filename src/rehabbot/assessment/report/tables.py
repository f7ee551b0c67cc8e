"""The report's tables, format-free: title, column headers, rows of text cells (:data:`Table`),
which the HTML and PDF writers lay out; the analysis of a session as the report and
``rehabbot analyze`` show it (:func:`parameter_stats`).
"""

from __future__ import annotations

import json
from typing import Any

from rehabbot.assessment.alarm_text import plain_event
from rehabbot.assessment.biofeedback import PARTS
from rehabbot.assessment.engagement import Engagement
from rehabbot.assessment.gait_analysis import JOINT_KINDS, GaitAnalysis
from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.assessment.parameter_rows import (
    SPATIOTEMPORAL_ROWS,
    fmt,
    parameter_rows,
)
from rehabbot.assessment.report.loading import ReportData

#: Label of the normative band in plots and text.
NORMATIVE_LABEL = "normative band (Schwartz 2008, mean ± SD)"


#: Display name of each joint kind.
JOINT_TITLES = {"hip": "Hip flexion", "knee": "Knee flexion", "ankle": "Ankle dorsiflexion"}


#: Per-stride table: parameter key and column label with unit.
STRIDE_COLUMNS = (
    ("start_s", "start (s)"),
    ("stride_time_s", "stride time (s)"),
    ("step_time_s", "step time (s)"),
    ("cadence_steps_per_min", "cadence (steps/min)"),
    ("stance_pct", "stance (%)"),
    ("swing_pct", "swing (%)"),
    ("double_support_pct", "double support (%)"),
    *((f"{kind}_{p}", f"{kind} {label} (deg)") for kind in JOINT_KINDS
      for p, label in (("rom_deg", "ROM"), ("gvs_deg", "GVS"))),
)


#: Spatiotemporal and joint parameters of the report's per-side table: key and label with unit.
PARAMETER_ROWS = (
    *SPATIOTEMPORAL_ROWS,
    *((f"{kind}_{p}", f"{kind} {label} (deg)") for kind in JOINT_KINDS
      for p, label in (("rom_deg", "ROM"), ("max_deg", "max"), ("min_deg", "min"))),
    *((f"{kind}_{p}_{part}_nm", f"{kind} {label} in {part} (N·m)") for kind in JOINT_KINDS
      for part in PARTS
      for p, label in (("biofeedback", "biofeedback"), ("assist", "mean |commanded torque|"))),
)


Table = tuple[str, list[str], list[list[str]]]
"""A report table: title, column headers, rows of cells."""


def display_date(iso: str) -> str:
    """A stored ISO-8601 UTC time as reports and the console show it (one format everywhere).

    >>> display_date("2026-12-07T11:22:40+00:00"), display_date("2026-12-07")
    ('2026-12-07 11:22 UTC', '2026-12-07')
    """
    day, _, time_of_day = iso.partition("T")
    if not time_of_day:
        return day
    zone = " UTC" if time_of_day.endswith(("+00:00", "Z")) else ""
    return f"{day} {time_of_day[:5]}{zone}"


def header_rows(data: ReportData) -> list[tuple[str, str]]:
    """The header: label and value."""
    info, result = data.info, data.analysis
    return [
        ("session", str(info.id)),
        ("patient code", info.patient_code),
        ("protocol", info.protocol_name),
        ("date", display_date(info.started_at)),
        ("status", info.status),
        ("robot", info.robot_name),
        ("duration (s)", fmt(info.duration_s, 1)),
        ("treadmill speed (m/s)", fmt(data.speed_m_s)),
        ("normative class", f"{result.speed_class} (from {result.speed_class_basis})"),
    ]


def stride_table(result: GaitAnalysis) -> Table:
    """One row per complete stride of each side."""
    columns = [(key, label) for key, label in STRIDE_COLUMNS
               if any(key in result.strides[side] for side in SIDES)]
    rows = []
    for side in SIDES:
        table = result.strides[side]
        for i in range(table["start_s"].size):
            rows.append([side, str(i + 1), *(
                fmt(float(table[key][i])) if key in table else "" for key, _ in columns)])
    return "Strides", ["side", "stride", *(label for _, label in columns)], rows


def parameter_table(result: GaitAnalysis) -> Table:
    """Per-side mean ± SD and CV of each parameter, with the symmetry index."""
    rows = parameter_rows(result, PARAMETER_ROWS)
    return ("Spatiotemporal and joint parameters (mean ± SD over strides; SI: symmetry index)",
            ["parameter", "right", "CV (%)", "left", "CV (%)", "SI (%)"], rows)


def session_table(data: ReportData) -> Table:
    """Session totals and the robot's assistance."""
    result = data.analysis
    rows = [["steps", str(result.step_count)],
            ["strides (right / left)", " / ".join(str(result.strides[side]["start_s"].size)
                                                  for side in SIDES)],
            ["walking time (s)", fmt(result.walking_time_s)],
            ["cadence (steps/min)", fmt(result.cadence_steps_per_min, 1)],
            ["distance (m)", fmt(result.distance_m)]]
    guidance = result.assistance.get("guidance_pct")
    if guidance is not None:
        rows.append(["guidance (%)", fmt(guidance, 0)])
    for name, torque in result.assistance.get("mean_abs_torque_nm", {}).items():
        rows.append([f"mean |commanded torque| {name} (N·m)", fmt(torque)])
    for side, share in result.assistance.get("patient_work_share_swing_pct", {}).items():
        rows.append([f"patient's share of the positive work in swing, {side} (%)", fmt(share, 1)])
    if "patient_work_share_source" in result.assistance:
        rows.append(["patient's work share from", result.assistance["patient_work_share_source"]])
    return "Session", ["metric", "value"], rows


def score_table(result: GaitAnalysis) -> Table:
    """GVS per side and joint, GPS per side and overall (deg)."""
    profile = result.movement_analysis_profile
    kinds = [k for k in JOINT_KINDS if any(k in profile.get(s, {}) for s in SIDES)]
    rows = [[f"GVS {k} (deg)", *(fmt(profile[s].get(k, float("nan"))) for s in SIDES)]
            for k in kinds]
    rows.append(["GPS (deg)", *(fmt(profile[s]["gps"]) for s in SIDES)])
    rows.append(["overall GPS (deg)", fmt(profile["overall"]["gps"]), ""])
    return "Gait Variable Scores and Gait Profile Score", ["score", *SIDES], rows


def _detail_text(detail: str) -> tuple[dict[str, Any], str]:
    """A stored event's detail (JSON text): its values, and them as ``key value`` text."""
    try:
        values = json.loads(detail) if detail else {}
    except json.JSONDecodeError:
        return {}, detail
    if not isinstance(values, dict):
        return {}, str(values)
    text = ", ".join(f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else
                     f"{k.replace('_', ' ')} {v}" for k, v in values.items()
                     if v not in (None, ""))
    return values, text


def events_table(data: ReportData) -> Table:
    """The stored events in plain words (title, what happened and what to do, values in the
    report's units) beside the stored kind and values, and the summary's faults."""
    rows = []
    for t, kind, joint, detail in data.events:
        values, technical = _detail_text(detail)
        plain = plain_event(kind, joint or None, values)
        rows.append([fmt(t, 3), plain.title, plain.line,
                     f"{kind}{f' ({joint})' if joint else ''}: {technical}".rstrip(": ")])
    rows += [["", "fault (summary)", "", fault] for fault in data.faults]
    return ("Safety events and faults",
            ["time (s)", "event", "what happened, what to do", "as recorded (SI units)"], rows)


def engagement_table(found: Engagement) -> Table:
    """The feedback in effect, the time in the target band, the patient's work share."""
    rows = [[f"feedback from {t:.1f} s", settings.describe()] for t, settings in found.record]
    if not found.record:
        rows.append(["feedback", "none recorded (no patient display): off, band of the default"])
    for (kind, part), band in found.time_in_band.items():
        rows.append([f"time in the target band, {kind} in {part}",
                     f"{fmt(band.pct, 1)} % ({fmt(band.in_band_s, 1)} of "
                     f"{fmt(band.total_s, 1)} s)"])
    for mode, band in found.by_mode.items():
        rows.append([f"time in the target band with feedback {mode} (all joints and parts)",
                     f"{fmt(band.pct, 1)} % ({fmt(band.in_band_s, 1)} of "
                     f"{fmt(band.total_s, 1)} s)"])
    for side, share in found.work_share_pct.items():
        rows.append([f"patient's share of the positive work in swing, {side} (%)",
                     fmt(share, 1)])
    if found.work_share_source:
        rows.append(["patient's work share from", found.work_share_source])
    return "Engagement (patient display)", ["measure", "value"], rows


def engagement_stride_table(found: Engagement) -> Table:
    """Per stride: its feedback mode and band, and each biofeedback value (N·m; * in the band)."""
    keys = [(kind, part) for kind in JOINT_KINDS for part in PARTS
            if any(f"{kind}_biofeedback_{part}_nm" in found.strides[s] for s in SIDES)]
    rows = []
    for side in SIDES:
        table = found.strides[side]
        for i, start in enumerate(table["start_s"]):
            cells = []
            for kind, part in keys:
                values = table.get(f"{kind}_biofeedback_{part}_nm")
                inside = table.get(f"{kind}_in_band_{part}")
                cells.append("" if values is None or inside is None else
                             fmt(float(values[i]), 1) + (" *" if inside[i] else ""))
            rows.append([side, str(i + 1), fmt(float(start)), table["mode"][i],
                         f"{table['band_low_nm'][i]:g} to {table['band_high_nm'][i]:g}", *cells,
                         fmt(float(table["work_share_swing_pct"][i]), 1)])
    return ("Biofeedback per stride (N·m; * in the target band)",
            ["side", "stride", "start (s)", "feedback", "band (N·m)",
             *(f"{kind} {part}" for kind, part in keys), "patient's work share in swing (%)"],
            rows)


def report_tables(data: ReportData) -> list[Table]:
    """Every table of the report, in order."""
    found = data.engagement
    engagement_tables = [] if found is None else [engagement_table(found),
                                                  engagement_stride_table(found)]
    return [parameter_table(data.analysis), session_table(data), *engagement_tables,
            score_table(data.analysis), stride_table(data.analysis), events_table(data)]
