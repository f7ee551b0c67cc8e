"""The registry of robot-based assessments: the contract protocol phases and the session runner
rely on (procedures from joints and parameters, bounded by the robot and the session's range;
results from a recording), checked without a simulation."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from rehabbot.assessment.robot.isometric_strength import (
    EFFORT_S,
    effort_plan,
    sustained_peak,
)
from rehabbot.assessment.robot.range_of_motion import wall_rad
from rehabbot.assessment.robot.recording import AssessmentRecording, RobotSetup
from rehabbot.assessment.robot.registry import ROBOT_ASSESSMENTS
from rehabbot.controllers.procedures import Step, StepMark
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.safety.limits import JointLimits, SoftLimits
from rehabbot.storage.samples import SampleBlock

UNIT_SUFFIX = re.compile(r"_(deg|nm|nm_per_kg|nm_per_rad|nms_per_rad|deg_s)$")
ROBOT = load_robot_config()
SETUP = RobotSetup.of(ROBOT, None, 1.75, 75.0)
PERIOD_S = 0.001


@pytest.mark.parametrize(("name", "kinds"), [
    ("passive_rom", {"move", "sweep"}),
    ("active_rom", {"move", "free"}),
    ("isometric", {"move", "hold"}),
    ("stiffness", {"move", "sine"}),
])
def test_every_assessment_is_a_procedure_on_the_chosen_joints(name: str,
                                                              kinds: set[str]) -> None:
    procedure = ROBOT_ASSESSMENTS[name].procedure(["knee_angle_l"], None, SETUP)
    assert procedure.name == name
    assert {step.kind for step in procedure.steps} == kinds
    assert {step.joint for step in procedure.steps} == {"knee_angle_l"}
    default = ROBOT_ASSESSMENTS[name].procedure(None, None, SETUP)
    assert {step.joint for step in default.steps} == set(ROBOT.joint_names)


def test_the_sessions_range_of_motion_bounds_every_motion() -> None:
    rom = {"knee_angle_l": (0.0, math.radians(75.0))}
    soft = SoftLimits.from_rom(ROBOT.joint_names, rom, JointLimits.from_config(ROBOT),
                               zone_rad=math.radians(3.0))
    narrow = RobotSetup.of(ROBOT, soft, 1.75, 75.0)
    sweeps = [s for s in ROBOT_ASSESSMENTS["passive_rom"].procedure(
        ["knee_angle_l"], None, narrow).steps if s.kind == "sweep"]
    # short of the 3 deg soft zone at each end of the allowed 0..75 deg
    assert [math.degrees(s.target_rad) for s in sweeps] == pytest.approx([3.0, 72.0])
    with pytest.raises(ConfigurationError, match=r"80\.0 deg of knee_angle_l is outside .* "
                                                 r"3\.0\.\.72\.0 deg"):
        ROBOT_ASSESSMENTS["isometric"].procedure(["knee_angle_l"], {"knee_angle_deg": 80.0},
                                                 narrow)


@pytest.mark.parametrize(("name", "joints", "params", "message"), [
    ("stiffness", ["ankle_angle_l"], None, r"\['ankle_angle_l'\].*knee_angle_r"),
    ("passive_rom", None, {"speed": 1.0}, r"unknown parameter 'speed' \(allowed: thresh"),
    ("active_rom", None, {"threshold_nm": 1.0}, r"unknown parameter .* \(allowed: none\)"),
    ("isometric", None, {"knee_angle_deg": 130.0}, r"knee_angle_deg = 130.0 deg .*0, 95"),
])
def test_bad_input_gets_one_clear_error(name: str, joints: list[str] | None,
                                        params: dict[str, float] | None, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ROBOT_ASSESSMENTS[name].procedure(joints, params, SETUP)


def test_a_joint_the_robot_does_not_have_is_refused() -> None:
    one_leg = ROBOT.model_copy(update={"joints": ROBOT.joints[:2]})
    setup = RobotSetup.of(one_leg, None, 1.75, 75.0)
    with pytest.raises(ConfigurationError, match="the robot has no joint knee_angle_l"):
        ROBOT_ASSESSMENTS["passive_rom"].procedure(["knee_angle_l"], None, setup)


def recording_of(procedure_name: str, steps: list[tuple[str, np.ndarray, np.ndarray, str]]
                 ) -> AssessmentRecording:
    """A recording of the knee_angle_l steps ``(label, q, tau, ended_by)`` one after another
    (the other joints at 0), as the battery would have logged them."""
    procedure = ROBOT_ASSESSMENTS[procedure_name].procedure(["knee_angle_l"], None, SETUP)
    by_label: dict[str, list[Step]] = {}
    for step in procedure.steps:  # each label's steps in the procedure's order
        by_label.setdefault(step.label, []).append(step)
    n_joints = len(ROBOT.joint_names)
    column = ROBOT.joint_names.index("knee_angle_l")
    q_rows, tau_rows, marks, t0 = [], [], [], 0.0
    for index, (label, q, tau, ended_by) in enumerate(steps):
        qs, taus = np.zeros((q.size, n_joints)), np.zeros((q.size, n_joints))
        qs[:, column], taus[:, column] = q, tau
        q_rows.append(qs)
        tau_rows.append(taus)
        marks.append(StepMark(0, procedure_name, index, by_label[label].pop(0), t0,
                              t0 + (q.size - 1) * PERIOD_S, ended_by))
        t0 += q.size * PERIOD_S
    q_all, tau_all = np.vstack(q_rows), np.vstack(tau_rows)
    n = q_all.shape[0]
    samples = SampleBlock(np.arange(n), np.arange(n) * PERIOD_S, np.zeros(n),
                          np.zeros((n, 2), dtype=bool), q_all, np.gradient(q_all, PERIOD_S,
                                                                           axis=0),
                          tau_all, tau_all, q_all)
    # the legs' weight is taken out by the analysis: add it to the synthetic torques
    gravity = SETUP.gravity()
    for row in range(n):
        samples.tau[row] += gravity.torques(samples.q[row])
    return AssessmentRecording(samples, ROBOT.joint_names, tuple(marks), gravity)


def test_passive_rom_is_where_the_recorded_resistance_crosses_the_threshold() -> None:
    q = np.linspace(0.2, 1.4, 1201)
    resistance = np.maximum(q - 1.0, 0.0) * 50.0  # 10 N·m at 1.2 rad
    extension = np.linspace(0.2, SETUP.low_rad["knee_angle_l"], 300)
    recording = recording_of("passive_rom", [
        ("sweep", extension, np.zeros(300), "limit"),
        ("sweep", q, resistance, "threshold"),
    ])
    (row,) = ROBOT_ASSESSMENTS["passive_rom"].analyze(recording, ["knee_angle_l"], None, SETUP,
                                                      PERIOD_S).rows
    assert row["flexion_deg"] == pytest.approx(math.degrees(1.2), abs=0.01)
    assert not row["flexion_at_robot_limit"]
    assert row["extension_at_robot_limit"]
    assert row["extension_deg"] == pytest.approx(math.degrees(SETUP.low_rad["knee_angle_l"]))
    data = json.loads(json.dumps(ROBOT_ASSESSMENTS["passive_rom"].analyze(
        recording, ["knee_angle_l"], None, SETUP, PERIOD_S).as_dict()))
    assert data["status"] == "done"
    for key in data["rows"][0]:
        assert key == "joint" or key.endswith("_at_robot_limit") or UNIT_SUFFIX.search(key)


def test_isometric_torque_is_the_sustained_peak_above_the_rests_baseline() -> None:
    angle = np.full(1000, math.radians(45.0))
    rest = np.full(1000, 5.0)  # the held leg's weight and passive torque, as measured
    # the person pushes toward flexion: the robot's reaction is negative
    flexion = 5.0 - np.r_[np.linspace(0.0, 40.0, 500), np.full(1500, 40.0), np.zeros(1000)]
    extension = 5.0 + np.r_[np.full(1000, 60.0), np.full(2000, 30.0)]
    recording = recording_of("isometric", [
        ("rest", angle, rest, "time"), ("effort", np.full(3000, angle[0]), flexion, "time"),
        ("rest", angle, rest, "time"), ("effort", np.full(3000, angle[0]), extension, "time"),
    ])
    (row,) = ROBOT_ASSESSMENTS["isometric"].analyze(recording, ["knee_angle_l"], None, SETUP,
                                                    PERIOD_S).rows
    assert row["flexion_nm"] == pytest.approx(40.0, rel=1e-3)
    assert row["extension_nm"] == pytest.approx(60.0, rel=1e-3)
    assert row["extension_nm_per_kg"] == pytest.approx(60.0 / 75.0, rel=1e-3)
    assert not row["flexion_at_robot_limit"]


def test_an_effort_stronger_than_the_robot_is_a_flagged_lower_bound() -> None:
    angle = np.full(1000, math.radians(45.0))
    rest = np.full(1000, 5.0)
    # toward flexion the person stays under the ceiling; toward extension the reaction reaches
    # it after 0.5 s and the step ends there ("saturated"): 110 N·m less the 5 N·m baseline
    flexion = 5.0 - np.r_[np.linspace(0.0, 40.0, 500), np.full(2500, 40.0)]
    extension = 5.0 + np.r_[np.linspace(0.0, 110.0, 500)]
    recording = recording_of("isometric", [
        ("rest", angle, rest, "time"), ("effort", np.full(3000, angle[0]), flexion, "time"),
        ("reposition", angle, rest, "time"),
        ("rest", angle, rest, "time"), ("effort", angle[:500], extension, "saturated"),
    ])
    (row,) = ROBOT_ASSESSMENTS["isometric"].analyze(recording, ["knee_angle_l"], None, SETUP,
                                                    PERIOD_S).rows
    assert row["flexion_nm"] == pytest.approx(40.0, rel=1e-3)
    assert not row["flexion_at_robot_limit"]
    assert row["extension_nm"] == pytest.approx(110.0, abs=0.5)
    assert row["extension_at_robot_limit"]


@pytest.mark.parametrize("joint", ["knee_angle_l", "hip_flexion_r"])
def test_the_isometric_efforts_fit_the_supervisors_rms_window_at_their_worst(joint: str) -> None:
    """Every effort held at its ceiling for its whole duration, the leg's weight in between:
    the RMS torque over any of the supervisor's windows stays at its warning level or under."""
    steps = ROBOT_ASSESSMENTS["isometric"].procedure([joint], None, SETUP).steps
    efforts = [s for s in steps if s.label == "effort"]
    ceiling = efforts[0].torque_max_nm
    angle = next(s.target_rad for s in steps if s.label == "to_angle")
    plan = effort_plan(SETUP, joint, angle)
    assert ceiling == plan.torque_max_nm <= ROBOT.joints[ROBOT.joint_names.index(
        joint)].torque_max_nm
    pose = np.array([0.0 if n.startswith("hip") else 0.2 for n in ROBOT.joint_names])
    pose[ROBOT.joint_names.index(joint)] = angle
    weight = abs(SETUP.gravity().torques(pose)[ROBOT.joint_names.index(joint)])
    # the held part of the test, from its first rest on (moves at speed take longer still)
    tau: list[np.ndarray] = []
    for step in steps[1:]:
        n = round((step.duration_s if step.kind == "hold" else 0.5) / PERIOD_S)
        tau.append(np.full(n, ceiling if step.label == "effort" else weight))
    squared = np.concatenate(tau) ** 2
    window = round(SETUP.rms_window_s / PERIOD_S)
    rms = np.sqrt(np.convolve(squared, np.ones(window) / window, mode="valid"))
    limit = SETUP.continuous_torque_nm[joint]
    assert rms.max() <= SETUP.rms_warn_fraction * limit + 1e-6
    # ...and uses what the budget allows: the ceiling is the torque limit or the budget's edge
    assert ceiling == pytest.approx(120.0) or rms.max() == pytest.approx(
        SETUP.rms_warn_fraction * limit, rel=0.01)
    assert all(s.duration_s == EFFORT_S for s in efforts)


