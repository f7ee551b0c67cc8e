"""Robot-based maximal isometric joint torque (L-FORCE-like): its procedure and its analysis
from the recorded samples.

After Bolliger et al. 2008: the robot moves the tested joint to a set angle and holds it there
stiffly (the other joints held at the start pose); the person rests, then pushes as hard as they
can toward flexion, rests again, then toward extension. The person's torque is the robot's
measured reaction less its mean over the last :data:`BASELINE_S` of the preceding rest (which
takes the leg's weight and the passive torques out, as a dynamometer's gravity correction does);
the result per direction is the highest mean over any :data:`WINDOW_S` (1 s) of the effort: the
peak torque sustained over 1 s, in N·m and per kg of body mass.

**Within the actuators' continuous rating.** Holding a maximal effort heats the drives: the
supervisor faults a joint whose RMS torque over its window (10 s) exceeds the actuator's
continuous rating (72 N·m at ``sim_exo``'s knees), and a strong person's 3-s effort against the
120 N·m torque limit would do that. As a dynamometer keeps its drive within its ratings, the
procedure plans each joint's efforts inside that budget (:func:`effort_plan`): the robot resists
an effort with at most a ceiling (the torque limit, or less where one whole effort at it, with
the leg's weight over the rest of the window, would take the window's RMS torque above the
supervisor's warning level), the efforts of a joint are far enough apart that no window holds
more effort than fits, and a whole window of rest follows a joint's last effort.

**A person stronger than the robot** reaches that ceiling: the effort ends at once (the hold
step's ``"saturated"`` end), the person is told to relax, the robot brings the joint back to the
test angle at the positioning speed, and the result is the highest torque the robot resisted,
less the baseline: a lower bound of the person's strength ("at least X N·m", flagged
``*_at_robot_limit``), not a fault that ends the session.
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
from rehabbot.body.joints import DIRECTION_SIGN, Direction
from rehabbot.controllers.procedures import RELAX, Instruction, Step
from rehabbot.hal.types import FloatArray

#: Shortest rest before an effort (s), the end of the rest that is the effort's baseline (s),
#: the effort's duration (s), and the window (s) over which the torque must be sustained.
REST_S = 1.0
BASELINE_S = 0.5
EFFORT_S = 3.0
WINDOW_S = 1.0


@dataclass(frozen=True)
class IsometricTorque:
    """One joint's maximal voluntary isometric torques.

    Attributes:
        joint: the joint (a robot joint name).
        angle_rad: the angle the robot held (rad).
        flexion_nm: peak flexion torque sustained over :data:`WINDOW_S` (N·m, >= 0; NaN if the
            effort did not run to its end).
        extension_nm: peak extension torque sustained over :data:`WINDOW_S` (N·m, >= 0).
        flexion_at_robot_limit: the person pushed harder toward flexion than the robot's
            ceiling: ``flexion_nm`` is a lower bound (the highest torque the robot resisted).
        extension_at_robot_limit: likewise toward extension.
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


@dataclass(frozen=True)
class EffortPlan:
    """How the robot holds one joint's efforts within its actuator's continuous rating.

    Attributes:
        torque_max_nm: the most torque the robot resists an effort with (N·m).
        rest_s: the rest between the joint's two efforts (s).
    """

    torque_max_nm: float
    rest_s: float


