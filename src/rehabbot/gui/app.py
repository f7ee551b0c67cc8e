"""``rehabbot console``: opens the therapist console (simulated robot unless one is given).

:mod:`rehabbot.cli` registers ``console_command`` as a deferred command: this module is
imported when the console opens, and Qt (the ``gui`` extra) when the command runs. The
operator's name (``--operator``, default: the login name) is recorded with every action in the
audit log.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from rehabbot.errors import ConfigurationError, RehabbotError
from rehabbot.hal.config import DEFAULT_ROBOT, load_robot_config
from rehabbot.runtime.realtime import RealtimeSettings
from rehabbot.storage.store import default_store_path

#: What ``rehabbot console`` says when there is no display.
NO_DISPLAY = ("no display for the console: run it in a desktop session, or set "
              "QT_QPA_PLATFORM=offscreen for a headless test")


def realtime_settings(fifo_priority: int | None, cpu: int | None,
                      lock_memory: bool) -> RealtimeSettings | None:
    """The session processes' real-time settings from the options (None: none asked for).

    Raises:
        ConfigurationError: a priority or CPU out of range.
    """
    if fifo_priority is None and cpu is None and not lock_memory:
        return None
    try:
        return RealtimeSettings(fifo_priority=fifo_priority,
                                cpus=None if cpu is None else frozenset({cpu}),
                                lock_memory=lock_memory)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def require_display(environ: Mapping[str, str] = os.environ,
                    platform: str = sys.platform) -> None:
    """Check that Qt has somewhere to draw, before a QApplication aborts the process without.

    On Linux, Qt needs ``QT_QPA_PLATFORM``, ``DISPLAY`` (X11) or ``WAYLAND_DISPLAY``; other
    systems always have their own platform.

    Raises:
        RehabbotError: no display (one line: what to do).
    """
    if not platform.startswith("linux"):
        return
    if any(environ.get(name) for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")):
        return
    raise RehabbotError(NO_DISPLAY)


def console_command(
    robot: Annotated[str, typer.Option(help="bundled robot name or .toml file")] = DEFAULT_ROBOT,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="session store file \\[default: $REHABBOT_STORE or user "
                                     "data dir]"),
    ] = None,
    operator: Annotated[
        str | None, typer.Option(help="the name recorded with every action \\[default: login]")
    ] = None,
    fifo_priority: Annotated[
        int | None, typer.Option(help="run sessions at this SCHED_FIFO priority (1-99, Linux)")
    ] = None,
    cpu: Annotated[int | None, typer.Option(help="pin session processes to this CPU")] = None,
    lock_memory: Annotated[
        bool, typer.Option(help="lock session processes' memory (mlockall)")
    ] = False,
) -> None:
    """Open the therapist console: patients, session setup, live session, reports.

    The real-time options apply to the session processes only (docs/bring-up.md), never to the
    console, whose drawing thread runs at a lower priority.
    """
    # Qt only when the console is opened; without the gui extra this is what fails, first
    from PySide6.QtWidgets import QApplication

    from rehabbot.gui.main_window import ConsoleSettings, MainWindow
    from rehabbot.runtime.priority import keep_off_cpus, lower_console_priority

    require_display()

    settings = ConsoleSettings(
        robot=load_robot_config(robot),
        store_path=store if store is not None else default_store_path(),
        operator=operator or getpass.getuser(),
        session_realtime=realtime_settings(fifo_priority, cpu, lock_memory),
    )
    lower_console_priority()  # drawing yields to the session processes (see priority.py)
    if settings.session_realtime is not None and settings.session_realtime.cpus:
        keep_off_cpus(settings.session_realtime.cpus)  # and never runs on the loop's CPU
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(settings)
    window.show()
    app.exec()
