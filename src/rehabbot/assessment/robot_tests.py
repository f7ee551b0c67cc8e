"""Robot-based joint stiffness assessment (L-STIFF-like), a proxy for spasticity, in simulation.

The clinical test: the patient hangs relaxed in the harness (full body-weight support, belt
still) while the robot moves one joint through a sinusoid at several peak velocities; the
torque the robot needs, less what the leg's weight and inertia take, is the joint's resistance.
Per velocity a least-squares fit of

    tau_robot - tau_gravity (1 + z''/g) - M_jh qdd_hip - M_jk qdd_knee = k (q - q0) + b qd

gives the apparent stiffness ``k`` (N·m/rad), damping ``b`` (N·m·s/rad) and rest angle ``q0``.
A relaxed joint without spasticity gives the same ``k`` and ``b`` at every velocity; a spastic
one resists more above its stretch-reflex threshold, so ``k`` and ``b`` rise with velocity
(Lance 1980).

The test runs on an :class:`~rehabbot.assessment.robot_bench.AssessmentBench`: a stiff position
controller moves the hip or knee and holds the other joints, its torques going straight to the
simulated world. The gravity torque ``tau_gravity`` comes from the model
(:class:`~rehabbot.controllers.compensation.LegGravity`) at the measured angles. Two couplings
matter at speed and are modelled: the harness lets the pelvis bounce (``z''``, from the pelvis
height: in the pelvis's frame gravity is ``g + z''``), and the held joint of the same leg gives a
little under the inertial load, whose acceleration couples in through the leg's mass matrix
``M`` (:class:`~rehabbot.assessment.leg_inertia.LegInertia`, from the anthropometric body model
and the orthosis). The patient is relaxed (:data:`~rehabbot.sim.patient.RELAX`: only passive
stiffness, damping, end stops and stretch reflexes act).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.assessment.leg_inertia import LegInertia
from rehabbot.assessment.robot_bench import AssessmentBench, check_joints
from rehabbot.controllers.compensation import GRAVITY_MPS2
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.types import FloatArray
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments
from rehabbot.sim.patient import PatientProfile
from rehabbot.sim.world import JOINT_NAMES

#: Peak joint velocities of the assessment (deg/s), slow to fast as in the clinic.
DEFAULT_VELOCITIES_DEG_S = (30.0, 90.0, 180.0)

@dataclass(frozen=True)
class StiffnessEstimate:
    """The joint's resistance at one velocity of the assessment.

    Attributes:
        peak_velocity_deg_s: peak velocity of the sinusoid (deg/s).
        stiffness_nm_per_rad: apparent stiffness ``k`` (N·m/rad).
        damping_nms_per_rad: apparent damping ``b`` (N·m·s/rad).
        rest_angle_rad: angle ``q0`` at which the fitted spring is relaxed (rad).
        rms_residual_nm: RMS of the fit's residual (N·m).
    """

    peak_velocity_deg_s: float
    stiffness_nm_per_rad: float
    damping_nms_per_rad: float
    rest_angle_rad: float
    rms_residual_nm: float


def fit_stiffness(
    q: FloatArray, qd: FloatArray, tau_resist: FloatArray
) -> tuple[float, float, float, float]:
    """Least-squares ``tau_resist = k (q - q0) + b qd``; returns ``(k, b, q0, rms residual)``.

    >>> q = np.linspace(0.0, 1.0, 50); qd = np.cos(7 * q)
    >>> k, b, q0, rms = fit_stiffness(q, qd, 3.0 * (q - 0.2) + 0.5 * qd)
    >>> round(k, 6), round(b, 6), round(q0, 6)
    (3.0, 0.5, 0.2)
    """
    design = np.column_stack([q, qd, np.ones_like(q)])
    coef, *_ = np.linalg.lstsq(design, tau_resist, rcond=None)
    k, b, c = (float(x) for x in coef)
    residual = tau_resist - design @ coef
    q0 = -c / k if k != 0.0 else math.nan
    return k, b, q0, float(np.sqrt(np.mean(residual**2)))


def assess_stiffness(
    profile: PatientProfile,
    joint: str = "knee_angle_l",
    velocities_deg_s: tuple[float, ...] = DEFAULT_VELOCITIES_DEG_S,
    *,
    height_m: float = 1.75,
    mass_kg: float = 75.0,
    amplitude_rad: float = 0.4,
    robot: RobotConfig | None = None,
    time_step_s: float = 0.001,
) -> list[StiffnessEstimate]:
    """Move ``joint`` through one sinusoid per peak velocity and fit its stiffness and damping.

    The joint goes from its start angle ``q_s`` (hip 0, knee :data:`HOLD_KNEE_RAD`) to
    ``q_s + 2 * amplitude_rad`` and back (``q = q_s + A (1 - cos ωt)``, ``ω = v / A``), one period
    per velocity, in a fresh world each time; the other joints are held still (a hip moves the
    whole leg, knee held). The first 0.1 s is left out of the fit. ``robot``: the robot's
    configuration (default the bundled ``sim_exo``).

    Raises:
        ConfigurationError: ``joint`` is not a hip or knee, or an argument is out of range.
    """
    check_joints((joint,))
    if not 0.05 <= amplitude_rad <= 0.6:
        raise ConfigurationError(f"amplitude_rad = {amplitude_rad} is outside [0.05, 0.6]")
    if not velocities_deg_s or not all(1.0 <= v <= 400.0 for v in velocities_deg_s):
        raise ConfigurationError(f"velocities_deg_s {velocities_deg_s} not all in [1, 400]")
    leg = LegInertia.from_body(BodyModel.from_height_mass(height_m, mass_kg), ExoSegments())
    return [
        _one_velocity(profile, height_m, mass_kg, robot, leg, joint, v, amplitude_rad,
                      time_step_s)
        for v in velocities_deg_s
    ]


def _one_velocity(
    profile: PatientProfile,
    height_m: float,
    mass_kg: float,
    robot: RobotConfig | None,
    leg: LegInertia,
    joint: str,
    velocity_deg_s: float,
    amplitude: float,
    dt: float,
) -> StiffnessEstimate:
    omega = math.radians(velocity_deg_s) / amplitude
    steps = round(2.0 * math.pi / omega / dt)
    side = joint.rsplit("_", 1)[1]
    index = JOINT_NAMES.index(joint)
    hip, knee = JOINT_NAMES.index(f"hip_flexion_{side}"), JOINT_NAMES.index(f"knee_angle_{side}")
    q_log, qd_log = np.zeros((steps, len(JOINT_NAMES))), np.zeros((steps + 1, len(JOINT_NAMES)))
    tau_log, weight = np.zeros(steps), np.zeros(steps)
    pelvis = np.zeros(steps + 2)
    with AssessmentBench(profile, height_m=height_m, mass_kg=mass_kg, robot=robot,
                         time_step_s=dt) as bench:
        hold = bench.target.copy()
        pelvis[0] = pelvis[1] = bench.world.pelvis_height_m
        for n in range(steps):
            t = n * dt
            bench.target[index] = hold[index] + amplitude * (1.0 - math.cos(omega * t))
            bench.target_v[index] = amplitude * omega * math.sin(omega * t)
            q_log[n], qd_log[n] = bench.q, bench.qd
            tau_log[n] = bench.step()[index]
            weight[n] = bench.gravity_[index]
            pelvis[n + 2] = bench.world.pelvis_height_m
        qd_log[steps] = bench.qd
    # tau_log[n] acts over step n; the resulting velocity change gives the acceleration then
    qdd = np.diff(qd_log, axis=0) / dt
    # the harness lets the pelvis move up and down: in its frame gravity is g + z''
    pelvis_acceleration = np.diff(pelvis, 2) / dt**2
    # the held joint of the same leg gives a little: its acceleration couples in
    row = leg.matrix(q_log[:, knee])[0 if index == hip else 1]
    inertial = row[0] * qdd[:, hip] + row[1] * qdd[:, knee]
    resist = tau_log - weight * (1.0 + pelvis_acceleration / GRAVITY_MPS2) - inertial
    skip = round(0.1 / dt)
    q, qd = q_log[skip:, index], qd_log[skip:-1, index]
    k, b, q0, rms = fit_stiffness(q, qd, resist[skip:])
    return StiffnessEstimate(velocity_deg_s, k, b, q0, rms)

