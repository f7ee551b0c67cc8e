"""The supervisor's settings: the reaction to each fault kind and every monitor's threshold.

The defaults are the documented behaviour of docs/safety.md. A setting that would make the robot
less safe than the rules allow is refused at construction with a :class:`ConfigurationError` that
says why: E-STOP is stop category 0 or 1 (IEC 60204-1, ISO 13850), never 2; the standstill
monitor (the escalation of a category-2 hold) is always category 0; a fault of the position
feedback cannot be answered by holding that position (category 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rehabbot.errors import ConfigurationError
from rehabbot.safety.faults import SENSOR_FAULTS, FaultKind, Priority, Reaction, StopCategory

_OFF, _FADE, _HOLD = StopCategory.TORQUE_OFF, StopCategory.FADE, StopCategory.HOLD
_HIGH, _MEDIUM = Priority.HIGH, Priority.MEDIUM

#: The reaction to each fault kind unless :attr:`SafetySettings.reactions` says otherwise.
DEFAULT_REACTIONS: Mapping[FaultKind, Reaction] = MappingProxyType({
    FaultKind.ESTOP: Reaction(_OFF, _HIGH),
    FaultKind.POSITION_LIMIT: Reaction(_OFF, _HIGH),
    FaultKind.VELOCITY_LIMIT: Reaction(_OFF, _HIGH),
    FaultKind.ROM_EXCEEDED: Reaction(_FADE, _MEDIUM),
    FaultKind.STALE_FEEDBACK: Reaction(_OFF, _HIGH),
    FaultKind.FROZEN_SENSOR: Reaction(_OFF, _HIGH),
    FaultKind.POSITION_JUMP: Reaction(_OFF, _HIGH),
    FaultKind.INVALID_VALUE: Reaction(_OFF, _HIGH),
    FaultKind.DRIVE_FAULT: Reaction(_OFF, _HIGH),
    FaultKind.OVER_TEMPERATURE: Reaction(_FADE, _MEDIUM),
    FaultKind.RMS_TORQUE: Reaction(_FADE, _MEDIUM),
    FaultKind.BUS_ERRORS: Reaction(_FADE, _MEDIUM),
    FaultKind.COMMAND_DEADLINE: Reaction(_HOLD, _MEDIUM),
    FaultKind.STANDSTILL: Reaction(_OFF, _HIGH),
    FaultKind.STORAGE: Reaction(_FADE, _MEDIUM),
    FaultKind.TIME_REVERSED: Reaction(_OFF, _HIGH),
    # a second device answers on the joint's node id: which one's position is the joint's?
    FaultKind.NODE_ID_CONFLICT: Reaction(_OFF, _HIGH),
})


@dataclass(frozen=True)
class SafetySettings:
    """Reactions and thresholds of the supervisor (SI units; times in seconds of loop time).

    Attributes:
        reactions: overrides of :data:`DEFAULT_REACTIONS` (kinds not named keep their default);
            after construction it holds the full table.
        fade_s: duration of a category-1 fade from the present torque to zero (s).
        hold_kp_nm_per_rad: stiffness of a category-2 position hold (N·m/rad).
        hold_kd_nms_per_rad: damping of a category-2 position hold (N·m·s/rad).
        standstill_tolerance_rad: a held joint that moves farther than this from where the hold
            began escalates the stop to category 0 (rad).
        max_kp_nm_per_rad: highest stiffness a command may ask for (N·m/rad).
        max_kd_nms_per_rad: highest damping a command may ask for (N·m·s/rad).
        rom_margin_rad: a joint this far beyond the patient's range of motion (the protocol's soft
            limits) is a ``rom_exceeded`` fault (rad).
        frozen_after_s: identical position readings for this long while the commanded torque is
            at least ``frozen_min_torque_nm`` are a frozen sensor (s).
        frozen_min_torque_nm: see ``frozen_after_s`` (N·m).
        jump_margin: a position change between two readings larger than velocity limit × time
            between them × this margin is a position jump.
        late_fraction: a tick is late when the command the drives execute at its start is older
            than ``1 + late_fraction`` periods (it came a part of a period late, or ticks were
            skipped); late ticks are statistics, never a fault (the fault is the robot
            configuration's ``command_deadline_s``).
        late_window_s: the late-tick warning looks at this sliding window (s).
        late_warn_ticks: more late ticks than this within the window are a low-priority
            ``command_deadline`` warning (late ticks are frequent: the deadline is at risk).
        deadline_warn_fraction: a command older than this fraction of the command deadline
            within the window is a ``command_deadline`` warning as well (a stall of a few
            milliseconds: a warning, never a stop).
        bus_error_window_s: the bus-error monitor counts errors over this sliding window (s).
        bus_error_max: more errors than this within the window are a fault; any error within
            it is a warning.
        rms_window_s: the RMS-torque monitor's sliding window (s).
        rms_warn_fraction: RMS torque above this fraction of the continuous rating is a
            warning; above the rating, a fault.
        ambient_c: ambient temperature of the thermal model (°C); a drive's own temperature
            reading replaces it when higher.

    >>> SafetySettings(reactions={FaultKind.ESTOP: Reaction(StopCategory.HOLD)})
    Traceback (most recent call last):
    ...
    rehabbot.errors.ConfigurationError: E-STOP must be stop category 0 or 1, not 2: ...
    """

    reactions: Mapping[FaultKind, Reaction] = field(default_factory=dict)
    fade_s: float = 0.5
    hold_kp_nm_per_rad: float = 300.0
    hold_kd_nms_per_rad: float = 10.0
    standstill_tolerance_rad: float = 0.1
    max_kp_nm_per_rad: float = 5000.0
    max_kd_nms_per_rad: float = 200.0
    rom_margin_rad: float = 0.1
    frozen_after_s: float = 0.5
    frozen_min_torque_nm: float = 5.0
    jump_margin: float = 2.0
    late_fraction: float = 0.5
    late_window_s: float = 1.0
    late_warn_ticks: int = 50
    deadline_warn_fraction: float = 0.25
    bus_error_window_s: float = 0.1
    bus_error_max: int = 10
    rms_window_s: float = 10.0
    rms_warn_fraction: float = 0.9
    ambient_c: float = 25.0

    def __post_init__(self) -> None:
        estop = self.reactions.get(FaultKind.ESTOP)
        if estop is not None and estop.category is StopCategory.HOLD:
            raise ConfigurationError(
                "E-STOP must be stop category 0 or 1, not 2: an emergency stop removes the "
                "torque (IEC 60204-1, ISO 13850), a category-2 hold keeps the drives powered"
            )
        standstill = self.reactions.get(FaultKind.STANDSTILL)
        if standstill is not None and standstill.category is not StopCategory.TORQUE_OFF:
            raise ConfigurationError(
                "the standstill monitor must be stop category 0: it is what a category-2 hold "
                "escalates to when the joint moves"
            )
        for kind in SENSOR_FAULTS:
            reaction = self.reactions.get(kind)
            if reaction is not None and reaction.category is StopCategory.HOLD:
                raise ConfigurationError(
                    f"{kind.value} cannot be stop category 2: holding a position needs the "
                    "position feedback this fault says is wrong"
                )
        positive = {
            "fade_s": self.fade_s, "hold_kp_nm_per_rad": self.hold_kp_nm_per_rad,
            "standstill_tolerance_rad": self.standstill_tolerance_rad,
            "max_kp_nm_per_rad": self.max_kp_nm_per_rad,
            "max_kd_nms_per_rad": self.max_kd_nms_per_rad, "rom_margin_rad": self.rom_margin_rad,
            "frozen_after_s": self.frozen_after_s, "jump_margin": self.jump_margin,
            "late_fraction": self.late_fraction, "late_window_s": self.late_window_s,
            "late_warn_ticks": self.late_warn_ticks,
            "deadline_warn_fraction": self.deadline_warn_fraction,
            "bus_error_window_s": self.bus_error_window_s, "rms_window_s": self.rms_window_s,
            "rms_warn_fraction": self.rms_warn_fraction,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ConfigurationError(f"safety setting {name} must be positive, got {value}")
        if self.hold_kd_nms_per_rad < 0 or self.frozen_min_torque_nm < 0 or self.bus_error_max < 0:
            raise ConfigurationError(
                "safety settings hold_kd_nms_per_rad, frozen_min_torque_nm and bus_error_max "
                "must not be negative"
            )
        if self.deadline_warn_fraction >= 1.0:
            raise ConfigurationError(
                f"deadline_warn_fraction must be below 1 (a warning before the fault), got "
                f"{self.deadline_warn_fraction}"
            )
        if self.rms_warn_fraction > 1.0:
            raise ConfigurationError(
                f"rms_warn_fraction must be at most 1, got {self.rms_warn_fraction}"
            )
        object.__setattr__(
            self, "reactions", MappingProxyType(dict(DEFAULT_REACTIONS) | dict(self.reactions))
        )

    def reaction(self, kind: FaultKind) -> Reaction:
        """The reaction to ``kind``.

        >>> SafetySettings().reaction(FaultKind.COMMAND_DEADLINE).category
        <StopCategory.HOLD: 2>
        """
        return self.reactions[kind]


def periods(duration_s: float, period_s: float) -> int:
    """``duration_s`` in whole control periods (rounded), at least one.

    >>> periods(0.5, 0.001), periods(0.0001, 0.001)
    (500, 1)
    """
    return max(1, round(duration_s / period_s))
