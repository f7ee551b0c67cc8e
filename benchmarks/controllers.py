"""Control modes × simulated patients: tracking, who does the work, interaction torque, phase error.

Every cell is one simulated session through the full CAN path (``SimulatedExoskeleton`` on a
python-can ``virtual`` bus, ``CanRobot``, ``Supervisor``, ``ControlLoop`` in lockstep), built from
the bundled ``sim_exo`` robot and ``standard_gait`` protocol (3 km/h, 90 steps/min, 30 %
body-weight support, full-guidance stiffness 800/600 N·m/rad at hip/knee), a 1.75 m, 75 kg patient
of the given profile (:data:`rehabbot.sim.patient_profiles.PROFILES`), the same seed in every cell.

What each column is (over the session after the first :data:`SETTLE_S` s, up to a fault if any;
computed by :func:`rehabbot.sweeps.measure.measure`, which the parameter sweeps share):

* **RMS error (deg)**: hips and knees against the normative pattern at the patient's *true* gait
  phase, taken from the simulator's right foot strikes (so it is the same yardstick whatever the
  controller's own phase);
* **robot work (%)**: the robot's share of the positive mechanical work done on the joints,
  ``W_r / (W_r + W_p)`` with ``W = Σ_joints ∫ max(0, τ q̇) dt``, ``τ`` the drives' measured torque
  for the robot and the simulated patient's own torque for the patient;
* **peak torque (N·m)**: the largest drive torque on any joint, the interaction torque;
* **phase error (ms)**: RMS of the controller's gait phase minus the true phase, times the stride
  duration;
* **ran (s)**: how long the session ran; less than asked means a safety fault stopped it (the
  patient could not walk in that mode: usually the trailing leg dragged past the hip's extension
  limit). A cell ends at its first fault.

The supervisor is the runner's: hard limits from the robot configuration, soft range-of-motion
limits from the protocol.

Usage: ``python benchmarks/controllers.py [--seconds 20] [--jobs 2] [--seed 0]``
"""

from __future__ import annotations

import argparse
import math
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegGravity, LegSegments
from rehabbot.body.orthosis import ExoSegments
from rehabbot.controllers.assist_as_needed import AssistAsNeededController
from rehabbot.controllers.base import Controller
from rehabbot.controllers.compensation import Compensation
from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.controllers.path_control import PathController
from rehabbot.controllers.phase_sources import (
    DEFAULT_ESTIMATOR,
    PHASE_SOURCES,
    hip_phase,
    make_phase_estimator,
)
from rehabbot.controllers.transparent import TransparentController
from rehabbot.hal.config import load_robot_config
from rehabbot.hal.robot import CanRobot
from rehabbot.hal.types import FloatArray, JointState
from rehabbot.protocols.schema import load_protocol
from rehabbot.runtime.clock import LockstepClock
from rehabbot.runtime.loop import ControlLoop
from rehabbot.safety.faults import SafetyEvent
from rehabbot.safety.limits import JointLimits, SoftLimits
from rehabbot.safety.range_margin import RangeMargin
from rehabbot.safety.supervisor import Supervisor
from rehabbot.session.bringup import ACTIVATION_TIMEOUT_S
from rehabbot.session.runner import DEMO_PATIENT
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.sim.simulator import SimulatedExoskeleton, SimulationSettings
from rehabbot.storage.samples import Sample
from rehabbot.sweeps.measure import SETTLE_S, Measures, measure

Factory = Callable[[tuple[str, ...], FloatArray, FloatArray, float, Compensation, RangeMargin],
                   Controller]

#: The controllers compared: name → factory(joint names, K, D, cadence, compensation, ROM margins).
CONTROLLERS: dict[str, Factory] = {
    "transparent": lambda names, k, d, cadence, comp, rom: TransparentController(
        names, comp, phase_source=DEFAULT_ESTIMATOR, cadence_steps_per_min=cadence,
        range_margin=rom),
    "impedance 100 %, clock": lambda names, k, d, cadence, comp, rom: ImpedanceController(
        names, k, d, 100.0, cadence_steps_per_min=cadence, compensation=comp, range_margin=rom),
    "impedance 50 %, thighs": lambda names, k, d, cadence, comp, rom: ImpedanceController(
        names, k, d, 50.0, cadence_steps_per_min=cadence, phase_source=DEFAULT_ESTIMATOR,
        compensation=comp, range_margin=rom),
    "assist-as-needed": lambda names, k, d, cadence, comp, rom: AssistAsNeededController(
        names, k, d, forgetting=0.9, error_gain_pct_per_rad=60.0, max_guidance_pct=70.0,
        cadence_steps_per_min=cadence, phase_source=DEFAULT_ESTIMATOR, compensation=comp,
        range_margin=rom),
    "path control": lambda names, k, d, cadence, comp, rom: PathController(
        names, tunnel_width_rad=0.05, wall_stiffness_nm_per_rad=1500.0, flow_nm=5.0,
        window_cycles=0.03, cadence_steps_per_min=cadence, compensation=comp, range_margin=rom),
}
#: The cooperative modes: the patient sets the timing or the amount of help.
COOPERATIVE = ("transparent", "impedance 50 %, thighs", "assist-as-needed", "path control")


