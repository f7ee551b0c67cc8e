"""The test bench of the robot-based assessments: a patient in the exoskeleton, hanging in the
harness (full body-weight support, belt still), and a robot that holds, moves or follows the legs.

Every robot-based test (:mod:`~rehabbot.assessment.robot_tests`,
:mod:`~rehabbot.assessment.robot_rom`, :mod:`~rehabbot.assessment.robot_isometric`) runs on an
:class:`AssessmentBench`. Per hip and knee the robot is either a stiff position controller
(``kp``, ``kd`` below) toward :attr:`AssessmentBench.target` plus the legs' weight from the model
(:class:`~rehabbot.controllers.compensation.LegGravity`), or *transparent*: the legs' weight only,
plus a stiff wall at its own range of motion. The robot's range of motion and torque limits are
its configuration's (:class:`~rehabbot.hal.config.RobotConfig`, default the bundled
``sim_exo``): each joint's torque is clipped to ``torque_max_nm``. The robot's torques go straight
to the simulated world (no CAN, no drive emulation): what is under test is each assessment's
procedure and analysis, and the robot's "measured" torque is its controller's output.
The patient is a :class:`~rehabbot.sim.patient.PatientModel` doing a
:class:`~rehabbot.sim.patient.PatientTask` (relaxed at first).
"""

from __future__ import annotations

import math
from types import TracebackType

import numpy as np

from rehabbot.controllers.compensation import LegGravity, LegSegments
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.hal.types import FloatArray
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments
from rehabbot.sim.patient import RELAX, PatientModel, PatientProfile, PatientTask
from rehabbot.sim.world import ACTUATED_JOINTS, JOINT_NAMES, TreadmillWorld

#: Position-controller gains of the robot: stiffness (N·m/rad) and damping (N·m·s/rad).
ROBOT_KP_NM_PER_RAD = 3000.0
ROBOT_KD_NMS_PER_RAD = 40.0
#: Knee angle of the bench's start pose (rad); the hips start at 0.
HOLD_KNEE_RAD = 0.2
#: Cadence (steps/min) given to the patient model; unused by assessment tasks.
_CADENCE = 90.0


def robot_limits_rad(robot: RobotConfig, joint: str) -> tuple[float, float]:
    """The robot's (low, high) range of motion (rad) of ``joint``, from its configuration.

    >>> [round(math.degrees(a), 1) for a in robot_limits_rad(load_robot_config(), "knee_angle_l")]
    [-2.9, 99.7]
    """
    config = robot.joints[robot.joint_names.index(joint)]
    return config.position_min_rad, config.position_max_rad


def check_joints(joints: tuple[str, ...], allowed: tuple[str, ...] = ACTUATED_JOINTS) -> None:
    """Raise ConfigurationError unless ``joints`` is a non-empty selection of ``allowed``."""
    unknown = [j for j in joints if j not in allowed]
    if not joints or unknown:
        raise ConfigurationError(
            f"robot assessment: joints {list(joints)} must be a non-empty selection of "
            f"{', '.join(allowed)}"
        )


