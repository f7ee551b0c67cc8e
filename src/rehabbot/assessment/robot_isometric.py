"""Robot-based maximal isometric joint torque (L-FORCE-like), in simulation.

After Bolliger et al. 2008: the robot holds the tested joint at a set angle with a stiff position
controller (the other joints held at the start pose); the patient rests, then pushes as hard as
they can toward flexion, rests again, then toward extension (:class:`~rehabbot.sim.patient.
PatientTask`). The patient's torque is the robot's reaction less its torque in the preceding
rest (which takes the leg's weight and the passive torques out, as a dynamometer's gravity
correction does); the result per direction is the highest mean over any :data:`WINDOW_S`
(1 s) of the effort: the peak torque sustained over 1 s, in N·m and per kg of body mass.

A patient stronger than the robot is not measured: if the robot's torque reaches
:data:`AT_TORQUE_LIMIT` of its configured ``torque_max_nm`` during an effort, the joint yields and
the result is flagged as the robot's limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.assessment.robot_bench import AssessmentBench, check_joints, robot_limits_rad
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.hal.types import FloatArray
from rehabbot.sim.patient import DIRECTION_SIGN, RELAX, PatientProfile, PatientTask
from rehabbot.sim.world import ACTUATED_JOINTS, JOINT_NAMES

#: Joint angles (rad) held in the test by joint kind: hip 30 deg and knee 45 deg of flexion.
DEFAULT_ANGLES_RAD = {"hip_flexion": math.radians(30.0), "knee_angle": math.radians(45.0)}
#: Rest before each effort (s) (its last half is the baseline), effort duration (s), and the
#: window (s) over which the torque must be sustained.
REST_S = 1.0
EFFORT_S = 3.0
WINDOW_S = 1.0
#: Share of the robot's torque limit from which an effort counts as limited by the robot.
AT_TORQUE_LIMIT = 0.99


@dataclass(frozen=True)
class IsometricTorque:
    """One joint's maximal voluntary isometric torques.

    Attributes:
        joint: the joint (a simulator joint name).
        angle_rad: the angle the robot held (rad).
        flexion_nm: peak flexion torque sustained over :data:`WINDOW_S` (N·m, >= 0).
        extension_nm: peak extension torque sustained over :data:`WINDOW_S` (N·m, >= 0).
        flexion_at_robot_limit: the robot's torque limit, not the patient, ended the flexion.
        extension_at_robot_limit: the robot's torque limit, not the patient, ended the extension.
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


def default_angle_rad(joint: str) -> float:
    """The test angle (rad) of ``joint``: :data:`DEFAULT_ANGLES_RAD` of its kind."""
    return DEFAULT_ANGLES_RAD[joint.rsplit("_", 1)[0]]


def assess_isometric(
    profile: PatientProfile,
    joints: tuple[str, ...] = ACTUATED_JOINTS,
    *,
    height_m: float = 1.75,
    mass_kg: float = 75.0,
    angles_rad: dict[str, float] | None = None,
    robot: RobotConfig | None = None,
    time_step_s: float = 0.001,
) -> list[IsometricTorque]:
    """Maximal isometric flexion and extension torque of each of ``joints`` (module docstring),
    held at ``angles_rad`` (rad, per joint kind ``hip_flexion``/``knee_angle``, within the
    robot's range of motion) where it differs from :data:`DEFAULT_ANGLES_RAD`, with ``robot``
    (default the bundled ``sim_exo``).

    Raises:
        ConfigurationError: a joint is not an assessed hip or knee, or an angle is outside the
            robot's range of motion.
    """
    check_joints(joints)
    config = load_robot_config() if robot is None else robot
    chosen = {**DEFAULT_ANGLES_RAD, **(angles_rad or {})}
    results = []
    for joint in joints:
        angle = chosen[joint.rsplit("_", 1)[0]]
        low, high = robot_limits_rad(config, joint)
        if not (math.isfinite(angle) and low <= angle <= high):
            raise ConfigurationError(
                f"isometric test: angle {math.degrees(angle):.1f} deg of {joint} is outside the "
                f"robot's range {math.degrees(low):.1f}..{math.degrees(high):.1f} deg"
            )
        results.append(_one_joint(profile, joint, angle, height_m, mass_kg, config, time_step_s))
    return results


def _one_joint(
    profile: PatientProfile,
    joint: str,
    angle: float,
    height_m: float,
    mass_kg: float,
    robot: RobotConfig,
    dt: float,
) -> IsometricTorque:
    i = JOINT_NAMES.index(joint)
    rest, effort, window = round(REST_S / dt), round(EFFORT_S / dt), round(WINDOW_S / dt)
    peaks: dict[str, float] = {}
    limited: dict[str, bool] = {}
    with AssessmentBench(profile, height_m=height_m, mass_kg=mass_kg, robot=robot,
                         time_step_s=dt) as bench:
        bench.target[i] = angle
        bench.world.reset_pose(bench.target)
        bench.q, bench.qd = bench.world.read_joints()
        for direction in ("flexion", "extension"):
            bench.set_task(RELAX)
            baseline = np.mean([bench.step()[i] for _ in range(rest)][rest // 2:])
            bench.set_task(PatientTask(joint, direction))
            reaction = np.array([bench.step()[i] for _ in range(effort)])
            # the robot's reaction is opposite to the patient's torque
            patient = -DIRECTION_SIGN[direction] * (reaction - baseline)
            peaks[direction] = max(sustained_peak(patient, window), 0.0)
            limited[direction] = bool(
                np.max(np.abs(reaction)) >= AT_TORQUE_LIMIT * bench.torque_limit_nm[i])
    return IsometricTorque(joint, angle, peaks["flexion"], peaks["extension"],
                           limited["flexion"], limited["extension"])
