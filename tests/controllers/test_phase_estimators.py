"""The gait-phase sources: the cadence clock, the adaptive oscillators, the phase portrait."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rehabbot.body.normative_gait import joint_curves, thigh_difference_curve
from rehabbot.controllers.adaptive_oscillator import AdaptiveOscillator
from rehabbot.controllers.gait_phase import CadencePhase, PhaseEstimator
from rehabbot.controllers.phase_portrait import PhasePortrait
from rehabbot.controllers.phase_sources import HipPhase, hip_phase, make_phase_estimator
from rehabbot.controllers.thigh_phase import ThighDifferencePhase
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState

PERIOD_S = 0.001


def wrapped(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b in cycles, into [-0.5, 0.5)."""
    return (a - b + 0.5) % 1.0 - 0.5


def track(
    estimator: PhaseEstimator, seconds: float, angle: object, velocity: object
) -> tuple[np.ndarray, np.ndarray]:
    """Times and estimated phases of ``estimator`` fed angle(t), velocity(t) every period."""
    t = np.arange(round(seconds / PERIOD_S)) * PERIOD_S
    phases = np.array([estimator.update(float(s), angle(s), velocity(s))  # type: ignore[operator]
                       for s in t])
    return t, phases


def normative_hip(stride_hz: float) -> tuple[object, object]:
    hip = joint_curves()["hip_flexion"]

    def angle(t: float) -> float:
        return float(hip.value(np.array([stride_hz * t % 1.0]))[0])

    def velocity(t: float) -> float:
        return float(hip.derivative(np.array([stride_hz * t % 1.0]))[0]) * stride_hz

    return angle, velocity


def test_oscillator_locks_to_a_1_2_hz_sinusoid_within_six_cycles() -> None:
    f_hz = 1.2  # far from the initial guess of 0.75 Hz (90 steps/min)
    oscillator = AdaptiveOscillator(90.0, PERIOD_S)
    t, phases = track(oscillator, 12.0, lambda s: 0.1 + 0.3 * math.sin(2 * math.pi * f_hz * s),
                      lambda s: 0.0)
    # Phase 0 is where the normative hip's fundamental has its zero phase; the sinusoid's own
    # phase is the estimate shifted by that offset.
    psi = math.atan2(joint_curves()["hip_flexion"].a[0], joint_curves()["hip_flexion"].b[0])
    error = wrapped(phases + psi / (2 * math.pi), f_hz * t % 1.0)
    after = t >= 6 / f_hz
    assert np.abs(error[after]).max() < 0.01  # cycles: 8 ms at 1.2 Hz
    assert oscillator.stride_frequency_hz == pytest.approx(f_hz, rel=1e-3)


def test_oscillator_gives_the_gait_phase_of_a_normative_hip_at_another_cadence() -> None:
    stride_hz = 0.9  # 108 steps/min; the oscillator starts at 90
    oscillator = AdaptiveOscillator(90.0, PERIOD_S)
    t, phases = track(oscillator, 10.0, *normative_hip(stride_hz))
    error = wrapped(phases, stride_hz * t % 1.0)
    assert np.abs(error[t >= 4.0]).max() < 0.01
    assert oscillator.stride_frequency_hz == pytest.approx(stride_hz, rel=0.005)


def test_oscillator_reset_forgets_what_it_learned() -> None:
    oscillator = AdaptiveOscillator(90.0, PERIOD_S)
    track(oscillator, 3.0, lambda s: 0.3 * math.sin(8 * s), lambda s: 0.0)
    oscillator.reset()
    assert oscillator.stride_frequency_hz == 0.75
    assert oscillator.update(0.0, oscillator.estimate(), 0.0) == pytest.approx(0.75 * PERIOD_S)


def test_phase_portrait_of_a_sinusoid_advances_linearly_at_its_frequency() -> None:
    f_hz, amplitude = 1.2, 0.3
    portrait = PhasePortrait(90.0, PERIOD_S, time_constant_s=2.0)
    w = 2 * math.pi * f_hz
    t, phases = track(portrait, 15.0, lambda s: 0.1 + amplitude * math.sin(w * s),
                      lambda s: amplitude * w * math.cos(w * s))
    later = t >= 10.0
    unwrapped = np.unwrap(phases[later] * 2 * math.pi) / (2 * math.pi)
    slope, intercept = np.polyfit(t[later], unwrapped, 1)
    assert slope == pytest.approx(f_hz, rel=1e-3)
    residual = unwrapped - (slope * t[later] + intercept)
    assert np.abs(residual).max() < 0.01  # cycles: the normalization's ripple


def test_phase_portrait_of_the_normative_hip_is_zero_at_foot_strike() -> None:
    stride_hz = 0.75
    portrait = PhasePortrait(90.0, PERIOD_S)
    t, phases = track(portrait, 8.0, *normative_hip(stride_hz))
    strikes = np.flatnonzero(np.diff(stride_hz * t % 1.0) < 0) + 1
    assert np.abs(wrapped(phases[strikes], np.zeros(strikes.size))).max() < 0.005
    assert portrait.stride_frequency_hz == pytest.approx(stride_hz, rel=0.01)


