"""Simulation truth stored with a session: what a simulation knows and a real robot cannot measure.

A simulated session records per tick the simulated patient's **muscle torques** at the robot's
joints (:data:`MUSCLE_TORQUE`, N·m): from the in-process simulation directly, from the emulated
robot of ``rehabbot sim serve`` through its side channel (:mod:`rehabbot.sim.side_channel`).
:class:`TruthRecorder` is a sample sink of the control loop that samples the plant's source once
per tick into memory (fixed-size chunks, no disk I/O on the loop's thread); the session stores it
when it ends (:func:`write_truth`), in table ``simulation_truth`` (schema version 5): one row per
session and quantity, the ticks (int64) and the values (float64, ticks × joints) as little-endian
blobs, and where they came from. A session killed before it ends keeps its samples but has no
truth; a session on a real robot has none at all.

The value recorded at tick ``k`` is the torque the patient model applied over the simulation step
that led to tick ``k``'s reading; the torque acting *from* the state of tick ``k`` is therefore
the one recorded at tick ``k + 1`` (:meth:`TruthSeries.acting_from`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rehabbot.errors import StorageError
from rehabbot.storage.samples import FloatArray, IntArray, Sample
from rehabbot.storage.store import SessionStore

#: The simulated patient's muscle torques at the robot's joints (N·m).
MUSCLE_TORQUE = "muscle_torque_nm"
#: Ticks per chunk of a :class:`TruthRecorder` (about 4 s at 1 kHz).
CHUNK_TICKS = 4096

_TICK = np.dtype("<i8")
_VALUE = np.dtype("<f8")


@dataclass(frozen=True)
class TruthSeries:
    """One quantity of simulation truth over the ticks of a session.

    Attributes:
        tick: tick numbers, shape (n,), strictly increasing.
        value: the values, shape (n, joints).
        source: where they came from (e.g. ``in-process simulation``).
    """

    tick: IntArray
    value: FloatArray
    source: str

    def acting_from(self, ticks: IntArray) -> FloatArray:
        """The values acting from the state of each of ``ticks`` (those recorded at the next
        tick), shape (len(ticks), joints); NaN where that tick was not recorded.

        >>> series = TruthSeries(np.array([1, 2, 3]), np.array([[1.0], [2.0], [3.0]]), "sim")
        >>> series.acting_from(np.array([1, 2, 3])).ravel().tolist()
        [2.0, 3.0, nan]
        """
        wanted = np.asarray(ticks, dtype=np.int64) + 1
        where = np.clip(np.searchsorted(self.tick, wanted), 0, max(self.tick.size - 1, 0))
        out = np.full((wanted.size, self.value.shape[1]), np.nan)
        if self.tick.size:
            found = self.tick[where] == wanted
            out[found] = self.value[where[found]]
        return out


class TruthRecorder:
    """A sample sink that takes one value of a truth source per tick (the control loop's
    ``push``), without touching the disk.

    >>> torques = np.array([1.0, 2.0])
    >>> recorder = TruthRecorder(lambda: torques, 2, "sim")
    >>> sample = Sample.zeros(2)
    >>> for tick in range(3):
    ...     torques += 1.0
    ...     sample.tick = tick
    ...     recorder.push(sample)
    >>> recorder.series().value[:, 0].tolist()
    [2.0, 3.0, 4.0]
    """

    def __init__(self, source: Callable[[], FloatArray], n_joints: int, origin: str,
                 chunk_ticks: int = CHUNK_TICKS) -> None:
        """Sample ``source`` (values of ``n_joints`` joints) once per tick; ``origin`` says where
        the values come from (the plant's kind)."""
        self.source = source
        self.origin = origin
        self._n_joints = n_joints
        self._chunk_ticks = chunk_ticks
        self._ticks: list[IntArray] = []
        self._values: list[FloatArray] = []
        self._used = chunk_ticks  # the first push starts a chunk

    def push(self, sample: Sample) -> None:
        """Record the source's value at the tick of the loop's ``sample``."""
        if self._used == self._chunk_ticks:
            self._ticks.append(np.empty(self._chunk_ticks, np.int64))
            self._values.append(np.empty((self._chunk_ticks, self._n_joints)))
            self._used = 0
        self._ticks[-1][self._used] = sample.tick
        self._values[-1][self._used] = self.source()
        self._used += 1

    def series(self) -> TruthSeries:
        """Everything recorded, in tick order."""
        if not self._ticks:
            return TruthSeries(np.empty(0, np.int64), np.empty((0, self._n_joints)), self.origin)
        ticks = np.concatenate(self._ticks)[:len(self._ticks[:-1]) * self._chunk_ticks
                                            + self._used]
        values = np.concatenate(self._values)[:ticks.size]
        return TruthSeries(ticks, values, self.origin)


def write_truth(store: SessionStore, session_id: int, name: str, series: TruthSeries) -> None:
    """Store ``series`` as the quantity ``name`` of a session (replacing one stored before).

    Raises:
        StorageError: no such session, or the store cannot be written.
    """
    with store.transaction(f"writing the simulation truth of session {session_id}",
                            write=True) as db:
        if db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
            raise StorageError(f"no session {session_id} to store simulation truth for")
        db.execute(
            "INSERT OR REPLACE INTO simulation_truth (session_id, name, source, n_ticks, tick, "
            "value) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, name, series.source, int(series.tick.size),
             np.ascontiguousarray(series.tick, _TICK).tobytes(),
             np.ascontiguousarray(series.value, _VALUE).tobytes()))


def load_truth(store: SessionStore, session_id: int, name: str) -> TruthSeries | None:
    """The quantity ``name`` of a session's simulation truth; None when the session has none (a
    real robot's, or one that did not end).

    Raises:
        StorageError: the stored blobs do not match their ticks (the store was damaged).
    """
    with store.transaction(f"reading the simulation truth of session {session_id}",
                            write=False) as db:
        row = db.execute("SELECT source, n_ticks, tick, value FROM simulation_truth "
                         "WHERE session_id = ? AND name = ?", (session_id, name)).fetchone()
    if row is None:
        return None
    source, n, tick_blob, value_blob = row
    if len(tick_blob) != n * _TICK.itemsize or (n and len(value_blob) % (n * _VALUE.itemsize)):
        raise StorageError(f"session {session_id}: the simulation truth {name!r} does not match "
                           "its ticks; the store was damaged or modified outside rehabbot")
    tick = np.frombuffer(tick_blob, _TICK).astype(np.int64)
    columns = len(value_blob) // (n * _VALUE.itemsize) if n else 0
    value = np.frombuffer(value_blob, _VALUE).astype(np.float64).reshape(n, columns)
    return TruthSeries(tick, value, str(source))
