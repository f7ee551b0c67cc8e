"""Every monitor: the fault it raises, on which tick, and what it reports."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from rehabbot.safety import (
    Fault,
    FaultKind,
    Priority,
    SafetySettings,
    SoftLimits,
    StopCategory,
    ThermalModel,
)
from rehabbot.safety.monitors import RmsWindow
from rehabbot.safety.thermal import MOTOR_RATINGS, Actuator
from tests.safety.conftest import (
    LIMITS,
    MOTOR,
    PERIOD_S,
    Ticker,
    command,
    is_torque_off,
    make_supervisor,
    tick_of,
)


def kinds(faults: list[Fault]) -> list[tuple[FaultKind, str | None]]:
    return [(f.kind, f.joint) for f in faults]


# -- frozen sensor -----------------------------------------------------------------------------

def test_a_frozen_sensor_trips_after_n_identical_readings_under_torque() -> None:
    settings = SafetySettings(frozen_after_s=0.02, frozen_min_torque_nm=5.0)
    ticker = Ticker(make_supervisor(settings))
    ticker.command = command(kp=100.0)  # 10 N·m on both joints at q = [0.4, 0.6]
    for _ in range(30):  # a live sensor: the knee moves a little every tick
        ticker.state.q[1] += 1e-4
        ticker.state.q[0] += 1e-4
        assert ticker.run() == []
    ticker.state.q[1] -= 1e-3
    freeze = ticker.tick
    faults = []
    while not faults:  # the knee's reading freezes; the hip still moves
        ticker.state.q[0] += 1e-4
        faults = ticker.run()
    (fault,) = faults
    assert (fault.kind, fault.joint) == (FaultKind.FROZEN_SENSOR, "knee_angle_r")
    # the freeze's first reading counts as a change; 20 identical ones follow it
    assert tick_of(fault) == freeze + 20
    assert (fault.value, fault.limit) == (20.0, 20.0)
    assert is_torque_off(ticker.written[-1])


def test_identical_readings_without_torque_are_a_joint_at_rest() -> None:
    ticker = Ticker(make_supervisor(SafetySettings(frozen_after_s=0.02)))
    ticker.state.q[:] = [0.5, 0.5]  # on the reference: no torque
    ticker.command = command(kd=0.0)
    assert ticker.run(200) == []


def test_ticks_without_a_new_reading_neither_count_nor_break_a_freeze() -> None:
    settings = SafetySettings(frozen_after_s=0.01)
    ticker = Ticker(make_supervisor(settings))
    ticker.run()
    for tick in range(1, 40):
        ticker.state.age_ticks[:] = tick % 2  # a reply every other tick
        faults = ticker.run()
        if faults:
            break
    assert kinds(faults) == [(FaultKind.FROZEN_SENSOR, "hip_flexion_r"),
                             (FaultKind.FROZEN_SENSOR, "knee_angle_r")]
    assert tick_of(faults[0]) == 20  # ten new readings, every other tick


# -- position jump -----------------------------------------------------------------------------

def test_a_position_jump_beyond_velocity_limit_times_period_times_margin_trips() -> None:
    ticker = Ticker(make_supervisor(SafetySettings(jump_margin=2.0)))
    bound = LIMITS.velocity_max_rad_s[1] * PERIOD_S * 2.0  # 0.016 rad
    ticker.run()
    ticker.state.q[1] += 0.99 * bound
    assert ticker.run() == []
    ticker.state.q[1] += 1.01 * bound
    (fault,) = ticker.run()
    assert (fault.kind, fault.joint, tick_of(fault)) == (
        FaultKind.POSITION_JUMP, "knee_angle_r", 2)
    assert fault.value == pytest.approx(1.01 * bound) and fault.limit == pytest.approx(bound)
    assert is_torque_off(ticker.written[-1])


def test_the_jump_bound_grows_with_the_ticks_since_the_last_reading() -> None:
    ticker = Ticker(make_supervisor())
    bound = LIMITS.velocity_max_rad_s[1] * PERIOD_S * 2.0
    ticker.run()
    ticker.state.age_ticks[1] = 1
    ticker.run(2)  # no new knee reading for two ticks
    ticker.state.age_ticks[1] = 0
    ticker.state.q[1] += 2.9 * bound  # three ticks after the previous reading
    assert ticker.run() == []


# -- bus errors, loop overrun ----------------------------------------------------------------

@dataclass
class Counters:
    error_frames: int = 0
    send_failures: int = 0
    malformed_frames: int = 0
    unexpected_frames: int = 0


def test_bus_errors_warn_at_the_first_and_fault_beyond_the_maximum_in_the_window() -> None:
    settings = SafetySettings(bus_error_window_s=0.01, bus_error_max=5)
    ticker = Ticker(make_supervisor(settings))
    bus = Counters(error_frames=100, unexpected_frames=7)  # counted before: not ours
    ticker.run(5, bus=bus)
    bus.malformed_frames += 1
    assert ticker.run(bus=bus) == []
    warning = ticker.supervisor.take_events()[-1]
    assert (warning.kind, warning.priority) == ("warning:bus_errors", Priority.LOW)
    ticker.run(10, bus=bus)  # the error leaves the 10-tick window
    assert ticker.supervisor.take_events()[-1].kind == "warning_cleared:bus_errors"
    for _ in range(5):
        bus.send_failures += 1
        assert ticker.run(bus=bus) == []  # five in the window: still allowed
    bus.error_frames += 1
    (fault,) = ticker.run(bus=bus)
    assert (fault.kind, fault.joint, fault.value, fault.limit) == (
        FaultKind.BUS_ERRORS, None, 6.0, 5.0)
    assert tick_of(fault) == 21 and fault.category is StopCategory.FADE


def test_a_command_older_than_the_deadline_is_a_fault_that_holds_the_joints() -> None:
    ticker = Ticker(make_supervisor())  # command deadline 20 ms
    assert ticker.supervisor.command_deadline_s == 0.02
    assert ticker.run(10) == []  # every command one period old
    assert ticker.run(command_age_s=0.0199) == []  # under the deadline: a warning at most
    (fault,) = ticker.run(command_age_s=0.0201)
    assert (fault.kind, fault.joint, tick_of(fault)) == (FaultKind.COMMAND_DEADLINE, None, 11)
    assert (fault.value, fault.limit) == (0.0201, 0.02)
    assert (fault.category, fault.priority) == (StopCategory.HOLD, Priority.MEDIUM)
    assert "rehabbot doctor" in fault.describe()  # the alarm names the cause and the fix
    np.testing.assert_allclose(ticker.written[-1].q_ref, ticker.state.q)


def test_late_ticks_under_the_deadline_are_a_warning_only_when_frequent() -> None:
    settings = SafetySettings(late_window_s=0.1, late_warn_ticks=10, late_fraction=0.5)
    ticker = Ticker(make_supervisor(settings))
    late = 1.6 * PERIOD_S  # the drives' command is 1.6 periods old: a late tick
    for _ in range(9):  # ten late ticks in every window of 100: statistics, no warning
        assert ticker.run(command_age_s=late) == []
        assert ticker.run(9) == []
    assert ticker.run(command_age_s=late) == []
    assert not [e for e in ticker.supervisor.take_events() if e.kind.startswith("warning")]
    assert ticker.run(command_age_s=late) == []  # the eleventh within the window: frequent
    (warning,) = ticker.supervisor.take_events()
    assert (warning.kind, warning.priority) == ("warning:command_deadline", Priority.LOW)
    assert warning.values["late_ticks"] == 11
    assert ticker.run(100) == []  # never a fault; the warning ends with the window
    assert [e.kind for e in ticker.supervisor.take_events()] == [
        "warning_cleared:command_deadline"]


def test_a_stall_of_a_quarter_of_the_deadline_warns_for_a_window_and_never_stops() -> None:
    ticker = Ticker(make_supervisor(SafetySettings(late_window_s=0.05)))
    assert ticker.run(command_age_s=0.006) == []  # a 5 ms stall: the command was 6 ms old
    (warning,) = ticker.supervisor.take_events()
    assert warning.kind == "warning:command_deadline" and warning.values["value"] == 0.006
    assert warning.values["fault_at"] == 0.02
    assert ticker.run(48) == [] and not ticker.supervisor.take_events()  # held for the window
    assert ticker.run(2) == []
    assert [e.kind for e in ticker.supervisor.take_events()] == [
        "warning_cleared:command_deadline"]
    assert all(w.kp.any() for w in ticker.written)  # the controller's command all along


# -- thermal model and RMS torque --------------------------------------------------------------

def test_the_thermal_model_matches_its_closed_form_step_response() -> None:
    gear = 2.0
    model = ThermalModel([Actuator(MOTOR, gear)], PERIOD_S, ambient_c=25.0)
    torque_nm = 30.0  # joint side: 15 N·m motor side, 15 A, 112.5 W
    power_w = (torque_nm / gear / MOTOR.torque_constant_nm_per_a) ** 2 * (
        MOTOR.winding_resistance_ohm)
    times = np.arange(1, 20001) * PERIOD_S
    temperatures = [float(model.update(np.array([torque_nm]), np.array([20.0]))[0])
                    for _ in times]
    expected = 25.0 + power_w * MOTOR.thermal_resistance_k_per_w * (
        1.0 - np.exp(-times / MOTOR.time_constant_s))
    np.testing.assert_allclose(temperatures, expected, rtol=1e-9)


def test_a_hot_drive_reading_raises_the_model_s_reference_temperature() -> None:
    model = ThermalModel([Actuator(MOTOR)], PERIOD_S, ambient_c=25.0)
    assert model.update(np.zeros(1), np.array([70.0]))[0] == 70.0
    assert model.update(np.zeros(1), np.array([np.nan]))[0] == 25.0  # no reading


def test_over_temperature_warns_then_faults_on_the_closed_form_tick() -> None:
    ticker = Ticker(make_supervisor(thermal=True))
    ticker.command = command(kp=0.0, kd=0.0)
    ticker.state.tau[:] = [30.0, 0.0]  # the hip's drive measures 30 N·m (the patient pushes)
    faults = []
    while not faults:
        faults = ticker.run()
    (fault,) = faults
    rise_k = (30.0 / 2.0) ** 2 * MOTOR.winding_resistance_ohm * MOTOR.thermal_resistance_k_per_w

    def crossing(threshold_c: float) -> int:
        """First tick whose temperature (after its update) reaches the threshold."""
        ticks = -MOTOR.time_constant_s / PERIOD_S * math.log(1 - (threshold_c - 25.0) / rise_k)
        return math.ceil(ticks) - 1

    assert (fault.kind, fault.joint) == (FaultKind.OVER_TEMPERATURE, "hip_flexion_r")
    assert abs(tick_of(fault) - crossing(MOTOR.fault_c)) <= 1
    assert fault.category is StopCategory.FADE and fault.priority is Priority.MEDIUM
    (warning,) = [e for e in ticker.supervisor.take_events() if e.kind.startswith("warning")]
    assert warning.kind == "warning:over_temperature" and warning.joint == "hip_flexion_r"
    assert abs(tick_of(warning) - crossing(MOTOR.warn_c)) <= 1
    assert warning.priority is Priority.LOW
    # too hot to reset until the winding cooled below the warning level
    ticker.state.tau[:] = 0.0
    ticker.run()
    assert not ticker.supervisor.reset().accepted


def test_rms_window_is_exact_over_its_window() -> None:
    window = RmsWindow(n_joints=2, length=100)
    for _ in range(50):
        rms = window.update(np.array([3.0, -4.0]))
    np.testing.assert_allclose(rms, np.array([3.0, 4.0]) / math.sqrt(2))
    for _ in range(50):
        rms = window.update(np.array([3.0, -4.0]))
    np.testing.assert_allclose(rms, [3.0, 4.0])
    for _ in range(1000):  # many windows: no drift
        rms = window.update(np.array([0.0, 0.0]))
    assert rms == [0.0, 0.0]


def test_rms_torque_above_the_continuous_rating_trips_when_the_window_has_filled_enough() -> None:
    settings = SafetySettings(rms_window_s=0.1)  # 100 ticks
    ticker = Ticker(make_supervisor(settings, thermal=True))
    rating = MOTOR.continuous_torque_nm * 2.0  # 20 N·m at the joint
    ticker.state.tau[:] = [0.0, 2.0 * rating]
    faults = []
    while not faults:
        faults = ticker.run()
    (fault,) = faults
    # k ticks of 2x the rating in a 100-tick window: RMS = 2 * rating * sqrt(k / 100)
    assert (fault.kind, fault.joint, tick_of(fault)) == (FaultKind.RMS_TORQUE, "knee_angle_r",
                                                         25)
    assert fault.value == pytest.approx(rating * 2.0 * math.sqrt(26 / 100))
    warnings = [e for e in ticker.supervisor.take_events() if e.kind == "warning:rms_torque"]
    assert tick_of(warnings[0]) == 20  # 0.9 x the rating: k/100 > 0.2025


def test_default_motor_ratings_give_the_warning_level_at_the_continuous_torque() -> None:
    settings = SafetySettings()
    for rating in MOTOR_RATINGS.values():
        current_a = rating.continuous_torque_nm / rating.torque_constant_nm_per_a
        steady_c = settings.ambient_c + current_a**2 * rating.winding_resistance_ohm * (
            rating.thermal_resistance_k_per_w)
        assert steady_c == pytest.approx(rating.warn_c), rating.name


# -- range of motion, non-finite values, drive faults -----------------------------------------

def test_a_joint_beyond_its_range_of_motion_plus_margin_is_a_fault() -> None:
    soft = SoftLimits.from_rom(("hip_flexion_r", "knee_angle_r"),
                               {"knee_angle_r": (0.2, 1.0)}, LIMITS)
    ticker = Ticker(make_supervisor(SafetySettings(rom_margin_rad=0.1), soft_limits=soft))
    for _ in range(49):
        ticker.state.q[1] += 0.01  # 0.6 -> 1.09 rad: beyond the range but within the margin
        assert ticker.run() == []
    ticker.state.q[1] += 0.015
    (fault,) = ticker.run()
    assert (fault.kind, fault.joint, fault.limit) == (FaultKind.ROM_EXCEEDED, "knee_angle_r",
                                                      pytest.approx(1.1))
    assert fault.category is StopCategory.FADE


@pytest.mark.parametrize("field", ["q", "qd", "tau"])
def test_non_finite_feedback_is_an_invalid_value(field: str) -> None:
    ticker = Ticker(make_supervisor())
    ticker.run()
    getattr(ticker.state, field)[0] = np.nan
    faults = ticker.run()
    assert (FaultKind.INVALID_VALUE, "hip_flexion_r") in kinds(faults)
    assert is_torque_off(ticker.written[-1])


@pytest.mark.parametrize("field", ["q_ref", "qd_ref", "kp", "kd", "tau_ff"])
def test_a_non_finite_command_is_an_invalid_value_and_never_written(field: str) -> None:
    ticker = Ticker(make_supervisor())
    ticker.run()
    getattr(ticker.command, field)[1] = np.inf
    ticker.run()
    (fault,) = ticker.supervisor.faults_
    assert (fault.kind, fault.joint) == (FaultKind.INVALID_VALUE, "knee_angle_r")
    assert math.isnan(fault.value) and fault.event().payload()["value"] == "nan"
    assert is_torque_off(ticker.written[-1])
    assert not ticker.supervisor.reset().accepted  # the controller still sends it


def test_a_stale_joint_is_judged_on_its_staleness_only() -> None:
    ticker = Ticker(make_supervisor())
    ticker.state.age_ticks[0] = 4
    ticker.state.q[0] = 5.0  # what the robot last heard: old, so not judged
    ticker.state.qd[0] = 100.0
    ticker.state.fault_code[0] = 3
    assert kinds(ticker.run()) == [(FaultKind.STALE_FEEDBACK, "hip_flexion_r")]