class Recording:
    """The loop's samples of one session, in preallocated arrays (a ``SampleSink``)."""

    def __init__(self, ticks: int, joints: int) -> None:
        self.t_s = np.zeros(ticks)
        self.phase = np.zeros(ticks)
        self.contact_r = np.zeros(ticks, dtype=bool)
        self.contact_l = np.zeros(ticks, dtype=bool)
        self.q = np.zeros((ticks, joints))
        self.qd = np.zeros((ticks, joints))
        self.tau = np.zeros((ticks, joints))
        self.tau_cmd = np.zeros((ticks, joints))
        self.q_ref = np.zeros((ticks, joints))
        self.ticks = 0

    def push(self, sample: Sample) -> None:
        """Store one tick."""
        tick = sample.tick
        self.t_s[tick], self.phase[tick] = sample.t_s, sample.phase
        self.contact_r[tick], self.contact_l[tick] = sample.contact_r, sample.contact_l
        self.q[tick], self.qd[tick], self.tau[tick] = sample.q, sample.qd, sample.tau
        self.tau_cmd[tick], self.q_ref[tick] = sample.tau_cmd, sample.q_ref
        self.ticks = tick + 1

    def save(self, path: str, names: tuple[str, ...], events: list[SafetyEvent]) -> None:
        """Write the recorded ticks and the session's safety events to ``path`` (``.npz``)."""
        n = self.ticks
        np.savez_compressed(
            path, joint_names=np.array(names), t_s=self.t_s[:n], phase=self.phase[:n],
            contact_r=self.contact_r[:n], contact_l=self.contact_l[:n], q=self.q[:n],
            qd=self.qd[:n], tau=self.tau[:n], tau_cmd=self.tau_cmd[:n], q_ref=self.q_ref[:n],
            events=np.array([f"{e.t_s:.3f} {e.kind} {e.joint} {e.values}" for e in events]))


@dataclass(frozen=True)
class Cell:
    """The figures of one controller on one patient (see the module docstring): the measures,
    the assist-as-needed controller's learned guidance (%) per joint, the phase error (ms) of
    every phase source run on the session's recorded hips, how the session ended, and the
    ROM-margin warnings it raised."""

    measures: Measures
    guidance_pct: tuple[float, ...] | None
    estimator_error_ms: dict[str, float]
    ended: str
    margin_warnings: int
    closest_deg: tuple[float, ...]


def estimator_errors(recording: Recording, names: tuple[str, ...], ran_s: float,
                     cadence: float, period_s: float) -> dict[str, float]:
    """The RMS phase error (ms) of every phase source fed offline with the session's hips."""
    n = recording.ticks
    errors = {}
    for name in PHASE_SOURCES:
        source = hip_phase(name, names, cadence, period_s)
        phase = np.empty(n)
        for k in range(n):
            state = JointState.zeros(len(names), float(recording.t_s[k]))
            state.q[:], state.qd[:] = recording.q[k], recording.qd[k]
            phase[k] = source.update(state)
        errors[name] = measure(
            recording.t_s[:n], phase, recording.contact_r[:n], recording.q[:n],
            recording.qd[:n], recording.tau[:n], names, ran_s).phase_error_ms
    return errors


