"""Gait events from sagittal hip and knee angles alone (no force plate, no foot switch).

An exoskeleton measures joint angles, not ground contact, so foot strike and foot off are found
from kinematics, by one of two methods (:data:`METHODS`), each context with its own
(:class:`EventBias`): ``reach`` for gait-lab data (:data:`OVERGROUND`) and ``drop`` for the
exoskeleton on a treadmill (:data:`EXOSKELETON`).

**reach** (one leg). The method adapts Zeni et al. (2008), who found foot strike at the most
anterior position of the heel relative to the pelvis and foot off at the most posterior position
of the toe, to joint angles: with the pelvis as the reference, the ankle's forward position
relative to the hip, in thigh lengths, is

    reach = sin(hip) + r · sin(hip − knee)

(hip flexion and knee flexion in rad, ``r`` the shank-to-thigh length ratio, 1.0 after Winter's
anthropometric table). Foot strike is taken at the maximum of ``reach`` in each gait cycle (the
foot furthest forward), foot off at its minimum (the foot furthest back), each moved by a constant
bias fitted on data with ground-truth contact (:data:`OVERGROUND`, :data:`EXOSKELETON`; see
docs/metrics.md for the fit and the measured accuracy). The ankle angle is not needed, so the
same method runs on the exoskeleton (hips and knees only) and on lab data (docs/metrics.md says
why a heel/toe variant using the ankle was not adopted).

Cycles are delimited by the swing peaks of knee flexion, the largest and most regular feature of
the sagittal kinematics: runs where the knee flexes beyond 60 % of its range (left again below
40 %, a hysteresis that ignores the smaller loading-response flexion), each run's maximum being a
mid-swing instant between a foot off and the next foot strike. Between two consecutive swing
peaks the reach has exactly one maximum (foot strike) and one minimum (foot off). In the partial
cycles at either end of a recording an extremum counts only if it is not at the edge of the data
and stands out from the edge values by :data:`MIN_PROMINENCE` of the reach range, so that a
recording cut mid-stance does not produce a false event. A foot strike must land ahead of the hip
(reach > 0), and a foot off counts only after the foot strike of its own cycle (or in a first
partial cycle that starts after it): legs that move without stepping, as when a session has
faulted and the robot lets go, give no events. At high sample rates the reach is first smoothed
over :data:`SMOOTHING_S` so that encoder noise cannot move a flat extremum.

**drop** (both legs, :func:`drop_events`). With the pelvis held level, as in the exoskeleton's
harness, a foot is on the belt when its ankle is as far below the hip as the stance foot's:
``drop = cos(hip) + r · cos(hip − knee)`` (hip against the vertical). The swing leg's drop minus
the other's rises through zero as the swing foot comes down (foot strike, interpolated between
samples) and reaches its minimum shortly after this leg unloads into swing (foot off, refined by
a parabola). Where contact falls on the reach's plateau depends on how long the robot holds the
extended leg; the feet's heights relative to each other do not, so the drop events stay within a
few ms at every guidance level. Overground with hips against a moving pelvis the method does not
hold (docs/metrics.md).

Everything is vectorized over samples: an hour at 1 kHz takes a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rehabbot.hal.types import BoolArray, FloatArray, IntArray

SIDES = ("right", "left")
SIDE_SUFFIX = {"right": "_r", "left": "_l"}

#: Shank-to-thigh length ratio (Winter: shank 0.246 H, thigh 0.245 H).
SHANK_TO_THIGH = 1.0
#: Knee-flexion thresholds of the swing detector, as fractions of the knee's 5–95 % range.
SWING_ENTER = 0.6
SWING_EXIT = 0.4
#: Smallest knee range (rad) that is walking; below it no events are reported.
MIN_KNEE_RANGE_RAD = float(np.radians(10.0))
#: Width (s) of the centred moving average applied to the drop difference (method ``drop``):
#: encoder noise at 1 kHz would otherwise move the argmax of a flat extremum by tens of ms.
SMOOTHING_S = 0.02
#: Cut-off (Hz) of the zero-lag low-pass applied to every angle before the reach is computed.
LOWPASS_HZ = 6.0
#: Order of the Butterworth filter that is run forward and backward (4th order in effect).
LOWPASS_ORDER = 2
#: Half-width (s) of the window of the parabola that places a reach extremum, and how far
#: beyond the data an extremum may be extrapolated: chosen among 0.04, 0.06 and 0.08 s by
#: leave-one-subject-out in ``benchmarks/events_accuracy.py`` (docs/metrics.md).
FIT_HALF_WIDTH_S = 0.04
#: Foot geometry in thigh lengths (Winter: thigh 0.245 H, foot 0.152 H, ankle height 0.039 H):
#: heel 0.038 H behind the ankle, toe marker 0.114 H ahead of it, both 0.039 H below it.
HEEL_BEHIND = 0.038 / 0.245
TOE_AHEAD = 0.114 / 0.245
SOLE_BELOW = 0.039 / 0.245


#: The detection methods: ``"reach"`` (one leg: extrema of its ankle's forward reach),
#: ``"foot"`` (one leg with its ankle angle: the heel's and the toe's reach) and ``"drop"``
#: (both legs: the swing foot comes down to the stance foot's level).
METHODS = ("reach", "foot", "drop")


@dataclass(frozen=True)
class EventBias:
    """A context's detection method and the constant corrections (s) added to its raw events.

    Attributes:
        foot_strike_s: added to the raw foot strike (reach maximum, or drop crossing) (s).
        foot_off_s: added to the raw foot off (reach minimum, or drop-difference minimum) (s).
        method: ``"reach"`` (:func:`reach_extrema`) or ``"drop"`` (:func:`drop_events`).

    >>> EventBias(0.04, 0.05).foot_strike_s, EventBias(0.04, 0.05).method
    (0.04, 'reach')
    """

    foot_strike_s: float
    foot_off_s: float
    method: str = "reach"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown event method {self.method!r}; use one of {METHODS}")


#: Overground walking (gait-lab trials) with hips and knees only: the ``reach`` method, bias
#: fitted on the 32 shared training trials of 21 subjects (``benchmarks/events_accuracy.py``
#: prints the fit and its leave-one-subject-out accuracy: docs/metrics.md).
OVERGROUND = EventBias(foot_strike_s=0.0314, foot_off_s=0.0108)
#: Walking in the exoskeleton on a treadmill (pelvis held level, hips against the vertical): the
#: ``drop`` method, fitted on two simulated 60 s sessions (seed 0 at 100 % guidance, seed 1 at
#: 70 %) against the simulator's cleaned foot contact; the benchmark reports the accuracy on two
#: others (seed 2 at 85 %, seed 6 at 60 %). Refit (the benchmark prints the fit) whenever the
#: simulated exoskeleton or patient changes.
EXOSKELETON = EventBias(foot_strike_s=0.0088, foot_off_s=-0.1115, method="drop")
#: Overground walking with the ankle angle measured: the ``foot`` method (heel and toe reach),
#: fitted on the same trials as :data:`OVERGROUND`.
OVERGROUND_FOOT = EventBias(foot_strike_s=0.0322, foot_off_s=-0.0233, method="foot")


@dataclass(frozen=True)
class SideEvents:
    """Event times (s) of one side, each array sorted.

    Attributes:
        foot_strike_s: foot-strike times (s).
        foot_off_s: foot-off times (s).
    """

    foot_strike_s: FloatArray
    foot_off_s: FloatArray

    def as_dict(self) -> dict[str, list[float]]:
        """Plain lists for JSON: ``{"foot_strike": [...], "foot_off": [...]}`` (s)."""
        return {"foot_strike": self.foot_strike_s.tolist(), "foot_off": self.foot_off_s.tolist()}


def limb_reach(hip_rad: FloatArray, knee_rad: FloatArray, shank_to_thigh: float = SHANK_TO_THIGH
               ) -> FloatArray:
    """Forward position of the ankle relative to the hip, in thigh lengths.

    Args:
        hip_rad: hip flexion (rad), thigh relative to the pelvis or to the vertical.
        knee_rad: knee flexion (rad, flexion positive).
        shank_to_thigh: shank length over thigh length.

    >>> round(float(limb_reach(np.array([np.pi / 6]), np.array([0.0]))[0]), 9)
    1.0
    """
    return _two_links(np.sin, hip_rad, knee_rad, shank_to_thigh)


def foot_reach(hip_rad: FloatArray, knee_rad: FloatArray, ankle_rad: FloatArray
               ) -> tuple[FloatArray, FloatArray]:
    """Forward positions of the heel and the toe relative to the hip, in thigh lengths.

    The foot is perpendicular to the shank at 0 dorsiflexion; its pitch (toe up) is
    ``hip − knee + ankle``. Lengths from Winter's table (:data:`HEEL_BEHIND`,
    :data:`TOE_AHEAD`, :data:`SOLE_BELOW`).

    Args:
        hip_rad: hip flexion (rad).
        knee_rad: knee flexion (rad, flexion positive).
        ankle_rad: ankle dorsiflexion (rad).

    >>> heel, toe = foot_reach(np.zeros(1), np.zeros(1), np.zeros(1))
    >>> round(float(heel[0]), 3), round(float(toe[0]), 3)
    (-0.155, 0.465)
    """
    reach = limb_reach(hip_rad, knee_rad)
    pitch = np.asarray(hip_rad) - np.asarray(knee_rad) + np.asarray(ankle_rad)
    down = SOLE_BELOW * np.sin(pitch)
    along = np.cos(pitch)
    heel: FloatArray = reach - HEEL_BEHIND * along + down
    toe: FloatArray = reach + TOE_AHEAD * along + down
    return heel, toe


def limb_drop(hip_rad: FloatArray, knee_rad: FloatArray, shank_to_thigh: float = SHANK_TO_THIGH
              ) -> FloatArray:
    """Depth of the ankle below the hip, in thigh lengths (hip angle against the vertical).

    Args:
        hip_rad: hip flexion (rad), thigh against the vertical.
        knee_rad: knee flexion (rad, flexion positive).
        shank_to_thigh: shank length over thigh length.

    >>> round(float(limb_drop(np.array([0.0]), np.array([np.pi / 2]))[0]), 9)
    1.0
    """
    return _two_links(np.cos, hip_rad, knee_rad, shank_to_thigh)


def _two_links(trig: np.ufunc, hip_rad: FloatArray, knee_rad: FloatArray,
               shank_to_thigh: float) -> FloatArray:
    """``trig(hip) + r · trig(hip − knee)``: one coordinate of the ankle relative to the hip, in
    thigh lengths (``np.sin``: forward, ``np.cos``: down); one new array."""
    result: FloatArray = np.subtract(hip_rad, knee_rad)
    trig(result, out=result)
    result *= shank_to_thigh
    result += trig(hip_rad)
    return result


def _hysteresis(x: FloatArray, enter: float, leave: float) -> BoolArray:
    """True from where ``x`` rises above ``enter`` until it falls below ``leave`` (< ``enter``)."""
    mark = np.where(x > enter, 1, np.where(x < leave, 0, -1)).astype(np.int8)
    last = np.where(mark >= 0, np.arange(x.size), 0)
    np.maximum.accumulate(last, out=last)
    state: BoolArray = mark[last] == 1
    return state


def _segment_argmax(x: FloatArray, starts: IntArray) -> IntArray:
    """Index of the first maximum of ``x`` in each segment ``[starts[i], starts[i+1])``.

    ``starts`` is strictly increasing; the last segment runs to the end of ``x``.
    """
    offset = int(starts[0])
    x = x[offset:]
    starts = starts - offset
    seg_max = np.maximum.reduceat(x, starts)
    lengths = np.diff(np.append(starts, x.size))
    hits = np.flatnonzero(x == np.repeat(seg_max, lengths))
    seg_of_hit = np.searchsorted(starts, hits, side="right") - 1
    first = np.flatnonzero(np.diff(np.append(-1, seg_of_hit)))
    result: IntArray = hits[first] + offset
    return result


def swing_peaks(knee_rad: FloatArray) -> IntArray:
    """Sample indices of the knee's swing-flexion peaks, one per swing (empty if not walking)."""
    if knee_rad.size < 3:
        return np.zeros(0, dtype=np.int64)
    low, high = np.percentile(knee_rad, [5.0, 95.0])
    if high - low < MIN_KNEE_RANGE_RAD:
        return np.zeros(0, dtype=np.int64)
    span = high - low
    swing = _hysteresis(knee_rad, low + SWING_ENTER * span, low + SWING_EXIT * span)
    # Run starts and ends alternate; the even segments between them are the swing runs.
    edges = np.flatnonzero(np.diff(np.concatenate(([False], swing, [False])).astype(np.int8)))
    result: IntArray = _segment_argmax(knee_rad, edges[edges < knee_rad.size])[0::2]
    return result


