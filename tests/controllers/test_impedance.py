"""The impedance law, the guidance level, the normative reference and bumpless changes."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.body.normative_gait import GaitReference, PeriodicCurve
from rehabbot.controllers.compensation import Compensation, JointFriction
from rehabbot.controllers.gait_phase import CadencePhase
from rehabbot.controllers.impedance import FLOOR_PARAMS, ImpedanceController
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointCommand, JointState

NAMES = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
K = np.array([800.0, 600.0, 800.0, 600.0])
D = np.array([20.0, 10.0, 20.0, 10.0])


def state_at(t_s: float) -> JointState:
    state = JointState.zeros(4, t_s)
    state.q[:] = [0.1, 0.2, -0.1, 0.3]
    state.qd[:] = [0.5, -0.5, 0.2, 0.0]
    return state


def test_command_torque_is_the_impedance_law() -> None:
    command = JointCommand(
        q_ref=np.array([1.0, 0.0]), qd_ref=np.array([0.0, 2.0]), kp=np.array([10.0, 0.0]),
        kd=np.array([1.0, 3.0]), tau_ff=np.array([0.5, -1.0]),
    )
    tau = command.expected_torque(np.array([0.5, 1.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(tau, [10 * 0.5 + 1 * (0 - 1) + 0.5, 0 + 3 * (2 - 1) - 1.0])


@pytest.mark.parametrize("guidance", [0.0, 35.0, 100.0])
def test_guidance_scales_stiffness_and_damping(guidance: float) -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=guidance)
    command = ctrl.update(state_at(0.0))
    np.testing.assert_allclose(command.kp, K * guidance / 100)
    np.testing.assert_allclose(command.kd, D * guidance / 100)
    np.testing.assert_allclose(command.tau_ff, 0.0)


def test_compensation_is_added_as_feed_forward() -> None:
    friction = JointFriction(np.full(4, 2.0), np.full(4, 0.5))
    ctrl = ImpedanceController(NAMES, K, D, 40.0, compensation=Compensation(friction=friction))
    command = ctrl.update(state_at(0.0))
    np.testing.assert_allclose(command.tau_ff, friction.torques(state_at(0.0).qd))
    np.testing.assert_allclose(command.kp, 0.4 * K)


def test_reference_follows_the_cadence_and_its_velocity_is_its_time_derivative() -> None:
    cadence = 90.0  # 0.75 strides/s
    ctrl = ImpedanceController(NAMES, K, D, cadence_steps_per_min=cadence)
    ref = GaitReference(NAMES)
    dt = 1e-4
    commands = [ctrl.update(state_at(t)) for t in (0.0, 0.4, 0.4 + dt)]
    assert ctrl.phase_ == pytest.approx((0.4 + dt) * 0.75)
    np.testing.assert_allclose(commands[1].q_ref, ref.evaluate(0.4 * 0.75)[0])
    finite_difference = (commands[2].q_ref - commands[1].q_ref) / dt
    np.testing.assert_allclose(commands[1].qd_ref, finite_difference, rtol=1e-3, atol=1e-3)


def test_left_leg_runs_half_a_cycle_behind_the_right() -> None:
    ref = GaitReference(NAMES)
    right = ref.evaluate(0.2)[0]
    left = ref.evaluate(0.7)[0]
    np.testing.assert_allclose(left[[2, 3]], right[[0, 1]], atol=1e-12)


def test_normative_reference_has_walking_ranges_of_motion() -> None:
    ref = GaitReference(NAMES)
    q = np.degrees(np.array([ref.evaluate(p)[0] for p in np.linspace(0, 1, 201)]))
    hip_rom, knee_rom = np.ptp(q[:, 0]), np.ptp(q[:, 1])
    assert 38 < hip_rom < 46  # thigh angle to the vertical, pelvis upright
    assert 52 < knee_rom < 60
    assert q[:, 1].max() == pytest.approx(59, abs=2)  # peak knee flexion in swing


def test_fourier_fit_reproduces_the_samples() -> None:
    phase = np.linspace(0, 1, 51)
    samples = 0.3 + 0.5 * np.cos(2 * np.pi * phase) - 0.2 * np.sin(6 * np.pi * phase)
    curve = PeriodicCurve.fit(samples, harmonics=4)
    np.testing.assert_allclose(curve.value(phase), samples, atol=1e-9)


def test_out_of_range_parameters_are_refused_and_nothing_changes() -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=60)
    message = r"guidance_pct = 120 % is out of range \[0, 100\]"
    with pytest.raises(ConfigurationError, match=message):
        ctrl.set_params(cadence_steps_per_min=100.0, guidance_pct=120.0)
    assert ctrl.get_params() == {"guidance_pct": 60.0, "cadence_steps_per_min": 90.0,
                                 "hip_rom_pct": 100.0, "knee_rom_pct": 100.0} | {
                                     param: 0.0 for param in FLOOR_PARAMS.values()}
    with pytest.raises(ConfigurationError, match="no parameter 'stiffness'"):
        ctrl.set_params(stiffness=3.0)


def test_a_guidance_change_ramps_at_its_rate_so_the_torque_never_steps() -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=80.0)
    ctrl.update(state_at(0.0))
    ctrl.set_params(guidance_pct=20.0)  # ramps at 25 %/s
    kp = [ctrl.update(state_at(t)).kp[0] / K[0] * 100 for t in np.arange(1, 4001) * 1e-3]
    assert kp[0] == pytest.approx(80.0 - 0.025)
    assert kp[999] == pytest.approx(55.0)
    assert kp[-1] == pytest.approx(20.0)
    assert np.abs(np.diff(kp)).max() <= 0.025 + 1e-9
    assert ctrl.get_params()["guidance_pct"] == 20.0  # what was set, not the ramp


def test_a_cadence_change_ramps_and_keeps_the_phase_continuous() -> None:
    ctrl = ImpedanceController(NAMES, K, D, cadence_steps_per_min=90.0)
    ctrl.update(state_at(0.0))
    before = ctrl.update(state_at(1.0)).q_ref
    ctrl.set_params(cadence_steps_per_min=60.0)  # ramps at 10 steps/min per s
    after = ctrl.update(state_at(1.0)).q_ref
    np.testing.assert_allclose(after, before)
    dt = 1e-3
    for t in np.arange(1, 4001) * dt:
        ctrl.update(state_at(1.0 + t))
    # 3 s of ramp from 90 to 60 steps/min (mean 75), then 1 s at 60: in strides (120 steps/min).
    expected = 0.75 + (3.0 * 75.0 + 1.0 * 60.0) / 120.0
    assert ctrl.phase_ == pytest.approx(expected % 1.0, abs=1e-3)


def test_range_of_motion_scales_the_reference_about_its_mean() -> None:
    ctrl = ImpedanceController(NAMES, K, D, cadence_steps_per_min=90.0)
    ctrl.set_params(hip_rom_pct=80.0, knee_rom_pct=110.0)
    ctrl.reset(state_at(0.0))  # a run starts: ramps settle at once
    q_ref, qd_ref = ctrl.reference(0.3)
    q, dq = ctrl.reference_.evaluate(0.3)
    scale = np.array([0.8, 1.1, 0.8, 1.1])
    mean = ctrl.reference_.mean_rad
    np.testing.assert_allclose(q_ref, mean + scale * (q - mean))
    np.testing.assert_allclose(qd_ref, scale * dq * 0.75)


def test_with_an_estimator_the_cadence_cannot_be_set_while_running() -> None:
    ctrl = ImpedanceController(NAMES, K, D, phase_source="oscillator")
    with pytest.raises(ConfigurationError, match="follows the patient"):
        ctrl.set_params(cadence_steps_per_min=100.0)
    assert ctrl.phase_source_.estimator.stride_frequency_hz == 0.75


def test_cadence_phase_rejects_implausible_cadence() -> None:
    with pytest.raises(ConfigurationError, match="steps/min"):
        CadencePhase(500.0)