def test_a_reach_that_pushes_the_wall_with_the_robots_whole_torque_reports_the_wall() -> None:
    wall = wall_rad(SETUP, "knee_angle_l", "flexion")
    # the wall gives by the torque limit's worth and the leg's weight there: the robot holds the
    # joint inside its range with all its torque
    end = SETUP.high_rad["knee_angle_l"]
    weight = abs(SETUP.weight_at_nm("knee_angle_l", end))
    assert 0.0 < weight < 50.0
    assert end - wall == pytest.approx((120.0 + weight) / 3000.0)
    extension = np.r_[np.linspace(0.2, 0.05, 1000), np.full(1000, 0.05)]
    flexion = np.linspace(0.2, wall + 0.03, 1500)
    recording = recording_of("active_rom", [
        ("reach", extension, np.zeros(2000), "time"),
        ("reach", flexion, np.r_[np.zeros(1400), np.linspace(0.0, 118.0, 100)], "saturated"),
    ])
    (row,) = ROBOT_ASSESSMENTS["active_rom"].analyze(recording, ["knee_angle_l"], None, SETUP,
                                                     PERIOD_S).rows
    assert row["flexion_deg"] == pytest.approx(math.degrees(wall))
    assert row["flexion_at_robot_limit"]
    assert row["extension_deg"] == pytest.approx(math.degrees(0.05), abs=0.1)
    assert not row["extension_at_robot_limit"]
    reaches = [s for s in ROBOT_ASSESSMENTS["active_rom"].procedure(["knee_angle_l"], None,
                                                                    SETUP).steps
               if s.kind == "free"]
    assert all(s.torque_max_nm == 120.0 and s.high_rad == wall for s in reaches)


