"""Gait events from foot contact (the simulator's ground truth, or a force plate's).

Contact is cleaned first (the shortest swing and stance default to
:data:`~rehabbot.body.gait_cycle.MIN_SWING_S` and :data:`~rehabbot.body.gait_cycle.MIN_STANCE_S`):
a lift shorter than ``min_swing_s`` is a foot bouncing as it lands and is
filled in; then a touch shorter than ``min_stance_s`` is a toe scuffing the belt in swing, not a
stance (a stance lasts several hundred ms), and is removed. In the clean signal a foot strike is a
rise of contact and a foot off a fall.
"""

from __future__ import annotations

import numpy as np

from rehabbot.body.gait_cycle import MIN_STANCE_S, MIN_SWING_S
from rehabbot.hal.types import BoolArray, FloatArray


def _runs(t_s: FloatArray, c: BoolArray) -> list[tuple[int, int, float]]:
    """(start, stop, duration in s) of every run of True in ``c``; a final run lasts to +inf."""
    edges = np.flatnonzero(np.diff(np.r_[False, c, False].astype(np.int8)))
    t = np.append(np.asarray(t_s, dtype=float), np.inf)
    return [(int(a), int(b), float(t[b] - t[a])) for a, b in edges.reshape(-1, 2)]


def clean_contact(
    t_s: FloatArray,
    contact: BoolArray,
    min_swing_s: float = MIN_SWING_S,
    min_stance_s: float = MIN_STANCE_S,
) -> BoolArray:
    """``contact`` with landing bounces filled in and scuffs removed (durations in s).

    >>> t = np.arange(0, 1.0, 0.01)
    >>> c = ((t < 0.5) & ~((t > 0.02) & (t < 0.05))) | ((t > 0.7) & (t < 0.73))
    >>> int(clean_contact(t, c).sum())
    50
    """
    c = np.array(contact, dtype=bool)
    for start, stop, duration in _runs(t_s, ~c):
        if duration < min_swing_s and start > 0 and stop < c.size:
            c[start:stop] = True
    for start, stop, duration in _runs(t_s, c):
        if duration < min_stance_s and stop < c.size:
            c[start:stop] = False
    return c


def foot_strikes(t_s: FloatArray, contact: BoolArray) -> FloatArray:
    """Times (s) of the foot strikes in one foot's contact signal.

    >>> t = np.arange(0, 2.0, 0.01)
    >>> foot_strikes(t, (t % 1.0) < 0.6).tolist()
    [1.0]
    """
    c = clean_contact(t_s, contact)
    return np.asarray(t_s, dtype=float)[np.flatnonzero(~c[:-1] & c[1:]) + 1]


def foot_offs(t_s: FloatArray, contact: BoolArray) -> FloatArray:
    """Times (s) of the foot offs in one foot's contact signal.

    >>> t = np.arange(0, 2.0, 0.01)
    >>> foot_offs(t, (t % 1.0) < 0.6).tolist()
    [0.6, 1.6]
    """
    c = clean_contact(t_s, contact)
    return np.asarray(t_s, dtype=float)[np.flatnonzero(c[:-1] & ~c[1:]) + 1]
