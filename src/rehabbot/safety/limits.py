"""Joint limits: hard limits from the robot configuration, soft limits from the therapy protocol.

* :class:`JointLimits` are the robot's hard limits (position, velocity, torque). A joint beyond
  them is a fault; a command is always clamped into them.
* :class:`SoftLimits` are the patient's allowed range of motion (ROM). Inside the ROM, a soft zone
  of width ``zone_rad`` at each end shapes the command without cutting it: the position reference
  is bent smoothly towards the ROM limit, never beyond it (``q_ref' = e + w·tanh((q_ref - e)/w)``
  past the zone's entry ``e``, so slope 1 at the entry and no kink), the velocity reference is
  scaled by the same slope, and a spring of stiffness ``stiffness_nm_per_rad`` pushes the joint
  back in proportion to how deep it is in the zone (zero at the entry, so the torque has no step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray

if TYPE_CHECKING:
    from rehabbot.hal.config import RobotConfig


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


@dataclass(frozen=True)
class SoftLimits:
    """The patient's range of motion per joint and its soft zones (arrays over joints).

    Attributes:
        rom_min_rad: lowest allowed angle (rad).
        rom_max_rad: highest allowed angle (rad).
        zone_rad: width of the soft zone inside each end of the range (rad), > 0.
        stiffness_nm_per_rad: stiffness of the spring that pushes a joint out of a zone
            (N·m/rad), >= 0.
        upper_entry_rad: where the upper zone begins, ``rom_max_rad - zone_rad`` (derived).
        mirrored_lower_entry_rad: where the lower zone begins, negated (derived).

    >>> hard = JointLimits(np.array([-0.5]), np.array([1.0]), np.array([5.0]), np.array([50.0]))
    >>> soft = SoftLimits.from_rom(("knee_angle_r",), {"knee_angle_r": (0.0, 0.8)}, hard)
    >>> float(soft.rom_max_rad[0]), float(soft.zone_rad[0])
    (0.8, 0.1)
    """

    rom_min_rad: FloatArray
    rom_max_rad: FloatArray
    zone_rad: FloatArray
    stiffness_nm_per_rad: FloatArray
    upper_entry_rad: FloatArray = field(init=False, repr=False)
    mirrored_lower_entry_rad: FloatArray = field(init=False, repr=False)
    _entries: tuple[tuple[float, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.rom_min_rad.shape
        for name in ("rom_max_rad", "zone_rad", "stiffness_nm_per_rad"):
            if getattr(self, name).shape != n:
                raise ValueError(f"SoftLimits.{name} must have shape {n}")
        if not np.all(self.zone_rad > 0) or not np.all(self.stiffness_nm_per_rad >= 0):
            raise ValueError("SoftLimits: zones must be wider than 0, stiffnesses not negative")
        if not np.all(2 * self.zone_rad <= self.rom_max_rad - self.rom_min_rad):
            raise ValueError("SoftLimits: each range of motion must hold both of its soft zones")
        # where the zones begin (the lower one negated, see shape_reference)
        object.__setattr__(self, "upper_entry_rad", self.rom_max_rad - self.zone_rad)
        object.__setattr__(self, "mirrored_lower_entry_rad", -(self.rom_min_rad + self.zone_rad))
        # for the test whether any angle lies in a zone, per joint: (upper, mirrored lower)
        entries = tuple(zip(self.upper_entry_rad.tolist(),
                            self.mirrored_lower_entry_rad.tolist(), strict=True))
        object.__setattr__(self, "_entries", entries)

    def _in_a_zone(self, q: FloatArray) -> bool:
        """Whether any angle of ``q`` (rad) is at or past a zone's entry (depth >= 0 as the
        bend and the spring compute it); when none is, both are exactly the identity. In Python
        floats: on a few joints cheaper than numpy calls."""
        for angle, (upper, mirrored_lower) in zip(q.tolist(), self._entries, strict=True):
            if angle - upper >= 0.0 or -angle - mirrored_lower >= 0.0:
                return True
        return False

    @classmethod
    def from_rom(
        cls,
        joint_names: tuple[str, ...],
        rom_rad: Mapping[str, tuple[float, float]],
        hard: JointLimits,
        *,
        zone_rad: float = 0.1,
        stiffness_nm_per_rad: float = 200.0,
    ) -> SoftLimits:
        """Soft limits from a protocol's range of motion per joint name (rad).

        Joints ``rom_rad`` does not name get their hard limits as range of motion.

        Args:
            joint_names: joints in array order.
            rom_rad: ``{joint name: (lowest, highest)}`` allowed angle (rad).
            hard: the robot's hard limits, which every range must lie within.
            zone_rad: width of each soft zone (rad).
            stiffness_nm_per_rad: spring stiffness in the zones (N·m/rad).

        Raises:
            ConfigurationError: an unknown joint, a range outside the hard limits, or one too
                narrow for its two soft zones; the message names the joint.
        """
        unknown = sorted(set(rom_rad) - set(joint_names))
        if unknown:
            raise ConfigurationError(
                f"range of motion given for unknown joint(s) {', '.join(unknown)}; "
                f"the robot's joints are {', '.join(joint_names)}"
            )
        low, high = hard.position_min_rad.copy(), hard.position_max_rad.copy()
        for i, name in enumerate(joint_names):
            if name not in rom_rad:
                continue
            lo, hi = rom_rad[name]
            if not hard.position_min_rad[i] <= lo < hi <= hard.position_max_rad[i]:
                raise ConfigurationError(
                    f"range of motion of {name} [{lo:g}, {hi:g}] rad must be an interval within "
                    f"its hard limits [{hard.position_min_rad[i]:g}, "
                    f"{hard.position_max_rad[i]:g}] rad"
                )
            if hi - lo < 2 * zone_rad:
                raise ConfigurationError(
                    f"range of motion of {name} [{lo:g}, {hi:g}] rad is narrower than its two "
                    f"soft zones of {zone_rad:g} rad"
                )
            low[i], high[i] = lo, hi
        n = len(joint_names)
        return cls(low, high, np.full(n, zone_rad), np.full(n, stiffness_nm_per_rad))

    def shape_reference(
        self, q_ref: FloatArray, qd_ref: FloatArray, work: tuple[FloatArray, FloatArray]
    ) -> None:
        """Bend ``q_ref`` smoothly into the range and scale ``qd_ref`` by the bend's slope.

        In place. Identity outside the soft zones; within a zone ``q_ref`` approaches the ROM
        limit asymptotically and never reaches it. ``work`` holds two scratch arrays of the
        joints' shape.
        """
        if not self._in_a_zone(q_ref):  # the common case: the bend is the identity
            return
        _bend_towards_limit(q_ref, qd_ref, self.upper_entry_rad, self.zone_rad, work)
        # the lower end is the upper end of the mirrored range
        np.negative(q_ref, out=q_ref)
        _bend_towards_limit(q_ref, qd_ref, self.mirrored_lower_entry_rad, self.zone_rad, work)
        np.negative(q_ref, out=q_ref)

    def add_spring(self, q: FloatArray, tau: FloatArray, scratch: FloatArray) -> None:
        """Add the zones' restoring torque at angles ``q`` to ``tau`` (N·m, in place).

        ``-k·(q - upper entry)`` past the upper entry, ``+k·(lower entry - q)`` past the lower.
        """
        if not self._in_a_zone(q):  # no spring acts: ``tau`` stays as it is, bit for bit
            return
        np.subtract(q, self.upper_entry_rad, out=scratch)
        np.maximum(scratch, 0.0, out=scratch)
        scratch *= self.stiffness_nm_per_rad
        tau -= scratch
        np.add(q, self.mirrored_lower_entry_rad, out=scratch)
        np.minimum(scratch, 0.0, out=scratch)
        scratch *= self.stiffness_nm_per_rad
        tau -= scratch


def _bend_towards_limit(
    q_ref: FloatArray,
    qd_ref: FloatArray,
    entry: FloatArray,
    zone: FloatArray,
    work: tuple[FloatArray, FloatArray],
) -> None:
    """Past ``entry``: ``q_ref = entry + zone·tanh((q_ref - entry)/zone)``, ``qd_ref *=`` slope."""
    depth, bound = work
    np.subtract(q_ref, entry, out=depth)
    np.maximum(depth, 0.0, out=depth)
    depth /= zone
    np.tanh(depth, out=depth)
    np.multiply(depth, zone, out=bound)
    bound += entry
    np.minimum(q_ref, bound, out=q_ref)  # the bend lies below the identity
    np.multiply(depth, depth, out=depth)
    np.subtract(1.0, depth, out=depth)  # slope of the bend: 1 - tanh²
    qd_ref *= depth
