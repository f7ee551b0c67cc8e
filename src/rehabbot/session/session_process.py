"""The session process: runs one session for the console, isolated from the window.

:func:`session_main` is the target of a ``spawn`` process. It runs a
:class:`~rehabbot.session.runner.SessionRunner` with a :class:`~rehabbot.runtime.ring.RingWriter`
as the loop's live sink (the loop's thread only copies each tick into shared memory, never
waits), and a :class:`CommandServer` on a thread of its own that

* reads console commands from a queue and hands them to the running loop (``request_params``,
  ``request_reset``, ``request_stop``, the supervisor's ``estop`` and ``request_stop``), each of
  which takes effect at the next tick boundary;
* checks every parameter change against the controller's own bounds on a copy of the controller
  first, so a bad value is refused with a reason instead of reaching the loop;
* sends the supervisor's latched faults and stop whenever they change (:class:`SafetyStatus`),
  the controller's parameters with the current phase's bounds (:class:`LiveParams`), and
  whether its gait phase is uncertain (:class:`PhaseConfidence`, the phase estimator's
  confidence below :data:`~rehabbot.session.session_messages.LOW_PHASE_CONFIDENCE`), and what
  a running robot assessment asks of the patient (:class:`PatientInstruction`, the running
  step's words, :mod:`rehabbot.controllers.instruction_text`);
* watches the console process: if it is gone (crashed, killed), the session stops safely with a
  torque fade and is stored as usual;
* hands commands to whichever loop runs: the battery of robot assessments
  (:mod:`rehabbot.session.battery`) and the walking run in control loops under the supervisor,
  so an E-STOP press during an assessment turns the torque off and skips the remaining ones;
  before the first loop commands are kept for its start, after the last they are refused.

Every safety event (warnings and their end, faults, stops, E-STOP, resets) also goes to the
console as it happens: the runner hands it to an :class:`EventForwarder` on the loop's thread,
which puts an :class:`EventInfo` on the reply queue without waiting (a full queue drops the reply
and counts it in :attr:`Finished.dropped_events`; the event is stored with the session anyway).

After the session, every console command (who, what, when in loop time, accepted or why not) is
stored as an event of the session (kind ``console:<command>``), beside the safety events the
runner stores.
"""

from __future__ import annotations

import copy
import logging
import math
import multiprocessing
import queue
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Protocol

from rehabbot.controllers.instruction_text import RELAX_TEXT, spoken
from rehabbot.controllers.procedures import AssessmentBattery
from rehabbot.errors import ConfigurationError, RehabbotError
from rehabbot.protocols.phased import PhasedController
from rehabbot.runtime.loop import ControlLoop
from rehabbot.runtime.realtime import RealtimeSettings, apply_realtime
from rehabbot.runtime.ring import RingSpec, RingWriter
from rehabbot.safety.faults import Fault, SafetyEvent, StopCategory
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.session.session_messages import (
    LOW_PHASE_CONFIDENCE,
    Applied,
    Command,
    CommandKind,
    EventInfo,
    Failed,
    FaultInfo,
    Finished,
    LiveParams,
    ParamInfo,
    PatientInstruction,
    PhaseConfidence,
    Reply,
    SafetyStatus,
)
from rehabbot.storage.store import SessionStore

#: How often the command thread looks at the queue, the supervisor and the console (s).
POLL_S = 0.02

#: Failed rounds in a row after which the command thread stops the session with a fade.
MAX_FAILED_ROUNDS = 3

#: Why a RESUME is refused while a fault (beyond the pause's own stop) is latched.
RESUME_REFUSED = "a fault is latched: acknowledge and reset it (F2, F3)"

#: Why a command is not applied when no loop runs (after the session's loops have ended).
NOT_UNDER_LOOP = "not applied: no robot motion is running under the loop (assessment phase)"

_log = logging.getLogger(__name__)


class CommandPathError(RehabbotError):
    """A round of the command thread failed (the thread logs it and goes on)."""


