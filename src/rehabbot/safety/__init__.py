"""Safety: limits, monitors, stop categories and alarms, run by the supervisor that sees every
state and every command of the loop.

Small and dependency-light on purpose (numpy and the standard library). Faults are values, never
exceptions. docs/safety.md keeps the hazard table.

>>> from rehabbot.hal.config import load_robot_config
>>> supervisor = Supervisor.from_config(load_robot_config("sim_exo"))
>>> supervisor.fade_ticks, supervisor.reaction_
(500, None)
"""

from rehabbot.safety.faults import (
    EventSink,
    Fault,
    FaultKind,
    Priority,
    Reaction,
    SafetyEvent,
    StopCategory,
)
from rehabbot.safety.limits import JointLimits, SoftLimits
from rehabbot.safety.settings import DEFAULT_REACTIONS, SafetySettings
from rehabbot.safety.supervisor import BusErrorCounters, ResetResult, Supervisor
from rehabbot.safety.thermal import MOTOR_RATINGS, Actuator, MotorRating, ThermalModel

__all__ = [
    "DEFAULT_REACTIONS",
    "MOTOR_RATINGS",
    "Actuator",
    "BusErrorCounters",
    "EventSink",
    "Fault",
    "FaultKind",
    "JointLimits",
    "MotorRating",
    "Priority",
    "Reaction",
    "ResetResult",
    "SafetyEvent",
    "SafetySettings",
    "SoftLimits",
    "StopCategory",
    "Supervisor",
    "ThermalModel",
]
