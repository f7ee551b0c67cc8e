"""Stop categories, their timing in ticks, latching, reset and the E-STOP input."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.safety import (
    FaultKind,
    Priority,
    Reaction,
    SafetySettings,
    StopCategory,
)
from tests.safety.conftest import (
    LIMITS,
    PERIOD_S,
    Ticker,
    command,
    is_torque_off,
    make_supervisor,
    tick_of,
)


def reacting(kind: FaultKind, category: StopCategory, **settings: float) -> Ticker:
    """A ticker whose supervisor answers ``kind`` with ``category``."""
    return Ticker(make_supervisor(
        SafetySettings(reactions={kind: Reaction(category)}, **settings)))  # type: ignore[arg-type]


def trip_velocity(ticker: Ticker) -> None:
    """Make hip_flexion_r overspeed (the fault the reaction tests use)."""
    ticker.state.qd[0] = LIMITS.velocity_max_rad_s[0] + 1.0


def test_category_0_turns_the_torque_off_on_the_detection_tick() -> None:
    ticker = reacting(FaultKind.VELOCITY_LIMIT, StopCategory.TORQUE_OFF)
    ticker.run(10)
    assert np.abs(ticker.torques[-1]).min() > 1.0  # torque before the fault
    trip_velocity(ticker)
    (fault,) = ticker.run()
    assert tick_of(fault) == 10 and fault.category is StopCategory.TORQUE_OFF
    assert is_torque_off(ticker.written[10])
    ticker.state.qd[0] = 0.0
    ticker.run(50)
    assert all(is_torque_off(c) for c in ticker.written[10:])  # latched
    assert ticker.supervisor.torque_off_


@pytest.mark.parametrize("fade_s", [0.05, 0.0105])
def test_category_1_fades_the_torque_monotonically_to_zero_within_the_fade_time(
    fade_s: float,
) -> None:
    ticker = reacting(FaultKind.VELOCITY_LIMIT, StopCategory.FADE, fade_s=fade_s)
    ticker.command = command(tau_ff=20.0)
    ticker.run(10)
    before = ticker.torques[-1].copy()
    trip_velocity(ticker)
    ticker.run(100)
    fade_ticks = round(fade_s / PERIOD_S)
    magnitudes = np.abs(np.array(ticker.torques[10:]))
    # no step at the start: the fade starts from the torque of the last tick
    np.testing.assert_allclose(ticker.torques[10], before)
    assert np.all(np.diff(magnitudes, axis=0) <= 1e-12)  # monotonic decay on every joint
    zero_from = next(i for i, m in enumerate(magnitudes) if not m.any())
    assert abs(zero_from - fade_ticks) <= 1
    assert all(is_torque_off(c) for c in ticker.written[10 + zero_from:])
    events = [e.kind for e in ticker.supervisor.take_events()]
    assert events == ["fault:velocity_limit", "stop:category_1", "stop:faded"]


def test_a_category_1_fade_does_not_use_the_feedback() -> None:
    ticker = reacting(FaultKind.STALE_FEEDBACK, StopCategory.FADE, fade_s=0.02)
    ticker.command = command(tau_ff=20.0)
    ticker.run(5)
    ticker.state.age_ticks[1] = 10  # the knee's drive went silent ...
    ticker.state.q[1] = np.nan  # ... and left garbage behind
    assert [f.kind for f in ticker.run(3)] == [FaultKind.STALE_FEEDBACK]
    fading = [float(c.tau_ff[1]) for c in ticker.written[5:8]]
    assert fading[0] > fading[1] > fading[2] > 0
    assert all(not c.kp.any() and not c.kd.any() for c in ticker.written[5:8])


def test_category_2_holds_the_position_then_escalates_to_0_when_pushed_beyond_tolerance() -> None:
    ticker = reacting(FaultKind.DRIVE_FAULT, StopCategory.HOLD, standstill_tolerance_rad=0.05)
    ticker.run(5)
    held_at = ticker.state.q.copy()
    ticker.state.fault_code[0] = 1
    ticker.run()
    ticker.state.fault_code[0] = 0
    hold = ticker.written[5]
    np.testing.assert_allclose(hold.q_ref, held_at)
    assert np.all(hold.kp > 0) and not hold.tau_ff.any() and not hold.qd_ref.any()
    # the patient pushes the knee slowly: within the tolerance the hold pushes back
    for _ in range(12):
        ticker.state.q[1] += 0.004
        assert ticker.run() == []
    assert ticker.torques[-1][1] < 0 and ticker.supervisor.reaction_ is StopCategory.HOLD
    # 0.052 rad from where the hold began: category 0 on that very tick
    ticker.state.q[1] += 0.004
    (fault,) = ticker.run()
    assert (fault.kind, fault.joint, tick_of(fault)) == (
        FaultKind.STANDSTILL, "knee_angle_r", 5 + 13)
    assert fault.category is StopCategory.TORQUE_OFF
    assert is_torque_off(ticker.written[-1])
    assert ticker.supervisor.reaction_ is StopCategory.TORQUE_OFF


def test_a_more_severe_fault_escalates_a_stop_and_a_milder_one_does_not() -> None:
    ticker = Ticker(make_supervisor(SafetySettings(fade_s=0.1)))
    ticker.run(3)
    faults = ticker.run(command_age_s=0.03)  # a command older than the deadline: a hold
    assert [f.kind for f in faults] == [FaultKind.COMMAND_DEADLINE]
    assert ticker.supervisor.reaction_ is StopCategory.HOLD
    ticker.state.q[0] = 3.0  # far beyond the hold's tolerance and the hard limit
    faults = ticker.run()
    assert {f.kind for f in faults} == {FaultKind.POSITION_LIMIT, FaultKind.STANDSTILL,
                                         FaultKind.POSITION_JUMP}
    assert is_torque_off(ticker.written[-1])
    stops = [e.category for e in ticker.supervisor.take_events() if e.kind.startswith("stop:")]
    assert stops == [StopCategory.HOLD, StopCategory.TORQUE_OFF]


def test_a_milder_fault_during_a_fade_does_not_relax_it() -> None:
    ticker = reacting(FaultKind.VELOCITY_LIMIT, StopCategory.FADE, fade_s=0.02)
    ticker.command = command(tau_ff=20.0)
    ticker.run(2)
    trip_velocity(ticker)
    ticker.run(3)
    ticker.run(command_age_s=0.03)  # a command deadline fault (category 2) during the fade
    assert ticker.supervisor.reaction_ is StopCategory.FADE
    assert ticker.written[-1].kp.sum() == 0  # still fading, not holding


def test_faults_latch_after_their_cause_went_away_until_a_reset() -> None:
    ticker = Ticker(make_supervisor())
    trip_velocity(ticker)
    ticker.run()
    ticker.state.qd[0] = 0.0
    assert ticker.run(100) == []
    assert ticker.supervisor.tripped and is_torque_off(ticker.written[-1])
    result = ticker.supervisor.reset()
    assert result.accepted and [f.kind for f in result.cleared] == [FaultKind.VELOCITY_LIMIT]
    ticker.run()
    assert not ticker.supervisor.tripped and not is_torque_off(ticker.written[-1])


def test_reset_is_refused_while_a_cause_is_present() -> None:
    ticker = Ticker(make_supervisor())
    ticker.state.q[1] = 2.0  # knee beyond its hard limit
    ticker.run()
    result = ticker.supervisor.reset()
    assert not result.accepted and [f.kind for f in result.blocking] == [
        FaultKind.POSITION_LIMIT]
    assert ticker.supervisor.tripped
    assert ticker.supervisor.take_events()[-1].kind == "reset:refused"
    for _ in range(100):  # the therapist moves the joint back by hand
        ticker.state.q[1] -= 0.01
        ticker.run()
    assert ticker.supervisor.reset().accepted


def test_estop_stops_on_the_next_tick_and_reset_is_refused_while_pressed() -> None:
    ticker = Ticker(make_supervisor())
    ticker.run(5)
    ticker.supervisor.estop()
    (fault,) = ticker.run()
    assert fault.kind is FaultKind.ESTOP and fault.joint is None
    assert fault.priority is Priority.HIGH and is_torque_off(ticker.written[5])
    ticker.run(10)
    result = ticker.supervisor.reset()
    assert not result.accepted and result.blocking[0].kind is FaultKind.ESTOP
    ticker.supervisor.estop(pressed=False)
    ticker.run()
    assert is_torque_off(ticker.written[-1])  # released: still latched
    assert ticker.supervisor.reset().accepted
    kinds = [e.kind for e in ticker.supervisor.take_events()]
    assert kinds == ["estop:pressed", "fault:estop", "stop:category_0", "reset:refused",
                     "estop:released", "reset"]


def test_a_press_released_before_the_next_tick_still_stops() -> None:
    ticker = Ticker(make_supervisor())
    ticker.run(2)
    ticker.supervisor.estop(True)
    ticker.supervisor.estop(False)
    assert [f.kind for f in ticker.run()] == [FaultKind.ESTOP]
    assert is_torque_off(ticker.written[-1])


def test_estop_may_be_category_1() -> None:
    ticker = reacting(FaultKind.ESTOP, StopCategory.FADE, fade_s=0.01)
    ticker.command = command(tau_ff=10.0)
    ticker.run(3)
    ticker.supervisor.estop()
    ticker.run(12)
    assert ticker.written[3].tau_ff.any() and not ticker.written[3].kp.any()
    assert is_torque_off(ticker.written[3 + 10])


def test_estop_category_2_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="E-STOP must be stop category 0 or 1"):
        SafetySettings(reactions={FaultKind.ESTOP: Reaction(StopCategory.HOLD)})


@pytest.mark.parametrize("kind", [FaultKind.STALE_FEEDBACK, FaultKind.FROZEN_SENSOR,
                                  FaultKind.POSITION_JUMP, FaultKind.INVALID_VALUE])
def test_sensor_faults_cannot_be_answered_by_a_hold(kind: FaultKind) -> None:
    with pytest.raises(ConfigurationError, match="needs the position feedback"):
        SafetySettings(reactions={kind: Reaction(StopCategory.HOLD)})


def test_the_standstill_monitor_is_always_category_0() -> None:
    with pytest.raises(ConfigurationError, match="standstill"):
        SafetySettings(reactions={FaultKind.STANDSTILL: Reaction(StopCategory.FADE)})


def test_a_requested_stop_fades_without_a_fault_and_a_reset_resumes() -> None:
    ticker = Ticker(make_supervisor(SafetySettings(fade_s=0.01)))
    ticker.command = command(tau_ff=10.0)
    ticker.run(2)
    ticker.supervisor.request_stop(StopCategory.FADE)
    ticker.run(12)
    assert not ticker.supervisor.tripped and ticker.supervisor.torque_off_
    assert is_torque_off(ticker.written[-1])
    assert ticker.supervisor.reset().accepted
    ticker.run()
    assert not is_torque_off(ticker.written[-1])


def test_every_fault_and_stop_is_an_event_with_its_priority() -> None:
    ticker = Ticker(make_supervisor())
    ticker.run(3)
    trip_velocity(ticker)
    ticker.run()
    fault_event, stop_event = ticker.supervisor.take_events()
    assert (fault_event.t_s, fault_event.kind, fault_event.joint) == (
        3 * PERIOD_S, "fault:velocity_limit", "hip_flexion_r")
    assert fault_event.payload() == {"value": 6.0, "limit": 5.0, "category": 0,
                                     "priority": "high"}
    assert stop_event.kind == "stop:category_0" and stop_event.values == {
        "cause": "velocity_limit"}
    assert not ticker.supervisor.has_events


def test_a_reset_right_after_a_short_press_is_refused_and_the_press_still_stops() -> None:
    ticker = Ticker(make_supervisor())
    ticker.run()
    ticker.supervisor.estop(True)
    ticker.supervisor.estop(False)
    result = ticker.supervisor.reset()
    assert not result.accepted
    assert ticker.supervisor.take_events()[-1].values == {"blocking": "estop"}
    assert [f.kind for f in ticker.run()] == [FaultKind.ESTOP]
    assert is_torque_off(ticker.written[-1])
    ticker.run()
    assert ticker.supervisor.reset().accepted
    assert [e.kind for e in ticker.supervisor.take_events()] == [
        "fault:estop", "stop:category_0", "estop:released", "reset"]
