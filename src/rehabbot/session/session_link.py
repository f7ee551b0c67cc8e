"""The console's end of a session: starts the session process, sends commands, reads live data.

:class:`SessionLink` owns the shared-memory ring (:class:`~rehabbot.runtime.ring.LiveRing`), the
two queues and the ``spawn`` process running
:func:`~rehabbot.session.session_process.session_main`.
Nothing here ever waits on the session except :meth:`SessionLink.wait`, which the console calls
only after asking for a stop: sending a command is a non-blocking queue put, reading live data
is a copy out of shared memory, reading replies never blocks.

Example (no window needed)::

    link = SessionLink(request)
    link.start()
    link.send(Command(CommandKind.PARAMS, {"guidance_pct": 60.0}, operator="A. Therapist"))
    block = link.reader.read()          # the ticks since the last read
    replies = link.poll()               # Applied, SafetyStatus, LiveParams, Finished, Failed
    link.send(Command(CommandKind.STOP))
    finished = link.wait(timeout_s=30)  # stored; the session's id and status
    link.close()
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from multiprocessing.context import SpawnProcess

from rehabbot.errors import RehabbotError
from rehabbot.runtime.priority import start_process
from rehabbot.runtime.realtime import RealtimeSettings
from rehabbot.runtime.ring import LiveRing, RingReader
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.session.session_messages import Command, Failed, Finished, Reply
from rehabbot.session.session_process import session_main

#: Rows of live data kept in shared memory: 16.4 s at 1 kHz, far more than a frame needs.
RING_ROWS = 16384


class SessionLinkError(RehabbotError):
    """The session process could not be started or did not end in time."""


class SessionLink:
    """One session in its own process, as the console sees it.

    Args:
        request: what to run (its ``live`` sink is replaced by the ring).
        realtime: real-time settings of the session process (None: the normal scheduler).

    Raises:
        ConfigurationError: the request is invalid (checked here, before any process starts).
    """

    def __init__(self, request: SessionRequest, realtime: RealtimeSettings | None = None) -> None:
        SessionRunner(request)  # validates the request in the console, with a clear message
        self.request = request
        self.realtime = realtime
        self._ctx = multiprocessing.get_context("spawn")
        self._ring: LiveRing | None = None
        self._reader: RingReader | None = None
        self._commands: multiprocessing.Queue[Command] = self._ctx.Queue()
        self._replies: multiprocessing.Queue[Reply] = self._ctx.Queue()
        self._process: SpawnProcess | None = None
        self.outcome: Finished | Failed | None = None
        """How the session ended (None while it runs)."""

    def start(self) -> None:
        """Create the ring and start the session process; returns at once."""
        if self._process is not None:
            raise SessionLinkError("this session has already been started")
        self._ring = LiveRing(len(self.request.robot.joints), RING_ROWS)
        self._reader = RingReader(self._ring.spec)
        self._process = self._ctx.Process(
            target=session_main,
            args=(self.request, self._ring.spec, self._commands, self._replies, self.realtime),
            name="rehabbot-session",
        )
        start_process(self._process)  # at the normal priority, whatever the console's

    @property
    def reader(self) -> RingReader:
        """The live-data reader (after :meth:`start`)."""
        if self._reader is None:
            raise SessionLinkError("the session has not been started")
        return self._reader

    @property
    def running(self) -> bool:
        """The session process runs."""
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        """The session process's id."""
        return None if self._process is None else self._process.pid

    def send(self, command: Command) -> None:
        """Queue a command for the session; never blocks."""
        self._commands.put_nowait(command)

    def poll(self) -> list[Reply]:
        """The replies that have arrived, oldest first; never blocks.

        A session process that died without a word becomes a :class:`Failed` reply.
        """
        replies: list[Reply] = []
        while True:
            try:
                reply = self._replies.get_nowait()
            except queue.Empty:
                break
            replies.append(reply)
            if isinstance(reply, Finished | Failed):
                self.outcome = reply
        process = self._process
        if self.outcome is None and process is not None and process.exitcode is not None:
            # exited without its last word: look once more, the reply may have been in flight
            try:
                late = self._replies.get(timeout=0.2)
            except queue.Empty:
                late = Failed(f"the session process ended unexpectedly (exit code "
                              f"{process.exitcode})")
            replies.append(late)
            if isinstance(late, Finished | Failed):
                self.outcome = late
        return replies

    def wait(self, timeout_s: float) -> list[Reply]:
        """Wait until the session has ended and been stored (after a stop was sent); return the
        replies that came meanwhile.

        Raises:
            SessionLinkError: it did not end within ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        replies: list[Reply] = []
        while True:
            replies += self.poll()
            if self.outcome is not None:
                break
            if time.monotonic() > deadline:
                raise SessionLinkError(
                    f"the session did not end within {timeout_s:g} s of the stop request")
            time.sleep(0.02)
        if self._process is not None:
            self._process.join(max(deadline - time.monotonic(), 1.0))
        return replies

    def close(self) -> None:
        """Release the ring and the queues (after the session has ended)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        self._commands.close()
        self._replies.close()
