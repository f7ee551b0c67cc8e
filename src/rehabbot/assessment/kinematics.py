"""Joint-angle metrics per stride: range of motion, peaks and time-normalized curves.

A stride runs from one foot strike to the next of the same side (times from
:func:`rehabbot.assessment.strides.stride_table`). Angles come in rad and leave in degrees, the
unit of gait reports. Curves are resampled by linear interpolation at 101 points, 0 to 100 % of
the stride. Everything is vectorized over strides.
"""

from __future__ import annotations

import numpy as np

from rehabbot.hal.types import FloatArray

#: Points of a time-normalized curve: 0, 1, ..., 100 % of the stride.
CURVE_POINTS = 101


def stride_extrema_deg(t_s: FloatArray, angle_rad: FloatArray, start_s: FloatArray,
                       end_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Maximum and minimum (deg) of an angle over each stride [start, end) (s).

    >>> t = np.arange(0.0, 2.0, 0.001)
    >>> hi, lo = stride_extrema_deg(t, np.radians(10 * np.sin(2 * np.pi * t)),
    ...                             np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    >>> np.round(hi, 3).tolist(), np.round(lo, 3).tolist()
    ([10.0, 10.0], [-10.0, -10.0])
    """
    if start_s.size == 0:
        return np.zeros(0), np.zeros(0)
    first = np.searchsorted(t_s, start_s)
    last = np.searchsorted(t_s, end_s)
    # reduceat takes one increasing list of segment starts: interleave each stride's first and
    # one-past-last sample, reduce every segment and keep the even ones (the strides).
    bounds = np.column_stack((first, np.maximum(last, first + 1))).ravel()
    bounds = np.minimum(bounds, angle_rad.size - 1)
    increasing = np.all(np.diff(bounds) >= 0)
    if not increasing:
        raise ValueError("strides must be sorted and must not overlap")
    high = np.maximum.reduceat(angle_rad, bounds)[0::2]
    low = np.minimum.reduceat(angle_rad, bounds)[0::2]
    return np.degrees(high), np.degrees(low)


def normalized_curves_deg(t_s: FloatArray, angle_rad: FloatArray, start_s: FloatArray,
                          end_s: FloatArray, points: int = CURVE_POINTS) -> FloatArray:
    """Each stride's angle (deg) resampled at ``points`` equally spaced phases, shape (n, points).

    >>> t = np.arange(0.0, 1.01, 0.01)
    >>> c = normalized_curves_deg(t, np.radians(100 * t), np.array([0.0]), np.array([1.0]))
    >>> c.shape, round(float(c[0, 50]), 6)
    ((1, 101), 50.0)
    """
    phase = np.linspace(0.0, 1.0, points)
    query = start_s[:, None] + phase[None, :] * (end_s - start_s)[:, None]
    curves: FloatArray = np.degrees(np.interp(query, t_s, angle_rad))
    return curves
