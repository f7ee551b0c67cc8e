"""The end-of-session summary: strides, cadence, range of motion, tracking error, peak torques.

Events come from foot contact (:mod:`rehabbot.assessment.contact_events`). Per-stride values are
taken between consecutive foot strikes of the joint's own side; the first stride of each side is
left out as the start-up transient. Angles are reported in degrees (an edge of the system).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from rehabbot.assessment.contact_events import foot_strikes
from rehabbot.hal.types import BoolArray, FloatArray

SIDES = {"_r": 0, "_l": 1}


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
        strides_right, strides_left: complete strides per side.
        cadence_steps_per_min: steps per minute over the recorded foot strikes.
        joints: per-joint figures.
    """

    duration_s: float
    strides_right: int
    strides_left: int
    cadence_steps_per_min: float
    joints: tuple[JointSummary, ...]

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return asdict(self)


def _per_stride_rom(t_s: FloatArray, q: FloatArray, strikes: FloatArray) -> float:
    edges = np.searchsorted(t_s, strikes[1:])
    if edges.size < 2:
        return float(np.ptp(q)) if q.size else float("nan")
    roms = [np.ptp(q[a:b]) for a, b in itertools.pairwise(edges)]
    return float(np.mean(roms))


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
        contact: foot contact, shape (n, 2), columns right, left.
        q: joint angles (rad), shape (n, joints).
        q_ref: reference angles (rad), shape (n, joints).
        tau: measured joint torques (N·m), shape (n, joints).
        joint_names: joint names; the suffix ``_r``/``_l`` picks the side's strides.
    """
    strikes = [foot_strikes(t_s, contact[:, side]) for side in (0, 1)]
    all_strikes = np.sort(np.concatenate(strikes))
    if all_strikes.size >= 2 and all_strikes[-1] > all_strikes[0]:
        cadence = 60.0 * (all_strikes.size - 1) / float(all_strikes[-1] - all_strikes[0])
    else:
        cadence = float("nan")
    joints = []
    for j, name in enumerate(joint_names):
        side = SIDES.get(name[-2:], 0)
        error = np.degrees(q[:, j] - q_ref[:, j])
        joints.append(
            JointSummary(
                name=name,
                rom_deg=float(np.degrees(_per_stride_rom(t_s, q[:, j], strikes[side]))),
                rms_error_deg=float(np.sqrt(np.mean(error**2))) if error.size else float("nan"),
                peak_torque_nm=float(np.max(np.abs(tau[:, j]))) if tau.size else float("nan"),
            )
        )
    period = float(np.median(np.diff(t_s))) if t_s.size > 1 else 0.0
    return SessionSummary(
        duration_s=float(t_s[-1] - t_s[0] + period) if t_s.size else 0.0,
        strides_right=max(strikes[0].size - 1, 0),
        strides_left=max(strikes[1].size - 1, 0),
        cadence_steps_per_min=cadence,
        joints=tuple(joints),
    )