class CommandSource(Protocol):
    """Where commands come from (a ``multiprocessing`` queue)."""

    def get(self, block: bool = True, timeout: float | None = None) -> Command: ...


class ReplySink(Protocol):
    """Where replies go (a ``multiprocessing`` queue)."""

    def put(self, obj: Reply, block: bool = True, timeout: float | None = None) -> None: ...

    def put_nowait(self, obj: Reply) -> None: ...


class ConsoleAlive(Protocol):
    """Says whether the console process still runs."""

    def __call__(self) -> bool: ...


class EventForwarder:
    """An event sink for the loop's thread: each safety event as an :class:`EventInfo` reply.

    It never waits: a full reply queue drops the reply and counts it in :attr:`dropped`.

    Args:
        replies: the reply queue.
    """

    def __init__(self, replies: ReplySink) -> None:
        self.replies = replies
        self.dropped = 0
        """Replies dropped because the queue was full."""

    def __call__(self, event: SafetyEvent) -> None:
        """Forward ``event`` (called on the loop's thread)."""
        try:
            self.replies.put_nowait(event_info(event))
        except queue.Full:
            self.dropped += 1


def event_info(event: SafetyEvent) -> EventInfo:
    """The console's view of a safety event, with one line for people.

    >>> from rehabbot.safety.faults import Priority
    >>> event_info(SafetyEvent(2.5, "warning:over_temperature", "knee_angle_r",
    ...                        {"value": 95.0, "fault_at": 110.0}, None, Priority.LOW)).text
    'warning: over_temperature on knee_angle_r at 2.500 s (value 95, fault at 110)'
    """
    head, _, condition = event.kind.partition(":")
    where = f" on {event.joint}" if event.joint is not None else ""
    details = ", ".join(
        f"{key.replace('_', ' ')} {value:g}" if isinstance(value, float | int)
        else f"{key.replace('_', ' ')} {value}"
        for key, value in event.values.items())
    text = (f"{head.replace('_', ' ')}: {condition}" if condition else head) + where
    text += f" at {event.t_s:.3f} s" + (f" ({details})" if details else "")
    return EventInfo(event.t_s, event.kind, event.joint,
                     None if event.priority is None else event.priority.value,
                     None if event.category is None else int(event.category), text,
                     dict(event.values))


def fault_info(fault: Fault) -> FaultInfo:
    """The console's view of a latched fault: its numbers with their unit, and one line.

    >>> from rehabbot.safety.faults import FaultKind
    >>> info = fault_info(Fault(FaultKind.POSITION_LIMIT, "hip_flexion_r", 16.489, -0.520555,
    ...                         -0.52))
    >>> info.value, info.limit, info.unit
    (-0.520555, -0.52, 'rad')
    """
    return FaultInfo(fault.kind.value, fault.joint, fault.t_s, fault.priority.value,
                     int(fault.category), fault.describe(), fault.value, fault.limit, fault.unit)


class _Restart:
    """A reset handed to the loop, its outcome not yet seen."""

    def __init__(self, command: Command, tick: int) -> None:
        self.command = command
        self.tick = tick


