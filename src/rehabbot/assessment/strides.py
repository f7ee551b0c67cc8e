"""Spatiotemporal parameters per stride from the gait events of both sides.

A stride of side S runs from a foot strike of S to its next foot strike. It is *complete* when it
holds, in this order, exactly one foot off of the other side C, one foot strike of C and one foot
off of S::

    FS_S ── FO_C ── FS_C ── FO_S ── FS_S(next)
     └ initial ┘      └ terminal ┘
       double support    double support

Only complete strides are measured; the others (a missed or extra event, the ends of the record)
are left out. Times are in s, phases in % of the stride. Everything is vectorized over strides.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rehabbot.assessment.kinematic_events import SIDES, SideEvents
from rehabbot.hal.types import BoolArray, FloatArray

OTHER_SIDE = {"right": "left", "left": "right"}

#: The per-stride temporal parameters, each an array over the complete strides of a side.
TEMPORAL_PARAMETERS = (
    "stride_time_s", "step_time_s", "cadence_steps_per_min", "stance_pct", "swing_pct",
    "double_support_pct",
)


def _one_between(events: FloatArray, start: FloatArray, end: FloatArray
                 ) -> tuple[FloatArray, BoolArray]:
    """The event in each open interval (start, end) and whether there is exactly one."""
    first = np.searchsorted(events, start, side="right")
    count = np.searchsorted(events, end, side="left") - first
    found = count == 1
    value = events[np.clip(first, 0, max(events.size - 1, 0))] if events.size else start * np.nan
    return np.where(found, value, np.nan), found


def stride_table(events: Mapping[str, SideEvents], side: str) -> dict[str, FloatArray]:
    """Temporal parameters of the complete strides of ``side`` ("right" or "left").

    Returns:
        Arrays over the complete strides: ``start_s``, ``end_s`` (the two foot strikes, s),
        ``foot_off_s`` (s), and the :data:`TEMPORAL_PARAMETERS`: stride and step time (s),
        cadence (steps/min, two steps per stride), stance and swing (% of the stride), double
        support (initial + terminal, % of the stride).

    >>> from rehabbot.assessment.kinematic_events import SideEvents
    >>> ev = {"right": SideEvents(np.array([0.0, 1.0]), np.array([0.6])),
    ...       "left": SideEvents(np.array([0.5]), np.array([0.1]))}
    >>> table = stride_table(ev, "right")
    >>> [round(float(table[k][0]), 3) for k in ("stride_time_s", "stance_pct",
    ...                                        "double_support_pct")]
    [1.0, 60.0, 20.0]
    """
    own, other = events[side], events[OTHER_SIDE[side]]
    strikes = np.sort(own.foot_strike_s)
    start, end = strikes[:-1], strikes[1:]
    off, has_off = _one_between(np.sort(own.foot_off_s), start, end)
    other_strike, has_strike = _one_between(np.sort(other.foot_strike_s), start, end)
    other_off, has_other_off = _one_between(np.sort(other.foot_off_s), start, off)
    with np.errstate(invalid="ignore"):
        ordered = (start < other_off) & (other_off < other_strike) & (other_strike < off)
    keep = has_off & has_strike & has_other_off & ordered
    start, end, off = start[keep], end[keep], off[keep]
    other_strike, other_off = other_strike[keep], other_off[keep]
    stride = end - start
    stance = 100.0 * (off - start) / stride
    return {
        "start_s": start,
        "end_s": end,
        "foot_off_s": off,
        "stride_time_s": stride,
        "step_time_s": end - other_strike,
        "cadence_steps_per_min": 120.0 / stride,
        "stance_pct": stance,
        "swing_pct": 100.0 - stance,
        "double_support_pct": 100.0 * ((other_off - start) + (off - other_strike)) / stride,
    }


def walking_time_s(tables: Mapping[str, Mapping[str, FloatArray]]) -> float:
    """Time (s) covered by the complete strides of either side (their union).

    >>> tables = {"right": {"start_s": np.array([0.0, 1.0]), "end_s": np.array([1.0, 2.0])},
    ...           "left": {"start_s": np.array([0.5, 5.0]), "end_s": np.array([1.5, 6.0])}}
    >>> walking_time_s(tables)
    3.0
    """
    start = np.concatenate([tables[s]["start_s"] for s in SIDES])
    end = np.concatenate([tables[s]["end_s"] for s in SIDES])
    if start.size == 0:
        return 0.0
    order = np.argsort(start)
    start, end = start[order], end[order]
    reached = np.maximum.accumulate(end)
    covered_from = np.maximum(start, np.concatenate(([-np.inf], reached[:-1])))
    return float(np.clip(end - covered_from, 0.0, None).sum())
