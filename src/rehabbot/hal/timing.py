"""Timing statistics of the control loop: per-tick compute time and start lateness."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimingStats:
    """Percentiles of a series of durations, in microseconds.

    Attributes:
        count: number of ticks measured.
        p50_us, p99_us, p999_us, max_us: percentiles and maximum (µs).
        overruns: ticks whose duration exceeded the period.
    """

    count: int
    p50_us: float
    p99_us: float
    p999_us: float
    max_us: float
    overruns: int

    def as_dict(self) -> dict[str, float]:
        """Plain values for JSON."""
        return {
            "count": self.count, "p50_us": self.p50_us, "p99_us": self.p99_us,
            "p999_us": self.p999_us, "max_us": self.max_us, "overruns": self.overruns,
        }


class TickTimer:
    """Collects one duration per tick into a preallocated array (no allocation in the loop).

    >>> timer = TickTimer(capacity=4, period_s=0.001)
    >>> for d in (0.0001, 0.0002, 0.003):
    ...     timer.record(d)
    >>> s = timer.stats()
    >>> s.count, s.max_us, s.overruns
    (3, 3000.0, 1)
    """

    def __init__(self, capacity: int, period_s: float) -> None:
        """Room for ``capacity`` ticks; durations above ``period_s`` count as overruns."""
        self._durations_s = np.zeros(max(capacity, 1))
        self._count = 0
        self.period_s = period_s

    def record(self, duration_s: float) -> None:
        """Add one tick's duration (s); beyond capacity the oldest values are overwritten."""
        self._durations_s[self._count % self._durations_s.size] = duration_s
        self._count += 1

    def stats(self) -> TimingStats:
        """Percentiles of the recorded durations (µs)."""
        n = min(self._count, self._durations_s.size)
        if n == 0:
            return TimingStats(0, 0.0, 0.0, 0.0, 0.0, 0)
        us = self._durations_s[:n] * 1e6
        p50, p99, p999 = np.percentile(us, [50, 99, 99.9])
        return TimingStats(
            count=self._count,
            p50_us=float(p50),
            p99_us=float(p99),
            p999_us=float(p999),
            max_us=float(us.max()),
            overruns=int(np.count_nonzero(us > self.period_s * 1e6)),
        )
