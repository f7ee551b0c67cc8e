"""The robot assessment battery through the hardware path, against the emulated robot in another
process (``rehabbot sim serve``): the procedures' commands and the simulated person's
instructions cross the process boundary; E-STOP during an assessment turns the torque off within
a tick and the rest of the battery is skipped and recorded.

Both processes run at ``SCHED_FIFO`` as a robot's host does (tests/session/emulator.py says why
and what that measured), and each outcome is asserted exactly. A run whose first fault is a
stall's is run again only when a measured stall of either process explains that fault
(:func:`~tests.session.emulator.until_not_stalled`: e.g. the hypervisor's steal, which no priority
prevents); any other first fault fails the test at once, and so do three stalled runs."""

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
from tests.session.battery_protocol import battery_protocol
from tests.session.emulator import Run, emulated_robot, host_at_fifo, until_not_stalled
from tests.session.test_emulated_robot import emu_config

KNEE = "knee_angle_l"
PATIENT = PatientModel(JOINT_NAMES, PROFILES["stroke_left"], 75.0, 90.0, seed=0)
def battery_robot(tmp_path: Path) -> RobotConfig:
    """emu_exo with the longest command deadline its 50 ms drive watchdogs allow (45 ms: below
    the watchdog, as `rehabbot can check` requires; docs/realtime.md)."""
    return emu_config(tmp_path, change={"loop": {"command_deadline_s": 0.045}})


def test_the_battery_runs_on_the_emulated_robot_through_the_hardware_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert host_at_fifo(monkeypatch).refused == []

    def run(attempt: int) -> Run:
        store = tmp_path / f"s{attempt}.sqlite"
        protocol = battery_protocol(tmp_path, ("passive_rom", "isometric"))
        with emulated_robot(monkeypatch, "--profile", "stroke_left", fifo=True) as emulator:
            result = SessionRunner(SessionRequest(battery_robot(tmp_path), protocol,
                                                  store)).run()
            stats = emulator.stop()
        return Run.load(store, result, stats)

    done = until_not_stalled(run, None)
    summary, samples, stats = done.summary, done.samples, done.emulator
    assert done.result.status == "completed" and summary.faults == ()
    assert summary.plant == "emulated robot"
    passive, isometric = (summary.assessments[n] for n in ("passive_rom", "isometric"))
    assert passive["status"] == isometric["status"] == "done", summary
    assert stats["steps"] > 20_000  # the battery ran on the emulator's wall clock
    (rom,) = passive["rows"]
    true_flexion = math.degrees(PATIENT.passive_limit_rad(KNEE, "flexion", 10.0))
    assert rom["flexion_deg"] == pytest.approx(true_flexion, abs=3.0)
    (force,) = isometric["rows"]
    for direction in ("flexion", "extension"):
        true = PATIENT.max_voluntary_torque(KNEE, direction, math.radians(45.0))
        assert force[f"{direction}_nm"] == pytest.approx(true, rel=0.10)
        assert not force[f"{direction}_at_robot_limit"]
    # the battery's ticks were recorded before the walk's, which then ran its phase
    assert samples.tick[0] == 0 and summary.walking_ticks[0] > 20_000
    assert [p.name for p in summary.phases] == ["training"]


def test_estop_during_an_assessment_turns_the_torque_off_within_a_tick_and_skips_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert host_at_fifo(monkeypatch).refused == []

    def run(attempt: int) -> Run:
        """A session whose E-STOP is pressed 1.2 s into its battery (its first assessment, the
        passive ROM, is moving the knee to its start angle)."""
        store = tmp_path / f"s{attempt}.sqlite"
        runner = SessionRunner(SessionRequest(
            battery_robot(tmp_path), battery_protocol(tmp_path, ("passive_rom", "isometric")),
            store))
        results: list[SessionResult] = []
        with emulated_robot(monkeypatch, "--profile", "stroke_left", fifo=True) as emulator:
            thread = threading.Thread(target=lambda: results.append(runner.run()))
            thread.start()
            deadline = time.monotonic() + 120.0
            while (not runner.assessing or runner.loop is None
                   or runner.loop.clock.now() < 1.2) and thread.is_alive():
                assert time.monotonic() < deadline
                time.sleep(0.001)
            if runner.loop is not None:
                runner.loop.supervisor.estop(True)
            thread.join(timeout=120.0)
            stats = emulator.stop()
        (result,) = results
        return Run.load(store, result, stats)

    done = until_not_stalled(run, "estop")
    result, summary, samples = done.result, done.summary, done.samples
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
