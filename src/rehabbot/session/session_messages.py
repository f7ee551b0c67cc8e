"""What the console and the session process say to each other through their queues.

Console → session: :class:`Command` (parameter changes, pause, resume, stop, E-STOP, reset, the
patient display's feedback settings).
Session → console: :class:`Applied` (a command took effect, or was refused and why),
:class:`SafetyStatus` (the supervisor's latched faults and stop, whenever they change),
:class:`EventInfo` (each safety event as it happens: warnings, faults, stops, E-STOP, resets),
:class:`LiveParams` (the controller's parameters and bounds, at the start and at each phase),
:class:`PhaseConfidence` (whether the gait phase can be trusted, whenever that changes),
:class:`PatientInstruction` (what a robot assessment asks the patient to do, whenever it changes),
:class:`Finished` (the session is stored) and :class:`Failed` (it could not run).

Every message is a small frozen dataclass of plain values, cheap to pickle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from rehabbot.assessment.engagement import FeedbackSettings


class CommandKind(Enum):
    """What a console command asks for."""

    PARAMS = "params"
    """Change controller parameters (``values``: name → value, in the parameter's unit)."""
    PAUSE = "pause"
    """Fade the torque out (a category-1 stop a person asked for); the loop keeps running."""
    RESUME = "resume"
    """End a pause: a supervisor reset; the controller resumes from the present state."""
    STOP = "stop"
    """End the session: the torque fades out (category 1), then the session is stored."""
    ESTOP = "estop"
    """The E-STOP input (``pressed``): category-0 stop, latched until released and reset."""
    RESET = "reset"
    """Ask the supervisor to clear its latched faults (refused while a cause persists)."""
    RECOVER = "recover"
    """The hold-to-run recovery input (``pressed``: held, renewed while held; or released)."""
    FEEDBACK = "feedback"
    """The patient display's feedback changed (``feedback``); nothing reaches the loop: the
    session records it with the loop time, like a parameter change."""


@dataclass(frozen=True)
class Command:
    """One command from the console.

    Attributes:
        kind: what is asked.
        values: new parameter values for :attr:`CommandKind.PARAMS` (name → value).
        pressed: the E-STOP input for :attr:`CommandKind.ESTOP`.
        operator: who gave the command (recorded with it).
        feedback: the patient display's new settings for :attr:`CommandKind.FEEDBACK`.

    >>> Command(CommandKind.PARAMS, {"guidance_pct": 60.0}, operator="T. Muster").describe()
    'params guidance_pct=60'
    """

    kind: CommandKind
    values: dict[str, float] = field(default_factory=dict)
    pressed: bool = True
    operator: str = ""
    feedback: FeedbackSettings | None = None

    def describe(self) -> str:
        """One line for the event log."""
        if self.feedback is not None:
            return f"feedback {self.feedback.describe()}"
        if self.kind is CommandKind.PARAMS:
            return "params " + ", ".join(f"{k}={v:g}" for k, v in self.values.items())
        if self.kind is CommandKind.ESTOP:
            return "estop pressed" if self.pressed else "estop released"
        if self.kind is CommandKind.RECOVER:
            return "recover held" if self.pressed else "recover released"
        return str(self.kind.value)


@dataclass(frozen=True)
class Applied:
    """A command reached the loop (``accepted``) or was refused (``reason`` says why).

    Attributes:
        command: the command.
        t_s: loop time when it was handed to the loop (s); NaN before the loop started.
        accepted: whether it was passed on.
        reason: why it was refused (empty when accepted).
    """

    command: Command
    t_s: float
    accepted: bool
    reason: str = ""


@dataclass(frozen=True)
class FaultInfo:
    """A latched fault as the console shows it.

    Attributes:
        kind: the fault kind's name (e.g. ``"estop"``).
        joint: the joint, or None for the whole robot.
        t_s: loop time of detection (s).
        priority: IEC 60601-1-8 priority: ``"high"``, ``"medium"`` or ``"low"``.
        category: stop category 0, 1 or 2.
        text: the supervisor's one line (the console's technical details).
        value: the offending value, in ``unit``.
        limit: the limit it crossed, in ``unit``.
        unit: the unit of ``value`` and ``limit`` (``rehabbot.safety.faults.UNITS``: ``rad``,
            ``rad/s``, ``N·m``, ``°C``, ``s``, ``ticks``, ``errors``, ``code``; ``""`` for a
            flag such as E-STOP).

    >>> FaultInfo("position_limit", "hip_flexion_r", 16.489, "high", 0, "", -0.5206, -0.52,
    ...           "rad").values
    {'value': -0.5206, 'limit': -0.52}
    """

    kind: str
    joint: str | None
    t_s: float
    priority: str
    category: int
    text: str
    value: float
    limit: float
    unit: str

    @property
    def values(self) -> dict[str, float]:
        """``value`` and ``limit`` by name, as a stored fault event carries them."""
        return {"value": self.value, "limit": self.limit}


@dataclass(frozen=True)
class SafetyStatus:
    """The supervisor's state, sent whenever it changes.

    Attributes:
        faults: the latched faults, oldest first.
        stop_category: the stop in progress or done (None while running normally).
        torque_off: the torque is off (category 0, or a category-1 fade that ended).
        paused: a pause the console asked for is in progress.
    """

    faults: tuple[FaultInfo, ...] = ()
    stop_category: int | None = None
    torque_off: bool = False
    paused: bool = False


@dataclass(frozen=True)
class EventInfo:
    """One safety event, sent from the loop's thread as it happens.

    A ``warning:<kind>`` is an alarm condition without a stop (e.g. a motor's winding
    temperature above its warning level): it is not latched, needs no reset and ends with the
    matching ``warning_cleared:<kind>`` of the same joint.

    Attributes:
        t_s: loop time (s).
        kind: the event's kind (``warning:*``, ``warning_cleared:*``, ``fault:*``, ``stop:*``,
            ``estop:*``, ``reset``, ``reset:refused``).
        joint: the joint concerned, or None for the whole robot.
        priority: IEC 60601-1-8 priority (``"high"``, ``"medium"``, ``"low"``), or None if the
            event is not an alarm.
        category: the stop category involved, or None.
        text: the supervisor's one line (the console's technical details).
        values: the event's details as the supervisor gave them (numbers in SI units or the
            unit of their fault kind, ``rehabbot.safety.faults.UNITS``: e.g. a warning's
            ``value`` and the ``fault_at`` level; text such as a stop's ``cause``).

    >>> EventInfo(1.5, "warning:over_temperature", "knee_angle_r", "low", None, "").condition
    'over_temperature'
    """

    t_s: float
    kind: str
    joint: str | None
    priority: str | None
    category: int | None
    text: str
    values: Mapping[str, float | int | str] = field(default_factory=dict, hash=False)

    @property
    def condition(self) -> str:
        """The kind without its prefix (``warning:rms_torque`` → ``rms_torque``)."""
        return self.kind.partition(":")[2] or self.kind

    @property
    def is_warning(self) -> bool:
        """A warning begins."""
        return self.kind.startswith("warning:")

    @property
    def is_warning_cleared(self) -> bool:
        """A warning ends."""
        return self.kind.startswith("warning_cleared:")


@dataclass(frozen=True)
class ParamInfo:
    """A live-adjustable controller parameter as the controller defines it.

    Attributes:
        value: its value at the start.
        unit: its unit.
        low: smallest value the controller accepts.
        high: largest value the controller accepts.
        description: what it does.
    """

    value: float
    unit: str
    low: float
    high: float
    description: str


@dataclass(frozen=True)
class LiveParams:
    """The controller's live parameters, sent when the loop starts and whenever the protocol's
    phase (and with it the bounds) changes.

    Attributes:
        params: name → :class:`ParamInfo` (values now, bounds of the current phase).
        phase: the current protocol phase, e.g. ``"training (training)"``; empty if none.
    """

    params: dict[str, ParamInfo]
    phase: str = ""


#: Below this confidence (0..1) of the phase estimator the gait phase is uncertain.
LOW_PHASE_CONFIDENCE = 0.5


@dataclass(frozen=True)
class PhaseConfidence:
    """Whether the controller's gait phase can be trusted, sent whenever that changes.

    Attributes:
        uncertain: the phase estimator's confidence is below :data:`LOW_PHASE_CONFIDENCE`.
        confidence: its confidence when this was sent (0..1).
    """

    uncertain: bool
    confidence: float


@dataclass(frozen=True)
class PatientInstruction:
    """What a robot assessment asks the patient to do now, sent whenever it changes: the text
    the console and the patient display both show (and the simulated patient gets through the
    emulator's side channel as a task).

    Attributes:
        text: one sentence (:func:`~rehabbot.controllers.instruction_text.spoken`): "Relax",
            "Push your right thigh forward as hard as you can", ...; empty while no assessment
            runs (the walking).
        assessment: the running assessment's name (empty between and outside them).
    """

    text: str = ""
    assessment: str = ""


@dataclass(frozen=True)
class Finished:
    """The session ended and is stored.

    Attributes:
        session_id: its id in the store.
        status: ``completed``, ``aborted`` or ``faulted``.
        lateness_us: the loop's tick-start lateness (``count``, ``p50_us``, ``p99_us``,
            ``p999_us``, ``max_us``, ``overruns``); empty if not measured.
        dropped_events: :class:`EventInfo` replies not sent because the reply queue was full
            (they are stored with the session all the same).
    """

    session_id: int
    status: str
    lateness_us: dict[str, float] = field(default_factory=dict)
    dropped_events: int = 0


@dataclass(frozen=True)
class Failed:
    """The session could not run (or stopped by an error); ``error`` is one line for people."""

    error: str


Reply = (Applied | SafetyStatus | EventInfo | LiveParams | PhaseConfidence | PatientInstruction
         | Finished | Failed)
"""Every message the session process sends."""
