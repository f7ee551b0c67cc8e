"""Cooperative modes on impaired simulated patients, whole sessions through the CAN path
(in-process lockstep simulation, session runner, store): they walk without a fault, learn more
guidance for the paretic side, follow the paretic gait's phase, and the supervisor's
range-of-motion warning reaches the console's event stream and the session's record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rehabbot.configfile import bundled_file
from rehabbot.controllers.assist_as_needed import AssistAsNeededController
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.phased import PhasedController
from rehabbot.protocols.schema import load_protocol
from rehabbot.safety import Priority, SafetyEvent
from rehabbot.session.runner import SessionRequest, SessionResult, SessionRunner
from rehabbot.storage.store import SessionStore
from rehabbot.sweeps.measure import measure


def run(tmp: Path, name: str, edits: dict[str, str], profile: str, seconds: float,
        events: list[SafetyEvent] | None = None) -> tuple[SessionResult, SessionRunner]:
    """A ``seconds`` long training session of bundled protocol ``name`` with its text edited
    (``{old: new}``), for a simulated patient of ``profile``."""
    text = bundled_file("protocols", f"{name}.toml").read_text()
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp / f"{name}.toml"
    path.write_text(text)
    runner = SessionRunner(SessionRequest(
        robot=load_robot_config(), protocol=load_protocol(path), store_path=tmp / "s.sqlite",
        duration_s=seconds, profile=profile, events=None if events is None else events.append))
    return runner.run(), runner


def test_a_stroke_patient_walks_in_path_control_without_a_fault(tmp_path: Path) -> None:
    result, _ = run(tmp_path, "path_control", {
        "tunnel_width_rad = 0.1\n": "tunnel_width_rad = 0.05\nwall_stiffness_nm_per_rad = 1500\n"
                                     "flow_nm = 5\nwindow_cycles = 0.03\n"}, "stroke_left", 12.0)
    assert result.loop.faults == []
    assert result.status == "completed"


@pytest.fixture(scope="module")
def paretic_aan(tmp_path_factory: pytest.TempPathFactory) -> tuple[SessionResult, SessionRunner,
                                                                    Path]:
    """20 s of assist-as-needed on the thighs' phase for a left hemiparetic patient."""
    tmp = tmp_path_factory.mktemp("aan")
    result, runner = run(tmp, "assist_as_needed",
                         {'phase_source = "oscillator"': 'phase_source = "thighs"'},
                         "stroke_left", 20.0)
    return result, runner, tmp / "s.sqlite"


def test_assist_as_needed_walks_a_paretic_patient_and_guides_the_paretic_side_more(
    paretic_aan: tuple[SessionResult, SessionRunner, Path],
) -> None:
    result, runner, _ = paretic_aan
    assert result.loop.faults == [] and result.status == "completed"
    assert runner.loop is not None and isinstance(runner.loop.controller, PhasedController)
    aan = runner.loop.controller.current_
    assert isinstance(aan, AssistAsNeededController) and aan.strides_ >= 10
    names = aan.joint_names
    guidance = dict(zip(names, aan.table_pct_.mean(axis=1), strict=True))
    assert guidance["hip_flexion_l"] > guidance["hip_flexion_r"]
    assert guidance["knee_angle_l"] > guidance["knee_angle_r"]


def test_the_default_estimator_follows_a_paretic_gait_within_5_percent_of_a_stride(
    paretic_aan: tuple[SessionResult, SessionRunner, Path],
) -> None:
    result, _, store_path = paretic_aan
    with SessionStore.open(store_path) as store:
        samples = store.load_samples(result.session_id)
    m = measure(samples.t_s, samples.phase, samples.contact[:, 0], samples.q, samples.qd,
                samples.tau, samples.joint_names, ran_s=float(samples.t_s[-1]))
    stride_ms = 120.0 / 90.0 * 1000.0
    assert np.isfinite(m.phase_error_ms) and m.phase_error_ms < 0.05 * stride_ms


def test_a_joint_nearing_its_range_limit_is_warned_about_in_the_events_and_the_record(
    tmp_path: Path,
) -> None:
    # a knee range starting at 3 deg: full guidance along the normative knee (4 deg at heel
    # strike) brings the knee to within the warning's 1 deg of it
    events: list[SafetyEvent] = []
    result, _ = run(tmp_path, "standard_gait", {"knee_angle = [0, 75]": "knee_angle = [3, 75]"},
                    "healthy", 4.0, events)
    warnings = [e for e in events if e.kind == "warning:rom_margin"]
    assert warnings and result.loop.faults == []
    assert {e.priority for e in warnings} == {Priority.LOW}
    assert {e.joint for e in warnings} <= {"knee_angle_r", "knee_angle_l"}
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        stored = db.execute("SELECT COUNT(*) FROM events WHERE session_id = ? AND kind = ?",
                            (result.session_id, "warning:rom_margin")).fetchone()[0]
    assert stored == len(warnings)
