"""A console a therapist can run a clinic day with: alarms in plain words in a banner of fixed
height, an unmistakable E-STOP, no stale text, a state line that never says "running" with the
torque off, refused input that says why, and every screen whole at 1366x768 (screenshots in
``artifacts/``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.hal.config import RobotConfig
from rehabbot.runtime.ring import LiveBlock
from rehabbot.safety.faults import Fault, FaultKind, Priority, SafetyEvent, StopCategory
from rehabbot.session.session_messages import (
    Applied,
    Command,
    CommandKind,
    Finished,
    LiveParams,
    ParamInfo,
    SafetyStatus,
)
from rehabbot.session.session_process import event_info, fault_info
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.conftest import simulate
from tests.gui.conftest import shown_window
from tests.gui.screens import clipped_texts, save_screenshot

#: The smallest screen the console supports (px).
SCREEN = (1366, 768)

#: Ten latched faults as the session process sends them (``session_process.fault_info``).
TEN_FAULTS = tuple(
    fault_info(Fault(FaultKind(kind), joint, 10.0 + i, value, limit, StopCategory.TORQUE_OFF,
                     Priority(priority)))
    for i, (kind, joint, priority, value, limit) in enumerate((
        ("standstill", "knee_angle_r", "high", 0.09, 0.05),
        ("position_limit", "hip_flexion_r", "high", -0.520555, -0.52),
        ("position_limit", "hip_flexion_l", "high", -0.53, -0.52),
        ("velocity_limit", "knee_angle_l", "high", 9.1, 8.0),
        ("rom_exceeded", "knee_angle_r", "medium", 1.4, 1.309),
        ("over_temperature", "knee_angle_r", "medium", 111.0, 110.0),
        ("rms_torque", "hip_flexion_l", "medium", 41.2, 40.0),
        ("command_deadline", None, "medium", 0.0251, 0.02),
        ("stale_feedback", "hip_flexion_r", "high", 4, 3),
        ("estop", None, "high", 1, 0),
    )))
PARAMS = {
    "guidance_pct": ParamInfo(70.0, "%", 50.0, 100.0, "share of the reference torque"),
    "cadence_steps_per_min": ParamInfo(90.0, "steps/min", 60.0, 110.0, "cadence"),
    "hip_rom_pct": ParamInfo(100.0, "%", 80.0, 110.0, "hip range"),
    "knee_rom_pct": ParamInfo(100.0, "%", 80.0, 110.0, "knee range"),
    "treadmill_speed_kmh": ParamInfo(3.0, "km/h", 1.5, 3.5, "belt speed"),
    "body_weight_support_pct": ParamInfo(30.0, "%", 20.0, 60.0, "unloading"),
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A store with a 10 s simulated session and the events of a rough day added to it."""
    store = tmp_path_factory.mktemp("day") / "sessions.sqlite"
    session_id = simulate(store, duration_s=10.0)
    with SessionStore.open(store) as st:
        st.add_event(session_id, 6.2, "fault:command_deadline", None,
                     {"value": 0.0251, "limit": 0.02, "category": 2, "priority": "medium"})
        st.add_event(session_id, 6.5, "fault:position_limit", "hip_flexion_r",
                     {"value": -0.520555, "limit": -0.52, "category": 0, "priority": "high"})
        st.add_event(session_id, 6.5, "stop:category_0", None, {"cause": "position_limit"})
        st.add_event(session_id, 7.0, "reset:refused", None, {"category": 0})
        st.add_event(session_id, 7.1, "console:reset", None,
                     {"operator": "T. Tester", "accepted": False})
    return store, session_id


@pytest.fixture
def window(qtbot: QtBot, stored: tuple[Path, int], sim_exo: RobotConfig
           ) -> Iterator[MainWindow]:
    settings = ConsoleSettings(robot=sim_exo, store_path=stored[0], operator="T. Tester",
                               realtime=False)
    yield from shown_window(qtbot, settings, SCREEN)


