"""Every gait metric on synthetic walking with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.assessment.gait_analysis import (
    Stat,
    analyze_gait,
    analyze_samples,
    symmetry_index_pct,
)
from rehabbot.assessment.kinematic_events import EventBias, SideEvents
from rehabbot.assessment.kinematics import normalized_curves_deg, stride_extrema_deg
from rehabbot.assessment.strides import stride_table, walking_time_s
from rehabbot.storage.samples import SessionSamples
from tests.assessment import synthetic

NO_BIAS = EventBias(0.0, 0.0)
T = synthetic.STRIDE_S


def known_events(n: int = 6, stance: float = 0.6, left_stance: float = 0.6
                 ) -> dict[str, SideEvents]:
    """Right strikes at k·T, left half a stride later; stances as given (fractions)."""
    k = np.arange(n, dtype=float)
    return {
        "right": SideEvents(k * T, (k + stance) * T),
        "left": SideEvents((k + 0.5) * T, (k - 0.5 + left_stance) * T),
    }


def test_temporal_parameters_of_a_symmetric_walk() -> None:
    table = stride_table(known_events(), "right")
    assert table["stride_time_s"].size == 5
    np.testing.assert_allclose(table["stride_time_s"], T)
    np.testing.assert_allclose(table["step_time_s"], T / 2)
    np.testing.assert_allclose(table["cadence_steps_per_min"], 100.0)
    np.testing.assert_allclose(table["stance_pct"], 60.0)
    np.testing.assert_allclose(table["swing_pct"], 40.0)
    np.testing.assert_allclose(table["double_support_pct"], 20.0)  # 10 % initial + 10 % terminal


def test_double_support_follows_the_other_sides_foot_off() -> None:
    # left stance 70 %: the left foot leaves 20 % after the right strike; terminal DS stays 10 %
    table = stride_table(known_events(left_stance=0.7), "right")
    np.testing.assert_allclose(table["double_support_pct"], 30.0)


def test_a_stride_with_a_missing_event_is_left_out() -> None:
    events = known_events()
    right = events["right"]
    events["right"] = SideEvents(right.foot_strike_s, np.delete(right.foot_off_s, 2))
    table = stride_table(events, "right")
    np.testing.assert_allclose(table["start_s"], [0.0, T, 3 * T, 4 * T])


def test_walking_time_is_the_union_of_the_strides() -> None:
    tables = {side: stride_table(known_events(), side) for side in ("right", "left")}
    # right strides cover 0 … 5T, left 0.5T … 5.5T
    assert walking_time_s(tables) == pytest.approx(5.5 * T)


def test_range_of_motion_and_peaks_of_a_sinusoid() -> None:
    t = np.arange(0.0, 3.0, 0.001)
    angle = np.radians(5.0 + 20.0 * np.sin(2 * np.pi * t))
    high, low = stride_extrema_deg(t, angle, np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(high, 25.0, atol=1e-3)
    np.testing.assert_allclose(low, -15.0, atol=1e-3)


def test_normalized_curves_have_101_points_from_strike_to_strike() -> None:
    t = np.arange(0.0, 3.0, 0.001)
    angle = np.radians(20.0 * np.sin(2 * np.pi * t / 1.5))
    curves = normalized_curves_deg(t, angle, np.array([0.0]), np.array([1.5]))
    assert curves.shape == (1, 101)
    np.testing.assert_allclose(curves[0], 20.0 * np.sin(2 * np.pi * np.linspace(0, 1, 101)),
                               atol=1e-3)


def test_statistics_mean_sd_and_coefficient_of_variation() -> None:
    stat = Stat.of(np.array([1.0, 1.2]), ratio_scale=True)
    assert stat.mean == pytest.approx(1.1) and stat.sd == pytest.approx(0.1414214, rel=1e-6)
    assert stat.cv_pct == pytest.approx(12.8565, rel=1e-4) and stat.n == 2
    assert Stat.of(np.array([-5.0, 5.0]), ratio_scale=False).cv_pct is None


def test_symmetry_index_is_zero_for_equal_sides_and_robinsons_formula_otherwise() -> None:
    assert symmetry_index_pct(0.6, 0.6) == 0.0
    assert symmetry_index_pct(0.5, 0.7) == pytest.approx(200 * 0.2 / 1.2)
    assert np.isnan(symmetry_index_pct(-1.0, 1.0))


def true_side_events(t: np.ndarray) -> dict[str, SideEvents]:
    """The synthetic walker's exact events inside ``t``."""
    return {side: SideEvents(truth["foot_strike"], truth["foot_off"]) for side, truth in
            ((side, synthetic.true_events(t, side)) for side in ("right", "left"))}


