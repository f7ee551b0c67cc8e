"""What a session store file is: its schema, its versions and their migrations, and how a file
is recognised as a store before anything touches it.

A new store is created with :data:`BASE_SCHEMA` (schema version 2) and migrated step by step
(:data:`MIGRATIONS`) to :data:`SCHEMA_VERSION`, in one transaction; an older store is migrated the
same way when it is opened (:func:`ensure_schema`). Stores keep their data as SQLite rows; a
session's summary is JSON text that :class:`~rehabbot.storage.summary.StoredSummary` parses in
any version, so it needs no migration. docs/storage.md describes the tables.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from rehabbot.errors import StorageError
from rehabbot.storage.files import STORE_ENV_VAR

BUSY_TIMEOUT_S = 5.0
"""How long a write waits for another connection's write transaction to end (s)."""

SCHEMA_VERSION = 5
"""The schema version this code reads and writes, kept in ``PRAGMA user_version``.

Version 1 (development builds only) stored one row per tick and one per tick and joint; it is not
read, nor migrated. Version 2 had no patient records; version 3 reused the row ids of erased
patients and sessions; version 4 had no simulation truth (:mod:`rehabbot.storage.truth`). They
are migrated to version 5 when opened (:data:`MIGRATIONS`).
"""

APPLICATION_ID = 0x52484254
"""``PRAGMA application_id`` of a rehabbot store ("RHBT"), set from schema version 4 on."""

BASE_SCHEMA = (
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

MIGRATIONS: dict[int, tuple[str, ...] | Callable[[sqlite3.Connection], None]] = {
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

def ensure_schema(db: sqlite3.Connection, path: Path) -> None:
    """Create the schema in a new store, migrate an older one; check the version afterwards.

    Raises:
        StorageError: the store has a newer or an unmigratable schema version, or is an SQLite
            file of something else.
    """
    version = schema_version(db)
    if version == 0 or version in MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(db)  # again: another process may have done it meanwhile
            if version == 0:
                if db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                    raise StorageError(
                        f"{path} is an SQLite database but not a rehabbot session store; "
                        f"choose another store file (--store or ${STORE_ENV_VAR})"
                    )
                for statement in BASE_SCHEMA:
                    db.execute(statement)
                version = 2
            while version in MIGRATIONS:
                step = MIGRATIONS[version]
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

def check_is_store(path: Path) -> None:
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
        raise StorageError(open_failure(path, exc)) from exc
    try:
        application_id = int(probe.execute("PRAGMA application_id").fetchone()[0])
        version = schema_version(probe)
        tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type = "
                                              "'table'")}
    except sqlite3.Error as exc:
        raise StorageError(open_failure(path, exc)) from exc
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

MIGRATIONS[3] = _migrate_to_ids_never_reused
# 4 → 5: what a simulation knew per tick and a real robot cannot measure (rehabbot.storage.truth):
# per session and quantity, little-endian blobs tick int64 (n,) and value float64 (n × joints).
MIGRATIONS[4] = (
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

def schema_version(db: sqlite3.Connection) -> int:
    """The store's schema version, ``PRAGMA user_version`` (0 for a new file)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])

def open_failure(path: Path, exc: sqlite3.Error) -> str:
    """The one-line message for an SQLite error while opening the store at ``path``."""
    hint = _OPEN_HINTS.get(getattr(exc, "sqlite_errorname", ""), _DEFAULT_OPEN_HINT)
    return f"cannot open the session store {path}: {exc}; {hint}"
