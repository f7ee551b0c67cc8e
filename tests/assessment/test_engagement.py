"""Engagement measures: the feedback record, time in the target band with known answers, the
game's rule, the report's tables, and simulated patients of different strength."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rehabbot.assessment.engagement import (
    FeedbackSettings,
    engagement,
    feedback_record,
    rewarded,
    settings_at,
)
from rehabbot.assessment.gait_analysis import GaitAnalysis, analyze_gait
from rehabbot.assessment.kinematic_events import SideEvents
from rehabbot.assessment.report import ProgressData, load_report_data, render_html
from rehabbot.assessment.report.progress import progress_table
from rehabbot.assessment.report.tables import (
    engagement_stride_table,
    engagement_table,
    report_tables,
)
from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore
from tests.assessment import synthetic

#: Commanded torque along the reference in stance and swing (N·m): biofeedback +3 and -20.
STANCE_NM, SWING_NM = -3.0, 20.0


def _walk() -> tuple[GaitAnalysis, dict[str, dict[str, np.ndarray]]]:
    """12 s of the synthetic walker, its true events, and a robot at the hips (whose reference
    moves at every sample) that holds back 3 N·m in stance (biofeedback +3 N·m) and pushes
    20 N·m in swing (-20 N·m)."""
    t, angles = synthetic.walk(duration_s=12.0)
    true = {side: synthetic.true_events(t, side) for side in ("right", "left")}
    torque = {}
    for name, q in angles.items():
        if not name.startswith("hip"):
            continue
        side = true["right" if name.endswith("_r") else "left"]
        strikes, offs = side["foot_strike"], side["foot_off"]
        last_strike = strikes[np.clip(np.searchsorted(strikes, t, side="right") - 1, 0, None)]
        last_off = offs[np.clip(np.searchsorted(offs, t, side="right") - 1, 0, None)]
        stance = (last_strike > last_off) | (t < offs[0]) & (t >= strikes[0])
        torque[name] = np.where(stance, STANCE_NM, SWING_NM) * np.sign(np.diff(q, prepend=q[:1]))
    analysis = analyze_gait(t, angles, commanded_torque_nm=torque, reference_angle_rad=angles,
                            events={s: SideEvents(e["foot_strike"], e["foot_off"])
                                    for s, e in true.items()})
    return analysis, true


def _durations(analysis: GaitAnalysis, part: str, after_s: float = -np.inf,
               before_s: float = np.inf) -> float:
    """Total time (s) of a part over both sides' strides starting in [after, before)."""
    total = 0.0
    for side in ("right", "left"):
        table = analysis.strides[side]
        keep = (table["start_s"] >= after_s) & (table["start_s"] < before_s)
        if part == "stance":
            total += float((table["foot_off_s"] - table["start_s"])[keep].sum())
        else:
            total += float((table["end_s"] - table["foot_off_s"])[keep].sum())
    return total


def test_time_in_the_band_follows_the_band_in_effect_at_each_stride() -> None:
    analysis, _ = _walk()
    stats = analysis.summary["right"]
    assert stats["hip_biofeedback_stance_nm"].mean == pytest.approx(3.0, abs=0.1)
    assert stats["hip_biofeedback_swing_nm"].mean == pytest.approx(-20.0, abs=0.3)
    change_s = 6.0
    record = [(0.0, FeedbackSettings("bars", 0.0, 10.0)),
              (change_s, FeedbackSettings("off", -25.0, -15.0))]
    found = engagement(analysis, record)
    stance_before = _durations(analysis, "stance", before_s=change_s)
    swing_after = _durations(analysis, "swing", after_s=change_s)
    assert set(found.time_in_band) == {("hip", "stance"), ("hip", "swing")}  # no knee torque
    # stance (+3) is in [0, 10] before the change, swing (-20) in [-25, -15] after it
    assert found.time_in_band[("hip", "stance")].in_band_s == pytest.approx(stance_before)
    assert found.time_in_band[("hip", "swing")].in_band_s == pytest.approx(swing_after)
    assert found.time_in_band[("hip", "stance")].total_s == pytest.approx(
        _durations(analysis, "stance"))
    bars, off = found.by_mode["bars"], found.by_mode["off"]
    assert bars.in_band_s == pytest.approx(stance_before)
    assert off.in_band_s == pytest.approx(swing_after)
    assert bars.total_s + off.total_s == pytest.approx(
        _durations(analysis, "stance") + _durations(analysis, "swing"))
    right = found.strides["right"]
    assert right["mode"] == ["bars" if s < change_s else "off" for s in right["start_s"]]
    assert right["hip_in_band_stance"].tolist() == [s < change_s for s in right["start_s"]]
    assert found.overall.pct == pytest.approx(100 * (bars.in_band_s + off.in_band_s)
                                              / (bars.total_s + off.total_s))


def test_without_a_record_the_strides_count_as_feedback_off_with_the_default_band() -> None:
    analysis, _ = _walk()
    found = engagement(analysis, [])
    assert set(found.by_mode) == {"off"}
    assert found.time_in_band[("hip", "stance")].pct == pytest.approx(100.0)  # +3 in ±10
    assert found.time_in_band[("hip", "swing")].pct == 0.0
    rows = dict(engagement_table(found)[2])
    assert rows["time in the target band, hip in stance"].startswith("100.0 %")
    assert "none recorded" in rows["feedback"]


