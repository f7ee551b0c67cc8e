"""What the robot assessments share: the robot and person they run on, and their recording.

A robot assessment is a procedure (:mod:`rehabbot.controllers.procedures`) run by the control
loop on the session's robot, under its supervisor; its analysis reads the samples the recorder
stored and the steps the procedure logged (:class:`~rehabbot.controllers.procedures.StepMark`).
:class:`RobotSetup` bounds the procedures: each joint moves only within the robot's hard limits
and the session's allowed range of motion, short of the supervisor's soft zone (where the
supervisor's spring would add to the measured torque). :class:`AssessmentRecording` gives the
analyses each step's samples and the legs' weight at the recorded angles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegGravity, LegInertia, LegSegments
from rehabbot.body.orthosis import ExoSegments
from rehabbot.controllers.procedures import StepMark
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.types import FloatArray
from rehabbot.safety.limits import SoftLimits
from rehabbot.safety.settings import SafetySettings
from rehabbot.safety.thermal import Actuator
from rehabbot.storage.samples import SampleBlock

#: A result row: joint name, measured values (keys with units), limit flags.
Row = dict[str, str | float | bool]
#: Where the procedures start from and return to (rad): hips straight, knees a little bent.
START_POSE_RAD = {"hip_flexion": 0.0, "knee_angle": 0.2}
#: Speed (rad/s) of the moves to a test's start or test angle and back: 30 deg/s.
POSITIONING_SPEED_RAD_S = math.radians(30.0)


def start_angle_rad(joint: str) -> float:
    """The start angle (rad) of ``joint`` (:data:`START_POSE_RAD` of its kind).

    >>> start_angle_rad("knee_angle_l")
    0.2
    """
    return START_POSE_RAD[joint.rsplit("_", 1)[0]]


@dataclass(frozen=True)
class RobotSetup:
    """The robot and person the assessments run on.

    Attributes:
        joint_names: the robot's joints, in array order.
        low_rad: per joint, the lowest angle a procedure moves it to (rad).
        high_rad: per joint, the highest angle a procedure moves it to (rad).
        torque_max_nm: per joint, the robot's torque limit (N·m).
        height_m: the person's height (m).
        mass_kg: the person's body mass (kg).
        continuous_torque_nm: per joint, the actuator's continuous (RMS) torque rating at the
            joint (N·m): the supervisor's RMS-torque limit.
        rms_window_s: the supervisor's RMS-torque window (s).
        rms_warn_fraction: RMS torque above this share of the rating is a supervisor warning.
    """

    joint_names: tuple[str, ...]
    low_rad: dict[str, float]
    high_rad: dict[str, float]
    torque_max_nm: dict[str, float]
    height_m: float
    mass_kg: float
    continuous_torque_nm: dict[str, float]
    rms_window_s: float
    rms_warn_fraction: float

    @classmethod
    def of(cls, robot: RobotConfig, soft: SoftLimits | None, height_m: float,
           mass_kg: float, *, settings: SafetySettings | None = None,
           actuators: tuple[Actuator, ...] | None = None) -> RobotSetup:
        """The setup of ``robot`` with the session's soft limits (None: the hard limits
        alone), for a person of ``height_m`` and ``mass_kg``; the RMS-torque monitor's
        ``settings`` and ``actuators`` as the session's supervisor has them (None: the
        defaults, as ``Supervisor.from_config`` uses).

        >>> from rehabbot.hal.config import load_robot_config
        >>> setup = RobotSetup.of(load_robot_config(), None, 1.75, 75.0)
        >>> round(math.degrees(setup.high_rad["knee_angle_l"]), 1)
        99.7
        >>> setup.continuous_torque_nm["knee_angle_l"], setup.rms_window_s  # 18 N·m x 4:1
        (72.0, 10.0)

        Raises:
            ConfigurationError: a motor model has no default rating and ``actuators`` is None.
        """
        low, high = {}, {}
        for i, joint in enumerate(robot.joints):
            lo, hi = joint.position_min_rad, joint.position_max_rad
            if soft is not None:
                lo = max(lo, float(soft.rom_min_rad[i] + soft.zone_rad[i]))
                hi = min(hi, float(soft.rom_max_rad[i] - soft.zone_rad[i]))
            low[joint.name], high[joint.name] = lo, hi
        settings = settings if settings is not None else SafetySettings()
        actuators = actuators if actuators is not None else Actuator.all_from_config(robot)
        return cls(robot.joint_names, low, high,
                   {j.name: j.torque_max_nm for j in robot.joints}, height_m, mass_kg,
                   {j.name: a.continuous_torque_nm for j, a in zip(robot.joints, actuators,
                                                                  strict=True)},
                   settings.rms_window_s, settings.rms_warn_fraction)

    def body(self) -> tuple[BodyModel, ExoSegments]:
        """The person's body model and the orthosis."""
        return BodyModel.from_height_mass(self.height_m, self.mass_kg), ExoSegments()

    def gravity(self) -> LegGravity:
        """The legs' weight (N·m) at the robot's joints."""
        body, exo = self.body()
        return LegGravity(self.joint_names, LegSegments.from_body(body, exo))

    def leg_inertia(self) -> LegInertia:
        """The legs' mass matrix."""
        body, exo = self.body()
        return LegInertia.from_body(body, exo)

    def weight_at_nm(self, joint: str, angle_rad: float) -> float:
        """The legs' weight (N·m) at ``joint`` with it at ``angle_rad`` and the other joints at
        the start pose (:data:`START_POSE_RAD`), as the robot holds it during a test."""
        pose = np.array([start_angle_rad(j) for j in self.joint_names])
        i = self.joint_names.index(joint)
        pose[i] = angle_rad
        return float(self.gravity().torques(pose)[i])

    def check_angle(self, joint: str, angle_rad: float, what: str) -> None:
        """Raise ConfigurationError unless ``angle_rad`` lies within ``joint``'s range here."""
        low, high = self.low_rad[joint], self.high_rad[joint]
        if not (math.isfinite(angle_rad) and low <= angle_rad <= high):
            raise ConfigurationError(
                f"{what}: {math.degrees(angle_rad):.1f} deg of {joint} is outside the range the "
                f"robot may move it in this session, {math.degrees(low):.1f}.."
                f"{math.degrees(high):.1f} deg (its hard limits and the protocol's "
                "range_of_motion_deg, short of the soft zone)")


