"""A shared-memory ring of live samples: one writer (the session process), readers elsewhere.

The writer is the control loop's live sink: :meth:`RingWriter.push` copies one tick into the next
row of a ring in :mod:`multiprocessing.shared_memory` and never blocks, never waits for a reader
and never raises on a full ring: the oldest rows are overwritten. A reader (the console) keeps its
own position and, on every :meth:`RingReader.read`, gets the rows written since its last read, in
order, and how many it lost to an overrun (rows overwritten before it read them).

Lock-free by sequence counters (a seqlock per row): the header holds ``begun`` and ``written``,
the rows whose writing has begun and ended; row ``k`` lives at index ``k % capacity`` with its
sequence number ``k`` in a stamp array. The writer increments ``begun``, fills the row's data,
then its stamp, then increments ``written``. A reader reads ``written``, copies the rows it wants
with their stamps, then reads ``begun``: rows the writer may have overwritten while they were
being copied (sequence below ``begun - capacity``) or whose stamp is not the expected number are
dropped and counted as lost. Each row is one float64 vector::

    tick, t_s, phase, contact_r, contact_l, q[n], qd[n], tau[n], tau_cmd[n], q_ref[n]

The owner (:class:`LiveRing`, in the console) creates and removes the block; writer and readers
attach to it. Attach only from the owner's process or its ``spawn`` children, which share its
``multiprocessing`` resource tracker: the tracker then removes the block if the owner dies.

Units are those of the loop: s, cycles, rad, rad/s, N·m. The correctness argument needs the
writer's stores to become visible in program order, which holds on x86-64 (TSO); numpy copies
and Python's interpreter add the compiler barriers.
"""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np
import numpy.typing as npt

from rehabbot.errors import ConfigurationError
from rehabbot.storage.samples import JOINT_ARRAYS, Sample

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Columns before the joint arrays: tick, t_s, phase, contact_r, contact_l.
SCALAR_COLUMNS = ("tick", "t_s", "phase", "contact_r", "contact_l")
_HEADER_WORDS = 4  # written, capacity, n_joints, begun


def row_width(n_joints: int) -> int:
    """Float64 values in one row for ``n_joints`` joints.

    >>> row_width(4)
    25
    """
    return len(SCALAR_COLUMNS) + len(JOINT_ARRAYS) * n_joints


def _nbytes(capacity: int, n_joints: int) -> int:
    return 8 * (_HEADER_WORDS + capacity + capacity * row_width(n_joints))


@dataclass(frozen=True)
class RingSpec:
    """What a reader needs to attach: the shared block's name and the ring's shape.

    Attributes:
        name: name of the :class:`~multiprocessing.shared_memory.SharedMemory` block.
        capacity: rows in the ring (at 1 kHz, 8192 rows keep 8.2 s).
        n_joints: joints per row.
    """

    name: str
    capacity: int
    n_joints: int


@dataclass
class LiveBlock:
    """Rows read from the ring, oldest first.

    Attributes:
        rows: shape (n, row width), columns as in the module docstring.
        n_joints: joints per row.
        lost: rows written since the previous read that the reader did not get (overrun).
    """

    rows: FloatArray
    n_joints: int
    lost: int

    def __len__(self) -> int:
        """Number of rows."""
        return int(self.rows.shape[0])

    def column(self, name: str) -> FloatArray:
        """A scalar column (``tick``, ``t_s``, ``phase``, ``contact_r``, ``contact_l``)."""
        return self.rows[:, SCALAR_COLUMNS.index(name)]

    def joints(self, name: str) -> FloatArray:
        """A joint array (``q``, ``qd``, ``tau``, ``tau_cmd``, ``q_ref``), shape (n, n_joints)."""
        start = len(SCALAR_COLUMNS) + JOINT_ARRAYS.index(name) * self.n_joints
        return self.rows[:, start : start + self.n_joints]


class _Mapped:
    """The header, stamps and rows as numpy views on a shared block."""

    def __init__(self, shm: shared_memory.SharedMemory, capacity: int, n_joints: int) -> None:
        self.shm = shm
        self.header: IntArray = np.ndarray((_HEADER_WORDS,), np.int64, shm.buf, 0)
        self.stamps: IntArray = np.ndarray((capacity,), np.int64, shm.buf, 8 * _HEADER_WORDS)
        self.rows: FloatArray = np.ndarray(
            (capacity, row_width(n_joints)), np.float64, shm.buf,
            8 * (_HEADER_WORDS + capacity))
        self.capacity = capacity
        self.n_joints = n_joints

    @classmethod
    def attach(cls, spec: RingSpec) -> _Mapped:
        """Map an existing ring.

        Raises:
            ConfigurationError: there is no such block (its owner has removed it).
        """
        try:
            shm = shared_memory.SharedMemory(name=spec.name, create=False)
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"no live ring {spec.name!r}: the console that owns it has closed it") from exc
        return cls(shm, spec.capacity, spec.n_joints)

    def close(self) -> None:
        """Drop the numpy views and unmap the block."""
        del self.header, self.stamps, self.rows
        self.shm.close()