def test_cadence_clock_ignores_the_hip() -> None:
    clock = CadencePhase(60.0)  # 0.5 strides/s
    assert [clock.update(t, 5.0 * t, -1.0) for t in (0.0, 0.5, 1.0)] == [0.0, 0.25, 0.5]


def test_a_left_hip_alone_drives_the_estimator_half_a_cycle_later() -> None:
    left = HipPhase(make_phase_estimator("portrait", 90.0, PERIOD_S), ("hip_flexion_l",))
    right = HipPhase(make_phase_estimator("portrait", 90.0, PERIOD_S), ("hip_flexion_r",))
    w = 2 * math.pi * 0.75
    for k in range(15_000):  # the running mean forgets its normative prior
        s = k * PERIOD_S
        state_r, state_l = JointState.zeros(1, s), JointState.zeros(1, s)
        state_r.q[0], state_r.qd[0] = 0.3 * math.sin(w * s), 0.3 * w * math.cos(w * s)
        # Half a stride behind: the left hip now is where the right one was half a stride ago.
        state_l.q[0], state_l.qd[0] = -state_r.q[0], -state_r.qd[0]
        phase_r, phase_l = right.update(state_r), left.update(state_l)
    assert abs(wrapped(np.array(phase_l), np.array(phase_r))) < 1e-3


def test_estimators_need_a_hip_but_the_clock_does_not() -> None:
    with pytest.raises(ConfigurationError, match="needs a hip joint"):
        HipPhase(make_phase_estimator("portrait", 90.0, PERIOD_S), ("knee_angle_r",))
    clock = HipPhase(make_phase_estimator("cadence", 90.0, PERIOD_S), ("knee_angle_r",))
    assert clock.update(JointState.zeros(1, 0.0)) == 0.0


def test_unknown_phase_source_is_refused_naming_the_choices() -> None:
    with pytest.raises(ConfigurationError,
                       match="cadence, oscillator, oscillator_left, portrait, portrait_left"):
        make_phase_estimator("imu", 90.0, PERIOD_S)


def test_a_left_source_reads_the_left_hip_and_reports_the_right_legs_phase() -> None:
    """Only the left hip walks (the right one is still, as a paretic hip might be): the _left
    source follows it and reports the phase a right hip walking half a stride ahead gives."""
    names = ("hip_flexion_r", "hip_flexion_l")
    left = hip_phase("portrait_left", names, 90.0, PERIOD_S)
    reference = HipPhase(make_phase_estimator("portrait", 90.0, PERIOD_S), ("hip_flexion_r",))
    w = 2 * math.pi * 0.75
    for k in range(15_000):
        s = k * PERIOD_S
        state, alone = JointState.zeros(2, s), JointState.zeros(1, s)
        alone.q[0], alone.qd[0] = 0.3 * math.sin(w * s), 0.3 * w * math.cos(w * s)
        state.q[1], state.qd[1] = -alone.q[0], -alone.qd[0]  # left: half a stride behind
        phase_left, phase_ref = left.update(state), reference.update(alone)
    assert abs(wrapped(np.array(phase_left), np.array(phase_ref))) < 1e-3


def test_a_left_hip_oscillator_starts_on_the_right_legs_phase() -> None:
    """A session starts at the right leg's phase 0; read from the left hip (half a stride
    behind), the oscillator reports that phase from its first tick, not half a stride off."""
    names = ("hip_flexion_r", "hip_flexion_l")
    source = hip_phase("oscillator_left", names, 90.0, PERIOD_S)
    hip = joint_curves()["hip_flexion"]
    stride_hz = 0.75
    errors = []
    for k in range(300):  # the first 0.3 s
        s = k * PERIOD_S
        phase_r = s * stride_hz
        state = JointState.zeros(2, s)
        state.q[1] = float(hip.value(np.array([phase_r - 0.5]))[0])
        state.qd[1] = float(hip.derivative(np.array([phase_r - 0.5]))[0]) * stride_hz
        errors.append(wrapped(np.array(source.update(state)), np.array(phase_r % 1.0)))
    assert max(abs(float(e)) for e in errors) < 0.03


def thighs_errors(frequency_hz: float, offset: float, seconds: float = 20.0) -> list[float]:
    """Phase errors (cycles) of the thighs estimator over the last 5 s of a thigh-angle
    difference at ``frequency_hz``, ``offset`` cycles ahead of the 90 steps/min clock."""
    curve = thigh_difference_curve()
    estimator = ThighDifferencePhase(90.0, PERIOD_S)  # its clock: 0.75 Hz
    errors = []
    for k in range(round(seconds / PERIOD_S)):
        t = k * PERIOD_S
        true_phase = (frequency_hz * t + offset) % 1.0
        delta = float(curve.value(np.array([true_phase]))[0])
        velocity = float(curve.derivative(np.array([true_phase]))[0]) * frequency_hz
        phase = estimator.update(t, delta, velocity)
        if t > seconds - 5.0:
            errors.append((phase - true_phase + 0.5) % 1.0 - 0.5)
    assert estimator.confidence_ == 1.0
    return errors