@dataclass(frozen=True)
class AssessmentRecording:
    """The recorded samples of a battery and the steps of one assessment in it.

    Attributes:
        samples: the session's samples (loop time, angles, velocities, measured torques).
        joint_names: the samples' joint columns.
        marks: the assessment's steps as they ran, in order.
        gravity: the legs' weight at the robot's joints.
    """

    samples: SampleBlock
    joint_names: tuple[str, ...]
    marks: tuple[StepMark, ...]
    gravity: LegGravity

    def steps(self, joint: str, label: str) -> list[StepMark]:
        """The steps of ``joint`` labelled ``label``, in order."""
        return [m for m in self.marks if m.step.joint == joint and m.step.label == label]

    def rows(self, mark: StepMark) -> slice:
        """The samples of step ``mark`` (its first tick to its last)."""
        t = self.samples.t_s
        end = mark.end_t_s if math.isfinite(mark.end_t_s) else math.inf
        return slice(int(np.searchsorted(t, mark.start_t_s, "left")),
                     int(np.searchsorted(t, end, "right")))

    def column(self, joint: str) -> int:
        """The samples' column of ``joint``."""
        return self.joint_names.index(joint)

    def weight_nm(self, rows: slice, joint: str) -> FloatArray:
        """The legs' weight (N·m) at ``joint`` at the recorded angles of ``rows``."""
        q = self.samples.q[rows]
        i = self.column(joint)
        return np.array([self.gravity.torques(row)[i] for row in q])
