"""The safety supervisor: every state is checked and every command limited before it is written.

One tick of the loop calls ``check(state)`` then, after the controller, ``limit(command, state)``.

* ``check`` watches hard position and velocity limits, drive fault codes and stale feedback (a joint
  that has not replied for ``stale_after_ticks`` ticks). A violation latches a :class:`Fault`.
* ``limit`` returns the command to write. While a fault is latched that is torque off for every
  joint (stop category 0). Otherwise the references are clamped into the position and velocity
  limits, and the feed-forward torque is adjusted so that the torque the command produces at the
  present state stays within the torque limit.

Faults latch until :meth:`Supervisor.reset` is called by a person (never by the loop itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from rehabbot.hal.types import JointCommand, JointState
from rehabbot.safety.limits import JointLimits


class FaultKind(Enum):
    """What a fault is about."""

    POSITION_LIMIT = "position_limit"
    VELOCITY_LIMIT = "velocity_limit"
    STALE_FEEDBACK = "stale_feedback"
    DRIVE_FAULT = "drive_fault"


@dataclass(frozen=True, slots=True)
class Fault:
    """One latched fault.

    Attributes:
        kind: what tripped.
        joint: the joint's name.
        t_s: loop time of detection (s).
        value: the offending value (rad, rad/s, ticks or fault code, by kind).
        limit: the limit it crossed, same unit.
        category: stop category applied (0 = torque off at once).
    """

    kind: FaultKind
    joint: str
    t_s: float
    value: float
    limit: float
    category: int = 0

    def describe(self) -> str:
        """One line for people, e.g. ``stale_feedback on knee_angle_r at 1.234 s (4 > 3)``."""
        return (
            f"{self.kind.value} on {self.joint} at {self.t_s:.3f} s "
            f"({self.value:g} beyond {self.limit:g})"
        )


class Supervisor:
    """Checks states, limits commands, latches faults.

    Args:
        joint_names: joints in array order.
        limits: hard limits.
        stale_after_ticks: a joint whose last reply is older than this many ticks is stale.
    """

    def __init__(
        self, joint_names: tuple[str, ...], limits: JointLimits, stale_after_ticks: int
    ) -> None:
        if limits.n_joints != len(joint_names):
            raise ValueError("Supervisor: limits and joint names differ in length")
        if stale_after_ticks < 1:
            raise ValueError("Supervisor: stale_after_ticks must be >= 1")
        self.joint_names = joint_names
        self.limits = limits
        self.stale_after_ticks = stale_after_ticks
        self.faults_: list[Fault] = []
        self._torque_off = JointCommand.torque_off(len(joint_names))

    @property
    def tripped(self) -> bool:
        """True while any fault is latched."""
        return bool(self.faults_)

    def check(self, state: JointState) -> list[Fault]:
        """Check one state; return the faults newly latched by it (usually none)."""
        lim = self.limits
        new: list[Fault] = []
        stale = state.age_ticks > self.stale_after_ticks
        if stale.any():
            new += self._faults(FaultKind.STALE_FEEDBACK, stale, state, state.age_ticks,
                                np.full(stale.shape, float(self.stale_after_ticks)))
        fresh = ~stale
        low = fresh & (state.q < lim.position_min_rad)
        high = fresh & (state.q > lim.position_max_rad)
        if low.any():
            new += self._faults(FaultKind.POSITION_LIMIT, low, state, state.q, lim.position_min_rad)
        if high.any():
            new += self._faults(
                FaultKind.POSITION_LIMIT, high, state, state.q, lim.position_max_rad
            )
        fast = fresh & (np.abs(state.qd) > lim.velocity_max_rad_s)
        if fast.any():
            new += self._faults(FaultKind.VELOCITY_LIMIT, fast, state, state.qd,
                                lim.velocity_max_rad_s)
        drive = fresh & (state.fault_code != 0)
        if drive.any():
            new += self._faults(FaultKind.DRIVE_FAULT, drive, state, state.fault_code,
                                np.zeros(drive.shape))
        self.faults_ += new
        return new

    def _faults(
        self,
        kind: FaultKind,
        mask: np.ndarray,
        state: JointState,
        values: np.ndarray,
        limits: np.ndarray,
    ) -> list[Fault]:
        latched = {(f.kind, f.joint) for f in self.faults_}
        return [
            Fault(kind, self.joint_names[i], state.t_s, float(values[i]), float(limits[i]))
            for i in np.flatnonzero(mask)
            if (kind, self.joint_names[i]) not in latched
        ]

    def limit(self, command: JointCommand, state: JointState) -> JointCommand:
        """The command to write: torque off while tripped, else ``command`` within the limits."""
        if self.faults_:
            return self._torque_off
        lim = self.limits
        limited = command.copy()
        np.clip(limited.q_ref, lim.position_min_rad, lim.position_max_rad, out=limited.q_ref)
        np.clip(limited.qd_ref, -lim.velocity_max_rad_s, lim.velocity_max_rad_s,
                out=limited.qd_ref)
        np.maximum(limited.kp, 0.0, out=limited.kp)
        np.maximum(limited.kd, 0.0, out=limited.kd)
        expected = limited.expected_torque(state.q, state.qd)
        allowed = np.clip(expected, -lim.torque_max_nm, lim.torque_max_nm)
        limited.tau_ff += allowed - expected
        return limited

    def reset(self) -> list[Fault]:
        """Clear every latched fault (a person's decision); return what was cleared."""
        cleared, self.faults_ = self.faults_, []
        return cleared
