"""Hold-to-run recovery from the console's keyboard, through the session process to the
supervisor of a running session: refused while E-STOP is pressed, running while F7 is held,
ended when it is let go; then the reset is accepted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import load_protocol
from rehabbot.storage.records import (
    FittingParameters,
    PatientProfile,
    PatientRecords,
    RangeOfMotion,
)
from rehabbot.storage.store import SessionStore
from tests.gui.conftest import shown_window

WAIT_MS = 60_000


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> Iterator[MainWindow]:
    store = tmp_path / "store.sqlite"
    with SessionStore.open(store) as st:
        records = PatientRecords(st)
        records.add_patient(PatientProfile(code="P-1", height_m=1.75, mass_kg=75.0),
                            operator="op")
        records.set_fitting("P-1", FittingParameters(
            thigh_length_m=0.42, shank_length_m=0.4, thigh_cuff_m=0.2, shank_cuff_m=0.2,
            rom_deg={"hip": RangeOfMotion(min_deg=-30, max_deg=60),
                     "knee": RangeOfMotion(min_deg=0, max_deg=90)}), operator="op")
    yield from shown_window(qtbot, ConsoleSettings(robot=sim_exo, store_path=store,
                                                   operator="T. Tester", realtime=False))


def last_event(window: MainWindow) -> str:
    event = window.banner.last_event
    return "" if event is None else event.kind


def f7(qtbot: QtBot, window: MainWindow, down: bool) -> None:
    """Press or release F7 in the console's window, as held on the keyboard."""
    if QGuiApplication.focusWindow() is not window.windowHandle():
        window.activateWindow()
        qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is window.windowHandle())
    (QTest.keyPress if down else QTest.keyRelease)(window.windowHandle(), Qt.Key.Key_F7)


def test_f7_held_recovers_after_a_stop_and_the_reset_is_then_accepted(
        qtbot: QtBot, window: MainWindow) -> None:
    window.start_session("P-1", load_protocol(), 300.0, "athletic")
    qtbot.waitUntil(lambda: "guidance_pct" in window.live.controls.boxes, timeout=WAIT_MS)
    window.estop.press()
    qtbot.waitUntil(lambda: window.status.torque_off, timeout=WAIT_MS)
    # E-STOP pressed: the hold is refused, the motors stay off
    f7(qtbot, window, True)
    qtbot.waitUntil(lambda: last_event(window) == "recovery:refused", timeout=WAIT_MS)
    assert "Recovery refused" in window.banner.detail.text()
    f7(qtbot, window, False)
    assert not window.recover_timer.isActive()
    window.estop.release()
    # released: held, the recovery runs (renewed by the console while held) ...
    f7(qtbot, window, True)
    assert window.recover_timer.isActive()
    qtbot.waitUntil(lambda: last_event(window) == "recovery:started", timeout=WAIT_MS)
    assert "Recovery: bringing the legs back" in window.banner.detail.text()
    qtbot.wait(300)
    assert window.recover_timer.isActive()  # renewing the hold while F7 is down
    # ... and the reset, while the legs are inside their range, is accepted
    window.banner.acknowledge()
    window.reset()
    qtbot.waitUntil(lambda: not window.status.faults and window.status.stop_category is None,
                    timeout=WAIT_MS)
    f7(qtbot, window, False)
    assert not window.recover_timer.isActive()
    window.stop_session()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.after, timeout=WAIT_MS)
    titles = [window.after.events.item(r, 1).text() for r in range(window.after.events.rowCount())]
    assert "Recovery refused" in titles and "Recovery: bringing the legs back" in titles
