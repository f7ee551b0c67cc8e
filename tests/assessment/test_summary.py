"""Contact events and the session summary on synthetic recordings with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.assessment.contact_events import foot_offs, foot_strikes
from rehabbot.assessment.summary import summarize

STRIDE_S = 1.2
DT = 0.001


def gait(duration_s: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Contact of a walker with 1.2 s strides, 60 % stance, left half a stride behind."""
    t = np.arange(0.0, duration_s, DT)
    right = ((t / STRIDE_S) % 1.0) < 0.6
    left = (((t / STRIDE_S) - 0.5) % 1.0) < 0.6
    return t, np.column_stack([right, left])


def test_strikes_and_offs_are_found_and_landing_bounces_ignored() -> None:
    t, contact = gait()
    right = contact[:, 0].copy()
    bounce = (t > 2.4 + 0.010) & (t < 2.4 + 0.020)  # a 10 ms bounce just after landing
    right[bounce] = False
    strikes = foot_strikes(t, right)
    np.testing.assert_allclose(strikes, np.arange(1, 10) * STRIDE_S, atol=DT)
    offs = foot_offs(t, right)
    np.testing.assert_allclose(offs, np.arange(0, 10) * STRIDE_S + 0.72, atol=DT)


def test_a_toe_scuff_in_swing_is_neither_a_strike_nor_a_foot_off() -> None:
    t, contact = gait()
    right = contact[:, 0].copy()
    scuff = (t > 3.0) & (t < 3.03)  # 30 ms touch in the swing from 2.52 s to 3.6 s
    right[scuff] = True
    np.testing.assert_allclose(foot_strikes(t, right), np.arange(1, 10) * STRIDE_S, atol=DT)
    np.testing.assert_allclose(foot_offs(t, right), np.arange(0, 10) * STRIDE_S + 0.72, atol=DT)


def test_without_hips_and_knees_no_strides_are_counted_and_contact_is_only_a_cross_check(
) -> None:
    t, contact = gait()
    phase = (t / STRIDE_S) % 1.0
    q = np.column_stack([
        0.3 * np.sin(2 * np.pi * phase),  # ROM 0.6 rad
        0.5 * np.sin(2 * np.pi * (phase - 0.5)),  # ROM 1.0 rad, left side
    ])
    q_ref = q + np.array([0.01, 0.0])
    tau = np.column_stack([np.full_like(t, -7.0), 3.0 * np.sin(t)])
    summary = summarize(t, contact, q, q_ref, tau, ("hip_flexion_r", "knee_angle_l"))
    # the kinematic events need both hips and knees: nothing is counted from contact
    assert (summary.step_count, summary.strides_right, summary.strides_left) == (0, 0, 0)
    assert summary.walking_time_s == 0.0 and np.isnan(summary.cadence_steps_per_min)
    # right strikes at 1.2 … 10.8 s (9), left at 0.6 … 11.4 s (10): the labelled cross-check
    assert (summary.contact_strides_right, summary.contact_strides_left) == (8, 9)
    hip, knee = summary.joints
    assert hip.rom_deg == pytest.approx(np.degrees(0.6), rel=1e-3)  # whole record: no strides
    assert knee.rom_deg == pytest.approx(np.degrees(1.0), rel=1e-3)
    assert hip.rms_error_deg == pytest.approx(np.degrees(0.01))
    assert knee.rms_error_deg == 0.0
    assert hip.peak_torque_nm == 7.0 and knee.peak_torque_nm == pytest.approx(3.0, abs=1e-3)
    assert summary.duration_s == pytest.approx(12.0)
