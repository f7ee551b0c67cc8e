"""Where the loop was when a tick ran long: a watchdog thread that samples the loop's stack.

Timing statistics say *that* a tick ran long (:attr:`~rehabbot.runtime.loop.LoopReport.lateness`,
``command_age``); :class:`StallWatch` says *where*. A thread of its own looks every
``threshold_s / 2`` at a counter the loop advances every tick (the clock's
:attr:`~rehabbot.runtime.clock.Clock.ticks`). When the counter has stood still for
``threshold_s`` it takes the loop thread's Python stack (``sys._current_frames``) and, once the
counter moves again, records a :class:`Stall`: how long, where, and what the loop's thread was
doing meanwhile, from the kernel's accounting of that thread (Linux ``schedstat``) and of the
machine (``/proc/stat`` steal time):

* ``cpu_s`` about the stall's duration: the loop's thread computed (a slow call);
* ``runqueue_wait_s`` about the duration: it was ready but another thread or program had its CPU;
* both small: it slept or waited for something (a lock, the GIL, the disk, a page fault);
* ``steal_s`` > 0: the hypervisor ran another virtual machine on this one's CPUs meanwhile.

A call into C code that holds the GIL (a physics step, a big numpy operation) keeps the watchdog
from running until it returns, and by then the loop may have gone on to its next tick. The
watchdog therefore also records a stall when it wakes up ``threshold_s`` late itself and the loop
ran fewer ticks meanwhile than its usual pace gives for that time (by at least ``threshold_s``):
with the stack of where the loop's thread is then (``after``: at or just after the call that
stalled) and the loop thread's CPU time meanwhile (about the stall's length: that thread's C call;
small: another thread held the GIL, or no CPU was free). So that it is not starved itself, the
watchdog runs one ``SCHED_FIFO`` priority above a loop that runs at one (it takes microseconds
every ``threshold_s / 2``). Reading
another thread's stack while it runs, without the GIL (what ``faulthandler``'s timer does), can
crash the process: a control loop's watchdog must not.

Nothing of this runs on the loop's thread: the loop only advances its counter, as it does
anyway. The watchdog wakes ``2 / threshold_s`` times a second and then reads one integer and one
small ``/proc`` file (a few microseconds with the GIL); the stack is taken and formatted only when
a tick is late. Stalls are logged
(``rehabbot.runtime.stall``, info: not shown unless logging is set up, the session's events
keep them) from the watchdog's thread as they end and kept in
:attr:`StallWatch.stalls` (at most :data:`MAX_STALLS`; the rest counted in
:attr:`StallWatch.missed`).

>>> import time
>>> ticks = [0]
>>> with StallWatch(lambda: ticks[0], threshold_s=0.01) as watch:
...     time.sleep(0.05)  # the "loop" (this thread) stands still for 50 ms
...     ticks[0] += 1
>>> [stall.function for stall in watch.stalls]
['<module>']
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

#: A tick that has not ended after this long (s) is a stall (half the default command deadline:
#: a stall this long is on its way to a ``command_deadline`` fault).
STALL_THRESHOLD_S = 0.01
#: Stalls kept per watch (more are counted, not kept).
MAX_STALLS = 1000
#: Frames of the loop's stack kept per stall (innermost ones).
STACK_DEPTH = 12

#: Weight of each look in the watchdog's running estimate of the loop's pace (ticks/s).
PACE_SMOOTHING = 0.05

log = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: Clock ticks per second of /proc/stat's times (USER_HZ).
_USER_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Stall:
    """One tick that ran long.

    Attributes:
        tick: the loop's counter while it stood still (the clock's tick index: the tick that
            ran long is the one after it).
        duration_s: how long the counter stood still (s), to within ``threshold_s / 2``.
        stack: where the loop's thread was when the stall was seen, innermost frame last, each
            ``function (file:line)`` (files of rehabbot relative to the package).
        cpu_s: CPU time the loop's thread used during the stall (s); NaN where unknown.
        runqueue_wait_s: time the loop's thread was ready to run but waited for a CPU (s);
            NaN where the kernel does not say (not Linux).
        steal_s: CPU time the hypervisor gave to other virtual machines meanwhile, summed over
            this machine's CPUs (s); NaN where unknown.
        watch_late_s: how late the watchdog woke up to see the stall (s): about the stall's
            duration when the loop's thread held the GIL (a C call) or no CPU was free.
        after: the watchdog could not run during the stall and the loop had gone on when it
            could: ``stack`` is where the loop was then, at or after the call that stalled.
    """

    tick: int
    duration_s: float
    stack: tuple[str, ...]
    cpu_s: float
    runqueue_wait_s: float
    steal_s: float
    watch_late_s: float
    after: bool = False

    @property
    def function(self) -> str:
        """The innermost function the loop's thread was in ("?" if no stack was taken)."""
        return self.stack[-1].split(" (", 1)[0] if self.stack else "?"

    @property
    def doing(self) -> str:
        """What the loop's thread did, as the kernel accounted it: ``stolen by the hypervisor``,
        ``computing``, ``waiting for a CPU``, ``waiting (lock, GIL, I/O or sleep)`` or
        ``unknown``.

        Steal comes first: a guest kernel that does not subtract steal time from its tasks
        counts the time its CPU was taken away as the running thread's own CPU time.
        """
        if self.steal_s >= self.duration_s / 2:  # False for NaN
            return "stolen by the hypervisor"
        if math.isnan(self.cpu_s):
            return "unknown"
        if self.cpu_s >= self.duration_s / 2:
            return "computing"
        if self.runqueue_wait_s >= self.duration_s / 2:
            return "waiting for a CPU"
        return "waiting (lock, GIL, I/O or sleep)"

    def values(self) -> dict[str, float | int | str | None]:
        """Plain JSON values for a session's event log (None for what is unknown); the stack
        innermost first, frames joined by `` < ``."""
        times = {"duration_s": self.duration_s, "cpu_s": self.cpu_s,
                 "runqueue_wait_s": self.runqueue_wait_s, "steal_s": self.steal_s,
                 "watch_late_s": self.watch_late_s}
        out: dict[str, float | int | str | None] = {
            "tick": self.tick, "function": self.function, "doing": self.doing,
            "stack": " < ".join(reversed(self.stack)), "after": int(self.after)}
        out.update((key, value if math.isfinite(value) else None) for key, value in times.items())
        return out

    def describe(self) -> str:
        """One line: how long, where, what the thread did."""
        where = self.stack[-1] if self.stack else "?"
        where = f"at or just after {where}" if self.after else f"in {where}"
        return (f"loop stalled {self.duration_s * 1e3:.1f} ms after tick {self.tick} {where}: "
                f"{self.doing} (cpu {self.cpu_s * 1e3:.1f} ms, waiting for a CPU "
                f"{self.runqueue_wait_s * 1e3:.1f} ms, steal {self.steal_s * 1e3:.1f} ms, "
                f"watchdog late {self.watch_late_s * 1e3:.1f} ms)")


