"""Assist-as-needed: error-based learning with forgetting, per joint and phase bin, bounded."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.controllers.assist_as_needed import AssistAsNeededController
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState

NAMES = ("hip_flexion_r", "knee_angle_r")
K = np.array([800.0, 600.0])
D = np.array([20.0, 10.0])
CADENCE = 60.0  # 0.5 strides/s: a stride lasts 2 s
PERIOD_S = 0.01


def walk(ctrl: AssistAsNeededController, strides: int, error_rad: object) -> list[np.ndarray]:
    """Run ``strides`` strides with the joints ``error_rad(phase)`` short of the reference;
    the guidance (%) of every tick."""
    guidance = []
    ticks_per_stride = round(2.0 / PERIOD_S)
    for k in range(strides * ticks_per_stride + 1):
        t = k * PERIOD_S
        phase = (t / 2.0) % 1.0
        q_ref = ctrl.reference(phase)[0]
        state = JointState.zeros(2, t)
        state.q[:] = q_ref - error_rad(phase)  # type: ignore[operator]
        guidance.append(ctrl.update(state).kp / K * 100.0)
    return guidance


def aan(**kw: float) -> AssistAsNeededController:
    params = {"forgetting": 0.8, "error_gain_pct_per_rad": 100.0} | kw
    return AssistAsNeededController(NAMES, K, D, cadence_steps_per_min=CADENCE,
                                    rate_pct_per_s=1000.0, **params)


def test_guidance_converges_to_the_fixed_point_of_error_based_learning() -> None:
    ctrl = aan()
    error = np.array([0.1, 0.05])  # rad
    walk(ctrl, 60, lambda phase: error)
    # g = f g + h e  ->  g* = h e / (1 - f)
    # after 60 strides the start (100 %) is forgotten to 0.8**60, about 1e-6 of it
    np.testing.assert_allclose(ctrl.table_pct_, (100.0 * error / 0.2)[:, None] * np.ones(20),
                               rtol=1e-5)
    assert ctrl.strides_ == 60


def test_each_stride_applies_one_step_of_the_update() -> None:
    ctrl = aan()
    walk(ctrl, 1, lambda phase: np.array([0.1, 0.1]))
    np.testing.assert_allclose(ctrl.table_pct_, 0.8 * 100.0 + 100.0 * 0.1)


def test_guidance_is_learned_per_phase_bin() -> None:
    ctrl = aan()
    walk(ctrl, 50, lambda phase: np.full(2, 0.2 if phase < 0.5 else 0.0))
    table = ctrl.table_pct_
    np.testing.assert_allclose(table[:, :10], 100.0)  # capped at the upper bound
    np.testing.assert_allclose(table[:, 10:], 0.0, atol=1e-2)  # forgotten


def test_bounds_set_by_the_therapist_hold() -> None:
    ctrl = aan(min_guidance_pct=20.0, max_guidance_pct=60.0)
    assert (ctrl.table_pct_ == 60.0).all()
    guidance = walk(ctrl, 20, lambda phase: np.zeros(2))
    np.testing.assert_allclose(ctrl.table_pct_, 20.0)
    assert min(g.min() for g in guidance) >= 20.0 - 1e-9
    ctrl.set_params(min_guidance_pct=0.0, max_guidance_pct=10.0)
    guidance = walk(ctrl, 1, lambda phase: np.full(2, 1.0))
    assert guidance[-1].max() == pytest.approx(10.0)


def test_guidance_never_steps_even_when_a_stride_updates_every_bin() -> None:
    ctrl = AssistAsNeededController(NAMES, K, D, forgetting=0.5, error_gain_pct_per_rad=0.0,
                                    cadence_steps_per_min=CADENCE, rate_pct_per_s=20.0)
    guidance = np.array(walk(ctrl, 3, lambda phase: np.zeros(2)))
    assert np.abs(np.diff(guidance, axis=0)).max() <= 20.0 * PERIOD_S + 1e-9


def test_a_lower_bound_above_the_upper_is_refused() -> None:
    ctrl = aan()
    with pytest.raises(ConfigurationError, match="above max_guidance_pct"):
        ctrl.set_params(min_guidance_pct=70.0, max_guidance_pct=50.0)
    assert ctrl.get_params()["min_guidance_pct"] == 0.0


def test_reset_starts_again_from_full_guidance() -> None:
    ctrl = aan()
    walk(ctrl, 5, lambda phase: np.zeros(2))
    ctrl.reset(JointState.zeros(2))
    assert (ctrl.table_pct_ == 100.0).all() and ctrl.strides_ == 0
