"""The stall watch: a tick that runs long is reported with where the loop's thread was."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.runtime.stall import Stall, StallWatch
from tests.conftest import DriveBench
from tests.runtime.test_loop import D, K, make_loop

#: How long the deliberate stalls last (s): several times the watch's 10 ms threshold.
STALL_S = 0.06


def _sleep_inside_a_tick() -> None:
    time.sleep(STALL_S)


def _crunch_holding_the_gil() -> int:
    # one C call that never lets go of the GIL: the watchdog cannot run until it returns
    return sum(range(20_000_000))


def run_ticks(ticks: list[int], n: int) -> None:
    for _ in range(n):
        time.sleep(0.001)
        ticks[0] += 1


def test_a_tick_that_sleeps_is_reported_with_the_function_it_sleeps_in() -> None:
    ticks = [0]
    with StallWatch(lambda: ticks[0], threshold_s=0.01) as watch:
        run_ticks(ticks, 20)
        _sleep_inside_a_tick()
        ticks[0] += 1
        run_ticks(ticks, 20)
    (stall,) = [s for s in watch.stalls if s.function == "_sleep_inside_a_tick"]
    assert stall.duration_s >= 0.01  # at least the threshold, however late the watchdog was
    assert not stall.after  # the stack was taken while the tick stood still
    assert stall.stack[-2].startswith("test_a_tick_that_sleeps_is_reported")  # its caller
    assert stall.values()["function"] == "_sleep_inside_a_tick"


def test_a_c_call_holding_the_gil_is_reported_where_it_returns() -> None:
    ticks = [0]
    with StallWatch(lambda: ticks[0], threshold_s=0.01) as watch:
        run_ticks(ticks, 50)  # the watchdog learns the loop's pace
        _crunch_holding_the_gil()
        ticks[0] += 1
        run_ticks(ticks, 20)
    (stall,) = [s for s in watch.stalls if s.function == "_crunch_holding_the_gil"]
    assert stall.after  # seen once the GIL came back, at the call that held it
    assert stall.cpu_s > 0.0 or np.isnan(stall.cpu_s)  # the loop's own thread computed


class StallingController(ImpedanceController):
    """Impedance control whose 100th update stalls the tick."""

    calls = 0

    def update(self, state: JointState) -> JointCommand:
        self.calls += 1
        if self.calls == 100:
            _sleep_inside_a_tick()
        return super().update(state)


def test_the_loop_reports_a_stall_inside_its_controller(bench: DriveBench) -> None:
    loop, _ = make_loop(bench, bench.step)
    loop.controller = StallingController(bench.config.joint_names, K, D)
    report = loop.run(0.3)
    assert not report.faults  # in lockstep a slow tick delays the physics with it
    stalls = [s for s in report.stalls if s.function == "_sleep_inside_a_tick"]
    assert len(stalls) == 1
    assert stalls[0].stack[-2].startswith("update (")  # called by the controller's update
    assert report.timing()["stalls"] == len(report.stalls)
    assert 0.0 < report.cpu_share < 1.0  # the loop's thread slept through the stall


def test_a_watch_without_a_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold_s"):
        StallWatch(lambda: 0, threshold_s=0.0)


@pytest.mark.parametrize(("cpu_s", "wait_s", "steal_s", "doing"), [
    # a 100 ms stall of a 30-minute session on a virtual machine: the guest counted the stolen
    # time as the loop thread's own CPU time, and the hypervisor's steal says what it was
    (0.090, 0.0001, 0.100, "stolen by the hypervisor"),
    (0.090, 0.0001, 0.0, "computing"),
    (0.010, 0.080, 0.010, "waiting for a CPU"),
    (0.010, 0.010, 0.010, "waiting (lock, GIL, I/O or sleep)"),
    (float("nan"), float("nan"), float("nan"), "unknown"),
])
def test_a_stall_says_what_the_loop_s_thread_did(cpu_s: float, wait_s: float, steal_s: float,
                                                 doing: str) -> None:
    stall = Stall(1, 0.1, (), cpu_s, wait_s, steal_s, 0.09)
    assert stall.doing == doing