def _window(t_s: FloatArray, width_s: float) -> int:
    """The moving average's width in samples: odd, or below 3 for none."""
    window = round(width_s / float(np.median(np.diff(t_s))))
    return window | 1 if window >= 3 else window


def _smoothed(t_s: FloatArray, x: FloatArray, width_s: float = SMOOTHING_S) -> FloatArray:
    """Centred moving average of ``x`` over ``width_s`` (s); unchanged below three samples."""
    window = _window(t_s, width_s)
    if window < 3 or x.size <= window:
        return x
    sums = np.empty(x.size + 1)
    sums[0] = 0.0
    np.cumsum(x, out=sums[1:])
    half = window // 2
    result: FloatArray = np.empty_like(x, dtype=float)
    result[:half], result[x.size - half:] = x[:half], x[x.size - half:]
    inner = result[half:x.size - half]
    np.subtract(sums[window:], sums[:-window], out=inner)
    inner /= window
    return result


def _smoothed_reach_at(t_s: FloatArray, hip_rad: FloatArray, knee_rad: FloatArray,
                       i: IntArray) -> FloatArray:
    """``_smoothed(t_s, limb_reach(hip_rad, knee_rad))[i]``, from the samples around ``i`` only.

    The moving average is the mean of each window rather than a difference of cumulative sums
    over the whole recording: equal to rounding (about 1e-12).
    """
    window = _window(t_s, SMOOTHING_S)
    size = hip_rad.size
    if window < 3 or size <= window:
        return limb_reach(hip_rad[i], knee_rad[i])
    half = window // 2
    inner = (i >= half) & (i < size - half)
    around = np.clip(i[:, None] + np.arange(-half, half + 1), 0, size - 1)
    mean = limb_reach(hip_rad[around], knee_rad[around]).mean(axis=1)
    result: FloatArray = np.where(inner, mean, limb_reach(hip_rad[i], knee_rad[i]))
    return result


