"""Issue 15, item 11: a fault the supervisor latches while limiting the controller's command (a
NaN output) ends the session ``faulted`` with the fault in its summary and events."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from rehabbot.controllers.base import Controller
from rehabbot.hal.config import load_robot_config
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
    assert summary is not None and len(summary["faults"]) == 1
    assert summary["faults"][0].startswith("invalid_value on knee_angle_r")
    assert "fault:invalid_value" in kinds
