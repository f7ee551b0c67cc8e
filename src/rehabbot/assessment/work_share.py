"""The patient's share of the positive joint work in swing, from the recorded kinematics.

In swing the foot is off the ground, so the hip and knee torques that move the leg are those of
the leg's own dynamics (planar two-link leg hanging from an upright hip, the foot rigid at a
neutral ankle; :mod:`~rehabbot.body.leg_mechanics` and
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

In simulation the patient's torque need not be estimated: the session stores the patient model's
muscle torques per tick as simulation truth (:mod:`rehabbot.storage.truth`), and
:func:`true_swing_work_share` takes the patient's positive work from them (the robot's as above).
:func:`patient_work_shares` uses the truth when a session has it and the estimate otherwise (a
real robot), and says which (:data:`SOURCE_TRUTH`, :data:`SOURCE_ESTIMATE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import GRAVITY_MPS2, LegInertia, LegSegments
from rehabbot.body.orthosis import ExoSegments
from rehabbot.hal.types import BoolArray, FloatArray, IntArray

#: Default smoothing window for velocities and accelerations (s).
WINDOW_S = 0.041
#: The work share's source in simulation: the simulated patient's muscle torques.
SOURCE_TRUTH = "simulation truth (the patient model's muscle torques)"
#: The work share's source on a real robot: the interaction torques and the leg's dynamics.
SOURCE_ESTIMATE = "estimate (drive-measured torques and the leg's inverse dynamics)"


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
        g_shank = np.sin(shank)
        g_shank *= g * (s.shank_moment_kgm + s.foot_mass_kg * s.foot_below_knee_m)
        np.cos(shank, out=shank)
        shank *= g * s.foot_mass_kg * s.foot_forward_m
        g_shank += shank
        v_h, v_k = qd[:, 0], qd[:, 1]
        tau = np.empty((hip.size, 2))
        tau_hip, tau_knee = tau[:, 0], tau[:, 1]
        # τ_hip = M_hh q̈_h + M_hk q̈_k + C' (2 v_h − v_k) v_k + G_t + G_s
        np.multiply(v_h, 2.0, out=tau_hip)
        tau_hip -= v_k
        tau_hip *= v_k
        tau_hip *= slope
        tau_hip += m_hh * qdd[:, 0]
        tau_hip += m_hk * qdd[:, 1]
        tau_hip += g * (s.thigh_moment_kgm + (s.shank_mass_kg + s.foot_mass_kg)
                        * s.thigh_length_m) * np.sin(hip)
        tau_hip += g_shank
        # τ_knee = M_hk q̈_h + M_kk q̈_k − C' v_h² − G_s
        np.multiply(v_h, v_h, out=tau_knee)
        tau_knee *= slope
        np.subtract(m_hk * qdd[:, 0], tau_knee, out=tau_knee)
        tau_knee += m_kk * qdd[:, 1]
        tau_knee -= g_shank
        return tau


@dataclass(frozen=True)
class WorkShare:
    """Positive work in swing (J) of the patient and of the robot, and the patient's share, over
    all the swings and per swing.

    Attributes:
        patient_j: the patient's positive work (J).
        robot_j: the robot's positive work (J).
        stride_patient_j: the patient's positive work in each stride's swing (J), in the order of
            the strides given (empty when not computed).
        stride_robot_j: the robot's, likewise (J).
    """

    patient_j: float
    robot_j: float
    stride_patient_j: FloatArray = field(default_factory=lambda: np.zeros(0))
    stride_robot_j: FloatArray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def of_strides(cls, patient_j: FloatArray, robot_j: FloatArray) -> WorkShare:
        """The totals and per-stride works from the per-stride works (J)."""
        return cls(float(patient_j.sum()), float(robot_j.sum()), patient_j, robot_j)

    @property
    def patient_pct(self) -> float:
        """The patient's share of the positive work (%); NaN when neither did any."""
        total = self.patient_j + self.robot_j
        return 100.0 * self.patient_j / total if total > 0 else float("nan")

    @property
    def stride_patient_pct(self) -> FloatArray:
        """The patient's share of each stride's positive swing work (%); NaN where neither did
        any.

        >>> WorkShare.of_strides(np.array([1.0, 0.0, 0.0]), np.array([3.0, 2.0, 0.0])
        ...                      ).stride_patient_pct.tolist()
        [25.0, 0.0, nan]
        """
        total = self.stride_patient_j + self.stride_robot_j
        share: FloatArray = np.full(total.shape, np.nan)
        np.divide(100.0 * self.stride_patient_j, total, out=share, where=total > 0)
        return share


