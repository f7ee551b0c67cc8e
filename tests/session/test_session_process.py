"""The command path: console commands reach the running loop at a tick boundary, checked first;
the supervisor's state and its events (warnings included) come back; a console that is gone stops
the session safely."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.safety.faults import Priority, SafetyEvent
from rehabbot.session import session_process
from rehabbot.session.runner import SessionRequest, SessionResult, SessionRunner
from rehabbot.session.session_link import SessionLink
from rehabbot.session.session_messages import (
    Applied,
    Command,
    CommandKind,
    EventInfo,
    LiveParams,
    Reply,
    SafetyStatus,
)
from rehabbot.session.session_process import CommandServer, EventForwarder
from rehabbot.sim import emulated_mit
from rehabbot.storage.store import SessionStore

WAIT_S = 60.0


def request(store: Path, robot: RobotConfig, duration_s: float = 120.0) -> SessionRequest:
    return SessionRequest(robot=robot, protocol=load_protocol("standard_gait"), store_path=store,
                          duration_s=duration_s, profile="athletic")


@dataclass
class Running:
    """A lockstep session in a thread with a command server stepping beside it."""

    runner: SessionRunner
    server: CommandServer
    commands: queue.Queue[Command]
    replies: queue.Queue[Reply]
    alive: list[bool]
    result: list[SessionResult]

    def send(self, command: Command) -> None:
        self.commands.put(command)

    def wait_for(self, wanted: Callable[[Reply], bool]) -> Reply:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                reply = self.replies.get(timeout=0.1)
            except queue.Empty:
                continue
            if wanted(reply):
                return reply
        raise AssertionError("no such reply in time")


@pytest.fixture
def running(tmp_path: Path, sim_exo: RobotConfig) -> Iterator[Running]:
    replies: queue.Queue[Reply] = queue.Queue()
    runner = SessionRunner(replace(request(tmp_path / "s.sqlite", sim_exo),
                                   events=EventForwarder(replies)))
    commands: queue.Queue[Command] = queue.Queue()
    alive = [True]
    server = CommandServer(runner, replies, lambda: alive[0])
    result: list[SessionResult] = []
    done = threading.Event()
    session = threading.Thread(target=lambda: result.append(runner.run()))
    serving = threading.Thread(target=server.serve, args=(commands, done))
    session.start()
    serving.start()
    yield Running(runner, server, commands, replies, alive, result)
    runner.request_stop()
    session.join(WAIT_S)
    done.set()
    serving.join(WAIT_S)


def is_applied(kind: CommandKind) -> Callable[[Reply], bool]:
    return lambda r: isinstance(r, Applied) and r.command.kind is kind


def test_a_parameter_change_reaches_the_controller_and_a_bad_one_never_does(
        running: Running) -> None:
    started = running.wait_for(lambda r: isinstance(r, LiveParams))
    assert isinstance(started, LiveParams)
    guidance = started.params["guidance_pct"]
    assert guidance.value == 100.0
    bounds = load_protocol("standard_gait").training_phase.adjustable["guidance_pct"]
    assert (guidance.low, guidance.high) == bounds  # the phase's bounds, not the controller's
    assert "training" in started.phase
    running.send(Command(CommandKind.PARAMS, {"guidance_pct": 60.0}, operator="op"))
    applied = running.wait_for(is_applied(CommandKind.PARAMS))
    assert isinstance(applied, Applied) and applied.accepted and applied.t_s >= 0.0
    loop = running.runner.loop
    assert loop is not None
    deadline = time.monotonic() + WAIT_S
    while loop.controller.get_params()["guidance_pct"] != 60.0:  # at the next tick boundary
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for values, reason in (({"guidance_pct": 160.0}, "out of range"),
                           ({"stiffness": 1.0}, "no parameter 'stiffness'")):
        running.send(Command(CommandKind.PARAMS, values, operator="op"))
        refused = running.wait_for(is_applied(CommandKind.PARAMS))
        assert isinstance(refused, Applied) and not refused.accepted
        assert reason in refused.reason, refused.reason
    ticks = loop.clock.ticks
    time.sleep(0.3)
    assert loop.clock.ticks > ticks  # the session runs on: nothing bad reached the loop
    assert loop.controller.get_params()["guidance_pct"] == 60.0
    assert [a.accepted for a in running.server.log] == [True, False, False]


def test_estop_latches_and_reset_is_refused_until_it_is_released(running: Running) -> None:
    running.wait_for(lambda r: isinstance(r, LiveParams))
    running.send(Command(CommandKind.ESTOP, pressed=True))
    status = running.wait_for(lambda r: isinstance(r, SafetyStatus) and bool(r.faults))
    assert isinstance(status, SafetyStatus)
    assert [f.kind for f in status.faults] == ["estop"]
    assert status.faults[0].priority == "high" and status.stop_category == 0
    running.send(Command(CommandKind.RESET))
    refused = running.wait_for(is_applied(CommandKind.RESET))
    assert isinstance(refused, Applied) and not refused.accepted
    assert "reset refused" in refused.reason
    running.send(Command(CommandKind.ESTOP, pressed=False))
    running.send(Command(CommandKind.RESET))
    accepted = running.wait_for(is_applied(CommandKind.RESET))
    assert isinstance(accepted, Applied) and accepted.accepted, accepted
    clear = running.wait_for(lambda r: isinstance(r, SafetyStatus) and not r.faults)
    assert isinstance(clear, SafetyStatus) and clear.stop_category is None


def test_pause_fades_the_torque_out_and_resume_brings_the_controller_back(
        running: Running) -> None:
    running.wait_for(lambda r: isinstance(r, LiveParams))
    running.send(Command(CommandKind.PAUSE))
    off = running.wait_for(lambda r: isinstance(r, SafetyStatus) and r.torque_off)
    assert isinstance(off, SafetyStatus) and off.paused and off.stop_category == 1
    assert not off.faults  # a pause is not a fault
    running.send(Command(CommandKind.RESUME))
    back = running.wait_for(lambda r: isinstance(r, SafetyStatus) and not r.paused)
    assert isinstance(back, SafetyStatus) and back.stop_category is None and not back.torque_off


def test_a_console_that_is_gone_stops_the_session_with_a_fade(running: Running) -> None:
    running.wait_for(lambda r: isinstance(r, LiveParams))
    running.alive[0] = False
    fading = running.wait_for(lambda r: isinstance(r, SafetyStatus) and r.stop_category == 1)
    assert isinstance(fading, SafetyStatus)
    deadline = time.monotonic() + WAIT_S
    while not running.result:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (result,) = running.result
    assert result.loop.stopped_early and result.loop.duration_s < 120.0
    assert result.status == "aborted"  # stopped by the fade, not by a fault


def test_a_hot_drive_is_a_low_priority_warning_reply_that_clears_itself_without_a_stop(
        running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    running.wait_for(lambda r: isinstance(r, LiveParams))
    # every emulated MIT drive now reports 95 degC: above the 90 degC warning, below the fault
    monkeypatch.setattr(emulated_mit, "AMBIENT_TEMPERATURE_C", 95.0)
    warning = running.wait_for(lambda r: isinstance(r, EventInfo) and r.is_warning)
    assert isinstance(warning, EventInfo)
    assert (warning.kind, warning.priority, warning.category) == (
        "warning:over_temperature", "low", None)
    assert warning.joint is not None
    assert f"over_temperature on {warning.joint}" in warning.text
    assert "fault at 110" in warning.text
    monkeypatch.setattr(emulated_mit, "AMBIENT_TEMPERATURE_C", 30.0)  # the drives cool down
    cleared = running.wait_for(lambda r: isinstance(r, EventInfo) and r.is_warning_cleared
                               and r.joint == warning.joint)
    assert isinstance(cleared, EventInfo) and cleared.t_s > warning.t_s
    loop = running.runner.loop
    assert loop is not None
    assert not loop.supervisor.faults_ and loop.supervisor.reaction_ is None  # no stop, no latch
    ticks = loop.clock.ticks
    time.sleep(0.3)
    assert loop.clock.ticks > ticks  # still walking


def test_the_event_forwarder_never_waits_on_a_full_queue_it_counts_the_drop() -> None:
    replies: queue.Queue[Reply] = queue.Queue(maxsize=1)
    forwarder = EventForwarder(replies)
    event = SafetyEvent(1.0, "warning:rms_torque", "knee_angle_r",
                        {"value": 150.0, "fault_at": 160.0}, None, Priority.LOW)
    forwarder(event)
    forwarder(event)  # the queue is full: dropped, not waited for
    assert forwarder.dropped == 1
    sent = replies.get_nowait()
    assert isinstance(sent, EventInfo) and sent.kind == "warning:rms_torque"
    assert sent.text == ("warning: rms_torque on knee_angle_r at 1.000 s "
                         "(value 150, fault at 160)")


def console_that_dies(store: str, pids: multiprocessing.Queue[int]) -> None:
    """A console process: starts a session, reports its pid, then hangs until it is killed."""
    link = SessionLink(request(Path(store), load_robot_config("sim_exo")))
    link.start()
    while link.reader.written < 500:
        time.sleep(0.01)
    pids.put(link.pid or 0)
    time.sleep(3600)


def test_a_killed_console_leaves_a_session_that_stops_safely_and_is_stored(
        tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    pids: multiprocessing.Queue[int] = ctx.Queue()
    store = tmp_path / "s.sqlite"
    console = ctx.Process(target=console_that_dies, args=(str(store), pids))
    console.start()
    session_pid = pids.get(timeout=WAIT_S)
    os.kill(console.pid or 0, signal.SIGKILL)
    console.join()
    deadline = time.monotonic() + WAIT_S
    while _alive(session_pid):
        assert time.monotonic() < deadline, "the session process did not stop"
        time.sleep(0.05)
    with SessionStore.open(store) as st:
        (info,) = st.list_sessions()
        summary = st.session_summary(info.id)
    assert info.status == "aborted" and info.ended_at is not None  # faded out, stored
    assert summary is not None and not summary.faults
    assert info.duration_s < 120.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended
        return stat.read().split()[2] != "Z"


def test_an_error_in_one_round_leaves_a_working_estop_behind(
        running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    running.wait_for(lambda r: isinstance(r, LiveParams))
    loop = running.runner.loop
    assert loop is not None
    controller = loop.controller
    real_get_params = controller.get_params
    calls = [0]

    def fails_once() -> dict[str, float]:
        calls[0] += 1
        if calls[0] == 1:
            raise KeyError("gravity_pct")  # as when the phase changes between two reads
        return real_get_params()

    monkeypatch.setattr(controller, "get_params", fails_once)

    def refusal_that_breaks(*_: object) -> str:
        raise RuntimeError("broken check")

    monkeypatch.setattr(session_process, "_refusal", refusal_that_breaks)
    running.send(Command(CommandKind.PARAMS, {"guidance_pct": 60.0}, operator="op"))
    failed = running.wait_for(is_applied(CommandKind.PARAMS))
    assert isinstance(failed, Applied) and not failed.accepted
    assert "RuntimeError: broken check" in failed.reason, failed.reason
    running.send(Command(CommandKind.ESTOP, pressed=True))
    applied = running.wait_for(is_applied(CommandKind.ESTOP))
    assert isinstance(applied, Applied) and applied.accepted
    status = running.wait_for(lambda r: isinstance(r, SafetyStatus) and bool(r.faults))
    assert isinstance(status, SafetyStatus) and [f.kind for f in status.faults] == ["estop"]
    assert loop.supervisor.torque_off_
    assert calls[0] >= 2  # the failing read happened, and the thread read again after it


def test_a_command_path_that_keeps_failing_stops_the_session_with_a_fade(
        running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    running.wait_for(lambda r: isinstance(r, LiveParams))

    def always_fails(_: object) -> None:
        raise RuntimeError("broken parameter read")

    monkeypatch.setattr(session_process, "_params", always_fails)
    fading = running.wait_for(lambda r: isinstance(r, SafetyStatus) and r.stop_category == 1)
    assert isinstance(fading, SafetyStatus) and not fading.paused
    deadline = time.monotonic() + WAIT_S
    while not running.result:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (result,) = running.result
    assert result.loop.stopped_early and result.status == "aborted"


def test_resume_never_clears_a_latched_estop_only_a_reset_does(running: Running) -> None:
    running.wait_for(lambda r: isinstance(r, LiveParams))
    running.send(Command(CommandKind.PAUSE))
    running.wait_for(lambda r: isinstance(r, SafetyStatus) and r.paused)
    running.send(Command(CommandKind.ESTOP, pressed=True))
    running.wait_for(lambda r: isinstance(r, SafetyStatus) and bool(r.faults))
    running.send(Command(CommandKind.ESTOP, pressed=False))
    running.send(Command(CommandKind.RESUME))
    refused = running.wait_for(is_applied(CommandKind.RESUME))
    assert isinstance(refused, Applied) and not refused.accepted
    assert refused.reason == "a fault is latched: acknowledge and reset it (F2, F3)"
    loop = running.runner.loop
    assert loop is not None
    assert [f.kind.value for f in loop.supervisor.faults_] == ["estop"]  # still latched
    running.send(Command(CommandKind.RESET))
    accepted = running.wait_for(is_applied(CommandKind.RESET))
    assert isinstance(accepted, Applied) and accepted.accepted, accepted
    clear = running.wait_for(lambda r: isinstance(r, SafetyStatus) and not r.faults)
    assert isinstance(clear, SafetyStatus) and not clear.paused and clear.stop_category is None


def test_estop_during_the_assessments_stops_the_battery_and_skips_the_remaining_ones(
        tmp_path: Path, sim_exo: RobotConfig) -> None:
    store = tmp_path / "s.sqlite"
    replies: queue.Queue[Reply] = queue.Queue()
    runner = SessionRunner(replace(request(store, sim_exo),
                                   protocol=load_protocol("robot_assessment_battery"),
                                   duration_s=None))  # all its phases
    server = CommandServer(runner, replies, lambda: True)
    result: list[SessionResult] = []
    session = threading.Thread(target=lambda: result.append(runner.run()))
    session.start()
    deadline = time.monotonic() + WAIT_S
    # the first assessment (passive ROM) runs in the loop, under its supervisor
    while not runner.assessing or runner.loop is None or runner.loop.clock.now() < 1.5:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    server.step(Command(CommandKind.ESTOP, pressed=True))
    session.join(WAIT_S)
    (done,) = result
    assert done.status == "faulted"
    assert [f.kind.value for f in done.loop.faults] == ["estop"]
    with SessionStore.open(store) as st:
        summary = st.session_summary(done.session_id)
    assert summary is not None
    statuses = {name: r["status"] for name, r in summary.assessments.items()}
    assert statuses == {"passive_rom": "interrupted", "active_rom": "skipped",
                        "knee_stiffness": "skipped", "isometric_torque": "skipped"}
    assert all(r["reason"].startswith("estop at") for r in summary.assessments.values())
    assert summary.phases == ()  # nothing walked


def test_after_the_walk_commands_are_refused_not_sent_to_the_finished_loop(
        tmp_path: Path, sim_exo: RobotConfig) -> None:
    replies: queue.Queue[Reply] = queue.Queue()
    runner = SessionRunner(request(tmp_path / "s.sqlite", sim_exo, duration_s=0.5))
    runner.run()
    assert runner.walked and runner.loop is not None
    server = CommandServer(runner, replies, lambda: True)
    server.step(Command(CommandKind.ESTOP, pressed=True))
    server.step(Command(CommandKind.PARAMS, {"guidance_pct": 60.0}))
    estop, params = server.log
    refused = "not applied: no robot motion is running under the loop (assessment phase)"
    assert not estop.accepted and estop.reason.startswith(refused)
    assert not params.accepted and params.reason == refused
    assert not runner.loop.supervisor.faults_  # nothing was pressed on the finished loop