def test_the_banner_keeps_its_height_with_ten_alarms_and_speaks_plainly(
        qtbot: QtBot, window: MainWindow) -> None:
    banner, stack = window.banner, window.stack
    height, top = banner.height(), stack.mapTo(window, stack.rect().topLeft()).y()
    window.show_screen(window.live)
    window.handle_reply(SafetyStatus(TEN_FAULTS, 0, True))
    qtbot.wait(50)
    assert banner.height() == height  # fixed: the screen below does not move
    assert stack.mapTo(window, stack.rect().topLeft()).y() == top
    # E-STOP takes the title though it is not the oldest fault
    assert banner.title.full_text() == ("HIGH PRIORITY ALARM · E-STOP pressed (+9 more) · "
                                        "NOT ACKNOWLEDGED")
    text = banner.detail.text()
    # values in the screen's units with the action to take; no internal names, no radians
    assert ("Right hip beyond the robot's limit: The right hip reached -29.8 deg; the robot "
            "allows -29.8 deg at most. Support the leg") in text
    assert ("The control computer fell behind: The motors ran a command 25.1 ms old (limit "
            "20.0 ms): this computer stalled.") in text
    assert "Right knee motor too hot: The right knee motor's winding reached 111 °C" in text
    assert "position_limit" not in text and "-0.52" not in text
    banner.toggle_details()  # F4: the technical lines, one keypress away
    assert "position_limit on hip_flexion_r at 11.000 s (-0.520555 beyond -0.52)" in (
        banner.detail.text())
    assert banner.height() == height
    banner.toggle_details()
    assert clipped_texts(banner) == []
    save_screenshot(window, "console_banner_ten_alarms")


def test_a_pressed_estop_differs_by_shape_and_text_not_colour_alone(window: MainWindow) -> None:
    estop = window.estop
    released = (estop.button.text(), estop.button.styleSheet(), estop.state.text())
    estop.press()
    pressed = (estop.button.text(), estop.button.styleSheet(), estop.state.text())
    assert "PRESSED" in pressed[0] and "PRESSED" not in released[0]
    assert "dashed" in pressed[1] and "border-radius: 0px" in pressed[1]
    assert "solid" in released[1] and "border-radius: 0px" not in released[1]
    assert pressed[2].startswith("■ PRESSED") and released[2].startswith("● released")
    assert clipped_texts(estop) == []
    save_screenshot(window, "console_estop_pressed")
    estop.release()
    assert (estop.button.text(), estop.state.text()) == (released[0], released[2])


def test_no_stale_no_alarms_beside_a_refused_reset_once_the_session_ended(
        window: MainWindow, stored: tuple[Path, int]) -> None:
    banner = window.banner
    window.handle_reply(SafetyStatus(TEN_FAULTS[-1:], 0, True))
    reset = Command(CommandKind.RESET, operator="T. Tester")
    # what the session process sends for a reset the supervisor refuses: its event, the reply
    window.handle_reply(event_info(SafetyEvent(7.0, "reset:refused", None, {"blocking": "estop"})))
    window.handle_reply(Applied(reset, 7.0, False, "reset refused: a cause is still present"))
    assert "Reset refused: a cause is still present. Still present: E-STOP pressed." in (
        banner.detail.text())
    assert window.live.status.text() == ("⚠ reset: refused, a cause is still present (see the "
                                         "alarm banner)")
    window.handle_reply(Finished(stored[1], "faulted"))  # the session is over
    assert window.stack.currentWidget() is window.after
    for screen in (window.after, window.setup, window.patients):
        window.show_screen(screen)
        assert banner.title.full_text() == "No alarms"
        assert "refused" not in banner.detail.text() and banner.detail.text() == ""


