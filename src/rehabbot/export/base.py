"""The exporter base class and the session data every format writes.

An exporter writes one session (:class:`SessionData`: samples, the session's parameters, its gait
events and the patient's pseudonym) into a folder; a format implements :meth:`Exporter.write`
and creates its files owner-only through :mod:`rehabbot.storage.files`.
Which sessions may be exported, and the record of what was, are :mod:`rehabbot.export.research`'s
business.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rehabbot.assessment.kinematic_events import EXOSKELETON, SideEvents, detect_events
from rehabbot.errors import ExportError, StorageError, shorten
from rehabbot.hal.types import FloatArray, IntArray
from rehabbot.storage.files import make_private_dirs
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionInfo, SessionStore


@dataclass(frozen=True)
class SessionData:
    """One recorded session, as the exporters need it.

    Attributes:
        info: the session's record (id, rate, joint names, ...); its ``patient_code`` must not
            be written (use ``subject``).
        samples: every recorded tick (rad, rad/s, N·m; ``t_s`` in s).
        parameters: the parameters the session was created with.
        events: foot strikes and foot offs (s, on the samples' time axis) by side
            ("right", "left"), from the hip and knee angles with the exoskeleton's bias; empty
            arrays when the robot lacks a hip or knee of a side.
        subject: the patient's pseudonym (16 hex digits, keyed per installation), the only
            patient identifier an export may carry.
        store_path: the store the session was read from (for formats that need more of it).
    """

    info: SessionInfo
    samples: SessionSamples
    parameters: dict[str, Any]
    events: dict[str, SideEvents]
    subject: str
    store_path: Path

    @property
    def angles_rad(self) -> dict[str, FloatArray]:
        """Joint angle (rad, flexion and dorsiflexion positive) by OpenSim joint name."""
        return {name: self.samples.q[:, j] for j, name in enumerate(self.samples.joint_names)}

    @property
    def rate_hz(self) -> float:
        """Sample rate (Hz): one sample a tick of the session's loop."""
        return 1.0 / self.info.period_s

    @property
    def frames(self) -> IntArray:
        """Each sample's frame: its tick counted from the first sample's, so that a tick the
        recorder dropped leaves its frame empty (``frames[-1] + 1`` frames in all)."""
        frames: IntArray = (self.samples.tick - self.samples.tick[0]).astype(np.int64)
        return frames

    @property
    def stem(self) -> str:
        """File name stem: ``session_<id>`` (no patient code, so file names identify nobody)."""
        return f"session_{self.info.id}"


def load_session(store_path: Path, session_id: int) -> SessionData:
    """Read a session and detect its gait events.

    Raises:
        StorageError: there is no store at ``store_path``, it cannot be read, or it has no
            session ``session_id``.
    """
    with SessionStore.open_existing(store_path) as store:
        return read_session(store, session_id)


def read_session(store: SessionStore, session_id: int) -> SessionData:
    """Read a session from an open store and detect its gait events (in the walking loop's
    ticks only, not in a battery of robot assessments: :meth:`SessionStore.walking_part`).

    Raises:
        StorageError: there is no session ``session_id``, or it holds no samples.
    """
    info = store.get_session(session_id)
    samples = store.load_samples(session_id)
    parameters = store.session_parameters(session_id)
    subject = PatientRecords(store).pseudonym(info.patient_code)
    if len(samples) == 0:
        raise StorageError(f"session {session_id} holds no samples; there is nothing to export")
    walking = store.walking_part(session_id, samples)
    try:
        events = detect_events(walking.t_s, {name: walking.q[:, j] for j, name in
                                             enumerate(walking.joint_names)}, EXOSKELETON)
    except KeyError:
        none = SideEvents(np.zeros(0), np.zeros(0))
        events = {"right": none, "left": none}
    return SessionData(info, samples, parameters, events, subject, store.path)


def prepare_folder(out_dir: Path) -> tuple[Path, bool]:
    """Create ``out_dir`` (every missing level with mode 0o700) and check that it is writable.

    Returns:
        the folder, absolute with its links resolved (the files' paths below it are recorded
        as they are, never resolved), and whether it was created now.

    Raises:
        ExportError: the folder cannot be created or is not writable.
    """
    out = Path(out_dir).expanduser()
    try:
        created = make_private_dirs(out)
    except OSError as exc:
        raise ExportError(f"cannot create the export folder {shorten(str(out))}: "
                          f"{exc.strerror or exc}; choose another folder (--out)") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write into the export folder {shorten(str(out))}: permission "
                          "denied; choose another folder (--out)")
    return out.resolve(), bool(created)


class Exporter(ABC):
    """One export format. Subclass it in one module and register it (see docs/export.md).

    Attributes:
        name: the format's name on the command line (``rehabbot export --format NAME``).
        suffix: the suffix of the main file written, with its dot (e.g. ``".c3d"``).
    """

    name: ClassVar[str]
    suffix: ClassVar[str]

    @abstractmethod
    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write ``data`` into the existing, writable folder ``out_dir``; return the files.

        Create files through :func:`~rehabbot.storage.files.private_file` or
        :func:`~rehabbot.storage.files.write_private_text` (mode 0o600).
        """
