"""Hold-to-run recovery: a leg limp beyond its limit after a stop is brought back inside,
gently and only while held, so that the reset is accepted; never with E-STOP pressed or a
sensor fault latched; released or faulted, the torque is off at once."""

from __future__ import annotations

import time

import numpy as np

from rehabbot.safety import FaultKind
from rehabbot.safety.recovery import RecoveryLimits
from tests.safety.conftest import PERIOD_S, Ticker, is_torque_off, make_supervisor

#: Inertia (kg·m²) and viscous damping (N·m·s/rad) of the simple leg the tests move.
INERTIA = 0.3
DAMPING = 1.0
LIMITS = RecoveryLimits()


def step_leg(ticker: Ticker) -> None:
    """Move the hand-made state by the torque the last written command makes (a limp leg
    without gravity: inertia and damping)."""
    state = ticker.state
    tau = ticker.torques[-1]
    qdd = (tau - DAMPING * state.qd) / INERTIA
    state.qd += qdd * PERIOD_S
    state.q += state.qd * PERIOD_S


def beyond_the_knee_limit() -> Ticker:
    """A supervisor whose right knee has drifted to -0.1 rad (limit 0.0): latched, torque off."""
    ticker = Ticker(make_supervisor())
    ticker.state.q[:] = [0.4, -0.1]
    faults = ticker.run()
    assert [(f.kind, f.joint) for f in faults] == [(FaultKind.POSITION_LIMIT, "knee_angle_r")]
    assert is_torque_off(ticker.written[-1])
    return ticker


def hold(ticker: Ticker, ticks: int) -> None:
    """Hold the recovery input for ``ticks`` ticks (renewed every tick), the leg moving."""
    for _ in range(ticks):
        ticker.supervisor.recover(True)
        ticker.run()
        step_leg(ticker)


def event_kinds(ticker: Ticker) -> list[str]:
    return [e.kind for e in ticker.supervisor.take_events()]


def test_a_leg_beyond_its_limit_comes_back_while_held_and_then_the_reset_is_accepted() -> None:
    ticker = beyond_the_knee_limit()
    sup = ticker.supervisor
    assert not sup.reset().accepted  # the cause is present: refused, as before
    hold(ticker, 3000)
    assert "recovery:started" in event_kinds(ticker)
    written = ticker.written[-3000:]
    refs = np.array([w.q_ref[1] for w in written])
    assert np.all(np.abs(np.diff(refs)) <= LIMITS.speed_rad_s * PERIOD_S + 1e-12)  # slowly
    torques = np.array(ticker.torques[-3000:])
    assert np.all(np.abs(torques[:, 1]) <= LIMITS.torque_max_nm + 1e-9)  # gently
    assert np.all(torques[:, 0] == 0.0)  # the hip, inside its range, stays limp
    assert 0.0 < ticker.state.q[1] <= LIMITS.inside_rad + 0.01  # back inside, near the edge
    result = sup.reset()  # while still held
    assert result.accepted and [f.kind for f in result.cleared] == [FaultKind.POSITION_LIMIT]
    assert not sup.recovering_


def test_letting_go_turns_the_torque_off_at_once() -> None:
    ticker = beyond_the_knee_limit()
    hold(ticker, 50)
    assert ticker.supervisor.recovering_ and not is_torque_off(ticker.written[-1])
    ticker.supervisor.recover(False)
    ticker.run()
    assert is_torque_off(ticker.written[-1]) and not ticker.supervisor.recovering_
    kinds = event_kinds(ticker)
    assert kinds[-1] == "recovery:ended"


def test_a_hold_that_is_not_renewed_ends_by_itself() -> None:
    ticker = beyond_the_knee_limit()
    hold(ticker, 10)
    assert ticker.supervisor.recovering_
    time.sleep(LIMITS.deadman_s + 0.1)  # the console stopped renewing (frozen, or gone)
    ticker.run()
    assert is_torque_off(ticker.written[-1]) and not ticker.supervisor.recovering_


def test_no_recovery_while_estop_is_pressed() -> None:
    ticker = beyond_the_knee_limit()
    ticker.supervisor.estop(True)
    ticker.run()
    event_kinds(ticker)
    hold(ticker, 20)
    events = ticker.supervisor.take_events()
    assert [e.kind for e in events] == ["recovery:refused"]  # said once, not every tick
    assert "E-STOP is pressed" in str(events[0].values["reason"])
    assert all(is_torque_off(w) for w in ticker.written[-20:])


def test_no_recovery_after_a_sensor_fault() -> None:
    ticker = beyond_the_knee_limit()
    ticker.state.age_ticks[:] = [10, 0]  # the hip's feedback went stale
    ticker.run()
    ticker.state.age_ticks[:] = [0, 0]
    event_kinds(ticker)
    hold(ticker, 20)
    events = ticker.supervisor.take_events()
    assert [e.kind for e in events] == ["recovery:refused"]
    assert "stale_feedback" in str(events[0].values["reason"])
    assert all(is_torque_off(w) for w in ticker.written[-20:])


def test_a_new_fault_during_recovery_ends_it_with_the_torque_off() -> None:
    ticker = beyond_the_knee_limit()
    hold(ticker, 20)
    assert ticker.supervisor.recovering_
    ticker.state.qd[:] = [0.0, 20.0]  # far beyond the knee's velocity limit
    ticker.supervisor.recover(True)
    faults = ticker.run()
    assert [f.kind for f in faults] == [FaultKind.VELOCITY_LIMIT]
    assert is_torque_off(ticker.written[-1]) and not ticker.supervisor.recovering_
    ended = [e for e in ticker.supervisor.take_events() if e.kind == "recovery:ended"]
    assert ended and ended[0].values["why"] == "a new fault"


def test_after_estop_is_released_its_limp_legs_can_be_recovered() -> None:
    ticker = beyond_the_knee_limit()
    ticker.supervisor.estop(True)
    ticker.run()
    ticker.supervisor.estop(False)
    ticker.run()
    event_kinds(ticker)
    hold(ticker, 3000)
    assert "recovery:started" in event_kinds(ticker)
    assert ticker.supervisor.reset().accepted  # the E-STOP and the limit, both cleared
