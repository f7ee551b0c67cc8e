"""The recorder: every pushed tick reaches the store, off the loop's thread, and survives a kill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rehabbot.errors import StorageError
from rehabbot.storage.recorder import Recorder
from rehabbot.storage.samples import Sample
from rehabbot.storage.store import SessionStore

N_JOINTS = 4


def new_session(path: Path) -> int:
    with SessionStore.open(path) as st:
        patient_id = st.ensure_patient("P-001")
        return st.create_session(patient_id, "standard_gait", "sim_exo", 0.001,
                                 [f"joint_{j}" for j in range(N_JOINTS)], {})


def push_ticks(recorder: Recorder, ticks: range) -> None:
    """Push ticks whose values are functions of the tick, through arrays reused every tick."""
    q, qd, tau, tau_cmd, q_ref = (np.empty(N_JOINTS) for _ in range(5))
    joints = np.arange(N_JOINTS)
    for tick in ticks:
        q[:] = tick + joints / 10
        qd[:] = -q
        tau[:] = q / 3
        tau_cmd[:] = q * 7
        q_ref[:] = q + 0.5
        recorder.push(Sample(tick, tick * 0.001, (tick % 1000) / 1000, tick % 2 == 0,
                             tick % 3 == 0, q, qd, tau, tau_cmd, q_ref))


def push_paced(recorder: Recorder, n_ticks: int, rate_hz: float) -> None:
    """Push ticks at ``rate_hz``, waiting by spinning: pure Python that never lets go of the GIL."""
    q = np.zeros(N_JOINTS)
    start = time.perf_counter()
    for tick in range(n_ticks):
        due = start + tick / rate_hz
        while time.perf_counter() < due:
            pass
        q[:] = tick
        recorder.push(Sample(tick, tick * 0.001, 0.0, False, False, q, q, q, q, q))


def stored_ticks(path: Path) -> int:
    """Ticks visible to a separate connection."""
    with sqlite3.connect(path) as db:
        (ticks,) = db.execute("SELECT coalesce(sum(n_ticks), 0) FROM sample_blocks").fetchone()
    return int(ticks)


def test_every_pushed_tick_is_stored_exactly(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    sid = new_session(path)
    recorder = Recorder(path, sid, N_JOINTS)
    recorder.start()
    push_ticks(recorder, range(10_000))
    recorder.stop()
    assert recorder.dropped == 0 and recorder.error is None
    with SessionStore.open(path) as st:
        s = st.load_samples(sid)
    tick = np.arange(10_000)
    q = tick[:, None] + np.arange(N_JOINTS) / 10
    np.testing.assert_array_equal(s.tick, tick)
    np.testing.assert_array_equal(s.t_s, tick * 0.001)
    np.testing.assert_array_equal(s.phase, (tick % 1000) / 1000)
    np.testing.assert_array_equal(s.contact, np.column_stack([tick % 2 == 0, tick % 3 == 0]))
    np.testing.assert_array_equal(s.q, q)
    np.testing.assert_array_equal(s.qd, -q)
    np.testing.assert_array_equal(s.tau, q / 3)
    np.testing.assert_array_equal(s.tau_cmd, q * 7)
    np.testing.assert_array_equal(s.q_ref, q + 0.5)


def test_samples_are_committed_while_recording(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    recorder = Recorder(path, new_session(path), N_JOINTS, commit_interval_s=0.05)
    recorder.start()
    try:
        push_ticks(recorder, range(100))
        time.sleep(0.3)
        assert stored_ticks(path) == 100
        push_ticks(recorder, range(100, 150))
        time.sleep(0.3)
        assert stored_ticks(path) == 150
    finally:
        recorder.stop()


def test_the_recorder_keeps_up_next_to_cpu_bound_python_threads(tmp_path: Path) -> None:
    """Regression: stored one SQL row per tick and joint, every row cost the writer the GIL.

    Each SQLite call gives up the GIL, and next to threads busy in pure Python the writer waits up
    to a switch interval (5 ms) to take it back: 1 kHz of ticks with 4 joints needed about 20000
    such round trips a second, the writer fell behind and a simulated session lost 2/3 of its
    samples. A block is now one row written by one statement, a few round trips a commit.
    """
    path = tmp_path / "store.sqlite"
    sid = new_session(path)
    recorder = Recorder(path, sid, N_JOINTS, capacity_ticks=10_000)
    recorder.start()
    done = threading.Event()

    def busy() -> None:  # stands in for the simulator, the console, ... of a real session
        while not done.is_set():
            pass

    others = [threading.Thread(target=busy) for _ in range(3)]
    for thread in others:
        thread.start()
    try:
        push_paced(recorder, 20_000, rate_hz=10_000.0)  # 20 s of 1 kHz ticks, 10 times as fast
    finally:
        done.set()
        for thread in others:
            thread.join()
        recorder.stop()
    assert recorder.dropped == 0
    with SessionStore.open(path) as st:
        np.testing.assert_array_equal(st.load_samples(sid).tick, np.arange(20_000))


def test_a_writer_error_is_kept_and_raised_by_stop(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    new_session(path)
    recorder = Recorder(path, 99, N_JOINTS, commit_interval_s=0.01)  # no session 99
    recorder.start()
    push_ticks(recorder, range(10))
    deadline = time.monotonic() + 5.0
    while recorder.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert isinstance(recorder.error, StorageError)
    push_ticks(recorder, range(10, 20))  # the loop carries on undisturbed
    with pytest.raises(StorageError, match="no session 99"):
        recorder.stop()


def test_a_store_that_cannot_be_opened_fails_start(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"not a database " * 100)
    recorder = Recorder(path, 1, N_JOINTS)
    with pytest.raises(StorageError, match=r"notes\.sqlite"):
        recorder.start()
    recorder.stop()  # nothing to flush, nothing raised twice


def test_a_full_buffer_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    sid = new_session(path)
    recorder = Recorder(path, sid, N_JOINTS, commit_interval_s=0.01, capacity_ticks=100)
    recorder.start()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer now waits for the store: it fell behind
    try:
        pusher = threading.Thread(target=push_ticks, args=(recorder, range(150)))
        pusher.start()
        pusher.join(timeout=3.0)
        assert not pusher.is_alive(), "push() blocked while the writer could not write"
        assert recorder.dropped == 50
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    recorder.stop()  # the writer gets the store back and stores what the ring held
    assert recorder.dropped == 50
    with SessionStore.open(path) as st:
        assert st.load_samples(sid).tick.tolist() == list(range(100))  # the newest were dropped


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from rehabbot.storage.recorder import Recorder
    from rehabbot.storage.samples import Sample

    store, session_id, start_file = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    recorder = Recorder(store, session_id, 4)
    recorder.start()
    q = np.zeros(4)
    start = time.time()
    start_file.with_suffix(".tmp").write_text(repr(start))
    start_file.with_suffix(".tmp").replace(start_file)
    tick = 0
    while True:
        delay = start + tick * 0.001 - time.time()
        if delay > 0:
            time.sleep(delay)
        q[:] = tick
        recorder.push(Sample(tick, time.time() - start, 0.0, False, False, q, q, q, q, q))
        tick += 1
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_killed_recorder_loses_at_most_the_last_100_ms(tmp_path: Path) -> None:
    path, start_file = tmp_path / "store.sqlite", tmp_path / "started"
    sid = new_session(path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(sid), str(start_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30.0
        while not start_file.exists():
            assert child.poll() is None, child.communicate()[1].decode()
            assert time.monotonic() < deadline, "the child did not start recording"
            time.sleep(0.01)
        started = float(start_file.read_text())
        time.sleep(max(0.0, started + 1.5 - time.time()))
        assert child.poll() is None, child.communicate()[1].decode()
        killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        out, _ = child.communicate()
    assert out == b""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        blobs = [r[0] for r in db.execute("SELECT tick FROM sample_blocks ORDER BY first_tick")]
        (last_t_s,) = db.execute("SELECT MAX(last_t_s) FROM sample_blocks").fetchone()
    ticks = np.concatenate([np.frombuffer(blob, "<i8") for blob in blobs])
    np.testing.assert_array_equal(ticks, np.arange(len(ticks)))  # nothing missing in between
    assert last_t_s >= (killed_at - started) - 0.100 - 0.050, (last_t_s, killed_at - started)
    with SessionStore.open(path) as st:  # the store opens and reads after the kill
        samples = st.load_samples(sid)
    np.testing.assert_array_equal(samples.tick, ticks)
    np.testing.assert_array_equal(samples.q, np.repeat(samples.tick[:, None], 4, axis=1))
