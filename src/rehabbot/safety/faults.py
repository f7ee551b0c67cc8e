"""The safety vocabulary: fault kinds, stop categories, alarm priorities, faults and events.

* Stop categories follow IEC 60204-1: **0** removes the torque at once, **1** is a controlled stop
  (here: the torque fades to zero, then it is removed), **2** is a controlled stop that keeps the
  drives powered (here: hold the present position under a standstill monitor).
* Alarm priorities follow IEC 60601-1-8: **high** (immediate response needed), **medium** (prompt
  response), **low** (awareness). A warning is an alarm without a stop.
* Every fault, reaction, reset and E-STOP change becomes a :class:`SafetyEvent` that the control
  loop hands to an :data:`EventSink` (e.g. the session store's ``add_event``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum


class FaultKind(Enum):
    """What a fault is about; the value names it in events (``fault:<value>``)."""

    ESTOP = "estop"
    POSITION_LIMIT = "position_limit"
    VELOCITY_LIMIT = "velocity_limit"
    ROM_EXCEEDED = "rom_exceeded"
    STALE_FEEDBACK = "stale_feedback"
    FROZEN_SENSOR = "frozen_sensor"
    POSITION_JUMP = "position_jump"
    INVALID_VALUE = "invalid_value"
    DRIVE_FAULT = "drive_fault"
    OVER_TEMPERATURE = "over_temperature"
    RMS_TORQUE = "rms_torque"
    BUS_ERRORS = "bus_errors"
    COMMAND_DEADLINE = "command_deadline"
    STANDSTILL = "standstill"
    STORAGE = "storage"
    TIME_REVERSED = "time_reversed"
    NODE_ID_CONFLICT = "node_id_conflict"


#: Faults about the whole robot rather than one joint (their ``joint`` is None).
SYSTEM_FAULTS = frozenset({
    FaultKind.ESTOP, FaultKind.BUS_ERRORS, FaultKind.COMMAND_DEADLINE, FaultKind.STORAGE,
    FaultKind.TIME_REVERSED,
})

#: Faults that make the position feedback untrustworthy: a position hold (category 2) cannot
#: react to them, so they are never configured as category 2.
SENSOR_FAULTS = frozenset({
    FaultKind.STALE_FEEDBACK, FaultKind.FROZEN_SENSOR, FaultKind.POSITION_JUMP,
    FaultKind.INVALID_VALUE, FaultKind.TIME_REVERSED, FaultKind.NODE_ID_CONFLICT,
})


#: The unit of each fault kind's ``value`` and ``limit`` (:attr:`Fault.value`): SI, a count
#: (``ticks``: control periods; ``errors``: bus errors; ``replies``: a joint's replies beyond
#: those its drive was asked for) or ``code`` (a drive's fault code);
#: ``""`` where the value only flags the condition (E-STOP, storage, an invalid value).
UNITS: Mapping[FaultKind, str] = {
    FaultKind.ESTOP: "",
    FaultKind.POSITION_LIMIT: "rad",
    FaultKind.VELOCITY_LIMIT: "rad/s",
    FaultKind.ROM_EXCEEDED: "rad",
    FaultKind.STALE_FEEDBACK: "ticks",
    FaultKind.FROZEN_SENSOR: "ticks",
    FaultKind.POSITION_JUMP: "rad",
    FaultKind.INVALID_VALUE: "",
    FaultKind.DRIVE_FAULT: "code",
    FaultKind.OVER_TEMPERATURE: "°C",
    FaultKind.RMS_TORQUE: "N·m",
    FaultKind.BUS_ERRORS: "errors",
    FaultKind.COMMAND_DEADLINE: "s",
    FaultKind.STANDSTILL: "rad",
    FaultKind.STORAGE: "",
    FaultKind.TIME_REVERSED: "s",
    FaultKind.NODE_ID_CONFLICT: "replies",
}


#: What to do about a fault whose cause is this computer rather than the robot.
REMEDIES = {
    FaultKind.COMMAND_DEADLINE: (
        "the drives executed a command older than the robot's command_deadline_s because this "
        "computer stalled the control loop; `rehabbot doctor` says how to make it real-time "
        "capable (real-time priority, CPU governor, isolated CPUs)"
    ),
}


class StopCategory(IntEnum):
    """IEC 60204-1 stop categories; a lower number is the more severe stop."""

    TORQUE_OFF = 0
    FADE = 1
    HOLD = 2


class Priority(Enum):
    """IEC 60601-1-8 alarm priorities."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Reaction:
    """How the supervisor reacts to one kind of fault.

    Attributes:
        category: the stop it triggers.
        priority: the priority of its alarm.

    >>> Reaction(StopCategory.FADE, Priority.MEDIUM).category
    <StopCategory.FADE: 1>
    """

    category: StopCategory
    priority: Priority = Priority.HIGH


