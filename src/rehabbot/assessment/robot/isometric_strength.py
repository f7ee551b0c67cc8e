"""Robot-based maximal isometric joint torque (L-FORCE-like): its procedure and its analysis
from the recorded samples.

After Bolliger et al. 2008: the robot moves the tested joint to a set angle and holds it there
stiffly (the other joints held at the start pose); the person rests, then pushes as hard as they
can toward flexion, rests again, then toward extension. The person's torque is the robot's
measured reaction less its mean over the second half of the preceding rest (which takes the
leg's weight and the passive torques out, as a dynamometer's gravity correction does); the
result per direction is the highest mean over any :data:`WINDOW_S` (1 s) of the effort: the peak
torque sustained over 1 s, in N·m and per kg of body mass. A rest of :data:`RECOVERY_S` follows
each joint's efforts.

A person stronger than the robot is not measured: if the measured torque reaches
:data:`AT_TORQUE_LIMIT` of the joint's ``torque_max_nm`` during an effort, the result is flagged
as the robot's limit.
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
from rehabbot.body.joints import DIRECTION_SIGN
from rehabbot.controllers.procedures import RELAX, Instruction, Step
from rehabbot.hal.types import FloatArray

#: Rest before each effort (s) (its last half is the baseline), effort duration (s), and the
#: window (s) over which the torque must be sustained.
REST_S = 1.0
EFFORT_S = 3.0
WINDOW_S = 1.0
#: Rest (s) after a joint's efforts, before anything else asks for torque: maximal efforts
#: heat the actuators (the supervisor's RMS-torque window) as they tire the person.
RECOVERY_S = 10.0
#: Share of the robot's torque limit from which an effort counts as limited by the robot.
AT_TORQUE_LIMIT = 0.99


@dataclass(frozen=True)
class IsometricTorque:
    """One joint's maximal voluntary isometric torques.

    Attributes:
        joint: the joint (a robot joint name).
        angle_rad: the angle the robot held (rad).
        flexion_nm: peak flexion torque sustained over :data:`WINDOW_S` (N·m, >= 0; NaN if the
            effort did not run to its end).
        extension_nm: peak extension torque sustained over :data:`WINDOW_S` (N·m, >= 0).
        flexion_at_robot_limit: the robot's torque limit, not the person, ended the flexion.
        extension_at_robot_limit: the robot's torque limit, not the person, ended the extension.
    """

    joint: str
    angle_rad: float
    flexion_nm: float
    extension_nm: float
    flexion_at_robot_limit: bool = False
    extension_at_robot_limit: bool = False


def sustained_peak(torque_nm: FloatArray, window: int) -> float:
    """The highest mean of ``torque_nm`` over ``window`` consecutive samples.

    >>> sustained_peak(np.array([0.0, 4.0, 2.0, 9.0, 0.0]), 2)
    5.5
    """
    return float(np.max(np.convolve(torque_nm, np.ones(window) / window, mode="valid")))


def isometric_steps(joints: tuple[str, ...], angles_rad: dict[str, float], setup: RobotSetup
                    ) -> tuple[Step, ...]:
    """Per joint: to its test angle (``angles_rad`` by joint kind), rest and push toward
    flexion, rest and push toward extension, back to the start angle.

    Raises:
        ConfigurationError: a test angle lies outside the joint's range in ``setup``.
    """
    steps: list[Step] = []
    for joint in joints:
        angle = angles_rad[joint.rsplit("_", 1)[0]]
        setup.check_angle(joint, angle, "isometric test angle")
        steps.append(Step("move", joint, "to_angle", target_rad=angle,
                          speed_rad_s=POSITIONING_SPEED_RAD_S))
        for direction in ("flexion", "extension"):
            steps.append(Step("hold", joint, "rest", direction, RELAX, duration_s=REST_S))
            steps.append(Step("hold", joint, "effort", direction, Instruction(joint, direction),
                              duration_s=EFFORT_S))
        steps.append(Step("hold", joint, "recovery", "flexion", RELAX, duration_s=RECOVERY_S))
        steps.append(Step("move", joint, "return", target_rad=start_angle_rad(joint),
                          speed_rad_s=POSITIONING_SPEED_RAD_S))
    return tuple(steps)


def isometric(recording: AssessmentRecording, joints: tuple[str, ...], setup: RobotSetup,
              period_s: float) -> list[IsometricTorque]:
    """Each joint's peak torques from its recorded rests and efforts (module docstring)."""
    window = max(1, round(WINDOW_S / period_s))
    results = []
    for joint in joints:
        column = recording.column(joint)
        tau = recording.samples.tau[:, column]
        peaks: dict[str, float] = {}
        limited: dict[str, bool] = {}
        moves = recording.steps(joint, "to_angle")
        angle = moves[0].step.target_rad if moves else math.nan
        rests = recording.steps(joint, "rest")
        for effort in recording.steps(joint, "effort"):
            rest = next(m for m in reversed(rests) if m.start_t_s < effort.start_t_s)
            direction = effort.step.direction
            if effort.ended_by != "time" or rest.ended_by != "time":
                continue
            rest_rows = recording.rows(rest)
            baseline = tau[rest_rows][(rest_rows.stop - rest_rows.start) // 2:].mean()
            reaction = tau[recording.rows(effort)]
            # the robot's reaction is opposite to the person's torque
            person = -DIRECTION_SIGN[direction] * (reaction - baseline)
            peaks[direction] = max(sustained_peak(person, min(window, person.size)), 0.0)
            limited[direction] = bool(
                np.max(np.abs(reaction)) >= AT_TORQUE_LIMIT * setup.torque_max_nm[joint])
        results.append(IsometricTorque(
            joint, angle, peaks.get("flexion", math.nan), peaks.get("extension", math.nan),
            limited.get("flexion", False), limited.get("extension", False)))
    return results
