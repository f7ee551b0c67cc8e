"""The session store: patients, sessions and their recorded samples in one SQLite file.

The file lives at :func:`default_store_path` unless a path is given; it is created readable and
writable by its owner only (mode 0o600), in WAL mode with ``synchronous=NORMAL``, so that a killed
process leaves a store that opens and holds every committed transaction, and readers never block
the recorder's writes.

Threads: a :class:`SessionStore` owns one connection and belongs to the thread that opened it
(sqlite3's ``check_same_thread`` stays on); another thread opens its own store on the same file,
as the recorder's writer thread does. Concurrent writers wait for each other up to
:data:`BUSY_TIMEOUT_S`.

Units are SI throughout (s, rad, rad/s, N·m, m, kg); times of day are ISO-8601 UTC strings.
Samples come back bit for bit, with two exceptions due to SQLite: a NaN is stored as NULL and
read back as NaN, and −0.0 is read back as 0.0.

Example::

    with SessionStore.open(tmp_path / "s.sqlite") as store:
        patient_id = store.ensure_patient("P-001", height_m=1.70, mass_kg=68.0)
        session_id = store.create_session(patient_id, "standard_gait", "sim_exo", 0.001,
                                          ["knee_angle_r"], {"guidance_pct": 80.0})
        store.write_block(session_id, block)
        samples = store.load_samples(session_id)
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
import platformdirs

from rehabbot.errors import StorageError

STORE_ENV_VAR = "REHABBOT_STORE"
BUSY_TIMEOUT_S = 5.0
"""How long a write waits for another connection's write transaction to end (s)."""
FINAL_STATUSES = ("completed", "aborted", "faulted")
"""The statuses :meth:`SessionStore.finish_session` accepts; a session is 'running' before."""

_FETCH_CHUNK_ROWS = 16_384

