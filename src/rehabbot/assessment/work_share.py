"""The patient's share of the positive joint work in swing, from the recorded kinematics.

In swing the foot is off the ground, so the hip and knee torques that move the leg are those of
the leg's own dynamics (planar two-link leg hanging from an upright hip, the foot rigid at a
neutral ankle; :mod:`~rehabbot.assessment.leg_inertia` and
:mod:`~rehabbot.controllers.compensation`):

    τ = M(q_k) q̈ + c(q, q̇) + G(q)
    c_hip  = C'(q_k) (2 q̇_h q̇_k − q̇_k²)      c_knee = −C'(q_k) q̇_h²
    C'(q_k) = l_t (S_f cos q_k − S_a sin q_k)    (the derivative of M's coupling term C)
    G_hip = G_t + G_s      G_knee = −G_s   (the gravity torques of ``LegGravity``)

The robot's part is the drive-measured torque ``τ_robot``; the patient's, whatever else the
motion needs: ``τ_patient = τ − τ_robot``. Over the swing samples of complete strides (foot off
to the next foot strike, the session metrics' events) and the hip and knee of the leg:

    W⁺ = Σ max(τ · q̇, 0) Δt        share = W⁺_patient / (W⁺_patient + W⁺_robot) × 100 %

Velocities and accelerations come from the angles: a centred moving average of ``window_s``, a
central difference, the same again for the acceleration. Limits: swing only (in stance the
ground reaction is unknown); the leg model's errors (anthropometric tables, a rigid ankle, a
pelvis taken as fixed though it moves with the harness, joint friction) go into the patient's
torque; the smoothing blurs the fastest torque changes. Checked against a simulated patient's
true torques in ``tests/assessment/test_work_share.py`` (docs/metrics.md, "Robot assistance").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rehabbot.assessment.leg_inertia import LegInertia
from rehabbot.controllers.compensation import GRAVITY_MPS2, LegSegments
from rehabbot.hal.types import BoolArray, FloatArray
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments

#: Default smoothing window for velocities and accelerations (s).
WINDOW_S = 0.041


@dataclass(frozen=True)
class SwingLeg:
    """Inverse dynamics of one swinging leg (hip and knee) with its orthosis.

    Attributes:
        inertia: the leg's mass properties for the mass matrix.
        segments: the leg's mass properties for gravity.
        gravity_mps2: gravitational acceleration (m/s²).
    """

    inertia: LegInertia
    segments: LegSegments
    gravity_mps2: float = GRAVITY_MPS2

    @classmethod
    def from_body(cls, body: BodyModel, exo: ExoSegments) -> SwingLeg:
        """One leg of ``body`` in the orthosis ``exo``."""
        return cls(LegInertia.from_body(body, exo), LegSegments.from_body(body, exo))

    def torques(self, q: FloatArray, qd: FloatArray, qdd: FloatArray) -> FloatArray:
        """Hip and knee torques (N·m) that produce the motion, shape (n, 2).

        Args:
            q: hip and knee angles (rad, hip from the vertical, flexion positive), shape (n, 2).
            qd: their velocities (rad/s), shape (n, 2).
            qdd: their accelerations (rad/s²), shape (n, 2).

        >>> leg = SwingLeg.from_body(BodyModel.from_height_mass(1.75, 75.0), ExoSegments())
        >>> still = np.zeros((1, 2))
        >>> leg.torques(still, still, still).round(3).tolist()  # the foot's weight, as LegGravity
        [[0.709, -0.709]]
        """
        hip, knee = q[:, 0], q[:, 1]
        (m_hh, m_hk), (_, m_kk) = self.inertia.matrix(knee)
        i, s, g = self.inertia, self.segments, self.gravity_mps2
        slope = i.thigh_length_m * (i.ahead_kgm * np.cos(knee) - i.along_shank_kgm * np.sin(knee))
        shank = hip - knee
        g_thigh = g * (s.thigh_moment_kgm + (s.shank_mass_kg + s.foot_mass_kg)
                       * s.thigh_length_m) * np.sin(hip)
        g_shank = g * ((s.shank_moment_kgm + s.foot_mass_kg * s.foot_below_knee_m) * np.sin(shank)
                       + s.foot_mass_kg * s.foot_forward_m * np.cos(shank))
        v_h, v_k = qd[:, 0], qd[:, 1]
        tau_hip = (m_hh * qdd[:, 0] + m_hk * qdd[:, 1] + slope * (2.0 * v_h * v_k - v_k**2)
                   + g_thigh + g_shank)
        tau_knee = m_hk * qdd[:, 0] + m_kk * qdd[:, 1] - slope * v_h**2 - g_shank
        return np.column_stack((tau_hip, tau_knee))


@dataclass(frozen=True)
class WorkShare:
    """Positive work in swing (J) of the patient and of the robot, and the patient's share.

    Attributes:
        patient_j: the patient's positive work (J).
        robot_j: the robot's positive work (J).
    """

    patient_j: float
    robot_j: float

    @property
    def patient_pct(self) -> float:
        """The patient's share of the positive work (%); NaN when neither did any."""
        total = self.patient_j + self.robot_j
        return 100.0 * self.patient_j / total if total > 0 else float("nan")


