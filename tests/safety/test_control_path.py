"""Issue 15, items 11, 13 and 14: faults the supervisor latches while limiting a command reach the
loop's report; an invalid command (negative gains) is a fault, never a silent torque-off; loop
time running backwards is a fault."""

from __future__ import annotations

import math

import numpy as np

from rehabbot.assessment.alarm_text import plain_event
from rehabbot.safety import FaultKind, Priority, StopCategory
from tests.conftest import DriveBench
from tests.runtime.test_loop import make_loop
from tests.safety.conftest import PERIOD_S, Ticker, is_torque_off, make_supervisor


def test_a_fault_latched_by_limit_reaches_the_loop_s_report(bench: DriveBench) -> None:
    loop, supervisor = make_loop(bench, bench.step)
    stiffness = np.array(loop.controller.stiffness_nm_per_rad)  # type: ignore[attr-defined]
    loop.controller.stiffness_nm_per_rad = stiffness  # type: ignore[attr-defined]

    def nan_after_20(t_s: float) -> None:
        stiffness[1] = math.nan  # the controller's output turns NaN from the next tick

    report = loop.run(0.05, on_progress=nan_after_20, progress_every_ticks=20)
    (fault,) = report.faults
    assert (fault.kind, fault.joint) == (FaultKind.INVALID_VALUE, "knee_angle_r")
    assert report.faults == supervisor.faults_
    assert report.reaction is StopCategory.TORQUE_OFF
    assert "fault:invalid_value" in [e.kind for e in report.events]
    assert supervisor.take_faults() == []  # handed over once


def test_a_negative_gain_is_an_invalid_command_fault_recorded_with_its_value() -> None:
    ticker = Ticker(make_supervisor())
    ticker.run()
    ticker.command.kp[1] = -800.0
    ticker.run()
    (fault,) = ticker.supervisor.faults_
    assert (fault.kind, fault.joint) == (FaultKind.INVALID_VALUE, "knee_angle_r")
    assert (fault.value, fault.limit) == (-800.0, 0.0)
    assert fault.category is StopCategory.TORQUE_OFF and fault.priority is Priority.HIGH
    assert "-800 beyond 0" in fault.describe()
    events = [e.kind for e in ticker.supervisor.take_events()]
    assert events[:2] == ["fault:invalid_value", "stop:category_0"]
    assert is_torque_off(ticker.written[-1])
    assert not ticker.supervisor.reset().accepted  # the controller still asks for it
    ticker.command.kp[1] = 100.0
    ticker.run()
    assert ticker.supervisor.reset().accepted


def test_a_negative_damping_is_a_fault_too() -> None:
    ticker = Ticker(make_supervisor())
    ticker.command.kd[0] = -1e-9
    ticker.run()
    assert [(f.kind, f.joint) for f in ticker.supervisor.faults_] == [
        (FaultKind.INVALID_VALUE, "hip_flexion_r")]


def test_time_running_backwards_is_a_fault_on_the_tick_that_sees_it() -> None:
    supervisor = make_supervisor()
    ticker = Ticker(supervisor)
    ticker.run(10)
    state = ticker.state
    state.t_s = 9 * PERIOD_S  # the same time again is no fault
    assert supervisor.check(state) == []
    state.t_s = 5 * PERIOD_S
    faults = supervisor.check(state)
    (fault,) = [f for f in faults if f.joint is None]
    assert (fault.kind, fault.joint) == (FaultKind.TIME_REVERSED, None)
    assert np.isclose(fault.value, -4 * PERIOD_S)
    assert fault.category is StopCategory.TORQUE_OFF
    assert is_torque_off(supervisor.limit(ticker.command, state))
    assert np.isclose(fault.t_s, 10 * PERIOD_S)  # dated a period after the last good time
    state.t_s = 8 * PERIOD_S  # still before the last good time: still backwards
    assert supervisor.check(state) == [] and not supervisor.reset().accepted
    state.t_s = 10 * PERIOD_S  # time runs forwards again: a person may reset
    assert supervisor.check(state) == []
    assert supervisor.reset().accepted


def test_the_therapist_is_shown_the_negative_gain_and_the_backwards_time() -> None:
    gain = plain_event("fault:invalid_value", "knee_angle_r",
                       {"value": -800.0, "limit": 0.0, "category": 0, "priority": "high"})
    assert "invalid command (-800)" in gain.cause
    clock = plain_event("fault:time_reversed", None,
                        {"value": -0.005, "limit": 0.0, "category": 0, "priority": "high"})
    assert clock.title == "The control clock ran backwards" and "5.0 ms before" in clock.cause
