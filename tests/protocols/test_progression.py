"""Progression rules: parsed (never evaluated), applied from the patient's last completed session
of the protocol, clamped to the phase's adjustable bounds, printed and stored."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rehabbot.cli import main
from rehabbot.configfile import bundled_file
from rehabbot.protocols.progression import parse_condition
from rehabbot.protocols.progression_plan import progress
from rehabbot.protocols.schema import load_protocol
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary


def summary(*rms_deg: float) -> StoredSummary:
    """A stored summary whose joints have these RMS tracking errors (deg)."""
    return StoredSummary.model_validate({
        "duration_s": 60.0, "strides_right": 30, "strides_left": 30,
        "cadence_steps_per_min": 90.0,
        "joints": [{"name": f"j{i}", "rom_deg": 40.0, "rms_error_deg": e,
                    "peak_torque_nm": 50.0} for i, e in enumerate(rms_deg)]})


@pytest.mark.parametrize(("text", "data", "holds"), [
    ("rms_error_deg < 5", summary(4.0, 6.2), False),  # the mean over the joints: 5.1
    ("rms_error_deg < 5", summary(4.0, 5.8), True),
    ("rms_error_deg >= 4.9", summary(4.0, 5.8), True),
    ("rms_error_deg.j1 > 5.5", summary(4.0, 5.8), True),
    ("rms_error_deg.j0 > 5.5", summary(4.0, 5.8), False),
    ("strides_right == 30", summary(1.0), True),
    ("cadence_steps_per_min != 90", summary(1.0), False),
    ("rms_error_deg.nobody < 100", summary(1.0), False),  # a metric that is not there: no
])
def test_conditions_read_the_summary(text: str, data: StoredSummary, holds: bool) -> None:
    assert parse_condition(text).holds(data) is holds


@pytest.mark.parametrize(("text", "message"), [
    ("rms_error_deg < 5; import os", "is not 'METRIC OP NUMBER'"),
    ("__import__('os') < 5", "is not 'METRIC OP NUMBER'"),
    ("rms_error_deg << 5", "is not 'METRIC OP NUMBER'"),
    ("rms_error_deg < five", "is not 'METRIC OP NUMBER'"),
    ("mood > 3", "unknown metric 'mood'"),
    ("cadence_steps_per_min.knee_angle_r > 3", "unknown metric"),
])
def test_anything_but_metric_op_number_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_condition(text)


def test_rules_change_the_adjustable_values_within_their_bounds() -> None:
    protocol = load_protocol("assist_as_needed")  # training guidance 70 in [30, 100]
    values, changes = progress(protocol, summary(3.0, 4.0), None)
    assert values["training"]["guidance_pct"] == 60.0
    assert [c.describe() for c in changes] == [
        "training: guidance_pct 70 -> 60 (rms_error_deg < 5)"]
    # from a last session at 35 %: one more step would go below 30, so it stops there
    values, changes = progress(protocol, summary(3.0), {"training": {"guidance_pct": 35.0}})
    assert values["training"]["guidance_pct"] == 30.0 and changes[0].after == 30.0
    values, changes = progress(protocol, summary(3.0), {"training": {"guidance_pct": 30.0}})
    assert values["training"]["guidance_pct"] == 30.0 and changes == []
    # struggling: more guidance; in between: the last session's value stays
    values, _ = progress(protocol, summary(9.0), {"training": {"guidance_pct": 50.0}})
    assert values["training"]["guidance_pct"] == 60.0
    values, changes = progress(protocol, summary(6.0), {"training": {"guidance_pct": 50.0}})
    assert values["training"]["guidance_pct"] == 50.0 and changes == []
    # no last session: the protocol's own values
    values, changes = progress(protocol, None, None)
    assert values["training"]["guidance_pct"] == 70.0 and changes == []
    # bounds narrowed since the last session: its value is clamped to today's bounds
    values, _ = progress(protocol, summary(6.0), {"training": {"guidance_pct": 10.0}})
    assert values["training"]["guidance_pct"] == 30.0


def always_progressing(tmp_path: Path) -> Path:
    """standard_gait with a rule that always fires: 10 % less training guidance each session."""
    text = bundled_file("protocols", "standard_gait.toml").read_text()
    text += ('\n[[progression]]\nwhen = "rms_error_deg < 90"\nthen = { guidance_pct = -10 }\n'
             'phases = ["training"]\n')
    path = tmp_path / "progressing.toml"
    path.write_text(text)
    return path


def test_session_run_applies_prints_and_stores_progression_per_patient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store, protocol = tmp_path / "s.sqlite", always_progressing(tmp_path)

    def run(patient: str) -> str:
        monkeypatch.setattr(sys, "argv", [
            "rehabbot", "session", "run", "--patient", patient, "--protocol", str(protocol),
            "--duration", "0.3", "--store", str(store)])
        with pytest.raises(SystemExit) as ended:
            main()
        assert ended.value.code == 0
        return capsys.readouterr().out

    first = run("P-1")
    assert "progression:" not in first  # no earlier session of this protocol
    second = run("P-1")
    assert "progression: training: guidance_pct 100 -> 90 (rms_error_deg < 90)" in second
    third = run("P-1")
    assert "progression: training: guidance_pct 90 -> 80 (rms_error_deg < 90)" in third
    other = run("P-2")  # another patient starts from the protocol
    assert "progression:" not in other
    with SessionStore.open(store) as st:
        sessions = st.list_sessions()
        params = [st.session_parameters(s.id) for s in sessions]
    assert [p["progression"]["from_session"] for p in params] == [
        None, sessions[0].id, sessions[1].id, None]
    assert [p["progression"]["values"]["training"]["guidance_pct"] for p in params] == [
        100.0, 90.0, 80.0, 100.0]
    stored = load_protocol(protocol).model_validate(params[2]["protocol"])
    assert stored.training_phase.guidance_pct == 80.0  # what the session ran with
    assert params[2]["progression"]["changes"] == [
        {"phase": "training", "parameter": "guidance_pct", "before": 90.0, "after": 80.0,
         "rule": "rms_error_deg < 90"}]
