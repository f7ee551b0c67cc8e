"""The emulated robot in another process: ``rehabbot sim serve`` started for a test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rehabbot.hal.transport import SOCKET_DIR_ENV


@dataclass
class EmulatorProcess:
    """A running ``rehabbot sim serve`` and the directory of its sockets."""

    process: subprocess.Popen[str]
    socket_dir: Path

    def stop(self) -> dict[str, Any]:
        """Stop it with SIGTERM; its statistics (the JSON line it prints on the way out)."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return dict(json.loads(out.strip().splitlines()[-1]))

    def kill(self) -> None:
        """Kill it (SIGKILL): no goodbye on its buses."""
        self.process.kill()
        self.process.communicate(timeout=30)


@contextmanager
def emulated_robot(
    monkeypatch: pytest.MonkeyPatch, *args: str, robot: str = "emu_exo"
) -> Iterator[EmulatorProcess]:
    """Start ``rehabbot sim serve ROBOT ARGS`` with its sockets in a fresh directory that this
    process uses too; wait until it serves; stop it at the end."""
    socket_dir = Path(tempfile.mkdtemp(prefix="rb-can-"))  # short: socket paths ≤ 107 bytes
    monkeypatch.setenv(SOCKET_DIR_ENV, str(socket_dir))
    env = os.environ | {SOCKET_DIR_ENV: str(socket_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "rehabbot", "sim", "serve", robot, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    emulator = EmulatorProcess(process, socket_dir)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving "), (line, process.stderr.read() if process.stderr
                                             else "")
        yield emulator
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)  # and close the pipes
        shutil.rmtree(socket_dir, ignore_errors=True)