class LiveRing:
    """Owns the shared block of a ring: creates it empty, removes it on :meth:`close`.

    Args:
        n_joints: joints per sample.
        capacity: rows kept (>= 2).

    Raises:
        ConfigurationError: fewer than 1 joint or 2 rows.

    >>> ring = LiveRing(n_joints=1, capacity=4)
    >>> writer, reader = RingWriter(ring.spec), RingReader(ring.spec)
    >>> sample = Sample.zeros(1)
    >>> for k in range(6):
    ...     sample.tick, sample.t_s, sample.q = k, k * 0.001, np.full(1, float(k))
    ...     writer.push(sample)
    >>> block = reader.read()
    >>> block.column("tick").tolist(), block.lost
    ([2.0, 3.0, 4.0, 5.0], 2)
    >>> reader.close(); writer.close(); ring.close()
    """

    def __init__(self, n_joints: int, capacity: int = 8192) -> None:
        if n_joints < 1 or capacity < 2:
            raise ConfigurationError(
                f"a live ring needs at least 1 joint and 2 rows, got {n_joints} joints and "
                f"{capacity} rows")
        shm = shared_memory.SharedMemory(create=True, size=_nbytes(capacity, n_joints))
        self._map = _Mapped(shm, capacity, n_joints)
        self._map.header[:] = (0, capacity, n_joints, 0)
        self._map.stamps[:] = -1
        self.spec = RingSpec(shm.name, capacity, n_joints)

    def close(self) -> None:
        """Unmap and remove the block; attached writers and readers keep their mappings."""
        shm = self._map.shm
        self._map.close()
        shm.unlink()


class RingWriter:
    """Pushes samples into a ring; the control loop's live sink (the only writer)."""

    def __init__(self, spec: RingSpec) -> None:
        self._map = _Mapped.attach(spec)
        self._written = int(self._map.header[0])
        n, s = spec.n_joints, len(SCALAR_COLUMNS)
        self._slices = tuple(slice(s + i * n, s + (i + 1) * n) for i in range(len(JOINT_ARRAYS)))

    @property
    def written(self) -> int:
        """Rows pushed so far."""
        return self._written

    def push(self, sample: Sample) -> None:
        """Copy one tick into the ring, overwriting the oldest row when it is full; O(1)."""
        m, k = self._map, self._written
        m.header[3] = k + 1  # begun: from now on the row of sequence k - capacity is gone
        i = k % m.capacity
        row = m.rows[i]
        row[0] = sample.tick
        row[1] = sample.t_s
        row[2] = sample.phase
        row[3] = sample.contact_r
        row[4] = sample.contact_l
        sq, sqd, stau, scmd, sref = self._slices
        row[sq] = sample.q
        row[sqd] = sample.qd
        row[stau] = sample.tau
        row[scmd] = sample.tau_cmd
        row[sref] = sample.q_ref
        m.stamps[i] = k
        self._written = k + 1
        m.header[0] = k + 1

    def close(self) -> None:
        """Unmap the block."""
        self._map.close()


class RingReader:
    """Attaches to a ring by its spec and reads the rows written since the last read."""

    def __init__(self, spec: RingSpec) -> None:
        self._map = _Mapped.attach(spec)
        self.spec = spec
        self.position = 0
        """Sequence number of the next row this reader wants."""
        self.lost_total = 0
        """Rows lost to overruns since the reader attached."""

    def read(self, max_rows: int | None = None) -> LiveBlock:
        """The rows written since the last read (the newest ``max_rows`` of them if given; the
        older ones count as lost), oldest first, and how many were lost."""
        m = self._map
        written = int(m.header[0])
        start = max(self.position, written - m.capacity)
        if max_rows is not None:
            start = max(start, written - max_rows)
        wanted = np.arange(start, written, dtype=np.int64)
        index = wanted % m.capacity
        rows = m.rows[index]  # fancy indexing copies
        stamps = m.stamps[index]
        begun = int(m.header[3])  # rows below begun - capacity were (being) overwritten meanwhile
        valid = (stamps == wanted) & (wanted >= begun - m.capacity)
        if not bool(valid.all()):
            rows = rows[valid]
        lost = max(start - self.position, 0) + (written - start - len(rows))
        self.position = written
        self.lost_total += lost
        return LiveBlock(rows, m.n_joints, lost)

    @property
    def written(self) -> int:
        """Rows the writer has pushed so far."""
        return int(self._map.header[0])

    def close(self) -> None:
        """Unmap the block (its owner removes it)."""
        self._map.close()