def run_session(controller: str, profile: str, seconds: float, seed: int,
                estimators: bool = True, trace_dir: str | None = None) -> Cell:
    """One simulated session of ``controller`` on patient ``profile``; its figures.

    Built the way ``session/runner.py`` builds a session, with the controller and the patient
    profile chosen here, and the patient's torques recorded by wrapping its ``torques`` method.
    A controller that asks for a controlled stop (``stop_reason_``) gets one: a category-1 fade
    requested at once, as a therapist's stop. With ``trace_dir``, the recorded ticks and every
    safety event are written there (``<controller>-<profile>.npz``, :meth:`Recording.save`).
    """
    config, protocol = load_robot_config(), load_protocol()
    names = config.joint_names
    channel_suffix = f"-bench-{uuid.uuid4().hex[:12]}"  # this session's own virtual channels
    sim = SimulatedExoskeleton(config, SimulationSettings(
        height_m=DEMO_PATIENT.height_m, mass_kg=DEMO_PATIENT.mass_kg,
        belt_speed_mps=protocol.treadmill_speed_mps,
        body_weight_support=protocol.body_weight_support_pct / 100.0,
        cadence_steps_per_min=protocol.cadence_steps_per_min, profile=PROFILES[profile],
        seed=seed,
    ), channel_suffix=channel_suffix)
    ticks = round(seconds / config.period_s) + 1
    sim_steps = ticks + round((ACTIVATION_TIMEOUT_S + 2.0) / config.period_s)
    actuated = [sim.world.joint_names.index(n) for n in names]
    patient_power = np.zeros(sim_steps)
    patient_torques = sim.patient.torques

    def recorded_torques(t_s: float, q: FloatArray, qd: FloatArray, contact: bool) -> FloatArray:
        tau = patient_torques(t_s, q, qd, contact)
        step = min(round(t_s / config.period_s), sim_steps - 1)
        patient_power[step] = float(np.maximum(tau[actuated] * qd[actuated], 0.0).sum())
        return tau

    sim.patient.torques = recorded_torques  # type: ignore[method-assign, assignment]
    clock = LockstepClock(config.period_s, step=sim.step)
    robot = CanRobot(config, channel_suffix=channel_suffix, time_source=clock.now)
    recording = Recording(ticks + round(2.0 / config.period_s), len(names))
    body = BodyModel.from_height_mass(DEMO_PATIENT.height_m, DEMO_PATIENT.mass_kg)
    compensation = Compensation(LegGravity(names, LegSegments.from_body(body, ExoSegments())))
    stiffness = np.array([protocol.stiffness_nm_per_rad.for_joint(n) for n in names])
    damping = np.array([protocol.damping_nms_per_rad.for_joint(n) for n in names])
    rom = protocol.range_of_motion_deg.for_joints(names)
    ctrl = CONTROLLERS[controller](
        names, stiffness, damping, protocol.cadence_steps_per_min, compensation,
        RangeMargin.from_rom(names, rom))
    warnings: list[SafetyEvent] = []
    events: list[SafetyEvent] = []

    def on_event(event: SafetyEvent) -> None:
        events.append(event)
        if event.kind.startswith("fault:"):  # a fault ends the cell at once (see module doc)
            loop.request_stop()
        elif event.kind == "warning:rom_margin":
            warnings.append(event)

    def on_tick(t_s: float) -> None:
        if ctrl.stop_reason_ is not None:  # a session's stop: the torque fades, the belt stops
            loop.request_stop(fade=True)
            sim.set_belt_speed(0.0)

    try:
        with sim.serving():
            robot.configure()
        robot.activate(clock.wait_next_tick, ACTIVATION_TIMEOUT_S)
        start_step = round(sim.world.time_s / config.period_s)
        supervisor = Supervisor.from_config(config, soft_limits=SoftLimits.from_rom(
            names, rom, JointLimits.from_config(config),
            zone_rad=math.radians(protocol.soft_zone_deg),
        ))
        loop = ControlLoop(robot, supervisor, ctrl, clock, recorder=recording,
                           contacts=sim.foot_contacts, events=on_event)
        clock.restart()
        report = loop.run(seconds, on_progress=on_tick, progress_every_ticks=5)
    finally:
        robot.close()
        sim.close()
    if report.faults:
        ran_s, ended = report.faults[0].t_s, report.faults[0].describe()
    elif ctrl.stop_reason_ is not None:
        ran_s, ended = report.duration_s, f"controlled stop: {ctrl.stop_reason_}"
    else:
        ran_s, ended = report.duration_s, "completed"
    if trace_dir is not None:
        slug = "".join(c if c.isalnum() else "_" for c in f"{controller}-{profile}")
        recording.save(f"{trace_dir}/{slug}.npz", names, events)
    patient = patient_power[start_step:start_step + recording.ticks]
    guidance = (tuple(float(g) for g in ctrl.table_pct_.mean(axis=1))
                if isinstance(ctrl, AssistAsNeededController) else None)
    n = recording.ticks
    errors = (estimator_errors(recording, names, ran_s, protocol.cadence_steps_per_min,
                               config.period_s) if estimators else {})
    return Cell(measure(
        recording.t_s[:n], recording.phase[:n], recording.contact_r[:n], recording.q[:n],
        recording.qd[:n], recording.tau[:n], names, ran_s, patient,
    ), guidance, errors, ended, len(warnings), closest_approach_deg(recording, names, rom))


def closest_approach_deg(recording: Recording, names: tuple[str, ...],
                         rom: dict[str, tuple[float, float]]) -> tuple[float, ...]:
    """Per joint, the smallest margin (deg) to the patient's range of motion over the session
    after the first :data:`SETTLE_S` s (negative: beyond it)."""
    margin = RangeMargin.from_rom(names, rom)
    q = recording.q[:recording.ticks][recording.t_s[:recording.ticks] >= SETTLE_S]
    if not len(q):
        return tuple(math.nan for _ in names)
    closest = np.min([margin.update(row).copy() for row in q[::10]], axis=0)
    return tuple(float(np.degrees(c)) for c in closest)


