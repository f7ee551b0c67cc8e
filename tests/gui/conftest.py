"""Console tests run in a real Qt window on the offscreen platform (no display needed)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from pytestqt.qtbot import QtBot

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from rehabbot.gui.main_window import ConsoleSettings, MainWindow


def shown_window(qtbot: QtBot, settings: ConsoleSettings,
                 size: tuple[int, int] | None = None) -> Iterator[MainWindow]:
    """The console's main window for ``settings``, shown (at ``size`` px if given) for a test
    fixture to ``yield from``; closed afterwards (which stops a session still running, safely,
    and waits until it is stored), its live plots released."""
    win = MainWindow(settings, confirm=lambda parent, text: True)
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    win.live.view.plots.clear()
    win.live.view.plots.close()
