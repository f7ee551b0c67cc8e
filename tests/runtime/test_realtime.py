"""Real-time settings: applied where the OS allows, refused with a reason otherwise, never fatal."""

from __future__ import annotations

import os
import subprocess
import sys

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
        "from rehabbot.runtime.realtime import RealtimeSettings, apply_realtime\n"
        f"r = apply_realtime(RealtimeSettings(fifo_priority=10, cpus=frozenset({{{cpu}}}), "
        "lock_memory=True))\n"
        "print(len(r.applied) + len(r.refused))\n"
        "print(os.sched_getaffinity(0))\n"
        "print(os.sched_getscheduler(0) == os.SCHED_FIFO, any('FIFO' in a for a in r.applied))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.splitlines()
    assert out[0] == "3"  # every setting either applied or refused with a reason
    assert out[1] == str({cpu})
    fifo_now, fifo_reported = out[2].split()
    assert fifo_now == fifo_reported  # the report tells the truth about the scheduler