def test_the_state_line_never_says_running_while_the_torque_is_off(window: MainWindow) -> None:
    live = window.live
    window.handle_reply(SafetyStatus())
    assert live.state.text() == "running: torque on"
    window.handle_reply(SafetyStatus(TEN_FAULTS[:1], 0, True))
    window.handle_reply(LiveParams(PARAMS, "training (training)"))  # a phase change after it
    assert live.state.text().startswith("TORQUE OFF")
    window.handle_reply(SafetyStatus((), 1, False, True))
    assert live.state.text().startswith("PAUSED")
    window.handle_reply(SafetyStatus(TEN_FAULTS[:1], 1, False))
    assert live.state.text().startswith("STOPPING")


def test_a_guidance_outside_its_bounds_is_refused_with_the_bounds(
        qtbot: QtBot, window: MainWindow) -> None:
    window.show_screen(window.live)
    window.handle_reply(LiveParams(PARAMS, "training (training)"))
    sent: list[tuple[str, float]] = []
    window.live.controls.changed.connect(lambda name, value: sent.append((name, value)))
    box = window.live.controls.boxes["guidance_pct"]
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "30")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    message = window.live.controls.message.text()
    assert message == "⚠ Guidance: 30 % refused, allowed 50–100 %: not applied"
    assert sent == [] and box.value() == 70.0  # nothing sent, the value kept
    box.selectAll()
    qtbot.keyClicks(box, "80")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == [("guidance_pct", 80.0)] and window.live.controls.message.text() == ""
    # the patients screen refuses the same way
    window.show_screen(window.patients)
    height = window.patients.height_box
    height.setFocus()
    height.selectAll()
    qtbot.keyClicks(height, "3.1")
    qtbot.keyClick(height, Qt.Key.Key_Return)
    assert "Height: 3.1 m refused, allowed 0.5–2.5 m" in window.patients.message.text()


def live_rows(store: Path, session_id: int) -> LiveBlock:
    """The stored session's samples as ring rows (the live screen's input)."""
    with SessionStore.open(store) as st:
        s = st.load_samples(session_id)
    rows = np.column_stack((s.tick, s.t_s, s.phase, s.contact.astype(float), s.q, s.qd, s.tau,
                            s.tau_cmd, s.q_ref))
    return LiveBlock(rows, s.q.shape[1], 0)


def test_every_screen_is_whole_at_1366x768(qtbot: QtBot, window: MainWindow,
                                           stored: tuple[Path, int]) -> None:
    store, session_id = stored
    with SessionStore.open(store) as st:
        code = st.get_session(session_id).patient_code
        PatientRecords(st)  # the records' tables exist
    assert (window.width(), window.height()) == SCREEN
    window.patients.refresh()
    window.patients.table.selectRow(0)
    window.setup.set_patient(code)
    window.show_screen(window.live)
    window.handle_reply(LiveParams(PARAMS, "training (training)"))
    window.handle_reply(SafetyStatus())
    window.live.view.show_rows(live_rows(store, session_id))
    window.after.show_session(session_id)
    screens = {"patients": window.patients, "setup": window.setup, "live": window.live,
               "after_session": window.after}
    problems = {}
    for name, screen in screens.items():
        window.show_screen(screen)
        qtbot.wait(50)
        save_screenshot(window, f"console_{name}_1366x768")
        problems[name] = clipped_texts(window)
    assert problems == {name: [] for name in screens}
    # the after-session screen: every summary value and event shown whole, no blank pane
    after = window.after
    assert not after.report.isVisible()
    assert after.events.rowCount() >= 5 and after.summary.rowCount() >= 8
    titles = [after.events.item(r, 1).text() for r in range(after.events.rowCount())]
    assert "Right hip beyond the robot's limit" in titles
    assert "Reset refused: a cause is still present" in titles
    after.export_report()
    qtbot.wait(50)
    assert after.report.isVisible()
    assert after.report.horizontalScrollBar().maximum() == 0  # the report fits its pane
    save_screenshot(window, "console_after_session_report_1366x768")
    assert clipped_texts(window) == []
