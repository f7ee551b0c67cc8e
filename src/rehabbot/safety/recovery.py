"""Hold-to-run recovery: after a stop, bring limp joints back inside their range so that a reset
can be accepted.

After a category-0 stop the legs are limp; a leg that drifts past its hard limit or the
patient's range of motion keeps its fault's cause present, so every reset is refused and the
only way out was to end the session. Recovery is the documented way back that a therapist does
alone, under the same supervisor:

* it runs only **while a person holds** the recovery input (:meth:`Supervisor.recover
  <rehabbot.safety.supervisor.Supervisor.recover>`; the console's *Hold to recover*, F7): a
  hold not renewed within :attr:`RecoveryLimits.deadman_s` ends it, as a released key does;
* it starts only from a finished stop with the torque off, **never with E-STOP pressed**, and
  only when every cause still present is a joint beyond its range (position limit, range of
  motion, standstill) and no sensor, drive or bus fault is latched (:func:`may_recover`);
* a joint beyond its range (and from then on until the recovery ends) is pulled towards the
  nearest point :attr:`RecoveryLimits.inside_rad` inside its range, along a reference that
  moves at most :attr:`RecoveryLimits.speed_rad_s`, at low stiffness, the torque capped at
  :attr:`RecoveryLimits.torque_max_nm`; the other joints stay limp;
* every monitor keeps running: a new fault ends the recovery at once (torque off).

After an accepted reset the robot does not jump back to the controller's command: for
:attr:`ResumeLimits.duration_s` the supervisor blends (:class:`Resumption`) from a low-stiffness
hold of the legs where they were at the reset (:attr:`ResumeLimits.kp_nm_per_rad`) into the
controller's command, in torque: at weight ``w`` rising smoothly from 0 to 1 the command produces
``(1 - w)`` times the hold's torque plus ``w`` times the controller's (its feed-forward included),
so the guidance comes back in from where the legs are, never as a step toward the reference.

Units are SI (rad, rad/s, N·m, s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.hal.types import BoolArray, FloatArray, JointCommand, JointState
from rehabbot.safety.faults import SENSOR_FAULTS, Fault, FaultKind

#: Conditions whose presence recovery exists to remove: a joint beyond its range.
RANGE_FAULTS = frozenset({FaultKind.POSITION_LIMIT, FaultKind.ROM_EXCEEDED, FaultKind.STANDSTILL})
#: Latched faults that forbid recovery: the feedback or the drives cannot be trusted to move.
#: (A latched E-STOP does not: once released, recovery is how its limp legs come back.)
FORBIDDING = SENSOR_FAULTS | {FaultKind.DRIVE_FAULT, FaultKind.BUS_ERRORS}


@dataclass(frozen=True)
class RecoveryLimits:
    """How gently recovery moves a joint.

    Attributes:
        speed_rad_s: fastest the reference moves (rad/s).
        kp_nm_per_rad: stiffness pulling the joint to the reference (N·m/rad).
        kd_nms_per_rad: damping (N·m·s/rad).
        torque_max_nm: largest torque recovery commands (N·m).
        inside_rad: how far inside its range a joint is brought (rad).
        deadman_s: a hold not renewed within this time ends the recovery (s).

    >>> RecoveryLimits().speed_rad_s < 0.2
    True
    """

    speed_rad_s: float = math.radians(10.0)
    kp_nm_per_rad: float = 60.0
    kd_nms_per_rad: float = 3.0
    torque_max_nm: float = 20.0
    inside_rad: float = math.radians(3.0)
    deadman_s: float = 0.5

    def __post_init__(self) -> None:
        for name in ("speed_rad_s", "kp_nm_per_rad", "torque_max_nm", "inside_rad", "deadman_s"):
            if not 0.0 < getattr(self, name) < math.inf:
                raise ValueError(f"RecoveryLimits.{name} must be a positive number")
        if self.kd_nms_per_rad < 0.0:
            raise ValueError("RecoveryLimits.kd_nms_per_rad must be >= 0")


def may_recover(latched: list[Fault], present: set[FaultKind], estop_pressed: bool) -> str:
    """Why recovery may not start now ("" when it may).

    >>> may_recover([], set(), True)
    'E-STOP is pressed: release it first'
    """
    if estop_pressed:
        return "E-STOP is pressed: release it first"
    forbidding = sorted({f.kind.value for f in latched if f.kind in FORBIDDING})
    if forbidding:
        return f"a sensor, drive or bus fault is latched ({', '.join(forbidding)})"
    other = sorted(k.value for k in present - RANGE_FAULTS)
    if other:
        return f"a cause other than a joint beyond its range is present ({', '.join(other)})"
    return ""


class Recovery:
    """The recovery command of one hold, tick by tick.

    Args:
        low_rad, high_rad: each joint's allowed range (rad): the hard limits narrowed to the
            patient's range of motion where there is one.
        limits: speeds, gains and torque cap.
        period_s: the control period (s).
    """

    def __init__(self, low_rad: FloatArray, high_rad: FloatArray, limits: RecoveryLimits,
                 period_s: float) -> None:
        self.limits = limits
        inside = np.minimum(limits.inside_rad, (high_rad - low_rad) / 2)
        self.low_rad = low_rad + inside
        self.high_rad = high_rad - inside
        self.step_rad = limits.speed_rad_s * period_s
        n = low_rad.size
        self.engaged: BoolArray = np.zeros(n, dtype=bool)
        self.q_ref = np.zeros(n)
        self._pd = np.zeros(n)

    def start(self, q: FloatArray) -> None:
        """A hold begins: the references start where the joints are; none engaged yet."""
        np.copyto(self.q_ref, q)
        self.engaged[:] = False

    def command(self, state: JointState, out: JointCommand) -> None:
        """This tick's command into ``out``: joints beyond their range (or engaged before)
        pulled in gently, the others limp."""
        q = state.q
        self.engaged |= (q < self.low_rad) | (q > self.high_rad)
        target = np.clip(q, self.low_rad, self.high_rad)
        self.q_ref += np.clip(target - self.q_ref, -self.step_rad, self.step_rad)
        np.copyto(self.q_ref, q, where=~self.engaged)
        limits = self.limits
        np.copyto(out.q_ref, self.q_ref)
        out.qd_ref[:] = 0.0
        out.kp[:] = np.where(self.engaged, limits.kp_nm_per_rad, 0.0)
        out.kd[:] = np.where(self.engaged, limits.kd_nms_per_rad, 0.0)
        # the torque the PD part makes at this state, capped: tau_ff makes up the difference
        pd = self._pd
        np.subtract(out.q_ref, q, out=pd)
        pd *= out.kp
        pd -= out.kd * state.qd
        np.clip(pd, -limits.torque_max_nm, limits.torque_max_nm, out=out.tau_ff)
        out.tau_ff -= pd


@dataclass(frozen=True)
class ResumeLimits:
    """How the robot takes the legs back after an accepted reset.

    Attributes:
        duration_s: time over which the controller's command is blended back in (s).
        kp_nm_per_rad: stiffness of the hold the robot starts from (N·m/rad).
        kd_nms_per_rad: damping of that hold (N·m·s/rad).

    >>> ResumeLimits().kp_nm_per_rad < 0.2 * 600.0  # a fifth of a guided knee's stiffness
    True
    """

    duration_s: float = 1.0
    kp_nm_per_rad: float = 100.0
    kd_nms_per_rad: float = 2.0

    def __post_init__(self) -> None:
        for name in ("duration_s", "kp_nm_per_rad"):
            if not 0.0 < getattr(self, name) < math.inf:
                raise ValueError(f"ResumeLimits.{name} must be a positive number")
        if not 0.0 <= self.kd_nms_per_rad < math.inf:
            raise ValueError("ResumeLimits.kd_nms_per_rad must be >= 0")


class Resumption:
    """A torque blend between a hold and the controller's command, either way: after a reset from
    a low-stiffness hold where the legs are into the controller's command (:meth:`start`), and at
    the end of a walk from the controller's command into a hold at a standing posture while the
    belt stops (:meth:`settle`; the hold then stays until the stop that follows).

    Args:
        n_joints: number of joints.
        limits: the resume's hold gains and duration.
        period_s: the control period (s).

    Attributes:
        active: a blend is in progress (or a settled hold holds).

    >>> import numpy as np
    >>> from rehabbot.hal.types import JointCommand
    >>> resume = Resumption(1, ResumeLimits(duration_s=0.002), 0.001)
    >>> resume.start(np.array([0.1]))
    >>> out = JointCommand(np.array([0.5]), np.zeros(1), np.array([300.0]), np.ones(1))
    >>> resume.shape(out)  # the first tick: the hold alone
    >>> float(out.kp[0]), float(out.q_ref[0])
    (100.0, 0.1)
    """

    def __init__(self, n_joints: int, limits: ResumeLimits, period_s: float) -> None:
        self.limits = limits
        self.period_s = period_s
        self.ticks = max(1, round(limits.duration_s / period_s))
        self.active = False
        self._into_hold = False
        self._hold_kp = limits.kp_nm_per_rad
        self._hold_kd = limits.kd_nms_per_rad
        self._tick = 0
        self._q0 = np.zeros(n_joints)
        self._kp = np.zeros(n_joints)
        self._kd = np.zeros(n_joints)

    def start(self, q: FloatArray) -> None:
        """A reset was accepted with the joints at ``q`` (rad): the blend starts from a hold
        there."""
        self._begin(q, self.limits.kp_nm_per_rad, self.limits.kd_nms_per_rad,
                    self.limits.duration_s, into_hold=False)

    def settle(self, q: FloatArray, kp_nm_per_rad: float, kd_nms_per_rad: float,
               duration_s: float) -> None:
        """Blend from the controller's command into a hold at ``q`` (rad) with these gains over
        ``duration_s`` (s), then hold there."""
        self._begin(q, kp_nm_per_rad, kd_nms_per_rad, duration_s, into_hold=True)

    def _begin(self, q: FloatArray, kp: float, kd: float, duration_s: float, *,
               into_hold: bool) -> None:
        np.copyto(self._q0, q)
        self._hold_kp, self._hold_kd = kp, kd
        self.ticks = max(1, round(duration_s / self.period_s))
        self._into_hold = into_hold
        self._tick = 0
        self.active = True

    def weight(self) -> float:
        """The controller's share of the command at this tick (0..1, smooth in time)."""
        rising = 0.5 - 0.5 * math.cos(math.pi * min(self._tick / self.ticks, 1.0))
        return 1.0 - rising if self._into_hold else rising

    def shape(self, out: JointCommand) -> None:
        """Blend the controller's (already limited) command ``out`` with the hold, in place;
        one tick of the blend (after a resume, the controller's own command once it is over)."""
        if self._tick >= self.ticks and not self._into_hold:
            self.active = False
            return
        w = self.weight()
        keep = 1.0 - w
        hold_kp, hold_kd = self._hold_kp, self._hold_kd
        kp, kd = self._kp, self._kd
        # references weighted by their stiffness (damping), so that the torque is the blend's
        np.multiply(out.kp, w, out=kp)
        np.multiply(out.q_ref, kp, out=out.q_ref)
        out.q_ref += (keep * hold_kp) * self._q0
        kp += keep * hold_kp
        np.divide(out.q_ref, kp, out=out.q_ref, where=kp > 0.0)
        np.copyto(out.kp, kp)
        np.multiply(out.kd, w, out=kd)
        np.multiply(out.qd_ref, kd, out=out.qd_ref)
        kd += keep * hold_kd
        np.divide(out.qd_ref, kd, out=out.qd_ref, where=kd > 0.0)
        np.copyto(out.kd, kd)
        out.tau_ff *= w
        self._tick = min(self._tick + 1, self.ticks)
