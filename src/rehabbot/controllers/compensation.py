"""Model-based compensation: the legs' weight and the joints' friction, as feed-forward torque.

**Gravity**: the legs' weight, :class:`~rehabbot.body.leg_mechanics.LegGravity` (the leg's
mechanics live in the body layer: the assessments and the simulator's analyses use them too).

**Friction.** Per joint ``τ = F_c s(q̇) + b q̇`` where ``s`` is 0 inside a velocity deadband
``|q̇| <= w`` (so a joint at rest is not dithered by sensor noise), rises linearly to ±1 at
``|q̇| = 2w`` and stays there: no torque step anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rehabbot.body.leg_mechanics import LegGravity
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray


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
