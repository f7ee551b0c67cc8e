"""The phased controller: phase boundaries by time and by steps, bumpless changes, live bounds.

These run the real controllers (impedance, transparent) on synthetic states, one call per tick as
the loop makes them, with a recording treadmill and a scripted foot-contact signal.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.protocols.phased import PhasedController, StepCounter
from rehabbot.protocols.schema import Phase, load_protocol
from rehabbot.session.runner import phase_builder

NAMES = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
PERIOD = 0.001


class RecordingTreadmill:
    """Remembers every speed (m/s) and support (0..1) it was given."""

    def __init__(self) -> None:
        self.speeds: list[float] = []
        self.supports: list[float] = []

    def set_belt_speed(self, speed_mps: float) -> None:
        self.speeds.append(speed_mps)

    def set_body_weight_support(self, fraction: float) -> None:
        self.supports.append(fraction)


def walking_contacts(stride_s: float = 1.2, period_s: float = PERIOD) -> Iterator[
        tuple[bool, bool]]:
    """Foot contact of steady walking: each foot 60 % stance, the left half a stride later."""
    tick = 0
    while True:
        t = tick * period_s
        yield ((t / stride_s) % 1.0 < 0.6, ((t / stride_s) + 0.5) % 1.0 < 0.6)
        tick += 1


def protocol_phases(tmp_path: Path, edits: list[tuple[str, str]]) -> tuple[Phase, ...]:
    text = bundled_file("protocols", "standard_gait.toml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    (tmp_path / "p.toml").write_text(text)
    return load_protocol(tmp_path / "p.toml").walking_phases


WARM_UP = "duration_s = 120\ntreadmill_speed_kmh = 2.2"
#: standard_gait made short: 1 s warm-up, 4 steps of training, 0.5 s cool-down.
SHORT = [(WARM_UP, "duration_s = 1\ntreadmill_speed_kmh = 2.2"),
         ("duration_s = 600", "steps = 4"),
         (WARM_UP, "duration_s = 0.5\ntreadmill_speed_kmh = 2.2")]


def drive(controller: PhasedController, counter: StepCounter, ticks: int,
          on_tick: Callable[[int, JointCommand], None] | None = None) -> list[JointCommand]:
    """Call the controller as the loop does: params (none) → update → contacts, per tick."""
    out = []
    state = JointState.zeros(len(NAMES))
    controller.reset(state)
    for tick in range(ticks):
        t = tick * PERIOD
        state = JointState.zeros(len(NAMES), t_s=t)
        state.q[:] = 0.3 * np.sin(2 * np.pi * t / 1.2 + np.arange(len(NAMES)))
        command = controller.update(state)
        counter()
        out.append(command.copy())
        if on_tick is not None:
            on_tick(tick, command)
        if controller.finished_:
            break
    return out


def make(phases: tuple[Phase, ...], treadmill: RecordingTreadmill | None = None,
         contacts: Iterator[tuple[bool, bool]] | None = None
         ) -> tuple[PhasedController, StepCounter, list[int]]:
    feet = contacts if contacts is not None else walking_contacts()
    counter = StepCounter(lambda: next(feet), PERIOD)
    finished: list[int] = []
    controller = PhasedController(
        phases, phase_builder(NAMES, PERIOD, 1.75, 75.0), counter, period_s=PERIOD,
        treadmill=treadmill, on_finished=lambda: finished.append(1))
    return controller, counter, finished


def test_phases_end_on_their_duration_and_step_target_and_set_the_treadmill(
    tmp_path: Path,
) -> None:
    phases = protocol_phases(tmp_path, SHORT)
    treadmill = RecordingTreadmill()
    controller, counter, finished = make(phases, treadmill)
    commands = drive(controller, counter, 20_000)
    records = controller.phases_
    assert (records[0].name, records[0].start_tick, records[0].ended_by) == (
        "warm_up", 0, "duration")
    assert records[1].start_tick == 1000  # 1 s warm-up at 1 kHz
    # 4 steps of a 1.2 s stride (0.6 s per step) after the warm-up's: 2.4 s, give or take a step
    assert records[1].ended_by == "steps"
    assert 1000 + 1800 <= records[2].start_tick <= 1000 + 3000
    assert counter.steps - records[1].start_steps >= 4
    assert records[2].end_tick == records[2].start_tick + 500
    assert len(commands) == records[2].end_tick and finished == [1]
    # warm-up and cool-down at 2.2 km/h, training at 3.0
    assert treadmill.speeds == pytest.approx([3.0 / 3.6, 2.2 / 3.6])
    assert treadmill.speeds[0] == pytest.approx(phases[1].treadmill_speed_mps)


def test_a_phase_change_on_the_same_controller_ramps_instead_of_stepping(tmp_path: Path) -> None:
    phases = protocol_phases(tmp_path, [
        *SHORT, ("[[phases]]\nname = \"training\"\nkind = \"training\"",
         "[[phases]]\nname = \"training\"\nkind = \"training\"\nguidance_pct = 50")])
    controller, counter, _ = make(phases)
    inner = controller.current_
    kp: list[float] = []
    drive(controller, counter, 3000, lambda tick, c: kp.append(float(c.kp[0])))
    assert controller.current_ is inner  # the same controller, its gait phase runs on
    full = phases[0].stiffness_nm_per_rad.hip_flexion
    assert kp[999] == pytest.approx(full)
    # guidance ramps at 25 %/s: 0.025 % per tick, never a step
    assert max(abs(np.diff(kp[990:3000]))) <= full * 0.00025 + 1e-9
    assert kp[1999] == pytest.approx(full * 0.75, rel=1e-3)


def test_a_change_of_controller_cross_fades_the_torque(tmp_path: Path) -> None:
    phases = protocol_phases(tmp_path, [
        *SHORT, ("[[phases]]\nname = \"cool_down\"\nkind = \"cool_down\"",
         "[[phases]]\nname = \"cool_down\"\nkind = \"cool_down\"\ncontroller = \"transparent\"\n"
         "phase_source = \"oscillator\"\nguidance_pct = 0")])
    controller, counter, _ = make(phases)
    torques: list[np.ndarray] = []
    q = np.zeros(len(NAMES))

    def record(tick: int, command: JointCommand) -> None:
        torques.append(command.expected_torque(q, q))

    drive(controller, counter, 20_000, record)
    switch = controller.phases_[2].start_tick
    assert type(controller.current_).__name__ == "TransparentController"
    steps = np.abs(np.diff(np.array(torques[switch - 5:switch + 5]), axis=0))
    usual = np.abs(np.diff(np.array(torques[switch - 500:switch - 5]), axis=0)).max()
    assert steps.max() <= usual * 1.5  # no jump at the boundary: the old law fades out


def test_live_changes_stay_inside_the_phase_bounds_and_are_logged(tmp_path: Path) -> None:
    phases = protocol_phases(tmp_path, SHORT)
    treadmill = RecordingTreadmill()
    controller, _, _ = make(phases, treadmill)
    spec = controller.param_specs["guidance_pct"]
    assert (spec.low, spec.high) == (50.0, 100.0)  # the protocol's bounds, not 0-100
    assert controller.param_specs["treadmill_speed_kmh"].high == 3.5
    trial = copy.copy(controller)
    with pytest.raises(ConfigurationError, match=r"guidance_pct = 20 % is out of range "
                                                 r"\[50, 100\]"):
        trial.set_params(guidance_pct=20.0)
    with pytest.raises(ConfigurationError, match="no parameter 'wobble'"):
        trial.set_params(wobble=1.0)
    trial.set_params(guidance_pct=60.0, treadmill_speed_kmh=3.2)
    assert controller.get_params()["guidance_pct"] == 100.0 and not controller.changes_
    assert treadmill.speeds == []  # a trial never reaches the treadmill
    controller.set_params(guidance_pct=20.0, treadmill_speed_kmh=3.2, wobble=1.0)
    assert controller.get_params()["guidance_pct"] == 50.0  # clamped, never raised
    assert controller.changes_ == [(0, {"guidance_pct": 50.0, "treadmill_speed_kmh": 3.2})]
    assert treadmill.speeds == [pytest.approx(3.2 / 3.6)]


def test_step_counter_ignores_landing_bounces_and_scuffs() -> None:
    ms = 0.001
    pattern = ([(True, True)] * 300 + [(False, True)] * 400  # swing, then a landing
               + [(True, True)] * 20 + [(False, True)] * 30  # bounce on landing
               + [(True, True)] * 500
               + [(False, True)] * 200 + [(True, True)] * 40 + [(False, True)] * 200  # scuff
               + [(True, True)] * 300)
    feet = iter(pattern)
    counter = StepCounter(lambda: next(feet), ms)
    seen = [counter() for _ in pattern]
    assert seen == pattern
    assert counter.steps == 2


def test_a_protocol_needs_a_walking_phase() -> None:
    with pytest.raises(ConfigurationError, match="at least one walking phase"):
        PhasedController((), lambda phase: pytest.fail("built"), StepCounter(lambda: (True, True),
                         PERIOD), period_s=PERIOD)


def test_a_phase_boundary_the_controller_would_refuse_is_refused_before_the_loop(
    tmp_path: Path,
) -> None:
    text = bundled_file("protocols", "assist_as_needed.toml").read_text().replace(
        "controller_params = { min_guidance_pct = 0 }",
        "controller_params = { min_guidance_pct = 80 }", 1).replace(  # floor over ceiling
        "min_guidance_pct = [0, 50]", "min_guidance_pct = [0, 90]")
    (tmp_path / "p.toml").write_text(text)
    with pytest.raises(ConfigurationError, match=r"min_guidance_pct = 80 % is above "
                                                 r"max_guidance_pct = 70 %"):
        make(load_protocol(tmp_path / "p.toml").walking_phases)


def test_a_live_change_the_controller_refuses_is_dropped_not_raised(tmp_path: Path) -> None:
    phases = load_protocol("assist_as_needed").walking_phases[1:]  # training, cool-down
    controller, _, _ = make(phases)
    controller.set_params(min_guidance_pct=50.0)  # floor 50 %, above the 40 % asked next
    ceiling = controller.get_params()["max_guidance_pct"]
    with pytest.raises(ConfigurationError, match="is above"):
        copy.copy(controller).set_params(max_guidance_pct=40.0)
    controller.set_params(max_guidance_pct=40.0)
    assert controller.get_params()["max_guidance_pct"] == ceiling > 50.0
    assert [values for _, values in controller.changes_] == [{"min_guidance_pct": 50.0}]


def test_only_the_phases_adjustable_parameters_can_change_live() -> None:
    warm_up, training = load_protocol("assist_as_needed").walking_phases[:2]
    controller, _, _ = make([warm_up, training])  # the warm-up lists nothing as adjustable
    assert controller.param_specs == {}
    with pytest.raises(ConfigurationError, match="no parameter 'treadmill_speed_kmh'"):
        copy.copy(controller).set_params(treadmill_speed_kmh=5.0)
    controller.set_params(treadmill_speed_kmh=5.0, max_guidance_pct=0.0)
    assert controller.treadmill_speed_kmh == warm_up.treadmill_speed_kmh
    assert controller.changes_ == []


def test_a_step_target_not_reached_in_time_ends_at_its_time_limit(tmp_path: Path) -> None:
    phases = protocol_phases(tmp_path, [
        (WARM_UP, "duration_s = 0.5\ntreadmill_speed_kmh = 2.2"),
        ("duration_s = 600", "steps = 1000\nmax_duration_s = 1.5")])
    controller, counter, _ = make(phases)
    drive(controller, counter, 20_000)
    training = controller.phases_[1]
    assert (training.start_tick, training.end_tick, training.ended_by) == (500, 2000,
                                                                          "time_limit")
    assert phases[1].time_limit_s == 1.5
    # without max_duration_s: twice the time the steps take at the phase's cadence
    default = protocol_phases(tmp_path, [("duration_s = 600", "steps = 300")])[1]
    assert default.time_limit_s == pytest.approx(2 * 300 / 90 * 60)


def test_a_change_of_controller_keeps_the_gait_phase(tmp_path: Path) -> None:
    """The new controller takes up the gait phase where the old one led the legs; started over
    at phase 0 it would pull them toward a pose a part of a stride away."""
    phases = protocol_phases(tmp_path, [
        *SHORT, ("[[phases]]\nname = \"cool_down\"\nkind = \"cool_down\"",
         "[[phases]]\nname = \"cool_down\"\nkind = \"cool_down\"\ncontroller = \"transparent\"\n"
         "phase_source = \"oscillator\"\nguidance_pct = 0")])
    controller, counter, _ = make(phases)
    phase: list[float] = []
    drive(controller, counter, 20_000, lambda tick, c: phase.append(controller.phase_))
    switch = controller.phases_[2].start_tick
    jump = (phase[switch] - phase[switch - 1] + 0.5) % 1.0 - 0.5
    assert phase[switch - 1] > 0.05  # not trivially at 0 before the switch
    assert abs(jump) < 0.005


def test_a_new_phase_starts_with_its_planned_values(tmp_path: Path) -> None:
    phases = protocol_phases(tmp_path, SHORT)
    controller, counter, _ = make(phases)

    def lower_guidance_in_training(tick: int, command: JointCommand) -> None:
        if controller.phase.name == "training" and controller.get_params()["guidance_pct"] > 60:
            controller.set_params(guidance_pct=60.0)

    drive(controller, counter, 20_000, lower_guidance_in_training)
    assert [values for _, values in controller.changes_] == [{"guidance_pct": 60.0}]
    assert controller.phase.name == "cool_down"
    assert controller.get_params()["guidance_pct"] == phases[2].guidance_pct == 100.0


def test_a_supervisor_reset_mid_session_fades_the_robot_in_on_the_same_phase(
    tmp_path: Path,
) -> None:
    phases = protocol_phases(tmp_path, [("duration_s = 600", "duration_s = 10")])
    controller, counter, _ = make(phases)
    drive(controller, counter, 1500)  # 1.5 s of warm-up (drive starts with a reset)
    before = controller.phase_
    state = JointState.zeros(len(NAMES), t_s=1.5)
    controller.reset(state)  # what the loop does when the supervisor accepts a reset
    first = controller.update(state)
    assert abs((controller.phase_ - before + 0.5) % 1.0 - 0.5) < 0.005
    assert np.all(first.kp == 0.0) and np.all(first.tau_ff == 0.0)
    kp = [first.kp[0]]
    for tick in range(1, 2100):
        state = JointState.zeros(len(NAMES), t_s=1.5 + tick * PERIOD)
        kp.append(controller.update(state).kp[0])
    full = phases[0].stiffness_nm_per_rad.hip_flexion
    assert kp[1000] == pytest.approx(full / 2, rel=0.01)  # half way through the 2 s fade-in
    assert kp[-1] == pytest.approx(full)