class CommandServer:
    """Hands console commands to a runner's loop and reports the supervisor's state.

    Args:
        runner: the session's runner (its loop appears once the session has started).
        replies: where :class:`Applied`, :class:`SafetyStatus` and :class:`LiveParams` go.
        console_alive: returns False once the console process is gone.

    Attributes:
        log: every command handled, as its :class:`Applied` reply, oldest first.
    """

    def __init__(self, runner: SessionRunner, replies: ReplySink,
                 console_alive: ConsoleAlive) -> None:
        self.runner = runner
        self.replies = replies
        self.console_alive = console_alive
        self.log: list[Applied] = []
        self._waiting: list[Command] = []  # commands that came before the loop started
        self._status = SafetyStatus()
        self._paused = False
        self._restart: _Restart | None = None
        self._recover_held = False
        self._started = False
        self._params_shape: tuple[str, dict[str, tuple[float, float]]] | None = None
        self._uncertain = False
        self._instruction = PatientInstruction()
        self._orphaned = False

    # -- the thread -------------------------------------------------------------------------

    def serve(self, commands: CommandSource, done: threading.Event) -> None:
        """Until ``done`` is set: take commands, watch the console and the supervisor.

        An error in one round is logged and the thread goes on (E-STOP, Stop and the console
        check must outlive it); after :data:`MAX_FAILED_ROUNDS` failed rounds in a row the
        session is stopped with a torque fade: it never walks on without its command path.
        """
        failed_rounds = 0
        while not done.is_set():
            try:
                command: Command | None = commands.get(timeout=POLL_S)
            except queue.Empty:
                command = None
            try:
                self.step(command)
            except CommandPathError:
                failed_rounds += 1
                if failed_rounds == MAX_FAILED_ROUNDS:
                    _log.error("the command path failed %d rounds in a row: stopping the "
                               "session with a torque fade", failed_rounds)
                    self.runner.request_stop()
            else:
                failed_rounds = 0

    def step(self, command: Command | None) -> None:
        """One round: handle ``command`` (if any), then look at the console and the loop.

        Every part runs even if an earlier one fails (a failed command is replied as refused,
        with the error as its reason).

        Raises:
            CommandPathError: some part of the round failed (each failure is logged).
        """
        errors: list[str] = []
        self._guarded(self._watch_console, errors)
        if command is not None:
            self._guarded(partial(self._take, command), errors, command)
        loop = self.runner.loop
        if loop is not None:
            if not self._started:
                self._started = True
                waiting, self._waiting = self._waiting, []
                for early in waiting:
                    self._guarded(partial(self.handle, early, loop), errors, early)
            for poll in (self._publish_params, self._finish_restart, self._publish_status,
                         self._publish_confidence, self._publish_instruction):
                self._guarded(partial(poll, loop), errors)
        if errors:
            raise CommandPathError("; ".join(errors))

    def _guarded(self, part: Callable[[], None], errors: list[str],
                 command: Command | None = None) -> None:
        """Run ``part``; an error is logged, added to ``errors`` and replied for ``command``."""
        try:
            part()
        except Exception as exc:  # the command path outlives any one error (E-STOP after it)
            error = f"{type(exc).__name__}: {exc}"
            _log.exception("console command path: %s", error)
            errors.append(error)
            if command is not None:
                loop = self.runner.loop
                self._reply(Applied(command, math.nan if loop is None else loop.clock.now(),
                                    False, f"not applied: the session process failed ({error})"))

    def _watch_console(self) -> None:
        if not self._orphaned and not self.console_alive():
            self._orphaned = True
            self.runner.request_stop()  # category-1 fade, then the session is stored

    def _take(self, command: Command) -> None:
        """Hand ``command`` to the loop; before it starts keep it (an E-STOP press also stops
        the session at once); after it has ended refuse it, saying why."""
        runner = self.runner
        loop = runner.loop
        if command.kind is CommandKind.STOP or (loop is not None and not runner.walked):
            self.handle(command, loop)
            return
        if command.kind is CommandKind.ESTOP and command.pressed:
            runner.request_stop()  # no assessment phase is left to run, no walking either
            self._reply(Applied(command, math.nan if loop is None else loop.clock.now(), False,
                                f"{NOT_UNDER_LOOP}; the session stops after the current "
                                "assessment"))
        elif loop is not None:
            self._reply(Applied(command, loop.clock.now(), False, NOT_UNDER_LOOP))
        if loop is None:
            self._waiting.append(command)  # handled at the loop's start (a press latches there)

    # -- commands ---------------------------------------------------------------------------

    def handle(self, command: Command, loop: ControlLoop | None) -> None:
        """Hand one command to the loop (``loop`` is None only for STOP before the start)."""
        t_s = math.nan if loop is None else loop.clock.now()
        reason = ""
        kind = command.kind
        if kind is CommandKind.STOP:
            self.runner.request_stop()
        elif loop is None:  # pragma: no cover - step() keeps other commands until the start
            reason = "the session has not started"
        elif kind is CommandKind.ESTOP:
            loop.supervisor.estop(command.pressed)
        elif kind is CommandKind.RECOVER:
            loop.supervisor.recover(command.pressed)
            if command.pressed == self._recover_held:
                return  # a renewal of the hold: not replied, not logged
            self._recover_held = command.pressed
        elif kind is CommandKind.PARAMS:
            reason = _refusal(loop, command.values)
            if not reason:
                loop.request_params(**command.values)
        elif kind is CommandKind.FEEDBACK:  # only recorded (the log), with the loop time
            reason = "" if command.feedback is not None else "no feedback settings given"
        elif kind is CommandKind.PAUSE:
            if loop.supervisor.reaction_ is not None:
                reason = "the robot is already stopped"
            else:
                loop.supervisor.request_stop(StopCategory.FADE)
                self._paused = True
        elif kind is CommandKind.RESUME and loop.supervisor.faults_:
            reason = RESUME_REFUSED  # a resume never clears a fault: a person resets it
        elif self._restart is not None:  # RESUME or RESET
            reason = "a reset is already under way"
        else:
            self._begin_restart(command, loop)
            return  # replied once the loop has taken the reset
        self._reply(Applied(command, t_s, not reason, reason))

    def _begin_restart(self, command: Command, loop: ControlLoop) -> None:
        """Ask for a supervisor reset; its outcome is replied once the loop has taken it."""
        loop.request_reset()
        self._restart = _Restart(command, loop.clock.ticks)

    def _finish_restart(self, loop: ControlLoop) -> None:
        restart = self._restart
        if restart is None or loop.clock.ticks < restart.tick + 2:
            return
        self._restart = None
        supervisor = loop.supervisor
        accepted = supervisor.reaction_ is None
        if accepted:
            self._paused = False
            reason = ""
        else:
            latched = ", ".join(
                f.kind.value + (f" on {f.joint}" if f.joint else "") for f in supervisor.faults_)
            reason = ("reset refused: a cause is still present (E-STOP pressed, or a joint still "
                      f"beyond its limit); latched: {latched or 'none'}")
        self._reply(Applied(restart.command, loop.clock.now(), accepted, reason))

    def _reply(self, applied: Applied) -> None:
        self.log.append(applied)
        self.replies.put(applied)

    # -- status -----------------------------------------------------------------------------

    def _publish_params(self, loop: ControlLoop) -> None:
        """Send the parameters at the start and whenever the phase or a bound changes."""
        params = _params(loop)
        controller = loop.controller
        phase = (f"{controller.phase.name} ({controller.phase.kind})"
                 if isinstance(controller, PhasedController) else "")
        shape = (phase, {n: (p.low, p.high) for n, p in params.items()})
        if shape != self._params_shape:
            self._params_shape = shape
            self.replies.put(LiveParams(params, phase))

    def _publish_status(self, loop: ControlLoop) -> None:
        supervisor = loop.supervisor
        faults = tuple(
fault_info(f) for f in tuple(supervisor.faults_)
        )
        reaction = supervisor.reaction_
        status = SafetyStatus(faults, None if reaction is None else int(reaction),
                              supervisor.torque_off_, self._paused)
        if status != self._status:
            self._status = status
            self.replies.put(status)


    def _publish_confidence(self, loop: ControlLoop) -> None:
        confidence = _phase_confidence(loop)
        uncertain = confidence < LOW_PHASE_CONFIDENCE
        if uncertain != self._uncertain:
            self._uncertain = uncertain
            self.replies.put(PhaseConfidence(uncertain, confidence))

    def _publish_instruction(self, loop: ControlLoop) -> None:
        instruction = _instruction(loop)
        if instruction != self._instruction:
            self._instruction = instruction
            self.replies.put(instruction)


