"""Hold-to-run recovery from the console's keyboard, through the session process to the
supervisor of a running session: refused while E-STOP is pressed, running while F7 is held,
ended when it is let go; then the reset is accepted. And the situation it exists for, as a
clinic meets it: a weak patient's limp legs, dragged by the belt after a stop, go beyond their
limits by themselves; the reset is refused while they are beyond, F7 brings them back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from rehabbot.body.range_of_motion import RangeOfMotion
from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import load_protocol
from rehabbot.safety.recovery import RANGE_FAULTS
from rehabbot.session.session_messages import Applied, CommandKind, EventInfo, Reply
from rehabbot.storage.record_models import FittingParameters, PatientProfile
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.gui.conftest import shown_window

WAIT_MS = 60_000
#: How long a stopped session may take to be stored on a loaded machine (ms; 3 s when idle).
STORE_WAIT_MS = 180_000


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


#: Latched-fault kinds of a joint beyond its range (what recovery is for).
BEYOND = {kind.value for kind in RANGE_FAULTS}
#: How many times the therapist presses F3 before the test gives up.
TRIES = 100


@pytest.fixture
def replies(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[Reply]:
    """Every reply the session process sends the window, in order (seen, then handled)."""
    seen: list[Reply] = []
    handle = window.handle_reply

    def record(reply: Reply) -> None:
        seen.append(reply)
        handle(reply)

    monkeypatch.setattr(window, "handle_reply", record)
    return seen


def press_reset(qtbot: QtBot, window: MainWindow, replies: list[Reply]) -> list[EventInfo]:
    """F2 then F3, as the therapist does; the supervisor's reset events that followed."""
    start = len(replies)
    window.banner.acknowledge()
    window.reset()
    qtbot.waitUntil(lambda: any(isinstance(r, Applied) and r.command.kind is CommandKind.RESET
                                for r in replies[start:]), timeout=WAIT_MS)
    return [r for r in replies[start:]
            if isinstance(r, EventInfo) and r.kind in ("reset", "reset:refused")]


def blocked_by_a_joint(events: list[EventInfo]) -> list[str]:
    """The joint range faults that blocked a refused reset (``kind@joint``)."""
    return [cause.strip() for e in events if e.kind == "reset:refused"
            for cause in str(e.values.get("blocking", "")).split(";")
            if cause.strip().partition("@")[0] in BEYOND and "@" in cause]


def test_legs_beyond_their_limits_after_a_stop_refuse_the_reset_until_f7_brings_them_back(
        qtbot: QtBot, window: MainWindow, replies: list[Reply]) -> None:
    # a stroke patient (weak left leg, knee thrust) walks at 3 km/h; the therapist stops
    window.start_session("P-1", load_protocol(), 300.0, "stroke_left")
    qtbot.waitUntil(lambda: "guidance_pct" in window.live.controls.boxes, timeout=WAIT_MS)
    window.estop.press()
    qtbot.waitUntil(lambda: window.status.torque_off, timeout=WAIT_MS)
    window.estop.release()
    # the limp legs, on the running belt, go beyond their limits by themselves: the therapist
    # resets until the supervisor refuses because a joint is beyond (a reset that found every
    # leg inside for a moment is followed by a new stop, as a stumble would be)
    blocking: list[str] = []
    for _ in range(TRIES):
        blocking = blocked_by_a_joint(press_reset(qtbot, window, replies))
        if blocking:
            break
        if window.status.stop_category is None:
            window.estop.press()
            qtbot.waitUntil(lambda: window.status.torque_off, timeout=WAIT_MS)
            window.estop.release()
        qtbot.wait(100)
    assert blocking, "the limp legs never went beyond a limit"
    assert window.status.faults and not window.estop.pressed
    # the banner says which joint and what to do, in plain words
    text = window.banner.detail.text()
    refusal = next(line for line in text.splitlines() if line.startswith("Reset refused"))
    assert refusal.startswith("Reset refused: a cause is still present. Still present: ")
    assert "beyond the robot's limit" in refusal or "outside the patient's range" in refusal
    assert "hold F7 to bring the legs back into their range" in refusal
    assert "position_limit" not in refusal and "rom_exceeded" not in refusal
    # F7 held: the recovery runs under the supervisor; F3 while holding, until every joint is
    # back inside: then the reset is accepted
    f7(qtbot, window, True)
    qtbot.waitUntil(lambda: any(isinstance(r, EventInfo) and r.kind == "recovery:started"
                                for r in replies), timeout=WAIT_MS)
    outcome: list[EventInfo] = []
    for _ in range(TRIES):
        outcome = press_reset(qtbot, window, replies)
        if any(e.kind == "reset" for e in outcome):
            break
        qtbot.wait(50)
    f7(qtbot, window, False)
    accepted = next((e for e in outcome if e.kind == "reset"), None)
    assert accepted is not None, "the reset was never accepted while F7 was held"
    cleared = str(accepted.values["cleared"])
    assert any(cause in cleared for cause in blocking)  # the faults that had blocked it
    window.stop_session()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.after, timeout=STORE_WAIT_MS)
    # the record keeps it all: the refusal with the joint beyond, the recovery, the reset
    db = sqlite3.connect(window.settings.store_path)
    rows = db.execute("SELECT kind, detail FROM events WHERE session_id = ? ORDER BY t_s, id",
                      (window.after.session_id,)).fetchall()
    db.close()
    kinds = [kind for kind, _ in rows]
    refusals = [json.loads(detail)["blocking"] for kind, detail in rows
                if kind == "reset:refused"]
    assert any(cause in refusal for refusal in refusals for cause in blocking)
    assert kinds.index("recovery:started") < len(kinds) - 1 - kinds[::-1].index("reset")