def _refine(t_s: FloatArray, y: FloatArray, i: IntArray) -> FloatArray:
    """Times of the extrema at ``i`` refined by a parabola through the neighbouring samples (s)."""
    a, b, c = y[i - 1], y[i], y[i + 1]
    den = a - 2.0 * b + c
    safe = np.where(den != 0.0, den, 1.0)
    shift = np.where(den != 0.0, 0.5 * (a - c) / safe, 0.0)
    step = np.where(shift >= 0.0, t_s[i + 1] - t_s[i], t_s[i] - t_s[i - 1])
    result: FloatArray = t_s[i] + np.clip(shift, -0.5, 0.5) * step
    return result


def lowpass(t_s: FloatArray, x: FloatArray, cutoff_hz: float = LOWPASS_HZ) -> FloatArray:
    """``x`` low-passed at ``cutoff_hz`` (Hz) with zero lag: a 2nd-order Butterworth filter run
    forward and backward (``scipy.signal.sosfiltfilt``), 4th order in effect, the gait-analysis
    convention for joint kinematics. Unchanged where the cut-off is not below 0.45 × the sample
    rate or the recording is too short to pad (fewer than 10 samples).

    >>> t = np.arange(0.0, 2.0, 0.01)
    >>> slow, fast = np.sin(2 * np.pi * t), 0.1 * np.sin(2 * np.pi * 30 * t)
    >>> bool(np.max(np.abs(lowpass(t, slow + fast) - slow)[10:-10]) < 0.01)
    True
    """
    from scipy.signal import butter, sosfiltfilt  # type: ignore[import-untyped]  # no stubs

    rate_hz = 1.0 / float(np.median(np.diff(t_s)))
    if cutoff_hz >= 0.45 * rate_hz or x.size < 10:
        return np.asarray(x, dtype=float)
    sos = butter(LOWPASS_ORDER, cutoff_hz, fs=rate_hz, output="sos")
    result: FloatArray = sosfiltfilt(sos, x)
    return result