def _instruction(loop: ControlLoop) -> PatientInstruction:
    """What the running robot assessment asks of the patient: the step in progress's words, or
    "Relax" between the battery's steps (its ramp-in included); nothing outside a battery."""
    battery = loop.controller
    if not isinstance(battery, AssessmentBattery) or battery.finished_:
        return PatientInstruction()
    marks = battery.marks_
    if marks and math.isnan(marks[-1].end_t_s):
        return PatientInstruction(spoken(marks[-1].step), marks[-1].assessment)
    return PatientInstruction(RELAX_TEXT)


def _phase_confidence(loop: ControlLoop) -> float:
    """The confidence (0..1) of the running controller's phase estimator; 1 for a controller
    without one (its phase is a clock)."""
    controller = loop.controller
    if isinstance(controller, PhasedController):
        controller = controller.current_
    source = getattr(controller, "phase_source_", None)
    return 1.0 if source is None else float(source.estimator.confidence_)


def _params(loop: ControlLoop) -> dict[str, ParamInfo]:
    """The controller's live parameters with their values now."""
    controller = loop.controller
    # the loop may switch controllers (a phase boundary) between the two reads: take each once
    # and show only the names both have (the next round shows the new phase's whole set)
    specs = controller.param_specs
    values = controller.get_params()
    return {name: ParamInfo(values[name], spec.unit, spec.low, spec.high, spec.description)
            for name, spec in specs.items() if name in values}


