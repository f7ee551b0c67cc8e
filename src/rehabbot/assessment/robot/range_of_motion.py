"""Robot-based range-of-motion assessments (L-ROM-like), passive and active: their procedures
and their analysis from the recorded samples.

**Passive ROM.** The person relaxes; per joint and direction the robot moves the joint slowly
(:data:`PASSIVE_SPEED_RAD_S`, below any stretch-reflex threshold) from the start pose toward the
end of its range (a ``sweep`` step), the other joints held, then back. The joint's resistance is
the measured torque less the legs' weight; the sweep stops where it reaches the threshold torque
(:data:`~rehabbot.controllers.assessment_specs.THRESHOLD_NM`, 10 N·m, the end-feel criterion of
robot ROM tests), and the analysis finds the angle at which the recorded resistance crossed it. If
the sweep reaches the end of the range the robot may move the joint in this session first (its
hard limits and the protocol's range of motion,
:class:`~rehabbot.assessment.robot.recording.RobotSetup`), that end is reported and
flagged ``*_at_robot_limit``.

**Active ROM.** The robot is transparent on the tested joint (the legs' weight only, a stiff
wall near the end of the range, a ``free`` step) and holds the others; the person reaches as far
as they can in one direction. The reached angle is the mean over the last
:data:`ACTIVE_SETTLE_WINDOW_S` of the step. The wall stands inside the end of the range by
its give at the joint's torque limit (:func:`wall_rad`), so that the robot holds the joint inside
the range with all its torque; a person who pushes the wall that hard is stronger than the robot:
the reach ends there (the step's ``"saturated"`` end) and the wall is reported, flagged
``*_at_robot_limit``, instead of the joint being pushed past the robot's hard limit (a
``position_limit`` fault, as an athletic hip did in ``benchmarks/robot_assessments.py``).

Angles are in rad here; :mod:`~rehabbot.assessment.robot.registry` reports degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.assessment.robot.recording import (
    POSITIONING_SPEED_RAD_S,
    AssessmentRecording,
    RobotSetup,
    start_angle_rad,
)
from rehabbot.body.joints import DIRECTION_SIGN, DIRECTIONS, Direction
from rehabbot.controllers.assessment_specs import THRESHOLD_NM
from rehabbot.controllers.procedures import (
    DETECT_AFTER_S,
    HOLD_KP_NM_PER_RAD,
    RELAX,
    Instruction,
    Step,
)
from rehabbot.sim.patient import REACH_SPEED_RAD_S, PatientModel

#: Speed (rad/s) of the passive motion: 10 deg/s.
PASSIVE_SPEED_RAD_S = math.radians(10.0)
#: Active reach: time (s) after the intended angle passes the end of the range, and the closing
#: window (s) averaged for the reached angle.
ACTIVE_SETTLE_S = 1.5
ACTIVE_SETTLE_WINDOW_S = 0.5
#: A reached angle this close (rad) to the end of the range, or beyond it, counts as the robot's.
AT_LIMIT_RAD = math.radians(0.5)



@dataclass(frozen=True)
class RangeMeasurement:
    """One joint's range of motion as measured, and what ended it at each end.

    A measurement, not a :class:`~rehabbot.body.range_of_motion.RangeOfMotion` (which refuses an
    empty range): a patient who cannot move a joint at all gives an active range of about zero
    width, and that is a result to report, not an error.

    Attributes:
        joint: the joint (a robot joint name).
        extension_rad: end of the range toward extension (rad).
        flexion_rad: end of the range toward flexion (rad).
        extension_at_robot_limit: the robot's range, not the person, ended it toward extension.
        flexion_at_robot_limit: the robot's range, not the person, ended it toward flexion.
    """

    joint: str
    extension_rad: float
    flexion_rad: float
    extension_at_robot_limit: bool
    flexion_at_robot_limit: bool


def _end(setup: RobotSetup, joint: str, direction: Direction) -> float:
    return setup.high_rad[joint] if direction == "flexion" else setup.low_rad[joint]


def wall_rad(setup: RobotSetup, joint: str, direction: Direction) -> float:
    """Where the active reach's wall stands toward ``direction`` (rad): the end of the range,
    less the wall's give at the joint's torque limit (the robot's whole torque, which may
    carry the leg's weight at the end as well as push the wall).

    >>> from rehabbot.hal.config import load_robot_config
    >>> setup = RobotSetup.of(load_robot_config(), None, 1.75, 75.0)
    >>> round(math.degrees(wall_rad(setup, "hip_flexion_r", "flexion")), 1)  # (120 + 53) N·m
    56.3
    """
    end = _end(setup, joint, direction)
    push = setup.torque_max_nm[joint] + abs(setup.weight_at_nm(joint, end))
    return end - DIRECTION_SIGN[direction] * push / HOLD_KP_NM_PER_RAD


def _back(joint: str) -> Step:
    return Step("move", joint, "return", target_rad=start_angle_rad(joint),
                speed_rad_s=POSITIONING_SPEED_RAD_S)


def passive_steps(joints: tuple[str, ...], threshold_nm: float, setup: RobotSetup
                  ) -> tuple[Step, ...]:
    """Per joint: to the start angle, then a sweep toward each end and back."""
    steps: list[Step] = []
    for joint in joints:
        steps.append(_back(joint))
        for direction in DIRECTIONS:
            steps.append(Step("sweep", joint, "sweep", direction, RELAX,
                              target_rad=_end(setup, joint, direction),
                              speed_rad_s=PASSIVE_SPEED_RAD_S, threshold_nm=threshold_nm))
            steps.append(_back(joint))
    return tuple(steps)


def active_steps(joints: tuple[str, ...], setup: RobotSetup) -> tuple[Step, ...]:
    """Per joint: to the start angle, then a transparent reach toward each end and back."""
    steps: list[Step] = []
    for joint in joints:
        steps.append(_back(joint))
        low, high = wall_rad(setup, joint, "extension"), wall_rad(setup, joint, "flexion")
        for direction in DIRECTIONS:
            travel = abs(wall_rad(setup, joint, direction) - start_angle_rad(joint))
            steps.append(Step("free", joint, "reach", direction, Instruction(joint, direction),
                              duration_s=travel / REACH_SPEED_RAD_S + ACTIVE_SETTLE_S,
                              torque_max_nm=setup.torque_max_nm[joint],
                              low_rad=low, high_rad=high))
            steps.append(_back(joint))
    return tuple(steps)


def passive_rom(recording: AssessmentRecording, joints: tuple[str, ...], threshold_nm: float,
                setup: RobotSetup) -> list[RangeMeasurement]:
    """Each joint's passive range from its recorded sweeps (module docstring); a direction whose
    sweep did not run is NaN."""
    results = []
    for joint in joints:
        ends: dict[str, tuple[float, bool]] = {}
        for mark in recording.steps(joint, "sweep"):
            rows = recording.rows(mark)
            column = recording.column(joint)
            q = recording.samples.q[rows, column]
            if mark.ended_by == "limit":
                ends[mark.step.direction] = (float(q[-1]), True)
                continue
            if mark.ended_by != "threshold":
                continue
            sign = DIRECTION_SIGN[mark.step.direction]
            resistance = sign * (recording.samples.tau[rows, column]
                                 - recording.weight_nm(rows, joint))
            t = recording.samples.t_s[rows] - mark.start_t_s
            ends[mark.step.direction] = (
                crossing(q, resistance, threshold_nm, int(np.searchsorted(t, DETECT_AFTER_S))),
                False)
        results.append(_result(joint, ends))
    return results


def crossing(q: np.ndarray, resistance: np.ndarray, threshold_nm: float, first: int) -> float:
    """The angle (rad) at which ``resistance`` first reaches ``threshold_nm`` at or after
    sample ``first``, linearly interpolated between the samples around it (the last angle if it
    never does).

    >>> round(crossing(np.array([0.0, 1.0, 2.0]), np.array([8.0, 8.0, 12.0]), 10.0, 1), 3)
    1.5
    """
    above = np.flatnonzero(resistance[first:] >= threshold_nm)
    if above.size == 0:
        return float(q[-1])
    k = first + int(above[0])
    if k == 0 or resistance[k] <= resistance[k - 1]:
        return float(q[k])
    share = (threshold_nm - resistance[k - 1]) / (resistance[k] - resistance[k - 1])
    return float(q[k - 1] + share * (q[k] - q[k - 1]))


def active_rom(recording: AssessmentRecording, joints: tuple[str, ...], setup: RobotSetup,
               period_s: float) -> list[RangeMeasurement]:
    """Each joint's active range from its recorded reaches (module docstring)."""
    window = max(1, round(ACTIVE_SETTLE_WINDOW_S / period_s))
    results = []
    for joint in joints:
        ends: dict[str, tuple[float, bool]] = {}
        for mark in recording.steps(joint, "reach"):
            direction = mark.step.direction
            wall = wall_rad(setup, joint, direction)
            if mark.ended_by == "saturated":  # pushed the wall with the robot's whole torque
                ends[direction] = (wall, True)
                continue
            if mark.ended_by != "time":
                continue
            q = recording.samples.q[recording.rows(mark), recording.column(joint)]
            reached = float(np.mean(q[-window:]))
            ends[direction] = (reached, DIRECTION_SIGN[direction] * (reached - wall)
                               >= -AT_LIMIT_RAD)
        results.append(_result(joint, ends))
    return results


def _result(joint: str, ends: dict[str, tuple[float, bool]]) -> RangeMeasurement:
    missing = (math.nan, False)
    extension, flexion = ends.get("extension", missing), ends.get("flexion", missing)
    return RangeMeasurement(joint, extension[0], flexion[0], extension[1], flexion[1])


def expected_rom(
    patient: PatientModel,
    joint: str,
    setup: RobotSetup,
    *,
    active: bool,
    threshold_nm: float = THRESHOLD_NM,
) -> RangeMeasurement:
    """The true answer of a ROM test of a simulated ``patient``'s ``joint``: the model's
    passive limit at ``threshold_nm`` (passive) or its active limit (active), each kept within
    ``setup``'s range (then flagged) as the test would report it."""
    ends: dict[str, tuple[float, bool]] = {}
    for direction in DIRECTIONS:
        true = (patient.active_limit_rad(joint, direction) if active
                else patient.passive_limit_rad(joint, direction, threshold_nm))
        end = wall_rad(setup, joint, direction) if active else _end(setup, joint, direction)
        beyond = DIRECTION_SIGN[direction] * (true - end) >= 0.0
        ends[direction] = (end, True) if beyond else (true, False)
    return _result(joint, ends)