def effort_plan(setup: RobotSetup, joint: str, angle_rad: float) -> EffortPlan:
    """The ceiling and the rest of ``joint``'s efforts at ``angle_rad`` (module docstring).

    The budget of one RMS window ``W`` is ``(f C)² W`` (``C`` the continuous rating, ``f`` the
    supervisor's warning share); an effort lasts ``E`` (at most ``W`` of it in one window) at up
    to the ceiling ``T``; the rest of the window the robot carries the leg's weight ``w`` at the
    test angle. ``T`` is the torque limit, or ``sqrt(((f C)² W - w² (W - E)) / E)`` where that is
    less; a window holds ``((f C)² W - w² W) / (T² - w²)`` seconds of effort at ``T``, and where
    that is less than both efforts the rest between them is ``W`` less it.

    >>> from rehabbot.hal.config import load_robot_config
    >>> setup = RobotSetup.of(load_robot_config(), None, 1.75, 75.0)
    >>> knee = effort_plan(setup, "knee_angle_l", math.radians(45.0))
    >>> round(knee.torque_max_nm, 1), round(knee.rest_s, 1)   # 0.9 x 72 N·m over 10 s
    (117.2, 7.0)
    >>> hip = effort_plan(setup, "hip_flexion_l", math.radians(30.0))
    >>> hip.torque_max_nm, hip.rest_s  # 108 N·m continuous: the 120 N·m limit fits twice
    (120.0, 1.0)
    """
    window = setup.rms_window_s
    budget = (setup.rms_warn_fraction * setup.continuous_torque_nm[joint]) ** 2 * window
    weight = abs(setup.weight_at_nm(joint, angle_rad))
    effort = min(EFFORT_S, window)
    ceiling = min(setup.torque_max_nm[joint],
                  math.sqrt(max(budget - weight**2 * (window - effort), 0.0) / effort))
    fits = ((budget - weight**2 * window) / (ceiling**2 - weight**2) if ceiling > weight
            else 0.0)
    rest = REST_S if fits >= 2.0 * EFFORT_S else max(REST_S, window - fits)
    return EffortPlan(ceiling, rest)


def isometric_steps(joints: tuple[str, ...], angles_rad: dict[str, float], setup: RobotSetup
                    ) -> tuple[Step, ...]:
    """Per joint: to its test angle (``angles_rad`` by joint kind), rest and push toward
    flexion, back to the angle (where a push stronger than the robot moved it), rest and push
    toward extension, back to the angle, a whole RMS window of rest, back to the start angle.

    Raises:
        ConfigurationError: a test angle lies outside the joint's range in ``setup``.
    """
    steps: list[Step] = []
    for joint in joints:
        angle = angles_rad[joint.rsplit("_", 1)[0]]
        setup.check_angle(joint, angle, "isometric test angle")
        plan = effort_plan(setup, joint, angle)
        steps.append(Step("move", joint, "to_angle", target_rad=angle,
                          speed_rad_s=POSITIONING_SPEED_RAD_S))
        rests: tuple[tuple[Direction, float], ...] = (("flexion", REST_S),
                                                      ("extension", plan.rest_s))
        for direction, rest_s in rests:
            steps.append(Step("hold", joint, "rest", direction, RELAX, duration_s=rest_s))
            steps.append(Step("hold", joint, "effort", direction, Instruction(joint, direction),
                              duration_s=EFFORT_S, torque_max_nm=plan.torque_max_nm))
            steps.append(Step("move", joint, "reposition", target_rad=angle,
                              speed_rad_s=POSITIONING_SPEED_RAD_S))
        steps.append(Step("hold", joint, "recovery", "flexion", RELAX,
                          duration_s=setup.rms_window_s))
        steps.append(Step("move", joint, "return", target_rad=start_angle_rad(joint),
                          speed_rad_s=POSITIONING_SPEED_RAD_S))
    return tuple(steps)


def isometric(recording: AssessmentRecording, joints: tuple[str, ...], setup: RobotSetup,
              period_s: float) -> list[IsometricTorque]:
    """Each joint's peak torques from its recorded rests and efforts (module docstring)."""
    window = max(1, round(WINDOW_S / period_s))
    baseline_n = max(1, round(BASELINE_S / period_s))
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
            if effort.ended_by not in ("time", "saturated") or rest.ended_by != "time":
                continue
            baseline = tau[recording.rows(rest)][-baseline_n:].mean()
            # the robot's reaction is opposite to the person's torque
            person = -DIRECTION_SIGN[direction] * (tau[recording.rows(effort)] - baseline)
            limited[direction] = effort.ended_by == "saturated"
            # stronger than the robot: the most it resisted, a lower bound
            peak = (float(np.max(person)) if limited[direction]
                    else sustained_peak(person, min(window, person.size)))
            peaks[direction] = max(peak, 0.0)
        results.append(IsometricTorque(
            joint, angle, peaks.get("flexion", math.nan), peaks.get("extension", math.nan),
            limited.get("flexion", False), limited.get("extension", False)))
    return results
