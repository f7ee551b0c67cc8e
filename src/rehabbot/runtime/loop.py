"""The control loop: one tick is read → check → control → limit → write → record.

Nothing else runs on the loop's thread: no disk I/O (the recorder copies into buffers that its own
thread writes), no plotting, no log formatting. Stop requests, resets and parameter changes take
effect at a tick boundary.

Safety: every state passes :meth:`Supervisor.check` (with the lateness of the tick's start and the
bus's error counters) and every command :meth:`Supervisor.limit`, whose result is what is written,
so a stop begins on the tick its fault is detected. A recorder that can fail (one with an
``error``, as :class:`~rehabbot.storage.recorder.Recorder` has) is watched every tick: once its
writer has failed (e.g. a full disk) the supervisor sees a ``storage`` fault. The loop records the
faults and hands every safety event to an event sink; it never resets the supervisor on its own.
A stop request can ask for a category-1 fade (``request_stop(fade=True)``): the loop then runs
until the torque has faded to zero, and no reset undoes it. Requests come from other threads (a
console's command server, a signal handler) and act at the next tick boundary.
"""

from __future__ import annotations

import math
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rehabbot.controllers.base import Controller
from rehabbot.hal.robot import Robot
from rehabbot.hal.types import FloatArray
from rehabbot.runtime.clock import Clock
from rehabbot.runtime.timing import TickTimer, TimingStats
from rehabbot.safety.faults import EventSink, Fault, SafetyEvent, StopCategory
from rehabbot.safety.supervisor import BusErrorCounters, Supervisor


class SampleSink(Protocol):
    """Where the loop pushes one sample per tick (the recorder); must not block."""

    def push(
        self,
        tick: int,
        t_s: float,
        phase: float,
        contact_r: bool,
        contact_l: bool,
        q: FloatArray,
        qd: FloatArray,
        tau: FloatArray,
        tau_cmd: FloatArray,
        q_ref: FloatArray,
    ) -> None: ...


@runtime_checkable
class FallibleSink(SampleSink, Protocol):
    """A sample sink whose storing can fail; the loop reads :attr:`error` every tick."""

    @property
    def error(self) -> BaseException | None:
        """What stopped the storing (None while it works); reading it must not block."""
        ...


class TeeSink:
    """Pushes every sample to a primary sink (the recorder) and to a live one (a console's ring).

    A :class:`FallibleSink` primary keeps being watched through :attr:`error`; the live sink's
    failures are its own business (it must neither block nor raise).
    """

    def __init__(self, primary: SampleSink, live: SampleSink) -> None:
        self.primary = primary
        self.live = live

    @property
    def error(self) -> BaseException | None:
        """The primary sink's error (None if it cannot fail or works)."""
        return self.primary.error if isinstance(self.primary, FallibleSink) else None

    def push(
        self,
        tick: int,
        t_s: float,
        phase: float,
        contact_r: bool,
        contact_l: bool,
        q: FloatArray,
        qd: FloatArray,
        tau: FloatArray,
        tau_cmd: FloatArray,
        q_ref: FloatArray,
    ) -> None:
        """Push one sample to both sinks."""
        self.primary.push(tick, t_s, phase, contact_r, contact_l, q, qd, tau, tau_cmd, q_ref)
        self.live.push(tick, t_s, phase, contact_r, contact_l, q, qd, tau, tau_cmd, q_ref)


@dataclass
class LoopReport:
    """What a run of the loop did.

    Attributes:
        ticks: ticks run.
        duration_s: loop time covered (s).
        faults: faults latched during the run, in order.
        compute: per-tick compute time, read to record (µs statistics).
        lateness: per-tick start lateness against the clock (µs statistics; zeros in lockstep).
        stopped_early: a stop was requested before the planned end.
        wall_s: wall-clock time the run took (s), including the clock's waits (in lockstep
            simulation, the simulator's steps).
        events: the safety events of the run, in order (also handed to the event sink).
        reaction: the supervisor's stop at the end of the run (None: none in progress).
    """

    ticks: int
    duration_s: float
    faults: list[Fault] = field(default_factory=list)
    compute: TimingStats | None = None
    lateness: TimingStats | None = None
    stopped_early: bool = False
    wall_s: float = 0.0
    events: list[SafetyEvent] = field(default_factory=list)
    reaction: StopCategory | None = None


