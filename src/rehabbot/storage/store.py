"""The session store: patients, sessions and their recorded samples in one SQLite file.

The file lives at :func:`default_store_path` unless a path is given; it is created readable and
writable by its owner only (mode 0o600), in WAL mode with ``synchronous=NORMAL``, so that a killed
process leaves a store that opens and holds every committed transaction, and readers never block
the recorder's writes.

Threads: a :class:`SessionStore` owns one connection and belongs to the thread that opened it
(sqlite3's ``check_same_thread`` stays on); another thread opens its own store on the same file,
as the recorder's writer thread does. Concurrent writers wait for each other up to
:data:`BUSY_TIMEOUT_S`.

Samples are stored in blocks: one row of table ``sample_blocks`` per call of
:meth:`SessionStore.write_block`, each array of the block kept as one little-endian binary blob, so
that storing a block costs one SQL statement however many ticks it holds (docs/storage.md explains
the layout and why). Samples come back bit for bit, NaN payloads and −0.0 included.

Units are SI throughout (s, rad, rad/s, N·m, m, kg); times of day are ISO-8601 UTC strings.

Example::

    with SessionStore.open(tmp_path / "s.sqlite") as store:
        patient_id = store.ensure_patient("P-001", height_m=1.70, mass_kg=68.0)
        session_id = store.create_session(patient_id, "standard_gait", "sim_exo", 0.001,
                                          ["knee_angle_r"], {"guidance_pct": 80.0})
        store.write_block(session_id, block)
        samples = store.load_samples(session_id)
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
import platformdirs

from rehabbot.errors import StorageError, echo
from rehabbot.storage.files import make_private_dirs

STORE_ENV_VAR = "REHABBOT_STORE"
MAX_ROW_ID = 2**63 - 1
"""The largest row id SQLite stores (a 64-bit signed integer)."""
BUSY_TIMEOUT_S = 5.0
"""How long a write waits for another connection's write transaction to end (s)."""
FINAL_STATUSES = ("completed", "aborted", "faulted")
"""The statuses :meth:`SessionStore.finish_session` accepts; a session is 'running' before."""

SCHEMA_VERSION = 5
"""The schema version this code reads and writes, kept in ``PRAGMA user_version``.

Version 1 (development builds only) stored one row per tick and one per tick and joint; it is not
read, nor migrated. Version 2 had no patient records; version 3 reused the row ids of erased
patients and sessions; version 4 had no simulation truth (:mod:`rehabbot.storage.truth`). They
are migrated to version 5 when opened (:data:`_MIGRATIONS`).
"""
APPLICATION_ID = 0x52484254
"""``PRAGMA application_id`` of a rehabbot store ("RHBT"), set from schema version 4 on."""

_SCHEMA = (
    """CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        code TEXT UNIQUE NOT NULL,
        display_name TEXT,
        height_m REAL,
        mass_kg REAL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        protocol_name TEXT NOT NULL,
        robot_name TEXT NOT NULL,
        started_at TEXT NOT NULL,
        started_unix REAL NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'aborted', 'faulted')),
        period_s REAL NOT NULL CHECK (period_s > 0),
        joint_names TEXT NOT NULL,
        summary TEXT
    )""",
    "CREATE INDEX sessions_by_patient ON sessions(patient_id)",
    """CREATE TABLE session_parameters (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (session_id, name)
    ) WITHOUT ROWID""",
    # Blobs hold little-endian arrays, row-major (ticks × columns): tick int64, contact uint8
    # (right, left), everything else float64. A rowid table, as SQLite advises for large rows.
    """CREATE TABLE sample_blocks (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        first_tick INTEGER NOT NULL,
        last_tick INTEGER NOT NULL,
        n_ticks INTEGER NOT NULL CHECK (n_ticks > 0 AND last_tick - first_tick >= n_ticks - 1),
        first_t_s REAL,
        last_t_s REAL,
        tick BLOB NOT NULL,
        t_s BLOB NOT NULL,
        phase BLOB NOT NULL,
        contact BLOB NOT NULL,
        q BLOB NOT NULL,
        qd BLOB NOT NULL,
        tau BLOB NOT NULL,
        tau_cmd BLOB NOT NULL,
        q_ref BLOB NOT NULL,
        PRIMARY KEY (session_id, first_tick)
    )""",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        kind TEXT NOT NULL,
        joint TEXT,
        detail TEXT
    )""",
    "CREATE INDEX events_by_session ON events(session_id, t_s)",
)
"""The tables of schema version 2; a new store is created with them, then migrated."""

_MIGRATIONS: dict[int, tuple[str, ...] | Callable[[sqlite3.Connection], None]] = {
    # 2 → 3: patient records (rehabbot.storage.records), exports, audit log, installation secret.
    2: (
        "ALTER TABLE patients ADD COLUMN birth_date TEXT",
        "ALTER TABLE patients ADD COLUMN sex TEXT",
        "ALTER TABLE patients ADD COLUMN affected_side TEXT",
        "ALTER TABLE patients ADD COLUMN diagnosis TEXT",
        """CREATE TABLE fittings (
            patient_id INTEGER PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
            parameters TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE consents (
            patient_id INTEGER PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
            research_use INTEGER NOT NULL CHECK (research_use IN (0, 1)),
            consent_date TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        )""",
        """CREATE TABLE outcomes (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
            test TEXT NOT NULL,
            value TEXT NOT NULL,
            unit TEXT NOT NULL,
            protocol TEXT NOT NULL,
            measured_on TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        )""",
        "CREATE INDEX outcomes_by_patient ON outcomes(patient_id, measured_on)",
        """CREATE TABLE exports (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            format TEXT NOT NULL,
            path TEXT NOT NULL,
            root TEXT NOT NULL,
            exported_at TEXT NOT NULL
        )""",
        "CREATE INDEX exports_by_patient ON exports(patient_id)",
        # No foreign key: the log outlives the patients it names (by row id only).
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            operator TEXT NOT NULL,
            action TEXT NOT NULL,
            patient_id INTEGER,
            detail TEXT NOT NULL
        )""",
        "CREATE INDEX audit_by_patient ON audit_log(patient_id)",
        """CREATE TABLE installation (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID""",
    ),
}
"""Statements that take a store from schema version ``key`` to ``key + 1`` (3 → 4 is
:func:`_migrate_to_ids_never_reused`)."""

