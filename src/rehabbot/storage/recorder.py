"""The recorder: the control loop pushes one sample per tick, a writer thread stores them.

The loop's thread never touches the disk. :meth:`Recorder.push` copies the tick's values into a
preallocated ring buffer (no allocation per push) and returns; a background thread opens its own
:class:`~rehabbot.storage.store.SessionStore` on the same file and, at least every
``commit_interval_s``, writes the ticks pushed since its last write as one block (one row of the
store, one SQL statement, one transaction; see :meth:`SessionStore.write_block`). A killed
process therefore loses at most the samples of one commit interval plus the time a write takes
(about 50 ms with the defaults).

Handoff: the ring holds ``capacity_ticks`` rows. The loop writes row ``head`` and then publishes
``head + 1``; the writer stores rows ``[tail, head)`` and only after they are committed publishes
the new ``tail``, which frees those rows for reuse. Both indices are published under one lock that
is held only for those assignments, so neither thread ever waits on the other's work. When the
ring is full (the writer fell behind, e.g. a stalled disk) a push drops its sample and counts it in
:attr:`Recorder.dropped` instead of blocking the loop.

Example::

    recorder = Recorder(store_path, session_id, n_joints=4)
    recorder.start()
    sample = Sample.zeros(4)
    for tick in range(n):                      # the control loop
        sample.tick, sample.t_s, sample.q = tick, t_s, q   # ... the tick's values
        recorder.push(sample)
    recorder.stop()                            # flushes; raises StorageError if a write failed
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from rehabbot.errors import StorageError
from rehabbot.storage.samples import Sample, SampleBlock
from rehabbot.storage.store import SessionStore

_T = TypeVar("_T", bound=np.generic)

START_TIMEOUT_S = 10.0
"""How long :meth:`Recorder.start` waits for the writer thread to open the store (s)."""


class Recorder:
    """Records one session's samples off the control loop's thread.

    Args:
        store_path: the session store file.
        session_id: the session the samples belong to (see ``SessionStore.create_session``).
        n_joints: number of joints, the length of every joint array pushed.
        commit_interval_s: longest time between two commits of the writer (s), > 0.
        capacity_ticks: ticks the ring buffer holds (default 10 s at 1 kHz); pushes beyond it
            while the writer is behind are dropped and counted.

    Raises:
        ValueError: a size or interval that is not positive.
    """

    def __init__(
        self,
        store_path: Path,
        session_id: int,
        n_joints: int,
        *,
        commit_interval_s: float = 0.05,
        capacity_ticks: int = 10_000,
    ) -> None:
        if n_joints < 1 or capacity_ticks < 1 or not commit_interval_s > 0.0:
            raise ValueError(
                f"n_joints ({n_joints}), capacity_ticks ({capacity_ticks}) and commit_interval_s "
                f"({commit_interval_s}) must be positive"
            )
        self.store_path = store_path
        self.session_id = session_id
        self.n_joints = n_joints
        self.commit_interval_s = commit_interval_s
        self.capacity_ticks = capacity_ticks
        # the ring, one row per tick
        self._tick = np.zeros(capacity_ticks, dtype=np.int64)
        self._t_s = np.zeros(capacity_ticks)
        self._phase = np.zeros(capacity_ticks)
        self._contact = np.zeros((capacity_ticks, 2), dtype=np.bool_)
        self._q = np.zeros((capacity_ticks, n_joints))
        self._qd = np.zeros((capacity_ticks, n_joints))
        self._tau = np.zeros((capacity_ticks, n_joints))
        self._tau_cmd = np.zeros((capacity_ticks, n_joints))
        self._q_ref = np.zeros((capacity_ticks, n_joints))
        self._lock = threading.Lock()
        self._head = 0  # ticks pushed; published under the lock
        self._tail = 0  # ticks committed; published under the lock by the writer
        self._tail_seen = 0  # the loop's last look at _tail
        self._dropped = 0
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._started = False
        self._thread: threading.Thread | None = None  # set once the writer has opened the store

    @property
    def dropped(self) -> int:
        """Samples dropped because the ring was full (the writer fell behind or failed)."""
        return self._dropped

    @property
    def error(self) -> BaseException | None:
        """The exception that stopped the writer thread, if any; :meth:`stop` raises it."""
        return self._error

    def start(self) -> None:
        """Start the writer thread; return once it has opened the store.

        Raises:
            StorageError: the store cannot be opened.
            RuntimeError: the recorder was started before.
        """
        if self._started:
            raise RuntimeError("a Recorder can be started only once")
        self._started = True
        thread = threading.Thread(target=self._run, name="rehabbot-recorder", daemon=True)
        thread.start()
        if not self._opened.wait(START_TIMEOUT_S):
            self._stop.set()
            raise StorageError(
                f"the recorder did not open the session store {self.store_path} within "
                f"{START_TIMEOUT_S:g} s; another program may hold it locked"
            )
        if self._error is not None:
            thread.join()
            raise StorageError(f"the recorder cannot start: {self._error}") from self._error
        self._thread = thread

    def push(self, sample: Sample) -> None:
        """Queue one tick's sample; never blocks, copies its values.

        Call it from one thread (the loop's), with ticks increasing from push to push and
        joint arrays of length ``n_joints``. If the ring is full the sample is dropped and
        counted in :attr:`dropped`.
        """
        head = self._head
        if head - self._tail_seen >= self.capacity_ticks:
            with self._lock:
                self._tail_seen = self._tail
            if head - self._tail_seen >= self.capacity_ticks:
                self._dropped += 1
                return
        row = head % self.capacity_ticks
        self._tick[row] = sample.tick
        self._t_s[row] = sample.t_s
        self._phase[row] = sample.phase
        contact = self._contact
        contact[row, 0] = sample.contact_r
        contact[row, 1] = sample.contact_l
        self._q[row] = sample.q
        self._qd[row] = sample.qd
        self._tau[row] = sample.tau
        self._tau_cmd[row] = sample.tau_cmd
        self._q_ref[row] = sample.q_ref
        with self._lock:
            self._head = head + 1

    def stop(self) -> None:
        """Store every pushed sample, then end the writer thread; call after the last push.

        Does nothing if the recorder did not start; a second call only raises again.

        Raises:
            StorageError: the writer failed; samples from the failing block on are not stored.
        """
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            raise StorageError(
                f"recording session {self.session_id} to {self.store_path} failed: {self._error}"
            ) from self._error

    def _run(self) -> None:
        """The writer thread: open the store, write what is pushed every interval, then flush."""
        try:
            store = SessionStore.open(self.store_path)
        except BaseException as exc:  # kept for start(), which re-raises it
            self._error = exc
            self._opened.set()
            return
        self._opened.set()
        try:
            next_commit = time.monotonic() + self.commit_interval_s
            while True:
                stopping = self._stop.wait(max(0.0, next_commit - time.monotonic()))
                self._write_pending(store)
                if stopping:
                    return
                # a write that took longer than the interval is followed by the next at once
                next_commit = max(next_commit + self.commit_interval_s, time.monotonic())
        except BaseException as exc:  # kept for stop(), which re-raises it
            self._error = exc
        finally:
            store.close()

    def _write_pending(self, store: SessionStore) -> None:
        """Store the rows pushed since the last write as one block, then free them.

        The block holds views of the ring (copies only where the rows wrap around its end): the
        loop does not write these rows before the new tail is published. Views rather than fancy
        indexing, and one :meth:`SessionStore.write_block` of one SQL statement, keep the times
        this thread gives up the GIL (and then waits for a busy loop to hand it back) to a few per
        commit, however many ticks it holds.
        """
        with self._lock:
            head, tail = self._head, self._tail
        if head == tail:
            return
        start, stop = tail % self.capacity_ticks, head % self.capacity_ticks

        def rows(ring: npt.NDArray[_T]) -> npt.NDArray[_T]:
            return ring[start:stop] if start < stop else np.concatenate((ring[start:], ring[:stop]))

        store.write_block(self.session_id, SampleBlock(
            tick=rows(self._tick), t_s=rows(self._t_s), phase=rows(self._phase),
            contact=rows(self._contact), q=rows(self._q), qd=rows(self._qd), tau=rows(self._tau),
            tau_cmd=rows(self._tau_cmd), q_ref=rows(self._q_ref),
        ))
        with self._lock:
            self._tail = head