class AssessmentBench:
    """One assessment run: its own world, patient and robot (see the module docstring).

    Joint arrays are over :data:`~rehabbot.sim.world.JOINT_NAMES`; angles in rad, torques in N·m.

    >>> from rehabbot.sim.patient import PROFILES
    >>> with AssessmentBench(PROFILES["healthy"], height_m=1.75, mass_kg=75.0) as bench:
    ...     for _ in range(100):
    ...         _ = bench.step()
    ...     round(math.degrees(bench.q[bench.index("knee_angle_l")]), 1)
    11.4
    """

    def __init__(
        self,
        profile: PatientProfile,
        *,
        height_m: float,
        mass_kg: float,
        robot: RobotConfig | None = None,
        start: FloatArray | None = None,
        time_step_s: float = 0.001,
    ) -> None:
        """Build the world with the joints at ``start`` (rad; default hips 0, knees
        :data:`HOLD_KNEE_RAD`), the robot holding them there and the patient relaxed.

        Raises:
            ConfigurationError: ``robot`` does not drive every simulated hip and knee.
        """
        self.robot = load_robot_config() if robot is None else robot
        missing = [n for n in ACTUATED_JOINTS if n not in self.robot.joint_names]
        if missing:
            raise ConfigurationError(
                f"robot {self.robot.name!r} does not drive {', '.join(missing)}: the robot-based "
                f"assessments need every hip and knee ({', '.join(ACTUATED_JOINTS)})"
            )
        self.body = BodyModel.from_height_mass(height_m, mass_kg)
        self.exo = ExoSegments()
        self.time_step_s = time_step_s
        self.gravity = LegGravity(JOINT_NAMES, LegSegments.from_body(self.body, self.exo))
        self.patient = PatientModel(JOINT_NAMES, profile, mass_kg, _CADENCE, seed=0)
        hold = np.zeros(len(JOINT_NAMES))
        for side in ("r", "l"):
            hold[JOINT_NAMES.index(f"knee_angle_{side}")] = HOLD_KNEE_RAD
        #: Position-control target (rad) and target velocity (rad/s) per joint.
        self.target = hold if start is None else np.array(start, dtype=float)
        self.target_v = np.zeros(len(JOINT_NAMES))
        #: Which joints the robot follows instead of holding.
        self.transparent = np.zeros(len(JOINT_NAMES), dtype=bool)
        self._actuated = np.array([name in ACTUATED_JOINTS for name in JOINT_NAMES])
        limits = [robot_limits_rad(self.robot, n) if n in ACTUATED_JOINTS
                  else (-math.inf, math.inf) for n in JOINT_NAMES]
        self._low = np.array([low for low, _ in limits])
        self._high = np.array([high for _, high in limits])
        #: The robot's torque limit per joint (N·m).
        self.torque_limit_nm = np.array([
            self.robot.joints[self.robot.joint_names.index(n)].torque_max_nm
            if n in ACTUATED_JOINTS else 0.0 for n in JOINT_NAMES])
        self.world = TreadmillWorld(self.body, belt_speed_mps=0.0, body_weight_support=1.0,
                                    time_step_s=time_step_s, exo=self.exo)
        self.world.reset_pose(self.target)
        self.q, self.qd = self.world.read_joints()
        #: The gravity torques (N·m) the robot compensated in the last step.
        self.gravity_ = np.zeros(len(JOINT_NAMES))
        self.patient.set_task(RELAX, 0.0, self.q)

    @staticmethod
    def index(joint: str) -> int:
        """Place of ``joint`` in the joint arrays."""
        return JOINT_NAMES.index(joint)

    @property
    def t_s(self) -> float:
        """Simulated time (s)."""
        return self.world.time_s

    def set_task(self, task: PatientTask) -> None:
        """Ask the patient to do ``task`` from now on."""
        self.patient.set_task(task, self.t_s, self.q)

    def limits_rad(self, joint: str) -> tuple[float, float]:
        """The robot's (low, high) range of motion (rad) of ``joint``."""
        return robot_limits_rad(self.robot, joint)

    def step(self) -> FloatArray:
        """One time step; returns the robot's torques (N·m, within its limits) applied during it."""
        q, qd = self.q, self.qd
        self.gravity_ = self.gravity.torques(q).copy()
        hold = ROBOT_KP_NM_PER_RAD * (self.target - q) + ROBOT_KD_NMS_PER_RAD * (
            self.target_v - qd)
        wall = ROBOT_KP_NM_PER_RAD * (np.clip(q, self._low, self._high) - q)
        robot: FloatArray = np.clip(
            np.where(self._actuated, self.gravity_ + np.where(self.transparent, wall, hold), 0.0),
            -self.torque_limit_nm, self.torque_limit_nm)
        self.world.apply_torques(robot + self.patient.task_torques(self.t_s, q, qd))
        self.world.step()
        self.q, self.qd = self.world.read_joints()
        return robot

    def close(self) -> None:
        """Close the world."""
        self.world.close()

    def __enter__(self) -> AssessmentBench:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
