"""F6 (resume) while a fault is latched goes the reset path: acknowledge first, then a reset;
never a resume that would clear the fault unacknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from rehabbot.gui.main_window import ConsoleSettings, MainWindow
from rehabbot.hal.config import RobotConfig
from rehabbot.safety.faults import Fault, FaultKind
from rehabbot.session.session_link import SessionLink
from rehabbot.session.session_messages import Command, CommandKind, SafetyStatus
from rehabbot.session.session_process import fault_info

ESTOP = fault_info(Fault(FaultKind.ESTOP, None, 3.0, 1.0, 0.0))


class SentCommands(SessionLink):
    """A session link that only records what the console sends (no session process)."""

    def __init__(self) -> None:
        self.sent: list[Command] = []

    def send(self, command: Command) -> None:
        self.sent.append(command)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> Iterator[MainWindow]:
    settings = ConsoleSettings(robot=sim_exo, store_path=tmp_path / "store.sqlite",
                               operator="T. Tester", realtime=False)
    win = MainWindow(settings, confirm=lambda parent, text: True)
    yield win
    win.link = None  # no session to stop
    win.close()
    win.deleteLater()


def sent_kinds(window: MainWindow) -> list[CommandKind]:
    assert isinstance(window.link, SentCommands)
    return [c.kind for c in window.link.sent]


def test_resume_while_paused_without_a_fault_is_a_resume(window: MainWindow) -> None:
    window.link = SentCommands()
    window.handle_reply(SafetyStatus((), 1, True, paused=True))
    window.toggle_pause()
    assert sent_kinds(window) == [CommandKind.RESUME]


def test_resume_with_a_latched_fault_needs_acknowledging_then_resets(
        window: MainWindow) -> None:
    window.link = SentCommands()
    window.handle_reply(SafetyStatus((ESTOP,), 0, True, paused=True))
    window.toggle_pause()  # F6 before acknowledging: nothing is sent
    assert sent_kinds(window) == []
    assert "Acknowledge the alarm first" in window.banner.detail.text()
    window.banner.acknowledge()
    window.toggle_pause()  # after acknowledging: a reset, not a resume
    assert sent_kinds(window) == [CommandKind.RESET]