_NEVER_REUSED = ("patients", "sessions", "outcomes", "exports", "audit_log")
"""The tables whose row ids the user or the audit log sees: version 4 declares their ids
``AUTOINCREMENT``, so that SQLite never hands out the id of a deleted (erased) row again; and
``exports.session_id`` may be NULL (a file about the patient, not one session: their copy of
their record)."""
_VERSION_4_INDEXES = (
    "CREATE INDEX sessions_by_patient ON sessions(patient_id)",
    "CREATE INDEX outcomes_by_patient ON outcomes(patient_id, measured_on)",
    "CREATE INDEX exports_by_patient ON exports(patient_id)",
    "CREATE INDEX audit_by_patient ON audit_log(patient_id)",
    # An export in progress: recorded before its first byte is written, into a private staging
    # folder below root, so that erasure finds the files of an export that never completed.
    """CREATE TABLE export_intents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
        session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
        format TEXT NOT NULL,
        staging TEXT NOT NULL,
        root TEXT NOT NULL,
        started_at TEXT NOT NULL
    )""",
    "CREATE INDEX export_intents_by_patient ON export_intents(patient_id)",
    # Export folders that an export created (so erasure may remove them once empty).
    "CREATE TABLE export_folders (path TEXT PRIMARY KEY) WITHOUT ROWID",
    f"PRAGMA application_id = {APPLICATION_ID}",
)
PSEUDONYM_KEY_BYTES = 32
"""Length of the installation's pseudonym key (bytes), made once with :mod:`secrets`."""

_JOINT_ARRAYS = ("q", "qd", "tau", "tau_cmd", "q_ref")
_BLOB_DTYPES: dict[str, np.dtype[Any]] = {
    "tick": np.dtype("<i8"), "t_s": np.dtype("<f8"), "phase": np.dtype("<f8"),
    "contact": np.dtype("u1"), **dict.fromkeys(_JOINT_ARRAYS, np.dtype("<f8")),
}
"""The blob column of each :class:`SampleBlock` array, in table order, and its element type."""
_INSERT_BLOCK = f"""
    INSERT INTO sample_blocks (session_id, first_tick, last_tick, n_ticks, first_t_s, last_t_s,
                               {", ".join(_BLOB_DTYPES)})
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, {", ".join(f"?{i}" for i in range(7, 7 + len(_BLOB_DTYPES)))}
    WHERE coalesce((SELECT last_tick FROM sample_blocks WHERE session_id = ?1 AND first_tick <= ?3
                    ORDER BY first_tick DESC LIMIT 1), ?2 - 1) < ?2
"""
"""Store a block unless its ticks overlap a stored block's, in one statement.

Stored blocks never overlap, so the only candidate is the last one starting at or before the new
block's last tick; the primary key index finds it. The parameters are numbered, not named: Python's
sqlite3 gives up the GIL once to look up each name, and once only for all numbered ones.
"""