def derivatives(q: FloatArray, period_s: float, window_s: float = WINDOW_S
                ) -> tuple[FloatArray, FloatArray]:
    """Velocity (rad/s) and acceleration (rad/s²) of ``q`` (rad, shape (n, joints)) sampled every
    ``period_s``: a centred moving average of ``window_s`` (the ends padded with the end values)
    before each central difference."""
    width = max(1, round(window_s / period_s) | 1)
    half = width // 2

    def smooth(x: FloatArray) -> FloatArray:  # along the last axis, the contiguous one
        summed = np.cumsum(np.pad(x, ((0, 0), (half + 1, half)), mode="edge"), axis=-1)
        return (summed[:, width:] - summed[:, :-width]) / width

    velocity = np.gradient(smooth(np.ascontiguousarray(q.T)), period_s, axis=-1)
    acceleration = np.gradient(smooth(velocity), period_s, axis=-1)
    return velocity.T, acceleration.T


def swing_mask(t_s: FloatArray, foot_off_s: FloatArray, end_s: FloatArray) -> BoolArray:
    """Samples with ``foot_off ≤ t < end`` of some stride (the intervals must not overlap)."""
    change = np.zeros(t_s.size + 1)
    np.add.at(change, np.searchsorted(t_s, foot_off_s), 1.0)
    np.add.at(change, np.searchsorted(t_s, end_s), -1.0)
    return np.cumsum(change)[:-1] > 0


def swing_work_share(
    t_s: FloatArray,
    q: FloatArray,
    tau_robot_nm: FloatArray,
    foot_off_s: FloatArray,
    end_s: FloatArray,
    leg: SwingLeg,
    window_s: float = WINDOW_S,
) -> WorkShare:
    """Positive work of patient and robot over the swings of one leg.

    Args:
        t_s: sample times (s), evenly spaced.
        q: hip and knee angles of the leg (rad), shape (n, 2).
        tau_robot_nm: the robot's hip and knee torques (N·m, drive-measured), shape (n, 2).
        foot_off_s: per complete stride of the leg its foot off (s).
        end_s: per complete stride the next foot strike (s).
        leg: the leg's dynamics.
        window_s: smoothing window of the derivatives (s).
    """
    period = float(np.median(np.diff(t_s)))
    qd, qdd = derivatives(q, period, window_s)
    swing = swing_mask(t_s, foot_off_s, end_s)
    needed = leg.torques(q[swing], qd[swing], qdd[swing])
    robot = tau_robot_nm[swing]
    velocity = qd[swing]
    return WorkShare(
        patient_j=float(np.maximum((needed - robot) * velocity, 0.0).sum() * period),
        robot_j=float(np.maximum(robot * velocity, 0.0).sum() * period),
    )
