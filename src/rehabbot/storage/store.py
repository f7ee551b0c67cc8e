"""The session store: patients, sessions and their recorded samples in one SQLite file.

The file lives at :func:`default_store_path` unless a path is given; it is created readable and
writable by its owner only (mode 0o600), in WAL mode with ``synchronous=NORMAL``, so that a killed
process leaves a store that opens and holds every committed transaction, and readers never block
the recorder's writes.

Threads: a :class:`SessionStore` owns one connection and belongs to the thread that opened it
(sqlite3's ``check_same_thread`` stays on); another thread opens its own store on the same file,
as the recorder's writer thread does. Concurrent writers wait for each other up to
:data:`~rehabbot.storage.schema.BUSY_TIMEOUT_S`. The store's companions (patient records,
exports) run their own statements in :meth:`SessionStore.transaction`.

Around this module: :mod:`~rehabbot.storage.schema` (the tables, versions and migrations),
:mod:`~rehabbot.storage.samples` (the sample types and their blob layout) and
:mod:`~rehabbot.storage.summary` (the stored session summary).

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
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import platformdirs
from pydantic import ValidationError

from rehabbot.errors import StorageError, echo
from rehabbot.storage.files import STORE_ENV_VAR, make_private_dirs
from rehabbot.storage.samples import BLOB_DTYPES, SampleBlock, SessionSamples, block_shape
from rehabbot.storage.schema import BUSY_TIMEOUT_S, check_is_store, ensure_schema, open_failure
from rehabbot.storage.summary import StoredSummary

MAX_ROW_ID = 2**63 - 1
"""The largest row id SQLite stores (a 64-bit signed integer)."""
FINAL_STATUSES = ("completed", "aborted", "faulted")
"""The statuses :meth:`SessionStore.finish_session` accepts; a session is 'running' before."""


_INSERT_BLOCK = f"""
    INSERT INTO sample_blocks (session_id, first_tick, last_tick, n_ticks, first_t_s, last_t_s,
                               {", ".join(BLOB_DTYPES)})
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, {", ".join(f"?{i}" for i in range(7, 7 + len(BLOB_DTYPES)))}
    WHERE coalesce((SELECT last_tick FROM sample_blocks WHERE session_id = ?1 AND first_tick <= ?3
                    ORDER BY first_tick DESC LIMIT 1), ?2 - 1) < ?2
"""
"""Store a block unless its ticks overlap a stored block's, in one statement.