def _vertex_s(t_s: FloatArray, y: FloatArray, i: int, half: int, beyond_s: float) -> float:
    """Time (s) of the maximum of ``y`` near sample ``i``: the vertex of a parabola fitted over
    ``half`` samples each side of ``i``; where the data end, over the ``2 half + 1`` samples
    next to the end (one-sided). NaN where the fit is not
    concave, or its vertex lies outside the window; for ``i`` on the first or last sample, the
    vertex must lie beyond that end of the data, by at most ``beyond_s`` (s).
    """
    # a window cut by an end of the data is moved to keep its 2 half + 1 samples (one-sided)
    lo = min(max(0, i - half), max(0, y.size - 2 * half - 1))
    hi = min(y.size, lo + 2 * half + 1)
    if hi - lo < 3:
        return float("nan")
    dt = t_s[lo:hi] - t_s[i]
    a, b, _ = np.polyfit(dt, y[lo:hi], 2)
    if not a < 0.0:
        return float("nan")
    vertex = float(t_s[i] - b / (2.0 * a))
    # A maximum on the first (last) sample lies before (after) the data: its vertex must too,
    # by at most the window's half-width; any other must lie in the window.
    first, last = float(t_s[lo]), float(t_s[hi - 1])
    if i == 0:
        first, last = first - beyond_s, first
    elif i == y.size - 1:
        first, last = last, last + beyond_s
    return vertex if first <= vertex <= last else float("nan")


