"""Deterministic replay: a recorded session replays bit for bit; a changed parameter or
controller is reported at the tick it first acts on."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from rehabbot.cli import main
from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.replay import replay_session
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary

CHANGE_AT_S = 1.0


def three_phases(folder: Path) -> Path:
    """standard_gait made short (1.5 s, 1.5 s, 1 s), its cool-down in transparent mode."""
    text = bundled_file("protocols", "standard_gait.toml").read_text()
    text = text.replace("duration_s = 120", "duration_s = 1.5", 1)
    text = text.replace("duration_s = 600", "duration_s = 1.5", 1)
    text = text.replace('duration_s = 120', 'duration_s = 1\ncontroller = "transparent"\n'
                        'phase_source = "oscillator"\nguidance_pct = 0', 1)
    (folder / "p.toml").write_text(text)
    return folder / "p.toml"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, StoredSummary]:
    """A session with a live guidance change at 1 s (as a console would make it)."""
    folder = tmp_path_factory.mktemp("replay")
    store = folder / "s.sqlite"
    runner = SessionRunner(SessionRequest(load_robot_config(), load_protocol(three_phases(folder)),
                                          store, profile="athletic"))

    def at(t_s: float) -> None:
        if runner.loop is not None and abs(t_s - CHANGE_AT_S) < 1e-9:
            runner.loop.request_params(guidance_pct=70.0)

    result = runner.run(at)
    assert result.status == "completed"
    with SessionStore.open(store) as st:
        summary = st.session_summary(result.session_id)
    assert summary is not None
    return store, result.session_id, summary


def replay_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    monkeypatch.setattr(sys, "argv", ["rehabbot", "replay", *argv, "--json"])
    with pytest.raises(SystemExit) as ended:
        main()
    code = ended.value.code
    assert isinstance(code, int)
    return code, json.loads(capsys.readouterr().out)


def test_a_recorded_session_replays_identically(
    recorded: tuple[Path, int, StoredSummary], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, session_id, summary = recorded
    # the live change was recorded with its tick (the progress callback runs after tick 999)
    assert summary.param_changes == ((1000, {"guidance_pct": 70.0}),)
    code, report = replay_cli([str(session_id), "--store", str(store)], monkeypatch, capsys)
    assert code == 0
    assert report["identical"] is True and report["ticks"] == 4000 + 500 + 1  # and the fade
    assert set(report["max_q_ref_deg"].values()) == {0.0}
    assert set(report["max_tau_cmd_nm"].values()) == {0.0}


def test_a_changed_parameter_differs_from_the_tick_its_phase_starts(
    recorded: tuple[Path, int, StoredSummary], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, session_id, summary = recorded
    training_start = summary.phases[1].start_tick
    assert training_start == 1500
    code, report = replay_cli([str(session_id), "--store", str(store), "--param",
                               "training.hip_rom_pct=90"], monkeypatch, capsys)
    assert code == 1
    differences = report["differences"]
    assert [d["joint"] for d in differences] == ["hip_flexion_r", "hip_flexion_l"]
    assert {d["first_tick"] for d in differences} == {training_start}
    assert all(d["max_q_ref_deg"] > 0.5 for d in differences)
    assert report["max_q_ref_deg"]["knee_angle_r"] == 0.0


def test_a_changed_guidance_differs_from_the_first_tick(
    recorded: tuple[Path, int, StoredSummary],
) -> None:
    store, session_id, _ = recorded
    report = replay_session(store, session_id, params={"warm_up.guidance_pct": 90.0})
    assert {d.first_tick for d in report.differences} == {0}
    assert all(d.max_tau_cmd_nm > 1.0 for d in report.differences)


def test_another_controller_is_replayed_on_the_same_inputs(
    recorded: tuple[Path, int, StoredSummary],
) -> None:
    store, session_id, _ = recorded
    report = replay_session(store, session_id, controller="transparent")
    assert not report.identical
    # the recorded session's own transparent cool-down is the same law: only the earlier
    # phases differ, from the start
    assert {d.first_tick for d in report.differences} == {0}


def test_a_parameter_out_of_range_is_refused_in_one_message(
    recorded: tuple[Path, int, StoredSummary],
) -> None:
    store, session_id, _ = recorded
    with pytest.raises(ConfigurationError, match=r"^replay of phase 'warm_up': invalid field "
                                                  r"'guidance_pct' = 150.0: Value error, "
                                                  r"guidance_pct = 150 % is out of range"):
        replay_session(store, session_id, params={"guidance_pct": 150.0})


def test_an_unknown_phase_is_refused(recorded: tuple[Path, int, StoredSummary]) -> None:
    store, session_id, _ = recorded
    with pytest.raises(ConfigurationError, match="no phase 'sprint' in this session; its "
                                                  "phases: cool_down, training, warm_up"):
        replay_session(store, session_id, params={"sprint.guidance_pct": 90.0})


def test_a_session_recorded_without_its_protocol_and_robot_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "old.sqlite"
    with SessionStore.open(store) as st:
        patient = st.ensure_patient("OLD-1")
        session_id = st.create_session(patient, "standard_gait", "sim-exo", 0.001,
                                       ["hip_flexion_r"], {"duration_s": 10.0})
    with pytest.raises(ConfigurationError, match=f"session {session_id} was recorded without "
                                                 "its protocol and robot configuration"):
        replay_session(store, session_id)


def replay_error(argv: list[str], monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> list[str]:
    """``rehabbot replay ARGV``, which must end with status 2; the lines on stderr."""
    monkeypatch.setattr(sys, "argv", ["rehabbot", "replay", *argv])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 2
    return capsys.readouterr().err.splitlines()


def test_replay_of_a_missing_session_is_one_line_with_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store = tmp_path / "empty.sqlite"
    SessionStore.open(store).close()
    assert replay_error(["42", "--store", str(store)], monkeypatch, capsys) == [
        "error: no session 42; `rehabbot sessions list` shows the ids"]


def test_replay_without_a_store_says_so_and_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store = tmp_path / "nonexist.sqlite"
    assert replay_error(["1", "--store", str(store)], monkeypatch, capsys) == [
        f"error: no session store at {store}; record a session first or pass --store"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("option", "value", "unit"), [
    ("--tolerance-deg", "-1", "deg"), ("--tolerance-nm", "-0.5", "N·m"),
    ("--tolerance-deg", "nan", "deg"),
])
def test_a_negative_or_nan_tolerance_is_refused_in_one_line(
    recorded: tuple[Path, int, StoredSummary], option: str, value: str, unit: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store, session_id, _ = recorded
    lines = replay_error([str(session_id), "--store", str(store), option, value],
                         monkeypatch, capsys)
    assert lines == [f"error: {option} {float(value):g}: a tolerance is a finite number of "
                     f"{unit} >= 0 (0 = exact)"]


@pytest.mark.parametrize(("name", "profile"), [
    ("assist_as_needed", "healthy"),  # learns per stride: its table must replay too
    ("path_control", "athletic"),
    ("high_steps_300", "healthy"),
])
def test_every_controller_replays_exactly(name: str, profile: str, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    result = SessionRunner(SessionRequest(load_robot_config(), load_protocol(name), store,
                                          duration_s=2.0, profile=profile)).run()
    report = replay_session(store, result.session_id)
    assert report.ticks == 2000 + 500 + 1 and report.identical, report.differences
