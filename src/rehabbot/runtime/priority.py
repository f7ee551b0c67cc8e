"""Rendering yields to control: the console's GUI thread runs at a lower CPU priority than the
session process.

On a machine with few cores the console's drawing competes with the control loop for CPU time.
:func:`lower_console_priority` raises the nice value of the calling thread only (Linux nice
values are per thread), after starting a spawner thread at the normal priority: session processes
are started from that thread (:func:`start_process`), so they inherit the normal priority, not the
console's lowered one (a child inherits the nice value of the thread that forks it, and an
unprivileged process can never lower its nice value again). Nothing needs privileges.

>>> start_process  # doctest: +ELLIPSIS
<function start_process at ...>
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.process import BaseProcess

#: The nice value added to the console's GUI thread (0 normal .. 19 lowest).
CONSOLE_NICE = 10

_spawner: ThreadPoolExecutor | None = None


def lower_console_priority(nice: int = CONSOLE_NICE) -> bool:
    """Lower the calling thread's priority by ``nice``; sessions keep the normal priority.

    Returns whether the priority was lowered (False on systems without per-thread nice values).
    """
    global _spawner
    if not sys.platform.startswith("linux"):
        return False
    if _spawner is None:
        _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-spawner")
        _spawner.submit(lambda: None).result()  # the thread exists now, at the normal priority
    tid = threading.get_native_id()
    os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    return True


def keep_off_cpus(cpus: frozenset[int]) -> bool:
    """Keep the calling thread (and the threads it starts later) off ``cpus``, the CPUs the
    session processes are pinned to, so that drawing never runs on the loop's CPU.

    Call it after :func:`lower_console_priority`: the spawner thread keeps every CPU, so the
    sessions it starts can still be pinned where they are asked to be. Returns whether the
    affinity changed (False off Linux, or when no other CPU is left).
    """
    if not sys.platform.startswith("linux") or not cpus:
        return False
    others = os.sched_getaffinity(0) - cpus
    if not others:
        return False
    os.sched_setaffinity(0, others)  # 0: the calling thread
    return True


def start_process(process: BaseProcess) -> None:
    """Start ``process`` at the normal priority (from the spawner thread, if there is one)."""
    if _spawner is None:
        process.start()
    else:
        _spawner.submit(process.start).result()