class _Accounting:
    """The kernel's accounting of one thread (run and run-queue wait time) and of the machine
    (steal time), read without opening a file per reading."""

    def __init__(self, native_id: int | None, ident: int) -> None:
        self._schedstat = self._open(f"/proc/self/task/{native_id}/schedstat")
        self._stat = self._open("/proc/stat")
        self._clock: int | None = None
        if self._schedstat is None and hasattr(time, "pthread_getcpuclockid"):
            try:
                self._clock = time.pthread_getcpuclockid(ident)
            except OSError:
                self._clock = None

    @staticmethod
    def _open(path: str) -> int | None:
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            return None

    def read(self) -> tuple[float, float, float]:
        """(CPU time, run-queue wait, steal) in s so far; NaN for what is unknown."""
        cpu = wait = steal = math.nan
        try:
            if self._schedstat is not None:
                run_ns, wait_ns, _ = os.pread(self._schedstat, 128, 0).split()
                cpu, wait = int(run_ns) * 1e-9, int(wait_ns) * 1e-9
            elif self._clock is not None:
                cpu = time.clock_gettime(self._clock)
            if self._stat is not None:
                fields = os.pread(self._stat, 256, 0).split(b"\n", 1)[0].split()
                steal = int(fields[8]) / _USER_HZ if len(fields) > 8 else math.nan
        except (OSError, ValueError):
            pass
        return cpu, wait, steal

    def close(self) -> None:
        for fd in (self._schedstat, self._stat):
            if fd is not None:
                os.close(fd)


def _shown(filename: str) -> str:
    """A file as stalls show it: relative to the package's parent for rehabbot's, else its
    name."""
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(_PACKAGE_DIR.parent))
    except ValueError:
        return path.name


def _where(frame: FrameType | None, depth: int) -> tuple[str, ...]:
    """``function (file:line)`` of ``frame`` and its callers, innermost last (``depth`` frames)."""
    if frame is None:
        return ()
    summary = traceback.StackSummary.extract(
        traceback.walk_stack(frame), limit=depth, lookup_lines=False)
    return tuple(f"{entry.name} ({_shown(entry.filename)}:{entry.lineno})"
                 for entry in reversed(summary))


