"""The control loop over the CAN path: tick order, timing statistics, and the supervisor's
reactions applied on the tick they are decided (stale feedback, E-STOP, fade on a stop request,
reset, the command deadline, garbage collection between ticks)."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest

from rehabbot.controllers.adaptive_oscillator import TWO_PI, AdaptiveOscillator
from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.hal.drives import mit
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.runtime.clock import LockstepClock
from rehabbot.runtime.loop import ControlLoop
from rehabbot.safety import FaultKind, SafetyEvent, SafetySettings, StopCategory
from rehabbot.safety.limits import JointLimits
from rehabbot.safety.supervisor import Supervisor
from rehabbot.storage.samples import Sample
from tests.conftest import DriveBench
from tests.safety.conftest import CanRig, can_rig, tick_of

K = np.array([800.0, 600.0, 800.0, 600.0])
D = np.array([20.0, 10.0, 20.0, 10.0])
HALF_TORQUE_STEP = mit.motor_model("AK10-9").t_max_nm / 4095  # motor side, N·m


class ListRecorder:
    def __init__(self) -> None:
        self.rows: list[tuple[int, float, float]] = []

    def push(self, sample: Sample) -> None:
        self.rows.append((sample.tick, sample.t_s, sample.phase))


def make_loop(bench: DriveBench, step: object) -> tuple[ControlLoop, Supervisor]:
    clock = LockstepClock(bench.config.period_s, step=step)  # type: ignore[arg-type]
    robot = bench.robot(time_source=clock.now)
    robot.configure()
    bench.q[:] = [0.3, 0.1, -0.2, 0.2]  # inside the limits
    robot.activate(clock.wait_next_tick, timeout_s=0.01)
    names = bench.config.joint_names
    supervisor = Supervisor(names, JointLimits.from_config(bench.config),
                            bench.config.loop.stale_feedback_ticks)
    controller = ImpedanceController(names, K, D)
    return ControlLoop(robot, supervisor, controller, clock), supervisor


def test_stale_feedback_turns_torque_off_within_two_ticks(bench: DriveBench) -> None:
    silence_at = 50
    received: list[list[tuple[float, ...]]] = []

    def step() -> None:
        if len(received) == silence_at:
            bench.emulators.silence(1)  # knee_angle_r stops answering
        bench.step()
        received.append([d.command for d in bench.drives()])

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
    gears = np.array([j.gear_ratio for j in bench.config.joints])
    # drives apply no torque beyond the encoding of zero (half a step), seen through the gear
    assert np.all(np.abs(bench.tau) <= HALF_TORQUE_STEP * gears * (1 + 1e-9))
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


class SampleKeeper:
    """Keeps the identity of every pushed sample and what it carried."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.rows: list[tuple[int, float]] = []
        self.arrays_are_the_loops: list[bool] = []

    def push(self, sample: Sample) -> None:
        self.ids.add(id(sample))
        self.rows.append((sample.tick, sample.t_s))
        self.arrays_are_the_loops.append(sample.q.shape == sample.tau_cmd.shape == (4,))


def test_the_loop_repoints_one_sample_at_each_ticks_values(bench: DriveBench) -> None:
    loop, _ = make_loop(bench, bench.step)
    keeper = SampleKeeper()
    loop.recorder = keeper
    loop.run(0.05)
    assert len(keeper.ids) == 1  # one Sample for the run: no allocation per tick
    ticks, times = zip(*keeper.rows, strict=True)
    assert list(ticks) == list(range(50))  # ...yet every push carried its own tick
    np.testing.assert_allclose(np.diff(times), 0.001)
    assert all(keeper.arrays_are_the_loops)


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
    gears = np.array([j.gear_ratio for j in bench.config.joints])
    np.testing.assert_allclose([d.command[2] for d in bench.drives()], K / 4 / gears**2,
                               atol=kp_step)


# -- safety reactions in the loop --------------------------------------------------------------

FADE_S = 0.02  # 20 ticks at 1 kHz


