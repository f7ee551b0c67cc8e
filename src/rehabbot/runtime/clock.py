"""The loop's clocks: the loop owns time (DESIGN.md, "Time").

* :class:`LockstepClock` (simulation): each tick advances simulated time by one period by stepping
  the simulator, as fast as the machine allows; deterministic.
* :class:`WallClock` (hardware): paces ticks to the wall clock by sleep-then-spin and measures how
  late each tick starts.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable


class Clock(ABC):
    """Time as the control loop sees it."""

    def __init__(self, period_s: float) -> None:
        """A clock ticking every ``period_s`` seconds."""
        if not 0.0 < period_s <= 1.0:
            raise ValueError(f"period_s must be in (0, 1] s, got {period_s}")
        self.period_s = period_s
        self.ticks = 0

    def restart(self) -> None:
        """Make now the start of tick 0."""
        self.ticks = 0

    def now(self) -> float:
        """Time of the current tick (s) since the clock started: ``ticks * period_s``."""
        return self.ticks * self.period_s

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
        """Step the simulator; never late."""
        self.step()
        self.ticks += 1
        return 0.0


class WallClock(Clock):
    """Wall-clock pacing: sleep until shortly before the deadline, then spin to it.

    Args:
        period_s: tick period (s).
        spin_s: how long before each deadline to stop sleeping and spin (s).
        step: called once per tick before waiting (a simulator run in real time), or None.
    """

    def __init__(
        self, period_s: float, spin_s: float = 0.0002, step: Callable[[], None] | None = None
    ) -> None:
        super().__init__(period_s)
        self.spin_s = spin_s
        self.step = step
        self._start = time.perf_counter()

    def restart(self) -> None:
        """Make now the start of tick 0."""
        super().restart()
        self._start = time.perf_counter()

    def wait_next_tick(self) -> float:
        """Step the simulator if any, sleep-then-spin to the next deadline; return lateness (s)."""
        if self.step is not None:
            self.step()
        self.ticks += 1
        deadline = self._start + self.ticks * self.period_s
        remaining = deadline - time.perf_counter()
        if remaining > self.spin_s:
            time.sleep(remaining - self.spin_s)
        while (now := time.perf_counter()) < deadline:
            pass
        return now - deadline
