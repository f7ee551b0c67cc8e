"""The loop's clocks: the loop owns time (DESIGN.md, "Time").

* :class:`LockstepClock` (simulation): each tick advances simulated time by one period by stepping
  the simulator, as fast as the machine allows; deterministic. The drives' own time is simulated
  time, so a slow tick delays the physics with it and harms nothing.
* :class:`WallClock` (hardware, or a simulator paced to the wall clock): paces ticks to the wall
  clock by sleep-then-spin and measures how late each tick starts. **Skip, don't burst**: after a
  stall it goes on at the tick of the present period on its grid and counts the ticks it skipped
  (:attr:`Clock.skipped_ticks`) instead of replaying them back to back; :meth:`Clock.now` then
  jumps by the skipped time, so controllers that integrate ``state.t_s`` differences see the real
  elapsed time. The drives' own time is the wall clock: a simulator it paces is stepped once per
  period of wall time, the periods of a stall included (the drives execute their last command
  meanwhile, as real drives do), and before the loop writes its next command
  (:meth:`Clock.catch_up`), so that an emulated drive's watchdog sees the stall as a real one does.

Both clocks call :attr:`Clock.idle` between ticks (the wall clock only when at least
:data:`IDLE_MIN_S` of the period is left): the loop puts its young-generation garbage collection
there (:class:`~rehabbot.runtime.gc_guard.LoopGc`).
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

#: The slack (s) a wall-clock period must have left for :attr:`Clock.idle` to run in it.
IDLE_MIN_S = 0.0004
#: How long before each deadline a wall clock stops sleeping and spins (s): on the normal
#: scheduler, whose wake-ups come 0.1 ms late at the median (the timer slack) and later in the
#: tail, and at a real-time policy (``SCHED_FIFO``/``SCHED_RR``), whose wake-ups come 33 µs late
#: at the median and 70-85 µs at p99 (measured on the development machine, docs/realtime.md).
#: Spinning is CPU time at the loop's priority: at a real-time policy it counts against the
#: kernel's real-time throttle (``kernel.sched_rt_runtime_us``, 95 % of each second by default),
#: beyond which the kernel stops the loop for the rest of the second.
SPIN_S = 0.0002
REALTIME_SPIN_S = 0.0001


def _spin_for_this_thread() -> float:
    """:data:`REALTIME_SPIN_S` if the calling thread runs at a real-time policy, else
    :data:`SPIN_S`."""
    policy = os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else None
    realtime = policy is not None and policy in (os.SCHED_FIFO, os.SCHED_RR)
    return REALTIME_SPIN_S if realtime else SPIN_S


class Clock(ABC):
    """Time as the control loop sees it.

    Attributes:
        period_s: tick period (s).
        ticks: index of the present tick on the clock's grid (skipped ticks included).
        skipped_ticks: ticks the clock skipped after stalls (never run).
        idle: called between ticks with slack left (see the module's docstring), or None.
    """

    def __init__(self, period_s: float) -> None:
        """A clock ticking every ``period_s`` seconds."""
        if not 0.0 < period_s <= 1.0:
            raise ValueError(f"period_s must be in (0, 1] s, got {period_s}")
        self.period_s = period_s
        self.ticks = 0
        self.skipped_ticks = 0
        self.idle: Callable[[], object] | None = None

    def restart(self) -> None:
        """Make now the start of tick 0."""
        self.ticks = 0
        self.skipped_ticks = 0

    def now(self) -> float:
        """Time of the current tick (s) since the clock started: ``ticks * period_s``."""
        return self.ticks * self.period_s

    def drive_time(self) -> float:
        """The drives' own time now (s since the clock started): simulated time in lockstep."""
        return self.ticks * self.period_s

    def catch_up(self) -> None:  # noqa: B027 (a hook: nothing to do in lockstep)
        """Bring a simulator the clock paces up to the drives' time (before the loop writes)."""

    def resync(self) -> None:  # noqa: B027 (a hook: nothing to do in lockstep)
        """Let the present tick start now: the time since it began was not the loop's (e.g.
        set-up before a run), so it is neither skipped nor caught up on."""

    @abstractmethod
    def wait_next_tick(self) -> float:
        """Block until the next tick is due; return how late it starts (s, 0 in lockstep)."""


class LockstepClock(Clock):
    """Simulated time: waiting for the next tick means stepping the simulator once.

    >>> steps = []
    >>> clock = LockstepClock(0.001, step=lambda: steps.append(1))
    >>> clock.wait_next_tick(), clock.now(), len(steps)
    (0.0, 0.001, 1)
    """

    def __init__(self, period_s: float, step: Callable[[], None]) -> None:
        """``step`` advances the simulation by ``period_s``."""
        super().__init__(period_s)
        self.step = step

    def wait_next_tick(self) -> float:
        """Step the simulator, then :attr:`idle`; never late."""
        self.step()
        self.ticks += 1
        if self.idle is not None:
            self.idle()
        return 0.0


class WallClock(Clock):
    """Wall-clock pacing: sleep until shortly before the deadline, then spin to it; skip after
    a stall.

    Args:
        period_s: tick period (s).
        spin_s: how long before each deadline to stop sleeping and spin (s); None: chosen by
            the scheduling policy of the thread that starts the grid (:meth:`restart`,
            :meth:`resync`), :data:`REALTIME_SPIN_S` at a real-time policy, else
            :data:`SPIN_S`.
        step: a simulator paced to the wall clock (advances it one period), or None.
        max_catch_up_s: the longest stall (s) a simulator is stepped through afterwards; beyond
            it the simulated world stands still for the rest of the stall.

    Until the first :meth:`restart` or :meth:`resync` the grid is not set (bring-up: the drives
    are being enabled while the host still configures itself): each wait steps the simulator
    once and nothing is skipped or caught up.

    >>> clock = WallClock(0.001)
    >>> clock.restart()
    >>> time.sleep(0.0105)  # a stall of ten periods and a half
    >>> late = clock.wait_next_tick()  # tick 10, due 0.5 ms ago, runs late; 1-9 are skipped
    >>> clock.ticks >= 10, clock.skipped_ticks >= 9, clock.skipped_ticks == clock.ticks - 1
    (True, True, True)
    """

    def __init__(
        self,
        period_s: float,
        spin_s: float | None = None,
        step: Callable[[], None] | None = None,
        max_catch_up_s: float = 0.5,
    ) -> None:
        super().__init__(period_s)
        self._spin_given = spin_s
        self.spin_s = SPIN_S if spin_s is None else spin_s
        self.step = step
        self.max_catch_up = max(1, round(max_catch_up_s / period_s))
        self.steps = 0
        self._start = time.perf_counter()
        self._paced = False

    def restart(self) -> None:
        """Make now the start of tick 0."""
        super().restart()
        self.steps = 0
        self._start = time.perf_counter()
        self._paced = True
        self._choose_spin()

    def _choose_spin(self) -> None:
        if self._spin_given is None:
            self.spin_s = _spin_for_this_thread()

    def resync(self) -> None:
        """Go to the tick due now without counting the ticks in between as skipped and without
        stepping a simulator through them (the world stood still); the grid stays on the wall
        clock. A clock never started starts its grid with the present tick."""
        if not self._paced:
            self._start = time.perf_counter() - self.ticks * self.period_s
            self._paced = True
        self._choose_spin()
        due = int((time.perf_counter() - self._start) / self.period_s)
        self.ticks = max(self.ticks, due)
        self.steps = max(self.steps, self.ticks)

    def drive_time(self) -> float:
        """Wall time (s) since the clock started."""
        return time.perf_counter() - self._start

    def catch_up(self) -> None:
        """Step the simulator (if any) once for every period of wall time it is behind, as
        drives run on during a stall of the host (at most ``max_catch_up_s`` worth)."""
        if self.step is None or not self._paced:
            return
        due = int((time.perf_counter() - self._start) / self.period_s)
        behind = due - self.steps
        if behind > self.max_catch_up:
            self.steps += behind - self.max_catch_up
            behind = self.max_catch_up
        for _ in range(behind):
            self.step()
            self.steps += 1

    def wait_next_tick(self) -> float:
        """Step the simulator if any; go to the next tick on the grid that is not over yet
        (counting the skipped ones), run :attr:`idle` if there is slack, sleep-then-spin to the
        tick's deadline; return its lateness (s, less than a period plus a step)."""
        start, period = self._start, self.period_s
        following = self.ticks + 1
        if self.step is not None:
            self.step()
            self.steps += 1
            self.catch_up()
            following = max(following, self.steps)
        elif self._paced:
            due = int((time.perf_counter() - start) / period)
            following = max(following, due)
        self.skipped_ticks += following - self.ticks - 1
        self.ticks = following
        deadline = start + following * period
        remaining = deadline - time.perf_counter()
        if self.idle is not None and remaining > IDLE_MIN_S:
            self.idle()
            remaining = deadline - time.perf_counter()
        if remaining > self.spin_s:
            time.sleep(remaining - self.spin_s)
        while (now := time.perf_counter()) < deadline:
            pass
        return now - deadline
