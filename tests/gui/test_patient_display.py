"""The patient display: a real session in its own process, the display open in every mode, mode
and target changed from the console's feedback panel, screenshots of each mode (in the artifacts
folder, see tests/artifacts.py), the changes recorded and audited; honest feedback while paused,
stopped or with an uncertain phase."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from rehabbot.assessment.engagement import FeedbackSettings
from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.gui.patient_display import MIN_TEXT, PatientDisplay
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import load_protocol
from rehabbot.runtime.ring import LiveBlock, row_width
from rehabbot.session.session_messages import PhaseConfidence, SafetyStatus
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.gui.conftest import shown_window
from tests.gui.screens import save_screenshot

OPERATOR = "T. Tester"
WAIT_MS = 90_000


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> Iterator[MainWindow]:
    settings = ConsoleSettings(robot=sim_exo, store_path=tmp_path / "store.sqlite",
                               operator=OPERATOR, realtime=False)
    yield from shown_window(qtbot, settings)


def _apply(qtbot: QtBot, window: MainWindow, mode: str, low: float, high: float) -> None:
    """Set mode and band in the feedback panel and apply; wait until the session took it."""
    panel = window.feedback_panel
    panel.mode.setCurrentText(mode)
    panel.low.setValue(low)
    panel.high.setValue(high)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: f"feedback {mode}" in window.live.status.text()
                    and "applied" in window.live.status.text(), timeout=WAIT_MS)
    assert window.patient_display.settings.mode == mode


def _pixels(image: QImage, colour: str) -> int:
    """Pixels of ``image`` within 40 of ``colour`` in every channel (every 4th row and column)."""
    target = QColor(colour)
    count = 0
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            c = image.pixelColor(x, y)
            if (abs(c.red() - target.red()) < 40 and abs(c.green() - target.green()) < 40
                    and abs(c.blue() - target.blue()) < 40):
                count += 1
    return count


def _shot(display: PatientDisplay, name: str) -> QImage:
    display.repaint()
    path = save_screenshot(display, name)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (display.width(), display.height())
    return image


def test_the_display_in_every_mode_changed_from_the_console(qtbot: QtBot,
                                                            window: MainWindow) -> None:
    display = window.patient_display
    window.open_patient_display(0)
    qtbot.waitExposed(display)
    assert display.isFullScreen()
    assert display.geometry() == QGuiApplication.screens()[0].geometry()
    assert window.feedback_dock.isVisible()
    window.start_session("P-300", load_protocol("path_control"), 300.0, "athletic")
    qtbot.waitUntil(lambda: display.stats.steps >= 2, timeout=WAIT_MS)
    h = display.height()
    # bars: a wide band, so that bars are judged in it (green)
    _apply(qtbot, window, "bars", -30.0, 30.0)
    qtbot.waitUntil(lambda: sum(v is True for part in display._judged.values()
                                for v in part) >= 3, timeout=WAIT_MS)
    image = _shot(display, "patient_display_bars")
    save_screenshot(window, "patient_display_console_panel")  # the console, its panel docked
    assert _pixels(image, "#00e676") > 50  # green bars in the band
    assert display.smallest_text_px >= MIN_TEXT * h
    # a narrow band far off: the same bars are judged outside it (white), none green
    _apply(qtbot, window, "bars", 35.0, 40.0)
    qtbot.waitUntil(lambda: all(v is not True for part in display._judged.values()
                                for v in part) and sum(v is False for part in
                                                       display._judged.values()
                                                       for v in part) >= 3, timeout=WAIT_MS)
    image = _shot(display, "patient_display_bars_out_of_band")
    assert _pixels(image, "#00e676") < _pixels(image, "#ffffff")
    # the game: the avatar moves on as rewarded stride parts end
    window.feedback_panel.part.setCurrentText("both")
    _apply(qtbot, window, "game", -30.0, 30.0)
    start = display.progress
    qtbot.waitUntil(lambda: display.progress >= start + 3, timeout=WAIT_MS)
    image = _shot(display, "patient_display_game")
    assert _pixels(image, "#ffd600") > 20 and _pixels(image, "#40c4ff") > 20  # avatar, stars
    assert display.smallest_text_px >= MIN_TEXT * h
    # the step goal: the count against the protocol's target (300 s at its cadence)
    _apply(qtbot, window, "steps", -30.0, 30.0)
    assert display.goal == round(300.0 * load_protocol("path_control").training_phase
                                 .cadence_steps_per_min / 60.0)
    steps = display.stats.steps
    qtbot.waitUntil(lambda: display.stats.steps >= steps + 2, timeout=WAIT_MS)
    image = _shot(display, "patient_display_steps")
    assert _pixels(image, "#00e676") > 10  # the ring has begun to fill
    assert display.smallest_text_px >= MIN_TEXT * h
    # off: a black screen
    _apply(qtbot, window, "off", -30.0, 30.0)
    image = _shot(display, "patient_display_off")
    assert _pixels(image, "#000000") == len(range(0, image.height(), 4)) * len(
        range(0, image.width(), 4))
    window.stop_session()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.after, timeout=WAIT_MS)
    assert display.reader is None  # let go of the ring before the console removed it
    session_id = window.after.session_id
    # recorded with the session like a parameter change, and audited with the operator
    db = sqlite3.connect(window.settings.store_path)
    rows = db.execute("SELECT t_s, detail FROM events WHERE session_id = ? AND kind = "
                      "'console:feedback' ORDER BY t_s, id", (session_id,)).fetchall()
    db.close()
    details = [json.loads(d) for _, d in rows]
    assert [d["mode"] for d in details] == ["off", "bars", "bars", "game", "steps", "off"]
    assert all(d["accepted"] and d["operator"] == OPERATOR for d in details)
    assert [(d["band_low_nm"], d["band_high_nm"]) for d in details[1:3]] == [(-30.0, 30.0),
                                                                             (35.0, 40.0)]
    times = [t for t, _ in rows]
    assert times == sorted(times) and times[-1] > times[1] > 0.0
    with SessionStore.open(window.settings.store_path) as st:
        audit = [e for e in PatientRecords(st).audit_log() if e.action == "feedback.change"]
    assert [e.detail["mode"] for e in audit] == [d["mode"] for d in details]
    assert {e.operator for e in audit} == {OPERATOR}


def test_a_bad_band_is_refused_in_the_panel_and_nothing_is_sent(window: MainWindow) -> None:
    panel = window.feedback_panel
    panel.low.setValue(10.0)
    panel.high.setValue(5.0)
    panel.apply_button.click()
    assert "lower edge below the upper one" in panel.message.text()
    assert window.patient_display.settings.band_low_nm != 10.0


def _rows(t0: float, contacts: list[tuple[bool, bool]], tau_cmd: float,
          n_joints: int = 4) -> LiveBlock:
    """Rows 1 ms apart with the given contacts, a rising reference and a constant commanded
    torque against it (biofeedback ``+tau_cmd``)."""
    n = len(contacts)
    rows = np.zeros((n, row_width(n_joints)))
    rows[:, 1] = t0 + np.arange(n) * 0.001
    rows[:, 3] = [c[0] for c in contacts]
    rows[:, 4] = [c[1] for c in contacts]
    rows[:, 5 + 3 * n_joints: 5 + 4 * n_joints] = -tau_cmd  # tau_cmd against the motion
    rows[:, 5 + 4 * n_joints:] = (t0 + np.arange(n) * 0.001)[:, None]  # q_ref rising
    return LiveBlock(rows, n_joints, 0)


def _strides(display: PatientDisplay, t0: float, count: int, tau_cmd: float) -> float:
    """Feed ``count`` strides (0.6 s stance, 0.4 s swing per leg) to the display, a frame at a
    time; return the time after them."""
    for _ in range(count):
        for contact, length in ((True, 600), (False, 400)):
            for start in range(0, length, 30):
                frame = min(30, length - start)
                display.take(_rows(t0, [(contact, contact)] * frame, tau_cmd))
                t0 += frame * 0.001
    return t0


@pytest.mark.parametrize("reason", ["paused", "stopped", "uncertain"])
def test_feedback_is_withheld_honestly(qtbot: QtBot, reason: str) -> None:
    names = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
    display = PatientDisplay(names)
    qtbot.addWidget(display)
    display.resize(1280, 720)
    display.show()
    qtbot.waitExposed(display)
    display.set_settings(FeedbackSettings("game", 2.0, 8.0, ("hip", "knee"), "both"))
    t = _strides(display, 0.0, 3, tau_cmd=5.0)  # in the band: rewarded
    rewarded = display.progress
    assert rewarded >= 8  # stance and swing of two legs per stride, the first part unjudged
    if reason == "paused":
        display.show_status(SafetyStatus(paused=True, stop_category=1))
    elif reason == "stopped":
        display.show_status(SafetyStatus(stop_category=0, torque_off=True))
    else:
        display.show_confidence(PhaseConfidence(True, 0.2))
    assert display.withheld == reason
    t = _strides(display, t, 3, tau_cmd=5.0)
    assert display.progress == rewarded  # no reward while withheld
    assert all(v is None for part in display._judged.values() for v in part)  # no verdict
    image = _shot(display, f"patient_display_withheld_{reason}")
    assert _pixels(image, "#82b1ff") > 50  # the plain-words frame
    assert display.smallest_text_px >= MIN_TEXT * display.height()
    assert display.clipped_texts == 0
    display.show_status(SafetyStatus())
    display.show_confidence(PhaseConfidence(False, 0.9))
    t = _strides(display, t, 1, tau_cmd=5.0)
    assert display.progress == rewarded + 2  # the swing begun while withheld is not judged;
    # the stance after it is (both legs)
    _strides(display, t, 2, tau_cmd=20.0)  # out of the band: no reward, bars judged out
    assert display.progress == rewarded + 4  # only the swing walked at 5 N·m before them
    assert any(v is False for part in display._judged.values() for v in part)
    display.close()


@pytest.mark.parametrize("mode", ["bars", "game", "steps"])
def test_every_mode_fits_a_wide_screen_in_large_text(qtbot: QtBot, mode: str) -> None:
    display = PatientDisplay(("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l"))
    qtbot.addWidget(display)
    display.resize(1280, 720)
    display.show()
    qtbot.waitExposed(display)
    display.step_goal = 300
    display.set_settings(FeedbackSettings(mode, 2.0, 8.0, ("hip", "knee"), "both"))
    _strides(display, 0.0, 3, tau_cmd=5.0)
    _shot(display, f"patient_display_{mode}_1280x720")
    assert display.smallest_text_px >= MIN_TEXT * display.height()
    assert display.clipped_texts == 0
    display.close()
