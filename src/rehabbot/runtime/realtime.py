"""Real-time settings of the control loop's process: FIFO priority, CPU affinity, locked memory.

On Linux a 1 kHz loop keeps its deadlines far better with ``SCHED_FIFO`` priority (the scheduler
runs it before any normal task), pinned to a CPU that nothing else is pinned to, and with its
memory locked (no page fault stalls a tick). Each setting needs a privilege the process may not
have (``CAP_SYS_NICE`` / an ``rtprio`` limit for the priority, an ``memlock`` limit for locked
memory); none of them is required. :func:`apply_realtime` applies what it can and says, for each
setting it could not apply, why and how to allow it, so the loop runs either way.

The FIFO priority is the loop's, not the session's: :func:`apply_realtime` checks that the process
may take it and remembers it, and :func:`loop_priority` holds it only while a loop runs. Bring-up
before the loop and the summary, report and store work after it run at the normal scheduler, so
that on a 2-core machine they never take a CPU from the console's drawing for seconds.

>>> report = apply_realtime(RealtimeSettings())
>>> report.applied, report.refused
([], [])
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

#: mlockall flags (Linux): lock current and future pages.
MCL_CURRENT = 1
MCL_FUTURE = 2


@dataclass(frozen=True)
class RealtimeSettings:
    """What to ask of the OS for the loop's process.

    Attributes:
        fifo_priority: ``SCHED_FIFO`` priority 1..99, or None to keep the normal scheduler.
        cpus: CPUs to pin the process to, or None for any.
        lock_memory: lock all present and future memory pages (``mlockall``).
    """

    fifo_priority: int | None = None
    cpus: frozenset[int] | None = None
    lock_memory: bool = False

    def __post_init__(self) -> None:
        if self.fifo_priority is not None and not 1 <= self.fifo_priority <= 99:
            raise ValueError(f"SCHED_FIFO priority must be 1..99, not {self.fifo_priority}")
        if self.cpus is not None and (not self.cpus or min(self.cpus) < 0):
            raise ValueError(f"cpus must be a non-empty set of CPU numbers, not {set(self.cpus)}")


@dataclass
class RealtimeReport:
    """What :func:`apply_realtime` did: settings applied, and settings refused with the reason."""

    applied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def apply_realtime(settings: RealtimeSettings) -> RealtimeReport:
    """Apply ``settings`` to the calling process as far as the OS allows; never raises for it."""
    report = RealtimeReport()
    if settings.cpus is not None:
        try:
            os.sched_setaffinity(0, settings.cpus)
            report.applied.append(f"pinned to CPU {sorted(settings.cpus)}")
        except (OSError, AttributeError) as exc:
            report.refused.append(
                f"CPU affinity {sorted(settings.cpus)}: {exc}; use CPUs this machine has "
                f"(available: {sorted(os.sched_getaffinity(0))})"
            )
    if settings.fifo_priority is not None:
        global _loop_priority
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(settings.fifo_priority))
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))  # allowed: until a loop
            _loop_priority = settings.fifo_priority
            report.applied.append(
                f"SCHED_FIFO priority {settings.fifo_priority} while the loop runs")
        except (OSError, AttributeError) as exc:
            report.refused.append(
                f"SCHED_FIFO priority {settings.fifo_priority}: {exc}; allow it with "
                "`setcap cap_sys_nice+ep $(readlink -f $(which python3))` or an rtprio limit in "
                "/etc/security/limits.conf (e.g. `@realtime - rtprio 90`)"
            )
    if settings.lock_memory:
        error = _mlockall()
        if error is None:
            report.applied.append("memory locked")
        else:
            report.refused.append(
                f"locking memory: {error}; raise the memlock limit (`ulimit -l unlimited`, or "
                "`@realtime - memlock unlimited` in /etc/security/limits.conf)"
            )
    return report


#: The SCHED_FIFO priority :func:`apply_realtime` was allowed to give the loop (None: none asked).
_loop_priority: int | None = None


@contextmanager
def loop_priority() -> Iterator[None]:
    """Run the block (a control loop) at the SCHED_FIFO priority :func:`apply_realtime` was
    allowed, and return the calling thread to the normal scheduler after it.

    Without a priority from :func:`apply_realtime` the thread's scheduling is left as it is.
    """
    priority = _loop_priority
    if priority is None:
        yield
        return
    with suppress(OSError):  # the privilege was withdrawn meanwhile: the loop runs without it
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    try:
        yield
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def _mlockall() -> str | None:
    """Lock the process's memory; return None on success, else the reason it failed."""
    name = ctypes.util.find_library("c")
    if name is None:
        return "the C library was not found"
    libc = ctypes.CDLL(name, use_errno=True)
    if libc.mlockall(MCL_CURRENT | MCL_FUTURE) != 0:
        return os.strerror(ctypes.get_errno())
    return None


#: The GIL switch interval while the loop runs (s): another thread that holds the GIL gives it
#: back to the loop within this time of the loop asking (CPython's default is 5 ms).
LOOP_SWITCH_INTERVAL_S = 0.0002


#: A thread's scheduling: (native id, policy, priority).
ThreadScheduling = tuple[int, int, int]


def rank_threads_below_this_one() -> list[ThreadScheduling]:
    """If the calling thread (the loop) runs at ``SCHED_FIFO`` priority ``p``, put every other
    thread of this process at ``SCHED_FIFO`` ``p - 1`` (at ``p`` 1: the normal scheduler);
    return the threads changed with their scheduling before (for :func:`restore_threads`).

    Threads inherit the scheduling policy of the thread that starts them, so the recorder's
    writer and a console's command server, started after :func:`apply_realtime`, would run at
    the loop's own priority: on the loop's CPU such a thread runs until it blocks, however long
    the loop's next tick waits. On the normal scheduler instead, a thread that holds the GIL
    when the loop wakes up waits for a CPU behind every other program of the machine while the
    loop waits for the GIL: a priority inversion (measured: stalls of 26 and 110 ms in a
    30-minute session at load 8). One step below the loop, such a thread neither delays the
    loop (it preempts them) nor waits behind other programs. Linux only; elsewhere nothing
    changes.
    """
    if not hasattr(os, "sched_getscheduler") or os.sched_getscheduler(0) != os.SCHED_FIFO:
        return []
    below = os.sched_getparam(0).sched_priority - 1
    policy = os.SCHED_FIFO if below >= 1 else os.SCHED_OTHER
    param = os.sched_param(below if below >= 1 else 0)
    me = threading.get_native_id()
    changed = []
    for thread in threading.enumerate():
        tid = thread.native_id
        if tid is None or tid == me:
            continue
        try:
            before = (tid, os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority)
            if before[1:] != (policy, param.sched_priority):
                os.sched_setscheduler(tid, policy, param)
                changed.append(before)
        except OSError:  # the thread ended meanwhile
            continue
    return changed


def restore_threads(changed: list[ThreadScheduling]) -> None:
    """Give the threads :func:`rank_threads_below_this_one` changed their scheduling back (those
    that still run)."""
    for tid, policy, priority in changed:
        try:
            os.sched_setscheduler(tid, policy, os.sched_param(priority))
        except OSError:  # the thread ended meanwhile
            continue
