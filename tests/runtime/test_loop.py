"""The control loop over the CAN path: tick order, timing statistics and the stale-feedback stop."""

from __future__ import annotations

import numpy as np

from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.hal.drives import mit
from rehabbot.runtime.clock import LockstepClock
from rehabbot.runtime.loop import ControlLoop
from rehabbot.safety.limits import JointLimits
from rehabbot.safety.supervisor import FaultKind, Supervisor
from tests.conftest import DriveBench

K = np.array([800.0, 600.0, 800.0, 600.0])
D = np.array([20.0, 10.0, 20.0, 10.0])
HALF_TORQUE_STEP = mit.motor_model("AK10-9").t_max_nm / 4095  # motor side, N·m


class ListRecorder:
    def __init__(self) -> None:
        self.rows: list[tuple[int, float, float]] = []

    def push(self, tick: int, t_s: float, phase: float, *rest: object) -> None:
        self.rows.append((tick, t_s, phase))


def make_loop(bench: DriveBench, step: object) -> tuple[ControlLoop, Supervisor]:
    clock = LockstepClock(bench.config.period_s, step=step)  # type: ignore[arg-type]
    robot = bench.robot(time_source=clock.now)
    robot.configure()
    robot.activate(clock.wait_next_tick, timeout_s=0.01)
    names = bench.config.joint_names
    supervisor = Supervisor(names, JointLimits.from_config(bench.config),
                            bench.config.loop.stale_feedback_ticks)
    bench.q[:] = [0.3, 0.1, -0.2, 0.2]  # inside the limits
    controller = ImpedanceController(names, K, D)
    return ControlLoop(robot, supervisor, controller, clock), supervisor


def test_stale_feedback_turns_torque_off_within_two_ticks(bench: DriveBench) -> None:
    silence_at = 50
    received: list[list[tuple[float, ...]]] = []

    def step() -> None:
        if len(received) == silence_at:
            bench.bank.silenced.add(1)  # knee_angle_r stops answering
        bench.step()
        received.append([d.command for d in bench.bank.drives])

    loop, supervisor = make_loop(bench, step)
    activation_steps = len(received)
    report = loop.run(0.2)
    assert [(f.kind, f.joint) for f in report.faults] == [
        (FaultKind.STALE_FEEDBACK, "knee_angle_r")
    ]
    stale_limit = bench.config.loop.stale_feedback_ticks

    def torque_off(cmds: list[tuple[float, ...]]) -> bool:
        return all(kp == 0 and kd == 0 and abs(t) <= HALF_TORQUE_STEP for _, _, kp, kd, t in cmds)

    first_off = next(
        i for i, cmds in enumerate(received) if i >= activation_steps and torque_off(cmds)
    )
    # the last reply left at step silence_at - 1; feedback is stale once older than the limit
    stale_at = silence_at + stale_limit
    assert first_off > activation_steps + 10  # guidance was on before the fault
    assert 0 <= first_off - stale_at <= 2, (first_off, stale_at)
    assert all(torque_off(cmds) for cmds in received[first_off:])  # latched
    assert np.all(np.abs(bench.tau) <= HALF_TORQUE_STEP * 3)  # drives apply no torque
    assert supervisor.tripped


def test_loop_runs_the_planned_ticks_and_reports_timing(bench: DriveBench) -> None:
    loop, _ = make_loop(bench, bench.step)
    recorder = ListRecorder()
    loop.recorder = recorder
    report = loop.run(0.1)
    assert report.ticks == 100 and not report.stopped_early and report.faults == []
    ticks, times, phases = zip(*recorder.rows, strict=True)
    assert list(ticks) == list(range(100))
    np.testing.assert_allclose(np.diff(times), 0.001)
    assert phases[1] > phases[0]
    assert report.compute is not None and report.compute.count == 100
    assert 0 < report.compute.p50_us <= report.compute.p99_us <= report.compute.max_us


def test_stop_request_ends_the_run_at_a_tick_boundary(bench: DriveBench) -> None:
    loop, _ = make_loop(bench, bench.step)
    progress: list[float] = []

    def on_progress(t: float) -> None:
        progress.append(t)
        loop.request_stop()

    report = loop.run(1.0, on_progress=on_progress, progress_every_ticks=10)
    assert report.ticks == 10 and report.stopped_early
    assert progress == [0.01]


def test_parameter_changes_apply_at_the_next_tick(bench: DriveBench) -> None:
    loop, _ = make_loop(bench, bench.step)
    loop.request_params(guidance_pct=25.0)
    loop.run(0.002)
    assert loop.controller.get_params()["guidance_pct"] == 25.0
    kp_step = 500 / 4095  # motor side
    np.testing.assert_allclose([d.command[2] for d in bench.bank.drives], K / 4 / 9, atol=kp_step)
