"""Issue 15, items 11 and 16: a fault the supervisor latches while limiting the controller's
command (a NaN output) ends the session ``faulted`` with the fault in its summary and events;
bad input (a negative seed, a robot the simulator cannot run) is one line, exit 2, and leaves no
session ``running``."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rehabbot.controllers.base import Controller
from rehabbot.hal.config import bundled_robot_path, load_robot_config
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.protocols.schema import Phase, load_protocol
from rehabbot.session import runner
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore

#: The controller's output turns NaN from this update on (1 kHz: 0.5 s into the walk).
NAN_FROM = 500


def nan_after(build: Callable[[Phase], Controller]) -> Callable[[Phase], Controller]:
    """Builds the phase's real controller, whose stiffness output turns NaN after a while."""

    def nan_build(phase: Phase) -> Controller:
        controller = build(phase)
        update = controller.update
        calls = [0]

        def nan_update(state: JointState) -> JointCommand:
            command = update(state)
            calls[0] += 1
            if calls[0] >= NAN_FROM:
                command.kp[1] = math.nan
            return command

        controller.update = nan_update  # type: ignore[method-assign]
        return controller

    return nan_build


def test_a_nan_controller_output_ends_the_session_faulted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner.phase_builder
    monkeypatch.setattr(runner, "phase_builder", lambda *a: nan_after(real(*a)))
    store = tmp_path / "s.sqlite"
    request = SessionRequest(robot=load_robot_config(), protocol=load_protocol(),
                             store_path=store, duration_s=2.0)
    result = SessionRunner(request).run()
    assert result.status == "faulted"
    assert [(f.kind.value, f.joint) for f in result.loop.faults] == [
        ("invalid_value", "knee_angle_r")]
    with SessionStore.open(store) as st:
        (info,) = st.list_sessions()
        summary = st.session_summary(info.id)
        kinds = [e["kind"] for e in st.list_events(info.id)]
    assert info.status == "faulted"
    assert summary is not None and len(summary.faults) == 1
    assert summary.faults[0].startswith("invalid_value on knee_angle_r")
    assert "fault:invalid_value" in kinds


def rehabbot(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rehabbot", *args, "--store", str(store)],
                          capture_output=True, text=True, check=False, timeout=120)


def statuses(store: Path) -> list[str]:
    if not store.exists():
        return []
    with SessionStore.open(store) as st:
        return [info.status for info in st.list_sessions()]


def test_a_negative_seed_is_bad_input_in_one_line_and_no_session_stays_running(
    tmp_path: Path,
) -> None:
    """Issue 15 item 16: ``--seed -1`` gave a traceback (numpy refuses negative seeds once the
    session row existed)."""
    store = tmp_path / "s.sqlite"
    result = rehabbot("session", "run", "--duration", "1", "--seed", "-1", store=store)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "seed -1" in result.stderr
    assert "Traceback" not in result.stderr
    assert "running" not in statuses(store)


def variant(tmp_path: Path, old: str, new: str) -> Path:
    """sim_exo with ``old`` replaced by ``new`` (``old`` empty: ``new`` appended)."""
    text = bundled_robot_path("sim_exo").read_text()
    assert old in text
    path = tmp_path / "robot.toml"
    path.write_text(text.replace(old, new) if old else text + new)
    return path


ELBOW = '''
[[joints]]
name = "elbow_r"
drive = "mit"
motor = "AK10-9"
node_id = 5
gear_ratio = 4.0
sign = 1
offset_rad = 0.0
position_min_rad = -0.05
position_max_rad = 1.74
velocity_max_rad_s = 10.0
torque_max_nm = 80.0
'''


@pytest.mark.parametrize(("old", "new", "message"), [
    ("", ELBOW, "elbow_r"),
    ("rate_hz = 1000", "rate_hz = 50\ncommand_deadline_s = 0.1", "time_step_s"),
])
def test_configuration_errors_after_the_session_row_end_it_aborted_in_one_line(
    tmp_path: Path, old: str, new: str, message: str,
) -> None:
    """Issue 15 item 16: a robot with a joint the body lacks, a 50 Hz loop the simulator cannot
    step: the session ends ``aborted`` with the error, the command says it in one line."""
    store = tmp_path / "s.sqlite"
    robot = variant(tmp_path, old, new)
    result = rehabbot("session", "run", "--duration", "1", "--robot", str(robot), store=store)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr
    assert statuses(store) in ([], ["aborted"])
    if statuses(store):
        with SessionStore.open(store) as st:
            (info,) = st.list_sessions()
            summary = st.session_summary(info.id)
        assert summary is not None and message in str(summary.error)
