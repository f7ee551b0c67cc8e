"""System identification: excitation signals as controllers, and the J, b, F_c estimator."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.controllers.sysid import (
    ChirpExcitation,
    StepExcitation,
    estimate_joint_parameters,
)
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState

NAMES = ("hip_flexion_r", "knee_angle_r")
INERTIA, DAMPING, COULOMB = 0.35, 1.2, 2.0  # kg·m², N·m·s/rad, N·m
PERIOD_S = 0.001


def simulate_joint(seconds: float) -> tuple[np.ndarray, ...]:
    """A joint ``J q'' = tau - b q' - F_c sign(q')`` with stiction, driven by a torque chirp
    through the controller; returns t, q, qd, tau."""
    chirp = ChirpExcitation(NAMES, "knee_angle_r", "torque", 15.0, f0_hz=0.3, f1_hz=4.0,
                            sweep_s=seconds)
    n = round(seconds / PERIOD_S)
    t, q, qd, tau = (np.zeros(n) for _ in range(4))
    angle = velocity = 0.0
    for k in range(n):
        state = JointState.zeros(2, k * PERIOD_S)
        state.q[1], state.qd[1] = angle, velocity
        torque = float(chirp.update(state).expected_torque(state.q, state.qd)[1])
        t[k], q[k], qd[k], tau[k] = state.t_s, angle, velocity, torque
        if velocity == 0.0 and abs(torque) <= COULOMB:
            continue  # stuck: static friction holds the joint
        friction = COULOMB * np.sign(velocity if velocity != 0.0 else torque)
        new_velocity = velocity + (torque - DAMPING * velocity - friction) / INERTIA * PERIOD_S
        if velocity != 0.0 and np.sign(new_velocity) != np.sign(velocity):
            new_velocity = 0.0  # friction stops the joint; it does not reverse it
        velocity = new_velocity
        angle += velocity * PERIOD_S
    return t, q, qd, tau


def test_least_squares_recovers_inertia_damping_and_coulomb_friction_from_noisy_data() -> None:
    t, q, qd, tau = simulate_joint(20.0)
    rng = np.random.default_rng(3)
    estimate = estimate_joint_parameters(
        t,
        q + rng.normal(0.0, 1e-3, q.size),  # encoder noise, rad
        qd + rng.normal(0.0, 0.02, qd.size),  # velocity noise, rad/s
        tau + rng.normal(0.0, 0.2, tau.size),  # torque noise, N·m
    )
    assert estimate.inertia_kgm2 == pytest.approx(INERTIA, rel=0.05)
    assert estimate.damping_nms_per_rad == pytest.approx(DAMPING, rel=0.05)
    assert estimate.coulomb_nm == pytest.approx(COULOMB, rel=0.05)


def test_estimator_refuses_mismatched_or_short_recordings() -> None:
    t = np.arange(100) * PERIOD_S
    with pytest.raises(ConfigurationError, match="same length"):
        estimate_joint_parameters(t, t, t, t[:-1])
    with pytest.raises(ConfigurationError, match="too short"):
        estimate_joint_parameters(t, t, t, t, window_s=0.05)


def test_chirp_sweeps_from_f0_to_f1_starting_and_ending_at_zero() -> None:
    chirp = ChirpExcitation(NAMES, "hip_flexion_r", "torque", 1.0, f0_hz=1.0, f1_hz=5.0,
                            sweep_s=10.0)
    t = np.arange(0.0, 10.0, 1e-4)
    s = np.array([chirp.signal(x)[0] for x in t])
    assert s[0] == 0.0 and abs(chirp.signal(10.0 - 1e-9)[0]) < 1e-6
    crossings = t[np.flatnonzero(np.diff(np.sign(s)) != 0)]
    early, late = np.diff(crossings[crossings < 2.0]), np.diff(crossings[crossings > 8.0])
    assert 1 / (2 * early.mean()) == pytest.approx(1.0 + 0.4 * 1.0, rel=0.1)  # ~1.4 Hz near 1 s
    assert 1 / (2 * late.mean()) == pytest.approx(1.0 + 0.4 * 9.0, rel=0.1)  # ~4.6 Hz near 9 s
    derivative = np.gradient(s, t)
    analytic = np.array([chirp.signal(x)[1] for x in t])
    np.testing.assert_allclose(analytic[10:-10], derivative[10:-10], atol=0.05)


def test_torque_mode_excites_one_joint_and_the_others_hold_their_start() -> None:
    steps = StepExcitation(NAMES, "knee_angle_r", "torque", 8.0, step_period_s=1.0,
                           stiffness_nm_per_rad=300.0, damping_nms_per_rad=4.0)
    start = JointState.zeros(2, 5.0)
    start.q[:] = [0.2, 0.4]
    steps.reset(start)
    command = steps.update(JointState.zeros(2, 5.6))
    assert command.tau_ff.tolist() == [0.0, -8.0]  # second half of the period
    assert command.kp.tolist() == [300.0, 0.0] and command.kd.tolist() == [4.0, 0.0]
    assert command.q_ref[0] == 0.2


def test_position_mode_moves_the_reference_around_the_start() -> None:
    chirp = ChirpExcitation(NAMES, "hip_flexion_r", "position", 0.1, f0_hz=1.0, f1_hz=1.0,
                            sweep_s=4.0)
    start = JointState.zeros(2, 0.0)
    start.q[:] = [0.3, 0.1]
    chirp.reset(start)
    command = chirp.update(JointState.zeros(2, 1.25))  # past the fade-in, a sine at 1 Hz
    s, ds = chirp.signal(1.25)
    assert command.q_ref.tolist() == pytest.approx([0.3 + 0.1 * s, 0.1])
    assert command.qd_ref[0] == pytest.approx(0.1 * ds)
    assert command.tau_ff.tolist() == [0.0, 0.0]


def test_turning_the_excitation_down_ramps() -> None:
    steps = StepExcitation(NAMES, "hip_flexion_r", "torque", 10.0, step_period_s=100.0)
    steps.reset(JointState.zeros(2, 0.0))
    assert steps.update(JointState.zeros(2, 0.0)).tau_ff[0] == 10.0
    steps.set_params(scale_pct=0.0)  # 50 %/s
    assert steps.update(JointState.zeros(2, 1.0)).tau_ff[0] == pytest.approx(5.0)
    assert steps.update(JointState.zeros(2, 2.0)).tau_ff[0] == 0.0


def test_unknown_joint_or_mode_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no joint 'ankle_angle_r'"):
        StepExcitation(NAMES, "ankle_angle_r", "torque", 1.0)
    with pytest.raises(ConfigurationError, match="mode"):
        StepExcitation(NAMES, "knee_angle_r", "velocity", 1.0)  # type: ignore[arg-type]
