"""Gait events from foot contact (the simulator's ground truth, or a force plate's).

A foot strike is a rise of contact after at least ``min_swing_s`` without contact, which rejects
the brief bounces of a foot landing; a foot off is the last fall of contact before the next strike.
"""

from __future__ import annotations

import numpy as np

from rehabbot.hal.types import BoolArray, FloatArray


def foot_strikes(t_s: FloatArray, contact: BoolArray, min_swing_s: float = 0.15) -> FloatArray:
    """Times (s) of the foot strikes in one foot's contact signal.

    >>> t = np.arange(0, 2.0, 0.01)
    >>> c = (t % 1.0) < 0.6
    >>> foot_strikes(t, c).tolist()
    [1.0]
    """
    c = np.asarray(contact, dtype=bool)
    rises = np.flatnonzero(~c[:-1] & c[1:]) + 1
    falls = np.flatnonzero(c[:-1] & ~c[1:]) + 1
    strikes = []
    for r in rises:
        before = falls[falls < r]
        if before.size and t_s[r] - t_s[before[-1]] >= min_swing_s:
            strikes.append(t_s[r])
    return np.asarray(strikes, dtype=float)


def foot_offs(t_s: FloatArray, contact: BoolArray, min_swing_s: float = 0.15) -> FloatArray:
    """Times (s) of the foot offs: falls of contact followed by at least ``min_swing_s`` of swing.

    >>> t = np.arange(0, 2.0, 0.01)
    >>> foot_offs(t, (t % 1.0) < 0.6).tolist()
    [0.6]
    """
    c = np.asarray(contact, dtype=bool)
    rises = np.flatnonzero(~c[:-1] & c[1:]) + 1
    falls = np.flatnonzero(c[:-1] & ~c[1:]) + 1
    offs = []
    for f in falls:
        after = rises[rises > f]
        if after.size and t_s[after[0]] - t_s[f] >= min_swing_s:
            offs.append(t_s[f])
    return np.asarray(offs, dtype=float)
