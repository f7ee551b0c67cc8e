"""The control loop: one tick is read → check → control → limit → write → record.

Nothing else runs on the loop's thread: no disk I/O (the recorder copies into buffers that its own
thread writes), no plotting, no log formatting. Stop requests, resets and parameter changes take
effect at a tick boundary.

Safety: every state passes :meth:`Supervisor.check` (with the age of the command the drives execute
and the bus's error counters) and every command :meth:`Supervisor.limit`, whose result is what is
written, so a stop begins on the tick its fault is detected. A recorder that can fail (one with an
``error``, as :class:`~rehabbot.storage.recorder.Recorder` has) is watched every tick: once its
writer has failed (e.g. a full disk) the supervisor sees a ``storage`` fault. The loop records the
faults and hands every safety event to an event sink; it never resets the supervisor on its own. A
stop request can ask for a category-1 fade (``request_stop(fade=True)``): the loop then runs until
the torque has faded to zero, and no reset undoes it. Requests come from other threads (a console's
command server, a signal handler) and act at the next tick boundary.

Deadlines where the hazard is (DESIGN.md): the loop measures the age of the command the drives
execute in the drives' own time (:meth:`Clock.drive_time`: the wall clock on hardware and for a
simulator paced to it, simulated time in lockstep): at every check, the time since the last write,
or the age the previous command reached when the last write replaced it if that was more (a stall
between the check and the write is seen on the next tick). The supervisor faults beyond the
robot's ``command_deadline_s``; late ticks under it are statistics (:attr:`LoopReport.command_age`,
:attr:`LoopReport.lateness`, :attr:`LoopReport.skipped_ticks`) and, when frequent, a warning.
Before each write the clock brings a simulator it paces up to the wall clock
(:meth:`Clock.catch_up`), so that emulated drives see a stall as real ones would.

The loop keeps the highest real-time priority to itself (other threads of its process go one
step below it at the start of a run, :func:`~rehabbot.runtime.realtime.rank_threads_below_this_one`)
and shortens the GIL's switch interval while it runs
(:data:`~rehabbot.runtime.realtime.LOOP_SWITCH_INTERVAL_S`), so that a thread holding the GIL hands
it back within a fraction of a period. No collection of the cyclic garbage collector runs inside a
tick: the run is wrapped in :class:`~rehabbot.runtime.gc_guard.LoopGc` (heap frozen, automatic
collection off, the young generation collected in the clock's slack between ticks, every collection
counted in :attr:`LoopReport.gc`).

Where a tick ran long is seen from outside the loop: a :class:`~rehabbot.runtime.stall.StallWatch`
thread watches the loop's count of ticks run (:attr:`ControlLoop.ticks_run`, the only thing a
tick adds for it) during a run and, when it stands still for ``stall_threshold_s``, takes the
loop thread's stack (:attr:`LoopReport.stalls`).
"""

from __future__ import annotations

import math
import queue
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from rehabbot.controllers.base import Controller
from rehabbot.hal.robot import Robot
from rehabbot.hal.timing import TickTimer, TimingStats
from rehabbot.hal.types import FloatArray, JointCommand, JointState
from rehabbot.runtime.clock import Clock
from rehabbot.runtime.gc_guard import GcStats, LoopGc
from rehabbot.runtime.realtime import (
    LOOP_SWITCH_INTERVAL_S,
    loop_priority,
    rank_threads_below_this_one,
    restore_threads,
)
from rehabbot.runtime.stall import STALL_THRESHOLD_S, Stall, StallWatch
from rehabbot.safety.faults import EventSink, Fault, SafetyEvent, StopCategory
from rehabbot.safety.supervisor import BusErrorCounters, Supervisor
from rehabbot.storage.samples import Sample


class SampleSink(Protocol):
    """Where the loop pushes one sample per tick (the recorder, a live ring); must not block."""

    def push(self, sample: Sample) -> None:
        """Take one tick's :class:`~rehabbot.storage.samples.Sample`; read it now and copy what
        is kept (the loop repoints its fields next tick)."""
        ...


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
        # decided once: a runtime protocol check walks the protocol's members (~10 µs), and
        # the loop reads ``error`` every tick
        self._fallible = primary if isinstance(primary, FallibleSink) else None

    @property
    def error(self) -> BaseException | None:
        """The primary sink's error (None if it cannot fail or works)."""
        return None if self._fallible is None else self._fallible.error

    def push(self, sample: Sample) -> None:
        """Push one sample to both sinks."""
        self.primary.push(sample)
        self.live.push(sample)


