"""A whole session driven through the console's window, from the keyboard, against the simulator.

Create a patient, choose a protocol, start, change the guidance, press E-STOP, acknowledge and
reset, stop, open the report; and a screenshot of the live screen. The session runs in its own
process in lockstep (as fast as the machine allows) so the test does not wait on the wall clock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import load_protocol
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.artifacts import artifacts_dir
from tests.gui.conftest import shown_window

OPERATOR = "T. Tester"
WAIT_MS = 60_000


def screenshot_path() -> Path:
    """Where the live-screen screenshot goes: ``$REHABBOT_ARTIFACTS`` or ``artifacts/``."""
    return artifacts_dir() / "console_live.png"


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> Iterator[MainWindow]:
    settings = ConsoleSettings(robot=sim_exo, store_path=tmp_path / "store.sqlite",
                               operator=OPERATOR, realtime=False)
    yield from shown_window(qtbot, settings)


def key(qtbot: QtBot, window: QWidget, key: Qt.Key,
        modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press a key as the operator would: in the console's window, which has the focus."""
    if QGuiApplication.focusWindow() is not window.windowHandle():
        window.activateWindow()  # the offscreen platform sometimes leaves no window focused
        qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is window.windowHandle())
    QTest.keyClick(window.windowHandle(), key, modifier)  # through the window, as typed


