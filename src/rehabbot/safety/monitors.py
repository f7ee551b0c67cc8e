"""Stateful monitors of the supervisor, each updated once per tick in place (no allocation).

Each monitor keeps what it measured in an attribute ending in ``_`` so that the supervisor can
report the offending value when a fault is raised.
"""

from __future__ import annotations

import numpy as np

from rehabbot.hal.types import BoolArray, FloatArray, IntArray


class RmsWindow:
    """Root mean square of per-joint values over a sliding window of ``length`` ticks.

    Ticks before the first update count as zeros. The running sum of squares is recomputed
    exactly once per window, so rounding errors do not accumulate.

    >>> rms = RmsWindow(n_joints=1, length=4)
    >>> [float(rms.update(np.array([2.0]))[0]) for _ in range(5)]
    [1.0, 1.4142135623730951, 1.7320508075688772, 2.0, 2.0]
    """

    def __init__(self, n_joints: int, length: int) -> None:
        if length < 1:
            raise ValueError("RmsWindow: length must be at least one tick")
        self.length = length
        self._squares = np.zeros((length, n_joints))
        self._sum = np.zeros(n_joints)
        self._pos = 0
        self.rms_ = np.zeros(n_joints)

    def update(self, values: FloatArray) -> FloatArray:
        """Add this tick's values; return the RMS over the window (the monitor's own array)."""
        row = self._squares[self._pos]
        self._sum -= row
        np.multiply(values, values, out=row)
        self._sum += row
        self._pos += 1
        if self._pos == self.length:
            self._pos = 0
            np.sum(self._squares, axis=0, out=self._sum)
        np.maximum(self._sum, 0.0, out=self.rms_)
        self.rms_ /= self.length
        np.sqrt(self.rms_, out=self.rms_)
        return self.rms_


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
    """

    def __init__(self, velocity_max_rad_s: FloatArray, period_s: float, margin: float) -> None:
        n = velocity_max_rad_s.shape[0]
        self._step_rad = velocity_max_rad_s * period_s * margin
        self._previous = np.zeros(n)
        self._previous_tick = np.zeros(n, dtype=np.int64)
        self._seen = np.zeros(n, dtype=bool)
        self._gap = np.zeros(n, dtype=np.int64)
        self._last_tick = 0
        self._skipped_before = 0
        self.jump_rad_ = np.zeros(n)
        self.bound_rad_ = np.zeros(n)

    def update(self, tick: int, q: FloatArray, arrived: BoolArray, out: BoolArray) -> None:
        """Set ``out`` where a reading that ``arrived`` at ``tick`` jumped; remember them."""
        np.subtract(tick, self._previous_tick, out=self._gap)
        self._gap += self._skipped_before
        self._skipped_before = max(tick - self._last_tick - 1, 0)
        self._last_tick = tick
        np.multiply(self._step_rad, self._gap, out=self.bound_rad_)
        np.subtract(q, self._previous, out=self.jump_rad_)
        np.abs(self.jump_rad_, out=self.jump_rad_)
        np.greater(self.jump_rad_, self.bound_rad_, out=out)
        out &= arrived
        out &= self._seen
        np.copyto(self._previous, q, where=arrived)
        np.copyto(self._previous_tick, tick, where=arrived)
        self._seen |= arrived


class FrozenSensorMonitor:
    """The same position reading ``ticks`` times in a row while torque is commanded.

    Only readings that arrived count: a tick without a new reading neither counts nor breaks the
    series.

    Args:
        n_joints: number of joints.
        ticks: how many identical readings in a row are a frozen sensor.
        min_torque_nm: commanded torques below this (N·m) do not count (a joint at rest).
    """

    def __init__(self, n_joints: int, ticks: int, min_torque_nm: float) -> None:
        self.ticks = ticks
        self.min_torque_nm = min_torque_nm
        self._previous = np.full(n_joints, np.nan)
        self._same = np.zeros(n_joints, dtype=bool)
        self._other = np.zeros(n_joints, dtype=bool)
        self._torque_nm = np.zeros(n_joints)
        self.count_: IntArray = np.zeros(n_joints, dtype=np.int64)

    def update(
        self, q: FloatArray, arrived: BoolArray, torque_nm: FloatArray, out: BoolArray
    ) -> None:
        """Count the readings that ``arrived`` equal to the previous one under commanded torque
        ``torque_nm`` (N·m); set ``out`` where the count reached ``ticks``."""
        np.equal(q, self._previous, out=self._same)
        np.abs(torque_nm, out=self._torque_nm)
        self._same &= np.greater_equal(self._torque_nm, self.min_torque_nm, out=self._other)
        np.logical_not(self._same, out=self._other)
        self._other &= arrived
        np.copyto(self.count_, 0, where=self._other)
        self._same &= arrived
        self.count_ += self._same
        np.copyto(self._previous, q, where=arrived)
        np.greater_equal(self.count_, self.ticks, out=out)

    def clear(self) -> None:
        """Forget the counts (the torque was taken away, so nothing pushes the joints)."""
        self.count_[:] = 0
