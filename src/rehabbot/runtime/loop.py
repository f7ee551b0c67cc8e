"""The control loop: one tick is read → check → control → limit → write → record.

Nothing else runs on the loop's thread: no disk I/O (the recorder copies into buffers that its own
thread writes), no plotting, no log formatting. Stop requests and parameter changes take effect at
a tick boundary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rehabbot.controllers.base import Controller
from rehabbot.hal.robot import Robot
from rehabbot.hal.types import FloatArray
from rehabbot.runtime.clock import Clock
from rehabbot.runtime.timing import TickTimer, TimingStats
from rehabbot.safety.supervisor import Fault, Supervisor


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
    """

    ticks: int
    duration_s: float
    faults: list[Fault] = field(default_factory=list)
    compute: TimingStats | None = None
    lateness: TimingStats | None = None
    stopped_early: bool = False
    wall_s: float = 0.0


class ControlLoop:
    """Runs a controller on a robot under a safety supervisor, paced by a clock.

    Args:
        robot: an active robot.
        supervisor: sees every state and every command.
        controller: computes the command.
        clock: paces the ticks (and steps the simulator in lockstep).
        recorder: receives one sample per tick (optional).
        contacts: returns ground-truth foot contact (right, left) where a simulator knows it.
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
    ) -> None:
        self.robot = robot
        self.supervisor = supervisor
        self.controller = controller
        self.clock = clock
        self.recorder = recorder
        self.contacts = contacts
        self._stop_requested = False
        self._pending_params: dict[str, float] = {}

    def request_stop(self) -> None:
        """Ask the loop to stop at the next tick boundary (safe to call from a signal handler)."""
        self._stop_requested = True

    def request_params(self, **params: float) -> None:
        """Queue controller parameter changes; applied at the next tick boundary."""
        self._pending_params.update(params)

    def run(
        self,
        duration_s: float,
        on_progress: Callable[[float], None] | None = None,
        progress_every_ticks: int = 250,
    ) -> LoopReport:
        """Run ticks for ``duration_s`` seconds of loop time (or until a stop is requested).

        ``on_progress(t_s)`` is called every ``progress_every_ticks`` ticks, between ticks.
        """
        n_ticks = round(duration_s / self.clock.period_s)
        compute = TickTimer(n_ticks, self.clock.period_s)
        lateness = TickTimer(n_ticks, self.clock.period_s)
        faults: list[Fault] = []
        robot, supervisor, controller = self.robot, self.supervisor, self.controller
        recorder, contacts = self.recorder, self.contacts
        no_contact = (False, False)
        perf = time.perf_counter
        tick = 0
        began = perf()
        controller.reset(robot.read())
        while tick < n_ticks and not self._stop_requested:
            if self._pending_params:
                params, self._pending_params = self._pending_params, {}
                controller.set_params(**params)
            start = perf()
            state = robot.read()
            new_faults = supervisor.check(state)
            if new_faults:
                faults += new_faults
            command = controller.update(state)
            command = supervisor.limit(command, state)
            robot.write(command)
            if recorder is not None:
                contact_r, contact_l = contacts() if contacts is not None else no_contact
                recorder.push(
                    tick, state.t_s, controller.phase_, contact_r, contact_l, state.q, state.qd,
                    state.tau, command.expected_torque(state.q, state.qd), command.q_ref,
                )
            compute.record(perf() - start)
            lateness.record(self.clock.wait_next_tick())
            tick += 1
            if on_progress is not None and tick % progress_every_ticks == 0:
                on_progress(tick * self.clock.period_s)
        return LoopReport(
            ticks=tick,
            duration_s=tick * self.clock.period_s,
            faults=faults,
            compute=compute.stats(),
            lateness=lateness.stats(),
            stopped_early=tick < n_ticks,
            wall_s=perf() - began,
        )
