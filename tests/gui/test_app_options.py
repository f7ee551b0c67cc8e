"""`rehabbot console`'s real-time options: for the session processes only, checked up front."""

from __future__ import annotations

import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.gui.app import realtime_settings
from rehabbot.runtime.realtime import RealtimeSettings


def test_no_option_leaves_the_sessions_on_the_normal_scheduler() -> None:
    assert realtime_settings(None, None, False) is None


def test_priority_and_cpu_become_the_session_processes_settings() -> None:
    assert realtime_settings(80, 1, True) == RealtimeSettings(
        fifo_priority=80, cpus=frozenset({1}), lock_memory=True)


def test_a_priority_out_of_range_is_one_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"SCHED_FIFO priority must be 1\.\.99"):
        realtime_settings(150, None, False)
