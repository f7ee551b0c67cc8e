"""The emulated robot in another process: ``rehabbot sim serve`` started for a test, and the
host's loop at real-time priority beside it.

Both processes run paced to the wall clock. On an ordinary scheduler a loaded computer keeps
either of them from its CPU for tens of milliseconds now and then (measured on the shared 2-core
development machine at load 11: 55-300 ms "waiting for a CPU" in three of three battery runs,
each ending in ``command_deadline`` before anything else could happen), which a 45 ms deadline
and 50 ms drive watchdogs rightly fault. A robot's host runs its loop at ``SCHED_FIFO``
(docs/bring-up.md, "The host"), and so do these tests: the emulator serves at
:data:`EMULATOR_PRIORITY` (``sim serve --fifo-priority``), the host's loop runs at
:data:`HOST_PRIORITY` (:func:`host_at_fifo`); the same runs then had no stall over 10 ms and an
emulator at most 1.7 ms late (4 of 4 at load 11.5). What priority cannot prevent, the
hypervisor taking this virtual machine's CPUs (steal), is told apart by :func:`stall_evidence`:
a fault of a stall's kind that a measured stall of either process explains.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rehabbot.hal.drives import mit
from rehabbot.hal.transport import SOCKET_DIR_ENV
from rehabbot.runtime import realtime
from rehabbot.runtime.realtime import RealtimeReport, RealtimeSettings, apply_realtime
from rehabbot.safety.faults import Fault
from rehabbot.session.runner import SessionResult
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary

#: SCHED_FIFO priorities of the host's loop and of the emulator's serving loop.
HOST_PRIORITY = 80
EMULATOR_PRIORITY = 79
#: Faults a stall of the host or of the emulator causes on the wall clock, and their
#: consequences; `rehabbot doctor` addresses them. No other fault may happen.
STALL_FAULTS = {"command_deadline", "stale_feedback", "standstill", "position_jump"}
#: Runs of one test at most, when measured stalls end the first ones.
ATTEMPTS = 3


#: A measured stall at least this long (s) explains a stall fault (the shortest time bound of
#: those faults is the 45 ms command deadline of the battery tests; two stalls of the two
#: processes in a row can add up to it).
STALL_EVIDENCE_S = 0.02


def stall_faults_only(faults: list[Fault]) -> bool:
    """Every fault is a stall's (a drive's fault only its command watchdog's)."""
    return all(f.kind.value in STALL_FAULTS
               or (f.kind.value == "drive_fault" and f.value == mit.WATCHDOG_ERROR_CODE)
               for f in faults)


def stall_evidence(fault: Fault, events: list[dict[str, Any]], emulator: dict[str, Any]
                   ) -> str | None:
    """What measured stall explains ``fault``, when it is a stall's kind: a ``loop_stall`` event
    of the host (the session's ``events``) of at least :data:`STALL_EVIDENCE_S` in the second
    before it, or the emulator's statistics (``emulator``: its latest step, its longest silence
    from the host); None when nothing measured explains it (then it is not a stall's)."""
    if not stall_faults_only([fault]):
        return None
    host = [e for e in events if e["kind"] == "loop_stall"
            and fault.t_s - 1.0 <= e["t_s"] <= fault.t_s + 0.01
            and (e["detail"].get("duration_s") or 0.0) >= STALL_EVIDENCE_S]
    if host:
        worst = max(host, key=lambda e: e["detail"]["duration_s"])
        return (f"{fault.kind.value} at {fault.t_s:.3f} s after a host stall of "
                f"{worst['detail']['duration_s'] * 1000:.0f} ms ({worst['detail']['doing']}, "
                f"steal {(worst['detail'].get('steal_s') or 0.0) * 1000:.0f} ms)")
    late = max(emulator.get("max_lateness_s", 0.0), emulator.get("longest_silence_s", 0.0))
    if late >= STALL_EVIDENCE_S:
        return (f"{fault.kind.value} at {fault.t_s:.3f} s; the emulator stalled or heard "
                f"nothing from the host for {late * 1000:.0f} ms")
    return None


@dataclass
class Run:
    """One session on the emulated robot, as stored, and the emulator's statistics."""

    result: SessionResult
    summary: StoredSummary
    samples: SessionSamples
    events: list[dict[str, Any]]
    emulator: dict[str, Any]

    @classmethod
    def load(cls, store: Path, result: SessionResult, emulator: dict[str, Any]) -> Run:
        with SessionStore.open(store) as st:
            summary = st.session_summary(result.session_id)
            assert summary is not None
            return cls(result, summary, st.load_samples(result.session_id),
                       st.list_events(result.session_id), emulator)


def until_not_stalled(run: Callable[[int], Run], expected_first: str | None) -> Run:
    """``run(attempt)`` until its first fault is ``expected_first`` (None: no fault at all), at
    most :data:`ATTEMPTS` times; a run that comes out otherwise must be explained by a measured
    stall."""
    stalls: list[str] = []
    for attempt in range(ATTEMPTS):
        done = run(attempt)
        faults = done.result.loop.faults
        if (faults[0].kind.value if faults else None) == expected_first:
            return done
        assert faults, done.summary
        evidence = stall_evidence(faults[0], done.events, done.emulator)
        assert evidence is not None, f"a fault that no measured stall explains: {faults}"
        stalls.append(evidence)
    pytest.fail(f"{ATTEMPTS} runs ended by stalls of this computer: {stalls}")


def host_at_fifo(monkeypatch: pytest.MonkeyPatch) -> RealtimeReport:
    """Let this process's control loops run at :data:`HOST_PRIORITY` (what ``session run
    --fifo-priority`` does) until the test ends; what the OS allowed."""
    monkeypatch.setattr(realtime, "_loop_priority", None)  # back to none after the test
    return apply_realtime(RealtimeSettings(fifo_priority=HOST_PRIORITY))


@dataclass
class EmulatorProcess:
    """A running ``rehabbot sim serve`` and the directory of its sockets."""

    process: subprocess.Popen[str]
    socket_dir: Path

    def stop(self) -> dict[str, Any]:
        """Stop it with SIGTERM; its statistics (the JSON line it prints on the way out)."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return dict(json.loads(out.strip().splitlines()[-1]))

    def kill(self) -> None:
        """Kill it (SIGKILL): no goodbye on its buses."""
        self.process.kill()
        self.process.communicate(timeout=30)


@contextmanager
def emulated_robot(
    monkeypatch: pytest.MonkeyPatch, *args: str, robot: str = "emu_exo", fifo: bool = False
) -> Iterator[EmulatorProcess]:
    """Start ``rehabbot sim serve ROBOT ARGS`` (at :data:`EMULATOR_PRIORITY` when ``fifo``)
    with its sockets in a fresh directory that this process uses too; wait until it serves;
    stop it at the end."""
    if fifo:
        args = (*args, "--fifo-priority", str(EMULATOR_PRIORITY))
    socket_dir = Path(tempfile.mkdtemp(prefix="rb-can-"))  # short: socket paths ≤ 107 bytes
    monkeypatch.setenv(SOCKET_DIR_ENV, str(socket_dir))
    env = os.environ | {SOCKET_DIR_ENV: str(socket_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "rehabbot", "sim", "serve", robot, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    emulator = EmulatorProcess(process, socket_dir)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving "), (line, process.stderr.read() if process.stderr
                                             else "")
        yield emulator
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)  # and close the pipes
        shutil.rmtree(socket_dir, ignore_errors=True)
