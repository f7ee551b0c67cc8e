"""Stateful monitors of the supervisor, each updated once per tick in place.

The supervisor's joints are few (four on a leg exoskeleton) and a numpy call costs more than the
comparisons it runs on them, so the monitors work in Python floats over the joints: lists made
once, overwritten every tick, and joints flagged as the bits of an ``int`` (bit ``i``: joint
``i``). Each monitor keeps what it measured in an attribute ending in ``_`` so that the supervisor
can report the offending value when a fault is raised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class RmsWindow:
    """Root mean square of per-joint values over a sliding window of ``length`` ticks.

    Ticks before the first update count as zeros. The running sum of squares is recomputed
    exactly once per window (one numpy sum over the window's squares), so rounding errors do not
    accumulate.

    >>> rms = RmsWindow(n_joints=1, length=4)
    >>> [rms.update([2.0])[0] for _ in range(5)]
    [1.0, 1.4142135623730951, 1.7320508075688772, 2.0, 2.0]
    """

    def __init__(self, n_joints: int, length: int) -> None:
        if length < 1:
            raise ValueError("RmsWindow: length must be at least one tick")
        self.length = length
        self._squares = np.zeros((length, n_joints))
        self._rows = list(self._squares)  # a view of each tick's row, made once
        self._sum = [0.0] * n_joints
        self._pos = 0
        self.rms_ = [0.0] * n_joints

    def update(self, values: Sequence[float]) -> list[float]:
        """Add this tick's values; return the RMS over the window (the monitor's own list)."""
        row, total, rms, length = self._rows[self._pos], self._sum, self.rms_, self.length
        for i, value in enumerate(values):
            square = value * value
            total[i] = total[i] - row.item(i) + square
            row[i] = square
        self._pos += 1
        if self._pos == length:
            self._pos = 0
            total[:] = np.sum(self._squares, axis=0).tolist()
        for i, square_sum in enumerate(total):
            rms[i] = math.sqrt((0.0 if square_sum < 0.0 else square_sum) / length)
        return rms


class WindowCount:
    """Sum of per-tick counts over a sliding window of ``length`` ticks.

    >>> window = WindowCount(length=2)
    >>> [window.add(n) for n in (3, 0, 1, 0, 0)]
    [3, 3, 1, 1, 0]
    """

    def __init__(self, length: int) -> None:
        if length < 1:
            raise ValueError("WindowCount: length must be at least one tick")
        self._ring = [0] * length
        self._pos = 0
        self.total_ = 0

    def add(self, count: int) -> int:
        """Add this tick's count; return the sum over the window."""
        pos = self._pos
        self.total_ += count - self._ring[pos]
        self._ring[pos] = count
        self._pos = (pos + 1) % len(self._ring)
        return self.total_


class PositionJumpMonitor:
    """A new position reading farther from the previous one than the joint could have moved.

    The bound is ``velocity limit × period × margin × ticks since the previous reading`` (ticks of
    the clock's grid, so that ticks a wall clock skipped count); only readings that arrived this
    tick count (a repeated old value is no reading). A reading answers the previous tick's
    command, so it may be as old as that tick: after ticks were skipped the next reading may
    cover the skipped time as well, and the bound of each reading also grants the ticks skipped
    before the previous update.

    Args:
        velocity_max_rad_s: per-joint velocity limits (rad/s).
        period_s: control period (s).
        margin: factor on the bound, > 1 to tolerate quantization and timing jitter.

    >>> monitor = PositionJumpMonitor([1.0], period_s=0.5, margin=2.0)  # 1 rad per tick
    >>> monitor.update(1, [0.0], [True]), monitor.update(2, [0.5], [True])
    (0, 0)
    >>> monitor.update(3, [2.0], [True]), monitor.jump_rad_, monitor.bound_rad_
    (1, [1.5], [1.0])
    """

    def __init__(
        self, velocity_max_rad_s: Sequence[float], period_s: float, margin: float
    ) -> None:
        n = len(velocity_max_rad_s)
        self._step_rad = (np.asarray(velocity_max_rad_s) * period_s * margin).tolist()
        self._previous = [0.0] * n
        self._previous_tick = [0] * n
        self._seen = [False] * n
        self._last_tick = 0
        self._skipped_before = 0
        self.jump_rad_ = [0.0] * n
        self.bound_rad_ = [0.0] * n

    def update(self, tick: int, q: Sequence[float], arrived: Sequence[bool]) -> int:
        """The joints (bit ``i``: joint ``i``) whose reading that ``arrived`` at ``tick`` jumped;
        remember the readings."""
        skipped_before = self._skipped_before
        self._skipped_before = max(tick - self._last_tick - 1, 0)
        self._last_tick = tick
        previous, previous_tick, seen = self._previous, self._previous_tick, self._seen
        jumped = 0
        for i, step in enumerate(self._step_rad):
            bound = step * (tick - previous_tick[i] + skipped_before)
            jump = abs(q[i] - previous[i])
            self.bound_rad_[i] = bound
            self.jump_rad_[i] = jump
            if arrived[i]:
                if jump > bound and seen[i]:
                    jumped |= 1 << i
                previous[i] = q[i]
                previous_tick[i] = tick
                seen[i] = True
        return jumped


class FrozenSensorMonitor:
    """The same position reading ``ticks`` times in a row while torque is commanded.

    Only readings that arrived count: a tick without a new reading neither counts nor breaks the
    series.

    Args:
        n_joints: number of joints.
        ticks: how many identical readings in a row are a frozen sensor.
        min_torque_nm: commanded torques below this (N·m) do not count (a joint at rest).

    >>> monitor = FrozenSensorMonitor(n_joints=1, ticks=2, min_torque_nm=5.0)
    >>> [monitor.update([0.1], [True], [10.0]) for _ in range(3)], monitor.count_
    ([0, 0, 1], [2])
    """

    def __init__(self, n_joints: int, ticks: int, min_torque_nm: float) -> None:
        self.ticks = ticks
        self.min_torque_nm = min_torque_nm
        self._previous = [math.nan] * n_joints
        self.count_ = [0] * n_joints

    def update(
        self, q: Sequence[float], arrived: Sequence[bool], torque_nm: Sequence[float]
    ) -> int:
        """Count the readings that ``arrived`` equal to the previous one under commanded torque
        ``torque_nm`` (N·m); the joints (bit ``i``: joint ``i``) whose count reached ``ticks``."""
        previous, count, ticks = self._previous, self.count_, self.ticks
        frozen = 0
        for i, reading in enumerate(q):
            if arrived[i]:
                if reading == previous[i] and abs(torque_nm[i]) >= self.min_torque_nm:
                    count[i] += 1
                else:
                    count[i] = 0
                previous[i] = reading
            if count[i] >= ticks:
                frozen |= 1 << i
        return frozen

    def clear(self) -> None:
        """Forget the counts (the torque was taken away, so nothing pushes the joints)."""
        count = self.count_
        for i in range(len(count)):
            count[i] = 0