_OPEN_HINTS = {
    "SQLITE_NOTADB": "it is not a rehabbot session store; move it away or choose another store "
    f"file (--store or ${STORE_ENV_VAR})",
    "SQLITE_BUSY": "another program holds it locked; close that program or wait, then try again",
    "SQLITE_CANTOPEN": "check that its folder exists and that you may read and write there",
    "SQLITE_READONLY": "check that you may write the file and its folder",
    "SQLITE_PERM": "check that you may read and write the file and its folder",
}
_DEFAULT_OPEN_HINT = (
    f"check the path, or move the file away and let rehabbot create a new store there "
    f"(or choose another with --store or ${STORE_ENV_VAR})"
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def default_store_path() -> Path:
    """The store file used when none is given: ``$REHABBOT_STORE``, else the user data folder.

    Example: ``~/.local/share/rehabbot/sessions.sqlite`` on Linux.
    """
    configured = os.environ.get(STORE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("rehabbot") / "sessions.sqlite"


@dataclass(frozen=True)
class Patient:
    """One patient.

    Attributes:
        id: row id in the store.
        code: the pseudonymous code the clinic uses, unique in the store (e.g. ``"P-001"``).
        display_name: name shown in the console, if any.
        height_m: body height (m), if known.
        mass_kg: body mass (kg), if known.
        created_at: when the patient was added (ISO-8601 UTC).
    """

    id: int
    code: str
    display_name: str | None
    height_m: float | None
    mass_kg: float | None
    created_at: str


@dataclass(frozen=True)
class SessionInfo:
    """What the store knows about one session, without its samples.

    Attributes:
        id: session id.
        patient_code: the patient's code.
        protocol_name: name of the therapy protocol run.
        robot_name: name of the robot configuration used.
        started_at: start (ISO-8601 UTC, whole seconds).
        ended_at: end (ISO-8601 UTC), None while running or if the process died.
        status: 'running', 'completed', 'aborted' or 'faulted'.
        period_s: control period (s).
        joint_names: joint order of the samples.
        n_ticks: number of recorded ticks.
        duration_s: time the recording covers, from the first tick to the end of the last one
            (latest ``t_s`` − earliest ``t_s`` + ``period_s``; s); 0 without ticks.
    """

    id: int
    patient_code: str
    protocol_name: str
    robot_name: str
    started_at: str
    ended_at: str | None
    status: str
    period_s: float
    joint_names: tuple[str, ...]
    n_ticks: int
    duration_s: float


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


def _json(value: object) -> str:
    """JSON text of a value; numpy scalars and arrays become numbers and lists."""
    return json.dumps(value, default=_json_default)


def _json_default(value: object) -> object:
    tolist = getattr(value, "tolist", None)
    if tolist is None:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return tolist()


def _now() -> tuple[str, float]:
    """The current time as (ISO-8601 UTC with whole seconds, Unix time in s)."""
    unix_s = time.time()
    return datetime.fromtimestamp(unix_s, UTC).isoformat(timespec="seconds"), unix_s


def _create_owner_only(path: Path) -> None:
    """Create an empty file readable and writable by its owner only, unless it exists.

    An existing file that others may read (a copied store, say) is made owner-only too.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _restrict(path)
        return
    os.close(fd)


def _restrict(path: Path) -> None:
    """Take every permission of group and others away from ``path``, if it exists."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(mode & 0o700)


class SessionStore:
    """The SQLite session store; open it with :meth:`open`, use it as a context manager.

    Example::

        with SessionStore.open() as store:
            for info in store.list_sessions():
                print(info.id, info.status, info.duration_s)
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        """Wrap an open connection to a store of the current schema; use :meth:`open` instead."""
        self.path = path
        self._db = connection
        self._joint_counts: dict[int, int] = {}  # by session id; a session's joints never change

    @classmethod
    def open(cls, path: Path | None = None) -> SessionStore:
        """Open the store at ``path`` (default :func:`default_store_path`), creating it if needed.

        Missing parent folders are created with mode 0o700; a new file gets mode 0o600 and the
        schema of :data:`SCHEMA_VERSION`; an existing file is first checked to be a rehabbot
        store (another file is refused untouched), then it (and its ``-wal`` and ``-shm`` files)
        loses every permission of group and others, and a store of schema version 2 or 3 is
        migrated.

        Raises:
            StorageError: the file cannot be created or opened, is not a rehabbot store, is locked,
                or has another schema version; the message names the path and what to do.
        """
        path = default_store_path() if path is None else Path(path).expanduser()
        try:
            make_private_dirs(path.parent)
            _check_is_store(path)  # before its mode is touched: it may be anybody's file
            _create_owner_only(path)
            # SQLite gives the -wal and -shm files it creates the store's mode; older ones
            # (left by a crash, or copied) are restricted here
            for companion in ("-wal", "-shm"):
                _restrict(Path(f"{path}{companion}"))
        except OSError as exc:
            raise StorageError(
                f"cannot create the session store {path}: {exc.strerror or exc}; "
                "check that you may write to its folder, or choose another store file "
                f"(--store or ${STORE_ENV_VAR})"
            ) from exc
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(_open_failure(path, exc)) from exc
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            _ensure_schema(db, path)  # with foreign keys off: migrations rebuild tables
            db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            db.close()
            raise StorageError(_open_failure(path, exc)) from exc
        except StorageError:
            db.close()
            raise
        return cls(db, path)

    @classmethod
    def open_existing(cls, path: Path | None = None) -> SessionStore:
        """Open the store at ``path`` (default :func:`default_store_path`), which must exist.

        For the commands that only read (``replay``, ``patients show``, ...): a mistyped path
        gets one message instead of a new, empty store.

        Raises:
            StorageError: there is no file at ``path``, or :meth:`open` fails.
        """
        path = default_store_path() if path is None else Path(path).expanduser()
        if not path.is_file():
            raise StorageError(f"no session store at {path}; record a session first or pass "
                               "--store")
        return cls.open(path)

    def close(self) -> None:
        """Close the connection; committed data is on disk already."""
        self._db.close()

    def __enter__(self) -> SessionStore:
        """Use the store in a ``with`` block that closes it."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Turn sqlite errors into one :class:`StorageError` naming the operation and the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StorageError(f"{what} failed in session store {self.path}: {exc}") from exc

    @contextmanager
    def _transaction(self, what: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction: committed if the block succeeds, rolled back otherwise.

        A write transaction takes the write lock at once (``BEGIN IMMEDIATE``); a read
        transaction sees one consistent snapshot while the recorder keeps writing.
        """
        with self._translated(what):
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _session_row(self, db: sqlite3.Connection, session_id: int, columns: str) -> Any:
        _check_row_id(session_id)
        row = db.execute(f"SELECT {columns} FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise StorageError(f"no session {session_id}; `rehabbot sessions list` shows the ids")
        return row

    # -- patients -----------------------------------------------------------------------------

    def ensure_patient(
        self,
        code: str,
        display_name: str | None = None,
        height_m: float | None = None,
        mass_kg: float | None = None,
    ) -> int:
        """The id of the patient with this code, added with the given details if new.

        An existing patient is returned unchanged.

        Args:
            code: the patient's pseudonymous code, unique in the store.
            display_name: name shown in the console.
            height_m: body height (m).
            mass_kg: body mass (kg).
        """
        with self._transaction(f"adding patient {code!r}", write=True) as db:
            db.execute(
                "INSERT INTO patients (code, display_name, height_m, mass_kg, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
                (code, display_name, height_m, mass_kg, _now()[0]),
            )
            (patient_id,) = db.execute(
                "SELECT id FROM patients WHERE code = ?", (code,)
            ).fetchone()
        return int(patient_id)

    def get_patient(self, id_or_code: int | str) -> Patient:
        """The patient with this id (int) or code (str).

        Raises:
            StorageError: there is no such patient.
        """
        column = "code" if isinstance(id_or_code, str) else "id"
        with self._translated("reading a patient"):
            row = self._db.execute(
                "SELECT id, code, display_name, height_m, mass_kg, created_at FROM patients "
                f"WHERE {column} = ?", (id_or_code,)
            ).fetchone()
        if row is None:
            raise StorageError(f"no patient {id_or_code!r} in session store {self.path}")
        return Patient(*row)

    def list_patients(self) -> list[Patient]:
        """Every patient, by id."""
        with self._translated("listing patients"):
            rows = self._db.execute(
                "SELECT id, code, display_name, height_m, mass_kg, created_at FROM patients "
                "ORDER BY id"
            ).fetchall()
        return [Patient(*row) for row in rows]

    # -- sessions -----------------------------------------------------------------------------

    def create_session(
        self,
        patient_id: int,
        protocol_name: str,
        robot_name: str,
        period_s: float,
        joint_names: Sequence[str],
        parameters: Mapping[str, object],
    ) -> int:
        """Add a 'running' session started now; return its id.

        Args:
            patient_id: id of an existing patient.
            protocol_name: name of the therapy protocol.
            robot_name: name of the robot configuration.
            period_s: control period (s), > 0.
            joint_names: joint order of the samples to come.
            parameters: the session's parameters by name; each value is stored as JSON (numpy
                scalars and arrays are accepted).

        Raises:
            StorageError: no such patient, a bad period, or a parameter that is not JSON.
        """
        started_at, started_unix = _now()
        try:
            params = [(name, _json(value)) for name, value in parameters.items()]
        except (TypeError, ValueError) as exc:
            raise StorageError(f"session parameters cannot be stored as JSON: {exc}") from exc
        with self._transaction("creating a session", write=True) as db:
            cursor = db.execute(
                "INSERT INTO sessions (patient_id, protocol_name, robot_name, started_at, "
                "started_unix, status, period_s, joint_names) VALUES (?, ?, ?, ?, ?, 'running', "
                "?, ?)",
                (patient_id, protocol_name, robot_name, started_at, started_unix, period_s,
                 json.dumps(list(joint_names))),
            )
            session_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO session_parameters (session_id, name, value) VALUES (?, ?, ?)",
                [(session_id, name, value) for name, value in params],
            )
        return session_id

    def finish_session(self, session_id: int, status: str, summary: Mapping[str, object]) -> None:
        """Mark a session ended now with a final status and its summary.

        Args:
            session_id: the session.
            status: one of :data:`FINAL_STATUSES`.
            summary: the session's summary, stored as JSON (NaN is kept as ``NaN``).

        Raises:
            StorageError: no such session, a bad status, or a summary that is not JSON.
        """
        if status not in FINAL_STATUSES:
            raise StorageError(f"status {status!r} is not one of {', '.join(FINAL_STATUSES)}")
        try:
            text = _json(dict(summary))
        except (TypeError, ValueError) as exc:
            raise StorageError(f"the session summary cannot be stored as JSON: {exc}") from exc
        with self._transaction(f"finishing session {session_id}", write=True) as db:
            self._session_row(db, session_id, "id")
            db.execute(
                "UPDATE sessions SET ended_at = ?, status = ?, summary = ? WHERE id = ?",
                (_now()[0], status, text, session_id),
            )

    def add_event(
        self,
        session_id: int,
        t_s: float,
        kind: str,
        joint: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> int:
        """Record an event (a fault, a parameter change, ...) of a session; return its id.

        Args:
            session_id: the session.
            t_s: loop time of the event (s).
            kind: what happened, e.g. ``"fault:position_limit"``.
            joint: the joint concerned, if any.
            detail: more about it, stored as JSON.
        """
        try:
            text = None if detail is None else _json(dict(detail))
        except (TypeError, ValueError) as exc:
            raise StorageError(f"event detail cannot be stored as JSON: {exc}") from exc
        with self._transaction(f"recording an event of session {session_id}", write=True) as db:
            self._session_row(db, session_id, "id")
            cursor = db.execute(
                "INSERT INTO events (session_id, t_s, kind, joint, detail) VALUES (?, ?, ?, ?, ?)",
                (session_id, t_s, kind, joint, text),
            )
        return int(cursor.lastrowid or 0)

    def list_events(self, session_id: int) -> list[dict[str, Any]]:
        """A session's events in time order: ``id``, ``t_s`` (s), ``kind``, ``joint``, ``detail``.

        Raises:
            StorageError: there is no session with this id.
        """
        with self._transaction(f"reading events of session {session_id}", write=False) as db:
            self._session_row(db, session_id, "id")
            rows = db.execute("SELECT id, t_s, kind, joint, detail FROM events WHERE session_id = "
                              "? ORDER BY t_s, id", (session_id,)).fetchall()
        return [{"id": i, "t_s": t, "kind": k, "joint": j,
                 "detail": None if d is None else json.loads(d)} for i, t, k, j, d in rows]

    _INFO_QUERY = """
        SELECT s.id, p.code, s.protocol_name, s.robot_name, s.started_at, s.ended_at, s.status,
               s.period_s, s.joint_names,
               (SELECT coalesce(sum(n_ticks), 0) FROM sample_blocks b WHERE b.session_id = s.id),
               (SELECT min(first_t_s) FROM sample_blocks b WHERE b.session_id = s.id),
               (SELECT max(last_t_s) FROM sample_blocks b WHERE b.session_id = s.id)
        FROM sessions s JOIN patients p ON p.id = s.patient_id
    """

    @staticmethod
    def _info(row: Sequence[Any]) -> SessionInfo:
        (session_id, patient_code, protocol_name, robot_name, started_at, ended_at, status,
         period_s, joint_names, n_ticks, first_t_s, last_t_s) = row
        return SessionInfo(
            id=session_id, patient_code=patient_code, protocol_name=protocol_name,
            robot_name=robot_name, started_at=started_at, ended_at=ended_at, status=status,
            period_s=period_s, joint_names=tuple(json.loads(joint_names)), n_ticks=n_ticks,
            duration_s=0.0 if first_t_s is None else last_t_s - first_t_s + period_s,
        )

    def list_sessions(self, patient_id: int | None = None) -> list[SessionInfo]:
        """Every session, or one patient's, by id."""
        where, args = ("WHERE s.patient_id = ?", (patient_id,)) if patient_id is not None else (
            "", ())
        with self._translated("listing sessions"):
            rows = self._db.execute(f"{self._INFO_QUERY} {where} ORDER BY s.id", args).fetchall()
        return [self._info(row) for row in rows]

    def get_session(self, session_id: int) -> SessionInfo:
        """One session.

        Raises:
            StorageError: there is no session with this id.
        """
        _check_row_id(session_id)
        with self._translated(f"reading session {session_id}"):
            row = self._db.execute(f"{self._INFO_QUERY} WHERE s.id = ?", (session_id,)).fetchone()
        if row is None:
            raise StorageError(f"no session {session_id}; `rehabbot sessions list` shows the ids")
        return self._info(row)

    def session_parameters(self, session_id: int) -> dict[str, Any]:
        """The parameters a session was created with, by name.

        Raises:
            StorageError: there is no session with this id.
        """
        with self._transaction(f"reading parameters of session {session_id}", write=False) as db:
            self._session_row(db, session_id, "id")
            rows = db.execute(
                "SELECT name, value FROM session_parameters WHERE session_id = ? ORDER BY name",
                (session_id,),
            ).fetchall()
        return {name: json.loads(value) for name, value in rows}

    def session_summary(self, session_id: int) -> dict[str, Any] | None:
        """The summary stored by :meth:`finish_session`, None if the session has not finished.

        Raises:
            StorageError: there is no session with this id.
        """
        with self._translated(f"reading the summary of session {session_id}"):
            (text,) = self._session_row(self._db, session_id, "summary")
        return None if text is None else dict(json.loads(text))

    # -- samples ------------------------------------------------------------------------------

    def write_block(self, session_id: int, block: SampleBlock) -> None:
        """Store a block of ticks as one row, in one transaction of one statement, and commit.

        The cost does not grow with the ticks of the block: each array becomes one blob, so the
        writing thread gives up and takes back the GIL a few times per block, not per tick.

        Args:
            session_id: the session; the block has one column per joint of the session.
            block: the ticks, in strictly increasing order, none of them stored yet; ticks missing
                in between (dropped by the recorder) are allowed.

        Raises:
            StorageError: no such session, a joint count that differs from the session's, ticks
                not in increasing order, or ticks overlapping the range of a stored block.
        """
        n = len(block)
        if n == 0:
            return
        if n > 1 and not bool(np.all(np.diff(block.tick) > 0)):
            raise StorageError(
                f"the ticks of a block for session {session_id} are not strictly increasing"
            )
        expected = self._joint_count(session_id)
        if block.n_joints != expected:
            raise StorageError(
                f"a block of {block.n_joints} joints for session {session_id}, which has {expected}"
            )
        first_tick, last_tick = int(block.tick[0]), int(block.tick[-1])
        row: list[object] = [
            session_id, first_tick, last_tick, n, float(block.t_s[0]), float(block.t_s[-1])
        ]
        row += [np.ascontiguousarray(getattr(block, name), dtype=dtype).tobytes()
                for name, dtype in _BLOB_DTYPES.items()]
        # autocommit: the statement is a transaction of its own, no BEGIN and COMMIT round trips
        with self._translated(f"writing samples of session {session_id}"):
            stored = self._db.execute(_INSERT_BLOCK, row).rowcount
        if stored != 1:
            raise StorageError(
                f"ticks {first_tick}..{last_tick} overlap ticks already stored for session "
                f"{session_id}, and a tick can be stored only once"
            )

    def _joint_count(self, session_id: int) -> int:
        """Number of joints of a session, read once per session.

        Raises:
            StorageError: there is no session with this id.
        """
        count = self._joint_counts.get(session_id)
        if count is None:
            with self._translated(f"reading session {session_id}"):
                (names,) = self._session_row(self._db, session_id, "joint_names")
            count = self._joint_counts[session_id] = len(json.loads(names))
        return count

    def load_walking_samples(self, session_id: int) -> SessionSamples:
        """The ticks of a session that its walking loop recorded: the summary's
        ``walking_ticks`` ``[first, end)``, without the robot assessments run before or after
        the walking in the same recording (every tick for a session stored without them, or
        not finished).

        Raises:
            StorageError: as :meth:`load_samples`.
        """
        samples = self.load_samples(session_id)
        walking = self.walking_ticks(session_id)
        return samples if walking is None else samples.ticks_between(*walking)

    def walking_ticks(self, session_id: int) -> tuple[int, int] | None:
        """The ticks ``[first, end)`` of a session's walking loop (its summary's
        ``walking_ticks``); None for a session not finished or stored without them.

        Raises:
            StorageError: as :meth:`session_summary`.
        """
        walking = (self.session_summary(session_id) or {}).get("walking_ticks")
        return None if walking is None else (int(walking[0]), int(walking[1]))

    def load_samples(self, session_id: int) -> SessionSamples:
        """Every recorded tick of a session, in tick order, from one consistent snapshot.

        Ticks that the recorder dropped are absent (see ``tick`` for gaps).

        Raises:
            StorageError: no such session, or a block whose blobs do not match its ticks (the
                store was damaged or modified outside rehabbot); the message names the block.
        """
        with self._transaction(f"reading samples of session {session_id}", write=False) as db:
            (names,) = self._session_row(db, session_id, "joint_names")
            joint_names = tuple(json.loads(names))
            n_joints = len(joint_names)
            (total,) = db.execute(
                "SELECT coalesce(sum(n_ticks), 0) FROM sample_blocks WHERE session_id = ?",
                (session_id,),
            ).fetchone()
            arrays = {name: np.empty(_block_shape(name, total, n_joints), dtype)
                      for name, dtype in _BLOB_DTYPES.items()}
            start, previous_last = 0, None
            for first_tick, last_tick, n, *blobs in db.execute(
                f"SELECT first_tick, last_tick, n_ticks, {', '.join(_BLOB_DTYPES)} "
                "FROM sample_blocks WHERE session_id = ? ORDER BY first_tick", (session_id,),
            ):
                where = f"session {session_id}, block of ticks {first_tick}..{last_tick}"
                if previous_last is not None and first_tick <= previous_last:
                    raise StorageError(f"{where} overlaps the block before it; the store was "
                                       "damaged or modified outside rehabbot")
                stop = start + n
                for (name, dtype), blob in zip(_BLOB_DTYPES.items(), blobs, strict=True):
                    shape = _block_shape(name, n, n_joints)
                    size = dtype.itemsize * math.prod(shape)
                    if not isinstance(blob, bytes) or len(blob) != size:
                        raise StorageError(
                            f"{where}: {name} is not the {size} bytes its {n} ticks need; the "
                            "store was damaged or modified outside rehabbot"
                        )
                    arrays[name][start:stop] = np.frombuffer(blob, dtype).reshape(shape)
                ticks = arrays["tick"][start:stop]
                if ticks[0] != first_tick or ticks[-1] != last_tick or np.any(np.diff(ticks) <= 0):
                    raise StorageError(f"{where}: its ticks do not match its range; the store was "
                                       "damaged or modified outside rehabbot")
                start, previous_last = stop, last_tick
        native = {name: a.astype(a.dtype.newbyteorder("="), copy=False)
                  for name, a in arrays.items()}  # no copy on little-endian machines
        return SessionSamples(
            tick=native["tick"], t_s=native["t_s"], phase=native["phase"],
            contact=native["contact"] != 0, q=native["q"], qd=native["qd"], tau=native["tau"],
            tau_cmd=native["tau_cmd"], q_ref=native["q_ref"], joint_names=joint_names,
        )


def _check_row_id(session_id: int) -> None:
    """Refuse a session id that no row can have (SQLite ids are 64-bit signed integers).

    Raises:
        StorageError: ``session_id`` is outside 1 .. 2**63 − 1 (one line, the id shortened).
    """
    if not 0 < session_id <= MAX_ROW_ID:
        raise StorageError(f"no session {echo(session_id)}: session ids are whole numbers from 1 "
                           "to 2**63 - 1; `rehabbot sessions list` shows the ids")


def _ensure_schema(db: sqlite3.Connection, path: Path) -> None:
    """Create the schema in a new store, migrate an older one; check the version afterwards.

    Raises:
        StorageError: the store has a newer or an unmigratable schema version, or is an SQLite
            file of something else.
    """
    version = _schema_version(db)
    if version == 0 or version in _MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = _schema_version(db)  # again: another process may have done it meanwhile
            if version == 0:
                if db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                    raise StorageError(
                        f"{path} is an SQLite database but not a rehabbot session store; "
                        f"choose another store file (--store or ${STORE_ENV_VAR})"
                    )
                for statement in _SCHEMA:
                    db.execute(statement)
                version = 2
            while version in _MIGRATIONS:
                step = _MIGRATIONS[version]
                if callable(step):
                    step(db)
                else:
                    for statement in step:
                        db.execute(statement)
                version += 1
            db.execute("INSERT OR IGNORE INTO installation (name, value) VALUES "
                       "('pseudonym_key', ?)", (secrets.token_bytes(PSEUDONYM_KEY_BYTES),))
            db.execute(f"PRAGMA user_version = {version}")
            broken = db.execute("PRAGMA foreign_key_check").fetchone()
            if broken is not None:
                raise StorageError(f"session store {path}: a row of table {broken[0]} refers to "
                                   f"a missing row of {broken[2]}, so it was not migrated; the "
                                   "store was modified outside rehabbot")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"session store {path} has schema version {version}, newer than this rehabbot "
            f"understands ({SCHEMA_VERSION}); upgrade rehabbot to open it"
        )
    if version < SCHEMA_VERSION:
        raise StorageError(
            f"session store {path} has schema version {version} of a development build of "
            f"rehabbot, which this rehabbot (schema {SCHEMA_VERSION}) does not read; move the "
            f"file away to start a new store there, or choose another store file (--store or "
            f"${STORE_ENV_VAR})"
        )


def _check_is_store(path: Path) -> None:
    """Refuse, before anything touches it, an existing file that is not a rehabbot store.

    A missing or empty file is a new store. An SQLite file is a store if it carries rehabbot's
    application id, or (stores before schema version 4) has rehabbot's tables; any other file
    keeps its content and its mode.

    Raises:
        StorageError: ``path`` is a folder, not an SQLite file, or another program's database.
    """
    try:
        info = path.stat()
    except OSError:
        return  # missing (a new store), or opening it will say what is wrong
    refused = (f"{path} is not a rehabbot session store, so it was left as it is; choose "
               f"another store file (--store or ${STORE_ENV_VAR})")
    if not stat.S_ISREG(info.st_mode):
        raise StorageError(refused)
    if info.st_size == 0:
        return
    try:
        with path.open("rb") as file:
            header = file.read(16)
        if header != b"SQLite format 3\x00":
            raise StorageError(refused)
        probe = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except OSError:
        return
    except sqlite3.Error as exc:
        raise StorageError(_open_failure(path, exc)) from exc
    try:
        application_id = int(probe.execute("PRAGMA application_id").fetchone()[0])
        version = _schema_version(probe)
        tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type = "
                                              "'table'")}
    except sqlite3.Error as exc:
        raise StorageError(_open_failure(path, exc)) from exc
    finally:
        probe.close()
    ours = application_id == APPLICATION_ID or (application_id == 0 and (
        not tables or (version == 1 and "ticks" in tables)
        or (version >= 2 and {"patients", "sessions", "sample_blocks"} <= tables)))
    if not ours:
        raise StorageError(refused.replace("is not", "is an SQLite database but not", 1))


