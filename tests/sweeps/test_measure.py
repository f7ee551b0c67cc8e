"""The session figures of sweeps and the controllers benchmark, on signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.body.normative_gait import GaitReference
from rehabbot.sweeps.measure import measure

NAMES = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
STRIDE_S = 1.2


def walk(seconds: float = 10.0) -> dict[str, np.ndarray]:
    """1 kHz ticks walking the normative pattern exactly, strides of 1.2 s from t = 0."""
    t = np.arange(0.0, seconds, 0.001)
    phase = (t % STRIDE_S) / STRIDE_S
    reference = GaitReference(NAMES)
    q = np.array([reference.evaluate(p)[0] for p in phase])
    return {"t": t, "phase": phase, "contact": phase < 0.6, "q": q,
            "qd": np.zeros_like(q), "tau": np.zeros_like(q)}


def test_tracking_the_normative_pattern_in_phase_scores_zero_errors() -> None:
    w = walk()
    m = measure(w["t"], w["phase"], w["contact"], w["q"], w["qd"], w["tau"], NAMES, ran_s=10.0)
    assert m.rms_error_deg == pytest.approx(0.0, abs=1e-9)
    assert m.phase_error_ms == pytest.approx(0.0, abs=1e-6)
    assert m.ran_s == 10.0 and np.isnan(m.robot_work_pct)


def test_errors_are_in_degrees_and_milliseconds() -> None:
    w = walk()
    late = (w["phase"] - 0.05) % 1.0  # the controller's phase 5 % of a stride behind
    offset = w["q"] + np.radians(2.0)  # every joint 2 deg off the pattern
    m = measure(w["t"], late, w["contact"], offset, w["qd"], w["tau"], NAMES, ran_s=10.0)
    assert m.rms_error_deg == pytest.approx(2.0, rel=1e-6)
    assert m.phase_error_ms == pytest.approx(0.05 * STRIDE_S * 1000.0, rel=1e-3)


def test_robot_power_share_and_peak_torque_count_only_positive_work_after_settling() -> None:
    w = walk()
    w["qd"][:, 0] = 1.0
    w["tau"][:, 0] = np.where(w["t"] < 4.0, 50.0, 2.0)  # the large torque lies in the settling
    w["tau"][:, 1] = -3.0  # negative work on a still joint: nothing
    w["qd"][:, 1] = 0.0
    w["tau"][w["t"] >= 8.0, 0] = 90.0  # after the fault: left out
    patient = np.full(w["t"].size, 6.0)
    m = measure(w["t"], w["phase"], w["contact"], w["q"], w["qd"], w["tau"], NAMES,
                ran_s=8.0, patient_power_w=patient, settle_s=4.0)
    assert m.robot_power_w == pytest.approx(2.0, rel=1e-3)
    assert m.robot_work_pct == pytest.approx(25.0, rel=1e-3)
    assert m.peak_torque_nm == 50.0 and m.ran_s == 8.0


def test_a_session_shorter_than_the_settling_time_has_no_figures() -> None:
    w = walk(3.0)
    m = measure(w["t"], w["phase"], w["contact"], w["q"], w["qd"], w["tau"], NAMES, ran_s=3.0)
    assert np.isnan(m.rms_error_deg) and np.isnan(m.phase_error_ms)
    assert np.isnan(m.robot_power_w)
