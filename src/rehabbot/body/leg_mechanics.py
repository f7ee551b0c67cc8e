"""The mass matrix of one leg (hip and knee) in the sagittal plane, from the body model.

The leg hangs from a hip held upright (as :class:`~rehabbot.controllers.compensation.LegGravity`
takes it): the thigh at ``θ_t = q_hip`` from the vertical, the shank and the foot (rigid, at a
neutral ankle) at ``θ_s = q_hip - q_knee``. A point ``a`` down the shank and ``f`` ahead of it
moves with the thigh's rotation about the hip and the shank's about the knee; summing the kinetic
energy over thigh, shank, foot and orthosis gives

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

from rehabbot.controllers.compensation import LegSegments
from rehabbot.hal.types import FloatArray
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments


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
