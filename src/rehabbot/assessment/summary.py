"""The end-of-session summary, and the one count of steps and strides that everything shows.

**One source of truth.** Steps, strides, cadence and walking time are counted from the
*kinematic* gait events of the hip and knee angles (:mod:`rehabbot.assessment.kinematic_events`
with the exoskeleton's :data:`~rehabbot.assessment.kinematic_events.EXOSKELETON` method, the
events a robot without foot switches has) and the complete strides of
:func:`~rehabbot.assessment.strides.stride_table`:

* ``strides_right`` / ``strides_left``: complete strides of each side;
* ``step_count``: their sum (each complete stride ends with one step of its side);
* ``walking_time_s``: the time covered by the complete strides (standing, a fault's limp legs
  and the start-up are not walking);
* ``cadence_steps_per_min``: the mean over the complete strides of 120 / stride time.

:class:`GaitCounts` computes them from the stride tables; the session summary (stored by the
runner, printed by ``rehabbot sessions show``), the report and the exports (CSV, HDF5: one row
per complete stride) and the console's live counter all use it. The simulator's foot contact is
kept beside them only as a labelled cross-check (``contact_strides_right`` / ``_left``, foot
strikes of the cleaned contact minus one): it exists in simulation only.

Per joint: the range of motion (mean over the side's complete strides, deg; the whole record's
range when there is none), the RMS tracking error (deg) and the peak |torque| (N·m). Angles are
reported in degrees (an edge of the system).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from rehabbot.assessment.alarm_text import plain_fault_line
from rehabbot.assessment.contact_events import foot_strikes
from rehabbot.assessment.kinematic_events import EXOSKELETON, SIDE_SUFFIX, SIDES, detect_events
from rehabbot.assessment.strides import stride_table, walking_time_s
from rehabbot.hal.types import BoolArray, FloatArray
from rehabbot.storage.summary import StoredSummary

#: Joints whose angles the kinematic events need (both sides).
EVENT_JOINTS = tuple(f"{kind}{SIDE_SUFFIX[side]}" for side in SIDES
                     for kind in ("hip_flexion", "knee_angle"))


@dataclass(frozen=True)
class GaitCounts:
    """Steps, strides, walking time and cadence from complete strides.

    Attributes:
        step_count: complete strides of both sides (one step each).
        strides_right, strides_left: complete strides per side.
        walking_time_s: time covered by the complete strides (s).
        cadence_steps_per_min: mean over the complete strides of 120 / stride time; NaN
            without a stride.
    """

    step_count: int
    strides_right: int
    strides_left: int
    walking_time_s: float
    cadence_steps_per_min: float

    @classmethod
    def from_tables(cls, tables: Mapping[str, Mapping[str, FloatArray]]) -> GaitCounts:
        """The counts of per-side stride tables (:func:`~rehabbot.assessment.strides.stride_table`).

        >>> table = {"start_s": np.array([0.0, 1.0]), "end_s": np.array([1.0, 2.0]),
        ...          "cadence_steps_per_min": np.array([120.0, 120.0])}
        >>> GaitCounts.from_tables({"right": table, "left": table})
        GaitCounts(step_count=4, strides_right=2, strides_left=2, walking_time_s=2.0, \
cadence_steps_per_min=120.0)
        """
        right, left = (int(tables[s]["start_s"].size) for s in SIDES)
        cadences = np.concatenate([tables[s]["cadence_steps_per_min"] for s in SIDES])
        return cls(right + left, right, left, walking_time_s(tables),
                   float(cadences.mean()) if cadences.size else float("nan"))


NO_GAIT = GaitCounts(0, 0, 0, 0.0, float("nan"))
"""The counts of a recording without walking (or without hips and knees on both sides)."""


def gait_tables(t_s: FloatArray, q: FloatArray, joint_names: tuple[str, ...]
                ) -> dict[str, dict[str, FloatArray]] | None:
    """Per-side complete strides from the kinematic events of ``q`` (rad, columns named by
    ``joint_names``); None without a hip and a knee on both sides."""
    if not set(EVENT_JOINTS) <= set(joint_names) or len(t_s) < 3:
        return None
    angles = {name: q[:, j] for j, name in enumerate(joint_names) if name in EVENT_JOINTS}
    events = detect_events(np.asarray(t_s, dtype=float), angles, EXOSKELETON)
    return {side: stride_table(events, side) for side in SIDES}


def gait_counts(t_s: FloatArray, q: FloatArray, joint_names: tuple[str, ...]) -> GaitCounts:
    """:class:`GaitCounts` of a recording's joint angles (the one count everything shows)."""
    tables = gait_tables(t_s, q, joint_names)
    return NO_GAIT if tables is None else GaitCounts.from_tables(tables)


@dataclass(frozen=True)
class JointSummary:
    """Per-joint figures: range of motion and RMS tracking error (deg), peak |torque| (N·m)."""

    name: str
    rom_deg: float
    rms_error_deg: float
    peak_torque_nm: float


