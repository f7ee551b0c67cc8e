"""`rehabbot console`'s options (real-time: for the session processes only) and its display
check, all up front."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rehabbot.errors import ConfigurationError, RehabbotError
from rehabbot.gui.app import realtime_settings, require_display
from rehabbot.runtime.realtime import RealtimeSettings


def test_no_option_leaves_the_sessions_on_the_normal_scheduler() -> None:
    assert realtime_settings(None, None, False) is None


def test_priority_and_cpu_become_the_session_processes_settings() -> None:
    assert realtime_settings(80, 1, True) == RealtimeSettings(
        fifo_priority=80, cpus=frozenset({1}), lock_memory=True)


def test_a_priority_out_of_range_is_one_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"SCHED_FIFO priority must be 1\.\.99"):
        realtime_settings(150, None, False)


def test_the_console_without_a_display_says_so_in_one_line_and_exits_2(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    run = subprocess.run([sys.executable, "-m", "rehabbot", "console", "--store",
                          str(tmp_path / "store.sqlite")],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 2, run.stderr  # not Qt's abort (134)
    assert run.stderr == ("error: no display for the console: run it in a desktop session, or "
                          "set QT_QPA_PLATFORM=offscreen for a headless test\n")
    assert not (tmp_path / "store.sqlite").exists()


@pytest.mark.parametrize("env", [{"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"},
                                 {"QT_QPA_PLATFORM": "offscreen"}])
def test_any_display_or_platform_lets_the_console_open(env: dict[str, str]) -> None:
    require_display(env, "linux")  # no error


def test_other_systems_always_have_a_platform() -> None:
    require_display({}, "win32")
    with pytest.raises(RehabbotError, match=r"^no display for the console"):
        require_display({}, "linux")