def _maxima_s(t_s: FloatArray, y: FloatArray, cuts: IntArray, half_width_s: float
              ) -> tuple[IntArray, FloatArray]:
    """Per segment between consecutive ``cuts`` (the last runs to the end): the sample of the
    maximum of ``y`` and its time (s), refined by :func:`_vertex_s`. A maximum on a segment's
    boundary inside the data is not one (NaN). At the ends of the data the parabola's window is
    one-sided, and a maximum just beyond an end is extrapolated when the data show the curve
    turning towards it: the bias then decides whether the event itself is inside.
    """
    idx = _segment_argmax(y, cuts)
    ends = np.append(cuts[1:], y.size) - 1
    half = max(2, round(half_width_s / float(np.median(np.diff(t_s)))))
    times = np.array([
        float("nan") if (i == c and c != 0) or (i == e and e != y.size - 1)
        else _vertex_s(t_s, y, int(i), half, half_width_s)
        for i, c, e in zip(idx, cuts, ends, strict=True)])
    return idx, times


def reach_extrema(t_s: FloatArray, hip_rad: FloatArray, knee_rad: FloatArray,
                  ankle_rad: FloatArray | None = None,
                  half_width_s: float = FIT_HALF_WIDTH_S) -> tuple[FloatArray, FloatArray]:
    """Uncorrected event estimates of one side (s): foot strikes and foot offs before the bias.

    Every angle is first low-passed (:func:`lowpass`). Without the ankle, the foot strike is the
    per-cycle maximum of the ankle's reach (:func:`limb_reach`) and the foot off its minimum
    after that strike; with it (method ``"foot"``), the maximum of the heel's reach and the
    minimum of the toe's (:func:`foot_reach`), as Zeni et al. (2008) use heel and toe markers.
    Extrema are placed by a parabola fitted over ±:data:`FIT_HALF_WIDTH_S`, one-sided at the
    data's ends, where an extremum up to that far beyond the data is extrapolated (the bias
    then says whether the event itself is inside the data).

    Args:
        t_s: sample times (s), increasing.
        hip_rad: hip flexion (rad).
        knee_rad: knee flexion (rad, flexion positive).
        ankle_rad: ankle dorsiflexion (rad), if measured.
        half_width_s: half-width of the parabola's window (s).

    Returns:
        (strikes, offs): raw times (s).
    """
    t = np.asarray(t_s, dtype=float)
    hip = lowpass(t, np.asarray(hip_rad, dtype=float))
    knee = lowpass(t, np.asarray(knee_rad, dtype=float))
    peaks = swing_peaks(knee)
    if peaks.size == 0:
        return np.zeros(0), np.zeros(0)
    reach = limb_reach(hip, knee)
    if ankle_rad is None:
        heel = toe = reach
    else:
        heel, toe = foot_reach(hip, knee, lowpass(t, np.asarray(ankle_rad, dtype=float)))
    bounds = np.unique(np.concatenate(([0], peaks)))
    strike_i, strike = _maxima_s(t, heel, bounds, half_width_s)
    # A foot lands ahead of the hip; its foot off is sought from there to the next swing peak,
    # or from the start in a first partial cycle that begins after its foot strike.
    landed = np.isfinite(strike) & (reach[strike_i] > 0.0)
    leading = (np.arange(bounds.size) == 0) & (bounds[0] < peaks[0])
    starts = np.where(landed, strike_i, bounds)[landed | leading]
    cuts = np.unique(np.concatenate((bounds, starts)))
    _, off = _maxima_s(t, -toe, cuts, half_width_s)
    off = off[np.isin(cuts, starts)]
    return strike[landed], off[np.isfinite(off)]