def _refusal(loop: ControlLoop, values: dict[str, float]) -> str:
    """Why the controller would refuse ``values`` (empty: it accepts them); checked on a copy so
    that nothing reaches the loop that would raise there."""
    trial = copy.copy(loop.controller)
    try:
        trial.set_params(**values)
    except ConfigurationError as exc:
        return str(exc)
    return ""


def _parent_alive() -> bool:
    parent = multiprocessing.parent_process()
    return parent is None or parent.is_alive()


def session_main(request: SessionRequest, ring: RingSpec, commands: CommandSource,
                 replies: ReplySink, realtime: RealtimeSettings | None = None) -> None:
    """Run one session for the console (the target of its ``spawn`` process).

    ``realtime`` (SCHED_FIFO priority, CPUs, memory locking) applies to this process only, not
    to the console; a setting the OS refuses is a warning on stderr, as for ``rehabbot session
    run``. Ctrl-C in the terminal is left to the console, which stops the session through a
    command.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if realtime is not None:
        for refused in apply_realtime(realtime).refused:
            print(f"warning: real-time setting not applied: {refused}", file=sys.stderr)
    writer = RingWriter(ring)
    forwarder = EventForwarder(replies)
    runner = SessionRunner(replace(request, live=writer, events=forwarder))
    server = CommandServer(runner, replies, _parent_alive)
    done = threading.Event()
    thread = threading.Thread(target=server.serve, args=(commands, done), name="commands",
                              daemon=True)
    thread.start()
    try:
        result = runner.run()
    except RehabbotError as exc:
        replies.put(Failed(str(exc)))
    except Exception as exc:
        replies.put(Failed(f"{type(exc).__name__}: {exc}"))
    else:
        done.set()
        thread.join()
        _store_log(request, result.session_id, server.log)
        lateness = result.loop.lateness
        replies.put(Finished(result.session_id, result.status,
                             {} if lateness is None else lateness.as_dict(), forwarder.dropped))
    finally:
        done.set()
        thread.join()
        writer.close()


def _store_log(request: SessionRequest, session_id: int, log: list[Applied]) -> None:
    """Store the console's commands as events of the session."""
    with SessionStore.open(request.store_path) as store:
        for applied in log:
            command = applied.command
            store.add_event(
                session_id, 0.0 if math.isnan(applied.t_s) else applied.t_s,
                f"console:{command.kind.value}", None,
                {"operator": command.operator, "command": command.describe(),
                 "accepted": applied.accepted, "reason": applied.reason,
                 **{f"value:{k}": v for k, v in command.values.items()},
                 **(command.feedback.as_detail() if command.feedback is not None else {})},
            )
