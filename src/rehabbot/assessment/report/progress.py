"""The progress report's content across a patient's sessions: its table, header, plotted series
and the change from the first to the last complete session, judged against the minimal change
where the literature gives one (docs/metrics.md, "Progress report").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from rehabbot.assessment.gait_analysis import JOINT_KINDS, GaitAnalysis
from rehabbot.assessment.kinematic_events import SIDE_SUFFIX, SIDES
from rehabbot.assessment.parameter_rows import fmt
from rehabbot.assessment.report.loading import ProgressData, ReportData, number
from rehabbot.assessment.report.tables import Table, display_date


def side_mean(result: GaitAnalysis, key: str) -> float | None:
    """Mean of a parameter over the sides that have it."""
    means = [result.summary[s][key].mean for s in SIDES if key in result.summary[s]]
    return float(np.mean(means)) if means else None


def _joint_columns(progress: ProgressData) -> tuple[list[tuple[str, str]], list[str]]:
    """ROM columns (joint kind, side) and stored RMS tracking-error columns (joint names)."""
    rom = [(kind, side) for kind in JOINT_KINDS for side in SIDES
           if any(f"{kind}_rom_deg" in d.analysis.summary[side] for d in progress.sessions)]
    rms: list[str] = []
    for data in progress.sessions:
        for joint in data.summary.joints:
            if joint.name not in rms and number(joint.rms_error_deg) is not None:
                rms.append(joint.name)
    return rom, rms


def progress_table(progress: ProgressData) -> Table:
    """One row per analyzed session, in date order."""
    rom_columns, rms_columns = _joint_columns(progress)
    headers = ["date", "session", "status", "protocol", "duration (s)", "guidance (%)",
               "cadence (steps/min)", "stride time (s)",
               *(f"{JOINT_KINDS[kind]}{SIDE_SUFFIX[side]} ROM (deg)"
                 for kind, side in rom_columns),
               *(f"{name} RMS error (deg)" for name in rms_columns),
               "GPS (deg)", "stride time SI (%)", "feedback modes", "time in target band (%)",
               "patient's work share in swing (%)"]
    rows = []
    for data in progress.sessions:
        info, result = data.info, data.analysis
        rms = {j.name: number(j.rms_error_deg) for j in data.summary.joints}
        rom = []
        for kind, side in rom_columns:
            stat = result.summary[side].get(f"{kind}_rom_deg")
            rom.append(fmt(None if stat is None else stat.mean, 1))
        status = f"{info.status} (not comparable)" if incomplete(data) else info.status
        rows.append([display_date(info.started_at), str(info.id), status, info.protocol_name,
                     fmt(info.duration_s, 1),
                     fmt(number(result.assistance.get("guidance_pct")), 0),
                     fmt(result.cadence_steps_per_min, 1),
                     fmt(side_mean(result, "stride_time_s")), *rom,
                     *(fmt(rms.get(name)) for name in rms_columns),
                     fmt(result.movement_analysis_profile["overall"]["gps"]),
                     fmt(result.symmetry_pct.get("stride_time_s"), 1), *_engagement_cells(data)])
    return "Sessions (completed or faulted, in date order)", headers, rows


def _engagement_cells(data: ReportData) -> list[str]:
    """Feedback modes in effect, time in band (%), mean work share over the sides (%)."""
    found = data.engagement
    if found is None:
        return ["", "", ""]
    shares = [v for v in found.work_share_pct.values() if math.isfinite(v)]
    return [", ".join(found.by_mode) or "off", fmt(found.overall.pct, 1),
            fmt(float(np.mean(shares)) if shares else None, 1)]


def progress_header(progress: ProgressData) -> list[tuple[str, str]]:
    """The header: label and value."""
    first, last = progress.sessions[0].info, progress.sessions[-1].info
    return [("patient code", progress.patient_code),
            ("sessions", str(len(progress.sessions))),
            ("from", display_date(first.started_at)), ("to", display_date(last.started_at)),
            ("not analyzed (no complete stride)",
             ", ".join(map(str, progress.without_strides)) or "none")]


#: Smallest change worth attention, per progress series, where the literature gives one:
#: (value in the series' unit, what it is and its source). Series without one show their changes
#: unjudged. The GPS value is a minimal clinically important difference, which is at least the
#: minimal detectable change.
MINIMAL_CHANGE: dict[str, tuple[float, str]] = {
    "gps": (1.6, "MCID of the GPS, Baker et al. 2012, Gait Posture 35:612"),
}


#: Smallest span (in the series' unit) of a progress plot's y axis: small changes stay small
#: instead of being autoscaled into steep slopes.
MIN_SPAN = {"gps": 6.0, "cadence": 30.0, "hip_rom": 20.0, "knee_rom": 20.0}


def incomplete(data: ReportData) -> bool:
    """A session that did not end as planned (faulted or aborted): not comparable as is."""
    return data.info.status != "completed"


def progress_series(progress: ProgressData) -> list[tuple[str, str, list[float]]]:
    """The plotted series: key, label with unit, value per session (NaN where unknown)."""
    runs = progress.sessions

    def values(get: Callable[[ReportData], float | None]) -> list[float]:
        return [math.nan if (v := get(d)) is None else float(v) for d in runs]

    return [
        ("gps", "GPS (deg)",
         values(lambda d: d.analysis.movement_analysis_profile["overall"]["gps"])),
        ("cadence", "cadence (steps/min)", values(lambda d: d.analysis.cadence_steps_per_min)),
        ("hip_rom", "hip ROM (deg, mean of sides)",
         values(lambda d: side_mean(d.analysis, "hip_rom_deg"))),
        ("knee_rom", "knee ROM (deg, mean of sides)",
         values(lambda d: side_mean(d.analysis, "knee_rom_deg"))),
    ]


def change_table(progress: ProgressData) -> Table:
    """Each series' change from the first to the last complete session, judged against the
    minimal change where one is known."""
    complete = [i for i, d in enumerate(progress.sessions) if not incomplete(d)]
    rows = []
    for key, label, values in progress_series(progress):
        known = [i for i in complete if math.isfinite(values[i])]
        if len(known) < 2:
            rows.append([label, "", "", "", "fewer than two complete sessions"])
            continue
        first, last = values[known[0]], values[known[-1]]
        change = last - first
        minimal = MINIMAL_CHANGE.get(key)
        if minimal is None:
            verdict = "no published minimal change: not judged"
        else:
            verdict = ("beyond" if abs(change) >= minimal[0] else "within") + \
                f" ±{minimal[0]:g} ({minimal[1]})"
        rows.append([label, fmt(first, 1), fmt(last, 1), f"{change:+.1f}", verdict])
    return ("Change from the first to the last complete session",
            ["measure", "first", "last", "change", "against the minimal change"], rows)
