"""The state and command types every drive and controller share (DESIGN.md, "Core types").

Both are struct-of-arrays over joints, in the joint order of the robot configuration, in SI units.
One command type serves every drive: per joint the drive (or the host, for a torque-mode drive)
applies ``tau = kp * (q_ref - q) + kd * (qd_ref - qd) + tau_ff``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rehabbot.body.arrays import BoolArray as BoolArray
from rehabbot.body.arrays import FloatArray as FloatArray
from rehabbot.body.arrays import IntArray as IntArray


@dataclass(slots=True)
class JointState:
    """Feedback of every joint at one tick (joint side of the transmission).

    Attributes:
        t_s: time of the tick (s) on the loop's clock.
        q: joint angles (rad).
        qd: joint velocities (rad/s).
        tau: measured joint torques (N·m).
        temperature_c: drive temperatures (°C).
        fault_code: drive fault codes, 0 = no fault (protocol specific otherwise).
        age_ticks: ticks since each joint's last reply; 0 = fresh this tick.
        surplus_replies: replies of each joint this tick beyond what its drive was asked for
            and not a repeat of one of its recent frames (a second device answering on the
            joint's node id); 0 normally. Zeros when not given.

    >>> s = JointState.zeros(2)
    >>> s.q.shape, int(s.age_ticks[0])
    ((2,), 0)
    """

    t_s: float
    q: FloatArray
    qd: FloatArray
    tau: FloatArray
    temperature_c: FloatArray
    fault_code: IntArray
    age_ticks: IntArray
    surplus_replies: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n = self.q.shape[0]
        if self.surplus_replies.shape[0] == 0 and n:
            self.surplus_replies = np.zeros(n, dtype=np.int64)

    @classmethod
    def zeros(cls, n_joints: int, t_s: float = 0.0) -> JointState:
        """A state of ``n_joints`` joints at rest, all fields zero."""
        return cls(
            t_s=t_s,
            q=np.zeros(n_joints),
            qd=np.zeros(n_joints),
            tau=np.zeros(n_joints),
            temperature_c=np.zeros(n_joints),
            fault_code=np.zeros(n_joints, dtype=np.int64),
            age_ticks=np.zeros(n_joints, dtype=np.int64),
            surplus_replies=np.zeros(n_joints, dtype=np.int64),
        )


@dataclass(slots=True)
class JointCommand:
    """The impedance command of every joint: ``tau = kp*(q_ref - q) + kd*(qd_ref - qd) + tau_ff``.

    Attributes:
        q_ref: reference angles (rad).
        qd_ref: reference velocities (rad/s).
        kp: stiffness (N·m/rad), >= 0.
        kd: damping (N·m·s/rad), >= 0.
        tau_ff: feed-forward torque (N·m).

    Pure torque control is ``kp = kd = 0``; a position hold is ``tau_ff = 0``.

    >>> c = JointCommand.torque_off(3)
    >>> float(c.kp.sum() + c.kd.sum() + abs(c.tau_ff).sum())
    0.0
    """

    q_ref: FloatArray
    qd_ref: FloatArray
    kp: FloatArray
    kd: FloatArray
    tau_ff: FloatArray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        n = self.q_ref.shape[0]
        if self.tau_ff.shape[0] == 0 and n:
            self.tau_ff = np.zeros(n)
        for name in ("qd_ref", "kp", "kd", "tau_ff"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"JointCommand.{name} must have shape ({n},)")

    @classmethod
    def torque_off(cls, n_joints: int) -> JointCommand:
        """A command that makes every drive produce zero torque."""
        zeros = np.zeros(n_joints)
        return cls(zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy())

    def copy(self) -> JointCommand:
        """An independent copy (arrays copied)."""
        return JointCommand(
            self.q_ref.copy(), self.qd_ref.copy(), self.kp.copy(), self.kd.copy(),
            self.tau_ff.copy(),
        )

    def expected_torque(self, q: FloatArray, qd: FloatArray) -> FloatArray:
        """The torque (N·m) this command produces at angles ``q`` and velocities ``qd``."""
        result: FloatArray = (
            self.kp * (self.q_ref - q) + self.kd * (self.qd_ref - qd) + self.tau_ff
        )
        return result
