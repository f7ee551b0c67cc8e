"""A multi-phase protocol through a whole simulated session: one loop, phase events, per-phase
summaries, an assessment phase after the walking ones, the treadmill following the phases."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore

ASSESS_LAST = """
[[phases]]
name = "knee_stiffness"
kind = "assessment"
assessment = "stiffness"
assessment_joints = ["knee_angle_l"]
assessment_params = { velocity_3_deg_s = 60 }
"""


def short_protocol(tmp_path: Path) -> Path:
    """standard_gait with 1.5 s warm-up, 6 steps, 1 s cool-down, then a stiffness assessment."""
    text = bundled_file("protocols", "standard_gait.toml").read_text() + ASSESS_LAST
    text = text.replace("duration_s = 120", "duration_s = 1.5", 1)
    text = text.replace("duration_s = 600", "steps = 6", 1)
    text = text.replace("duration_s = 120", "duration_s = 1", 1)
    path = tmp_path / "short.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    folder = tmp_path_factory.mktemp("phased")
    request = SessionRequest(load_robot_config(), load_protocol(short_protocol(folder)),
                             folder / "s.sqlite")
    return folder / "s.sqlite", SessionRunner(request).run().session_id


def events(store: Path, session_id: int, kind: str) -> list[tuple[float, dict[str, object]]]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT t_s, detail FROM events WHERE session_id = ? AND kind = ? "
                          "ORDER BY id", (session_id, kind)).fetchall()
    return [(t, json.loads(detail)) for t, detail in rows]


def test_the_phases_run_in_order_in_one_loop_with_an_event_each(
    session: tuple[Path, int],
) -> None:
    store, session_id = session
    with SessionStore.open(store) as st:
        info = st.get_session(session_id)
        summary = st.session_summary(session_id)
        samples = st.load_samples(session_id)
    assert info.status == "completed"
    assert summary is not None
    phases = summary.phases
    assert [(p.name, p.kind) for p in phases] == [
        ("warm_up", "warm_up"), ("training", "training"), ("cool_down", "cool_down")]
    assert [p.ended_by for p in phases] == ["duration", "steps", "duration"]
    assert phases[0].start_tick == 0 and phases[1].start_tick == 1500
    assert phases[1].steps >= 6
    assert phases[2].end_tick - phases[2].start_tick == 1000
    # one loop: ticks run on without a gap from the first phase to the last, then the torque
    # fades out (0.5 s) and the loop stops on the next tick; the assessment battery's ticks
    # follow in the recording
    first, end = summary.walking_ticks
    assert first == 0 and end == phases[2].end_tick + 500 + 1
    assert samples.tick.tolist() == list(range(samples.tick[-1] + 1)) and samples.tick[-1] > end
    started = events(store, session_id, "phase_started")
    assert [(d["name"], d["kind"]) for _, d in started] == [
        (p.name, p.kind) for p in phases]
    assert [t for t, _ in started] == pytest.approx(
        [(first + p.start_tick) * 0.001 for p in phases], abs=1e-9)
    for phase in phases:
        assert phase.summary is not None and phase.end_tick is not None
        assert phase.summary["duration_s"] == pytest.approx(
            (phase.end_tick - phase.start_tick) * 0.001)
    assert summary.steps == sum(p.steps for p in phases)


def test_the_assessment_phase_runs_after_walking_and_is_stored(
    session: tuple[Path, int],
) -> None:
    store, session_id = session
    with SessionStore.open(store) as st:
        summary = st.session_summary(session_id)
    assert summary is not None
    result = summary.assessments["knee_stiffness"]
    assert result["name"] == "stiffness"
    rows = result["rows"]
    assert [(r["joint"], r["peak_velocity_deg_s"]) for r in rows] == [
        ("knee_angle_l", 30.0), ("knee_angle_l", 90.0), ("knee_angle_l", 60.0)]
    # the healthy profile's relaxed knee: 3 N·m/rad (docs/assessments.md), within 10 %
    assert rows[0]["stiffness_nm_per_rad"] == pytest.approx(3.0, rel=0.10)
    ((t, detail),) = events(store, session_id, "assessment")
    # stored at its first step, once the battery's torque had ramped in (1 s after the walk)
    end = summary.walking_ticks[1]
    assert t == pytest.approx(end * 0.001 + 1.0, abs=0.01) and detail["phase"] == "knee_stiffness"
    assert detail["name"] == "stiffness" and detail["status"] == "done"


def test_a_duration_override_runs_the_training_phase_alone(tmp_path: Path) -> None:
    request = SessionRequest(load_robot_config(), load_protocol(short_protocol(tmp_path)),
                             tmp_path / "s.sqlite", duration_s=0.5)
    result = SessionRunner(request).run()
    with SessionStore.open(tmp_path / "s.sqlite") as st:
        summary = st.session_summary(result.session_id)
    assert summary is not None and summary.assessments == {}
    assert [p.name for p in summary.phases] == ["training"]
    assert result.loop.ticks == 500 + 500 + 1 and result.status == "completed"  # and the fade


def test_a_guidance_override_outside_the_phase_bounds_is_refused(tmp_path: Path) -> None:
    request = SessionRequest(load_robot_config(), load_protocol(), tmp_path / "s.sqlite",
                             guidance_pct=30.0)
    with pytest.raises(ConfigurationError, match=r"guidance 30 % is outside \[50, 100\] %, the "
                                                 r"bounds of phase 'training'"):
        SessionRunner(request)
