"""The safety supervisor: every state is checked and every command limited before it is written.

One tick of the loop calls :meth:`Supervisor.check` with the state just read (and the age of
the command the drives execute, in their own time, and the bus's error counters), then, after
the controller, :meth:`Supervisor.limit` with the controller's command; what ``limit`` returns
is what the loop writes.

``check`` runs the monitors (E-STOP, hard limits, range of motion, stale or non-finite feedback,
frozen sensor, position jump, drive fault codes, winding temperature, RMS torque, bus errors, the
command deadline, a failed recording, and the standstill monitor of a category-2 hold). A monitor
whose condition holds latches a :class:`~rehabbot.safety.faults.Fault` and starts the stop its
kind is configured for, on that very tick; a more severe stop replaces a milder one, never the other
way round:

* category 0: ``limit`` returns torque off from this tick on;
* category 1: the torque the robot was commanding fades linearly to zero over ``fade_s`` (pure
  feed-forward, which needs no feedback), then torque off;
* category 2: the joints are held where they are (``tau_ff = 0``, hold stiffness and damping);
  a held joint that moves more than ``standstill_tolerance_rad`` escalates to category 0.

While no stop is in progress, ``limit`` shapes the command: gains within their bounds, the
reference bent into the patient's range of motion (soft limits) with a spring in its soft zones,
references within the hard limits, and the torque the command produces at the present state
within the torque limit. A command with a non-finite field or a negative gain is an
``invalid_value`` fault (never silently clamped to zero torque). Every fault latched, by ``check``
or ``limit``, waits in :meth:`Supervisor.take_faults` for the loop's report.

After a stop, a person may hold :meth:`Supervisor.recover` to bring limp joints that drifted
beyond their range back inside it, gently, so that a reset can be accepted
(:mod:`rehabbot.safety.recovery`: only while held, never with E-STOP pressed or a sensor fault
latched, and any new fault ends it).

Faults latch until a person calls :meth:`Supervisor.reset`; the loop never does. A reset is refused
while the cause of a latched fault is still present (E-STOP still pressed, a joint still beyond
its limit, a temperature still above its warning level, ...). Every fault, stop, reset and
E-STOP change is queued as a :class:`~rehabbot.safety.faults.SafetyEvent`; the loop collects them
with :meth:`Supervisor.take_events`.

The per-tick work is done in Python floats over the joints (a numpy call costs more than the
comparisons it would run on four joints): one pass over the joints evaluates every per-joint
monitor against bounds precomputed as lists, each kind of fault's condition is an ``int`` with a
bit per joint (and one for the whole robot), and the numpy matrices of conditions are rewritten
only when a condition changes. Nothing on the normal path keeps anything it allocates:
:meth:`Supervisor.limit` returns a command owned by the supervisor (overwritten at the next call),
and what a tick creates (Python floats, a few short lists) is freed within the tick
(``benchmarks/tick_allocations.py`` counts it).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rehabbot.hal.types import BoolArray, JointCommand, JointState
from rehabbot.safety.faults import (
    SYSTEM_FAULTS,
    Fault,
    FaultKind,
    Priority,
    SafetyEvent,
    StopCategory,
)
from rehabbot.safety.limits import JointLimits, SoftLimits
from rehabbot.safety.monitors import (
    FrozenSensorMonitor,
    PositionJumpMonitor,
    RmsWindow,
    WindowCount,
)
from rehabbot.safety.range_margin import RangeMargin
from rehabbot.safety.recovery import Recovery, RecoveryLimits, may_recover
from rehabbot.safety.settings import SafetySettings, periods
from rehabbot.safety.thermal import Actuator, ThermalModel

if TYPE_CHECKING:
    from rehabbot.hal.config import RobotConfig

#: The control period assumed when none is given (s): the default 1 kHz loop.
DEFAULT_PERIOD_S = 0.001
#: The command deadline assumed when none is given (s): the robot configuration's default.
DEFAULT_COMMAND_DEADLINE_S = 0.02

_KINDS = tuple(FaultKind)
_ROW = {kind: row for row, kind in enumerate(_KINDS)}
(ESTOP, POSITION, VELOCITY, ROM, STALE, FROZEN, JUMP, INVALID, DRIVE, HEAT, RMS, BUS, DEADLINE,
 STANDSTILL, STORAGE, TIME, CONFLICT) = (_ROW[k] for k in (
    FaultKind.ESTOP, FaultKind.POSITION_LIMIT, FaultKind.VELOCITY_LIMIT, FaultKind.ROM_EXCEEDED,
    FaultKind.STALE_FEEDBACK, FaultKind.FROZEN_SENSOR, FaultKind.POSITION_JUMP,
    FaultKind.INVALID_VALUE, FaultKind.DRIVE_FAULT, FaultKind.OVER_TEMPERATURE,
    FaultKind.RMS_TORQUE, FaultKind.BUS_ERRORS, FaultKind.COMMAND_DEADLINE, FaultKind.STANDSTILL,
    FaultKind.STORAGE, FaultKind.TIME_REVERSED, FaultKind.NODE_ID_CONFLICT))
#: The rows of the faults of the bounds check (position, velocity, range of motion), adjacent.
_LIMIT_ROWS = slice(min(POSITION, VELOCITY, ROM), max(POSITION, VELOCITY, ROM) + 1)
if _LIMIT_ROWS.stop - _LIMIT_ROWS.start != 3:
    raise ImportError("FaultKind must list position_limit, velocity_limit and rom_exceeded "
                      "next to each other (the supervisor checks them as one block of rows)")


@runtime_checkable
class BusErrorCounters(Protocol):
    """Cumulative error counters of a bus (``CanRobot`` has them); read once per tick."""

    error_frames: int
    send_failures: int
    malformed_frames: int
    unexpected_frames: int


@dataclass(frozen=True)
class ResetResult:
    """What a reset did.

    Attributes:
        accepted: the faults were cleared and the stop ended.
        cleared: the faults cleared (empty when refused).
        blocking: the latched faults whose cause is still present (empty when accepted).
    """

    accepted: bool
    cleared: tuple[Fault, ...] = ()
    blocking: tuple[Fault, ...] = ()


class _Mode(Enum):
    RUNNING = "running"
    HOLDING = "holding"
    FADING = "fading"
    OFF = "off"
    RECOVERING = "recovering"


class Supervisor:
    """Checks states, limits commands, latches faults and runs the stops.

    Args:
        joint_names: joints in array order.
        limits: hard limits.
        stale_after_ticks: a joint whose last reply is older than this many ticks is stale.
        period_s: the control period (s); the loop refuses a supervisor whose period differs
            from its clock's.
        settings: reactions and thresholds (default: :class:`SafetySettings` defaults).
        soft_limits: the patient's range of motion (default: none, only the hard limits).
        actuators: each joint's motor and transmission, for the thermal and RMS-torque monitors
            (default: none, and those two monitors are off; :meth:`from_config` gives them).
        command_deadline_s: a command the drives execute for longer than this (s, in the
            drives' own time) is a ``command_deadline`` fault; longer than a period.

    Attributes:
        faults_: the latched faults, in order.
        reaction_: the stop in progress or done (None while running normally).
    """

    def __init__(
        self,
        joint_names: tuple[str, ...],
        limits: JointLimits,
        stale_after_ticks: int,
        *,
        period_s: float = DEFAULT_PERIOD_S,
        settings: SafetySettings | None = None,
        soft_limits: SoftLimits | None = None,
        actuators: tuple[Actuator, ...] | None = None,
        command_deadline_s: float = DEFAULT_COMMAND_DEADLINE_S,
    ) -> None:
        n = len(joint_names)
        if limits.n_joints != n:
            raise ValueError("Supervisor: limits and joint names differ in length")
        if soft_limits is not None and soft_limits.rom_min_rad.shape != (n,):
            raise ValueError("Supervisor: soft limits and joint names differ in length")
        if actuators is not None and len(actuators) != n:
            raise ValueError("Supervisor: actuators and joint names differ in length")
        if stale_after_ticks < 1:
            raise ValueError("Supervisor: stale_after_ticks must be >= 1")
        if not 0.0 < period_s <= 1.0:
            raise ValueError(f"Supervisor: period_s must be in (0, 1] s, got {period_s}")
        if not period_s < command_deadline_s <= 1.0:
            raise ValueError(
                f"Supervisor: command_deadline_s must be in ({period_s:g}, 1] s, got "
                f"{command_deadline_s}")
        self.joint_names = joint_names
        self.limits = limits
        self.stale_after_ticks = stale_after_ticks
        self.period_s = period_s
        self.command_deadline_s = command_deadline_s
        self.settings = s = settings if settings is not None else SafetySettings()
        self.soft_limits = soft_limits
        self.actuators = actuators
        self.faults_: list[Fault] = []
        self.reaction_: StopCategory | None = None
        self._n = n
        self._column = {name: i for i, name in enumerate(joint_names)}
        self._mode = _Mode.RUNNING
        self._tick = 0
        self._t_s = 0.0
        self._previous_t_s = -math.inf
        self._time_step_s = 0.0
        self._events: list[SafetyEvent] = []
        self._latched_log: list[Fault] = []
        self._estop_pressed = False
        self._estop_hit = False
        self._estop_down = False
        self._stop_request: StopCategory | None = None
        # conditions: one row per fault kind, one column per joint plus one for the whole robot
        shape = (len(_KINDS), n + 1)
        self._active = np.zeros(shape, dtype=bool)
        self._warning = np.zeros(shape, dtype=bool)
        self._latched = np.zeros(shape, dtype=bool)
        self._warned = np.zeros(shape, dtype=bool)
        self._new = np.zeros(shape, dtype=bool)
        # the same conditions as this tick computes them, one int per kind (bit i: joint i, bit
        # n: the robot), and what the matrices above hold (-1: rewrite that row)
        self._rows = [0] * len(_KINDS)
        self._rows_written = [0] * len(_KINDS)
        self._warn_rows = [0] * len(_KINDS)
        self._warn_written = [0] * len(_KINDS)
        # monitors
        self._jump = PositionJumpMonitor(
            limits.velocity_max_rad_s.tolist(), period_s, s.jump_margin)
        self._frozen = FrozenSensorMonitor(
            n, periods(s.frozen_after_s, period_s), s.frozen_min_torque_nm)
        self._bus_window = WindowCount(periods(s.bus_error_window_s, period_s))
        self._bus_total: int | None = None
        self._bus_count = 0
        self._late_window = WindowCount(periods(s.late_window_s, period_s))
        self._old_window = WindowCount(periods(s.late_window_s, period_s))
        self._late_ticks = 0
        self._late_after_s = (1.0 + s.late_fraction) * period_s
        self._warn_age_s = s.deadline_warn_fraction * command_deadline_s
        self._command_age_s = 0.0
        self.fade_ticks = periods(s.fade_s, period_s)
        self._fade_start = 0
        if actuators is None:
            self._thermal: ThermalModel | None = None
            self._rms: RmsWindow | None = None
        else:
            self._thermal = ThermalModel(actuators, period_s, s.ambient_c)
            self._rms = RmsWindow(n, periods(s.rms_window_s, period_s))
        self._rms_limit_nm = np.array(
            [math.inf] * n if actuators is None else [a.continuous_torque_nm for a in actuators])
        self._rms_warn_nm = self._rms_limit_nm * s.rms_warn_fraction
        self._range_margin: RangeMargin | None = None  # the low-priority warning before the ROM
        self._margin_warned = False  # a warning of the range margin is on
        rom_low, rom_high = np.full(n, -math.inf), np.full(n, math.inf)  # no range of motion
        if soft_limits is not None:
            self._range_margin = RangeMargin(joint_names, soft_limits.rom_min_rad,
                                             soft_limits.rom_max_rad)
            self._rom_low_rad = rom_low = soft_limits.rom_min_rad - s.rom_margin_rad
            self._rom_high_rad = rom_high = soft_limits.rom_max_rad + s.rom_margin_rad
        # the per-joint bounds of a tick's pass, as Python floats
        self._bounds = tuple(zip(
            limits.position_min_rad.tolist(), limits.position_max_rad.tolist(),
            rom_low.tolist(), rom_high.tolist(), limits.velocity_max_rad_s.tolist(),
            strict=True))
        margin_low = np.full(n, -math.inf) if soft_limits is None else soft_limits.rom_min_rad
        margin_high = np.full(n, math.inf) if soft_limits is None else soft_limits.rom_max_rad
        self._margin_bounds = tuple(zip(margin_low.tolist(), margin_high.tolist(), strict=True))
        self._heat_bounds = tuple(zip(
            [math.inf] * n if self._thermal is None else self._thermal.fault_c,
            [math.inf] * n if self._thermal is None else self._thermal.warn_c,
            self._rms_limit_nm.tolist(), self._rms_warn_nm.tolist(), strict=True))
        self._torque_max = limits.torque_max_nm.tolist()
        self._gain_max = (s.max_kp_nm_per_rad, s.max_kd_nms_per_rad)
        # preallocated buffers
        self._fresh_now = [False] * n  # fresh finite readings this tick
        self._arrived = [False] * n  # ... that arrived this tick
        self._fresh = np.zeros(n, dtype=bool)
        self._invalid_value = np.full(n, math.nan)  # an invalid command's offending value
        self._finite = np.zeros(n, dtype=bool)
        self._flags = np.zeros(n, dtype=bool)
        self._surplus_before = 0  # joints with surplus replies on the last tick (bits)
        self._work = (np.zeros(n), np.zeros(n))
        self._q_trusted = np.zeros(n)
        self._q_hold = np.zeros(n)
        self._tau_last = np.zeros(n)
        self._fade_from = np.zeros(n)
        self._out = JointCommand.torque_off(n)
        self._torque_off = JointCommand.torque_off(n)
        low, high = limits.position_min_rad, limits.position_max_rad
        if soft_limits is not None:
            low, high = np.maximum(low, soft_limits.rom_min_rad), np.minimum(
                high, soft_limits.rom_max_rad)
        self._recovery = Recovery(low, high, RecoveryLimits(), period_s)
        self._recover_until = 0.0  # time.monotonic() until which the hold counts
        self._recover_refused = False

    @classmethod
    def from_config(
        cls,
        config: RobotConfig,
        *,
        settings: SafetySettings | None = None,
        soft_limits: SoftLimits | None = None,
        actuators: tuple[Actuator, ...] | None = None,
    ) -> Supervisor:
        """The supervisor of robot ``config``: its hard limits, stale-feedback ticks, control
        period, command deadline and (unless ``actuators`` is given) its motors' default
        ratings.

        Raises:
            ConfigurationError: a motor model has no default rating and ``actuators`` is None.
        """
        return cls(
            config.joint_names, JointLimits.from_config(config), config.loop.stale_feedback_ticks,
            period_s=config.period_s, settings=settings, soft_limits=soft_limits,
            actuators=actuators if actuators is not None else Actuator.all_from_config(config),
            command_deadline_s=config.loop.command_deadline_s,
        )

    # -- inputs from people -------------------------------------------------------------------

    def estop(self, pressed: bool = True) -> None:
        """The E-STOP input: pressed or released; takes effect at the next :meth:`check`.

        Safe to call from any thread or a signal handler. A press is remembered until the next
        check even if released before it.
        """
        if pressed:
            self._estop_hit = True
        self._estop_pressed = pressed

    def request_stop(self, category: StopCategory = StopCategory.FADE) -> None:
        """A person asks for a stop of ``category`` (not a fault); takes effect at the next
        :meth:`check`. Like a fault's stop it lasts until :meth:`reset`."""
        self._stop_request = category

    def recover(self, held: bool = True) -> None:
        """The hold-to-run recovery input: held (renew it more often than
        ``RecoveryLimits.deadman_s``) or released; takes effect at the next :meth:`check`.
        Safe to call from any thread."""
        self._recover_until = (time.monotonic() + self._recovery.limits.deadman_s
                               if held else 0.0)

    @property
    def recovering_(self) -> bool:
        """True while a recovery moves the joints."""
        return self._mode is _Mode.RECOVERING

    def reset(self) -> ResetResult:
        """Clear every latched fault and end the stop: a person's decision, never the loop's.

        Refused (nothing changes) while E-STOP is pressed (or was pressed since the last check)
        or the cause of a latched fault is still present: the last check still saw the fault's
        condition or, for a fault with a warning level, its warning. Call it between ticks (the
        loop's ``request_reset`` does).
        """
        estop = self._read_estop()
        present = self._active | self._warning
        present[ESTOP, self._n] = estop  # the input now, not at the last check
        blocking = tuple(f for f in self.faults_ if present[_ROW[f.kind], self._col(f.joint)])
        if blocking or estop:
            causes = (["estop"] if estop else []) + [
                _short(f) for f in blocking if f.kind is not FaultKind.ESTOP]
            self._events.append(SafetyEvent(
                self._t_s, "reset:refused", None, {"blocking": "; ".join(causes)}))
            return ResetResult(False, blocking=blocking)
        cleared = tuple(self.faults_)
        self.faults_ = []
        self._latched[:] = False
        self._mode = _Mode.RUNNING
        self.reaction_ = None
        self._stop_request = None
        self._frozen.clear()
        self._events.append(SafetyEvent(
            self._t_s, "reset", None, {"cleared": "; ".join(_short(f) for f in cleared)}))
        return ResetResult(True, cleared=cleared)

    # -- state ---------------------------------------------------------------------------------

    @property
    def tripped(self) -> bool:
        """True while any fault is latched."""
        return bool(self.faults_)

    @property
    def torque_off_(self) -> bool:
        """True once the torque is off: a category-0 stop, or a category-1 fade that ended."""
        return self._mode is _Mode.OFF

    @property
    def has_events(self) -> bool:
        """True when events wait for :meth:`take_events`."""
        return bool(self._events)

    def take_events(self) -> list[SafetyEvent]:
        """The events since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def take_faults(self) -> list[Fault]:
        """The faults latched since the last call, oldest first, wherever they were detected
        (:meth:`check` or :meth:`limit`); a latched fault is also an event, so
        :attr:`has_events` is True while any waits here."""
        faults, self._latched_log = self._latched_log, []
        return faults

    # -- the tick ------------------------------------------------------------------------------

    def check(
        self,
        state: JointState,
        *,
        command_age_s: float = 0.0,
        bus: BusErrorCounters | None = None,
        recording: bool = True,
    ) -> list[Fault]:
        """Check one tick's state; return the faults newly latched by it (usually none).

        Args:
            state: the state read this tick.
            command_age_s: how long the drives have been executing the last command written,
                in the drives' own time (s; one period when every tick is on time). Beyond
                ``command_deadline_s`` it is a ``command_deadline`` fault; beyond
                ``1 + late_fraction`` periods the tick is late (counted; frequent late ticks
                are a warning).
            bus: the bus's cumulative error counters (None: the bus-error monitor is off).
            recording: False once the session's recording has failed (e.g. a full disk): a
                ``storage`` fault, present for as long as it is False.
        """
        self._tick += 1
        rows, robot = self._rows, 1 << self._n
        # the loop's time never runs backwards: if it does, every time-based monitor is wrong
        t_s = state.t_s
        reversed_time = t_s < self._previous_t_s
        rows[TIME] = robot if reversed_time else 0
        self._time_step_s = t_s - self._previous_t_s
        # what this tick's faults and events are dated: a period after the last good time when
        # the state's time ran backwards, so that the record stays in order
        if reversed_time:
            self._t_s = self._previous_t_s + self.period_s
        else:
            self._previous_t_s = self._t_s = t_s
        rows[ESTOP] = robot if self._read_estop() else 0
        self._estop_hit = False
        # one pass over the joints: stale or non-finite feedback (only fresh finite readings are
        # checked further), hard limits, range of motion, drive faults, surplus replies
        q, qd, tau = state.q.tolist(), state.qd.tolist(), state.tau.tolist()
        ages, codes = state.age_ticks.tolist(), state.fault_code.tolist()
        surplus_replies = state.surplus_replies.tolist()
        stale_after, fresh_now, arrived = self.stale_after_ticks, self._fresh_now, self._arrived
        trusted, margin_bounds = self._q_trusted, self._margin_bounds
        warn_margin = math.inf if self._range_margin is None else self._range_margin.warn_rad
        stale = invalid = position = velocity = rom = drive = surplus = 0
        near_margin = False
        for i, (low, high, rom_low, rom_high, velocity_max) in enumerate(self._bounds):
            bit, angle, age = 1 << i, q[i], ages[i]
            fresh = age <= stale_after
            if not fresh:
                stale |= bit
            elif not (-math.inf < angle < math.inf and -math.inf < qd[i] < math.inf
                      and -math.inf < tau[i] < math.inf):
                invalid |= bit
                fresh = False
            if fresh:
                trusted[i] = angle
                if angle < low or angle > high:
                    position |= bit
                if angle < rom_low or angle > rom_high:
                    rom |= bit
                if abs(qd[i]) > velocity_max:
                    velocity |= bit
                if codes[i] != 0:
                    drive |= bit
                margin_low, margin_high = margin_bounds[i]
                if angle - margin_low < warn_margin or margin_high - angle < warn_margin:
                    near_margin = True
            fresh_now[i] = fresh
            arrived[i] = fresh and age == 0  # sensor plausibility: readings of this tick
            if surplus_replies[i] > 0:
                surplus |= bit
        rows[STALE], rows[INVALID], rows[POSITION], rows[VELOCITY], rows[ROM], rows[DRIVE] = (
            stale, invalid, position, velocity, rom, drive)
        # a second device on a joint's node id: replies beyond those asked for, on two ticks in
        # a row (one tick's surplus can be a command the bus delivered twice, see docs/safety.md)
        rows[CONFLICT] = surplus & self._surplus_before
        self._surplus_before = surplus
        # the range-margin warning: only when a joint is within its margin or a warning is on
        # (otherwise no warning can start or end)
        if self._range_margin is not None and (near_margin or self._margin_warned):
            self._fresh[:] = fresh_now
            self._range_margin.check(t_s, state.q, self._fresh, self._events)
            self._margin_warned = bool(self._range_margin.warning_.any())
        # on the clock's grid (state.t_s), which counts the ticks a wall clock skipped; no bound
        # on a jump over negative time: the time fault says it
        rows[JUMP] = 0 if reversed_time else self._jump.update(
            round(t_s / self.period_s), q, arrived)
        if self._mode is _Mode.RUNNING:
            rows[FROZEN] = self._frozen.update(q, arrived, self._tau_last.tolist())
        else:  # a stop takes the commanded torque away: nothing to move the joints
            self._frozen.clear()
            rows[FROZEN] = 0
        # heat
        warn_rows = self._warn_rows
        if self._thermal is not None and self._rms is not None:
            temperature = self._thermal.update(tau, state.temperature_c.tolist())
            rms = self._rms.update(tau)
            heat = heat_warning = too_high = rms_warning = 0
            for i, (fault_c, warn_c, rms_limit, rms_warn) in enumerate(self._heat_bounds):
                bit = 1 << i
                if temperature[i] >= fault_c:
                    heat |= bit
                if temperature[i] >= warn_c:
                    heat_warning |= bit
                if rms[i] > rms_limit:
                    too_high |= bit
                if rms[i] > rms_warn:
                    rms_warning |= bit
            rows[HEAT], warn_rows[HEAT], rows[RMS], warn_rows[RMS] = (
                heat, heat_warning, too_high, rms_warning)
        # the loop and the bus
        self._command_age_s = command_age_s
        self._late_ticks = self._late_window.add(command_age_s > self._late_after_s)
        old = command_age_s > self._warn_age_s
        warn_rows[DEADLINE] = robot if (self._old_window.add(old) > 0 or
                                        self._late_ticks > self.settings.late_warn_ticks) else 0
        rows[DEADLINE] = robot if command_age_s > self.command_deadline_s else 0
        rows[STORAGE] = 0 if recording else robot
        if bus is not None:
            self._count_bus_errors(bus)
        # the standstill monitor of a hold
        standstill = 0
        if self._mode is _Mode.HOLDING:
            tolerance = self.settings.standstill_tolerance_rad
            for i, held in enumerate(self._q_hold.tolist()):
                if fresh_now[i] and abs(q[i] - held) > tolerance:
                    standstill |= 1 << i
        rows[STANDSTILL] = standstill
        if rows != self._rows_written:
            _write_rows(rows, self._rows_written, self._active)
        # reactions
        if self._mode is _Mode.FADING and self._tick - self._fade_start >= self.fade_ticks:
            self._mode = _Mode.OFF
            self._events.append(SafetyEvent(
                state.t_s, "stop:faded", None, {"ticks": self.fade_ticks}, StopCategory.FADE))
        if self._stop_request is not None:
            category, self._stop_request = self._stop_request, None
            self._events.append(SafetyEvent(state.t_s, "stop:requested", None, {}, category))
            self._engage(category, "request", Priority.LOW)
        if warn_rows != self._warn_written:  # a warning began or ended
            _write_rows(warn_rows, self._warn_written, self._warning)
            self._report_warnings(state)
        new = []
        if any(rows) and np.count_nonzero(np.greater(self._active, self._latched,
                                                      out=self._new)):
            new = self._latch_new(state)
        if self._recover_until or self._mode is _Mode.RECOVERING:
            self._update_recovery(state, bool(new))
        return new

    def limit(self, command: JointCommand, state: JointState) -> JointCommand:
        """The command to write this tick: the stop's command while one is in progress, else
        ``command`` shaped into the limits. The result belongs to the supervisor and is
        overwritten by the next call; ``command`` is not modified."""
        self._check_command(command, state)
        mode, out = self._mode, self._out
        if mode is _Mode.OFF:
            self._tau_last[:] = 0.0
            return self._torque_off
        if mode is _Mode.FADING:
            share = 1.0 - (self._tick - self._fade_start) / self.fade_ticks
            np.copyto(out.q_ref, self._q_trusted)
            out.qd_ref[:] = 0.0
            out.kp[:] = 0.0
            out.kd[:] = 0.0
            np.multiply(self._fade_from, share, out=out.tau_ff)
            np.copyto(self._tau_last, out.tau_ff)
            return out
        if mode is _Mode.RECOVERING:
            self._recovery.command(state, out)
        elif mode is _Mode.HOLDING:
            np.copyto(out.q_ref, self._q_hold)
            out.qd_ref[:] = 0.0
            out.kp[:] = self.settings.hold_kp_nm_per_rad
            out.kd[:] = self.settings.hold_kd_nms_per_rad
            out.tau_ff[:] = 0.0
        else:
            self._shape(command, state, out)
        self._clamp_torque(out, state)
        return out

    # -- internals -----------------------------------------------------------------------------

    def _update_recovery(self, state: JointState, new_fault: bool) -> None:
        """Start a recovery that is held and allowed, end one that is released or faulted."""
        held = self._recover_until > time.monotonic()
        if self._mode is _Mode.RECOVERING:
            if not held or new_fault:
                self._mode = _Mode.OFF
                self._events.append(SafetyEvent(
                    state.t_s, "recovery:ended", None,
                    {"why": "a new fault" if new_fault else "released"}))
        elif held and self._mode is _Mode.OFF and self.faults_:
            present = {_KINDS[row] for row in np.flatnonzero(self._active.any(axis=1))}
            reason = may_recover(self.faults_, present, bool(self._active[ESTOP, self._n]))
            if not reason:
                self._mode = _Mode.RECOVERING
                self._recovery.start(self._q_trusted)
                self._events.append(SafetyEvent(state.t_s, "recovery:started", None, {}))
            elif not self._recover_refused:
                self._events.append(SafetyEvent(state.t_s, "recovery:refused", None,
                                                {"reason": reason}))
                self._recover_refused = True
        if not held:
            self._recover_until = 0.0
            self._recover_refused = False

    def _col(self, joint: str | None) -> int:
        return self._n if joint is None else self._column[joint]

    def _read_estop(self) -> bool:
        """Whether E-STOP is pressed or was since the last check; events for its changes."""
        active = self._estop_hit or self._estop_pressed
        if active != self._estop_down:
            self._estop_down = active
            if active:
                category = self.settings.reaction(FaultKind.ESTOP).category
                self._events.append(
                    SafetyEvent(self._t_s, "estop:pressed", None, {}, category, Priority.HIGH))
            else:
                self._events.append(SafetyEvent(self._t_s, "estop:released"))
        return active

    def _count_bus_errors(self, bus: BusErrorCounters) -> None:
        total = bus.error_frames + bus.send_failures + bus.malformed_frames + bus.unexpected_frames
        previous = total if self._bus_total is None else self._bus_total
        self._bus_total = total
        self._bus_count = self._bus_window.add(max(0, total - previous))  # 0: counters restarted
        robot = 1 << self._n
        self._rows[BUS] = robot if self._bus_count > self.settings.bus_error_max else 0
        self._warn_rows[BUS] = robot if self._bus_count > 0 else 0

    def _check_command(self, command: JointCommand, state: JointState) -> None:
        """A command with a non-finite field or a negative gain is an ``invalid_value`` fault
        of its joint (its value: the negative gain, or NaN), latched on this tick."""
        total = (sum(command.q_ref.tolist()) + sum(command.qd_ref.tolist())
                 + sum(command.tau_ff.tolist()))
        kp, kd = command.kp.tolist(), command.kd.tolist()
        if (-math.inf < total + sum(kp) + sum(kd) < math.inf
                and min(kp, default=0.0) >= 0.0 and min(kd, default=0.0) >= 0.0):
            return  # every field finite (a sum of finite values may overflow: then look closer)
        valid, flags = self._finite, self._flags
        np.isfinite(command.q_ref, out=valid)
        valid &= np.isfinite(command.qd_ref, out=flags)
        valid &= np.isfinite(command.tau_ff, out=flags)
        valid &= np.isfinite(command.kp, out=flags)
        valid &= np.isfinite(command.kd, out=flags)
        valid &= np.greater_equal(command.kp, 0.0, out=flags)
        valid &= np.greater_equal(command.kd, 0.0, out=flags)
        if np.count_nonzero(valid) == self._n:
            return
        n = self._n
        np.logical_not(valid, out=flags)
        for i in np.flatnonzero(flags):  # the fault's path: allocating is fine here
            gains = (float(command.kp[i]), float(command.kd[i]))
            self._invalid_value[i] = min(gains) if all(map(math.isfinite, gains)) else math.nan
            if not all(map(math.isfinite, (command.q_ref[i], command.qd_ref[i],
                                           command.tau_ff[i]))):
                self._invalid_value[i] = math.nan
        self._active[INVALID, :n] |= flags
        self._rows_written[INVALID] = -1  # the next check rewrites the row from its state
        self._new[:] = False
        np.greater(self._active[INVALID], self._latched[INVALID], out=self._new[INVALID])
        if np.count_nonzero(self._new):
            self._latch_new(state)
        self._invalid_value[:] = math.nan  # a non-finite state's value, as check reports it

    def _latch_new(self, state: JointState) -> list[Fault]:
        """Latch the faults marked in ``_new``; start the most severe stop among them."""
        settings, n = self.settings, self._n
        faults = []
        for row, col in zip(*np.nonzero(self._new), strict=True):
            kind = _KINDS[row]
            reaction = settings.reaction(kind)
            value, limit = self._measure(kind, int(col), state)
            fault = Fault(kind, None if col == n else self.joint_names[col], self._t_s, value,
                          limit, reaction.category, reaction.priority)
            faults.append(fault)
            self._events.append(fault.event())
        self._latched |= self._new
        self.faults_ += faults
        self._latched_log += faults
        worst = min(faults, key=lambda f: f.category)
        self._engage(worst.category, worst.kind.value, worst.priority)
        return faults

    def _measure(self, kind: FaultKind, i: int, state: JointState) -> tuple[float, float]:
        """The offending value of fault ``kind`` at column ``i`` and the limit it crossed."""
        lim, settings = self.limits, self.settings
        if kind in SYSTEM_FAULTS:
            return {
                FaultKind.ESTOP: (1.0, 0.0),
                FaultKind.BUS_ERRORS: (float(self._bus_count), float(settings.bus_error_max)),
                FaultKind.COMMAND_DEADLINE: (self._command_age_s, self.command_deadline_s),
                FaultKind.STORAGE: (1.0, 0.0),
                FaultKind.TIME_REVERSED: (self._time_step_s, 0.0),
            }[kind]
        q = float(state.q[i])
        match kind:
            case FaultKind.POSITION_LIMIT:
                low = q < lim.position_min_rad[i]
                return q, float(lim.position_min_rad[i] if low else lim.position_max_rad[i])
            case FaultKind.VELOCITY_LIMIT:
                return float(state.qd[i]), float(lim.velocity_max_rad_s[i])
            case FaultKind.ROM_EXCEEDED:
                low = q < self._rom_low_rad[i]
                return q, float(self._rom_low_rad[i] if low else self._rom_high_rad[i])
            case FaultKind.STALE_FEEDBACK:
                return float(state.age_ticks[i]), float(self.stale_after_ticks)
            case FaultKind.FROZEN_SENSOR:
                return float(self._frozen.count_[i]), float(self._frozen.ticks)
            case FaultKind.POSITION_JUMP:
                return float(self._jump.jump_rad_[i]), float(self._jump.bound_rad_[i])
            case FaultKind.DRIVE_FAULT:
                return float(state.fault_code[i]), 0.0
            case FaultKind.NODE_ID_CONFLICT:
                return float(state.surplus_replies[i]), 0.0
            case FaultKind.OVER_TEMPERATURE if self._thermal is not None:
                return (float(self._thermal.temperature_c_[i]),
                        float(self._thermal.fault_c[i]))
            case FaultKind.RMS_TORQUE if self._rms is not None:
                return float(self._rms.rms_[i]), float(self._rms_limit_nm[i])
            case FaultKind.STANDSTILL:
                return abs(q - float(self._q_hold[i])), settings.standstill_tolerance_rad
        # invalid_value: not a number, or a command's negative gain (the limit: 0)
        return float(self._invalid_value[i]), 0.0

    def _engage(self, category: StopCategory, cause: str, priority: Priority) -> None:
        """Start stop ``category`` unless a stop at least as severe is in progress."""
        if self._mode is _Mode.OFF or (
            self.reaction_ is not None and category >= self.reaction_
        ):
            return
        self.reaction_ = category
        if category is StopCategory.TORQUE_OFF:
            self._mode = _Mode.OFF
        elif category is StopCategory.FADE:
            self._mode = _Mode.FADING
            self._fade_start = self._tick
            np.copyto(self._fade_from, self._tau_last)
        else:
            self._mode = _Mode.HOLDING
            np.copyto(self._q_hold, self._q_trusted)
        self._events.append(SafetyEvent(
            self._t_s, f"stop:category_{int(category)}", None, {"cause": cause}, category,
            priority))

    def _report_warnings(self, state: JointState) -> None:
        """Events for warnings that began (low-priority alarms) or ended since the last tick."""
        n = self._n
        for row, col in zip(*np.nonzero(self._warning != self._warned), strict=True):
            kind = _KINDS[row]
            joint = None if col == n else self.joint_names[col]
            if row == DEADLINE and self._warning[row, col]:  # an old command, or late ticks
                self._events.append(SafetyEvent(
                    state.t_s, f"warning:{kind.value}", joint,
                    {"value": self._command_age_s, "fault_at": self.command_deadline_s,
                     "late_ticks": self._late_ticks, "window_s": self.settings.late_window_s},
                    None, Priority.LOW))
            elif self._warning[row, col]:
                value, fault_at = self._measure(kind, int(col), state)
                self._events.append(SafetyEvent(
                    state.t_s, f"warning:{kind.value}", joint,
                    {"value": value, "fault_at": fault_at}, None, Priority.LOW))
            else:
                self._events.append(SafetyEvent(state.t_s, f"warning_cleared:{kind.value}",
                                                joint))
        np.copyto(self._warned, self._warning)

    def _shape(self, command: JointCommand, state: JointState, out: JointCommand) -> None:
        """``command`` into ``out``: bounded gains, references within the hard limits, then
        bent into the range of motion, and the range's spring."""
        max_kp, max_kd = self._gain_max
        q_ref, qd_ref, kp, kd = (command.q_ref.tolist(), command.qd_ref.tolist(),
                                 command.kp.tolist(), command.kd.tolist())
        out_q, out_qd, out_kp, out_kd = out.q_ref, out.qd_ref, out.kp, out.kd
        for i, (low, high, _, _, velocity_max) in enumerate(self._bounds):
            # min(max(value, low), high), what np.maximum then np.minimum give
            gain = kp[i]
            gain = 0.0 if gain < 0.0 else gain
            out_kp[i] = max_kp if gain > max_kp else gain
            gain = kd[i]
            gain = 0.0 if gain < 0.0 else gain
            out_kd[i] = max_kd if gain > max_kd else gain
            angle = q_ref[i]
            angle = low if angle < low else angle
            out_q[i] = high if angle > high else angle
            speed = qd_ref[i]
            speed = -velocity_max if speed < -velocity_max else speed
            out_qd[i] = velocity_max if speed > velocity_max else speed
        np.copyto(out.tau_ff, command.tau_ff)
        if self.soft_limits is not None:  # the range of motion lies within the hard limits
            self.soft_limits.shape_reference(out.q_ref, out.qd_ref, self._work)
            self.soft_limits.add_spring(state.q, out.tau_ff, self._work[0])

    def _clamp_torque(self, out: JointCommand, state: JointState) -> None:
        """Adjust ``out.tau_ff`` so that ``out`` produces at most the torque limit at ``state``.

        The feed-forward torque is first bounded by ``|PD part| + limit`` (which cannot change
        the clamped result) so that huge values cannot cancel out the PD part in rounding. In
        Python floats, operation for operation what the numpy form computed (NaN included: a
        non-finite state gives a NaN torque, which the drive codecs refuse).
        """
        q_ref, qd_ref, kp, kd, tau_ff = (out.q_ref.tolist(), out.qd_ref.tolist(),
                                         out.kp.tolist(), out.kd.tolist(), out.tau_ff.tolist())
        q, qd = state.q.tolist(), state.qd.tolist()
        out_tau, tau_last = out.tau_ff, self._tau_last
        for i, limit in enumerate(self._torque_max):
            pd = (q_ref[i] - q[i]) * kp[i] + (qd_ref[i] - qd[i]) * kd[i]
            bound = abs(pd) + limit
            tau = tau_ff[i]
            tau = bound if tau > bound else tau
            tau = -bound if tau < -bound else tau
            total = pd + tau
            clamped = -limit if total < -limit else (limit if total > limit else total)
            tau_last[i] = clamped
            out_tau[i] = tau + (clamped - total)


def _write_rows(rows: list[int], written: list[int], matrix: BoolArray) -> None:
    """Rewrite the rows of ``matrix`` whose bits in ``rows`` differ from ``written``."""
    for row, bits in enumerate(rows):
        if bits != written[row]:
            written[row] = bits
            line = matrix[row]
            for col in range(line.shape[0]):
                line[col] = bits >> col & 1


def _short(fault: Fault) -> str:
    """``kind`` or ``kind@joint``."""
    return fault.kind.value if fault.joint is None else f"{fault.kind.value}@{fault.joint}"
