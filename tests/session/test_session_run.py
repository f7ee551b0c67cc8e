"""Whole simulated sessions, end to end through the CAN path, the store and the CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.runtime.clock import LockstepClock
from rehabbot.session.plant import Plant, PlantSettings
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.session.sim_plant import simulated_plant
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary
from tests.conftest import simulate

CADENCE = 90.0  # the bundled standard_gait protocol's




@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    store = tmp_path_factory.mktemp("walk") / "store.sqlite"
    return store, simulate(store, duration_s=12.0)


def test_full_guidance_walks_at_the_protocol_cadence_with_normal_ranges(
    walked: tuple[Path, int],
) -> None:
    store, session_id = walked
    with SessionStore.open(store) as st:
        info = st.get_session(session_id)
        summary = st.session_summary(session_id)
        samples = st.load_samples(session_id)
    assert info.status == "completed"
    # 12 s of walking, then the torque fades out (0.5 s) and the loop stops on the next tick
    assert samples.t_s.size == 12_000 + 500 + 1
    np.testing.assert_allclose(samples.tau_cmd[-1], 0.0, atol=1e-9)
    assert summary.strides_right >= 6 and summary.strides_left >= 6
    assert summary.cadence_steps_per_min == pytest.approx(CADENCE, rel=0.02)
    rom = {j.name: j.rom_deg for j in summary.joints}
    for side in ("r", "l"):
        assert 35 <= rom[f"hip_flexion_{side}"] <= 50, rom
        assert 50 <= rom[f"knee_angle_{side}"] <= 70, rom
    # stance and swing come from contact: each foot is on the belt 50-75 % of the time
    stance = samples.contact[2000:].mean(axis=0)
    assert np.all((stance > 0.5) & (stance < 0.75)), stance
    assert summary.faults == ()


def test_same_seed_gives_identical_recordings(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    first, second = simulate(store, 1.5, seed=7), simulate(store, 1.5, seed=7)
    with SessionStore.open(store) as st:
        a, b = st.load_samples(first), st.load_samples(second)
    assert a.t_s.size == 1500 + 500 + 1  # walking, then the fade-out and one tick
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.tau, b.tau)
    np.testing.assert_array_equal(a.contact, b.contact)


def test_lower_guidance_tracks_the_reference_less_closely(tmp_path: Path) -> None:
    # a weak patient (incomplete SCI) follows the pattern only as far as the robot guides
    store = tmp_path / "guidance.sqlite"
    full = simulate(store, duration_s=6.0, guidance_pct=100.0, profile="sci_incomplete")
    low = simulate(store, duration_s=6.0, guidance_pct=60.0, profile="sci_incomplete")
    with SessionStore.open(store) as st:
        full_err = [j.rms_error_deg for j in (st.session_summary(full) or StoredSummary()).joints]
        low_err = [j.rms_error_deg for j in (st.session_summary(low) or StoredSummary()).joints]
    assert all(lo > hi for lo, hi in zip(low_err, full_err, strict=True)), (low_err, full_err)


def rehabbot(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rehabbot", *args, "--store", str(store)],
        capture_output=True, text=True, check=False, timeout=120,
    )


def test_cli_runs_a_session_then_lists_and_shows_it(tmp_path: Path) -> None:
    store = tmp_path / "cli.sqlite"
    result = rehabbot("session", "run", "--duration", "3", store=store)
    assert result.returncode == 0, result.stderr
    for text in ("cadence", "steps/min", "hip_flexion_r", "ROM", "RMS error", "peak torque",
                 "p99", "completed"):
        assert text in result.stdout
    listed = rehabbot("sessions", "list", store=store)
    assert "DEMO-001" in listed.stdout and "standard_gait" in listed.stdout
    shown = rehabbot("sessions", "show", "1", "--json", store=store)
    data = json.loads(shown.stdout)
    assert data["status"] == "completed"
    assert data["summary"]["duration_s"] == pytest.approx(3.0 + 0.5 + 0.001)  # and the fade
    assert (store.stat().st_mode & 0o777) == 0o600


def test_cli_reports_bad_input_in_one_line_with_exit_status_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntitle = "x"\nguidance_pct = 300\n')
    result = rehabbot("session", "run", "--protocol", str(bad), store=tmp_path / "s.sqlite")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "guidance_pct" in result.stderr
    assert "Traceback" not in result.stderr
    no_store = rehabbot("sessions", "show", "42", store=tmp_path / "s.sqlite")
    assert no_store.returncode == 2 and "no session store at" in no_store.stderr
    assert not (tmp_path / "s.sqlite").exists()  # a command that reads never creates one
    SessionStore.open(tmp_path / "s.sqlite").close()
    missing = rehabbot("sessions", "show", "42", store=tmp_path / "s.sqlite")
    assert missing.returncode == 2 and "no session 42" in missing.stderr


def last_tick(store: Path) -> tuple[int, float] | None:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1.0) as db:
            row = db.execute("SELECT last_tick, last_t_s FROM sample_blocks "
                             "ORDER BY first_tick DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else (int(row[0]), float(row[1]))


#: Commits of the recorder the SIGKILL test sees land in the store before it kills the session.
COMMITS_BEFORE_KILL = 5


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_leaves_a_store_holding_every_tick_up_to_the_last_commit(tmp_path: Path) -> None:
    """A session paced to the wall clock is killed right after the store shows a new commit of
    its recorder; the store opens intact and holds every tick from 0 up to at least that commit,
    none missing in between, none torn.

    The reference is the store's own commits, not the wall clock: how far behind the wall clock
    the last commit lies depends on the machine's load (docs/storage.md, "What a crash loses",
    gives the measured figures)."""
    store = tmp_path / "kill.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-m", "rehabbot", "session", "run", "--duration", "60", "--realtime",
         "--json", "--store", str(store)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    commits: list[int] = []  # the last tick of each new commit seen, in order
    deadline = time.monotonic() + 120
    while len(commits) < COMMITS_BEFORE_KILL:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert time.monotonic() < deadline, f"the session committed only {commits}"
        seen = last_tick(store)
        if seen is not None and (not commits or seen[0] > commits[-1]):
            commits.append(seen[0])
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        blobs = [r[0] for r in db.execute("SELECT tick FROM sample_blocks ORDER BY first_tick")]
        n_joint_values = db.execute("SELECT SUM(length(q)) / 8 FROM sample_blocks").fetchone()[0]
    ticks = np.concatenate([np.frombuffer(blob, "<i8") for blob in blobs]).tolist()
    assert ticks == list(range(len(ticks)))  # nothing missing in between
    assert ticks[-1] >= commits[-1]  # every commit made before the kill survived it
    assert len(blobs) >= COMMITS_BEFORE_KILL  # written in blocks while the session ran
    assert n_joint_values == 4 * len(ticks)  # no block torn


@pytest.mark.parametrize(("name", "profile"), [
    ("assist_as_needed", "healthy"),
    # walking inside a tunnel or with a transparent robot needs a patient who walks alone
    ("path_control", "athletic"),
    ("transparent_walk", "athletic"),
])
def test_every_bundled_protocol_runs_its_controller_through_a_session(
    name: str, profile: str, tmp_path: Path
) -> None:
    protocol = load_protocol(name)
    request = SessionRequest(robot=load_robot_config(), protocol=protocol,
                             store_path=tmp_path / "s.sqlite", duration_s=4.0, profile=profile)
    result = SessionRunner(request).run()
    assert result.status == "completed", [f.describe() for f in result.loop.faults]
    with SessionStore.open(tmp_path / "s.sqlite") as st:
        stored = st.session_parameters(result.session_id)
    assert stored["protocol"]["controller"] == protocol.controller
    assert result.summary.step_count >= 3  # complete strides of both sides in 4 s


def test_an_unknown_patient_profile_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    request = SessionRequest(robot=load_robot_config(), protocol=load_protocol(),
                             store_path=tmp_path / "s.sqlite", profile="nobody")
    with pytest.raises(ConfigurationError, match=r"'nobody'.*healthy.*stroke_left"):
        SessionRunner(request)
    assert not (tmp_path / "s.sqlite").exists()


def test_a_session_that_cannot_start_ends_aborted_with_its_error(tmp_path: Path) -> None:
    # the patient's range of motion reaches beyond the robot's hard hip limit (-0.52 rad)
    text = bundled_file("protocols", "standard_gait.toml").read_text()
    (tmp_path / "p.toml").write_text(text.replace("hip_flexion = [-25, 50]",
                                                  "hip_flexion = [-40, 50]"))
    protocol = load_protocol(tmp_path / "p.toml")
    store = tmp_path / "s.sqlite"
    request = SessionRequest(robot=load_robot_config(), protocol=protocol, store_path=store,
                             duration_s=2.0)
    with pytest.raises(ConfigurationError, match="hip_flexion"):
        SessionRunner(request).run()
    with SessionStore.open(store) as st:
        (info,) = st.list_sessions()
        summary = st.session_summary(info.id)
    assert info.status == "aborted"
    assert summary is not None and "hip_flexion" in str(summary.error)
    shown = rehabbot("sessions", "show", str(info.id), store=store)
    assert shown.returncode == 0
    assert "ended by an error before it ran" in " ".join(shown.stdout.split())  # rich wraps lines


def _slow_physics_step(step: Callable[[], None]) -> None:
    time.sleep(0.06)  # a stall inside the simulator's step, six times the watch's threshold
    step()


def test_a_stall_inside_the_simulator_is_stored_as_an_event_naming_it(tmp_path: Path) -> None:
    def plant(config: RobotConfig, settings: PlantSettings) -> Plant:
        opened = simulated_plant(config, settings)
        clock = opened.clock
        assert isinstance(clock, LockstepClock)
        step, steps = clock.step, [0]

        def stepping() -> None:
            steps[0] += 1
            if steps[0] == 700:
                _slow_physics_step(step)
            else:
                step()

        clock.step = stepping
        return opened

    store = tmp_path / "s.sqlite"
    session_id = simulate(store, 1.0, plant=plant)
    with SessionStore.open(store) as st:
        stalls = [e for e in st.list_events(session_id) if e["kind"] == "loop_stall"]
        summary = st.session_summary(session_id)
    assert summary is not None and summary.loop_timing is not None
    assert summary.loop_timing["stalls"] == len(stalls)
    (stall,) = [e for e in stalls if e["detail"]["function"] == "_slow_physics_step"]
    assert "wait_next_tick (rehabbot/runtime/clock.py" in stall["detail"]["stack"]


def _pause_in_read(read: Callable[[], object]) -> object:
    time.sleep(0.04)  # four times the watch's 10 ms threshold (a command_deadline fault too)
    return read()


def test_a_stall_is_dated_on_the_loop_s_clock_like_the_samples_and_faults(tmp_path: Path) -> None:
    # on the wall clock a stall skips ticks: a later stall's event must carry the loop time of
    # its tick (what its samples and any fault say), not the count of ticks run times the period
    def plant(config: RobotConfig, settings: PlantSettings) -> Plant:
        opened = simulated_plant(config, settings)
        read, reads = opened.robot.read, [0]

        def reading() -> object:
            reads[0] += 1
            return _pause_in_read(read) if reads[0] in (300, 600) else read()

        opened.robot.read = reading  # type: ignore[method-assign]
        return opened

    store = tmp_path / "s.sqlite"
    session_id = simulate(store, 1.0, plant=plant, realtime=True)
    with SessionStore.open(store) as st:
        stalls = [e for e in st.list_events(session_id) if e["kind"] == "loop_stall"
                  and e["detail"]["function"] == "_pause_in_read"]
        samples = st.load_samples(session_id)
    assert len(stalls) == 2
    for stall in stalls:
        tick = int(stall["detail"]["tick"])
        assert stall["t_s"] == pytest.approx(float(samples.t_s[samples.tick == tick][0]))
    later = stalls[1]
    assert later["t_s"] >= int(later["detail"]["tick"]) * 0.001 + 0.030  # the first one's skip
