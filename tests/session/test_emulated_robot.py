"""The hardware path against the emulated robot in another process (``rehabbot sim serve``):
a whole session, bring-up refusals, zeroing, and an emulator that dies mid-session."""

from __future__ import annotations

import re
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from rehabbot.cli import app
from rehabbot.configfile import bundled_file
from rehabbot.errors import CommunicationError, ConfigurationError, SafetyError
from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.plant import PlantSettings
from rehabbot.session.plant_choice import open_plant
from rehabbot.session.runner import SessionRequest, SessionResult, SessionRunner
from rehabbot.session.zeroing import (
    ZERO_ACTION,
    read_angles,
    store_offsets,
    with_stored_offsets,
)
from rehabbot.sim.side_channel import CONTACT_SOURCE
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary
from tests.session.emulator import Run, emulated_robot, host_at_fifo, until_not_stalled


def emu_config(tmp_path: Path, change: dict[str, Any] | None = None,
               joint_change: dict[str, Any] | None = None) -> RobotConfig:
    """The bundled emu_exo, optionally changed (top-level tables merged; ``joint_change`` maps a
    joint name to fields), as the host would load it from its own file."""
    data = tomllib.loads(bundled_file("robots", "emu_exo.toml").read_text())
    for key, value in (change or {}).items():
        data[key] = data.get(key, {}) | value
    for joint in data["joints"]:
        joint.update((joint_change or {}).get(joint["name"], {}))
    path = tmp_path / "robot.toml"
    path.write_text(_toml(data))
    return load_robot_config(path)


