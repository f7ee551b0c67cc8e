"""Warnings in the alarm banner: shown at their IEC 60601-1-8 priority while present, never
latched, no acknowledgement or reset needed; latched faults still come first."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from rehabbot.gui.alarm_banner import ALARM_STYLE, QUIET_STYLE
from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.hal.config import RobotConfig
from rehabbot.safety.faults import Fault, FaultKind, Priority, SafetyEvent, StopCategory
from rehabbot.session.session_messages import Reply, SafetyStatus
from rehabbot.session.session_process import EventForwarder, fault_info
from tests.gui.conftest import shown_window


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> Iterator[MainWindow]:
    settings = ConsoleSettings(robot=sim_exo, store_path=tmp_path / "store.sqlite",
                               operator="T. Tester", realtime=False)
    yield from shown_window(qtbot, settings)


def sent(*events: SafetyEvent) -> list[Reply]:
    """The replies the session process sends for ``events`` (through its event forwarder)."""
    replies: queue.Queue[Reply] = queue.Queue()
    forward = EventForwarder(replies)
    for event in events:
        forward(event)
    return [replies.get_nowait() for _ in events]


HOT = SafetyEvent(3.25, "warning:over_temperature", "knee_angle_r",
                  {"value": 95.0, "fault_at": 110.0}, None, Priority.LOW)
COOL = SafetyEvent(9.5, "warning_cleared:over_temperature", "knee_angle_r")


def priority(window: MainWindow) -> str | None:
    """The banner's priority now (a call, so that type checkers do not keep an earlier value)."""
    return window.banner.priority


def background(window: MainWindow) -> str:
    return window.banner.styleSheet().split("background: ")[1].split(";")[0]


def test_a_warning_shows_at_low_priority_and_clears_itself(window: MainWindow) -> None:
    banner = window.banner
    for reply in sent(HOT):
        window.handle_reply(reply)
    assert priority(window) == "low"
    assert banner.title.full_text() == ("LOW PRIORITY WARNING · Right knee motor getting warm · "
                                        "clears by itself")
    # in the therapist's words and units, with the action
    assert ("Warning: Right knee motor getting warm: The right knee motor's winding is at 95 °C; "
            "it stops at 110 °C. Lower the assistance") in banner.detail.text()
    banner.toggle_details()  # F4: the supervisor's own line
    assert "over_temperature on knee_angle_r at 3.250 s (value 95, fault at 110)" in (
        banner.detail.text())
    banner.toggle_details()
    assert "last event" not in banner.detail.text()  # listed once, as an alarm
    assert background(window) == ALARM_STYLE["low"][0]  # cyan, steady
    assert not banner.flashing
    # not latched: nothing to acknowledge or reset
    assert not banner.acknowledge_button.isEnabled() and not banner.reset_button.isEnabled()
    for reply in sent(COOL):
        window.handle_reply(reply)
    assert priority(window) is None and banner.title.full_text() == "No alarms"
    assert background(window) == QUIET_STYLE[0]
    assert "last event at 9.5 s: Warning over: Right knee motor getting warm" in (
        banner.detail.text())


def test_a_latched_fault_outranks_a_warning_and_the_warning_outlives_the_reset(
        window: MainWindow) -> None:
    banner = window.banner
    window.handle_reply(sent(HOT)[0])
    estop = fault_info(Fault(FaultKind.ESTOP, None, 4.0, 1.0, 0.0))
    window.handle_reply(SafetyStatus((estop,), 0, True))
    assert priority(window) == "high"
    assert banner.title.full_text() == "HIGH PRIORITY ALARM · E-STOP pressed · NOT ACKNOWLEDGED"
    lines = banner.detail.text().splitlines()
    assert lines[0].startswith("E-STOP pressed: The emergency stop was pressed")
    assert lines[1].startswith("Warning: Right knee motor getting warm")
    assert banner.flashing
    window.handle_reply(sent(SafetyEvent(5.0, "reset", None, {}, StopCategory.TORQUE_OFF))[0])
    window.handle_reply(SafetyStatus())  # the fault is reset; the warning is still present
    assert priority(window) == "low" and "WARNING" in banner.title.text()
    assert "last event at 5.0 s: Alarms reset: the session continues" in banner.detail.text()
    window.banner.clear()  # the session ended
    assert priority(window) is None and banner.detail.text() == ""


def test_the_banner_takes_values_and_units_from_the_fault_not_from_its_text(
        window: MainWindow) -> None:
    """The plain words come from the numbers a fault carries (``FaultInfo.value``, ``limit``,
    ``unit``) and a warning's values; the technical line is only shown (F4), never read."""
    hip = fault_info(Fault(FaultKind.POSITION_LIMIT, "hip_flexion_l", 12.0, -0.5411, -0.52))
    assert (hip.value, hip.limit, hip.unit) == (-0.5411, -0.52, "rad")
    window.handle_reply(SafetyStatus((replace(hip, text="position_limit on hip_flexion_l"),),
                                     0, True))
    hot = sent(HOT)[0]
    window.handle_reply(replace(hot, text="warning: over_temperature on knee_angle_r"))
    text = window.banner.detail.text()
    assert "The left hip reached -31.0 deg; the robot allows -29.8 deg at most." in text
    assert "The right knee motor's winding is at 95 °C; it stops at 110 °C." in text
    window.banner.toggle_details()
    assert window.banner.detail.text().splitlines()[0] == "position_limit on hip_flexion_l"