class ControlLoop:
    """Runs a controller on a robot under a safety supervisor, paced by a clock.

    Args:
        robot: an active robot.
        supervisor: sees every state and every command.
        controller: computes the command.
        clock: paces the ticks (and steps the simulator in lockstep).
        recorder: receives one sample per tick (optional).
        contacts: returns ground-truth foot contact (right, left) where a simulator knows it.
        events: receives every safety event on the loop's thread; must neither block nor raise.
        bus: the bus error counters the supervisor watches (default: the robot's own, when it
            has them, as :class:`~rehabbot.hal.robot.CanRobot` does).

    A ``recorder`` that is a :class:`FallibleSink` is watched: its ``error`` is a ``storage``
    fault of the supervisor from the tick it is seen on.

    Raises:
        ValueError: the supervisor's control period is not the clock's.
    """

    def __init__(
        self,
        robot: Robot,
        supervisor: Supervisor,
        controller: Controller,
        clock: Clock,
        *,
        recorder: SampleSink | None = None,
        contacts: Callable[[], tuple[bool, bool]] | None = None,
        events: EventSink | None = None,
        bus: BusErrorCounters | None = None,
    ) -> None:
        if not math.isclose(supervisor.period_s, clock.period_s):
            raise ValueError(
                f"the supervisor's period ({supervisor.period_s:g} s) is not the clock's "
                f"({clock.period_s:g} s): its monitors would count time wrong"
            )
        self.robot = robot
        self.supervisor = supervisor
        self.controller = controller
        self.clock = clock
        self.recorder = recorder
        self.contacts = contacts
        self.events = events
        if bus is None and isinstance(robot, BusErrorCounters):
            bus = robot
        self.bus = bus
        self._stop_requested = False
        self._fade_requested = False
        self._reset_requested = False
        self._pending_params: queue.SimpleQueue[dict[str, float]] = queue.SimpleQueue()

    def request_stop(self, fade: bool = False) -> None:
        """Ask the loop to stop (safe to call from a signal handler).

        Without ``fade`` the loop ends at the next tick boundary, leaving the drives with the
        last command until the robot is deactivated. With ``fade`` the supervisor starts a
        category-1 stop at the next tick and the loop runs on until the torque has faded to zero
        (however long the run was planned for); an immediate stop request still ends it at once.
        """
        if fade:
            self._fade_requested = True
        else:
            self._stop_requested = True

    def request_reset(self) -> None:
        """Ask for a supervisor reset at the next tick boundary (a person's decision).

        If the supervisor accepts it the controller restarts from that tick's state; either way
        the outcome is an event (``reset`` or ``reset:refused``). A stop a person asked for
        (``request_stop(fade=True)``) is final: a reset during its fade is refused
        (``reset:refused`` with cause ``stopping``).
        """
        self._reset_requested = True

    def request_params(self, **params: float) -> None:
        """Queue controller parameter changes; applied at the next tick boundary, in the order
        asked (safe from any thread: nothing asked is lost)."""
        self._pending_params.put(params)

    def run(
        self,
        duration_s: float,
        on_progress: Callable[[float], None] | None = None,
        progress_every_ticks: int = 250,
    ) -> LoopReport:
        """Run ticks for ``duration_s`` seconds of loop time (or until a stop is requested, or
        until a requested fade has ended, however long that takes).

        ``on_progress(t_s)`` is called every ``progress_every_ticks`` ticks, between ticks. The
        report lists the faults and safety events of the run.
        """
        n_ticks = round(duration_s / self.clock.period_s)
        compute = TickTimer(n_ticks, self.clock.period_s)
        lateness = TickTimer(n_ticks, self.clock.period_s)
        faults: list[Fault] = []
        events: list[SafetyEvent] = []
        robot, supervisor, controller = self.robot, self.supervisor, self.controller
        recorder, contacts, sink, bus = self.recorder, self.contacts, self.events, self.bus
        fallible = recorder if isinstance(recorder, FallibleSink) else None
        no_contact = (False, False)
        perf = time.perf_counter
        tick = 0
        late_s = 0.0
        fading = False
        began = perf()
        controller.reset(robot.read())
        while (tick < n_ticks or fading) and not self._stop_requested:
            while not self._pending_params.empty():
                controller.set_params(**self._pending_params.get_nowait())
            if self._fade_requested:
                self._fade_requested = False
                if not fading:
                    supervisor.request_stop(StopCategory.FADE)
                    fading = True
            start = perf()
            state = robot.read()
            if self._reset_requested:
                self._reset_requested = False
                if fading:  # a person asked the session to stop: a reset does not undo that
                    refused = SafetyEvent(state.t_s, "reset:refused", values={"cause": "stopping"})
                    events.append(refused)
                    if sink is not None:
                        sink(refused)
                elif supervisor.reset().accepted:
                    controller.reset(state)
            recording = fallible is None or fallible.error is None
            new_faults = supervisor.check(state, lateness_s=late_s, bus=bus, recording=recording)
            if new_faults:
                faults += new_faults
            command = controller.update(state)
            command = supervisor.limit(command, state)
            robot.write(command)
            if supervisor.has_events:
                for event in supervisor.take_events():
                    events.append(event)
                    if sink is not None:
                        sink(event)
            if recorder is not None:
                contact_r, contact_l = contacts() if contacts is not None else no_contact
                recorder.push(
                    tick, state.t_s, controller.phase_, contact_r, contact_l, state.q, state.qd,
                    state.tau, command.expected_torque(state.q, state.qd), command.q_ref,
                )
            compute.record(perf() - start)
            late_s = self.clock.wait_next_tick()
            lateness.record(late_s)
            tick += 1
            if fading and supervisor.torque_off_:
                break
            if on_progress is not None and tick % progress_every_ticks == 0:
                on_progress(tick * self.clock.period_s)
        return LoopReport(
            ticks=tick,
            duration_s=tick * self.clock.period_s,
            faults=faults,
            compute=compute.stats(),
            lateness=lateness.stats(),
            stopped_early=tick < n_ticks or fading,
            wall_s=perf() - began,
            events=events,
            reaction=supervisor.reaction_,
        )
