"""Lokomat-style biofeedback and the robot's assistance per joint, in stance and in swing.

For one joint and each complete stride of the joint's leg, over the stance part
``[foot strike, foot off)`` and the swing part ``[foot off, next foot strike)`` of that stride
(the gait events of :mod:`~rehabbot.assessment.strides`, as for every other session metric):

* **biofeedback** ``b = −mean(τ_cmd · sign(Δq_ref))`` (N·m), the Lokomat's biofeedback value
  (Banz R, Bolliger M, Colombo G, Dietz V, Lünenburger L. Computerized visual feedback: an
  adjunct to robotic-assisted gait training. Phys Ther 2008;88(10):1135–1145): the commanded
  torque projected on the direction the reference moves. Positive: the robot held back, the
  patient moved ahead of the reference; negative: the robot pushed the joint along the
  reference (a passive or resisting patient). ``Δq_ref`` is the reference's change from the
  previous sample (zero at the first sample), the same definition as the console's live value
  (:mod:`rehabbot.gui.live_stats`);
* **assistance torque** ``mean |τ_cmd|`` (N·m): how much the robot commanded, whatever its
  direction.

A part's samples are those whose time lies in the part's half-open interval; a part without a
sample gives NaN. Vectorized over strides (``np.add.reduceat``): one pass over the samples per
value and joint, whatever the number of strides.
"""

from __future__ import annotations

import numpy as np

from rehabbot.hal.types import FloatArray

#: The parts of a stride the values are given for.
PARTS = ("stance", "swing")


def interval_means(t_s: FloatArray, values: FloatArray, start_s: FloatArray,
                   end_s: FloatArray) -> FloatArray:
    """Mean of ``values`` over the samples with ``start ≤ t < end``, per interval (NaN if none).

    The intervals must be sorted and must not overlap (``start ≤ end ≤`` the next ``start``):
    the sums are taken in one pass over the samples they cover (``np.add.reduceat``).

    >>> t = np.arange(6.0)
    >>> interval_means(t, t * 10, np.array([0.0, 2.5, 9.0]), np.array([2.0, 5.0, 10.0]))
    array([ 5., 35., nan])

    Raises:
        ValueError: the intervals are not sorted or overlap.
    """
    edges = np.searchsorted(t_s, np.column_stack((start_s, end_s)).ravel(), side="left")
    if np.any(np.diff(edges) < 0):
        raise ValueError("interval_means needs sorted, non-overlapping intervals (start <= end "
                         "<= the next start); sort them or compute each separately")
    count = edges[1::2] - edges[0::2]
    sums = np.zeros(count.size)
    top = int(edges[-1]) if edges.size else 0
    if top > 0:
        # Up to the last interval's end: each sum runs from its edge to the next one (the last
        # to ``top``); the edges at ``top`` itself only close intervals.
        below = edges[edges < top]
        sums[: (below.size + 1) // 2] = np.add.reduceat(
            np.asarray(values, dtype=float)[:top], below)[0::2]
    with np.errstate(invalid="ignore", divide="ignore"):
        means: FloatArray = np.where(count > 0, sums / count, np.nan)
    return means


def stride_parts(
    t_s: FloatArray,
    tau_cmd_nm: FloatArray,
    q_ref_rad: FloatArray,
    start_s: FloatArray,
    foot_off_s: FloatArray,
    end_s: FloatArray,
) -> dict[str, FloatArray]:
    """Biofeedback and assistance torque of one joint per stride of its leg, stance and swing.

    Args:
        t_s: sample times (s), increasing, shape (n,).
        tau_cmd_nm: the commanded torque of the joint (N·m), shape (n,).
        q_ref_rad: the joint's reference angle (rad), shape (n,).
        start_s: per stride of the joint's leg its foot strike (s), shape (strides,).
        foot_off_s: per stride its foot off (s), shape (strides,).
        end_s: per stride the next foot strike (s), shape (strides,).

    Returns:
        ``biofeedback_stance_nm``, ``biofeedback_swing_nm``, ``assist_stance_nm``,
        ``assist_swing_nm``: arrays over the strides (N·m).
    """
    along = np.asarray(tau_cmd_nm, dtype=float) * np.sign(np.diff(q_ref_rad, prepend=q_ref_rad[:1]))
    magnitude = np.abs(np.asarray(tau_cmd_nm, dtype=float))
    # Stance and swing of each stride in turn: sorted, non-overlapping intervals.
    low = np.column_stack((start_s, foot_off_s)).ravel()
    high = np.column_stack((foot_off_s, end_s)).ravel()
    along_means = interval_means(t_s, along, low, high)
    magnitude_means = interval_means(t_s, magnitude, low, high)
    result: dict[str, FloatArray] = {}
    for i, part in enumerate(PARTS):
        result[f"biofeedback_{part}_nm"] = -along_means[i::2]
        result[f"assist_{part}_nm"] = magnitude_means[i::2]
    return result
