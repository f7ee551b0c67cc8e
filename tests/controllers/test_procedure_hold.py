"""A procedure's hold with a torque ceiling (controllers/procedures.py): the robot resists with
at most the ceiling, and a measured torque at the ceiling ends the hold as ``saturated`` with the
joint held where it yielded to."""

from __future__ import annotations

import math

import pytest

from rehabbot.assessment.robot.recording import RobotSetup
from rehabbot.controllers.procedures import (
    RAMP_IN_S,
    SATURATION_SHARE,
    AssessmentBattery,
    Instruction,
    Procedure,
    Step,
)
from rehabbot.hal.config import load_robot_config
from rehabbot.hal.types import JointState

ROBOT = load_robot_config()
KNEE = ROBOT.joint_names.index("knee_angle_l")
CEILING_NM = 50.0


def battery() -> AssessmentBattery:
    effort = Step("hold", "knee_angle_l", "effort", "extension",
                  Instruction("knee_angle_l", "extension"), duration_s=3.0,
                  torque_max_nm=CEILING_NM)
    rest = Step("hold", "knee_angle_l", "rest", duration_s=1.0)
    gravity = RobotSetup.of(ROBOT, None, 1.75, 75.0).gravity()
    return AssessmentBattery(ROBOT.joint_names, [Procedure("isometric", (effort, rest))], gravity)


def state(t_s: float, q_knee: float, tau_knee: float) -> JointState:
    s = JointState.zeros(len(ROBOT.joint_names), t_s)
    s.q[:] = 0.0
    s.q[KNEE] = q_knee
    s.tau[KNEE] = tau_knee
    return s


def test_a_hold_resists_with_at_most_its_ceiling_and_ends_saturated_there() -> None:
    b = battery()
    angle = math.radians(45.0)
    b.reset(state(0.0, angle, 0.0))
    t = RAMP_IN_S
    b.update(state(t, angle, 0.0))  # the effort starts, the joint at its angle
    # the person pushes the knee 5 deg toward extension: a 3000 N·m/rad hold would answer with
    # 262 N·m; the command stays at the ceiling
    pushed = angle - math.radians(5.0)
    command = b.update(state(t + 0.001, pushed, 20.0))
    # the joint at rest (qd = 0): the command's torque is its spring and feed-forward parts
    torque = command.kp[KNEE] * (command.q_ref[KNEE] - pushed) + command.tau_ff[KNEE]
    assert command.kp[KNEE] == 3000.0 and torque == pytest.approx(CEILING_NM)
    (mark,) = b.marks_
    assert mark.ended_by == ""  # measured 20 N·m: the effort goes on
    # the measured torque reaches the ceiling's share: the effort ends, the joint is held where
    # it is (no snapping back at the ceiling), and the rest begins next tick
    b.update(state(t + 0.002, pushed, SATURATION_SHARE * CEILING_NM))
    assert mark.ended_by == "saturated"
    command = b.update(state(t + 0.003, pushed, SATURATION_SHARE * CEILING_NM))
    assert command.q_ref[KNEE] == pushed
    assert [m.step.label for m in b.marks_] == ["effort", "rest"]
    # the rest has no ceiling and is not ended by torque
    b.update(state(t + 0.004, pushed, 200.0))
    assert b.marks_[-1].ended_by == ""
