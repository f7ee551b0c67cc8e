"""Robot-based range-of-motion assessments (L-ROM-like), passive and active, in simulation.

**Passive ROM.** The patient hangs relaxed in the harness; the robot moves one joint slowly
(:data:`PASSIVE_SPEED_RAD_S`, below any stretch-reflex threshold) from the start pose toward one
end, the other joints held. The joint's resistance is the robot's torque less the legs' weight
from the model; where it first exceeds the threshold torque (:data:`THRESHOLD_NM`, 10 N·m, the
end-feel criterion of robot ROM tests), that angle is the passive limit. If the robot reaches its
own range of motion (its configuration's position limits) first, the robot's limit is reported
and flagged.

**Active ROM.** The robot is transparent on the tested joint (it carries the legs' weight only
and stops at its own range of motion) and holds the others; the patient reaches as far as they
can in one direction (:class:`~rehabbot.sim.patient.PatientTask`). The reached angle is the mean
over the last :data:`ACTIVE_SETTLE_WINDOW_S` of the trial.

Both run per joint and direction in a fresh bench (:mod:`~rehabbot.assessment.robot_bench`).
Angles are in rad here; :mod:`~rehabbot.assessment.robot_assessments` reports degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.assessment.robot_bench import AssessmentBench, check_joints, robot_limits_rad
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.sim.patient import (
    DIRECTION_SIGN,
    REACH_SPEED_RAD_S,
    Direction,
    PatientModel,
    PatientProfile,
    PatientTask,
)
from rehabbot.sim.world import ACTUATED_JOINTS

#: Resistance (N·m) at which a passive motion ends.
THRESHOLD_NM = 10.0
#: Speed (rad/s) of the passive motion: 10 deg/s.
PASSIVE_SPEED_RAD_S = math.radians(10.0)
#: The passive motion's speed rises linearly over this time (s); no end is detected before
#: :data:`DETECT_AFTER_S`.
RAMP_S = 0.2
DETECT_AFTER_S = 0.3
#: How long (s) the robot stays at its own limit before the passive motion ends there (no end
#: is detected meanwhile: stopping shakes the leg).
LIMIT_DWELL_S = 0.3
#: Active reach: time (s) after the intended angle passes the robot's limit, and the closing
#: window (s) averaged for the reached angle.
ACTIVE_SETTLE_S = 1.5
ACTIVE_SETTLE_WINDOW_S = 0.5
#: A reached angle this close (rad) to the robot's limit, or beyond it, counts as the robot's.
AT_LIMIT_RAD = math.radians(0.5)
#: Allowed threshold torques (N·m).
THRESHOLD_RANGE_NM = (2.0, 40.0)

DIRECTIONS: tuple[Direction, Direction] = ("extension", "flexion")


@dataclass(frozen=True)
class RangeOfMotion:
    """One joint's range of motion.

    Attributes:
        joint: the joint (a simulator joint name).
        extension_rad: end of the range toward extension (rad).
        flexion_rad: end of the range toward flexion (rad).
        extension_at_robot_limit: the robot's own limit ended the range toward extension.
        flexion_at_robot_limit: the robot's own limit ended the range toward flexion.
    """

    joint: str
    extension_rad: float
    flexion_rad: float
    extension_at_robot_limit: bool
    flexion_at_robot_limit: bool


def _robot_end(limits: tuple[float, float], direction: Direction) -> float:
    return limits[1] if direction == "flexion" else limits[0]


def _result(joint: str, ends: dict[str, tuple[float, bool]]) -> RangeOfMotion:
    return RangeOfMotion(joint, ends["extension"][0], ends["flexion"][0],
                         ends["extension"][1], ends["flexion"][1])


def assess_passive_rom(
    profile: PatientProfile,
    joints: tuple[str, ...] = ACTUATED_JOINTS,
    *,
    height_m: float = 1.75,
    mass_kg: float = 75.0,
    threshold_nm: float = THRESHOLD_NM,
    robot: RobotConfig | None = None,
    time_step_s: float = 0.001,
) -> list[RangeOfMotion]:
    """Passive range of motion of each of ``joints`` (module docstring) with ``robot`` (default
    the bundled ``sim_exo``).

    Raises:
        ConfigurationError: a joint is not an assessed hip or knee, or the threshold is outside
            :data:`THRESHOLD_RANGE_NM`.
    """
    check_joints(joints)
    low, high = THRESHOLD_RANGE_NM
    if not (math.isfinite(threshold_nm) and low <= threshold_nm <= high):
        raise ConfigurationError(
            f"passive ROM: threshold_nm = {threshold_nm} is outside [{low:g}, {high:g}] N·m")
    return [
        _result(joint, {d: _passive_end(profile, joint, d, height_m, mass_kg, threshold_nm,
                                        robot, time_step_s) for d in DIRECTIONS})
        for joint in joints
    ]


def _passive_end(
    profile: PatientProfile,
    joint: str,
    direction: Direction,
    height_m: float,
    mass_kg: float,
    threshold_nm: float,
    robot: RobotConfig | None,
    dt: float,
) -> tuple[float, bool]:
    """Move ``joint`` toward ``direction`` until its resistance reaches ``threshold_nm``; the
    angle then (rad), or the robot's limit, and whether it was the robot's limit."""
    sign = DIRECTION_SIGN[direction]
    with AssessmentBench(profile, height_m=height_m, mass_kg=mass_kg, robot=robot,
                         time_step_s=dt) as bench:
        end = _robot_end(bench.limits_rad(joint), direction)
        i = bench.index(joint)
        previous: tuple[float, float] | None = None
        at_limit_since: float | None = None
        while at_limit_since is None or bench.t_s - at_limit_since < LIMIT_DWELL_S:
            t = bench.t_s
            speed = PASSIVE_SPEED_RAD_S * min(t / RAMP_S, 1.0)
            target = bench.target[i] + sign * speed * dt
            if sign * (target - end) >= 0.0:
                target, speed = end, 0.0
                at_limit_since = t if at_limit_since is None else at_limit_since
            bench.target[i], bench.target_v[i] = target, sign * speed
            q = float(bench.q[i])
            resistance = sign * float(bench.step()[i] - bench.gravity_[i])
            if t >= DETECT_AFTER_S and at_limit_since is None:
                if resistance >= threshold_nm:
                    return _crossing(previous, (q, resistance), threshold_nm), False
                previous = (q, resistance)
        return float(bench.q[i]), True


def _crossing(
    before: tuple[float, float] | None, after: tuple[float, float], threshold_nm: float
) -> float:
    """The angle (rad) at which the resistance crossed ``threshold_nm`` between two samples
    ``(angle, resistance)``, by linear interpolation.

    >>> round(_crossing((0.0, 8.0), (1.0, 12.0), 10.0), 3)
    0.5
    """
    if before is None or after[1] <= before[1]:
        return after[0]
    share = (threshold_nm - before[1]) / (after[1] - before[1])
    return before[0] + share * (after[0] - before[0])


def assess_active_rom(
    profile: PatientProfile,
    joints: tuple[str, ...] = ACTUATED_JOINTS,
    *,
    height_m: float = 1.75,
    mass_kg: float = 75.0,
    robot: RobotConfig | None = None,
    time_step_s: float = 0.001,
) -> list[RangeOfMotion]:
    """Active range of motion of each of ``joints`` (module docstring) with ``robot`` (default
    the bundled ``sim_exo``).

    Raises:
        ConfigurationError: a joint is not an assessed hip or knee.
    """
    check_joints(joints)
    return [
        _result(joint, {d: _active_end(profile, joint, d, height_m, mass_kg, robot, time_step_s)
                        for d in DIRECTIONS})
        for joint in joints
    ]


def _active_end(
    profile: PatientProfile,
    joint: str,
    direction: Direction,
    height_m: float,
    mass_kg: float,
    robot: RobotConfig | None,
    dt: float,
) -> tuple[float, bool]:
    """Let the patient reach toward ``direction``; the reached angle (rad) and whether it is the
    robot's limit."""
    with AssessmentBench(profile, height_m=height_m, mass_kg=mass_kg, robot=robot,
                         time_step_s=dt) as bench:
        end = _robot_end(bench.limits_rad(joint), direction)
        i = bench.index(joint)
        bench.transparent[i] = True
        bench.set_task(PatientTask(joint, direction))
        duration = abs(end - bench.q[i]) / REACH_SPEED_RAD_S + ACTIVE_SETTLE_S
        steps = round(duration / dt)
        window = round(ACTIVE_SETTLE_WINDOW_S / dt)
        angles = np.zeros(steps)
        for n in range(steps):
            bench.step()
            angles[n] = bench.q[i]
    reached = float(np.mean(angles[-window:]))
    return reached, DIRECTION_SIGN[direction] * (reached - end) >= -AT_LIMIT_RAD


def expected_rom(
    patient: PatientModel,
    joint: str,
    *,
    active: bool,
    threshold_nm: float = THRESHOLD_NM,
    robot: RobotConfig | None = None,
) -> RangeOfMotion:
    """The true answer of a ROM test of ``patient``'s ``joint``: the model's passive limit at
    ``threshold_nm`` (passive) or its active limit (active), each kept within ``robot``'s range
    of motion (default the bundled ``sim_exo``'s; then flagged) as the test would report it."""
    limits = robot_limits_rad(load_robot_config() if robot is None else robot, joint)
    ends: dict[str, tuple[float, bool]] = {}
    for direction in DIRECTIONS:
        true = (patient.active_limit_rad(joint, direction) if active
                else patient.passive_limit_rad(joint, direction, threshold_nm))
        end = _robot_end(limits, direction)
        beyond = DIRECTION_SIGN[direction] * (true - end) >= 0.0
        ends[direction] = (end, True) if beyond else (true, False)
    return _result(joint, ends)