def _rank_above(native_id: int | None) -> None:
    """Run the calling thread one ``SCHED_FIFO`` priority above thread ``native_id`` if that
    one runs at ``SCHED_FIFO`` (at most 99); else leave it as it is (Linux only)."""
    if native_id is None or not hasattr(os, "sched_getscheduler"):
        return
    try:
        if os.sched_getscheduler(native_id) != os.SCHED_FIFO:
            return
        above = min(os.sched_getparam(native_id).sched_priority + 1, 99)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(above))
    except OSError:  # not allowed, or the loop's thread ended: watch from where we are
        return


class StallWatch:
    """Watches a counter the loop advances every tick; records where the loop's thread was
    whenever it stands still for ``threshold_s`` (see the module's docstring).

    Args:
        progress: returns the number of ticks the loop has run; called from the watchdog's
            thread, so it must only read.
        threshold_s: a counter standing still this long (s) is a stall.
        thread: the loop's thread (default: the thread that calls :meth:`start`).
        depth: frames of the stack kept per stall.

    Use it as a context manager around the loop's run, entered on the loop's thread.

    Raises:
        ValueError: ``threshold_s`` is not positive.
    """

    def __init__(
        self,
        progress: Callable[[], int],
        threshold_s: float = STALL_THRESHOLD_S,
        *,
        thread: threading.Thread | None = None,
        depth: int = STACK_DEPTH,
    ) -> None:
        if not threshold_s > 0.0:
            raise ValueError(f"threshold_s must be > 0 s, got {threshold_s}")
        self.progress = progress
        self.threshold_s = threshold_s
        self.depth = depth
        #: The stalls seen so far (appended by the watchdog's thread when each ends).
        self.stalls: list[Stall] = []
        #: Stalls beyond :data:`MAX_STALLS`, counted only.
        self.missed = 0
        self._loop_thread = thread
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching (call it on the loop's thread unless ``thread`` was given).

        Raises:
            RuntimeError: the watch was started before.
        """
        if self._thread is not None or self._stop.is_set():
            raise RuntimeError("a StallWatch can be started only once")
        loop = self._loop_thread or threading.current_thread()
        if loop.ident is None:
            raise RuntimeError(f"thread {loop.name!r} has not started")
        accounting = _Accounting(loop.native_id, loop.ident)
        self._thread = threading.Thread(
            target=self._watch, args=(loop.ident, loop.native_id, accounting),
            name="rehabbot-stall-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; a stall in progress is recorded up to now. Does nothing if the watch
        never started or was stopped."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _watch(self, loop_ident: int, loop_native_id: int | None,
               accounting: _Accounting) -> None:
        """The watchdog's thread (see the module's docstring)."""
        try:
            _rank_above(loop_native_id)
            self._watch_until_stopped(loop_ident, accounting)
        finally:
            accounting.close()

    def _watch_until_stopped(self, loop_ident: int, accounting: _Accounting) -> None:
        poll = self.threshold_s / 2
        perf = time.perf_counter
        last = self.progress()
        since = due = perf()
        base = accounting.read()
        rate = 0.0  # the loop's usual pace (ticks/s), once known
        stack: tuple[str, ...] | None = None  # taken: a stall is in progress
        late = 0.0
        while not self._stop.wait(max(0.0, due + poll - perf())):
            now = perf()
            lateness, elapsed, due = now - (due + poll), now - since, now
            count = self.progress()
            if count == last:
                if stack is None and elapsed >= self.threshold_s:
                    stack = _where(sys._current_frames().get(loop_ident), self.depth)
                    late = lateness
                continue
            if stack is not None:
                self._record(last, elapsed, stack, base, accounting.read(), late)
                stack = None
            elif lateness >= self.threshold_s and rate > 0.0:
                # this thread could not run (the GIL or the CPU was held) and the loop went on
                missing = elapsed - (count - last) / rate
                if missing >= self.threshold_s:
                    self._record(last, missing, _where(sys._current_frames().get(loop_ident),
                                                       self.depth),
                                 base, accounting.read(), lateness, after=True)
            else:  # a normal look: learn the pace
                pace = (count - last) / elapsed
                rate = pace if rate == 0.0 else rate + PACE_SMOOTHING * (pace - rate)
            last, since, base = count, now, accounting.read()
        if stack is not None:
            self._record(last, perf() - since, stack, base, accounting.read(), late)

    def _record(self, tick: int, duration_s: float, stack: tuple[str, ...],
                before: tuple[float, float, float], now: tuple[float, float, float],
                late_s: float, after: bool = False) -> None:
        """Keep (or count) one stall and log it; ``after``: the stack was taken after it."""
        cpu, wait, steal = (b - a for a, b in zip(before, now, strict=True))
        stall = Stall(tick, duration_s, stack, cpu, wait, steal, late_s, after)
        if len(self.stalls) < MAX_STALLS:
            self.stalls.append(stall)
        else:
            self.missed += 1
        log.info("%s", stall.describe())
