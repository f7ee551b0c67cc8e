"""The patient's instructions during a robot assessment battery, on the therapist's console and on
the patient display: a real session in its own process, a real (offscreen) Qt window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from rehabbot.controllers.instruction_text import RELAX_TEXT
from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.gui.patient_display import MIN_TEXT
from rehabbot.hal.config import RobotConfig
from rehabbot.session.session_messages import PatientInstruction
from tests.gui.conftest import shown_window
from tests.gui.screens import save_screenshot
from tests.session.battery_protocol import battery_protocol

WAIT_MS = 120_000
PUSH = "Straighten your left knee as hard as you can"

@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> Iterator[MainWindow]:
    settings = ConsoleSettings(robot=sim_exo, store_path=tmp_path / "store.sqlite",
                               operator="T. Tester", realtime=False)
    yield from shown_window(qtbot, settings)


def test_the_console_and_the_patient_display_show_the_same_instruction(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    display = window.patient_display
    window.open_patient_display(0)
    qtbot.waitExposed(display)
    seen: list[PatientInstruction] = []
    show = display.show_instruction

    def seeing(instruction: PatientInstruction) -> None:  # the real method, and a note of it
        seen.append(instruction)
        show(instruction)

    display.show_instruction = seeing  # type: ignore[method-assign]
    # a healthy patient: the knee's extension effort (210 N·m) is stronger than the robot holds
    # within its actuator's rating; the effort ends there, no fault, and the walk follows
    window.start_session("P-400", battery_protocol(tmp_path, ("isometric",), walk_s=3.0), None,
                         "healthy")
    # the effort: both screens say it, in the same words
    qtbot.waitUntil(lambda: display.instruction == PUSH, timeout=WAIT_MS)
    assert window.live.instruction.isVisible()
    assert window.live.instruction.text() == f"Patient (isometric): {PUSH}"
    assert display.withheld is None
    image_path = save_screenshot(display, "patient_display_instruction")
    save_screenshot(window, "console_patient_instruction")
    image = QImage(str(image_path))
    assert (image.width(), image.height()) == (display.width(), display.height())
    display.repaint()
    assert display.smallest_text_px >= MIN_TEXT * display.height()
    assert display.clipped_texts == 0
    # the battery ends, the walk begins: no instruction any more on either screen
    qtbot.waitUntil(lambda: bool(seen) and seen[-1].text == "", timeout=WAIT_MS)
    assert display.instruction == ""
    assert not window.live.instruction.isVisible()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.after, timeout=WAIT_MS)
    texts = [i.text for i in seen]
    # relaxed before and between the efforts, pushing in both directions, then walking
    assert texts[0] == RELAX_TEXT
    assert "Bend your left knee as hard as you can" in texts
    assert texts.index("Bend your left knee as hard as you can") < texts.index(PUSH)
    assert texts[texts.index(PUSH) - 1] == RELAX_TEXT  # a rest before each effort
    assert texts[-1] == ""
    assert all(i.assessment == "isometric" for i in seen if "as hard" in i.text)
