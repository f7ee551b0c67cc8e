"""``rehabbot console``: opens the therapist console (simulated robot unless one is given).

Register with ``app.command("console")(console_command)``. The operator's name (``--operator``,
default: the login name) is recorded with every action in the audit log.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from rehabbot.hal.config import DEFAULT_ROBOT, load_robot_config
from rehabbot.storage.store import default_store_path


def console_command(
    robot: Annotated[str, typer.Option(help="bundled robot name or .toml file")] = DEFAULT_ROBOT,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="session store file [default: $REHABBOT_STORE or user "
                                     "data dir]"),
    ] = None,
    operator: Annotated[
        str | None, typer.Option(help="the name recorded with every action [default: login]")
    ] = None,
) -> None:
    """Open the therapist console: patients, session setup, live session, reports."""
    from PySide6.QtWidgets import QApplication  # Qt only when the console is opened

    from rehabbot.console.main_window import ConsoleSettings, MainWindow
    from rehabbot.console.priority import lower_console_priority

    settings = ConsoleSettings(
        robot=load_robot_config(robot),
        store_path=store if store is not None else default_store_path(),
        operator=operator or getpass.getuser(),
    )
    lower_console_priority()  # drawing yields to the session processes (see priority.py)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(settings)
    window.show()
    app.exec()
