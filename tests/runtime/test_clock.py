"""The clocks: a wall clock skips after a stall (never bursts), steps a simulator it paces once
per period of wall time, stalls included, and runs the idle hook between ticks; the garbage
collector is kept out of the tick; real-time priority stays with the loop's thread.

Stalls are real sleeps; what is asserted follows from a sleep lasting at least as long as asked
(never an upper bound on time)."""

from __future__ import annotations

import gc
import os
import threading
import time

import pytest

from rehabbot.runtime.clock import LockstepClock, WallClock
from rehabbot.runtime.gc_guard import LoopGc
from rehabbot.runtime.realtime import rank_threads_below_this_one, restore_threads

PERIOD_S = 0.001


def test_a_wall_clock_skips_the_ticks_of_a_stall_and_counts_them() -> None:
    clock = WallClock(PERIOD_S)
    clock.restart()
    clock.wait_next_tick()
    before = clock.ticks
    time.sleep(0.0105)  # a stall of ten periods and a half
    clock.wait_next_tick()
    assert clock.ticks - before >= 10  # on the grid of the present period, not the next one
    assert clock.skipped_ticks == clock.ticks - before - 1
    assert clock.now() == pytest.approx(clock.ticks * PERIOD_S)  # time jumps with the skip


def test_a_simulator_paced_by_the_wall_clock_steps_once_per_period_stalls_included() -> None:
    steps: list[int] = []
    clock = WallClock(PERIOD_S, step=lambda: steps.append(clock.ticks))
    clock.restart()
    for _ in range(3):
        clock.wait_next_tick()
    time.sleep(0.0083)  # the host stalls inside a tick, before its write
    clock.catch_up()  # the loop's call before the write: the drives ran on meanwhile
    caught_up = len(steps)
    assert caught_up >= 3 + 8
    clock.wait_next_tick()
    assert len(steps) == clock.ticks  # one step per tick of the grid, skipped ones included
    assert clock.skipped_ticks >= 7


def test_before_the_first_restart_a_wall_clock_neither_skips_nor_catches_up() -> None:
    steps: list[int] = []
    clock = WallClock(PERIOD_S, step=lambda: steps.append(1))
    time.sleep(0.005)  # bring-up: the host configures itself
    clock.catch_up()
    clock.wait_next_tick()
    assert (len(steps), clock.ticks, clock.skipped_ticks) == (1, 1, 0)


def test_resync_makes_the_time_before_no_stall() -> None:
    steps: list[int] = []
    clock = WallClock(PERIOD_S, step=lambda: steps.append(1))
    clock.restart()
    clock.wait_next_tick()
    time.sleep(0.005)  # between two runs of the loop
    clock.resync()
    clock.catch_up()
    assert len(steps) == 1 and clock.skipped_ticks == 0


def test_both_clocks_run_the_idle_hook_between_ticks() -> None:
    idle: list[int] = []
    lockstep = LockstepClock(PERIOD_S, step=lambda: None)
    lockstep.idle = lambda: idle.append(lockstep.ticks)
    lockstep.wait_next_tick()
    lockstep.wait_next_tick()
    assert idle == [1, 2]
    wall = WallClock(0.01)  # a long period: slack for the hook in every one
    wall.restart()
    wall.idle = lambda: idle.append(-1)
    wall.wait_next_tick()
    assert idle[-1] == -1


def test_the_gc_guard_freezes_the_heap_and_collects_the_young_generation_only_when_idle() -> None:
    enabled = gc.isenabled()
    with LoopGc(threshold=100) as guard:
        assert not gc.isenabled() and gc.get_freeze_count() > 0
        cycles = []
        for _ in range(500):  # cyclic garbage: only a collection frees it
            node: list[object] = []
            node.append(node)
            cycles.append(node)
        del cycles, node
        assert guard.stats().by_generation == (0, 0, 0)  # nothing collected on its own
        guard.idle()
        stats = guard.stats()
    assert stats.collections_in_slack == 1 and sum(stats.by_generation) == 1
    assert stats.outside_slack == 0
    assert gc.isenabled() is enabled and gc.get_freeze_count() == 0


def test_the_loop_s_thread_keeps_the_highest_real_time_priority() -> None:
    started = threading.Event()
    done = threading.Event()
    helper = threading.Thread(target=lambda: (started.set(), done.wait(5.0)))
    before = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority

    def loop_thread(result: list[object]) -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(2))
        except PermissionError:  # no privilege here: nothing to keep, nothing changes
            result.append(rank_threads_below_this_one())
            return
        helper.start()  # starts at the loop's FIFO priority, as threads inherit it
        started.wait(5.0)
        assert helper.native_id is not None
        inherited = os.sched_getscheduler(helper.native_id)
        changed = rank_threads_below_this_one()
        result.append((inherited, [tid for tid, _, _ in changed],
                       os.sched_getscheduler(helper.native_id),
                       os.sched_getparam(helper.native_id).sched_priority))
        restore_threads(changed)
        result.append(os.sched_getscheduler(helper.native_id))
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))

    result: list[object] = []
    runner = threading.Thread(target=loop_thread, args=(result,))
    runner.start()
    runner.join()
    done.set()
    if helper.is_alive():
        helper.join()
    if result == [[]]:  # no privilege
        return
    outcome, restored = result
    assert isinstance(outcome, tuple)
    inherited, changed, after, priority = outcome
    assert inherited == os.SCHED_FIFO and (after, priority) == (os.SCHED_FIFO, 1)  # one below
    assert helper.native_id in changed and threading.get_native_id() in changed  # every other
    assert restored == os.SCHED_FIFO  # the helper's own policy back (it had inherited FIFO)
    assert (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority) == before