def test_full_analysis_of_a_symmetric_synthetic_walk() -> None:
    t, angles = synthetic.walk(duration_s=12.0)
    result = analyze_gait(t, angles, events=true_side_events(t), speed_m_s=1.0)
    for side in ("right", "left"):
        s = result.summary[side]
        assert s["stride_time_s"].mean == pytest.approx(T, abs=1e-3)
        assert s["stride_time_s"].cv_pct == pytest.approx(0.0, abs=0.2)
        assert s["stance_pct"].mean == pytest.approx(60.0, abs=0.01)
        assert s["double_support_pct"].mean == pytest.approx(20.0, abs=0.01)
        assert s["hip_rom_deg"].mean == pytest.approx(np.degrees(0.8), abs=0.01)
        assert s["knee_max_deg"].mean == pytest.approx(np.degrees(0.5), abs=0.01)
        assert s["knee_min_deg"].mean == pytest.approx(0.0, abs=0.01)
    assert result.cadence_steps_per_min == pytest.approx(100.0, abs=0.1)
    assert result.symmetry_pct["stance_pct"] == pytest.approx(0.0, abs=0.5)
    assert result.symmetry_pct["hip_rom_deg"] == pytest.approx(0.0, abs=0.01)
    # complete strides: right 1.2 → 10.8 s (8), left 0.6 → 11.4 s (9); walking 0.6 … 11.4 s
    assert result.step_count == 17
    assert result.walking_time_s == pytest.approx(10.8, abs=0.005)
    assert result.distance_m == pytest.approx(1.0 * result.walking_time_s)
    mean, sd = result.curves_deg["right"]["knee"]
    assert mean.shape == sd.shape == (101,)
    assert mean.max() == pytest.approx(np.degrees(0.5), abs=0.1)


def test_the_symmetry_index_sees_a_smaller_left_hip_excursion() -> None:
    t, angles = synthetic.walk(duration_s=12.0, left_hip_amplitude_rad=0.3)
    result = analyze_gait(t, angles, bias=NO_BIAS)
    assert result.summary["left"]["hip_rom_deg"].mean == pytest.approx(np.degrees(0.6), abs=0.01)
    assert result.symmetry_pct["hip_rom_deg"] == pytest.approx(200 * 0.2 / 1.4, abs=0.05)


def test_a_recorded_session_is_analyzed_in_the_exoskeleton_context() -> None:
    t, angles = synthetic.walk(duration_s=12.0)
    names = tuple(angles)
    q = np.column_stack([angles[n] for n in names])
    n = t.size
    tau_cmd = np.tile([10.0, -4.0, 10.0, -4.0], (n, 1))
    samples = SessionSamples(
        tick=np.arange(n), t_s=t, phase=np.zeros(n), contact=np.zeros((n, 2), dtype=bool),
        q=q, qd=np.zeros_like(q), tau=np.zeros_like(q), tau_cmd=tau_cmd, q_ref=q,
        joint_names=names)
    result = analyze_samples(samples, speed_m_s=0.8, height_m=1.75, guidance_pct=60.0)
    assert result.assistance["guidance_pct"] == 60.0
    assert result.assistance["mean_abs_torque_nm"] == {
        "hip_flexion_r": 10.0, "knee_angle_r": 4.0, "hip_flexion_l": 10.0, "knee_angle_l": 4.0}
    # 0.8 m/s on a 0.53 × 1.75 m leg: 0.8 / sqrt(9.81 × 0.9275) = 0.265, the slow class
    assert result.step_count > 0 and result.speed_class == "Slow"
    assert "ankle" not in result.movement_analysis_profile["right"]
