"""A recording's samples: one tick as the control loop hands it to its sinks (:class:`Sample`),
blocks of ticks as arrays (:class:`SampleBlock`, :class:`SessionSamples`), and the binary layout
the store keeps each array of a block in (:data:`BLOB_DTYPES`).

The loop (:mod:`rehabbot.runtime.loop`) pushes one :class:`Sample` per tick to its sample sinks:
the recorder (:class:`~rehabbot.storage.recorder.Recorder`), a console's live ring
(:class:`~rehabbot.runtime.ring.RingWriter`), or both through a tee. The type lives in storage
(layer 1) because a recording is made of these fields and both the recorder (storage) and the
loop and ring (runtime, layer 4) must name it; a sample block (:class:`SampleBlock`) is many of
them as arrays over ticks.

Cheap on the 1 kHz path: a :class:`Sample` is a slotted object of references. The loop makes one
before its first tick and, each tick, points its fields at that tick's values (the state's
arrays, the command's reference, the loop's own commanded-torque buffer): no allocation and no
copy per tick. A sink therefore reads a sample only during :meth:`SampleSink.push
<rehabbot.runtime.loop.SampleSink>` and copies what it keeps, as the recorder and the ring do;
the next tick repoints (and may overwrite) everything.

Units: s, cycles of the gait phase in [0, 1), rad, rad/s, N·m.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The per-joint arrays of a sample, in the order every recording format keeps them.
JOINT_ARRAYS = ("q", "qd", "tau", "tau_cmd", "q_ref")


@dataclass(slots=True)
class Sample:
    """What the loop records of one tick (fields repointed in place every tick).

    Attributes:
        tick: tick number, increasing from push to push.
        t_s: loop time (s).
        phase: gait phase in [0, 1).
        contact_r: right foot in contact.
        contact_l: left foot in contact.
        q: joint angles (rad), one per joint.
        qd: joint velocities (rad/s).
        tau: measured joint torques (N·m).
        tau_cmd: commanded joint torques (N·m): what the tick's command produces at its state.
        q_ref: reference joint angles (rad).

    Example:

    >>> sample = Sample.zeros(2)
    >>> sample.tick, sample.q.tolist()
    (0, [0.0, 0.0])
    >>> sample.tick = 7
    >>> sample.shifted(100, Sample.zeros(2)).tick
    107
    """

    tick: int
    t_s: float
    phase: float
    contact_r: bool
    contact_l: bool
    q: FloatArray
    qd: FloatArray
    tau: FloatArray
    tau_cmd: FloatArray
    q_ref: FloatArray

    @classmethod
    def zeros(cls, n_joints: int) -> Sample:
        """A sample at tick 0 with ``n_joints`` zeros in each joint array (its own arrays)."""
        return cls(0, 0.0, 0.0, False, False, *(np.zeros(n_joints) for _ in JOINT_ARRAYS))

    def shifted(self, offset: int, out: Sample) -> Sample:
        """``out`` pointed at this sample's values with the tick moved on by ``offset``; returns
        ``out`` (no allocation: for a sink that continues the ticks of an earlier run)."""
        out.tick = self.tick + offset
        out.t_s, out.phase = self.t_s, self.phase
        out.contact_r, out.contact_l = self.contact_r, self.contact_l
        out.q, out.qd, out.tau, out.tau_cmd, out.q_ref = (
            self.q, self.qd, self.tau, self.tau_cmd, self.q_ref)
        return out


BLOB_DTYPES: dict[str, np.dtype[Any]] = {
    "tick": np.dtype("<i8"), "t_s": np.dtype("<f8"), "phase": np.dtype("<f8"),
    "contact": np.dtype("u1"), **dict.fromkeys(JOINT_ARRAYS, np.dtype("<f8")),
}
"""The blob column of each :class:`SampleBlock` array, in table order, and its element type."""


@dataclass
class SampleBlock:
    """Consecutive ticks of a recording, as arrays over ticks (rows) and joints (columns).

    Attributes:
        tick: tick numbers, shape (n,), strictly increasing.
        t_s: loop time of each tick (s), shape (n,).
        phase: gait phase in [0, 1), shape (n,).
        contact: foot contact, shape (n, 2), columns right, left.
        q: joint angles (rad), shape (n, n_joints).
        qd: joint velocities (rad/s), shape (n, n_joints).
        tau: measured joint torques (N·m), shape (n, n_joints).
        tau_cmd: commanded joint torques (N·m), shape (n, n_joints).
        q_ref: reference joint angles (rad), shape (n, n_joints).

    Raises:
        ValueError: the shapes do not agree.
    """

    tick: IntArray
    t_s: FloatArray
    phase: FloatArray
    contact: BoolArray
    q: FloatArray
    qd: FloatArray
    tau: FloatArray
    tau_cmd: FloatArray
    q_ref: FloatArray

    def __post_init__(self) -> None:
        n = self.tick.shape[0]
        for name in ("tick", "t_s", "phase"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected ({n},)")
        if self.contact.shape != (n, 2):
            raise ValueError(f"contact has shape {self.contact.shape}, expected ({n}, 2)")
        shape = self.q.shape
        for name in ("q", "qd", "tau", "tau_cmd", "q_ref"):
            if getattr(self, name).ndim != 2 or getattr(self, name).shape != (n, shape[-1]):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected "
                                 f"({n}, n_joints) like q {shape}")

    def __len__(self) -> int:
        """Number of ticks."""
        return int(self.tick.shape[0])

    @property
    def n_joints(self) -> int:
        """Number of joints (columns of the joint arrays)."""
        return int(self.q.shape[1])


#: The per-tick fields of a :class:`SampleBlock`.
_ROW_FIELDS = ("tick", "t_s", "phase", "contact", "q", "qd", "tau", "tau_cmd", "q_ref")


@dataclass
class SessionSamples(SampleBlock):
    """All recorded ticks of one session, in tick order; a :class:`SampleBlock` with joint names.

    Attributes:
        joint_names: name of each joint column, e.g. ``("hip_flexion_r", "knee_angle_r")``.
    """

    joint_names: tuple[str, ...] = field(default=())

    def ticks_between(self, first: int, end: int) -> SessionSamples:
        """The rows of ticks in ``[first, end)``."""
        rows = (self.tick >= first) & (self.tick < end)
        return replace(self, **{name: getattr(self, name)[rows] for name in _ROW_FIELDS})


def block_shape(name: str, n_ticks: int, n_joints: int) -> tuple[int, ...]:
    """Shape of the :class:`SampleBlock` array ``name`` for ``n_ticks`` ticks of ``n_joints``."""
    if name in JOINT_ARRAYS:
        return (n_ticks, n_joints)
    return (n_ticks, 2) if name == "contact" else (n_ticks,)