def _migrate_to_ids_never_reused(db: sqlite3.Connection) -> None:
    """Schema 3 → 4: ids that are never handed out again, and exports recorded before writing.

    The tables of :data:`_NEVER_REUSED` are rebuilt from their own definitions with
    ``AUTOINCREMENT``, their counters set
    past every id the store ever gave (the audit log names erased patients and their sessions);
    a patient who got the id of an erased one (version 3 reused it) is given a new id, and so
    are their rows and the audit entries made after that erasure, so that their audit log
    never shows the erased patient's entries. Adds ``export_intents`` and ``export_folders``
    and the store's application id. Runs inside the migration's transaction, foreign keys off.
    """
    erased = dict(db.execute("SELECT patient_id, max(id) FROM audit_log WHERE action = "
                             "'patient.erase' AND patient_id IS NOT NULL GROUP BY patient_id"))
    named_patients: set[int] = set(erased)
    named_sessions: set[int] = set()
    for detail_text, in db.execute("SELECT detail FROM audit_log WHERE action IN "
                                   "('export', 'patient.erase')"):
        detail = json.loads(detail_text)
        named_patients.update(int(i) for i in detail.get("patients", []))
        named_sessions.update(int(i) for i in detail.get("sessions", []))
    for name in _NEVER_REUSED:
        columns = ", ".join(r[1] for r in db.execute(f"PRAGMA table_info({name})"))
        (create,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (name,)).fetchone()
        create = create.replace(f"TABLE {name} (", f"TABLE {name}_v4 (", 1).replace(
            "id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,", 1)
        if name == "exports":
            create = create.replace("session_id INTEGER NOT NULL", "session_id INTEGER", 1)
        if "AUTOINCREMENT" not in create:
            raise StorageError(f"table {name} of the store is not rehabbot's; it was modified "
                               "outside rehabbot, so the store was not migrated")
        db.execute(create)
        db.execute(f"INSERT INTO {name}_v4 ({columns}) SELECT {columns} FROM {name}")
        db.execute(f"DROP TABLE {name}")
        db.execute(f"ALTER TABLE {name}_v4 RENAME TO {name}")
    highest = max([*named_patients, *(r[0] for r in db.execute("SELECT id FROM patients"))],
                  default=0)
    for old_id, erased_at in sorted(erased.items()):
        if db.execute("SELECT 1 FROM patients WHERE id = ?", (old_id,)).fetchone() is None:
            continue
        highest += 1
        db.execute("UPDATE patients SET id = ? WHERE id = ?", (highest, old_id))
        for table in ("sessions", "fittings", "consents", "outcomes", "exports"):
            db.execute(f"UPDATE {table} SET patient_id = ? WHERE patient_id = ?",
                       (highest, old_id))
        db.execute("UPDATE audit_log SET patient_id = ? WHERE patient_id = ? AND id > ?",
                   (highest, old_id, erased_at))
        for entry_id, detail_text in db.execute(
                "SELECT id, detail FROM audit_log WHERE action = 'export' AND id > ?",
                (erased_at,)).fetchall():
            detail = json.loads(detail_text)
            if old_id in detail.get("patients", []):
                detail["patients"] = sorted(highest if i == old_id else i
                                            for i in detail["patients"])
                db.execute("UPDATE audit_log SET detail = ? WHERE id = ?",
                           (json.dumps(detail), entry_id))
    last_session = max([*named_sessions, *(r[0] for r in db.execute("SELECT id FROM sessions"))],
                       default=0)
    db.execute("DELETE FROM sqlite_sequence WHERE name IN ('patients', 'sessions')")
    db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('patients', ?), ('sessions', ?)",
               (highest, last_session))
    for statement in _VERSION_4_INDEXES:
        db.execute(statement)