def test_settings_in_effect_and_the_record_read_back_from_stored_events() -> None:
    bars, game = FeedbackSettings("bars", 1.0, 9.0), FeedbackSettings("game", -2.0, 4.0,
                                                                       ("knee",), "stance")
    events = [(0.0, "console:feedback", "", json.dumps({"accepted": True, **bars.as_detail()})),
              (1.0, "console:params", "", json.dumps({"accepted": True})),
              (2.0, "console:feedback", "", json.dumps({"accepted": False,
                                                        **FeedbackSettings("off").as_detail()})),
              (3.0, "console:feedback", "", json.dumps({"accepted": True, **game.as_detail()}))]
    record = feedback_record(events)
    assert record == [(0.0, bars), (3.0, game)]
    assert settings_at(record, np.array([-1.0, 0.0, 2.9, 3.0, 10.0])) == [bars, bars, bars, game,
                                                                         game]


@pytest.mark.parametrize(("fields", "message"), [
    ({"mode": "wave"}, "feedback mode 'wave'"),
    ({"band_low_nm": 5.0, "band_high_nm": 5.0}, "lower edge below the upper one"),
    ({"band_high_nm": 500.0}, "±100 N·m"),
    ({"joints": ("elbow",)}, "choose one or more of hip, knee, ankle"),
    ({"joints": ()}, "choose one or more"),
    ({"part": "flight"}, "feedback part 'flight'"),
    ({"step_goal": -1}, "step goal -1"),
])
def test_bad_settings_are_refused_with_what_to_change(fields: dict[str, object],
                                                       message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        FeedbackSettings(**fields)  # type: ignore[arg-type]


def test_the_game_rewards_only_the_watched_part_with_every_watched_joint_in_band() -> None:
    both = FeedbackSettings("game", 0.0, 5.0, ("hip", "knee"), "both")
    assert rewarded(both, "stance", {"hip": 1.0, "knee": 4.9})
    assert rewarded(both, "swing", {"hip": 0.0, "knee": 5.0})
    assert not rewarded(both, "swing", {"hip": 1.0, "knee": float("nan")})
    assert not rewarded(both, "swing", {"ankle": 1.0})  # no watched joint on this leg
    knee_swing = FeedbackSettings("game", 0.0, 5.0, ("knee",), "swing")
    assert rewarded(knee_swing, "swing", {"hip": 30.0, "knee": 2.0})
    assert not rewarded(knee_swing, "stance", {"knee": 2.0})


def _simulated(store: Path, profile: str) -> int:
    """12 s of path control in a wide tunnel with soft walls (the same guidance for every
    patient; the bundled protocol's narrow tunnel is made to hold impaired patients) with
    ``profile``."""
    text = bundled_file("protocols", "path_control.toml").read_text()
    tunnel = text[text.index("[controller_params]"):text.index("[adjustable]")]
    protocol = store.with_suffix(".toml")
    protocol.write_text(text.replace(tunnel, "[controller_params]\ntunnel_width_rad = 0.1\n\n"))
    return SessionRunner(SessionRequest(
        robot=load_robot_config(), protocol=load_protocol(protocol), store_path=store,
        duration_s=12.0, profile=profile)).run().session_id


def test_a_stronger_simulated_patient_spends_more_time_in_the_band(tmp_path: Path) -> None:
    """Path control leaves the patient free inside its tunnel: a patient with more active torque
    leads the robot (positive biofeedback, the Lokomat's aim) more often than a weaker one."""
    band = [(0.0, FeedbackSettings("bars", 0.5, 10.0))]  # the patient leads the robot
    found = {}
    for profile in ("athletic", "healthy"):
        store = tmp_path / f"{profile}.sqlite"
        session_id = _simulated(store, profile)
        data = load_report_data(store, session_id)
        assert data.engagement is not None and data.engagement.record == []  # no display
        found[profile] = engagement(data.analysis, band)
        assert found[profile].overall.total_s > 10.0  # both walked
    strong, weak = found["athletic"].overall.pct, found["healthy"].overall.pct
    assert strong > weak + 15.0, (strong, weak)
    # the report shows the engagement measures (the session's own record: feedback off)
    titles = [table[0] for table in report_tables(data)]
    assert "Engagement (patient display)" in titles
    assert "Biofeedback per stride (N·m; * in the target band)" in titles
    html = render_html(data)
    assert "time in the target band, hip in swing" in html
    assert "patient&#x27;s share of the positive work in swing, right (%)" in html or \
        "patient's share of the positive work in swing, right (%)" in html
    strides = engagement_stride_table(data.engagement)  # type: ignore[arg-type]
    assert len(strides[2]) == sum(data.analysis.strides[s]["start_s"].size
                                  for s in ("right", "left"))
    assert {row[3] for row in strides[2]} == {"off"}


def test_the_progress_view_shows_each_sessions_feedback_and_time_in_band(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    session_id = _simulated(store, "athletic")
    with SessionStore.open(store) as st:  # as the console records a feedback change
        st.add_event(session_id, 0.0, "console:feedback", None,
                     {"operator": "T", "command": "feedback", "accepted": True,
                      **FeedbackSettings("game", 0.5, 10.0, ("hip",), "swing").as_detail()})
    data = load_report_data(store, session_id)
    assert data.engagement is not None
    assert set(data.engagement.by_mode) == {"game"}
    _title, headers, rows = progress_table(ProgressData("P", [data], []))
    row = dict(zip(headers, rows[0], strict=True))
    assert row["feedback modes"] == "game"
    assert float(row["time in target band (%)"]) == pytest.approx(
        data.engagement.overall.pct, abs=0.05)
    assert float(row["patient's work share in swing (%)"]) > 0.0
