"""Mechanics of one leg (hip and knee) in the sagittal plane: its weight and its inertia.

**The leg.** Each leg is a planar two-link chain hanging from a hip held upright (the
exoskeleton's pelvis does not tilt): the thigh at ``θ_t = q_hip`` from the vertical (forward
positive) and the shank with the foot (rigid, at a neutral ankle) at ``θ_s = q_hip - q_knee``
(knee flexion positive; signs as in :mod:`rehabbot.body.joints`). Its mass properties, person plus
orthosis (:class:`~rehabbot.body.orthosis.ExoSegments`, uniform rods along thigh and shank), come
from the anthropometric body model (:class:`~rehabbot.body.anthropometry.BodyModel`):
:class:`LegSegments` for the weight, :class:`LegInertia` for the mass matrix.

**Gravity** (:class:`LegGravity`). With the potential energy ``V`` of thigh, shank, foot and
orthosis, the torques that hold the leg still are ``τ = ∂V/∂q``:

    G_t = g (s_t + (m_s + m_f) l_t) sin θ_t
    G_s = g ((s_s + m_f d_f) sin θ_s + m_f f_f cos θ_s)
    τ_hip = G_t + G_s            τ_knee = -G_s

where ``s_t``, ``s_s`` are the first moments of mass (kg·m) of the thigh and shank (person plus
orthosis) about their proximal joints, ``l_t`` the thigh length, ``m_s``, ``m_f`` the shank and foot
masses, and ``d_f``, ``f_f`` the foot's centre of mass below the knee along the shank and forward of
it. :meth:`LegSegments.from_body` takes them from the anthropometric body model and the orthosis.

**Inertia** (:class:`LegInertia`). A point ``a`` down the shank and ``f`` ahead of it moves with
the thigh's rotation about the hip and the shank's about the knee; summing the kinetic energy over
thigh, shank, foot and orthosis gives

    M_hh = J_t + m_d l_t² + J_k + 2 C(q_knee)      M_kk = J_k      M_hk = M_kh = -(J_k + C(q_knee))
    C(q_knee) = l_t (S_a cos q_knee + S_f sin q_knee)

with ``J_t`` the thigh and its orthosis about the hip, ``m_d``, ``J_k`` the mass and the inertia
about the knee of everything below the knee, ``l_t`` the thigh length and ``S_a``, ``S_f`` the
first moments of mass below the knee along the shank and ahead of it. ``M_hk`` is negative
because flexing the knee swings the shank backward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.arrays import FloatArray
from rehabbot.body.orthosis import ExoSegments

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
class LegInertia:
    """Mass properties of one leg and its orthosis for the mass matrix (module docstring).

    Attributes:
        thigh_kgm2: thigh and orthosis thigh about the hip, ``J_t`` (kg·m²).
        distal_kg: mass below the knee, ``m_d`` (kg).
        thigh_length_m: hip to knee, ``l_t`` (m).
        knee_kgm2: everything below the knee about the knee, ``J_k`` (kg·m²).
        along_shank_kgm: first moment of mass below the knee along the shank, ``S_a`` (kg·m).
        ahead_kgm: first moment of mass below the knee ahead of the shank, ``S_f`` (kg·m).

    >>> leg = LegInertia.from_body(BodyModel.from_height_mass(1.75, 75.0), ExoSegments())
    >>> round(leg.knee_kgm2, 3), round(float(leg.matrix(0.0)[0][0]), 3)
    (0.561, 3.715)
    """

    thigh_kgm2: float
    distal_kg: float
    thigh_length_m: float
    knee_kgm2: float
    along_shank_kgm: float
    ahead_kgm: float

    @classmethod
    def from_body(cls, body: BodyModel, exo: ExoSegments) -> LegInertia:
        """One leg of ``body`` with the orthosis ``exo`` (uniform rods along thigh and shank)."""
        thigh, shank, foot = body.thigh, body.shank, body.foot
        leg = LegSegments.from_body(body, exo)
        knee = (shank.inertia_kgm2[1] + shank.mass_kg * shank.com_from_proximal_m**2
                + exo.shank_kg * shank.length_m**2 / 3.0 + foot.inertia_kgm2[1]
                + foot.mass_kg * (leg.foot_below_knee_m**2 + leg.foot_forward_m**2))
        return cls(
            thigh_kgm2=thigh.inertia_kgm2[1] + thigh.mass_kg * thigh.com_from_proximal_m**2
            + exo.thigh_kg * thigh.length_m**2 / 3.0,
            distal_kg=leg.shank_mass_kg + leg.foot_mass_kg,
            thigh_length_m=thigh.length_m,
            knee_kgm2=knee,
            along_shank_kgm=leg.shank_moment_kgm + leg.foot_mass_kg * leg.foot_below_knee_m,
            ahead_kgm=leg.foot_mass_kg * leg.foot_forward_m,
        )

    def matrix(
        self, knee_rad: float | FloatArray
    ) -> tuple[tuple[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]:
        """``((M_hh, M_hk), (M_kh, M_kk))`` (kg·m²) at knee angle(s) ``knee_rad`` (rad)."""
        knee = np.asarray(knee_rad, dtype=float)
        coupling = self.thigh_length_m * (
            self.along_shank_kgm * np.cos(knee) + self.ahead_kgm * np.sin(knee))
        hip = (self.thigh_kgm2 + self.distal_kg * self.thigh_length_m**2 + self.knee_kgm2
               + 2.0 * coupling)
        cross = -(self.knee_kgm2 + coupling)
        own = np.full_like(knee, self.knee_kgm2)
        return (hip, cross), (cross, own)