_MIGRATIONS[3] = _migrate_to_ids_never_reused
# 4 → 5: what a simulation knew per tick and a real robot cannot measure (rehabbot.storage.truth):
# per session and quantity, little-endian blobs tick int64 (n,) and value float64 (n × joints).
_MIGRATIONS[4] = (
    """CREATE TABLE simulation_truth (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        n_ticks INTEGER NOT NULL CHECK (n_ticks >= 0),
        tick BLOB NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (session_id, name)
    )""",
)


def _schema_version(db: sqlite3.Connection) -> int:
    """The store's schema version, ``PRAGMA user_version`` (0 for a new file)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _block_shape(name: str, n_ticks: int, n_joints: int) -> tuple[int, ...]:
    """Shape of the :class:`SampleBlock` array ``name`` for ``n_ticks`` ticks of ``n_joints``."""
    if name in _JOINT_ARRAYS:
        return (n_ticks, n_joints)
    return (n_ticks, 2) if name == "contact" else (n_ticks,)


def _open_failure(path: Path, exc: sqlite3.Error) -> str:
    """The one-line message for an SQLite error while opening the store at ``path``."""
    hint = _OPEN_HINTS.get(getattr(exc, "sqlite_errorname", ""), _DEFAULT_OPEN_HINT)
    return f"cannot open the session store {path}: {exc}; {hint}"
