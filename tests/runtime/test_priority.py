"""The console's drawing thread yields to control; session processes keep the normal priority."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading

import pytest

from rehabbot.runtime.priority import (
    CONSOLE_NICE,
    keep_off_cpus,
    lower_console_priority,
    start_process,
)


def report_nice(out: multiprocessing.Queue[int]) -> None:
    out.put(os.getpriority(os.PRIO_PROCESS, 0))


def test_the_console_thread_is_lowered_and_a_session_started_after_is_not() -> None:
    normal = os.getpriority(os.PRIO_PROCESS, 0)
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[int] = ctx.Queue()
    seen: dict[str, int] = {}

    def console_thread() -> None:  # stands for the GUI thread (not the test's own thread)
        assert lower_console_priority()
        seen["console"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        process = ctx.Process(target=report_nice, args=(out,))
        start_process(process)
        seen["session"] = out.get(timeout=60)
        process.join()

    thread = threading.Thread(target=console_thread)
    thread.start()
    thread.join()
    assert seen == {"console": normal + CONSOLE_NICE, "session": normal}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == normal  # only that thread


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two CPUs")
def test_the_console_keeps_off_the_sessions_cpu_and_its_spawner_does_not() -> None:
    session_cpu = min(os.sched_getaffinity(0))
    seen: dict[str, set[int]] = {}

    def console_thread() -> None:  # a thread of its own: the test process keeps its CPUs
        seen["kept_off"] = {int(keep_off_cpus(frozenset({session_cpu})))}
        seen["console"] = os.sched_getaffinity(0)
        seen["everything"] = {int(keep_off_cpus(frozenset(os.sched_getaffinity(0))))}

    thread = threading.Thread(target=console_thread)
    thread.start()
    thread.join()
    assert seen["kept_off"] == {1} and session_cpu not in seen["console"] and seen["console"]
    assert seen["everything"] == {0}  # no CPU would be left: nothing changes
    assert session_cpu in os.sched_getaffinity(0)  # other threads keep every CPU