_SCHEMA_V1 = (
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
    """CREATE TABLE ticks (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        tick INTEGER NOT NULL,
        t_s REAL,
        phase REAL,
        contact_r INTEGER NOT NULL,
        contact_l INTEGER NOT NULL,
        PRIMARY KEY (session_id, tick)
    ) WITHOUT ROWID""",
    """CREATE TABLE joint_samples (
        session_id INTEGER NOT NULL,
        tick INTEGER NOT NULL,
        joint INTEGER NOT NULL CHECK (joint >= 0),
        q_rad REAL,
        qd_rad_s REAL,
        tau_nm REAL,
        tau_cmd_nm REAL,
        q_ref_rad REAL,
        PRIMARY KEY (session_id, tick, joint),
        FOREIGN KEY (session_id, tick) REFERENCES ticks(session_id, tick) ON DELETE CASCADE
    ) WITHOUT ROWID""",
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
_MIGRATIONS: tuple[tuple[str, ...], ...] = (_SCHEMA_V1,)
"""Statements that bring a store from version i to version i + 1, at index i."""
SCHEMA_VERSION = len(_MIGRATIONS)
"""The schema version this code writes, kept in ``PRAGMA user_version``."""

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
            (last ``t_s`` − first ``t_s`` + ``period_s``; s); 0 without ticks.
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


@dataclass
class SessionSamples(SampleBlock):
    """All recorded ticks of one session, in tick order; a :class:`SampleBlock` with joint names.

    Attributes:
        joint_names: name of each joint column, e.g. ``("hip_flexion_r", "knee_angle_r")``.
    """

    joint_names: tuple[str, ...] = field(default=())


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
    """Create an empty file readable and writable by its owner only, unless it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _fetch_floats(cursor: sqlite3.Cursor, n_rows: int, n_cols: int) -> FloatArray:
    """Read ``n_rows`` rows of ``n_cols`` numbers from a cursor into a float array (NULL → NaN).

    Rows are fetched in chunks so that the Python objects alive at once stay few.
    """
    out = np.empty((n_rows, n_cols), dtype=np.float64)
    start = 0
    while chunk := cursor.fetchmany(_FETCH_CHUNK_ROWS):
        stop = start + len(chunk)
        if stop > n_rows:
            raise StorageError(f"more rows than the {n_rows} counted: the store changed")
        out[start:stop] = np.fromiter(
            itertools.chain.from_iterable(chunk), np.float64, count=len(chunk) * n_cols
        ).reshape(len(chunk), n_cols)
        start = stop
    if start != n_rows:
        raise StorageError(f"{start} rows read where {n_rows} were counted: the store changed")
    return out


class SessionStore:
    """The SQLite session store; open it with :meth:`open`, use it as a context manager.

    Example::

        with SessionStore.open() as store:
            for info in store.list_sessions():
                print(info.id, info.status, info.duration_s)
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        """Wrap an open, migrated connection; use :meth:`open` instead."""
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: Path | None = None) -> SessionStore:
        """Open the store at ``path`` (default :func:`default_store_path`), creating it if needed.

        Parent folders are created; a new file gets mode 0o600. The schema is created or
        brought up to :data:`SCHEMA_VERSION`.

        Raises:
            StorageError: the file cannot be created or opened, is not a rehabbot store, is locked,
                or was written by a newer rehabbot; the message names the path and what to do.
        """
        path = default_store_path() if path is None else Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_owner_only(path)
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
            db.execute("PRAGMA foreign_keys = ON")
            _migrate(db, path)
        except sqlite3.Error as exc:
            db.close()
            raise StorageError(_open_failure(path, exc)) from exc
        except StorageError:
            db.close()
            raise
        return cls(db, path)

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

    _INFO_QUERY = """
        SELECT s.id, p.code, s.protocol_name, s.robot_name, s.started_at, s.ended_at, s.status,
               s.period_s, s.joint_names,
               (SELECT COUNT(*) FROM ticks t WHERE t.session_id = s.id),
               (SELECT t_s FROM ticks t WHERE t.session_id = s.id ORDER BY tick LIMIT 1),
               (SELECT t_s FROM ticks t WHERE t.session_id = s.id ORDER BY tick DESC LIMIT 1)
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
            duration_s=last_t_s - first_t_s + period_s if n_ticks else 0.0,
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
        """Store a block of ticks and their joint samples in one transaction, and commit.

        Args:
            session_id: the session; the block has one column per joint of the session.
            block: the ticks, none of them stored yet.

        Raises:
            StorageError: no such session, a joint count that differs from the session's, or a
                tick already stored.
        """
        n, n_joints = len(block), block.n_joints
        if n == 0:
            return
        sid = itertools.repeat(session_id)
        tick_rows = zip(
            sid, block.tick.tolist(), block.t_s.tolist(), block.phase.tolist(),
            block.contact[:, 0].tolist(), block.contact[:, 1].tolist(), strict=False,
        )
        joint_rows = zip(
            sid, np.repeat(block.tick, n_joints).tolist(), list(range(n_joints)) * n,
            block.q.ravel().tolist(), block.qd.ravel().tolist(), block.tau.ravel().tolist(),
            block.tau_cmd.ravel().tolist(), block.q_ref.ravel().tolist(), strict=False,
        )
        with self._transaction(f"writing samples of session {session_id}", write=True) as db:
            (names,) = self._session_row(db, session_id, "joint_names")
            expected = len(json.loads(names))
            if n_joints != expected:
                raise StorageError(
                    f"a block of {n_joints} joints for session {session_id}, which has {expected}"
                )
            db.executemany(
                "INSERT INTO ticks (session_id, tick, t_s, phase, contact_r, contact_l) "
                "VALUES (?, ?, ?, ?, ?, ?)", tick_rows,
            )
            db.executemany(
                "INSERT INTO joint_samples (session_id, tick, joint, q_rad, qd_rad_s, tau_nm, "
                "tau_cmd_nm, q_ref_rad) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", joint_rows,
            )

    def load_samples(self, session_id: int) -> SessionSamples:
        """Every recorded tick of a session, in tick order, from one consistent snapshot.

        Ticks that the recorder dropped are absent (see ``tick`` for gaps).

        Raises:
            StorageError: no such session, or joint samples that do not match the ticks.
        """
        with self._transaction(f"reading samples of session {session_id}", write=False) as db:
            (names,) = self._session_row(db, session_id, "joint_names")
            joint_names = tuple(json.loads(names))
            n_joints = len(joint_names)
            (n,) = db.execute(
                "SELECT COUNT(*) FROM ticks WHERE session_id = ?", (session_id,)
            ).fetchone()
            n_rows, lowest, highest = db.execute(
                "SELECT COUNT(*), MIN(joint), MAX(joint) FROM joint_samples WHERE session_id = ?",
                (session_id,),
            ).fetchone()
            # With the primary key (unique tick, joint), the foreign key (every row's tick is
            # stored) and joints in range, the right count means a full ticks × joints grid.
            if n_rows != n * n_joints or (n_rows and (lowest < 0 or highest >= n_joints)):
                raise StorageError(
                    f"session {session_id} has {n_rows} joint samples for {n} ticks of "
                    f"{n_joints} joints: the store was modified outside rehabbot"
                )
            ticks = _fetch_floats(db.execute(
                "SELECT tick, t_s, phase, contact_r, contact_l FROM ticks WHERE session_id = ? "
                "ORDER BY tick", (session_id,),
            ), n, 5)
            joints = _fetch_floats(db.execute(
                "SELECT q_rad, qd_rad_s, tau_nm, tau_cmd_nm, q_ref_rad FROM joint_samples "
                "WHERE session_id = ? ORDER BY tick, joint", (session_id,),
            ), n_rows, 5).reshape(n, n_joints, 5)
        return SessionSamples(
            tick=ticks[:, 0].astype(np.int64),
            t_s=ticks[:, 1].copy(),
            phase=ticks[:, 2].copy(),
            contact=ticks[:, 3:5] != 0.0,
            q=joints[:, :, 0].copy(),
            qd=joints[:, :, 1].copy(),
            tau=joints[:, :, 2].copy(),
            tau_cmd=joints[:, :, 3].copy(),
            q_ref=joints[:, :, 4].copy(),
            joint_names=joint_names,
        )


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Create the schema in a new store or bring an older one up to :data:`SCHEMA_VERSION`.

    Raises:
        StorageError: the store is newer than this code, or an SQLite file of something else.
    """
    if _schema_version(db) == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _schema_version(db)  # again: another process may have migrated meanwhile
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"session store {path} has schema version {version}, newer than this rehabbot "
                f"understands ({SCHEMA_VERSION}); upgrade rehabbot to open it"
            )
        if version == 0 and db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            raise StorageError(
                f"{path} is an SQLite database but not a rehabbot session store; "
                f"choose another store file (--store or ${STORE_ENV_VAR})"
            )
        for statements in _MIGRATIONS[version:]:
            for statement in statements:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _schema_version(db: sqlite3.Connection) -> int:
    """The store's schema version, ``PRAGMA user_version`` (0 for a new file)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _open_failure(path: Path, exc: sqlite3.Error) -> str:
    """The one-line message for an SQLite error while opening the store at ``path``."""
    hint = _OPEN_HINTS.get(getattr(exc, "sqlite_errorname", ""), _DEFAULT_OPEN_HINT)
    return f"cannot open the session store {path}: {exc}; {hint}"