def test_stiffness_recovers_a_recorded_spring_and_damper() -> None:
    t = np.arange(0, 2.0, PERIOD_S)
    q = 0.2 + 0.4 * (1.0 - np.cos(3.0 * t))
    qd = 1.2 * np.sin(3.0 * t)
    qdd = 3.6 * np.cos(3.0 * t)
    # the robot also accelerates the shank (the hip is held): the analysis takes that out
    inertia = SETUP.leg_inertia().matrix(q)[1][1]
    tau = 3.0 * (q - 0.25) + 0.5 * qd + inertia * qdd
    recording = recording_of("stiffness", [("sine", q, tau, "time")])
    (row,) = ROBOT_ASSESSMENTS["stiffness"].analyze(recording, ["knee_angle_l"], None, SETUP,
                                                    PERIOD_S).rows
    assert row["stiffness_nm_per_rad"] == pytest.approx(3.0, rel=0.01)
    assert row["damping_nms_per_rad"] == pytest.approx(0.5, rel=0.01)
    assert row["rest_angle_deg"] == pytest.approx(math.degrees(0.25), abs=0.1)


def test_the_sustained_peak_is_the_best_window_mean_not_the_single_peak() -> None:
    signal = np.concatenate([np.zeros(100), np.full(1000, 50.0), [400.0], np.zeros(100)])
    assert sustained_peak(signal, 1000) == pytest.approx(50.35)


def test_a_skipped_assessment_says_why() -> None:
    data = ROBOT_ASSESSMENTS["isometric"].skipped("estop at 1.000 s").as_dict()
    assert data == {"name": "isometric", "title": "Maximal isometric torque (L-FORCE)",
                    "status": "skipped", "rows": [], "reason": "estop at 1.000 s"}
