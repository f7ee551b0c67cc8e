"""Robot-based joint stiffness assessment (L-STIFF-like), a proxy for spasticity: its procedure
and its analysis from the recorded samples.

The clinical test: the person relaxes while the robot moves one joint through a sinusoid at
several peak velocities (a ``sine`` step each: ``q = q_s + A (1 - cos ωt)``, ``ω = v / A``, one
period), the other joints held; the torque the robot needs, less what the leg's weight and
inertia take, is the joint's resistance. Per velocity a least-squares fit of

    tau_measured - tau_gravity - M_jh qdd_hip - M_jk qdd_knee = k (q - q0) + b qd

gives the apparent stiffness ``k`` (N·m/rad), damping ``b`` (N·m·s/rad) and rest angle ``q0``.
A relaxed joint without spasticity gives the same ``k`` and ``b`` at every velocity; a spastic
one resists more above its stretch-reflex threshold, so ``k`` and ``b`` rise with velocity
(Lance 1980).

``tau_measured`` is what the drives report; the gravity torque comes from the model
(:class:`~rehabbot.controllers.compensation.LegGravity`) at the recorded angles; the
accelerations are the recorded velocities' differences, coupled in through the leg's mass
matrix ``M`` (:class:`~rehabbot.body.leg_mechanics.LegInertia`) where the robot drives both
joints of the leg. The first :data:`SKIP_S` of each motion is left out of the fit.
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
from rehabbot.controllers.procedures import RELAX, Step
from rehabbot.hal.types import FloatArray

#: Largest amplitude (rad) of the motion: it spans twice this from the start angle.
AMPLITUDE_RAD = 0.4
#: The beginning of each motion (s) left out of the fit.
SKIP_S = 0.1


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


def stiffness_steps(joints: tuple[str, ...], velocities_deg_s: tuple[float, ...],
                    setup: RobotSetup) -> tuple[Step, ...]:
    """Per joint: to the start angle, then one sinusoid per peak velocity, as wide as
    :data:`AMPLITUDE_RAD` or as the joint's range in ``setup`` allows.

    Raises:
        ConfigurationError: the start angle lies outside a joint's range in ``setup``.
    """
    steps: list[Step] = []
    for joint in joints:
        start = start_angle_rad(joint)
        setup.check_angle(joint, start, "stiffness test start angle")
        amplitude = min(AMPLITUDE_RAD, (setup.high_rad[joint] - start) / 2.0)
        steps.append(Step("move", joint, "to_start", target_rad=start,
                          speed_rad_s=POSITIONING_SPEED_RAD_S))
        steps += [Step("sine", joint, "sine", "flexion", RELAX, amplitude_rad=amplitude,
                       speed_rad_s=math.radians(v)) for v in velocities_deg_s]
    return tuple(steps)


def stiffness(recording: AssessmentRecording, joints: tuple[str, ...],
              velocities_deg_s: tuple[float, ...], setup: RobotSetup
              ) -> list[tuple[str, StiffnessEstimate]]:
    """Per joint and completed motion, the fitted stiffness (module docstring); the motions
    ran at ``velocities_deg_s`` in order."""
    leg = setup.leg_inertia()
    samples, names = recording.samples, recording.joint_names
    out = []
    for joint in joints:
        side = joint.rsplit("_", 1)[1]
        hip, knee = f"hip_flexion_{side}", f"knee_angle_{side}"
        column = recording.column(joint)
        for velocity, mark in zip(velocities_deg_s, recording.steps(joint, "sine"),
                                  strict=False):
            if mark.ended_by != "time":
                continue
            rows = recording.rows(mark)
            t = samples.t_s[rows]
            q, qd = samples.q[rows, column], samples.qd[rows, column]
            resist = samples.tau[rows, column] - recording.weight_nm(rows, joint)
            if hip in names and knee in names:
                h, k = names.index(hip), names.index(knee)
                qdd = np.gradient(samples.qd[rows][:, [h, k]], t, axis=0)
                row = leg.matrix(samples.q[rows, k])[0 if joint == hip else 1]
                resist = resist - row[0] * qdd[:, 0] - row[1] * qdd[:, 1]
            keep = t - t[0] >= SKIP_S
            k_fit, b_fit, q0, rms = fit_stiffness(q[keep], qd[keep], resist[keep])
            out.append((joint, StiffnessEstimate(velocity, k_fit, b_fit, q0, rms)))
    return out
