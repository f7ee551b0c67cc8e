"""Robot-based joint stiffness assessment (L-STIFF-like), a proxy for spasticity, in simulation.

The clinical test: the patient hangs relaxed in the harness (full body-weight support, belt
still) while the robot moves one joint through a sinusoid at several peak velocities; the
torque the robot needs, less what the leg's weight and inertia take, is the joint's resistance.
Per velocity a least-squares fit of

    tau_robot - tau_gravity - I * qdd = k * (q - q0) + b * qd

gives the apparent stiffness ``k`` (N·m/rad), damping ``b`` (N·m·s/rad) and rest angle ``q0``.
A relaxed joint without spasticity gives the same ``k`` and ``b`` at every velocity; a spastic
one resists more above its stretch-reflex threshold, so ``k`` and ``b`` rise with velocity
(Lance 1980).

Here the robot is a stiff position controller whose torques go straight to the simulated world
(no CAN, no drive emulation): it is the assessment's analysis that is under test, and the
robot's "measured" torque is the controller's output. The gravity torque comes from the model
(:class:`~rehabbot.controllers.compensation.LegGravity`), the inertia from the anthropometric
body model and the orthosis. The patient is a :class:`~rehabbot.sim.patient.PatientModel` of
the chosen profile with its ability set to 0 (relaxed: only passive stiffness, damping and
stretch reflexes act). Only knee joints can be assessed (the hip's inertia depends on the knee).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.controllers.compensation import LegGravity, LegSegments
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments
from rehabbot.sim.patient import PatientModel, PatientProfile
from rehabbot.sim.world import JOINT_NAMES, TreadmillWorld

#: Peak joint velocities of the assessment (deg/s), slow to fast as in the clinic.
DEFAULT_VELOCITIES_DEG_S = (30.0, 90.0, 180.0)
#: Position-controller gains of the robot: stiffness (N·m/rad) and damping (N·m·s/rad).
ROBOT_KP_NM_PER_RAD = 3000.0
ROBOT_KD_NMS_PER_RAD = 40.0
#: Knee angle held by the other joints and at the start of the motion (rad).
HOLD_KNEE_RAD = 0.2


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


def knee_inertia_kgm2(body: BodyModel, exo: ExoSegments) -> float:
    """Moment of inertia (kg·m²) of shank, orthosis shank and foot about the knee axis."""
    shank, foot = body.shank, body.foot
    leg = LegSegments.from_body(body, exo)
    human = shank.inertia_kgm2[1] + shank.mass_kg * shank.com_from_proximal_m**2
    rod = exo.shank_kg * shank.length_m**2 / 3.0
    foot_distance_sq = leg.foot_below_knee_m**2 + leg.foot_forward_m**2
    return human + rod + foot.inertia_kgm2[1] + foot.mass_kg * foot_distance_sq


def relaxed(profile: PatientProfile) -> PatientProfile:
    """``profile`` with no voluntary moment (ability 0) and no stride variability."""
    return PatientProfile(
        f"{profile.name}_relaxed",
        {"hip_flexion": 0.0, "knee_angle": 0.0},
        stride_variability=0.0,
        spasticity=profile.spasticity,
    )


def assess_stiffness(
    profile: PatientProfile,
    joint: str = "knee_angle_l",
    velocities_deg_s: tuple[float, ...] = DEFAULT_VELOCITIES_DEG_S,
    *,
    height_m: float = 1.75,
    mass_kg: float = 75.0,
    amplitude_rad: float = 0.4,
    time_step_s: float = 0.001,
) -> list[StiffnessEstimate]:
    """Move ``joint`` through one sinusoid per peak velocity and fit its stiffness and damping.

    The joint goes from :data:`HOLD_KNEE_RAD` to ``HOLD_KNEE_RAD + 2 * amplitude_rad`` and back
    (``q = HOLD_KNEE_RAD + A (1 - cos ωt)``, ``ω = v / A``), one period per velocity, in a fresh
    world each time; the other joints are held still. The first 0.1 s is left out of the fit.

    Raises:
        ConfigurationError: ``joint`` is not a simulated knee, or an argument is out of range.
    """
    if joint not in ("knee_angle_r", "knee_angle_l"):
        raise ConfigurationError(f"stiffness assessment: {joint!r} is not a knee joint")
    if not 0.05 <= amplitude_rad <= 0.6:
        raise ConfigurationError(f"amplitude_rad = {amplitude_rad} is outside [0.05, 0.6]")
    if not velocities_deg_s or not all(1.0 <= v <= 400.0 for v in velocities_deg_s):
        raise ConfigurationError(f"velocities_deg_s {velocities_deg_s} not all in [1, 400]")
    body = BodyModel.from_height_mass(height_m, mass_kg)
    exo = ExoSegments()
    inertia = knee_inertia_kgm2(body, exo)
    gravity = LegGravity(JOINT_NAMES, LegSegments.from_body(body, exo))
    index = JOINT_NAMES.index(joint)
    hold = np.zeros(len(JOINT_NAMES))
    for side in ("r", "l"):
        hold[JOINT_NAMES.index(f"knee_angle_{side}")] = HOLD_KNEE_RAD
    held = np.array([name.startswith(("hip", "knee")) for name in JOINT_NAMES])
    return [
        _one_velocity(profile, body, exo, inertia, gravity, index, hold, held, v,
                      amplitude_rad, time_step_s)
        for v in velocities_deg_s
    ]


def _one_velocity(
    profile: PatientProfile,
    body: BodyModel,
    exo: ExoSegments,
    inertia: float,
    gravity: LegGravity,
    index: int,
    hold: FloatArray,
    held: FloatArray,
    velocity_deg_s: float,
    amplitude: float,
    dt: float,
) -> StiffnessEstimate:
    omega = math.radians(velocity_deg_s) / amplitude
    steps = round(2.0 * math.pi / omega / dt)
    patient = PatientModel(JOINT_NAMES, relaxed(profile), body.mass_kg, 90.0, seed=0)
    q_log, qd_log, tau_log = np.zeros(steps), np.zeros(steps), np.zeros(steps)
    target, target_v = hold.copy(), np.zeros(len(JOINT_NAMES))
    with TreadmillWorld(body, belt_speed_mps=0.0, body_weight_support=1.0,
                        time_step_s=dt, exo=exo) as world:
        world.reset_pose(hold)
        q, qd = world.read_joints()
        for n in range(steps):
            t = n * dt
            target[index] = HOLD_KNEE_RAD + amplitude * (1.0 - math.cos(omega * t))
            target_v[index] = amplitude * omega * math.sin(omega * t)
            g = gravity.torques(q)
            robot = np.where(
                held, ROBOT_KP_NM_PER_RAD * (target - q) + ROBOT_KD_NMS_PER_RAD
                * (target_v - qd) + g, 0.0)
            q_log[n], qd_log[n], tau_log[n] = q[index], qd[index], robot[index]
            world.apply_torques(robot + patient.torques(t, q, qd, False))
            world.step()
            q, qd = world.read_joints()
    # tau_log[n] acts over step n; the resulting velocity change gives the acceleration then
    qd_next = np.append(qd_log[1:], qd[index])
    qdd = (qd_next - qd_log) / dt
    g_knee = np.array([gravity.torques(_with(hold, index, a))[index] for a in q_log])
    resist = tau_log - g_knee - inertia * qdd
    skip = round(0.1 / dt)
    k, b, q0, rms = fit_stiffness(q_log[skip:], qd_log[skip:], resist[skip:])
    return StiffnessEstimate(velocity_deg_s, k, b, q0, rms)


def _with(base: FloatArray, index: int, value: float) -> FloatArray:
    out = base.copy()
    out[index] = value
    return out