def _toml(data: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        return f'"{v}"' if isinstance(v, str) else repr(v)

    lines = [f"{k} = {value(v)}" for k, v in data.items() if not isinstance(v, dict | list)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += [f"[{k}]"] + [f"{a} = {value(b)}" for a, b in v.items()]
        elif isinstance(v, list):
            for item in v:
                lines += [f"[[{k}]]"] + [f"{a} = {value(b)}" for a, b in item.items()]
    return "\n".join(lines) + "\n"


def run_session(robot: RobotConfig, store: Path, duration_s: float = 6.0) -> SessionResult:
    return SessionRunner(SessionRequest(robot, load_protocol(), store,
                                        duration_s=duration_s)).run()


def test_a_whole_session_runs_on_the_emulated_robot_through_the_hardware_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both processes at SCHED_FIFO, as a robot's host runs (tests/session/emulator.py): the
    session completes without a fault; a run that a measured stall faulted is run again."""
    assert host_at_fifo(monkeypatch).refused == []

    def run(attempt: int) -> Run:
        store = tmp_path / f"s{attempt}.sqlite"
        with emulated_robot(monkeypatch, fifo=True) as emulator:
            result = run_session(load_robot_config("emu_exo"), store)
            stats = emulator.stop()
        return Run.load(store, result, stats)

    done = until_not_stalled(run, None)
    result, summary, samples, stats = done.result, done.summary, done.samples, done.emulator
    assert result.status == "completed" and summary.faults == ()
    assert summary.plant == "emulated robot"
    assert summary.contact_source == CONTACT_SOURCE
    # the loop ran on the wall clock for the whole duration, reading the emulated drives
    assert samples.t_s[-1] >= 6.0
    assert result.extra["reply_latency_us"]["hip_flexion_r"]["count"] > 500
    # the emulator's physics ran while the drives were enabled, and the person's legs moved
    assert stats["steps"] > 0
    assert np.ptp(samples.q, axis=0).min() > 0.0
    # the torque was ramped in at the start and faded out to nothing at the end
    assert summary.ramp_in and summary.fade_out
    assert np.abs(samples.tau_cmd[-1]).max() == 0.0
    assert np.abs(samples.tau_cmd[-300:]).max(axis=1)[0] > np.abs(samples.tau_cmd[-2]).max()


def test_a_joint_outside_its_hard_limits_at_start_is_refused_before_torque(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a wrong zero stored for the right hip: it reads about 57 deg more than it is, which puts
    # the emulated person's standing hip (about 24 deg) past the 59.6 deg hard limit
    robot = load_robot_config("emu_exo")
    store = tmp_path / "s.sqlite"
    with SessionStore.open(store) as st:
        store_offsets(st, robot, {"hip_flexion_r": 1.0}, np.zeros(4), "engineer")
    with emulated_robot(monkeypatch) as emulator:
        with pytest.raises(SafetyError, match=r"joint hip_flexion_r is at 8\d\.\d deg, outside "
                                              r"hard limits \[-29\.8, 59\.6\] deg"):
            run_session(robot, store)
        stats = emulator.stop()
    with SessionStore.open(store) as st:
        (info,) = st.list_sessions()
        assert info.status == "aborted"
        assert "outside hard limits" in str((st.session_summary(info.id) or StoredSummary()).error)
        assert st.load_samples(info.id).t_s.size == 0  # the loop never ran
    # the drives were enabled at zero torque for the check only, then disabled again
    assert stats["steps"] < 500


def test_a_drive_that_does_not_answer_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no emulated drive has node id 9 on the left bus
    robot = emu_config(tmp_path, joint_change={"knee_angle_l": {"node_id": 9}})
    with emulated_robot(monkeypatch), pytest.raises(
            CommunicationError, match=r"no reply .* from joint\(s\) knee_angle_l \(rehabbot_local"):
        run_session(robot, tmp_path / "s.sqlite")


def test_a_bus_over_its_budget_is_refused_before_a_frame_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # two MIT joints per bus at 2 kHz: 108 % of a 1 Mbit/s bus
    robot = emu_config(tmp_path, change={"loop": {"rate_hz": 2000}})
    with emulated_robot(monkeypatch) as emulator:
        with pytest.raises(ConfigurationError, match=r"bus rehabbot_local:emu-exo-right would "
                                                     r"carry 108% .*limit 70%"):
            run_session(robot, tmp_path / "s.sqlite")
        stats = emulator.stop()
    assert stats["steps"] == 0  # no drive was ever enabled: the physics never ran


def test_a_robot_without_a_treadmill_interface_needs_the_operators_confirmation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the emulated robot's buses under another robot name: no side channel, so no treadmill
    # interface and no foot contacts: a plain robot
    robot = emu_config(tmp_path, change={})
    bare = robot.model_copy(update={"name": "bare-exo"})
    store = tmp_path / "s.sqlite"
    asked: list[str] = []
    with emulated_robot(monkeypatch):
        with pytest.raises(SafetyError, match="did not confirm the treadmill"):
            SessionRunner(SessionRequest(bare, load_protocol(), store, duration_s=2.0,
                                         confirm=lambda q: asked.append(q) or False)).run()
        result = SessionRunner(SessionRequest(bare, load_protocol(), store, duration_s=2.0,
                                              confirm=lambda q: asked.append(q) or True)).run()
    assert len(asked) == 2 and re.search(r"set the treadmill to [\d.]+ km/h", asked[0])
    with SessionStore.open(store) as st:
        summary = st.session_summary(result.session_id)
    assert summary is not None and summary.plant == "hardware"
    assert summary.contact_source is None


def test_zeroing_stores_audited_offsets_that_sessions_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "s.sqlite"
    cli = CliRunner()
    with emulated_robot(monkeypatch):
        refused = cli.invoke(app, ["robot", "zero", "emu_exo", "knee_angle_r", "--store",
                                   str(store)], input="n\n")
        assert refused.exit_code == 1
        with SessionStore.open(store) as st:
            assert PatientRecords(st).audit_log() == []
        done = cli.invoke(app, ["robot", "zero", "emu_exo", "knee_angle_r", "--yes", "--store",
                                str(store), "--operator", "engineer"])
        assert done.exit_code == 0, done.output
        with SessionStore.open(store) as st:
            (entry,) = PatientRecords(st).audit_log()
            config, offsets = with_stored_offsets(st, load_robot_config("emu_exo"))
        settings = PlantSettings(1.75, 75.0, 0.0, 0.3, 90.0)
        angles = read_angles(open_plant(config, settings))
    assert entry.action == ZERO_ACTION and entry.operator == "engineer"
    assert entry.detail["robot"] == "emu-exo" and entry.detail["joint"] == "knee_angle_r"
    assert entry.detail["previous_rad"] == 0.0
    # the person's knee stood bent: the offset is minus that reading, and now it reads about 0
    assert offsets == {"knee_angle_r": pytest.approx(-entry.detail["reading_rad"])}
    assert entry.detail["reading_rad"] > 0.02
    # read again with the new offset: 0 (the drives stay disabled while zeroing and reading, and
    # the emulated robot's physics holds still while no drive is enabled, however long it takes)
    assert abs(angles[config.joint_names.index("knee_angle_r")]) < 1e-6
    # the other joints were left alone
    hip = config.joint_names.index("hip_flexion_r")
    assert abs(angles[hip]) > 0.1


def test_unknown_joint_to_zero_is_refused_with_the_robots_joints(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["robot", "zero", "emu_exo", "elbow", "--yes", "--store",
                                    str(tmp_path / "s.sqlite")])
    assert done.exit_code != 0
    assert "has no joint 'elbow'" in str(done.exception)


def test_a_killed_emulator_ends_the_session_with_a_stale_feedback_fault_and_it_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "s.sqlite"
    runner = SessionRunner(SessionRequest(load_robot_config("emu_exo"), load_protocol(), store,
                                          duration_s=60.0))
    results: list[SessionResult] = []
    with emulated_robot(monkeypatch) as emulator:
        thread = threading.Thread(target=lambda: results.append(runner.run()))
        thread.start()
        deadline = time.monotonic() + 120.0
        while runner.loop is None or runner.loop.clock.ticks < 1000:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        emulator.kill()
        thread.join(timeout=120.0)
    (result,) = results
    assert result.status == "faulted"
    kinds = {fault.kind.value for fault in result.loop.faults}
    assert "stale_feedback" in kinds, result.loop.faults
    with SessionStore.open(store) as st:
        info = st.get_session(result.session_id)
        summary = st.session_summary(result.session_id)
        samples = st.load_samples(result.session_id)
    assert info.status == "faulted"
    assert summary is not None and any("stale_feedback" in f for f in summary.faults)
    assert samples.t_s.size >= 1000
