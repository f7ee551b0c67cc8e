"""Hard joint limits: position, velocity and torque, from the robot configuration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rehabbot.hal.config import RobotConfig
from rehabbot.hal.types import FloatArray


@dataclass(frozen=True)
class JointLimits:
    """Per-joint hard limits, arrays over joints (rad, rad/s, N·m).

    >>> lim = JointLimits(np.array([-1.0]), np.array([1.0]), np.array([2.0]), np.array([10.0]))
    >>> lim.n_joints
    1
    """

    position_min_rad: FloatArray
    position_max_rad: FloatArray
    velocity_max_rad_s: FloatArray
    torque_max_nm: FloatArray

    def __post_init__(self) -> None:
        n = self.position_min_rad.shape
        for name in ("position_max_rad", "velocity_max_rad_s", "torque_max_nm"):
            if getattr(self, name).shape != n:
                raise ValueError(f"JointLimits.{name} must have shape {n}")
        if np.any(self.position_min_rad >= self.position_max_rad):
            raise ValueError("JointLimits: every position_min_rad must be below position_max_rad")
        if np.any(self.velocity_max_rad_s <= 0) or np.any(self.torque_max_nm <= 0):
            raise ValueError("JointLimits: velocity and torque limits must be positive")

    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return int(self.position_min_rad.shape[0])

    @classmethod
    def from_config(cls, config: RobotConfig) -> JointLimits:
        """The hard limits of every joint of ``config``."""
        return cls(
            np.array([j.position_min_rad for j in config.joints]),
            np.array([j.position_max_rad for j in config.joints]),
            np.array([j.velocity_max_rad_s for j in config.joints]),
            np.array([j.torque_max_nm for j in config.joints]),
        )