def test_a_fade_stop_request_runs_until_the_torque_has_faded(bench: DriveBench) -> None:
    sink: list[SafetyEvent] = []
    with can_rig(bench, SafetySettings(fade_s=FADE_S)) as rig:
        rig.loop.events = sink.append

        def on_progress(t_s: float) -> None:
            rig.loop.request_stop(fade=True)

        report = rig.loop.run(1.0, on_progress=on_progress, progress_every_ticks=10)
    fade_ticks = round(FADE_S / bench.config.period_s)
    assert report.ticks == 10 + fade_ticks + 1 and report.stopped_early
    assert report.faults == [] and report.reaction is StopCategory.FADE
    assert [e.kind for e in report.events] == ["stop:requested", "stop:category_1", "stop:faded"]
    assert sink == report.events
    torques = np.array([[t for *_, t in cmds] for cmds in rig.sent])
    gains = np.array([[kp + kd for _, _, kp, kd, _ in cmds] for cmds in rig.sent])
    assert np.all(gains[:10] > 0) and not gains[10:].any()  # guidance, then pure torque
    fading = np.abs(torques[10:])
    assert np.all(np.diff(fading, axis=0) <= 2 * HALF_TORQUE_STEP)  # monotonic, quantized
    assert np.all(fading[10 + fade_ticks - 10:] <= HALF_TORQUE_STEP)  # zero after the fade
    assert rig.drive_torque_off_from() == 10 + fade_ticks


def test_an_immediate_stop_ends_a_fade_at_once(bench: DriveBench) -> None:
    with can_rig(bench, SafetySettings(fade_s=FADE_S)) as rig:
        def on_progress(t_s: float) -> None:
            rig.loop.request_stop(fade=True)
            if t_s >= 0.015:
                rig.loop.request_stop()

        report = rig.loop.run(1.0, on_progress=on_progress, progress_every_ticks=5)
    assert report.ticks == 15


def test_estop_in_a_running_loop_takes_the_torque_off_on_the_next_tick(
    bench: DriveBench,
) -> None:
    sink: list[SafetyEvent] = []
    with can_rig(bench) as rig:
        rig.loop.events = sink.append

        def on_progress(t_s: float) -> None:
            rig.supervisor.estop()

        report = rig.loop.run(0.05, on_progress=on_progress, progress_every_ticks=10)
    assert [(f.kind, tick_of(f)) for f in report.faults] == [(FaultKind.ESTOP, 10)]
    assert rig.drive_torque_off_from() == 10
    assert [e.kind for e in sink] == ["estop:pressed", "fault:estop", "stop:category_0"]


def test_a_reset_is_applied_at_a_tick_boundary_and_refused_while_estop_is_pressed(
    bench: DriveBench,
) -> None:
    with can_rig(bench) as rig:
        def on_progress(t_s: float) -> None:
            tick = round(t_s / bench.config.period_s)
            if tick == 10:
                rig.supervisor.estop()
            elif tick == 20:
                rig.loop.request_reset()
            elif tick == 30:
                rig.supervisor.estop(pressed=False)
                rig.loop.request_reset()

        report = rig.loop.run(0.05, on_progress=on_progress, progress_every_ticks=10)
    assert [e.kind for e in report.events] == [
        "estop:pressed", "fault:estop", "stop:category_0", "reset:refused", "estop:released",
        "reset"]
    assert not rig.supervisor.tripped and report.reaction is None
    gains = [sum(kp for _, _, kp, _, _ in cmds) for cmds in rig.sent]
    assert all(g > 0 for g in gains[:10]) and not any(gains[10:30])
    assert all(g > 0 for g in gains[30:])  # guidance again from the reset's tick


@dataclass
class Stall:
    """How far the drives' own time runs ahead of the rig's simulated time (s): the drives of a
    host that stalled that long (tests add to it)."""

    seconds: float = 0.0


@contextmanager
def stall_rig(bench: DriveBench) -> Iterator[tuple[CanRig, Stall]]:
    """A lockstep rig whose drives' time is simulated time plus a :class:`Stall`."""
    with can_rig(bench) as rig:
        stall = Stall()
        simulated = rig.clock.drive_time
        rig.clock.drive_time = lambda: simulated() + stall.seconds  # type: ignore[method-assign]
        yield rig, stall


def test_a_command_older_than_the_deadline_is_a_fault_on_the_tick_that_sees_it(
    bench: DriveBench,
) -> None:
    with stall_rig(bench) as (rig, stalled):
        def stall(tick: int) -> None:
            if tick == 50:
                stalled.seconds += 0.025  # the drives executed the last command 25 ms longer

        rig.before_tick.append(stall)
        report = rig.loop.run(0.1)
    (fault,) = report.faults
    assert (fault.kind, tick_of(fault)) == (FaultKind.COMMAND_DEADLINE, 50)
    assert fault.value == pytest.approx(0.026)
    gears = np.array([j.gear_ratio for j in bench.config.joints])
    hold_kp_motor = rig.supervisor.settings.hold_kp_nm_per_rad / gears**2
    held = rig.sent[50]
    np.testing.assert_allclose([kp for _, _, kp, _, _ in held], hold_kp_motor, atol=0.2)
    assert report.reaction is StopCategory.HOLD
    assert report.command_age is not None and report.command_age.max_us == pytest.approx(26e3)