def estimator_cost_us(updates: int = 20_000) -> dict[str, float]:
    """Wall time per update (µs) of each phase source on a synthetic hip angle."""
    t = np.arange(updates) * 0.001
    hip = (0.1 + 0.35 * np.sin(2 * np.pi * 0.75 * t)).tolist()
    velocity = (0.35 * 2 * np.pi * 0.75 * np.cos(2 * np.pi * 0.75 * t)).tolist()
    cost = {}
    for name in PHASE_SOURCES:
        estimator = make_phase_estimator(name, 90.0, 0.001)
        began = time.perf_counter()
        for k, t_s in enumerate(t.tolist()):
            estimator.update(t_s, hip[k], velocity[k])
        cost[name] = (time.perf_counter() - began) / updates * 1e6
    return cost


def main() -> None:
    """Run every cell and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="session length (s)")
    parser.add_argument("--jobs", type=int, default=2, help="sessions run in parallel")
    parser.add_argument("--seed", type=int, default=0, help="seed of every session")
    parser.add_argument("--controllers", nargs="*", default=list(CONTROLLERS),
                        choices=list(CONTROLLERS), help="the modes to run (default: all)")
    parser.add_argument("--profiles", nargs="*", default=list(PROFILES),
                        choices=list(PROFILES), help="the patients to run (default: all)")
    parser.add_argument("--estimators", action=argparse.BooleanOptionalAction, default=True,
                        help="replay every phase source on each session's hips (the third "
                             "table; --no-estimators saves minutes on long sessions)")
    parser.add_argument("--trace", metavar="DIR", default=None,
                        help="write each session's ticks and safety events to DIR/*.npz")
    args = parser.parse_args()
    cells = [(c, p) for c in args.controllers for p in args.profiles]
    began = time.perf_counter()
    console = Console(width=160)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_session, c, p, args.seconds, args.seed,
                               args.estimators, args.trace): (c, p)
                   for c, p in cells}
        done = {}
        for future in as_completed(futures):  # each cell as it ends, so a long run shows progress
            done[futures[future]] = cell = future.result()
            console.print(f"[{time.perf_counter() - began:.0f} s] {' / '.join(futures[future])}: "
                          f"{cell.measures.as_dict()}, {cell.ended}", highlight=False)
        results = {key: done[key] for key in cells}
    elapsed = time.perf_counter() - began
    table = Table(title=f"control modes × simulated patients, {args.seconds:g} s sessions "
                        f"(figures after the first {SETTLE_S:g} s)")
    for column in ("controller", "patient", "RMS error (deg)", "robot work (%)",
                   "peak torque (N·m)", "phase error (ms)", "ROM warnings", "ran (s)", "ended"):
        table.add_column(column, justify="left" if column in (
            "controller", "patient", "ended") else "right")
    for (controller, profile), cell in results.items():
        m = cell.measures
        table.add_row(
            controller, profile, f"{m.rms_error_deg:.1f}", f"{m.robot_work_pct:.0f}",
            f"{m.peak_torque_nm:.0f}", f"{m.phase_error_ms:.0f}", str(cell.margin_warnings),
            f"{m.ran_s:.1f}", cell.ended,
        )
    console.print(table)
    learned = Table(title="assist-as-needed: learned guidance at the end (%), mean over phase bins")
    learned.add_column("patient")
    for name in load_robot_config().joint_names:
        learned.add_column(name, justify="right")
    for (_, profile), cell in results.items():
        if cell.guidance_pct is not None:
            learned.add_row(profile, *(f"{g:.0f}" for g in cell.guidance_pct))
    console.print(learned)
    if args.estimators:
        source_of = args.controllers[0] if "assist-as-needed" not in args.controllers else (
            "assist-as-needed")
        phase = Table(title=f"phase error (RMS, ms) of every phase source, fed offline with the "
                            f"hips of the {source_of} sessions")
        phase.add_column("phase source")
        for profile in args.profiles:
            phase.add_column(profile, justify="right")
        for name in PHASE_SOURCES:
            phase.add_row(name + (" (default)" if name == DEFAULT_ESTIMATOR else ""), *(
                f"{results[(source_of, p)].estimator_error_ms[name]:.0f}" for p in args.profiles))
        console.print(phase)
    cost = ", ".join(f"{name} {us:.1f} µs" for name, us in estimator_cost_us().items())
    console.print(f"phase source cost per update: {cost}")
    console.print(f"{len(cells)} sessions in {elapsed:.0f} s wall time with {args.jobs} jobs")


if __name__ == "__main__":
    main()
