"""Garbage collection kept out of the tick (DESIGN.md, "Time"; issue 13).

CPython's cyclic garbage collector runs whenever enough container objects were allocated, in
whatever code happens to allocate then: on the loop's thread that is inside a tick. A collection
of the oldest generation walks every object the process holds (pybullet's world, numpy, pydantic
models, the whole session): milliseconds, every few seconds. :class:`LoopGc` takes it out of the
tick:

* on entry everything alive is **frozen** (``gc.freeze``: moved to a permanent generation that no
  collection walks again; it takes no time, unlike a collection first, which on a session's heap
  takes tens of milliseconds after the robot's drives were enabled), and the automatic collector
  is switched off;
* between ticks, in the slack the clock leaves (:attr:`~rehabbot.runtime.clock.Clock.idle`),
  :meth:`LoopGc.idle` collects the young generation when it has filled up (generation 1 every
  tenth time, as CPython itself would); the oldest generation is never collected while the loop
  runs (what survives two young collections stays until the loop ends: a bounded amount over a
  session, since the loop allocates nothing that lives);
* every collection of the process is counted and timed through ``gc.callbacks`` (the loop's own,
  and any another thread might force), so that a report shows whether any ran outside the slack;
* on exit the frozen objects are unfrozen and the collector is restored as it was.

>>> with LoopGc() as guard:
...     guard.idle()
>>> guard.stats().collections_in_slack >= 0
True
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

#: Young-generation collections between two generation-1 collections (CPython's default).
GENERATION_1_EVERY = 10


@dataclass(frozen=True)
class GcStats:
    """The garbage collections of one run of the loop.

    Attributes:
        frozen_objects: objects frozen at the start (never walked again during the run).
        by_generation: collections of generation 0, 1 and 2 during the run (anyone's).
        collections_in_slack: those :meth:`LoopGc.idle` ran between ticks.
        max_us: the longest collection (µs).
        total_ms: time spent collecting (ms).
    """

    frozen_objects: int
    by_generation: tuple[int, int, int]
    collections_in_slack: int
    max_us: float
    total_ms: float

    @property
    def outside_slack(self) -> int:
        """Collections that did not run in the loop's slack (another thread forced them)."""
        return sum(self.by_generation) - self.collections_in_slack

    def as_dict(self) -> dict[str, float | int | list[int]]:
        """Plain values for JSON."""
        return {"frozen_objects": self.frozen_objects, "by_generation": list(self.by_generation),
                "in_slack": self.collections_in_slack, "outside_slack": self.outside_slack,
                "max_us": self.max_us, "total_ms": self.total_ms}


class LoopGc:
    """Freezes the heap and switches automatic collection off for a run of the loop; collects
    the young generation only when :meth:`idle` is called (between ticks).

    Args:
        threshold: young-generation allocations (net container objects) that make
            :meth:`idle` collect; CPython's own threshold is 700 (``gc.get_threshold()[0]``).
    """

    def __init__(self, threshold: int | None = None) -> None:
        self.threshold = gc.get_threshold()[0] if threshold is None else threshold
        self._was_enabled = True
        self._counts = [0, 0, 0]
        self._in_slack = 0
        self._young = 0
        self._started = 0.0
        self._max_s = 0.0
        self._total_s = 0.0
        self._frozen = 0

    def __enter__(self) -> Self:
        """Freeze, switch the automatic collector off, start counting."""
        self._was_enabled = gc.isenabled()
        gc.freeze()
        self._frozen = gc.get_freeze_count()
        gc.disable()
        gc.callbacks.append(self._callback)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Stop counting, unfreeze, restore the automatic collector."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()

    def idle(self) -> None:
        """Between ticks: collect the young generation if it has filled up (generation 1 every
        :data:`GENERATION_1_EVERY` times)."""
        if gc.get_count()[0] < self.threshold:
            return
        self._young += 1
        self._in_slack += 1
        gc.collect(1 if self._young % GENERATION_1_EVERY == 0 else 0)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        self._counts[info["generation"]] += 1
        self._total_s += took
        self._max_s = max(self._max_s, took)

    def stats(self) -> GcStats:
        """The collections counted so far."""
        return GcStats(self._frozen, (self._counts[0], self._counts[1], self._counts[2]),
                       self._in_slack, self._max_s * 1e6, self._total_s * 1e3)