def _per_stride(rows: IntArray, first: IntArray, stop: IntArray, power: FloatArray,
                period_s: float) -> FloatArray:
    """Per stride ``k`` the work (J) of the positive ``power`` (W, one value per row of
    ``rows``, the sample indices in order) over the rows with ``first[k] ≤ row < stop[k]``."""
    summed = np.concatenate(([0.0], np.cumsum(power)))
    work: FloatArray = (summed[np.searchsorted(rows, stop)]
                        - summed[np.searchsorted(rows, first)]) * period_s
    return work


def _window_samples(window_s: float, period_s: float) -> int:
    """The smoothing window of ``window_s`` (s) in samples of ``period_s`` (s), odd."""
    return max(1, round(window_s / period_s) | 1)


def derivatives(q: FloatArray, period_s: float, window_s: float = WINDOW_S
                ) -> tuple[FloatArray, FloatArray]:
    """Velocity (rad/s) and acceleration (rad/s²) of ``q`` (rad, shape (n, joints)) sampled every
    ``period_s``: a centred moving average of ``window_s`` (the ends padded with the end values)
    before each central difference."""
    width = _window_samples(window_s, period_s)
    half = width // 2

    def smooth(x: FloatArray) -> FloatArray:  # along the last axis, the contiguous one
        summed = np.cumsum(np.pad(x, ((0, 0), (half + 1, half)), mode="edge"), axis=-1)
        return (summed[:, width:] - summed[:, :-width]) / width

    velocity = np.gradient(smooth(np.ascontiguousarray(q.T)), period_s, axis=-1)
    acceleration = np.gradient(smooth(velocity), period_s, axis=-1)
    return velocity.T, acceleration.T


def swing_mask(t_s: FloatArray, foot_off_s: FloatArray, end_s: FloatArray) -> BoolArray:
    """Samples with ``foot_off ≤ t < end`` of some stride (the intervals must not overlap)."""
    return _index_mask(t_s.size, np.searchsorted(t_s, foot_off_s), np.searchsorted(t_s, end_s))


def _index_mask(n: int, first: IntArray, stop: IntArray) -> BoolArray:
    """Of ``n`` samples, those with ``first ≤ i < stop`` for some interval (indices clipped)."""
    change = np.zeros(n + 1)
    np.add.at(change, np.clip(first, 0, n), 1.0)
    np.add.at(change, np.clip(stop, 0, n), -1.0)
    mask: BoolArray = np.cumsum(change)[:-1] > 0
    return mask


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
    first, stop = np.searchsorted(t_s, foot_off_s), np.searchsorted(t_s, end_s)
    if not np.any(stop > first):
        return WorkShare.of_strides(np.zeros(first.size), np.zeros(first.size))
    # The acceleration at a sample depends on the angles up to one smoothing window and one
    # sample on either side (two half windows and two central differences): only the swings
    # with that margin are differentiated, joined end to end. The swings' derivatives are those
    # of the whole recording (to rounding); the margins', mixing neighbouring pieces, are unused.
    margin = _window_samples(window_s, period) + 1
    kept = np.flatnonzero(_index_mask(t_s.size, first - margin, stop + margin))
    swing = np.flatnonzero(_index_mask(t_s.size, first, stop)[kept])
    qd, qdd = derivatives(q[kept], period, window_s)
    rows = kept[swing]
    # Joint-major (2, samples) copies, so that each joint's column is contiguous.
    velocity = np.take(qd.T, swing, axis=1).T
    needed = leg.torques(np.stack((q[rows, 0], q[rows, 1])).T, velocity,
                         np.take(qdd.T, swing, axis=1).T)
    robot = tau_robot_nm[rows]
    needed -= robot
    needed *= velocity
    robot *= velocity
    patient = np.maximum(needed, 0.0, out=needed).sum(axis=1)
    return WorkShare.of_strides(
        _per_stride(rows, first, stop, patient, period),
        _per_stride(rows, first, stop, np.maximum(robot, 0.0, out=robot).sum(axis=1), period))


