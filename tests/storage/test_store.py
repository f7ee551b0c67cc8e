"""The SQLite session store: file, schema, patients, sessions and exact sample round trips."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from rehabbot.errors import StorageError
from rehabbot.storage.samples import SampleBlock
from rehabbot.storage.schema import SCHEMA_VERSION
from rehabbot.storage.store import SessionStore, default_store_path

JOINTS = ["hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    with SessionStore.open(tmp_path / "store.sqlite") as st:
        yield st


def new_session(st: SessionStore, n_joints: int = len(JOINTS)) -> int:
    patient_id = st.ensure_patient("P-001")
    return st.create_session(patient_id, "standard_gait", "sim_exo", 0.001,
                             JOINTS[:n_joints], {})


def random_block(first_tick: int, n: int, n_joints: int, seed: int) -> SampleBlock:
    """A block with values that need every bit of a double, and IEEE specials (±inf, NaNs with
    payloads, −0.0)."""
    rng = np.random.default_rng(seed)

    def values() -> np.ndarray:
        a = rng.normal(scale=10.0, size=(n, n_joints)) * 10.0 ** rng.integers(-300, 300, (n, 1))
        a[0, 0], a[-1, -1] = np.nextafter(1.0, 2.0), 3.0
        return a

    block = SampleBlock(
        tick=np.arange(first_tick, first_tick + n, dtype=np.int64),
        t_s=(np.arange(first_tick, first_tick + n) * 0.001) + rng.uniform(0, 1e-6, n),
        phase=rng.random(n),
        contact=rng.random((n, 2)) > 0.5,
        q=values(), qd=values(), tau=values(), tau_cmd=values(), q_ref=values(),
    )
    block.qd[-1, 1] = np.inf
    block.tau[0, 2] = -np.inf
    block.q_ref[0, 1] = np.nan
    block.q_ref[-1, 0] = np.array(0x7FF8_0000_DEAD_BEEF, dtype=np.uint64).view(np.float64)
    block.tau_cmd[0, 0] = -0.0
    return block


def bits(a: np.ndarray) -> np.ndarray:
    """The bytes of an array, to compare NaN payloads and the sign of zero too."""
    return np.frombuffer(np.ascontiguousarray(a).tobytes(), np.uint8)


def test_a_new_store_is_owner_only_in_wal_mode_with_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "store.sqlite"
    old_umask = os.umask(0o022)  # sqlite alone would create the file 0o644 under this umask
    try:
        st = SessionStore.open(path)
    finally:
        os.umask(old_umask)
    with st:
        new_session(st)  # writes, so that the WAL file exists
        assert (path.stat().st_mode & 0o777) == 0o600
        assert (Path(f"{path}-wal").stat().st_mode & 0o777) == 0o600
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            columns = [r[1] for r in db.execute("PRAGMA table_info(sample_blocks)")]
    assert tables == {"patients", "sessions", "session_parameters", "sample_blocks", "events",
                      "fittings", "consents", "outcomes", "exports", "audit_log", "installation",
                      "export_intents", "export_folders", "simulation_truth", "sqlite_sequence"}
    assert columns == ["session_id", "first_tick", "last_tick", "n_ticks", "first_t_s",
                       "last_t_s", "tick", "t_s", "phase", "contact", "q", "qd", "tau", "tau_cmd",
                       "q_ref"]
    with SessionStore.open(path) as again:  # reopening keeps the data
        assert [s.id for s in again.list_sessions()] == [1]


def test_foreign_keys_are_enforced(store: SessionStore) -> None:
    with pytest.raises(StorageError, match="FOREIGN KEY"):
        store.create_session(42, "standard_gait", "sim_exo", 0.001, JOINTS, {})


def test_default_store_path_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHABBOT_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("REHABBOT_STORE")
    assert default_store_path().parts[-2:] == ("rehabbot", "sessions.sqlite")


def test_patients_round_trip_and_ensure_keeps_the_first_details(store: SessionStore) -> None:
    first = store.ensure_patient("P-001", "Ada", 1.68, 61.5)
    assert store.ensure_patient("P-001", "Other", 2.0, 99.0) == first
    second = store.ensure_patient("P-002")
    patient = store.get_patient("P-001")
    assert (patient.id, patient.code, patient.display_name, patient.height_m,
            patient.mass_kg) == (first, "P-001", "Ada", 1.68, 61.5)
    assert store.get_patient(first) == patient
    datetime.fromisoformat(patient.created_at)
    assert [p.id for p in store.list_patients()] == [first, second]
    assert store.get_patient(second).height_m is None
    with pytest.raises(StorageError, match="no patient 'P-404'"):
        store.get_patient("P-404")


def test_sessions_round_trip_parameters_status_summary_and_events(store: SessionStore) -> None:
    ada, bob = store.ensure_patient("P-001"), store.ensure_patient("P-002")
    parameters = {"guidance_pct": 80.0, "protocol": {"name": "standard_gait", "joints": [1, 2]},
                  "seed": np.int64(7), "stiffness": np.array([10.0, 20.0])}
    before = time.time()
    sid = store.create_session(ada, "standard_gait", "sim_exo", 0.001, JOINTS, parameters)
    other = store.create_session(bob, "stairs", "sim_exo", 0.002, JOINTS[:2], {})
    info = store.get_session(sid)
    assert (info.id, info.patient_code, info.protocol_name, info.robot_name, info.status,
            info.period_s, info.joint_names, info.n_ticks, info.duration_s, info.ended_at) == (
        sid, "P-001", "standard_gait", "sim_exo", "running", 0.001, tuple(JOINTS), 0, 0.0, None)
    started = datetime.fromisoformat(info.started_at)
    assert started.utcoffset() is not None and started.utcoffset().total_seconds() == 0
    assert abs(started.timestamp() - before) <= 1.0
    assert store.session_parameters(sid) == {
        "guidance_pct": 80.0, "protocol": {"name": "standard_gait", "joints": [1, 2]},
        "seed": 7, "stiffness": [10.0, 20.0]}
    assert store.session_summary(sid) is None

    store.write_block(sid, random_block(0, 250, len(JOINTS), seed=1))
    event_id = store.add_event(sid, 0.12, "fault:position_limit", "knee_angle_r",
                               {"value": 2.1, "limit": 2.0})
    store.finish_session(sid, "faulted", {"cadence_steps_per_min": 90.5, "rom": math.nan})
    info = store.get_session(sid)
    assert info.status == "faulted" and info.ended_at is not None
    assert info.n_ticks == 250
    assert info.duration_s == pytest.approx(0.250, abs=2e-6)
    summary = store.session_summary(sid)
    assert summary is not None and summary.cadence_steps_per_min == 90.5
    assert math.isnan(summary.as_dict()["rom"])  # a key the type does not name is kept
    with sqlite3.connect(store.path) as db:
        row = db.execute("SELECT session_id, t_s, kind, joint, detail FROM events WHERE id = ?",
                         (event_id,)).fetchone()
    assert row[:4] == (sid, 0.12, "fault:position_limit", "knee_angle_r")
    assert json.loads(row[4]) == {"value": 2.1, "limit": 2.0}

    assert [s.id for s in store.list_sessions()] == [sid, other]
    assert [s.id for s in store.list_sessions(bob)] == [other]
    with pytest.raises(StorageError, match="status 'running'"):
        store.finish_session(other, "running", {})
    with pytest.raises(StorageError, match=r"no session 99; `rehabbot sessions list` shows"):
        store.get_session(99)
    for call in (store.session_parameters, store.session_summary, store.load_samples):
        with pytest.raises(StorageError, match="no session 99"):
            call(99)


def test_write_block_then_load_samples_gives_back_every_bit(store: SessionStore) -> None:
    sid = new_session(store)
    blocks = [random_block(0, 300, len(JOINTS), seed=2), random_block(300, 1, len(JOINTS), 3),
              random_block(301, 700, len(JOINTS), seed=4)]
    blocks[2].tick[350:] += 5  # ticks the recorder dropped leave a gap inside a block
    for block in (blocks[1], blocks[2], blocks[0]):  # blocks may arrive out of order
        store.write_block(sid, block)
    samples = store.load_samples(sid)
    assert samples.joint_names == tuple(JOINTS)
    assert samples.q.shape == (1001, len(JOINTS)) and samples.contact.shape == (1001, 2)
    assert samples.contact.dtype == np.bool_ and samples.tick.dtype == np.int64
    assert samples.q.dtype == np.float64 and samples.q.flags.c_contiguous
    for name in ("tick", "t_s", "phase", "contact", "q", "qd", "tau", "tau_cmd", "q_ref"):
        expected = np.concatenate([getattr(b, name) for b in blocks])
        np.testing.assert_array_equal(bits(getattr(samples, name)), bits(expected), err_msg=name)
    info = store.get_session(sid)
    assert info.n_ticks == 1001
    assert info.duration_s == blocks[2].t_s[-1] - blocks[0].t_s[0] + 0.001


def test_walking_samples_leave_out_the_assessment_battery_around_the_walk(
        store: SessionStore) -> None:
    sid = new_session(store)
    store.write_block(sid, random_block(0, 1000, len(JOINTS), seed=5))
    assert store.walking_ticks(sid) is None  # not finished: every tick is the walk's
    assert len(store.load_walking_samples(sid)) == 1000
    # a battery ran over ticks 0..299 and after 800; the walk recorded 300..799
    store.finish_session(sid, "completed", {"walking_ticks": [300, 800]})
    assert store.walking_ticks(sid) == (300, 800)
    walking, every = store.load_walking_samples(sid), store.load_samples(sid)
    np.testing.assert_array_equal(walking.tick, np.arange(300, 800))
    for name in ("t_s", "phase", "contact", "q", "qd", "tau", "tau_cmd", "q_ref"):
        np.testing.assert_array_equal(bits(getattr(walking, name)),
                                      bits(getattr(every, name)[300:800]), err_msg=name)
    assert walking.joint_names == tuple(JOINTS)


def test_a_block_is_one_row_written_by_one_statement(store: SessionStore) -> None:
    sid = new_session(store)
    store.write_block(sid, random_block(0, 10, len(JOINTS), seed=5))  # reads the joint count
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    for first, n in ((10, 1), (11, 100), (111, 10_000)):
        store.write_block(sid, random_block(first, n, len(JOINTS), seed=n))
    store._db.set_trace_callback(None)
    assert [s.split()[0] for s in statements] == ["INSERT"] * 3
    with sqlite3.connect(store.path) as db:
        rows = db.execute("SELECT first_tick, last_tick, n_ticks, length(tick), length(contact), "
                          "length(q) FROM sample_blocks ORDER BY first_tick").fetchall()
    assert rows == [(0, 9, 10, 80, 20, 320), (10, 10, 1, 8, 2, 32), (11, 110, 100, 800, 200, 3200),
                    (111, 10_110, 10_000, 80_000, 20_000, 320_000)]


def test_overlapping_tick_ranges_are_refused_and_nothing_is_kept(store: SessionStore) -> None:
    sid = new_session(store)
    store.write_block(sid, random_block(10, 10, len(JOINTS), seed=5))  # ticks 10..19
    store.write_block(sid, random_block(30, 10, len(JOINTS), seed=6))  # ticks 30..39
    for first, n in ((15, 10), (5, 6), (0, 50), (12, 2), (19, 1), (25, 10), (39, 5)):
        with pytest.raises(StorageError) as caught:
            store.write_block(sid, random_block(first, n, len(JOINTS), seed=7))
        assert str(caught.value) == (
            f"ticks {first}..{first + n - 1} overlap ticks already stored for session {sid}, "
            "and a tick can be stored only once")
    store.write_block(sid, random_block(20, 10, len(JOINTS), seed=8))  # the gap fits exactly
    assert store.load_samples(sid).tick.tolist() == list(range(10, 40))
    assert store.get_session(sid).n_ticks == 30


def test_blocks_of_the_wrong_shape_or_order_are_refused(store: SessionStore) -> None:
    sid = new_session(store)
    with pytest.raises(StorageError, match="block of 3 joints for session 1, which has 4"):
        store.write_block(sid, random_block(0, 5, 3, seed=7))
    backwards = random_block(0, 5, len(JOINTS), seed=8)
    backwards.tick[:] = [0, 1, 3, 2, 4]
    with pytest.raises(StorageError, match="ticks of a block for session 1 are not strictly"):
        store.write_block(sid, backwards)
    with pytest.raises(StorageError, match="no session 99"):
        store.write_block(99, random_block(0, 5, len(JOINTS), seed=9))
    assert store.get_session(sid).n_ticks == 0


@pytest.mark.parametrize("column", ["tick", "contact", "q", "q_ref"])
def test_a_truncated_blob_is_reported_naming_the_session_and_block(
    store: SessionStore, column: str
) -> None:
    sid = new_session(store)
    store.write_block(sid, random_block(0, 10, len(JOINTS), seed=5))
    store.write_block(sid, random_block(10, 20, len(JOINTS), seed=6))
    with sqlite3.connect(store.path) as db:
        db.execute(f"UPDATE sample_blocks SET {column} = substr({column}, 1, length({column}) - 1) "
                   "WHERE first_tick = 10")
    with pytest.raises(StorageError) as caught:
        store.load_samples(sid)
    assert str(caught.value).startswith(
        f"session {sid}, block of ticks 10..29: {column} is not the ")
    assert "damaged or modified outside rehabbot" in str(caught.value)


def test_blocks_whose_ticks_contradict_their_range_are_reported(store: SessionStore) -> None:
    sid = new_session(store)
    store.write_block(sid, random_block(0, 10, len(JOINTS), seed=5))
    store.write_block(sid, random_block(10, 10, len(JOINTS), seed=6))
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE sample_blocks SET last_tick = 12 WHERE first_tick = 0")
    with pytest.raises(StorageError, match=r"block of ticks 0\.\.12: its ticks do not match"):
        store.load_samples(sid)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE sample_blocks SET last_tick = 9 WHERE first_tick = 0")
        db.execute("UPDATE sample_blocks SET first_tick = 9 WHERE first_tick = 10")
    with pytest.raises(StorageError, match=r"block of ticks 9\.\.19 overlaps the block before"):
        store.load_samples(sid)


def test_samples_of_a_session_without_ticks_are_empty(store: SessionStore) -> None:
    samples = store.load_samples(new_session(store))
    assert samples.t_s.shape == (0,) and samples.q.shape == (0, len(JOINTS))


def test_a_file_that_is_not_a_database_gives_one_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StorageError) as caught:
        SessionStore.open(path)
    assert str(path) in str(caught.value)
    assert "not a rehabbot session store" in str(caught.value)


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    with pytest.raises(StorageError, match="not a rehabbot session store"):
        SessionStore.open(path)
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["photos"]


def test_a_store_from_a_newer_rehabbot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    SessionStore.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer") as caught:
        SessionStore.open(path)
    assert str(path) in str(caught.value) and "upgrade rehabbot" in str(caught.value)


def test_a_store_of_an_older_schema_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:  # the per-tick layout of schema version 1
        db.execute("CREATE TABLE ticks (session_id INTEGER, tick INTEGER, t_s REAL)")
        db.execute("PRAGMA user_version = 1")
    with pytest.raises(StorageError) as caught:
        SessionStore.open(path)
    message = str(caught.value)
    assert str(path) in message and "schema version 1" in message
    assert "move the file away" in message and "--store" in message


def test_a_store_that_cannot_be_created_gives_one_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StorageError) as caught:
        SessionStore.open(blocker / "store.sqlite")
    assert str(blocker / "store.sqlite") in str(caught.value)


def test_a_transaction_commits_its_block_or_rolls_all_of_it_back(store: SessionStore) -> None:
    sid = new_session(store)
    with store.transaction("renaming a protocol", write=True) as db:
        db.execute("UPDATE sessions SET protocol_name = 'first' WHERE id = ?", (sid,))
    with pytest.raises(StorageError, match="renaming twice failed in session store"), \
            store.transaction("renaming twice", write=True) as db:
        db.execute("UPDATE sessions SET protocol_name = 'second' WHERE id = ?", (sid,))
        db.execute("UPDATE no_such_table SET x = 1")
    assert store.get_session(sid).protocol_name == "first"
    with pytest.raises(StorageError, match="no session 999"), store.transaction("reading") as db:
        store.session_row(db, 999, "id")


def test_a_summary_stored_by_an_older_version_loads_with_its_own_keys(
        store: SessionStore) -> None:
    sid = new_session(store)
    old = {"duration_s": 12.0, "strides_right": 8, "strides_left": 7,  # no step count yet
           "joints": [{"name": "knee_angle_r", "rom_deg": 55.0, "rms_error_deg": 1.5,
                       "peak_torque_nm": 20.0}], "faults": ["knee_angle_r: position limit"],
           "param_changes": [[120, {"guidance_pct": 60.0}]], "retired_key": {"x": 1}}
    with sqlite3.connect(store.path) as db:  # as that version wrote it: JSON text, no checks
        db.execute("UPDATE sessions SET status = 'completed', summary = ? WHERE id = ?",
                   (json.dumps(old), sid))
    summary = store.session_summary(sid)
    assert summary is not None and summary.ran and summary.step_count is None
    assert (summary.strides_right, summary.joints[0].rom_deg) == (8, 55.0)
    assert summary.param_changes == ((120, {"guidance_pct": 60.0}),)
    assert summary.walking_ticks is None and store.walking_ticks(sid) is None
    assert json.loads(json.dumps(summary.as_dict())) == old  # nothing added, nothing lost


def test_a_summary_of_the_wrong_shape_is_refused_on_write_and_named_on_read(
        store: SessionStore) -> None:
    sid = new_session(store)
    with pytest.raises(StorageError, match=r"walking_ticks"):
        store.finish_session(sid, "completed", {"walking_ticks": "all of them"})
    assert store.session_summary(sid) is None  # nothing stored
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE sessions SET summary = ? WHERE id = ?",
                   (json.dumps({"faults": 3}), sid))
    with pytest.raises(StorageError, match=r"faults.*modified outside rehabbot"):
        store.session_summary(sid)
