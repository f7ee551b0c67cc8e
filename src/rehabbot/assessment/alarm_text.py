"""Safety events in the therapist's language: a short title, the cause, the action to take.

The supervisor's events name internal conditions (``fault:position_limit``) with values in SI
units (rad). The console's alarm banner, its after-session screen and the session report show
them through :func:`plain_event` instead: a title a therapist knows ("Right knee beyond the
robot's limit"), the cause with the values in the screen's units (deg, deg/s, °C, N·m) and what
to do next. The technical line stays available (the banner's *Technical details*, the report's
detail column) and the stored event is unchanged.

>>> e = plain_event("fault:position_limit", "hip_flexion_r", {"value": -0.520555, "limit": -0.52})
>>> e.title
"Right hip beyond the robot's limit"
>>> e.cause
'The right hip reached -29.8 deg; the robot allows -29.8 deg at most.'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rehabbot.safety.faults import UNITS

#: Joint kinds by the start of the joint name (OpenSim names).
_JOINT_WORDS = {"hip_flexion": "hip", "knee_angle": "knee", "ankle_angle": "ankle"}


def joint_words(joint: str | None) -> str:
    """``hip_flexion_r`` → ``right hip``; another name is kept; None → ``the robot``.

    >>> joint_words("knee_angle_l"), joint_words("wrist"), joint_words(None)
    ('left knee', 'wrist', 'the robot')
    """
    if not joint:
        return "the robot"
    kind, _, side = joint.rpartition("_")
    words = _JOINT_WORDS.get(kind)
    if words is None or side not in ("r", "l"):
        return joint
    return f"{'right' if side == 'r' else 'left'} {words}"


@dataclass(frozen=True)
class Unit:
    """How a kind's values are shown: unit text, factor from the value's own unit ``si``
    (the kind's unit in :data:`rehabbot.safety.faults.UNITS`), decimals."""

    text: str
    factor: float = 1.0
    digits: int = 0
    si: str = ""

    def show(self, value: float | None, unit: str | None = None) -> str:
        """``value`` (in ``unit``, default :attr:`si`) in this unit, e.g. ``-29.8 deg``; ``?``
        when unknown. A value in another unit than :attr:`si` is shown as it came, with its
        unit, never converted wrongly.

        >>> DEG.show(-0.5206), DEG.show(-30.0, "deg")
        ('-29.8 deg', '-30 deg')
        """
        if value is None or not math.isfinite(value):
            return "?"
        if unit is not None and unit != self.si:
            return f"{value:g} {unit}".strip()
        number = f"{value * self.factor:.{self.digits}f}"
        return f"{number} {self.text}".strip()


DEG = Unit("deg", math.degrees(1.0), 1, "rad")


@dataclass(frozen=True)
class AlarmKind:
    """What a fault or warning kind means for the therapist.

    ``title`` and ``cause`` are templates: ``{Joint}``/``{joint}`` (e.g. "Right knee"),
    ``{value}`` and ``{limit}`` (in ``unit``).
    """

    title: str
    cause: str
    action: str
    unit: Unit = Unit("")


_RESET = "then acknowledge (F2) and reset (F3)"
_NM = Unit("N·m", 1.0, 1, "N·m")
_ERRORS = Unit("errors", si="errors")
_MS = Unit("ms", 1000.0, 1, "s")
_ENGINEER = "Stop the session (F8); if it happens again, call the engineer."

#: Every fault kind of :class:`rehabbot.safety.faults.FaultKind`, by its value.
ALARMS: dict[str, AlarmKind] = {
    "estop": AlarmKind(
        "E-STOP pressed", "The emergency stop was pressed: the motors are off.",
        f"Make the patient safe, release E-STOP (Shift+F1), {_RESET}."),
    "position_limit": AlarmKind(
        "{Joint} beyond the robot's limit",
        "The {joint} reached {value}; the robot allows {limit} at most.",
        f"Support the leg and bring the {{joint}} back inside its range, {_RESET}.", DEG),
    "velocity_limit": AlarmKind(
        "{Joint} moved too fast", "The {joint} moved at {value}; the limit is {limit}.",
        f"Check the patient (spasm, stumble), {_RESET}.",
        Unit("deg/s", math.degrees(1.0), 0, "rad/s")),
    "rom_exceeded": AlarmKind(
        "{Joint} outside the patient's range",
        "The {joint} reached {value}; the protocol allows {limit} at most.",
        f"Bring the leg back into the range, {_RESET}. If it recurs, check the fitting.", DEG),
    "stale_feedback": AlarmKind(
        "No signal from the {joint} motor",
        "The {joint} motor sent no position for {value} (limit {limit}).",
        "Check the motor's cable and power. " + _ENGINEER, Unit("control ticks", si="ticks")),
    "frozen_sensor": AlarmKind(
        "{Joint} sensor stuck", "The {joint} angle stayed the same for {value} (limit {limit}).",
        "Check the sensor's cable. " + _ENGINEER, Unit("control ticks", si="ticks")),
    "position_jump": AlarmKind(
        "{Joint} angle jumped", "The {joint} angle jumped by {value} at once (limit {limit}).",
        "Check the sensor's cable. " + _ENGINEER, Unit("deg", math.degrees(1.0), 2, "rad")),
    "invalid_value": AlarmKind(
        "{Joint}: invalid value", "The {joint} sensor sent an invalid reading, or the "
        "controller asked the {joint} for an invalid command ({value}).",
        "Check the sensor's cable. " + _ENGINEER),
    "drive_fault": AlarmKind(
        "{Joint} motor reported a fault", "The {joint} motor reported fault code {value}.",
        "Note the code. " + _ENGINEER, Unit("", si="code")),
    "over_temperature": AlarmKind(
        "{Joint} motor too hot", "The {joint} motor's winding reached {value} (limit {limit}).",
        f"Let the motor cool down and lower the assistance, {_RESET}.", Unit("°C", si="°C")),
    "rms_torque": AlarmKind(
        "{Joint} motor overloaded", "The {joint} motor's mean torque is {value} (limit {limit}).",
        f"Lower the guidance or raise the body-weight support, {_RESET}.", _NM),
    "bus_errors": AlarmKind(
        "Communication errors with the motors", "{value} on the motor bus (limit {limit}).",
        "Check the motor cables and connectors. " + _ENGINEER, _ERRORS),
    "command_deadline": AlarmKind(
        "The control computer fell behind",
        "The motors ran a command {value} old (limit {limit}): this computer stalled.",
        f"Close other programs on this computer, {_RESET}. If it recurs, call the engineer "
        "(`rehabbot doctor`).", _MS),
    "standstill": AlarmKind(
        "{Joint} moved while held",
        "The {joint} moved {value} from the held position (tolerance {limit}).",
        f"Support the leg, {_RESET}.", DEG),
    "storage": AlarmKind(
        "Recording failed", "The session's data could not be written to the disk.",
        "Stop the session (F8) and check the free disk space; the data up to the failure is "
        "kept."),
    "time_reversed": AlarmKind(
        "The control clock ran backwards",
        "A reading came with a time {value} before the previous one: the motors were stopped.",
        "Stop the session (F8). " + _ENGINEER.split("; ")[1].capitalize(),
        Unit("ms", -1000.0, 1, "s")),
    "node_id_conflict": AlarmKind(
        "Two devices answer as the {joint} motor",
        "A second device answers on the {joint} motor's address ({value} extra this control "
        "tick): the robot cannot tell which reading is the {joint}'s.",
        "Stop the session (F8); the engineer must check the wiring and each motor's address "
        "(node id) before the next session.", Unit("replies", si="replies")),
}

#: Warnings (alarm conditions without a stop) that read differently from their fault.
WARNINGS: dict[str, AlarmKind] = {
    "over_temperature": AlarmKind(
        "{Joint} motor getting warm", "The {joint} motor's winding is at {value}; it stops at "
        "{limit}.", "Lower the assistance or pause (F6) to let it cool; clears by itself.",
        Unit("°C", si="°C")),
    "rms_torque": AlarmKind(
        "{Joint} motor near its load limit", "The {joint} motor's mean torque is {value}; it "
        "stops at {limit}.", "Lower the guidance or raise the body-weight support; clears by "
        "itself.", _NM),
    "bus_errors": AlarmKind(
        "Communication errors with the motors", "{value} on the motor bus; it stops at {limit}.",
        "Check the motor cables if it persists; clears by itself.", _ERRORS),
    "command_deadline": AlarmKind(
        "The control computer is running late",
        "The motors ran a command {value} old; they stop at {limit}.",
        "Close other programs on this computer; clears by itself. If it recurs, call the "
        "engineer (`rehabbot doctor`).", _MS),
    "rom_margin": AlarmKind(
        "{Joint} near the patient's range limit",
        "The {joint} is at {value}, close to the protocol's limit of {limit}.",
        "Watch the leg; the robot guides it back. Clears by itself.", DEG),
}

#: The unit of each fault kind's values, by the kind's name.
_KIND_UNITS = {kind.value: unit for kind, unit in UNITS.items()}

#: Stop categories (IEC 60204-1) in plain words.
STOPS = {0: "motors switched off at once", 1: "torque faded out", 2: "holding position"}


@dataclass(frozen=True)
class PlainEvent:
    """An event in the therapist's language.

    Attributes:
        title: short title (e.g. "Right knee beyond the robot's limit").
        cause: what happened, values in display units ("" if nothing to add).
        action: what to do ("" for events that need nothing).
    """

    title: str
    cause: str = ""
    action: str = ""

    @property
    def line(self) -> str:
        """Cause and action in one line."""
        return " ".join(part for part in (self.cause, self.action) if part)


def _fill(template: str, joint: str | None, unit: Unit, values: Mapping[str, float],
          given: str | None = None) -> str:
    words = joint_words(joint)
    limit = values.get("limit", values.get("fault_at"))
    text = template.format(joint=words, Joint=words[:1].upper() + words[1:],
                           value=unit.show(values.get("value"), given),
                           limit=unit.show(limit, given))
    return text[:1].upper() + text[1:]


def plain_event(kind: str, joint: str | None, values: Mapping[str, object],
                unit: str | None = None) -> PlainEvent:
    """A stored or live event (``fault:*``, ``warning:*``, ``stop:*``, ``estop:*``, ``reset``,
    ``console:*``, ...) in plain words; ``values`` are its numbers (``value``, ``limit`` or
    ``fault_at``, ``category``, ...) in ``unit``, by default the unit of the condition's fault
    kind (:data:`rehabbot.safety.faults.UNITS`), as the supervisor records them.

    >>> plain_event("stop:category_0", None, {"cause": "estop"}).title
    'Stop: motors switched off at once'
    >>> hot = {"value": 95, "fault_at": 110}
    >>> plain_event("warning:over_temperature", "knee_angle_r", hot).cause
    "The right knee motor's winding is at 95 °C; it stops at 110 °C."
    """
    head, _, condition = kind.partition(":")
    numbers = {k: float(v) for k, v in values.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    table = {"fault": ALARMS, "warning": WARNINGS | {k: v for k, v in ALARMS.items()
                                                    if k not in WARNINGS}}.get(head)
    if table is not None and condition in table:
        alarm = table[condition]
        if unit is None:
            unit = _KIND_UNITS.get(condition)
        title = _fill(alarm.title, joint, alarm.unit, numbers, unit)
        return PlainEvent(title if head == "fault" else f"Warning: {title}",
                          _fill(alarm.cause, joint, alarm.unit, numbers, unit),
                          _fill(alarm.action, joint, alarm.unit, numbers, unit))
    if head == "warning_cleared":
        cleared = WARNINGS.get(condition) or ALARMS.get(condition)
        what = _fill(cleared.title, joint, cleared.unit, numbers) if cleared else condition
        return PlainEvent(f"Warning over: {what}")
    if head == "stop" and condition.startswith("category_"):
        category = int(condition.removeprefix("category_"))
        cause = values.get("cause")
        return PlainEvent(f"Stop: {STOPS.get(category, condition)}",
                          f"Because of: {cause}." if cause else "")
    fixed = {
        "estop:pressed": PlainEvent("E-STOP pressed"),
        "estop:released": PlainEvent("E-STOP released",
                                     action=f"The alarm stays until acknowledged; {_RESET}."),
        "reset": PlainEvent("Alarms reset: the session continues"),
        "reset:refused": PlainEvent(
            "Reset refused: a cause is still present",
            "E-STOP is still pressed, or a joint is still beyond its limit.",
            "Release E-STOP, or support the leg back into its range, and reset again (F3)."),
    }
    if kind == "reset:refused" and values.get("blocking"):
        return PlainEvent("Reset refused: a cause is still present",
                          f"Still present: {blocking_words(str(values['blocking']))}.",
                          "Release E-STOP, or hold F7 to bring the legs back into their range "
                          "(or support them by hand), and reset again (F3).")
    if kind in fixed:
        return fixed[kind]
    recovery = {
        "recovery:started": PlainEvent(
            "Recovery: bringing the legs back", "Joints beyond their range are moved back "
            "inside, slowly.", "Keep holding (F7); reset (F3) once the legs are inside."),
        "recovery:ended": PlainEvent(
            "Recovery ended", f"Because of: {values.get('why', 'released')}; the motors are off."),
        "recovery:refused": PlainEvent(
            "Recovery refused", f"{values.get('reason', '')}."),
    }
    if kind in recovery:
        return recovery[kind]
    if kind == "loop_started":
        return PlainEvent("Control loop started")
    if kind == "phase_started":
        return PlainEvent(f"Phase started: {values.get('name', '')}".rstrip(": "))
    if head == "console":
        return PlainEvent(f"Console: {condition.replace('_', ' ')}")
    return PlainEvent(kind.replace("_", " "))


def blocking_words(blocking: str) -> str:
    """The causes that refused a reset (the supervisor's ``kind@joint; ...``) in plain words.

    >>> blocking_words("estop; position_limit@hip_flexion_r; rom_exceeded@knee_angle_l")
    "E-STOP pressed; right hip beyond the robot's limit; left knee outside the patient's range"
    """
    words = []
    for cause in filter(None, (part.strip() for part in blocking.split(";"))):
        condition, _, joint = cause.partition("@")
        alarm = ALARMS.get(condition)
        if alarm is None:
            words.append(cause)
            continue
        title = _fill(alarm.title, joint or None, alarm.unit, {})
        words.append(title if title.startswith("E-STOP") else title[:1].lower() + title[1:])
    return "; ".join(words)


_DESCRIPTION = re.compile(r"^(?P<kind>[a-z_]+)(?: on (?P<joint>\S+))? at (?P<t>-?[0-9.]+) s"
                          r"(?: \((?P<value>\S+) beyond (?P<limit>[^)\s]+)\))?")


def plain_fault_line(description: str) -> str:
    """A fault as a stored session summary keeps it (its ``Fault.describe`` line; summaries
    store no numbers of their own) as a short plain line; the text itself when it is not one.
    The console's live alarms never come here: they carry their numbers
    (``session_messages.FaultInfo``).

    >>> plain_fault_line("position_limit on hip_flexion_r at 16.489 s (-0.520555 beyond -0.52), "
    ...                  "stop category 0, high priority")
    "Right hip beyond the robot's limit (at 16.5 s, -29.8 deg)"
    """
    match = _DESCRIPTION.match(description)
    if match is None:
        return description
    kind, joint = match["kind"], match["joint"]
    values = ({"value": float(match["value"]), "limit": float(match["limit"])}
              if match["value"] is not None else {})
    plain = plain_event(f"fault:{kind}", joint, values)
    alarm = ALARMS.get(kind)
    shown = f", {alarm.unit.show(values['value'])}" if alarm and alarm.unit.text and values \
        else ""
    return f"{plain.title} (at {float(match['t']):.1f} s{shown})"
