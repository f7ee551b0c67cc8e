"""Lokomat-style biofeedback and assistance torque per stride, stance and swing, known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rehabbot.assessment.biofeedback import interval_means, stride_parts
from rehabbot.assessment.gait_analysis import analyze_gait
from rehabbot.assessment.kinematic_events import EventBias, SideEvents
from rehabbot.assessment.report.tables import parameter_table
from rehabbot.gui.live_stats import LiveStats
from rehabbot.runtime.ring import LiveBlock, row_width
from tests.assessment import synthetic

RATE_HZ = 1000.0
#: Three strides of 1 s, foot off at 60 %.
START = np.array([0.5, 1.5, 2.5])
OFF = START + 0.6
END = START + 1.0


def _t(duration_s: float = 4.0) -> np.ndarray:
    return np.arange(round(duration_s * RATE_HZ)) / RATE_HZ


def _stance(t: np.ndarray) -> np.ndarray:
    return np.any((t[:, None] >= START) & (t[:, None] < OFF), axis=1)


def test_interval_means_count_the_samples_of_each_half_open_interval() -> None:
    t = np.arange(10.0)
    start, end = np.array([0.0, 3.0, 4.5, 20.0]), np.array([3.0, 4.0, 6.0, 21.0])
    means = interval_means(t, t**2, start, end)
    np.testing.assert_allclose(means[:3], [5.0 / 3.0, 9.0, 25.0])
    assert np.isnan(means[3])


def test_a_constant_torque_along_a_rising_reference_gives_minus_the_torque() -> None:
    t = _t()
    parts = stride_parts(t, np.full(t.size, 3.0), 0.2 * t, START, OFF, END)
    for part in ("stance", "swing"):
        np.testing.assert_allclose(parts[f"biofeedback_{part}_nm"], -3.0)
        np.testing.assert_allclose(parts[f"assist_{part}_nm"], 3.0)


def test_a_robot_pushing_along_a_moving_reference_is_negative_and_holding_back_positive() -> None:
    t = _t()
    q_ref = np.sin(2 * np.pi * 0.7 * t)
    direction = np.sign(np.diff(q_ref, prepend=q_ref[:1]))
    along = stride_parts(t, 5.0 * direction, q_ref, START, OFF, END)
    back = stride_parts(t, -2.0 * direction, q_ref, START, OFF, END)
    for part in ("stance", "swing"):
        assert np.all(along[f"biofeedback_{part}_nm"] < -4.9)
        assert np.all(back[f"biofeedback_{part}_nm"] > 1.9)


def test_stance_and_swing_are_split_at_the_given_events() -> None:
    t = _t()
    stance = _stance(t)
    tau_cmd = np.where(stance, 2.0, -5.0)  # along the rising reference in stance, against in swing
    parts = stride_parts(t, tau_cmd, 0.1 * t, START, OFF, END)
    np.testing.assert_allclose(parts["biofeedback_stance_nm"], -2.0)
    np.testing.assert_allclose(parts["biofeedback_swing_nm"], 5.0)
    np.testing.assert_allclose(parts["assist_stance_nm"], 2.0)
    np.testing.assert_allclose(parts["assist_swing_nm"], 5.0)


def test_same_values_as_the_consoles_live_biofeedback() -> None:
    t = _t()
    rng = np.random.default_rng(3)
    tau_cmd = rng.normal(0.0, 4.0, t.size)
    q_ref = np.cumsum(rng.normal(0.0, 0.01, t.size))
    rows = np.zeros((t.size, row_width(1)))
    rows[:, 1], rows[:, 3] = t, _stance(t)
    rows[:, 5 + 3], rows[:, 5 + 4] = tau_cmd, q_ref  # the tau_cmd and q_ref columns of joint 0
    live = LiveStats(("knee_angle_r",))
    live.update(LiveBlock(rows, 1, 0))
    parts = stride_parts(t, tau_cmd, q_ref, START, OFF, END)
    assert parts["biofeedback_stance_nm"][-1] == pytest.approx(live.biofeedback_nm["stance"][0])
    # the console's last completed swing ends at the last foot strike, 2.5 s: stride 2's swing
    assert parts["biofeedback_swing_nm"][1] == pytest.approx(live.biofeedback_nm["swing"][0])
    assert parts["biofeedback_swing_nm"][1] != pytest.approx(parts["biofeedback_swing_nm"][2])


def test_session_metrics_carry_biofeedback_only_where_torques_exist() -> None:
    t, angles = synthetic.walk(duration_s=12.0)
    no_bias = EventBias(0.0, 0.0)
    lab = analyze_gait(t, angles, bias=no_bias).metrics_dict()
    assert not any(key.endswith("_nm") for key in lab["per_side"]["right"])
    assert lab["assistance"] == {}
    # the robot pushes each joint along its reference with 4 N·m in stance, 1 N·m in swing
    true = {side: synthetic.true_events(t, side) for side in ("right", "left")}
    torque = {}
    for name, q in angles.items():
        side = true["right" if name.endswith("_r") else "left"]
        strikes, offs = side["foot_strike"], side["foot_off"]
        last_strike = strikes[np.searchsorted(strikes, t, side="right") - 1
                              ] if strikes.size else t * 0
        last_off = offs[np.clip(np.searchsorted(offs, t, side="right") - 1, 0, None)]
        in_stance = last_strike > last_off
        torque[name] = np.where(in_stance, 4.0, 1.0) * np.sign(np.diff(q, prepend=q[:1]))
    # the walker's true events: the per-stride means below are exact only on them
    result = analyze_gait(t, angles, commanded_torque_nm=torque, reference_angle_rad=angles,
                          events={s: SideEvents(e["foot_strike"], e["foot_off"])
                                  for s, e in true.items()})
    stats = result.summary["right"]
    # a hip reference moves at every sample but its two turning points; events from the angles
    assert stats["hip_biofeedback_stance_nm"].mean == pytest.approx(-4.0, abs=0.05)
    assert stats["hip_biofeedback_swing_nm"].mean == pytest.approx(-1.0, abs=0.05)
    assert stats["hip_assist_stance_nm"].mean == pytest.approx(4.0, abs=0.05)
    assert stats["hip_biofeedback_stance_nm"].cv_pct is None
    assert stats["hip_assist_swing_nm"].n == stats["stride_time_s"].n
    assert result.symmetry_pct["hip_assist_stance_nm"] == pytest.approx(0.0, abs=1.0)
    metrics = json.loads(json.dumps(result.metrics_dict()))
    left_strides = result.summary["left"]["stride_time_s"].n
    assert len(metrics["strides"]["left"]["knee_biofeedback_swing_nm"]) == left_strides
    rows = {row[0]: row for row in parameter_table(result)[2]}
    right_mean = rows["hip biofeedback in stance (N·m)"][1].split(" ± ")[0]
    left_mean = rows["hip mean |commanded torque| in swing (N·m)"][3].split(" ± ")[0]
    assert float(right_mean) == pytest.approx(-4.0, abs=0.05)
    assert float(left_mean) == pytest.approx(1.0, abs=0.05)
    assert not any("N·m" in label for label in (row[0] for row in parameter_table(
        analyze_gait(t, angles, bias=no_bias))[2]))


def test_interval_means_of_adjacent_and_empty_intervals_and_refuses_overlap() -> None:
    t = np.arange(10.0)
    values = t * 10.0
    means = interval_means(t, values, np.array([0.0, 3.0, 3.0, 8.5]),
                           np.array([3.0, 3.0, 7.0, 8.7]))
    np.testing.assert_allclose(means, [10.0, np.nan, 45.0, np.nan])
    with pytest.raises(ValueError, match="non-overlapping"):
        interval_means(t, values, np.array([0.0, 2.0]), np.array([4.0, 6.0]))