def test_the_thighs_estimator_follows_the_legs_timing_within_its_window() -> None:
    errors = thighs_errors(0.75, 0.05)  # 5 % of a stride ahead of the clock: inside the window
    assert np.sqrt(np.mean(np.square(errors))) < 0.01  # cycles


def test_the_thighs_estimators_window_runs_at_a_slower_patients_own_cadence_without_lag() -> None:
    # legs 5 % slower than the clock: a window centre at the clock's rate pulled toward them
    # with tau_c = 3 s lagged by 0.0375 Hz x 3 s = 0.11 cycles, beyond the 0.08 window, and
    # held the estimate 0.03 cycles off; at the patient's learned cadence it is on them
    errors = thighs_errors(0.95 * 0.75, 0.0, seconds=60.0)
    assert np.sqrt(np.mean(np.square(errors))) < 0.01  # cycles


def test_the_thighs_estimators_window_learns_a_steady_offset_from_the_clock() -> None:
    # legs at the clock's rate but 0.2 of a stride ahead of it, outside the +-0.08 window: the
    # window's centre drifts toward them at no more than its drift rate, then the estimate is on
    # them
    errors = thighs_errors(0.75, 0.2, seconds=20.0)
    assert np.sqrt(np.mean(np.square(errors))) < 0.01  # cycles
    curve = thigh_difference_curve()
    estimator = ThighDifferencePhase(90.0, PERIOD_S)
    for k in range(round(1.0 / PERIOD_S)):  # after 1 s the centre has moved 0.05 at most
        t = k * PERIOD_S
        true_phase = (0.75 * t + 0.2) % 1.0
        estimator.update(t, float(curve.value(np.array([true_phase]))[0]), 0.0)
    centre_moved = (estimator.clock_phase_ - 0.75 * 1.0 + 0.5) % 1.0 - 0.5
    # at most D, plus what the centre's slowly learned cadence (rising from the clock's within
    # the second) has added: far less than the 0.2 jump
    learned = abs(estimator.centre_frequency_hz_ - 0.75) * 1.0
    assert learned < 0.05
    assert 0.0 < centre_moved <= estimator.centre_drift_cycles_per_s * 1.0 + learned + 1e-9
    assert (true_phase - estimator.phase_ + 0.5) % 1.0 - 0.5 > 0.05  # still held back


def test_the_thighs_estimator_keeps_to_its_window_around_the_cadence_clock() -> None:
    curve = thigh_difference_curve()
    estimator = ThighDifferencePhase(90.0, PERIOD_S)
    lead = []
    # legs at 0.85 Hz, faster than the 0.75 Hz clock: the window's centre follows them at no
    # more than its drift (0.05 cycles/s), so they leave the window for its edge
    for k in range(round(10.0 / PERIOD_S)):
        t = k * PERIOD_S
        estimator.update(t, float(curve.value(np.array([(0.85 * t) % 1.0]))[0]), 0.0)
        lead.append((estimator.phase_ - estimator.clock_phase_ + 0.5) % 1.0 - 0.5)
    assert max(lead) == pytest.approx(estimator.window_cycles)  # held at the window's edge
    assert min(lead) >= -estimator.window_cycles


def test_the_thighs_estimator_falls_back_to_the_clock_when_the_legs_stop() -> None:
    curve = thigh_difference_curve()
    estimator = ThighDifferencePhase(90.0, PERIOD_S)
    for k in range(round(5.0 / PERIOD_S)):  # walking at the clock's 0.75 Hz
        t = k * PERIOD_S
        estimator.update(t, float(curve.value(np.array([(0.75 * t) % 1.0]))[0]), 0.0)
    for k in range(round(5.0 / PERIOD_S), round(7.0 / PERIOD_S)):  # legs held still
        estimator.update(k * PERIOD_S, 0.02, 0.0)
    assert estimator.confidence_ == 0.0
    start = estimator.phase_
    for k in range(round(7.0 / PERIOD_S), round(8.0 / PERIOD_S)):
        estimator.update(k * PERIOD_S, 0.02, 0.0)
    assert (estimator.phase_ - start) % 1.0 == pytest.approx(0.75, abs=1e-6)  # the clock's rate


def test_phase_portrait_forgets_over_the_loop_time_elapsed_not_per_tick() -> None:
    # A hip held still at 0.5 rad: the running mean leaves its prior exponentially in time,
    # whether the loop ran every period or a wall clock skipped nine ticks of every ten.
    tau_s = 2.0
    every_tick = PhasePortrait(90.0, PERIOD_S, time_constant_s=tau_s)
    skipping = PhasePortrait(90.0, PERIOD_S, time_constant_s=tau_s)
    prior = every_tick.mean_
    for k in range(3001):
        every_tick.update(k * PERIOD_S, 0.5, 0.0)
        if k % 10 == 0:
            skipping.update(k * PERIOD_S, 0.5, 0.0)
    expected = 0.5 + (prior - 0.5) * math.exp(-(3.0 + PERIOD_S) / tau_s)
    assert every_tick.mean_ == pytest.approx(expected, rel=1e-9)
    assert skipping.mean_ == pytest.approx(expected, rel=1e-9)
