"""The robot assessment battery through the hardware path, against the emulated robot in another
process (``rehabbot sim serve``): the procedures' commands and the simulated person's
instructions cross the process boundary; E-STOP during an assessment turns the torque off within
a tick and the rest of the battery is skipped and recorded."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rehabbot.hal.config import RobotConfig
from rehabbot.session.runner import SessionRequest, SessionResult, SessionRunner
from rehabbot.sim.patient import PatientModel
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.sim.world import JOINT_NAMES
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary
from tests.session.battery_protocol import battery_protocol
from tests.session.emulator import emulated_robot
from tests.session.test_emulated_robot import emu_config, stall_faults_only

KNEE = "knee_angle_l"
PATIENT = PatientModel(JOINT_NAMES, PROFILES["stroke_left"], 75.0, 90.0, seed=0)


def tolerant_robot(tmp_path: Path) -> RobotConfig:
    """emu_exo with the longest command deadline its 50 ms drive watchdogs allow: fewer stalls of
    this shared computer end the battery before what a test is about happens."""
    return emu_config(tmp_path, change={"loop": {"command_deadline_s": 0.045}})


def stored(store: Path, result: SessionResult) -> tuple[StoredSummary, SessionSamples]:
    with SessionStore.open(store) as st:
        summary = st.session_summary(result.session_id)
        assert summary is not None
        return summary, st.load_samples(result.session_id)


def test_the_battery_runs_on_the_emulated_robot_through_the_hardware_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On an idle computer every assessment completes; on a shared one a stall of either process
    may end the battery, which is then recorded: the only way it may fall short."""
    store = tmp_path / "s.sqlite"
    protocol = battery_protocol(tmp_path, ("passive_rom", "isometric"))
    with emulated_robot(monkeypatch, "--profile", "stroke_left") as emulator:
        result = SessionRunner(SessionRequest(tolerant_robot(tmp_path), protocol, store)).run()
        stats = emulator.stop()
    summary, samples = stored(store, result)
    assert summary.plant == "emulated robot"
    assert stats["steps"] > 0  # the emulator's physics ran while the drives were enabled
    passive, isometric = (summary.assessments[n] for n in ("passive_rom", "isometric"))
    if passive["status"] != "done" or isometric["status"] != "done":
        # a stall ended the battery: what was left is recorded, naming the fault
        assert result.status == "faulted" and stall_faults_only(result.loop.faults), summary
        first = result.loop.faults[0].kind.value
        assert isometric["status"] in ("interrupted", "skipped")
        assert isometric["reason"].startswith(first)
        assert summary.walking_ticks == (0, 0)  # and nothing walked
        return
    assert passive["status"] == isometric["status"] == "done", summary
    assert stats["steps"] > 20_000  # the battery ran on the emulator's wall clock
    (rom,) = passive["rows"]
    true_flexion = math.degrees(PATIENT.passive_limit_rad(KNEE, "flexion", 10.0))
    assert rom["flexion_deg"] == pytest.approx(true_flexion, abs=3.0)
    (force,) = isometric["rows"]
    for direction in ("flexion", "extension"):
        true = PATIENT.max_voluntary_torque(KNEE, direction, math.radians(45.0))
        assert force[f"{direction}_nm"] == pytest.approx(true, rel=0.10)
    # the battery's ticks were recorded before the walk's
    assert samples.tick[0] == 0 and summary.walking_ticks[0] > 20_000


def run_until_pressed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attempt: int
                      ) -> tuple[SessionResult, StoredSummary, SessionSamples] | None:
    """One session whose E-STOP is pressed 1.2 s into its battery (its first assessment, the
    passive ROM, moves the knee to its start angle); None when a stall fault of this shared
    computer came first (the press would then find the torque already off)."""
    store = tmp_path / f"s{attempt}.sqlite"
    runner = SessionRunner(SessionRequest(
        tolerant_robot(tmp_path), battery_protocol(tmp_path, ("passive_rom", "isometric")),
        store))
    results: list[SessionResult] = []
    with emulated_robot(monkeypatch, "--profile", "stroke_left"):
        thread = threading.Thread(target=lambda: results.append(runner.run()))
        thread.start()
        deadline = time.monotonic() + 120.0
        while (not runner.assessing or runner.loop is None or runner.loop.clock.now() < 1.2) \
                and thread.is_alive():
            assert time.monotonic() < deadline
            time.sleep(0.001)
        if runner.loop is not None:
            runner.loop.supervisor.estop(True)
        thread.join(timeout=120.0)
    (result,) = results
    if result.loop.faults[0].kind.value != "estop":
        assert stall_faults_only(result.loop.faults[:1]), result.loop.faults
        return None
    summary, samples = stored(store, result)
    return result, summary, samples


def test_estop_during_an_assessment_turns_the_torque_off_within_a_tick_and_skips_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for attempt in range(5):  # a stall of this shared computer may come before the press
        run = run_until_pressed(tmp_path, monkeypatch, attempt)
        if run is not None:
            break
    assert run is not None, "five sessions stalled before E-STOP could be pressed"
    result, summary, samples = run
    assert result.status == "faulted"
    press = result.loop.faults[0].t_s
    pressed = samples.t_s >= press
    first = int(np.argmax(pressed))
    assert first > 0 and samples.t_s[first] == pytest.approx(press)
    # the knee was being moved until then: torque was commanded
    assert np.abs(samples.tau_cmd[first - 1]).max() > 1.0
    # from the tick E-STOP was seen on, every command asks for no torque at all...
    assert np.all(samples.tau_cmd[pressed] == 0.0)
    # ...and the drives report none once their replies to it arrive (the battery's recording
    # goes on 0.1 s after a stop for this; the emulator's replies may lag a few ticks behind)
    quiet = np.all(np.abs(samples.tau) < 0.5, axis=1)
    assert samples.t_s[-1] - press >= 0.09
    settled = first + int(np.argmax(quiet[first:]))
    assert quiet[first:].any() and np.all(quiet[settled:])
    assert samples.t_s[settled] - press < 0.05
    passive, isometric = (summary.assessments[n] for n in ("passive_rom", "isometric"))
    assert passive["status"] == "interrupted" and passive["reason"].startswith("estop at")
    assert isometric["status"] == "skipped" and isometric["reason"] == passive["reason"]
    # nothing walked after the battery
    assert summary.walking_ticks == (0, 0) and summary.phases == ()