def true_swing_work_share(
    t_s: FloatArray,
    q: FloatArray,
    tau_robot_nm: FloatArray,
    tau_patient_nm: FloatArray,
    foot_off_s: FloatArray,
    end_s: FloatArray,
    window_s: float = WINDOW_S,
) -> WorkShare:
    """Positive work of patient and robot over the swings of one leg, the patient's from their
    true torques (simulation truth).

    Args:
        t_s: sample times (s), evenly spaced.
        q: hip and knee angles of the leg (rad), shape (n, 2).
        tau_robot_nm: the robot's hip and knee torques (N·m, drive-measured), shape (n, 2).
        tau_patient_nm: the patient's hip and knee muscle torques acting from each sample's
            state (N·m), shape (n, 2); samples with NaN (not recorded) are left out for both.
        foot_off_s: per complete stride of the leg its foot off (s).
        end_s: per complete stride the next foot strike (s).
        window_s: smoothing window of the velocities (s), as the estimate's.

    >>> t = np.arange(0.0, 1.0, 0.001)
    >>> q = np.column_stack((np.sin(t), np.sin(t)))
    >>> share = true_swing_work_share(t, q, np.ones((t.size, 2)), 3 * np.ones((t.size, 2)),
    ...                               np.array([0.2]), np.array([0.6]))
    >>> round(share.patient_pct, 6)
    75.0
    """
    period = float(np.median(np.diff(t_s)))
    first, stop = np.searchsorted(t_s, foot_off_s), np.searchsorted(t_s, end_s)
    swing = _index_mask(t_s.size, first, stop)
    swing &= np.all(np.isfinite(tau_patient_nm), axis=1)
    rows = np.flatnonzero(swing)
    velocity = derivatives(q, period, window_s)[0][rows]
    patient = np.maximum(tau_patient_nm[rows] * velocity, 0.0).sum(axis=1)
    robot = np.maximum(tau_robot_nm[rows] * velocity, 0.0).sum(axis=1)
    return WorkShare.of_strides(_per_stride(rows, first, stop, patient, period),
                                _per_stride(rows, first, stop, robot, period))


def patient_work_shares(
    t_s: FloatArray,
    legs: Mapping[str, tuple[FloatArray, FloatArray, FloatArray | None]],
    strides: Mapping[str, Mapping[str, FloatArray]],
    leg: SwingLeg | None,
) -> dict[str, Any]:
    """The patient's share of the positive work in swing per side, from the truth when there is
    one, else estimated.

    Args:
        t_s: sample times (s), evenly spaced.
        legs: per side, the hip and knee angles (rad, (n, 2)), the robot's drive-measured torques
            (N·m, (n, 2)) and the patient's true muscle torques (N·m, (n, 2), acting from each
            sample's state) or None.
        strides: per side the stride table (``foot_off_s``, ``end_s``).
        leg: the leg's dynamics, for the estimate (None: no estimate).

    Returns:
        ``patient_work_share_swing_pct`` (side → %), ``patient_work_share_source``
        (:data:`SOURCE_TRUTH` when every side had the truth, else :data:`SOURCE_ESTIMATE`),
        ``patient_work_share_stride_swing_pct`` (side → the share of each stride's swing (%),
        from the same source, in the order of the stride table) and, when the estimate could be
        made, ``patient_work_share_estimate_swing_pct`` (side → %); empty when neither could.
    """
    truth: dict[str, WorkShare] = {}
    estimate: dict[str, WorkShare] = {}
    for side, (q, tau_robot, tau_patient) in legs.items():
        offs, ends = strides[side]["foot_off_s"], strides[side]["end_s"]
        if tau_patient is not None:
            truth[side] = true_swing_work_share(t_s, q, tau_robot, tau_patient, offs, ends)
        if leg is not None:
            estimate[side] = swing_work_share(t_s, q, tau_robot, offs, ends, leg)
    found: dict[str, Any] = {}
    if estimate:
        found["patient_work_share_estimate_swing_pct"] = {
            side: share.patient_pct for side, share in estimate.items()}
    chosen = (truth, SOURCE_TRUTH) if truth and len(truth) == len(legs) else (
        estimate, SOURCE_ESTIMATE)
    if chosen[0]:
        found |= {
            "patient_work_share_swing_pct": {s: w.patient_pct for s, w in chosen[0].items()},
            "patient_work_share_stride_swing_pct": {
                s: w.stride_patient_pct for s, w in chosen[0].items()},
            "patient_work_share_source": chosen[1]}
    return found
