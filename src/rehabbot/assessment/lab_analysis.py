"""A gait-lab file analyzed with everything it knows, every choice stated, no walking refused.

:func:`analyze_recording` takes a :class:`~rehabbot.assessment.labfiles.GaitRecording` and

* takes the events from the file (``events="file"``), detects them from the angles
  (``"detect"``: the ``foot`` method with the ankle, else ``reach``; overground bias), or, by
  default, uses the file's when it has them and detects them otherwise; a side the file labels
  no event of is detected, with a warning; with both at hand the
  detected events are compared with the file's (mean and max |error| in ms, found, extra);
* takes the leg length, body mass and height from the file's ``PROCESSING`` parameters;
* measures the walking speed from the pelvis markers: the horizontal path length of the pelvis
  centre, low-passed at 6 Hz, over the complete strides, divided by their time (m/s); a pelvis that
  moves less than :data:`TREADMILL_BELOW_M_S` while the legs step means a treadmill, whose
  speed the markers do not show;
* analyzes whatever strides are complete (:func:`~rehabbot.assessment.gait_analysis.analyze_gait`)
  and says in plain warnings what it could not compute.

Only a recording without any event (no walking) is refused (:attr:`LabAnalysis.refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rehabbot.assessment.event_accuracy import Matching, match_events
from rehabbot.assessment.gait_analysis import GaitAnalysis, analyze_gait
from rehabbot.assessment.kinematic_events import (
    SIDES,
    SideEvents,
    detect_events,
    lowpass,
    overground_bias,
)
from rehabbot.assessment.labfiles import GaitRecording
from rehabbot.assessment.scores import DEFAULT_LEG_LENGTH_M, PROFILE_VARIABLES

#: Event sources ``analyze`` accepts.
EVENT_CHOICES = ("auto", "file", "detect")
#: Below this pelvis speed (m/s) while stepping, the trial is taken for treadmill walking.
TREADMILL_BELOW_M_S = 0.2


@dataclass
class LabAnalysis:
    """The result of :func:`analyze_recording`.

    Attributes:
        analysis: the gait analysis (events, strides, metrics); None when refused.
        events_used: "file" or "detected".
        detected: the events detected from the angles (s, by side).
        file_events: the events labelled in the file (s, by side), None when it has none.
        comparison: per event type, detected against the file's events (ms, counts).
        choices: what each input was taken from, in words (shown by ``analyze``).
        warnings: what could not be computed, and why.
        refusal: why nothing was analyzed (no walking), else None.
    """

    analysis: GaitAnalysis | None
    events_used: str
    detected: dict[str, SideEvents]
    file_events: dict[str, SideEvents] | None
    comparison: dict[str, dict[str, float]] | None
    choices: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Events, metrics, choices, warnings and the comparison as JSON values."""
        result: dict[str, Any] = {} if self.analysis is None else self.analysis.as_dict()
        result.update({
            "events_used": self.events_used,
            "detected_events": {side: e.as_dict() for side, e in self.detected.items()},
            "file_events": None if self.file_events is None else {
                side: e.as_dict() for side, e in self.file_events.items()},
            "events_comparison": self.comparison,
            "choices": self.choices,
            "warnings": self.warnings,
        })
        return result


def pelvis_speed_m_s(t_s: np.ndarray, pelvis_m: np.ndarray, start_s: np.ndarray,
                     end_s: np.ndarray) -> float | None:
    """Mean speed (m/s) of the pelvis centre over the strides [start, end) (s): its horizontal
    path length (X and Y: C3D labs have Z up), low-passed at 6 Hz, over the strides' total
    time; None without a usable stride.

    >>> t = np.arange(0.0, 3.0, 0.01)
    >>> pelvis = np.column_stack((1.2 * t, np.zeros(t.size), 0.9 + 0.02 * np.sin(9 * t)))
    >>> round(pelvis_speed_m_s(t, pelvis, np.array([0.5]), np.array([1.6])), 2)
    1.2
    """
    length = duration = 0.0
    for start, end in zip(start_s, end_s, strict=True):
        inside = (t_s >= start) & (t_s <= end)
        segment = pelvis_m[inside]
        if segment.shape[0] < 3 or not np.all(np.isfinite(segment)):
            continue
        smooth = np.column_stack([lowpass(t_s[inside], segment[:, k]) for k in range(2)])
        length += float(np.linalg.norm(np.diff(smooth, axis=0), axis=1).sum())
        duration += float(t_s[inside][-1] - t_s[inside][0])
    return length / duration if duration > 0 else None


def compare_events(detected: dict[str, SideEvents], labelled: dict[str, SideEvents]
                   ) -> dict[str, dict[str, float]]:
    """Detected against labelled events per type, both sides pooled: mean and max |error|
    (ms), mean error (ms), found/labelled (%), detected events with no labelled one."""
    result = {}
    for name in ("foot_strike", "foot_off"):
        m = Matching.combine(match_events(getattr(detected[side], name + "_s"),
                                          getattr(labelled[side], name + "_s"))
                             for side in SIDES)
        summary = m.summary_ms()
        result[name] = {"mean_abs_error_ms": summary["mae_ms"], "max_abs_error_ms":
                        summary["max_ms"], "mean_error_ms": summary["bias_ms"],
                        "found_pct": summary["detection_pct"], "extra": summary["false_events"]}
    return result


