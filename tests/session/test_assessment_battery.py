"""The robot assessment battery in a session's control loop, on the in-process simulated plant:
each assessment measures the simulated person as the patient model says they are, under the
session's supervisor, from the recorded samples; a stop skips what is left."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rehabbot.assessment.robot.isometric_strength import effort_plan
from rehabbot.assessment.robot.recording import RobotSetup
from rehabbot.controllers.procedures import SATURATION_SHARE
from rehabbot.hal.config import load_robot_config
from rehabbot.session.runner import SessionRequest, SessionResult, SessionRunner
from rehabbot.sim.patient import PASSIVE_STIFFNESS, PatientModel
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.sim.world import JOINT_NAMES
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary
from tests.session.battery_protocol import ROM_DEG, ZONE_DEG, battery_protocol

KNEE = "knee_angle_l"
ALL = ("passive_rom", "active_rom", "stiffness", "isometric")
#: The paretic knee of the simulated stroke patient: the truth the battery must find.
PATIENT = PatientModel(JOINT_NAMES, PROFILES["stroke_left"], 75.0, 90.0, seed=0)


class Battery:
    """One session with the whole battery on the left knee of a stroke patient."""

    def __init__(self, tmp: Path) -> None:
        store = tmp / "s.sqlite"
        self.result: SessionResult = SessionRunner(SessionRequest(
            load_robot_config(), battery_protocol(tmp, ALL), store,
            profile="stroke_left")).run()
        with SessionStore.open(store) as st:
            summary = st.session_summary(self.result.session_id)
            assert summary is not None
            self.summary: StoredSummary = summary
            self.samples: SessionSamples = st.load_samples(self.result.session_id)
            self.events = st.list_events(self.result.session_id)

    def row(self, name: str) -> dict[str, Any]:
        result = self.summary.assessments[name]
        assert result["status"] == "done", result
        (row,) = result["rows"]
        return dict(row)


@pytest.fixture(scope="module")
def battery(tmp_path_factory: pytest.TempPathFactory) -> Battery:
    return Battery(tmp_path_factory.mktemp("battery"))


def test_passive_rom_finds_the_patients_limit_and_flags_the_allowed_range(
    battery: Battery,
) -> None:
    row = battery.row("passive_rom")
    true_flexion = math.degrees(PATIENT.passive_limit_rad(KNEE, "flexion", 10.0))
    assert row["flexion_deg"] == pytest.approx(true_flexion, abs=2.0)
    assert not row["flexion_at_robot_limit"]
    # the patient's own extension limit (about -5 deg) lies beyond the session's range: the
    # sweep stops short of its soft zone and says so
    assert math.degrees(PATIENT.passive_limit_rad(KNEE, "extension", 10.0)) < ROM_DEG[
        "knee_angle"][0]
    assert row["extension_at_robot_limit"]
    assert row["extension_deg"] == pytest.approx(ROM_DEG["knee_angle"][0] + ZONE_DEG, abs=0.5)


def test_active_rom_finds_where_strength_meets_resistance_inside_the_passive_range(
    battery: Battery,
) -> None:
    row = battery.row("active_rom")
    true_flexion = math.degrees(PATIENT.active_limit_rad(KNEE, "flexion"))
    assert row["flexion_deg"] == pytest.approx(true_flexion, abs=2.0)
    assert row["flexion_deg"] < battery.row("passive_rom")["flexion_deg"]


def test_isometric_torque_is_the_patients_strength(battery: Battery) -> None:
    row = battery.row("isometric")
    angle = math.radians(row["angle_deg"])
    assert row["angle_deg"] == pytest.approx(45.0)
    for direction in ("flexion", "extension"):
        true = PATIENT.max_voluntary_torque(KNEE, direction, angle)  # 39 and 84 N·m
        assert row[f"{direction}_nm"] == pytest.approx(true, rel=0.05)
        assert not row[f"{direction}_at_robot_limit"]


def test_the_spastic_knee_resists_more_above_its_reflex_threshold(battery: Battery) -> None:
    result = battery.summary.assessments["stiffness"]
    assert result["status"] == "done"
    slow, medium, fast = result["rows"]
    assert [slow["peak_velocity_deg_s"], fast["peak_velocity_deg_s"]] == [30.0, 180.0]
    # below the stroke knee's 2 rad/s reflex threshold: its passive stiffness
    for row in (slow, medium):
        assert row["stiffness_nm_per_rad"] == pytest.approx(PASSIVE_STIFFNESS["knee_angle"],
                                                            rel=0.15)
    # 180 deg/s = 3.1 rad/s: the reflex adds stiffness and damping
    assert fast["stiffness_nm_per_rad"] > 2.0 * slow["stiffness_nm_per_rad"]
    assert fast["damping_nms_per_rad"] > 2.0 * medium["damping_nms_per_rad"]


def test_the_battery_ran_in_the_loop_before_the_walking_and_is_stored(battery: Battery) -> None:
    first_walking_tick, end = battery.summary.walking_ticks
    samples = battery.samples
    in_battery = samples.tick < first_walking_tick
    # about 50 s of battery at 1 kHz, every tick recorded, then the walk
    assert in_battery.sum() > 40_000 and end > first_walking_tick
    assert np.all(np.diff(samples.tick) == 1)
    # the supervisor limited every command: never beyond the robot's torque limit
    limit = np.array([j.torque_max_nm for j in load_robot_config().joints])
    assert np.all(np.abs(samples.tau_cmd[in_battery]) <= limit + 1e-6)
    # the knee moved through the assessments; the walk then ran its phase
    knee = samples.q[in_battery, samples.joint_names.index(KNEE)]
    assert np.ptp(knee) > math.radians(70.0)
    assert [p.name for p in battery.summary.phases] == ["training"]
    # no fault during the battery (a stroke knee may overextend in the walk's closing fade)
    t_walk = samples.t_s[np.searchsorted(samples.tick, first_walking_tick)]
    assert all(f.t_s >= t_walk for f in battery.result.loop.faults)
    stored = [e["detail"] for e in battery.events if e["kind"] == "assessment"]
    assert [e["phase"] for e in stored] == list(ALL)
    assert all(e["status"] == "done" for e in stored)


def test_a_stop_during_the_battery_skips_the_rest_and_says_so(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    runner = SessionRunner(SessionRequest(
        load_robot_config(), battery_protocol(tmp_path, ("passive_rom", "isometric")), store,
        profile="stroke_left"))
    results: list[SessionResult] = []
    thread = threading.Thread(target=lambda: results.append(runner.run()))
    thread.start()
    deadline = time.monotonic() + 300.0
    while not runner.assessing or runner.loop is None or runner.loop.clock.now() < 3.0:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.01)
    runner.request_stop()
    thread.join(timeout=300.0)
    (result,) = results
    assert result.status == "aborted", (runner.loop.clock.now(), result.loop.faults)
    with SessionStore.open(store) as st:
        summary = st.session_summary(result.session_id)
    assert summary is not None
    passive, isometric = (summary.assessments[n] for n in ("passive_rom", "isometric"))
    assert passive["status"] == "interrupted"
    assert passive["reason"] == isometric["reason"] == "the session was stopped"
    assert isometric["status"] == "skipped" and isometric["rows"] == []
    assert summary.phases == () or summary.walking_ticks == (0, 0)


def test_assessments_after_the_walk_run_once_it_has_completed(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    result = SessionRunner(SessionRequest(
        load_robot_config(), battery_protocol(tmp_path, ("passive_rom",), after=True), store,
        profile="healthy")).run()
    assert result.status == "completed", result.loop.faults
    with SessionStore.open(store) as st:
        summary = st.session_summary(result.session_id)
        samples = st.load_samples(result.session_id)
        (event,) = (e for e in st.list_events(result.session_id) if e["kind"] == "assessment")
    assert summary is not None
    first, end = summary.walking_ticks
    assert first == 0 and summary.phases[0].name == "training"
    # the battery's ticks follow the walk's in the recording, and its result is stored
    assert samples.tick[-1] > end + 10_000
    assert event["t_s"] > samples.t_s[end - 1]
    (row,) = summary.assessments["passive_rom"]["rows"]
    # a healthy knee bends further than the allowed 0..95 deg: both ends are the range's
    low, high = ROM_DEG["knee_angle"]
    assert row["extension_at_robot_limit"] and row["flexion_at_robot_limit"]
    assert row["extension_deg"] == pytest.approx(low + ZONE_DEG, abs=0.5)
    assert row["flexion_deg"] == pytest.approx(high - ZONE_DEG, abs=0.5)


@pytest.mark.parametrize("profile", ["healthy", "athletic"])
def test_a_patient_stronger_than_the_robot_gets_a_lower_bound_and_no_fault(
    tmp_path: Path, profile: str,
) -> None:
    """A strong knee's maximal efforts stay within the knee actuator's continuous rating (the
    supervisor's RMS-torque window); a push beyond the robot's ceiling ends that effort and is
    reported as "at least", never a fault."""
    store = tmp_path / "s.sqlite"
    result = SessionRunner(SessionRequest(
        load_robot_config(), battery_protocol(tmp_path, ("isometric",)), store,
        profile=profile)).run()
    assert result.status == "completed", result.loop.faults
    assert result.loop.faults == []
    with SessionStore.open(store) as st:
        summary = st.session_summary(result.session_id)
        samples = st.load_samples(result.session_id)
        events = st.list_events(result.session_id)
    assert summary is not None
    assert not [e for e in events if "rms_torque" in e["kind"]]  # not even a warning
    result_row = summary.assessments["isometric"]
    assert result_row["status"] == "done", result_row
    (row,) = result_row["rows"]
    person = PatientModel(JOINT_NAMES, PROFILES[profile], 75.0, 90.0, seed=0)
    # the knee's ceiling at 45 deg: 117 N·m (the 72 N·m rating over a 10 s window)
    ceiling = effort_plan(RobotSetup.of(load_robot_config(), None, 1.75, 75.0), KNEE,
                          math.radians(45.0)).torque_max_nm
    knee = samples.joint_names.index(KNEE)
    in_battery = samples.tick < summary.walking_ticks[0]
    # the robot never resisted with more than its ceiling
    assert np.abs(samples.tau[in_battery, knee]).max() < ceiling + 2.0
    for direction in ("flexion", "extension"):
        true = person.max_voluntary_torque(KNEE, direction, math.radians(45.0))
        measured = row[f"{direction}_nm"]
        if row[f"{direction}_at_robot_limit"]:
            # at least what the robot held, less the leg's weight (about 12 N·m at 45 deg),
            # and no more than the person (within their force fluctuation, 2 %)
            assert SATURATION_SHARE * ceiling - 15.0 <= measured <= true * 1.05
        else:
            assert measured == pytest.approx(true, rel=0.05)
    # a healthy knee extends with 210 N·m, an athletic one with 273: beyond the robot
    assert row["extension_at_robot_limit"]
    if profile == "healthy":  # flexion 97.5 N·m: measured
        assert not row["flexion_at_robot_limit"]