def _first_rise_per_segment(d: FloatArray, bounds: IntArray) -> tuple[IntArray, IntArray]:
    """Per segment between consecutive ``bounds`` (the last runs to the end), the first index
    ``i`` where ``d`` rises through zero (``d[i-1] < 0 <= d[i]``): (segment numbers, indices)."""
    rises = np.flatnonzero((d[:-1] < 0.0) & (d[1:] >= 0.0)) + 1
    segment = np.searchsorted(bounds, rises, side="right") - 1
    keep = rises >= bounds[0]
    segment, rises = segment[keep], rises[keep]
    segments, first = np.unique(segment, return_index=True)
    return segments, rises[first]


def drop_events(t_s: FloatArray, hip_rad: FloatArray, knee_rad: FloatArray,
                other_hip_rad: FloatArray, other_knee_rad: FloatArray
                ) -> tuple[FloatArray, FloatArray]:
    """Uncorrected events of one side from both legs (exoskeleton: hips against the vertical).

    With the pelvis held level, both feet are on the belt when both ankles are equally far below
    the hips. The difference ``d = drop − drop_other`` (:func:`limb_drop`, thigh lengths) is
    negative in swing (the knee is flexed) and rises through zero as the swing foot comes down to
    the stance foot's level: that crossing, interpolated between samples, is the raw foot strike.
    After the other foot's strike, ``d`` falls as this leg unloads and flexes into swing; its
    minimum before the next swing peak (a parabola through the samples around it) is the raw
    foot off. Cycles are delimited by the knee's swing peaks as in :func:`reach_extrema`, with
    the same rules: a strike lands ahead of the hip (reach > 0), a foot off follows its cycle's
    strike (or lies in a first partial cycle), is not at the edge of the data, and lies before a
    swing peak (a last cycle cut before its swing peak gives no foot off).

    Args:
        t_s: sample times (s), increasing.
        hip_rad: this side's hip flexion, thigh against the vertical (rad).
        knee_rad: this side's knee flexion (rad).
        other_hip_rad: the other side's hip flexion (rad).
        other_knee_rad: the other side's knee flexion (rad).

    Returns:
        (strikes, offs): raw foot-strike and foot-off times (s).
    """
    t = np.asarray(t_s, dtype=float)
    hip, knee = np.asarray(hip_rad, dtype=float), np.asarray(knee_rad, dtype=float)
    return _drop_side(t, hip, knee, _drop_difference(t, hip, knee, other_hip_rad, other_knee_rad))