@dataclass(frozen=True, slots=True)
class Fault:
    """One latched fault.

    Attributes:
        kind: what tripped.
        joint: the joint's name; None for a fault of the whole robot (E-STOP, bus, command
            deadline, storage).
        t_s: loop time of detection (s).
        value: the offending value in its kind's unit (:data:`UNITS`: rad, rad/s, N·m, °C, s,
            ticks, bus errors or a fault code).
        limit: the limit it crossed, same unit.
        category: the stop category configured for its kind.
        priority: its alarm priority.
    """

    kind: FaultKind
    joint: str | None
    t_s: float
    value: float
    limit: float
    category: StopCategory = StopCategory.TORQUE_OFF
    priority: Priority = Priority.HIGH

    @property
    def unit(self) -> str:
        """The unit of :attr:`value` and :attr:`limit` (:data:`UNITS`).

        >>> Fault(FaultKind.POSITION_LIMIT, "hip_flexion_r", 1.0, -0.53, -0.52).unit
        'rad'
        """
        return UNITS[self.kind]

    def describe(self) -> str:
        """One line for people, e.g. ``stale_feedback on knee_angle_r at 1.234 s (4 beyond 3)``,
        with the remedy where one is known (:data:`REMEDIES`)."""
        where = f" on {self.joint}" if self.joint is not None else ""
        remedy = REMEDIES.get(self.kind)
        return (
            f"{self.kind.value}{where} at {self.t_s:.3f} s "
            f"({self.value:g} beyond {self.limit:g}), stop category {int(self.category)}, "
            f"{self.priority.value} priority" + ("" if remedy is None else f": {remedy}")
        )

    def event(self) -> SafetyEvent:
        """The event that records this fault."""
        return SafetyEvent(
            self.t_s, f"fault:{self.kind.value}", self.joint,
            {"value": self.value, "limit": self.limit}, self.category, self.priority,
        )


EventValue = float | int | str


@dataclass(frozen=True, slots=True)
class SafetyEvent:
    """Something the safety layer did or saw, for the session's event log and the console.

    Kinds: ``fault:<fault kind>``, ``stop:category_<0|1|2>`` (a stop started or became more
    severe), ``stop:faded`` (a category-1 fade reached zero torque), ``stop:requested`` (a person
    asked for a stop), ``estop:pressed``, ``estop:released``, ``warning:<fault kind>``,
    ``warning_cleared:<fault kind>``, ``reset``, ``reset:refused``.

    Attributes:
        t_s: loop time (s).
        kind: what happened (see above).
        joint: the joint concerned, or None.
        values: details (numbers in SI units, or text): a fault's ``value`` and the ``limit`` it
            crossed, a warning's ``value`` and the level it would be a fault at (``fault_at``),
            the ``cause`` of a stop, the faults a reset ``cleared`` or that are ``blocking`` it.
        category: the stop category involved, if any.
        priority: the alarm priority, if it is an alarm.
    """

    t_s: float
    kind: str
    joint: str | None = None
    values: Mapping[str, EventValue] = field(default_factory=dict)
    category: StopCategory | None = None
    priority: Priority | None = None

    def payload(self) -> dict[str, EventValue | None]:
        """Plain JSON-ready details: the values (non-finite numbers as text), category, priority.

        This is what ``SessionStore.add_event(session_id, e.t_s, e.kind, e.joint, e.payload())``
        stores.

        >>> SafetyEvent(1.0, "fault:invalid_value", "knee_angle_r", {"value": float("nan")},
        ...             StopCategory.TORQUE_OFF, Priority.HIGH).payload()
        {'value': 'nan', 'category': 0, 'priority': 'high'}
        """
        details: dict[str, EventValue | None] = {
            key: str(value) if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in self.values.items()
        }
        details["category"] = None if self.category is None else int(self.category)
        details["priority"] = None if self.priority is None else self.priority.value
        return details


#: Where the control loop hands each event; it is called on the loop's thread, so it must neither
#: block nor raise (e.g. ``queue.SimpleQueue().put``, drained by a thread that stores them).
EventSink = Callable[[SafetyEvent], None]
