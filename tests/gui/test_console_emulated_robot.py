"""The console runs a session on the emulated robot in another process (``rehabbot sim serve``),
through the hardware path and the wall clock, driven from its window: patient, setup, start,
the emulator's foot contacts reaching the live screen, E-STOP, stop, the stored session.

Nothing here depends on how well this computer keeps time: the wall-clock session may run late
or stop on its command deadline on a loaded machine (the emulated patient's legs move either
way), so the test waits for what the emulator sends, not for walking under control."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.hal.config import load_robot_config
from rehabbot.runtime.ring import LiveBlock
from rehabbot.sim.side_channel import CONTACT_SOURCE
from rehabbot.storage.store import SessionStore
from tests.gui.conftest import shown_window
from tests.gui.test_console_session import key
from tests.session.emulator import EmulatorProcess, emulated_robot

OPERATOR = "T. Tester"
WAIT_MS = 120_000


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorProcess]:
    with emulated_robot(monkeypatch) as process:
        yield process


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, emulator: EmulatorProcess) -> Iterator[MainWindow]:
    settings = ConsoleSettings(robot=load_robot_config("emu_exo"),
                               store_path=tmp_path / "store.sqlite", operator=OPERATOR,
                               realtime=True)
    yield from shown_window(qtbot, settings)


def test_the_console_runs_a_session_on_the_emulated_robot(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    store = window.settings.store_path
    shown: set[tuple[bool, bool]] = set()  # the foot-contact pairs the live screen was given
    show_rows = window.live.view.show_rows

    def seen(block: LiveBlock) -> None:
        contact = np.column_stack((block.column("contact_r"), block.column("contact_l"))) > 0.5
        shown.update(map(tuple, contact.tolist()))
        show_rows(block)

    monkeypatch.setattr(window.live.view, "show_rows", seen)
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.patients.code, "P-300")
    qtbot.keyClicks(window.patients.name, "Emulated Walker")
    key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    window.patients.use_button.click()
    window.setup.protocols.setCurrentText("standard_gait")
    window.setup.duration.setValue(60.0)
    assert window.setup.start_button.isEnabled(), window.setup.check.text()
    key(qtbot, window, Qt.Key.Key_F5)
    assert window.stack.currentWidget() is window.live
    # the foot contacts come from the emulator's side channel, through the ring, to the screen:
    # each foot seen on and off the belt (the legs move, under control or limp); or, on a
    # machine too loaded to feed the drives, their watchdogs stopped them first (drive_fault)
    # and the emulator holds its physics still, as it does with every drive disabled
    both = {True, False}

    def moved() -> bool:
        return {r for r, _ in shown} == both and {f for _, f in shown} == both

    def watchdogs_tripped() -> bool:
        return any(f.kind == "drive_fault" for f in window.status.faults)

    qtbot.waitUntil(lambda: moved() or watchdogs_tripped(), timeout=WAIT_MS)
    legs_moved = moved()
    key(qtbot, window, Qt.Key.Key_F1)  # E-STOP
    qtbot.waitUntil(lambda: any(f.kind == "estop" for f in window.banner.status.faults),
                    timeout=WAIT_MS)
    assert window.status.torque_off
    key(qtbot, window, Qt.Key.Key_F8)  # stop: stored, the summary shows
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.after, timeout=WAIT_MS)
    session_id = window.after.session_id
    assert session_id is not None
    with SessionStore.open(store) as st:
        info = st.get_session(session_id)
        summary = st.session_summary(session_id)
        parameters = st.session_parameters(session_id)
        samples = st.load_samples(session_id)
    assert info.patient_code == "P-300" and info.robot_name == "emu-exo"
    assert summary is not None and summary.plant == "emulated robot"
    assert summary.contact_source == CONTACT_SOURCE
    # the recording's contact columns are the emulator's: they changed as the legs moved, or
    # the drives' watchdogs stopped the session (faulted, recorded) with the physics held
    db = sqlite3.connect(store)
    kinds = {kind for (kind,) in db.execute("SELECT kind FROM events WHERE session_id = ?",
                                            (session_id,))}
    db.close()
    if legs_moved:
        assert (samples.contact != samples.contact[0]).any()
    else:
        assert info.status == "faulted" and "fault:drive_fault" in kinds
    assert parameters["robot"]["buses"][0]["interface"] == "rehabbot_local"
    db = sqlite3.connect(store)
    events = dict(db.execute("SELECT kind, detail FROM events WHERE session_id = ?",
                             (session_id,)).fetchall())
    db.close()
    assert "estop:pressed" in events
    assert json.loads(events["plant_configured"])["treadmill"] == "interface"