def analyze_recording(recording: GaitRecording, events: str = "auto",
                      speed_m_s: float | None = None, leg_length_m: float | None = None
                      ) -> LabAnalysis:
    """Analyze a gait-lab recording (see the module's docstring).

    Args:
        recording: the file's angles and context.
        events: "auto" (the file's events when it has them), "file" or "detect".
        speed_m_s: walking speed (m/s) given by the user; else measured from the markers.
        leg_length_m: leg length (m) given by the user; else the file's, else 0.9 m.

    Raises:
        ValueError: ``events`` is not one of :data:`EVENT_CHOICES`.
    """
    if events not in EVENT_CHOICES:
        raise ValueError(f"events must be one of {EVENT_CHOICES}, got {events!r}")
    t, angles, context = recording.t_s, recording.angles_rad, recording.context
    choices: dict[str, str] = {}
    warnings: list[str] = []
    bias = overground_bias(angles)
    detected = detect_events(t, angles, bias)
    labelled = None if context.events is None else {
        side: SideEvents(*context.events[side]) for side in SIDES}
    use_file = labelled is not None and events in ("auto", "file")
    if events == "file" and labelled is None:
        warnings.append("the file holds no labelled events: detected them from the angles")
    how = ("hip, knee and ankle angles (heel and toe reach)" if bias.method == "foot"
           else "hip and knee angles (ankle reach)")
    choices["events"] = ("labelled in the file (EVENT group)" if use_file
                         else f"detected from the {how}, bias fitted on 21 subjects")
    chosen = dict(detected)
    if use_file and labelled is not None:
        for side in SIDES:
            if labelled[side].foot_strike_s.size + labelled[side].foot_off_s.size:
                chosen[side] = labelled[side]
            else:
                warnings.append(f"{side} side: the file labels no event; detected from the "
                                f"angles")
    comparison = None if labelled is None else compare_events(detected, labelled)
    if not any(e.foot_strike_s.size + e.foot_off_s.size for e in chosen.values()):
        span = float(t[-1] - t[0])
        return LabAnalysis(None, "file" if use_file else "detected", detected, labelled,
                           comparison, choices, warnings,
                           refusal=f"{recording.path}: no walking found in {span:.2f} s of data: "
                                   f"no foot strike or foot off (the knees must flex and the "
                                   f"feet step); give a walking trial")
    for side in SIDES:
        if not chosen[side].foot_strike_s.size + chosen[side].foot_off_s.size:
            warnings.append(f"{side} side: no event (no labelled or detectable step)")
    leg, leg_from = DEFAULT_LEG_LENGTH_M, f"default {DEFAULT_LEG_LENGTH_M} m"
    if leg_length_m is not None:
        leg, leg_from = leg_length_m, "given (--leg-length)"
    elif context.leg_length_m is not None:
        leg, leg_from = context.leg_length_m, "the file (PROCESSING:LLegLength/RLegLength)"
    choices["leg_length"] = f"{leg:.3f} m from {leg_from}"
    if context.body_mass_kg is not None:
        choices["body_mass"] = f"{context.body_mass_kg:.1f} kg from the file (PROCESSING:Bodymass)"
    if context.point_units:
        choices["point_units"] = f"marker coordinates in {context.point_units} (POINT:UNITS)"
    first = analyze_gait(t, angles, hip_reference="pelvis", events=chosen, leg_length_m=leg,
                         speed_m_s=speed_m_s, profile_rad=recording.profile_rad)
    starts = np.concatenate([first.strides[s]["start_s"] for s in SIDES])
    ends = np.concatenate([first.strides[s]["end_s"] for s in SIDES])
    speed, speed_from = speed_m_s, "given (--speed)"
    if speed is None and context.pelvis_m is not None and starts.size:
        measured = pelvis_speed_m_s(t, context.pelvis_m, starts, ends)
        if measured is not None and measured >= TREADMILL_BELOW_M_S:
            speed, speed_from = measured, "the pelvis markers over the complete strides"
        elif measured is not None:
            speed_from = (f"none: the pelvis moves {measured:.2f} m/s while the legs step "
                          f"(treadmill walking; give --speed)")
    elif speed is None:
        speed_from = ("none: no pelvis markers" if context.pelvis_m is None
                      else "none: no complete stride")
    choices["speed"] = (f"{speed:.2f} m/s from {speed_from}" if speed is not None
                        else speed_from)
    result = first if speed is None or speed_m_s is not None else analyze_gait(
        t, angles, hip_reference="pelvis", events=chosen, leg_length_m=leg, speed_m_s=speed,
        profile_rad=recording.profile_rad)
    choices["normative_class"] = f"{result.speed_class} (from {result.speed_class_basis})"
    for side in SIDES:
        if result.strides[side]["start_s"].size == 0:
            warnings.append(f"{side} side: no complete stride (foot strike, other foot off, "
                            f"other foot strike, foot off, foot strike): no stride metrics, "
                            f"curves or GVS for this side")
    if result.gait_profile is None:
        warnings.append("Baker's Gait Profile Score needs the nine Plug-in Gait variables "
                        "(PelvisAngles, HipAngles, KneeAngles, AnkleAngles, FootProgressAngles): "
                        "only the sagittal GPS is given")
    else:
        missing = sorted({v for side in SIDES for v in PROFILE_VARIABLES
                          if v not in result.gait_profile.get(side, {})})
        if missing:
            warnings.append(f"Baker's GPS without {', '.join(missing)} (not in the file, or no "
                            f"complete stride of a side)")
    if result.step_count == 0:
        warnings.append("no complete stride on either side: events only; cadence, stride "
                        "parameters and scores need one")
    return LabAnalysis(result, "file" if use_file else "detected", detected, labelled,
                       comparison, choices, warnings)
