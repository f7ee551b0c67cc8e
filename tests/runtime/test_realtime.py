"""Real-time settings: applied where the OS allows, refused with a reason otherwise, never fatal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rehabbot.runtime.realtime import RealtimeSettings, apply_realtime


def test_nothing_asked_nothing_done() -> None:
    report = apply_realtime(RealtimeSettings())
    assert report.applied == [] and report.refused == []


def test_a_cpu_the_machine_lacks_is_refused_with_the_available_cpus_named() -> None:
    before = os.sched_getaffinity(0)
    report = apply_realtime(RealtimeSettings(cpus=frozenset({4096})))
    assert report.applied == []
    assert len(report.refused) == 1 and "available" in report.refused[0]
    assert os.sched_getaffinity(0) == before


@pytest.mark.parametrize("kwargs", [{"fifo_priority": 0}, {"fifo_priority": 100},
                                    {"cpus": frozenset()}, {"cpus": frozenset({-1})}])
def test_out_of_range_settings_are_refused_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RealtimeSettings(**kwargs)  # type: ignore[arg-type]


def test_settings_take_effect_in_the_process_or_are_reported() -> None:
    # In a child process: this test must not pin or re-prioritise the test runner itself.
    cpu = min(os.sched_getaffinity(0))
    code = (
        "import os\n"
        "from rehabbot.runtime.realtime import RealtimeSettings, apply_realtime, loop_priority\n"
        f"r = apply_realtime(RealtimeSettings(fifo_priority=10, cpus=frozenset({{{cpu}}}), "
        "lock_memory=True))\n"
        "print(len(r.applied) + len(r.refused))\n"
        "print(os.sched_getaffinity(0))\n"
        "print(os.sched_getscheduler(0) == os.SCHED_FIFO, any('FIFO' in a for a in r.applied))\n"
        "with loop_priority():\n"
        "    print(os.sched_getscheduler(0) == os.SCHED_FIFO)\n"
        "print(os.sched_getscheduler(0) == os.SCHED_FIFO)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.splitlines()
    assert out[0] == "3"  # every setting either applied or refused with a reason
    assert out[1] == str({cpu})
    fifo_before_loop, fifo_reported = out[2].split()
    assert fifo_before_loop == "False"  # the priority is the loop's, not the bring-up's
    assert out[3] == fifo_reported  # the report tells the truth: the loop runs at it if allowed
    assert out[4] == "False"  # and after the loop (summary, report, store) the normal scheduler


def test_cli_warns_about_a_refused_setting_and_still_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rehabbot", "session", "run", "--duration", "0.5", "--cpu", "4096",
         "--json", "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "warning: real-time setting not applied: CPU affinity [4096]" in result.stderr
    assert json.loads(result.stdout)["status"] == "completed"


def test_cli_refuses_an_out_of_range_priority_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rehabbot", "session", "run", "--fifo-priority", "120",
         "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == "error: SCHED_FIFO priority must be 1..99, not 120\n"
    assert not (tmp_path / "s.sqlite").exists()
