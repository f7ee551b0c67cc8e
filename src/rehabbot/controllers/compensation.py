"""Model-based compensation: the legs' weight and the joints' friction, as feed-forward torque.

**Gravity.** Each leg is a planar two-link chain hanging from a hip held upright (the exoskeleton's
pelvis does not tilt): the thigh (``θ_t = q_hip`` from the vertical, forward positive) and the
shank with the foot (``θ_s = q_hip - q_knee``, knee flexion positive), the foot rigid at a neutral
ankle. With the potential energy ``V`` of thigh, shank, foot and orthosis, the torques that hold
the leg still are ``τ = ∂V/∂q``:

    G_t = g (s_t + (m_s + m_f) l_t) sin θ_t
    G_s = g ((s_s + m_f d_f) sin θ_s + m_f f_f cos θ_s)
    τ_hip = G_t + G_s            τ_knee = -G_s

where ``s_t``, ``s_s`` are the first moments of mass (kg·m) of the thigh and shank (person plus
orthosis) about their proximal joints, ``l_t`` the thigh length, ``m_s``, ``m_f`` the shank and foot
masses, and ``d_f``, ``f_f`` the foot's centre of mass below the knee along the shank and forward of
it. :meth:`LegSegments.from_body` takes them from the anthropometric body model and the orthosis.

**Friction.** Per joint ``τ = F_c s(q̇) + b q̇`` where ``s`` is 0 inside a velocity deadband
``|q̇| <= w`` (so a joint at rest is not dithered by sensor noise), rises linearly to ±1 at
``|q̇| = 2w`` and stays there: no torque step anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments

GRAVITY_MPS2 = 9.81


@dataclass(frozen=True)
class LegSegments:
    """Mass properties of one leg (person plus orthosis) for the planar gravity model.

    Attributes:
        thigh_moment_kgm: thigh mass times its centre of mass's distance from the hip (kg·m).
        thigh_length_m: hip to knee (m).
        shank_mass_kg: shank mass (kg).
        shank_moment_kgm: shank mass times its centre of mass's distance from the knee (kg·m).
        foot_mass_kg: foot mass (kg).
        foot_below_knee_m: foot centre of mass below the knee, along the shank (m).
        foot_forward_m: foot centre of mass forward of the shank's axis (m).
    """

    thigh_moment_kgm: float
    thigh_length_m: float
    shank_mass_kg: float
    shank_moment_kgm: float
    foot_mass_kg: float
    foot_below_knee_m: float
    foot_forward_m: float

    @classmethod
    def from_body(cls, body: BodyModel, exo: ExoSegments | None = None) -> LegSegments:
        """One leg of ``body`` with the orthosis ``exo`` (uniform rods along thigh and shank).

        >>> leg = LegSegments.from_body(BodyModel.from_height_mass(1.75, 75.0), ExoSegments())
        >>> round(leg.shank_mass_kg, 3)
        5.487
        """
        exo = exo if exo is not None else ExoSegments(0.0, 0.0, 0.0)
        thigh, shank, foot = body.thigh, body.shank, body.foot
        return cls(
            thigh_moment_kgm=thigh.mass_kg * thigh.com_from_proximal_m
            + exo.thigh_kg * 0.5 * thigh.length_m,
            thigh_length_m=thigh.length_m,
            shank_mass_kg=shank.mass_kg + exo.shank_kg,
            shank_moment_kgm=shank.mass_kg * shank.com_from_proximal_m
            + exo.shank_kg * 0.5 * shank.length_m,
            foot_mass_kg=foot.mass_kg,
            foot_below_knee_m=shank.length_m + 0.5 * body.foot_height_m,
            foot_forward_m=foot.com_from_proximal_m - body.heel_to_ankle_m,
        )


def _leg_joints(joint_names: tuple[str, ...]) -> list[tuple[int, int | None]]:
    """(hip index, knee index or None) of each side that has a hip."""
    legs = []
    for side in ("r", "l"):
        hip = f"hip_flexion_{side}"
        if hip in joint_names:
            knee = f"knee_angle_{side}"
            legs.append((joint_names.index(hip),
                         joint_names.index(knee) if knee in joint_names else None))
    return legs


class LegGravity:
    """Joint torques (N·m) that hold both legs against gravity (see the module docstring).

    A robot without a knee on a side is taken with that knee straight. A leg hanging straight is
    loaded only by the foot's centre of mass, forward of the ankle:

    >>> body = BodyModel.from_height_mass(1.75, 75.0)
    >>> gravity = LegGravity(("hip_flexion_r", "knee_angle_r"), LegSegments.from_body(body))
    >>> gravity.torques(np.zeros(2)).round(3).tolist()
    [0.709, -0.709]
    """

    def __init__(
        self, joint_names: tuple[str, ...], leg: LegSegments, gravity_mps2: float = GRAVITY_MPS2
    ) -> None:
        self.joint_names = joint_names
        self.leg = leg
        self.gravity_mps2 = gravity_mps2
        self._legs = _leg_joints(joint_names)
        g = gravity_mps2
        self._thigh = g * (leg.thigh_moment_kgm
                           + (leg.shank_mass_kg + leg.foot_mass_kg) * leg.thigh_length_m)
        self._shank_sin = g * (leg.shank_moment_kgm + leg.foot_mass_kg * leg.foot_below_knee_m)
        self._shank_cos = g * leg.foot_mass_kg * leg.foot_forward_m
        self._out = np.zeros(len(joint_names))

    def torques(self, q: FloatArray) -> FloatArray:
        """The holding torques at angles ``q`` (rad); one array reused by every call."""
        out = self._out
        for hip, knee in self._legs:
            thigh = float(q[hip])
            shank = thigh - (float(q[knee]) if knee is not None else 0.0)
            g_shank = self._shank_sin * np.sin(shank) + self._shank_cos * np.cos(shank)
            out[hip] = self._thigh * np.sin(thigh) + g_shank
            if knee is not None:
                out[knee] = -g_shank
        return out


@dataclass(frozen=True)
class JointFriction:
    """Coulomb and viscous friction per joint, with a velocity deadband (module docstring).

    Attributes:
        coulomb_nm: Coulomb friction torque ``F_c`` per joint (N·m), >= 0.
        viscous_nms_per_rad: viscous coefficient ``b`` per joint (N·m·s/rad), >= 0.
        deadband_rad_s: velocity deadband ``w`` (rad/s), > 0.

    >>> f = JointFriction(np.array([2.0]), np.array([0.5]), deadband_rad_s=0.1)
    >>> [round(float(f.torques(np.array([v]))[0]), 6) for v in (0.05, 0.15, 1.0)]
    [0.025, 1.075, 2.5]
    """

    coulomb_nm: FloatArray
    viscous_nms_per_rad: FloatArray
    deadband_rad_s: float = 0.05

    def __post_init__(self) -> None:
        if self.coulomb_nm.shape != self.viscous_nms_per_rad.shape:
            raise ConfigurationError("friction: coulomb_nm and viscous_nms_per_rad differ in shape")
        if np.any(self.coulomb_nm < 0) or np.any(self.viscous_nms_per_rad < 0):
            raise ConfigurationError("friction: coefficients must be >= 0")
        if not self.deadband_rad_s > 0.0:
            raise ConfigurationError(f"friction: deadband {self.deadband_rad_s} rad/s must be > 0")

    def torques(self, qd: FloatArray) -> FloatArray:
        """Friction torques (N·m) at velocities ``qd`` (rad/s), in the direction of motion."""
        w = self.deadband_rad_s
        share = np.clip((np.abs(qd) - w) / w, 0.0, 1.0) * np.sign(qd)
        result: FloatArray = self.coulomb_nm * share + self.viscous_nms_per_rad * qd
        return result


@dataclass(frozen=True)
class Compensation:
    """The feed-forward torque that makes the robot carry its own (and the legs') weight and
    friction: ``share_g · G(q) + share_f · F(q̇)``.

    Attributes:
        gravity: the legs' gravity model, or None.
        friction: the joints' friction model, or None.
    """

    gravity: LegGravity | None = None
    friction: JointFriction | None = None

    def torques(
        self, q: FloatArray, qd: FloatArray, gravity_share: float = 1.0,
        friction_share: float = 1.0,
    ) -> FloatArray:
        """Compensation torques (N·m) at ``q`` (rad), ``qd`` (rad/s), each model scaled by its
        share (0..1); a new array."""
        tau = np.zeros(q.shape)
        if self.gravity is not None:
            tau += gravity_share * self.gravity.torques(q)
        if self.friction is not None:
            tau += friction_share * self.friction.torques(qd)
        return tau