@dataclass(frozen=True)
class SessionSummary:
    """What the CLI prints at the end of a session and the store keeps.

    Attributes:
        duration_s: recorded time (s).
        step_count, strides_right, strides_left, walking_time_s, cadence_steps_per_min: the
            :class:`GaitCounts` of the kinematic events.
        contact_strides_right, contact_strides_left: strides from the simulator's foot contact
            (foot strikes minus one), a cross-check only; 0 without contact sensing.
        joints: per-joint figures.
    """

    duration_s: float
    step_count: int
    strides_right: int
    strides_left: int
    walking_time_s: float
    cadence_steps_per_min: float
    contact_strides_right: int
    contact_strides_left: int
    joints: tuple[JointSummary, ...]

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return asdict(self)


def _per_stride_rom(t_s: FloatArray, q: FloatArray, start_s: FloatArray,
                    end_s: FloatArray) -> float:
    """Mean over strides ``[start_s, end_s)`` of the range of ``q``; the whole range without."""
    if start_s.size == 0:
        return float(np.ptp(q)) if q.size else float("nan")
    a, b = np.searchsorted(t_s, start_s), np.searchsorted(t_s, end_s)
    return float(np.mean([np.ptp(q[i:j]) for i, j in zip(a, b, strict=True) if j > i]))


def summarize(
    t_s: FloatArray,
    contact: BoolArray,
    q: FloatArray,
    q_ref: FloatArray,
    tau: FloatArray,
    joint_names: tuple[str, ...],
) -> SessionSummary:
    """Summarize a recording.

    Args:
        t_s: sample times (s), shape (n,).
        contact: foot contact, shape (n, 2), columns right, left (the cross-check only).
        q: joint angles (rad), shape (n, joints).
        q_ref: reference angles (rad), shape (n, joints).
        tau: measured joint torques (N·m), shape (n, joints).
        joint_names: joint names; the suffix ``_r``/``_l`` picks the side's strides.
    """
    tables = gait_tables(t_s, q, joint_names)
    counts = NO_GAIT if tables is None else GaitCounts.from_tables(tables)
    joints = []
    for j, name in enumerate(joint_names):
        side = "left" if name.endswith("_l") else "right"
        start = end = np.zeros(0)
        if tables is not None:
            start, end = tables[side]["start_s"], tables[side]["end_s"]
        error = np.degrees(q[:, j] - q_ref[:, j])
        joints.append(JointSummary(
            name=name,
            rom_deg=float(np.degrees(_per_stride_rom(t_s, q[:, j], start, end))),
            rms_error_deg=float(np.sqrt(np.mean(error**2))) if error.size else float("nan"),
            peak_torque_nm=float(np.max(np.abs(tau[:, j]))) if tau.size else float("nan"),
        ))
    contact_strides = [max(foot_strikes(t_s, contact[:, s]).size - 1, 0) if len(t_s) else 0
                       for s in (0, 1)]
    period = float(np.median(np.diff(t_s))) if t_s.size > 1 else 0.0
    return SessionSummary(
        duration_s=float(t_s[-1] - t_s[0] + period) if t_s.size else 0.0,
        step_count=counts.step_count,
        strides_right=counts.strides_right,
        strides_left=counts.strides_left,
        walking_time_s=counts.walking_time_s,
        cadence_steps_per_min=counts.cadence_steps_per_min,
        contact_strides_right=contact_strides[0],
        contact_strides_left=contact_strides[1],
        joints=tuple(joints),
    )


def _number(value: float | None, unit: str, digits: int = 1) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:.{digits}f} {unit}"


def summary_rows(summary: StoredSummary) -> list[tuple[str, str]]:
    """What the console and ``rehabbot sessions show`` print of a stored summary: label, value.

    A summary stored before the kinematic count (no ``step_count``) says so instead of showing
    its contact-based strides as if they were the same count.

    >>> rows = summary_rows(StoredSummary(
    ...     duration_s=12.0, step_count=16, strides_right=8, strides_left=8, walking_time_s=9.6,
    ...     cadence_steps_per_min=100.04, contact_strides_right=8, contact_strides_left=9))
    >>> rows[:4]
    [('duration', '12.0 s'), ('steps', '16'), ('strides (right / left)', '8 / 8'), \
('walking time', '9.6 s')]
    >>> rows[5]
    ('contact strides (simulator cross-check)', '8 / 9')
    """
    rows = [("duration", _number(summary.duration_s, "s"))]
    if summary.step_count is not None:
        rows += [("steps", str(summary.step_count)),
                 ("strides (right / left)", f"{summary.strides_right} / {summary.strides_left}"),
                 ("walking time", _number(summary.walking_time_s, "s")),
                 ("cadence", _number(summary.cadence_steps_per_min, "steps/min"))]
        if summary.contact_strides_right or summary.contact_strides_left:
            rows.append(("contact strides (simulator cross-check)",
                         f"{summary.contact_strides_right} / {summary.contact_strides_left}"))
    else:
        rows.append(("strides", "not counted (summary of an older version; see the report)"))
    for joint in summary.joints:
        rows.append((joint.name,
                     f"ROM {_number(joint.rom_deg, 'deg')} · RMS error "
                     f"{_number(joint.rms_error_deg, 'deg', 2)} · peak torque "
                     f"{_number(joint.peak_torque_nm, 'N·m')}"))
    faults = summary.faults
    rows.append(("faults", "; ".join(plain_fault_line(f) for f in faults) if faults else "none"))
    return rows
