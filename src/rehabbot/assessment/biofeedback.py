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
  (:mod:`rehabbot.console.live_stats`);
* **assistance torque** ``mean |τ_cmd|`` (N·m): how much the robot commanded, whatever its
  direction.

A part's samples are those whose time lies in the part's half-open interval; a part without a
sample gives NaN. Vectorized over strides with cumulative sums: one pass over the samples per
joint, whatever the number of strides.
"""

from __future__ import annotations

import numpy as np

from rehabbot.hal.types import FloatArray

#: The parts of a stride the values are given for.
PARTS = ("stance", "swing")


def interval_means(t_s: FloatArray, values: FloatArray, start_s: FloatArray,
                   end_s: FloatArray) -> FloatArray:
    """Mean of ``values`` over the samples with ``start ≤ t < end``, per interval (NaN if none).

    >>> t = np.arange(6.0)
    >>> interval_means(t, t * 10, np.array([0.0, 2.5, 9.0]), np.array([2.0, 5.0, 10.0]))
    array([ 5., 35., nan])
    """
    summed = np.concatenate(([0.0], np.cumsum(values, dtype=float)))
    first = np.searchsorted(t_s, start_s, side="left")
    stop = np.searchsorted(t_s, end_s, side="left")
    count = stop - first
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (summed[stop] - summed[first]) / count, np.nan)


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
    bounds = {"stance": (start_s, foot_off_s), "swing": (foot_off_s, end_s)}
    result: dict[str, FloatArray] = {}
    for part in PARTS:
        low, high = bounds[part]
        result[f"biofeedback_{part}_nm"] = -interval_means(t_s, along, low, high)
        result[f"assist_{part}_nm"] = interval_means(t_s, magnitude, low, high)
    return result
