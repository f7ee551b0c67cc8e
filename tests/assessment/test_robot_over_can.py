"""The isometric measurement over the real control path: the robot holds the paretic knee through
emulated MIT drives on a virtual CAN bus, under the safety supervisor, in the control loop, and
the patient's torque is read from the drives' reported torques. It must agree with the truth and
with the direct assessment bench (which the assessments run on)."""

from __future__ import annotations

import math
import uuid

import numpy as np
import pytest

from rehabbot.assessment.robot_bench import ROBOT_KD_NMS_PER_RAD, ROBOT_KP_NM_PER_RAD
from rehabbot.assessment.robot_isometric import WINDOW_S, assess_isometric, sustained_peak
from rehabbot.controllers.base import Controller
from rehabbot.controllers.compensation import LegGravity, LegSegments
from rehabbot.hal.config import load_robot_config
from rehabbot.hal.robot import CanRobot
from rehabbot.hal.types import FloatArray, JointCommand, JointState
from rehabbot.runtime.clock import LockstepClock
from rehabbot.runtime.loop import ControlLoop
from rehabbot.safety import SafetySettings
from rehabbot.safety.supervisor import Supervisor
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments
from rehabbot.sim.patient import PROFILES, RELAX, PatientModel, PatientTask
from rehabbot.sim.simulator import SimulatedExoskeleton, SimulationSettings
from rehabbot.sim.world import JOINT_NAMES

HEIGHT_M, MASS_KG = 1.75, 75.0
KNEE = "knee_angle_l"
ANGLE_RAD = math.radians(45.0)
#: Seconds: move to the test pose, rest (baseline over its second half), push.
MOVE_S, REST_S, EFFORT_S = 1.0, 1.0, 3.0
#: A held joint reads the same angle tick after tick: the emulated encoder has no noise, so the
#: frozen-sensor monitor (0.5 s by default) would take a firm isometric hold for a dead sensor.
HOLD_SETTINGS = SafetySettings(frozen_after_s=MOVE_S + REST_S + EFFORT_S + 1.0)


class TaskPatient(PatientModel):
    """The simulator's patient doing its assessment task instead of walking."""

    def torques(self, t_s: float, q: FloatArray, qd: FloatArray,
                right_contact: bool) -> FloatArray:
        return self.task_torques(t_s, q, qd)


class Hold(Controller):
    """Moves the joints to ``pose`` over :data:`MOVE_S`, then holds them there stiffly, with the
    legs' weight fed forward (the bench's position controller, as a drive command)."""

    def __init__(self, names: tuple[str, ...], pose: FloatArray) -> None:
        super().__init__()
        body = BodyModel.from_height_mass(HEIGHT_M, MASS_KG)
        self.gravity = LegGravity(names, LegSegments.from_body(body, ExoSegments()))
        self.pose = pose
        self.start: FloatArray | None = None

    def update(self, state: JointState) -> JointCommand:
        if self.start is None:
            self.start = state.q.copy()
        share = min(state.t_s / MOVE_S, 1.0)
        n = len(self.pose)
        return JointCommand(
            q_ref=self.start + share * (self.pose - self.start), qd_ref=np.zeros(n),
            kp=np.full(n, ROBOT_KP_NM_PER_RAD), kd=np.full(n, ROBOT_KD_NMS_PER_RAD),
            tau_ff=self.gravity.torques(state.q).copy())


class TorqueLog:
    """Keeps the measured torques of every tick."""

    def __init__(self) -> None:
        self.tau: list[FloatArray] = []

    def push(self, tick: int, t_s: float, phase: float, contact_r: bool, contact_l: bool,
             q: FloatArray, qd: FloatArray, tau: FloatArray, tau_cmd: FloatArray,
             q_ref: FloatArray) -> None:
        self.tau.append(tau.copy())


def flexion_over_can() -> float:
    """The paretic knee's sustained peak flexion torque (N·m), measured over CAN."""
    config = load_robot_config()
    suffix = f"-{uuid.uuid4().hex[:12]}"
    profile = PROFILES["stroke_left"]
    sim = SimulatedExoskeleton(
        config, SimulationSettings(HEIGHT_M, MASS_KG, belt_speed_mps=0.0, body_weight_support=1.0,
                                   cadence_steps_per_min=90.0, profile=profile),
        channel_suffix=suffix)
    patient = TaskPatient(JOINT_NAMES, profile, MASS_KG, 90.0, seed=0)
    sim.patient = patient
    patient.set_task(RELAX, 0.0, np.zeros(len(JOINT_NAMES)))
    effort_tick = round((MOVE_S + REST_S) / config.period_s)

    def step() -> None:
        if clock.ticks == effort_tick:
            q, _ = sim.world.read_joints()
            patient.set_task(PatientTask(KNEE, "flexion"), sim.world.time_s, q)
        sim.step()

    clock = LockstepClock(config.period_s, step=step)
    robot = CanRobot(config, channel_suffix=suffix, time_source=clock.now)
    log = TorqueLog()
    try:
        with sim.serving():
            robot.configure()
        robot.activate(clock.wait_next_tick, 0.05)
        clock.restart()
        patient.set_task(RELAX, sim.world.time_s, sim.world.read_joints()[0])
        pose = np.zeros(len(config.joint_names))
        pose[config.joint_names.index(KNEE)] = ANGLE_RAD
        pose[config.joint_names.index("knee_angle_r")] = 0.2
        supervisor = Supervisor.from_config(config, settings=HOLD_SETTINGS)
        loop = ControlLoop(robot, supervisor, Hold(config.joint_names, pose), clock, recorder=log)
        report = loop.run(MOVE_S + REST_S + EFFORT_S)
    finally:
        robot.close()
        sim.close()
    assert not report.faults
    knee = np.array(log.tau)[:, config.joint_names.index(KNEE)]
    period = config.period_s
    baseline = knee[round((MOVE_S + REST_S / 2) / period):effort_tick].mean()
    return sustained_peak(-(knee[effort_tick:] - baseline), round(WINDOW_S / period))


def test_the_isometric_torque_read_from_the_drives_matches_the_truth_and_the_bench() -> None:
    measured = flexion_over_can()
    patient = PatientModel(JOINT_NAMES, PROFILES["stroke_left"], MASS_KG, 90.0, seed=0)
    true = patient.max_voluntary_torque(KNEE, "flexion", ANGLE_RAD)
    bench = assess_isometric(PROFILES["stroke_left"], (KNEE,))[0].flexion_nm
    assert measured == pytest.approx(true, rel=0.10)
    assert measured == pytest.approx(bench, rel=0.03)