Stored blocks never overlap, so the only candidate is the last one starting at or before the new
block's last tick; the primary key index finds it. The parameters are numbered, not named: Python's
sqlite3 gives up the GIL once to look up each name, and once only for all numbered ones.
"""




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
            check_is_store(path)  # before its mode is touched: it may be anybody's file
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
            raise StorageError(open_failure(path, exc)) from exc
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            ensure_schema(db, path)  # with foreign keys off: migrations rebuild tables
            db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            db.close()
            raise StorageError(open_failure(path, exc)) from exc
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
    def transaction(self, what: str, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction on the store's connection: committed if the block succeeds, rolled
        back if it raises.

        The public way for the store's companions (patient records, exports) to run their own
        statements, so that every statement of one change commits or none does. A write
        transaction takes the write lock at once (``BEGIN IMMEDIATE``: no deadlock between two
        writers that both read first); a read transaction sees one consistent snapshot while the
        recorder keeps writing. Transactions do not nest.

        Args:
            what: the operation, for the error message (e.g. ``"erasing patient 'P-001'"``).
            write: take the write lock.

        Yields:
            the connection to run statements on inside the transaction.

        Raises:
            StorageError: an SQLite error in the block or at commit, naming ``what`` and the
                file; the transaction is rolled back.

        Example::

            with store.transaction("renaming a protocol", write=True) as db:
                db.execute("UPDATE sessions SET protocol_name = ? WHERE id = ?", ("x", 3))
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

    def compact(self) -> None:
        """Rewrite the store without its free pages and empty its write-ahead log.

        SQLite keeps deleted rows' bytes in free pages and in the ``-wal`` file; ``VACUUM``
        rebuilds the file from the live rows only, and a ``TRUNCATE`` checkpoint copies the log
        into it and cuts the log to zero bytes.

        Raises:
            StorageError: another connection is reading or writing, so the log could not be
                emptied; close the other rehabbot programs and compact again.
        """
        with self._translated("compacting"):
            self._db.execute("VACUUM")
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise StorageError(
                f"another program has session store {self.path} open, so deleted data "
                "may remain in its write-ahead log; close the other rehabbot programs and run "
                "`rehabbot patients compact`"
            )

    def session_row(self, db: sqlite3.Connection, session_id: int, columns: str) -> Any:
        """The ``columns`` (SQL, e.g. ``"patient_id"``) of one session's row, read on ``db``
        (the store's connection, inside a :meth:`transaction` when it must agree with more).

        Raises:
            StorageError: there is no session with this id.
        """
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
        with self.transaction(f"adding patient {code!r}", write=True) as db:
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
        with self.transaction("creating a session", write=True) as db:
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

    def finish_session(self, session_id: int, status: str,
                       summary: StoredSummary | Mapping[str, object]) -> None:
        """Mark a session ended now with a final status and its summary.

        Args:
            session_id: the session.
            status: one of :data:`FINAL_STATUSES`.
            summary: the session's summary (a mapping is checked against
                :class:`~rehabbot.storage.summary.StoredSummary`), stored as JSON (NaN is kept
                as ``NaN``).

        Raises:
            StorageError: no such session, a bad status, or a summary with a field of the
                wrong type or that is not JSON.
        """
        if status not in FINAL_STATUSES:
            raise StorageError(f"status {status!r} is not one of {', '.join(FINAL_STATUSES)}")
        try:
            text = _json(StoredSummary.of(summary).as_dict())
        except ValidationError as exc:
            raise StorageError(f"the summary of session {session_id} is not a session summary: "
                               f"{_first_error(exc)}") from exc
        except (TypeError, ValueError) as exc:
            raise StorageError(f"the session summary cannot be stored as JSON: {exc}") from exc
        with self.transaction(f"finishing session {session_id}", write=True) as db:
            self.session_row(db, session_id, "id")
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
        with self.transaction(f"recording an event of session {session_id}", write=True) as db:
            self.session_row(db, session_id, "id")
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
        with self.transaction(f"reading events of session {session_id}", write=False) as db:
            self.session_row(db, session_id, "id")
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
        with self.transaction(f"reading parameters of session {session_id}", write=False) as db:
            self.session_row(db, session_id, "id")
            rows = db.execute(
                "SELECT name, value FROM session_parameters WHERE session_id = ? ORDER BY name",
                (session_id,),
            ).fetchall()
        return {name: json.loads(value) for name, value in rows}

    def session_summary(self, session_id: int) -> StoredSummary | None:
        """The summary stored by :meth:`finish_session` (any version's), None if the session
        has not finished.

        Raises:
            StorageError: there is no session with this id, or its summary is not one (the
                store was modified outside rehabbot).
        """
        with self._translated(f"reading the summary of session {session_id}"):
            (text,) = self.session_row(self._db, session_id, "summary")
        if text is None:
            return None
        try:
            return StoredSummary.model_validate(json.loads(text))
        except (ValidationError, ValueError) as exc:
            detail = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise StorageError(f"the stored summary of session {session_id} is not a session "
                               f"summary ({detail}); the store was modified outside "
                               "rehabbot") from exc

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
                for name, dtype in BLOB_DTYPES.items()]
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
                (names,) = self.session_row(self._db, session_id, "joint_names")
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
        return self.walking_part(session_id, self.load_samples(session_id))

    def walking_part(self, session_id: int, samples: SessionSamples) -> SessionSamples:
        """The ticks of ``samples`` (session ``session_id``'s, as :meth:`load_samples` gives
        them) that its walking loop recorded: the one rule for where a session walked (every
        tick for a session stored without ``walking_ticks``, or not finished).

        Raises:
            StorageError: as :meth:`session_summary`.
        """
        walking = self.walking_ticks(session_id)
        return samples if walking is None else samples.ticks_between(*walking)

    def walking_ticks(self, session_id: int) -> tuple[int, int] | None:
        """The ticks ``[first, end)`` of a session's walking loop (its summary's
        ``walking_ticks``); None for a session not finished or stored without them.

        Raises:
            StorageError: as :meth:`session_summary`.
        """
        summary = self.session_summary(session_id)
        return None if summary is None else summary.walking_ticks

    def load_samples(self, session_id: int) -> SessionSamples:
        """Every recorded tick of a session, in tick order, from one consistent snapshot.

        Ticks that the recorder dropped are absent (see ``tick`` for gaps).

        Raises:
            StorageError: no such session, or a block whose blobs do not match its ticks (the
                store was damaged or modified outside rehabbot); the message names the block.
        """
        with self.transaction(f"reading samples of session {session_id}", write=False) as db:
            (names,) = self.session_row(db, session_id, "joint_names")
            joint_names = tuple(json.loads(names))
            n_joints = len(joint_names)
            (total,) = db.execute(
                "SELECT coalesce(sum(n_ticks), 0) FROM sample_blocks WHERE session_id = ?",
                (session_id,),
            ).fetchone()
            arrays = {name: np.empty(block_shape(name, total, n_joints), dtype)
                      for name, dtype in BLOB_DTYPES.items()}
            start, previous_last = 0, None
            for first_tick, last_tick, n, *blobs in db.execute(
                f"SELECT first_tick, last_tick, n_ticks, {', '.join(BLOB_DTYPES)} "
                "FROM sample_blocks WHERE session_id = ? ORDER BY first_tick", (session_id,),
            ):
                where = f"session {session_id}, block of ticks {first_tick}..{last_tick}"
                if previous_last is not None and first_tick <= previous_last:
                    raise StorageError(f"{where} overlaps the block before it; the store was "
                                       "damaged or modified outside rehabbot")
                stop = start + n
                for (name, dtype), blob in zip(BLOB_DTYPES.items(), blobs, strict=True):
                    shape = block_shape(name, n, n_joints)
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


def _first_error(exc: ValidationError) -> str:
    """The first problem of a validation error in one line: where, and what is wrong."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _check_row_id(session_id: int) -> None:
    """Refuse a session id that no row can have (SQLite ids are 64-bit signed integers).

    Raises:
        StorageError: ``session_id`` is outside 1 .. 2**63 − 1 (one line, the id shortened).
    """
    if not 0 < session_id <= MAX_ROW_ID:
        raise StorageError(f"no session {echo(session_id)}: session ids are whole numbers from 1 "
                           "to 2**63 - 1; `rehabbot sessions list` shows the ids")


