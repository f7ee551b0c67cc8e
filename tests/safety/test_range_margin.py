"""The supervisor's low-priority warning before a joint reaches the patient's range of motion."""

from __future__ import annotations

import numpy as np

from rehabbot.hal.types import JointState
from rehabbot.safety import Priority, SafetyEvent, SoftLimits, Supervisor
from rehabbot.safety.range_margin import HYSTERESIS_RAD, WARN_MARGIN_RAD
from tests.safety.conftest import LIMITS, NAMES

#: The patient's range: hip -0.4..0.9 rad, knee 0.05..1.3 rad.
SOFT = SoftLimits(np.array([-0.4, 0.05]), np.array([0.9, 1.3]), np.full(2, 0.05),
                  np.full(2, 100.0))


def move_knee(sup: Supervisor, state: JointState, to: float, events: list[SafetyEvent]) -> None:
    """Move the knee to ``to`` (rad) in steps of 2 mrad per tick, collecting the events."""
    for knee in np.linspace(state.q[1], to, max(2, round(abs(to - state.q[1]) / 0.002)))[1:]:
        state.t_s += 0.001
        state.q[1] = knee
        assert sup.check(state) == []  # a warning, never a fault
        events += sup.take_events()


def test_a_joint_nearing_its_range_limit_is_warned_about_once_then_cleared() -> None:
    sup = Supervisor(NAMES, LIMITS, stale_after_ticks=3, soft_limits=SOFT)
    state = JointState.zeros(2)
    state.q[:] = [0.2, 0.6]
    events: list[SafetyEvent] = []
    move_knee(sup, state, 1.3 - 2 * WARN_MARGIN_RAD, events)
    assert events == []
    move_knee(sup, state, 1.3 - 0.2 * WARN_MARGIN_RAD, events)  # into the warning level
    move_knee(sup, state, 1.3 - WARN_MARGIN_RAD - 0.5 * HYSTERESIS_RAD, events)  # hysteresis
    assert [e.kind for e in events] == ["warning:rom_margin"]
    warning = events[0]
    assert warning.joint == "knee_angle_r" and warning.priority is Priority.LOW
    assert warning.category is None and warning.values["limit"] == 1.3
    assert 0.0 < warning.values["margin_rad"] < WARN_MARGIN_RAD
    move_knee(sup, state, 0.6, events)
    assert [e.kind for e in events] == ["warning:rom_margin", "warning_cleared:rom_margin"]
    assert not sup.tripped


def test_a_stale_reading_neither_starts_nor_ends_a_warning() -> None:
    sup = Supervisor(NAMES, LIMITS, stale_after_ticks=3, soft_limits=SOFT)
    state = JointState.zeros(2)
    state.q[:] = [0.2, 0.6]
    sup.check(state)
    state.q[:] = [-0.4 + 0.1 * WARN_MARGIN_RAD, 0.6]  # the hip at its lower limit ...
    state.age_ticks[:] = [2, 0]  # ... but not read this tick (still fresh enough)
    sup.check(state)
    assert [e.kind for e in sup.take_events()] == ["warning:rom_margin"]
    state.age_ticks[:] = [9, 0]  # stale: a fault of its own; the warning stays as it was
    state.q[:] = [0.2, 0.6]
    sup.check(state)
    assert "warning_cleared:rom_margin" not in [e.kind for e in sup.take_events()]


def test_without_a_range_of_motion_there_is_no_warning() -> None:
    sup = Supervisor(NAMES, LIMITS, stale_after_ticks=3)
    state = JointState.zeros(2)
    state.q[:] = [LIMITS.position_min_rad[0] + 1e-3, 0.6]
    sup.check(state)
    assert not [e for e in sup.take_events() if e.kind.endswith("rom_margin")]