@dataclass
class LoopReport:
    """What a run of the loop did.

    Attributes:
        ticks: ticks run.
        duration_s: loop time covered (s), skipped ticks included.
        faults: faults latched during the run, in order.
        compute: per-tick compute time, read to record (µs statistics; after a stall, with a
            simulator paced to the wall clock, it includes the simulator's catch-up steps).
        lateness: per-tick start lateness against the clock (µs statistics; zeros in lockstep).
        command_age: per tick, the age the drives' command reached when the tick's write
            replaced it, in the drives' own time (µs statistics; one period when on time).
        skipped_ticks: ticks the clock skipped after stalls (never run).
        gc: the garbage collections during the run.
        stopped_early: a stop was requested before the planned end.
        wall_s: wall-clock time the run took (s), including the clock's waits (in lockstep
            simulation, the simulator's steps).
        events: the safety events of the run, in order (also handed to the event sink).
        reaction: the supervisor's stop at the end of the run (None: none in progress).
        cpu_share: CPU time of the loop's thread over the run's wall time (0..1; at a real-time
            policy, what the kernel's real-time throttle counts: docs/realtime.md).
        stalls: the ticks that ran longer than the stall threshold, with where the loop's
            thread was (:class:`~rehabbot.runtime.stall.Stall`).
    """

    ticks: int
    duration_s: float
    faults: list[Fault] = field(default_factory=list)
    compute: TimingStats | None = None
    lateness: TimingStats | None = None
    command_age: TimingStats | None = None
    skipped_ticks: int = 0
    gc: GcStats | None = None
    stopped_early: bool = False
    wall_s: float = 0.0
    events: list[SafetyEvent] = field(default_factory=list)
    reaction: StopCategory | None = None
    cpu_share: float = 0.0
    stalls: list[Stall] = field(default_factory=list)

    def timing(self) -> dict[str, object]:
        """The run's timing for a session's summary: lateness, command age (µs statistics),
        skipped ticks and garbage collections."""
        return {
            "lateness_us": None if self.lateness is None else self.lateness.as_dict(),
            "command_age_us": None if self.command_age is None else self.command_age.as_dict(),
            "skipped_ticks": self.skipped_ticks,
            "gc": None if self.gc is None else self.gc.as_dict(),
            "stalls": len(self.stalls),
            "cpu_share": self.cpu_share,
        }


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
        stall_threshold_s: a tick not over after this long (s) is a stall, recorded with the
            loop thread's stack in :attr:`LoopReport.stalls`; None: no watch.

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
        stall_threshold_s: float | None = STALL_THRESHOLD_S,
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
        self.stall_threshold_s = stall_threshold_s
        #: Ticks the present (or last) run has run so far (read by the stall watch).
        self.ticks_run = 0
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
        """Run ``duration_s`` seconds' worth of ticks (or until a stop is requested, or until a
        requested fade has ended, however long that takes).

        Ticks a wall clock skips after a stall are not run and do not count: the run then lasts
        longer than ``duration_s`` by the skipped time, and a controller that counts its ticks
        (e.g. a protocol's phases) sees every tick of the run. ``on_progress(t_s)`` (loop time,
        skipped ticks included) is called about every ``progress_every_ticks`` ticks, between
        ticks. The report lists the faults and safety events of the run.
        """
        with loop_priority():  # the FIFO priority for the loop only, not what follows
            clock = self.clock
            ranked = rank_threads_below_this_one()
            watch = None  # started with the first tick, stopped after the last (by _run)
            if self.stall_threshold_s is not None:
                watch = StallWatch(lambda: self.ticks_run, self.stall_threshold_s)
            switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(LOOP_SWITCH_INTERVAL_S)
            try:
                with LoopGc() as guard:
                    clock.idle = guard.idle
                    try:
                        report = self._run(duration_s, on_progress, progress_every_ticks, watch)
                    finally:
                        clock.idle = None
            finally:
                sys.setswitchinterval(switch_interval)
                restore_threads(ranked)
                if watch is not None:
                    watch.stop()
            report.gc = guard.stats()
            report.stalls = [] if watch is None else watch.stalls
            return report

    def _run(
        self,
        duration_s: float,
        on_progress: Callable[[float], None] | None,
        progress_every_ticks: int,
        watch: StallWatch | None,
    ) -> LoopReport:
        clock = self.clock
        period = clock.period_s
        n_ticks = round(duration_s / period)
        compute = TickTimer(n_ticks, period)
        lateness = TickTimer(n_ticks, period)
        ages = TickTimer(n_ticks, self.supervisor.command_deadline_s)
        faults: list[Fault] = []
        events: list[SafetyEvent] = []
        robot, supervisor, controller = self.robot, self.supervisor, self.controller
        recorder, contacts, sink, bus = self.recorder, self.contacts, self.events, self.bus
        fallible = recorder if isinstance(recorder, FallibleSink) else None
        no_contact = (False, False)
        perf, drive_time, catch_up = time.perf_counter, clock.drive_time, clock.catch_up
        tau_cmd = np.zeros(robot.n_joints)
        work = np.zeros(robot.n_joints)
        sample = Sample.zeros(robot.n_joints)  # repointed every tick, never reallocated
        sample.tau_cmd = tau_cmd
        first_tick, skipped_before = clock.ticks, clock.skipped_ticks
        next_progress = progress_every_ticks
        tick = self.ticks_run = 0
        fading = False
        began, began_cpu = perf(), time.thread_time()
        controller.reset(robot.read())
        clock.resync()  # what came before the run (set-up, the heap's freeze) was no stall
        written_at = drive_time()
        replaced_age = 0.0
        if watch is not None:
            watch.start()
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
            age = max(drive_time() - written_at, replaced_age)
            supervisor.check(state, command_age_s=age, bus=bus, recording=recording)
            command = controller.update(state)
            command = supervisor.limit(command, state)
            catch_up()
            robot.write(command)
            now = drive_time()
            replaced_age = now - written_at
            written_at = now
            ages.record(replaced_age)
            if supervisor.has_events:  # every latched fault, by check or limit, is an event
                faults += supervisor.take_faults()
                for event in supervisor.take_events():
                    events.append(event)
                    if sink is not None:
                        sink(event)
            if recorder is not None:
                sample.contact_r, sample.contact_l = (
                    contacts() if contacts is not None else no_contact)
                _expected_torque(command, state, tau_cmd, work)
                sample.tick, sample.t_s, sample.phase = tick, state.t_s, controller.phase_
                sample.q, sample.qd, sample.tau = state.q, state.qd, state.tau
                sample.q_ref = command.q_ref
                recorder.push(sample)
            compute.record(perf() - start)
            lateness.record(clock.wait_next_tick())
            tick += 1
            self.ticks_run = tick
            if fading and supervisor.torque_off_:
                break
            if on_progress is not None and tick >= next_progress:
                next_progress += progress_every_ticks
                on_progress((clock.ticks - first_tick) * period)
        if watch is not None:  # the ticks are over: what follows is no stall of theirs
            watch.stop()
        run_ticks = clock.ticks - first_tick
        wall_s = perf() - began
        return LoopReport(
            ticks=tick,
            duration_s=run_ticks * period,
            faults=faults,
            compute=compute.stats(),
            lateness=lateness.stats(),
            command_age=ages.stats(),
            skipped_ticks=clock.skipped_ticks - skipped_before,
            stopped_early=tick < n_ticks or fading,
            wall_s=wall_s,
            events=events,
            reaction=supervisor.reaction_,
            cpu_share=(time.thread_time() - began_cpu) / wall_s if wall_s > 0.0 else 0.0,
        )


def _expected_torque(
    command: JointCommand, state: JointState, out: FloatArray, work: FloatArray
) -> None:
    """``out`` = the torque (N·m) ``command`` produces at ``state``, in place (what
    :meth:`JointCommand.expected_torque` computes, without allocating)."""
    np.subtract(command.q_ref, state.q, out=out)
    out *= command.kp
    np.subtract(command.qd_ref, state.qd, out=work)
    work *= command.kd
    out += work
    out += command.tau_ff