def _drop_difference(t_s: FloatArray, hip_rad: FloatArray, knee_rad: FloatArray,
                     other_hip_rad: FloatArray, other_knee_rad: FloatArray) -> FloatArray:
    """``drop − drop_other`` (thigh lengths), smoothed; the other side's is its negative."""
    d = limb_drop(np.asarray(hip_rad, dtype=float), np.asarray(knee_rad, dtype=float))
    d -= limb_drop(np.asarray(other_hip_rad, dtype=float), np.asarray(other_knee_rad, dtype=float))
    return _smoothed(t_s, d)


def _drop_side(t: FloatArray, hip: FloatArray, knee: FloatArray, d: FloatArray
               ) -> tuple[FloatArray, FloatArray]:
    """:func:`drop_events` of one side given its smoothed drop difference ``d``."""
    peaks = swing_peaks(knee)
    if peaks.size == 0:
        return np.zeros(0), np.zeros(0)
    bounds = np.unique(np.concatenate(([0], peaks)))
    segments, rise = _first_rise_per_segment(d, bounds)
    landed = _smoothed_reach_at(t, hip, knee, rise) > 0.0
    segments, rise = segments[landed], rise[landed]
    lo, hi = d[rise - 1], d[rise]
    strikes = t[rise - 1] + (-lo / (hi - lo)) * (t[rise] - t[rise - 1])
    # Foot off: the minimum of d between the cycle's strike and the next swing peak; a first
    # partial cycle without a strike is searched from its start.
    starts = bounds.copy()
    starts[segments] = rise
    searched = np.zeros(bounds.size, dtype=bool)
    searched[segments] = True
    searched[0] |= bounds[0] < peaks[0]
    cuts = np.unique(np.concatenate((bounds, starts)))
    minus = -d
    off = _segment_argmax(minus, cuts)[np.isin(cuts, starts[searched])]
    starts, ends = starts[searched], np.append(bounds[1:], d.size)[searched] - 1
    # Only a minimum short of the next swing peak is the cycle's: in a last cycle cut before its
    # swing peak, d may still be falling towards it, past an earlier local minimum.
    off_ok = (off > starts) & (off < ends) & (ends < d.size - 1)
    return strikes, _refine(t, minus, off[off_ok])