def test_a_whole_session_from_the_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    store = window.settings.store_path
    # patients: new patient, typed in, saved
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.patients.code.hasFocus()
    qtbot.keyClicks(window.patients.code, "P-100")
    qtbot.keyClicks(window.patients.name, "Test Patient")
    window.patients.side_box.setCurrentText("left")
    key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "saved" in window.patients.message.text()
    with SessionStore.open(store) as st:
        records = PatientRecords(st)
        assert records.get("P-100").profile.display_name == "Test Patient"
        assert records.fitting("P-100") is not None
    # choose the patient; setup: protocol, duration, a patient model that walks by itself
    window.patients.use_button.click()
    assert window.stack.currentWidget() is window.setup
    window.setup.protocols.setCurrentText("standard_gait")
    window.setup.duration.setValue(120.0)
    window.setup.profile.setCurrentText("athletic")
    assert window.setup.start_button.isEnabled(), window.setup.check.text()
    key(qtbot, window, Qt.Key.Key_F5)
    assert window.stack.currentWidget() is window.live
    qtbot.waitUntil(lambda: "guidance_pct" in window.live.controls.boxes, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.live.view.stats.steps >= 2, timeout=WAIT_MS)
    # the large-value display and back
    key(qtbot, window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.live.view.large.isVisible() and not window.live.view.plots.isVisible()
    key(qtbot, window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.live.view.plots.isVisible() and not window.live.view.large.isVisible()
    # guidance from the keyboard: Ctrl+G to the box, type, Enter
    box = window.live.controls.boxes["guidance_pct"]
    key(qtbot, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert box.hasFocus()
    qtbot.keyClicks(box, "60")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "guidance_pct=60: applied" in window.live.status.text(),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.live.view.stats.steps >= 8, timeout=WAIT_MS)  # strides
    # the screenshot of the live screen, with curves drawn
    image = window.grab().toImage()
    path = screenshot_path()
    assert image.save(str(path))
    saved = QImage(str(path))
    assert (saved.width(), saved.height()) == (window.width(), window.height())
    assert saved.width() > 0 and path.stat().st_size > 10_000
    # E-STOP from the keyboard: a high-priority alarm, flashing until acknowledged
    key(qtbot, window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: any(f.kind == "estop" for f in window.banner.status.faults),
                    timeout=WAIT_MS)
    assert window.banner.priority == "high"
    assert not window.banner.acknowledged
    assert window.status.torque_off
    key(qtbot, window, Qt.Key.Key_F3)  # reset before acknowledging: refused by the console
    assert "Acknowledge" in window.banner.detail.text()
    key(qtbot, window, Qt.Key.Key_F2)
    assert window.banner.acknowledged
    key(qtbot, window, Qt.Key.Key_F3)  # E-STOP still pressed: the supervisor refuses
    qtbot.waitUntil(lambda: "Reset refused: a cause is still present. Still present: E-STOP "
                            "pressed." in window.banner.detail.text(), timeout=WAIT_MS)
    assert window.banner.status.faults
    key(qtbot, window, Qt.Key.Key_F1, Qt.KeyboardModifier.ShiftModifier)  # release
    assert not window.estop.pressed
    key(qtbot, window, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: not window.banner.status.faults
                    and window.banner.status.stop_category is None, timeout=WAIT_MS)
    # the stop's alarm is gone; a warning that is true now may stay (e.g. a limp leg near its
    # range of motion after the stop, or late ticks on a busy machine): it is low priority
    assert window.banner.priority in (None, "low"), sorted(window.banner.warnings)
    walked = window.live.view.stats.steps
    qtbot.waitUntil(lambda: window.live.view.stats.steps >= walked + 4, timeout=WAIT_MS)
    # stop: the torque fades out, the session is stored, the summary shows
    key(qtbot, window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.after, timeout=WAIT_MS)
    session_id = window.after.session_id
    assert session_id is not None
    assert window.after.summary.rowCount() > 3
    # the report
    window.after.export_button.click()
    report = window.after.report_path
    assert report is not None and report.is_file(), window.after.message.text()
    assert f"Session {session_id}" in window.after.report.toPlainText()
    window.after.progress_button.click()
    assert "Progress report of P-100" in window.after.report.toPlainText()
    # every command is in the audit log and among the session's events, with the operator
    with SessionStore.open(store) as st:
        audit = PatientRecords(st).audit_log()
    actions = [(e.action, e.operator) for e in audit]
    for action in ("session.start", "parameter.change", "estop.press", "estop.release",
                   "session.reset", "session.stop", "export"):  # export: the report
        assert (action, OPERATOR) in actions
    exports = [(e.detail["report"], e.operator) for e in audit if e.action == "export"]
    assert sorted(exports) == [("progress", OPERATOR), ("session", OPERATOR)]  # not the login
    change = next(e for e in audit if e.action == "parameter.change")
    assert change.detail == {"parameter": "guidance_pct", "value": 60.0}
    db = sqlite3.connect(store)
    events = db.execute("SELECT kind, detail FROM events WHERE session_id = ?",
                        (session_id,)).fetchall()
    db.close()
    kinds = [k for k, _ in events]
    assert "estop:pressed" in kinds and "reset" in kinds and "reset:refused" in kinds
    params = [json.loads(d) for k, d in events if k == "console:params"]
    assert params == [{"operator": OPERATOR, "command": "params guidance_pct=60",
                       "accepted": True, "reason": "", "value:guidance_pct": 60.0}]


def test_closing_during_a_session_asks_then_stops_safely_and_stores(
        qtbot: QtBot, window: MainWindow) -> None:
    answers: list[str] = []
    window.confirm = lambda parent, text: answers.append(text) or False  # "no" first
    window.start_session("P-200", load_protocol("standard_gait"), 120.0, "athletic")
    qtbot.waitUntil(lambda: window.live.view.stats.steps >= 1, timeout=WAIT_MS)
    assert not window.close()
    assert answers and window.link is not None and window.link.running
    window.confirm = lambda parent, text: True
    assert window.close()
    assert window.link is None
    with SessionStore.open(window.settings.store_path) as st:
        (info,) = st.list_sessions()
        actions = [(e.action, e.operator) for e in PatientRecords(st).audit_log()]
    assert info.status in ("aborted", "completed")  # stopped early by the fade, and stored
    assert info.ended_at is not None and info.n_ticks > 0
    assert ("session.start", OPERATOR) in actions and ("session.stop", OPERATOR) in actions