def test_a_stall_between_the_check_and_the_write_is_seen_on_the_next_tick(
    bench: DriveBench,
) -> None:
    with stall_rig(bench) as (rig, stalled):
        limit = rig.supervisor.limit

        def stalling_limit(command: JointCommand, state: JointState) -> JointCommand:
            if rig.clock.ticks == 60:
                stalled.seconds += 0.03  # 30 ms pass before this tick's write
            return limit(command, state)

        rig.supervisor.limit = stalling_limit  # type: ignore[method-assign]
        report = rig.loop.run(0.1)
    (fault,) = report.faults
    assert (fault.kind, tick_of(fault)) == (FaultKind.COMMAND_DEADLINE, 61)
    assert fault.value == pytest.approx(0.031)


def test_late_ticks_under_the_deadline_never_stop_the_loop(bench: DriveBench) -> None:
    with stall_rig(bench) as (rig, stalled):
        def stall(tick: int) -> None:
            if tick % 7 == 0:
                stalled.seconds += 0.006  # a 6 ms hiccup every 7 ticks
        rig.before_tick.append(stall)
        report = rig.loop.run(0.2)
    assert report.faults == [] and report.ticks == 200
    assert any(e.kind == "warning:command_deadline" for e in report.events)


def test_garbage_collection_runs_only_between_ticks(bench: DriveBench) -> None:
    with can_rig(bench) as rig:
        report = rig.loop.run(0.3)
    assert report.gc is not None and report.gc.frozen_objects > 0
    assert report.gc.outside_slack == 0
    assert gc.isenabled() and gc.get_freeze_count() == 0  # restored after the run


def test_the_loop_watches_the_robot_s_bus_counters_by_default(bench: DriveBench) -> None:
    with can_rig(bench) as rig:
        assert rig.loop.bus is rig.robot


def test_a_supervisor_for_another_period_is_refused(bench: DriveBench) -> None:
    with can_rig(bench) as rig:
        slow = Supervisor(bench.config.joint_names, JointLimits.from_config(bench.config), 3,
                          period_s=0.002)
        with pytest.raises(ValueError, match="period"):
            ControlLoop(rig.robot, slow, rig.loop.controller, rig.clock)


def test_a_reset_during_a_fade_stop_is_refused_and_the_run_stops(
    bench: DriveBench,
) -> None:
    with can_rig(bench, SafetySettings(fade_s=FADE_S)) as rig:
        def on_progress(t_s: float) -> None:
            tick = round(t_s / bench.config.period_s)
            if tick == 10:
                rig.loop.request_stop(fade=True)
            elif tick == 20:
                rig.loop.request_reset()

        report = rig.loop.run(1.0, on_progress=on_progress, progress_every_ticks=10)
    assert report.stopped_early and report.ticks < 1000
    kinds = [e.kind for e in report.events]
    assert kinds[:3] == ["stop:requested", "stop:category_1", "reset:refused"]
    assert "reset" not in kinds
    assert report.events[2].values["cause"] == "stopping"


def test_an_oscillator_phase_source_integrates_the_time_of_skipped_ticks() -> None:
    skipping, every_tick = AdaptiveOscillator(100.0), AdaptiveOscillator(100.0)
    hip = lambda t: 0.3 * math.sin(TWO_PI * 0.83 * t)  # noqa: E731 (a walking hip, 0.83 Hz)
    times = np.arange(0, 126) * 0.001  # 0 .. 125 ms
    for t in times:
        every_tick.update(float(t), hip(t), 0.0)
        if t <= 0.1 or t >= 0.125:  # ticks 101..124 skipped after a stall
            last = skipping.update(float(t), hip(t), 0.0)
    both = every_tick.update(0.126, hip(0.126), 0.0)
    last = skipping.update(0.126, hip(0.126), 0.0)
    assert abs((last - both + 0.5) % 1.0 - 0.5) < 0.002  # no lag of the skipped 24 ms (0.02)