def raw_events(t_s: FloatArray, angles_rad: Mapping[str, FloatArray], method: str = "reach",
               half_width_s: float = FIT_HALF_WIDTH_S
               ) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Uncorrected foot strikes and foot offs (s) of both sides by ``method`` (:data:`METHODS`).

    ``reach`` and ``foot`` treat each side alone: a side without its hip or knee angle (or, for
    ``foot``, its ankle angle: it then falls back to ``reach``) has no events. The ``drop``
    method computes the drop difference once for both sides (the left's is the right's
    negative). ``half_width_s`` (s) is the ``reach``/``foot`` parabola's half-width.

    Raises:
        KeyError: ``drop`` and a hip or knee angle is missing.
        ValueError: unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"unknown event method {method!r}; use one of {METHODS}")
    t = np.asarray(t_s, dtype=float)
    if method == "drop":
        legs = {side: (np.asarray(angles_rad["hip_flexion" + SIDE_SUFFIX[side]], dtype=float),
                       np.asarray(angles_rad["knee_angle" + SIDE_SUFFIX[side]], dtype=float))
                for side in SIDES}
        d = _drop_difference(t, *legs["right"], *legs["left"])
        return {"right": _drop_side(t, *legs["right"], d), "left": _drop_side(t, *legs["left"], -d)}
    result = {}
    for side in SIDES:
        hip, knee, ankle = (angles_rad.get(kind + SIDE_SUFFIX[side])
                            for kind in ("hip_flexion", "knee_angle", "ankle_angle"))
        if hip is None or knee is None:
            result[side] = (np.zeros(0), np.zeros(0))
            continue
        result[side] = reach_extrema(t, hip, knee, ankle if method == "foot" else None,
                                     half_width_s)
    return result


def corrected(t_s: FloatArray, raw: tuple[FloatArray, FloatArray], bias: EventBias
              ) -> SideEvents:
    """Raw events of one side plus ``bias``, those inside the recording's span only."""
    first, last = float(t_s[0]), float(t_s[-1])
    strikes, offs = raw[0] + bias.foot_strike_s, raw[1] + bias.foot_off_s
    return SideEvents(strikes[(strikes >= first) & (strikes <= last)],
                      offs[(offs >= first) & (offs <= last)])


def detect_side_events(t_s: FloatArray, hip_rad: FloatArray, knee_rad: FloatArray,
                       bias: EventBias = OVERGROUND) -> SideEvents:
    """Foot strikes and foot offs (s) of one side from its hip and knee flexion (rad).

    >>> t = np.arange(0.0, 5.0, 0.01)  # 1 s strides, knee swing peak at 80 % of the cycle
    >>> phase = 2 * np.pi * t
    >>> hip, knee = 0.4 * np.cos(phase), 0.5 + 0.5 * np.cos(phase - 2 * np.pi * 0.8)
    >>> e = detect_side_events(t, hip, knee, EventBias(0.0, 0.0))
    >>> np.round(e.foot_strike_s, 2).tolist(), np.round(e.foot_off_s, 2).tolist()
    ([0.1, 1.1, 2.1, 3.1, 4.1], [0.58, 1.58, 2.58, 3.58, 4.58])

    Raises:
        ValueError: ``bias`` is not of the ``reach`` method (use :func:`detect_events`).
    """
    if bias.method != "reach":
        raise ValueError(f"event method {bias.method!r} needs more angles; use detect_events")
    return corrected(t_s, reach_extrema(t_s, hip_rad, knee_rad), bias)


def overground_bias(angles_rad: Mapping[str, FloatArray]) -> EventBias:
    """The gait-lab context's method for these angles: :data:`OVERGROUND_FOOT` when both ankles
    are measured, else :data:`OVERGROUND`."""
    has_ankles = all("ankle_angle" + SIDE_SUFFIX[side] in angles_rad for side in SIDES)
    return OVERGROUND_FOOT if has_ankles else OVERGROUND


def detect_events(t_s: FloatArray, angles_rad: Mapping[str, FloatArray],
                  bias: EventBias = OVERGROUND) -> dict[str, SideEvents]:
    """Events of both sides from joint angles named ``hip_flexion_r``, ``knee_angle_r``, ``_l``.

    Args:
        t_s: sample times (s).
        angles_rad: joint angles (rad, project signs: flexion positive); other joints are ignored.
        bias: the method and bias correction of the recording's context.

    Returns:
        ``{"right": SideEvents, "left": SideEvents}``, events inside the recording only.

    Raises:
        KeyError: method ``drop`` and a side's hip or knee angle is missing.
    """
    return {side: corrected(t_s, raw, bias)
            for side, raw in raw_events(t_s, angles_rad, bias.method).items()}
