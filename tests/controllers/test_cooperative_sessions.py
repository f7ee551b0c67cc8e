"""Cooperative modes on impaired simulated patients, whole sessions through the CAN path
(in-process lockstep simulation, session runner, store): a stroke patient walks in path control
without a fault, and the supervisor's range-of-motion warning reaches the console's event stream
and the session's record."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rehabbot.configfile import bundled_file
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.safety import Priority, SafetyEvent
from rehabbot.session.runner import SessionRequest, SessionResult, SessionRunner


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
    result, _ = run(tmp_path, "path_control", {}, "stroke_left", 12.0)  # the bundled tunnel
    assert result.loop.faults == []
    assert result.status == "completed"


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


def test_transparent_mode_ends_a_session_it_cannot_walk_with_a_controlled_stop_on_record(
    tmp_path: Path,
) -> None:
    # an incomplete-SCI patient cannot keep the legs in range alone: the transparent controller
    # asks for a stop, and the runner fades the torque out and records why (not a limit fault)
    result, _ = run(tmp_path, "transparent_walk", {}, "sci_incomplete", 8.0)
    assert result.loop.faults == []
    assert result.status == "aborted"
    assert result.stop_reason is not None and "choose a guided mode" in result.stop_reason
    assert result.loop.duration_s < 8.0
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        (detail,) = db.execute("SELECT detail FROM events WHERE session_id = ? AND kind = ?",
                                (result.session_id, "controlled_stop")).fetchone()
        (summary,) = db.execute("SELECT summary FROM sessions WHERE id = ?",
                                (result.session_id,)).fetchone()
    assert json.loads(detail)["reason"] == result.stop_reason
    assert json.loads(summary)["controlled_stop"] == result.stop_reason
