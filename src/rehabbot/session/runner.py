"""The session runner: one therapy session from protocol to stored recording and summary.

A session is staged (DESIGN.md, "The data path"):

1. **plan**: the patient, progression from their last session, the phases, the session's row in
   the store (with the robot's stored zero offsets applied);
2. **bring up the plant**: the plant is injected (:class:`~rehabbot.session.plant.Plant`, by
   default :func:`~rehabbot.session.plant_choice.open_plant`: the robot's own buses and drives,
   or an in-process simulation for a robot on ``virtual`` buses) and brought up through every
   check of :mod:`rehabbot.session.bringup`;
3. **run**: the control loop (robot, supervisor, controller, torque ramped in) until the phases
   end or a stop, which fades the torque out. Assessment phases before the walking phases run
   first in the same way, as a battery of robot assessments (:mod:`rehabbot.session.battery`:
   a loop run on the same plant and recording, under the same supervisor, the treadmill stopped
   and the person lifted), then the walking phases take over; assessment phases after them run
   once the walking has faded out and completed;
4. **finalize**: the drives disabled, the recording flushed, events, phases, assessments (each
   analysed from the recorded samples) and the summary stored.

This module imports neither pybullet nor a drive protocol: the plant brings them. An in-process
simulation runs in lockstep (deterministic for a seed) unless ``realtime`` asks for wall-clock
pacing; every other plant runs on the wall clock.

A recording that fails mid-session (e.g. a full disk) is a ``storage`` fault of the supervisor:
the torque fades out, the session ends as ``faulted`` with the error in its summary
(``recording_error``), and the samples committed before the failure stay readable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import queue
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rehabbot.assessment.robot.recording import RobotSetup
from rehabbot.assessment.summary import SessionSummary, summarize
from rehabbot.controllers.base import Controller
from rehabbot.controllers.factory import build_controller
from rehabbot.controllers.procedures import RELAX, AssessmentBattery, Instruction
from rehabbot.errors import ConfigurationError, StorageError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.types import FloatArray
from rehabbot.protocols.phased import PhasedController, StepCounter
from rehabbot.protocols.progression_plan import Change, plan_progression, with_values
from rehabbot.protocols.schema import MAX_PHASE_S, Phase, Protocol
from rehabbot.runtime.loop import ControlLoop, LoopReport, SampleSink, TeeSink
from rehabbot.safety.faults import EventSink, SafetyEvent
from rehabbot.safety.limits import JointLimits, SoftLimits
from rehabbot.safety.supervisor import Supervisor
from rehabbot.session.battery import (
    FaultWatch,
    PlannedAssessment,
    ShiftedSink,
    battery_results,
    plan_battery,
    walking_start,
)
from rehabbot.session.bringup import Confirm, enable, prepare
from rehabbot.session.plant import Plant, PlantFactory, PlantSettings
from rehabbot.session.plant_choice import open_plant
from rehabbot.session.zeroing import with_stored_offsets
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.storage.recorder import Recorder
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore
from rehabbot.storage.truth import MUSCLE_TORQUE, TruthRecorder, write_truth

#: Time (s) a battery's loop may run beyond its planned course (it ends itself when done):
#: the joints may start anywhere in their range after walking.
BATTERY_MARGIN_S = 30.0


@dataclass(frozen=True)
class PatientDefaults:
    """The demo patient, created on first use, and the body used when a patient has none."""

    code: str = "DEMO-001"
    display_name: str = "Demo Patient"
    height_m: float = 1.75
    mass_kg: float = 75.0


DEMO_PATIENT = PatientDefaults()
#: Ticks between the loop's checks for a controller's controlled stop, and between progress
#: reports to the caller.
STOP_CHECK_TICKS = 10
PROGRESS_EVERY_TICKS = 250


def _not_confirmed(question: str) -> bool:
    """The default operator: nobody to confirm anything."""
    return False


def _no_contacts() -> tuple[bool, bool]:
    """A robot that cannot tell foot contact: neither foot is known to touch."""
    return False, False


@dataclass
class SessionRequest:
    """What to run.

    Attributes:
        robot: robot configuration.
        protocol: therapy protocol.
        store_path: the session store file.
        patient_code: the patient's code; the demo patient is created if this is its code.
        duration_s: run only the protocol's training phase, this long (s); warm-up, cool-down
            and assessment phases are left out (a quick session).
        guidance_pct: overrides the guidance of the training phases (%), within their
            adjustable bounds.
        seed: seed of the simulation's random draws.
        realtime: pace an in-process simulation to the wall clock instead of lockstep.
        profile: the simulated patient's profile (a key of
            ``rehabbot.sim.patient_profiles.PROFILES``).
        plant: opens the plant (default :func:`~rehabbot.session.plant_choice.open_plant`).
        confirm: asks the operator to confirm what the robot cannot set itself (treadmill and
            body-weight support by hand); default: nobody confirms, and a robot without a
            treadmill interface is refused.
        live: a second sample sink that sees every tick (e.g. a console's shared-memory ring);
            it must neither block nor raise.
        events: a second event sink that receives every safety event on the loop's thread, after
            the runner's own queue (which stores them), e.g. a console's reply queue; it must
            neither block nor raise.
        progress: apply the protocol's progression rules from the patient's last completed
            session of this protocol.
    """

    robot: RobotConfig
    protocol: Protocol
    store_path: Path
    patient_code: str = DEMO_PATIENT.code
    duration_s: float | None = None
    guidance_pct: float | None = None
    seed: int = 0
    realtime: bool = False
    profile: str = "healthy"
    live: SampleSink | None = None
    events: EventSink | None = None
    progress: bool = True
    plant: PlantFactory = open_plant
    confirm: Confirm = _not_confirmed


@dataclass
class SessionResult:
    """What a session produced.

    Attributes:
        progression: the parameter changes progression rules made before the session.
    """

    session_id: int
    status: str
    summary: SessionSummary
    loop: LoopReport
    dropped_samples: int
    extra: dict[str, object] = field(default_factory=dict)
    progression: list[Change] = field(default_factory=list)
    #: Why the controller asked for a controlled stop (``Controller.stop_reason_``), if it did.
    stop_reason: str | None = None


def session_phases(
    protocol: Protocol, duration_s: float | None = None, guidance_pct: float | None = None
) -> tuple[Phase, ...]:
    """The phases a session runs: the protocol's, or with a ``duration_s`` override its
    training phase alone for that long (s); a ``guidance_pct`` override (%) set on the training
    phases.

    Raises:
        ConfigurationError: the guidance override lies outside a training phase's adjustable
            bounds or [0, 100] %, or the duration override outside (0, 7200] s.
    """
    phases = protocol.phases
    if duration_s is not None:
        if not 0.0 < duration_s <= MAX_PHASE_S:
            raise ConfigurationError(
                f"duration {duration_s:g} s is outside (0, {MAX_PHASE_S:g}] s")
        phases = (protocol.training_phase.model_copy(
            update={"duration_s": duration_s, "steps": None, "max_duration_s": None}),)
    guidance = guidance_pct
    if guidance is None:
        return phases
    out = []
    for phase in phases:
        if phase.kind == "training":
            spec = phase.absolute_range("guidance_pct")  # the bounds, else the whole range
            low, high = phase.adjustable.get("guidance_pct", (spec.low, spec.high))
            if not low <= guidance <= high:
                raise ConfigurationError(
                    f"guidance {guidance:g} % is outside [{low:g}, {high:g}] %, the bounds of "
                    f"phase {phase.name!r} of protocol {protocol.name!r}")
            phase = phase.model_copy(update={"guidance_pct": guidance})
        out.append(phase)
    return tuple(out)


class SessionRunner:
    """Runs one session; :meth:`request_stop` (e.g. from Ctrl-C) ends it with a torque fade."""

    def __init__(self, request: SessionRequest) -> None:
        """Validate the request; nothing is opened yet.

        Raises:
            ConfigurationError: the duration or guidance override is out of range, the seed
                negative, or the profile unknown.
        """
        self.request = request
        phases = session_phases(request.protocol, request.duration_s, request.guidance_pct)
        #: Planned walking time (s): timed phases, and step targets at their cadence.
        self.duration_s = sum(p.expected_duration_s for p in phases if p.walking)
        if request.seed < 0:
            raise ConfigurationError(
                f"seed {request.seed} is negative; give a seed of 0 or more")
        if request.profile not in PROFILES:
            raise ConfigurationError(
                f"unknown patient profile {request.profile!r}; choose one of "
                f"{', '.join(sorted(PROFILES))}"
            )
        self._loop: ControlLoop | None = None
        self._stop_requested = False
        self._assessing = False
        self._walked = False
        self._stop_reason: str | None = None
        self._stop_t_s = 0.0

    @property
    def loop(self) -> ControlLoop | None:
        """The running control loop (None before it starts): its ``request_params``,
        ``request_reset`` and ``request_stop`` and its supervisor's ``estop`` act at the next tick
        boundary, from any thread. Its controller is a
        :class:`~rehabbot.protocols.phased.PhasedController`."""
        return self._loop

    @property
    def assessing(self) -> bool:
        """A battery of robot assessments runs (in :attr:`loop`, under its supervisor)."""
        return self._assessing

    @property
    def walked(self) -> bool:
        """The session's loops have ended: commands to :attr:`loop` no longer move anything."""
        return self._walked

    def request_stop(self) -> None:
        """End the session at the next tick boundary with a torque fade; assessments not yet
        run are skipped (recorded as such)."""
        self._stop_requested = True
        if self._loop is not None:
            self._loop.request_stop(fade=True)

    def _run_battery(self, planned: list[PlannedAssessment], setup: RobotSetup, plant: Plant,
                     supervisor: Supervisor, sinks: _Sinks, start_q: FloatArray, *,
                     walking_follows: bool) -> tuple[AssessmentBattery, LoopReport]:
        """Run the assessments of ``planned`` as one battery in a control loop on ``plant``
        under ``supervisor``, the joints at about ``start_q`` (rad); it ends when the battery
        has (at once if walking follows, else with a torque fade), or after a fault or a stop
        request with a fade."""
        robot, clock = plant.robot, plant.clock
        procedures = [p.procedure for p in planned]
        if walking_follows:
            procedures.append(walking_start(robot.config.joint_names))
        battery = AssessmentBattery(robot.config.joint_names, procedures, setup.gravity(),
                                    plant.instruct or _nobody)
        loop = ControlLoop(robot, supervisor, battery, clock, recorder=sinks.shifted(),
                           contacts=plant.contacts or _no_contacts,
                           events=_tee_events(_tee_events(sinks.events, FaultWatch(battery)),
                                              self.request.events))

        def finished() -> None:
            loop.request_stop(fade=battery.aborted_ is not None or not walking_follows)

        battery.on_finished = finished
        _to_assessing(plant)
        self._loop = loop
        if self._stop_requested:
            loop.request_stop(fade=True)
        # the battery ends itself; this limit only backs that up
        limit_s = battery.planned_s(start_q) + BATTERY_MARGIN_S + supervisor.settings.fade_s
        self._assessing = True
        try:
            report = loop.run(limit_s)
        finally:
            self._assessing = False
        sinks.offset += report.ticks
        return battery, report

    def _run_walking(self, controller: PhasedController, supervisor: Supervisor, plant: Plant,
                     sinks: _Sinks, steps: StepCounter, walking: Sequence[Phase],
                     on_progress: Callable[[float], None] | None) -> LoopReport:
        """Run the walking phases in a control loop on ``plant`` under ``supervisor``."""
        self._loop = ControlLoop(
            plant.robot, supervisor, controller, plant.clock, recorder=sinks.shifted(),
            contacts=steps, events=_tee_events(sinks.events, self.request.events),
        )
        if self._stop_requested:
            self._loop.request_stop(fade=True)
        # the phases' time limits, the fade-out after the last, and one tick more
        limit_s = (sum(p.time_limit_s for p in walking) + supervisor.settings.fade_s
                   + 2 * plant.robot.config.period_s)
        try:
            report = self._loop.run(limit_s, self._watch_stop(controller, plant, on_progress),
                                    progress_every_ticks=STOP_CHECK_TICKS)
        finally:
            self._walked = True
        sinks.offset += report.ticks
        return report

    def _watch_stop(
        self, controller: PhasedController, plant: Plant,
        on_progress: Callable[[float], None] | None,
    ) -> Callable[[float], None]:
        """The loop's progress callback (every :data:`STOP_CHECK_TICKS` ticks): a controller
        that asks for a controlled stop (``stop_reason_``, e.g. transparent mode with a patient
        who cannot walk alone) gets one at once, as a therapist's stop (the torque fades out,
        the belt stops) and the session ends ``aborted`` with the reason in its summary and
        record; ``on_progress`` is passed on about every 250 ticks."""
        every = max(1, PROGRESS_EVERY_TICKS // STOP_CHECK_TICKS)
        calls = 0

        def progress(t_s: float) -> None:
            nonlocal calls
            reason = controller.current_.stop_reason_
            if reason is not None and self._stop_reason is None and self._loop is not None:
                self._stop_reason, self._stop_t_s = reason, t_s
                self._loop.request_stop(fade=True)
                if plant.treadmill is not None:
                    plant.treadmill.set_belt_speed(0.0)
            calls += 1
            if on_progress is not None and calls % every == 0:
                on_progress(t_s)

        return progress

    def _phases_done(self) -> None:
        """The last walking phase has ended: the loop stops at the next tick boundary."""
        if self._loop is not None:
            self._loop.request_stop(fade=True)

    def run(self, on_progress: Callable[[float], None] | None = None) -> SessionResult:
        """Run the session, record it, store its summary; return the result.

        Raises:
            ConfigurationError, CommunicationError, SafetyError: the bring-up refused the plant
                (the session is stored ``aborted`` with the reason).
        """
        req = self.request
        with SessionStore.open(req.store_path) as store:
            if req.patient_code == DEMO_PATIENT.code:
                patient_id = store.ensure_patient(
                    DEMO_PATIENT.code, DEMO_PATIENT.display_name, DEMO_PATIENT.height_m,
                    DEMO_PATIENT.mass_kg,
                )
            else:
                patient_id = store.ensure_patient(req.patient_code)
            patient = store.get_patient(patient_id)
            height_m = patient.height_m or DEMO_PATIENT.height_m
            mass_kg = patient.mass_kg or DEMO_PATIENT.mass_kg
            plan = plan_progression(store, patient_id, req.protocol) if req.progress else None
            protocol = req.protocol if plan is None else with_values(req.protocol, plan.values)
            phases = session_phases(protocol, req.duration_s, req.guidance_pct)
            robot_cfg, offsets = with_stored_offsets(store, req.robot)
            parameters = {
                "protocol": protocol.model_dump(),
                "phases": [phase.name for phase in phases],
                "duration_s": req.duration_s,
                "guidance_pct": req.guidance_pct,
                "seed": req.seed,
                "realtime": req.realtime,
                "profile": req.profile,
                "progression": None if plan is None else plan.as_dict(),
                "robot": robot_cfg.model_dump(mode="json"),
                "zero_offsets_rad": offsets,
                "height_m": height_m,
                "mass_kg": mass_kg,
            }
            session_id = store.create_session(
                patient_id, protocol.name, robot_cfg.name, robot_cfg.period_s,
                list(robot_cfg.joint_names), parameters,
            )
        walking = [phase for phase in phases if phase.walking]
        first = next(i for i, phase in enumerate(phases) if phase.walking)
        start = walking[0]
        names = robot_cfg.joint_names
        with _ends_aborted(req.store_path, session_id):
            supervisor = build_supervisor(robot_cfg, start)
            setup = RobotSetup.of(robot_cfg, supervisor.soft_limits, height_m, mass_kg)
            before = plan_battery(phases[:first], setup)
            after = plan_battery(phases[first + len(walking):], setup)
            # the battery runs with the treadmill stopped and the person lifted
            belt_mps, support = ((0.0, 1.0) if before else
                                 (start.treadmill_speed_mps, start.body_weight_support_pct / 100))
            plant = req.plant(robot_cfg, PlantSettings(
                height_m=height_m, mass_kg=mass_kg, belt_speed_mps=belt_mps,
                body_weight_support=support,
                cadence_steps_per_min=protocol.training_phase.cadence_steps_per_min,
                profile=req.profile, seed=req.seed, realtime=req.realtime,
            ))
            try:
                if (before or after) and plant.treadmill is None:
                    raise ConfigurationError(
                        f"robot {robot_cfg.name!r} has no treadmill interface: the treadmill "
                        "cannot be stopped for the assessment phases and started for the "
                        "walking within one session; run the assessments and the walking as two "
                        "sessions (protocols of their own)")
                prepare(plant, belt_mps, support, req.confirm)
            except BaseException:
                plant.close()
                raise
        with SessionStore.open(req.store_path) as store:
            store.add_event(session_id, 0.0, "plant_configured", None, {
                "plant": plant.kind, "contact_source": plant.contact_source,
                "treadmill": "interface" if plant.treadmill is not None else "set by hand"})
        robot, clock = plant.robot, plant.clock
        recorder = Recorder(req.store_path, session_id, len(robot_cfg.joints))
        events: queue.SimpleQueue[SafetyEvent] = queue.SimpleQueue()
        status = "aborted"
        steps = StepCounter(plant.contacts or _no_contacts, robot_cfg.period_s)
        # simulation truth (the simulated patient's muscle torques), sampled per tick in memory
        truth = None if plant.muscle_torques is None else TruthRecorder(
            plant.muscle_torques, len(robot_cfg.joints), plant.kind)
        primary = recorder if truth is None else TeeSink(recorder, truth)
        sinks = _Sinks(primary if req.live is None else TeeSink(primary, req.live), events.put)
        batteries: list[tuple[list[PlannedAssessment], AssessmentBattery]] = []
        reports: list[LoopReport] = []
        walk_ticks = (0, 0)
        ran_after = False
        try:
            with _ends_aborted(req.store_path, session_id):
                controller = PhasedController(
                    walking, phase_builder(names, robot_cfg.period_s, height_m, mass_kg), steps,
                    period_s=robot_cfg.period_s, treadmill=plant.treadmill,
                    on_finished=self._phases_done,
                    # after a battery the robot holds the legs where the walking starts
                    ramp_in=plant.ramp_in and not before,
                )
                recorder.start()
                with SessionStore.open(req.store_path) as store:  # before the drives' watchdogs run
                    store.add_event(session_id, 0.0, "loop_started", None, {"unix_s": time.time()})
                # the heap's one full collection happens now, not between enabling the drives
                # and the loop's first command (their watchdogs run from the enabling)
                gc.collect()
                gc.freeze()
                enabled = enable(plant, start.range_of_motion_deg.for_joints(names))
                clock.restart()
                go_on = True
                if before:
                    battery, battery_report = self._run_battery(
                        before, setup, plant, supervisor, sinks, enabled.q,
                        walking_follows=True)
                    batteries.append((before, battery))
                    reports.append(battery_report)
                    go_on = (battery.finished_ and battery.aborted_ is None
                             and not battery_report.faults and not self._stop_requested)
                    if go_on:
                        _to_walking(plant, start)
                if go_on:
                    walk_report = self._run_walking(controller, supervisor, plant, sinks, steps,
                                                    walking, on_progress)
                    walk_ticks = (sinks.offset - walk_report.ticks, sinks.offset)
                    reports.append(walk_report)
                status = "faulted" if any(r.faults for r in reports) else (
                    "completed" if controller.finished_ and go_on else "aborted")
                ran_after = bool(after) and status == "completed" and not self._stop_requested
                if ran_after:
                    # the walking has faded out: a fresh supervisor (nothing is latched)
                    battery, battery_report = self._run_battery(
                        after, setup, plant, build_supervisor(robot_cfg, start), sinks,
                        enabled.q, walking_follows=False)
                    batteries.append((after, battery))
                    reports.append(battery_report)
                    if battery_report.faults:
                        status = "faulted"
                report = dataclasses.replace(reports[-1],
                                             faults=[f for r in reports for f in r.faults])
        finally:
            self._walked = True  # no loop runs any more
            gc.unfreeze()
            plant.close()
            recording_error = _stop_recording(recorder)
        if recording_error is not None:
            status = "faulted"  # the samples committed before the failure stay stored
        stop_reason = self._stop_reason if status == "aborted" else None
        with _ends_aborted(req.store_path, session_id), \
                SessionStore.open(req.store_path) as store:
            samples = store.load_samples(session_id)
            if truth is not None:
                write_truth(store, session_id, MUSCLE_TORQUE, truth.series())
            walked = samples.ticks_between(*walk_ticks)
            summary = summarize(walked.t_s, walked.contact, walked.q, walked.q_ref, walked.tau,
                                tuple(samples.joint_names))
            while not events.empty():
                event = events.get()
                store.add_event(session_id, event.t_s, event.kind, event.joint, event.payload())
            offset = 0
            for run in reports:  # where the loop's thread was when a tick ran long, dated on
                for stall in run.stalls:  # the loop's clock like the faults (skips included)
                    store.add_event(session_id, _tick_time(samples, offset + stall.tick),
                                    "loop_stall", None, stall.values())
                offset += run.ticks
            walked_phases = controller.phases_ if walk_ticks[1] > walk_ticks[0] else []
            phase_summaries = phase_report(controller, samples, steps.steps,
                                           walk_ticks[0]) if walked_phases else []
            for record in walked_phases:
                store.add_event(session_id, record.start_t_s, "phase_started", None,
                                {"name": record.name, "kind": record.kind,
                                 "index": record.index})
            if stop_reason is not None:
                store.add_event(session_id, self._stop_t_s, "controlled_stop", None,
                                {"reason": stop_reason})
            for tick, values in controller.changes_:
                store.add_event(session_id, _tick_time(samples, tick + walk_ticks[0]),
                                "params_changed", None, values)
            assessments: dict[str, dict[str, object]] = {}
            t_end = float(samples.t_s[-1]) if samples.t_s.size else 0.0
            stopped = "the session was stopped" if self._stop_requested else None
            for planned, battery in batteries:
                results = battery_results(planned, battery, samples, tuple(samples.joint_names),
                                          setup, robot_cfg.period_s, stopped)
                for k, item in enumerate(planned):
                    marks = [m for m in battery.marks_ if m.procedure == k]
                    store.add_event(session_id, marks[0].start_t_s if marks else t_end,
                                    "assessment", None,
                                    {"phase": item.phase.name, **results[item.phase.name]})
                assessments.update(results)
            for item in after if not ran_after else []:
                skipped = item.assessment.skipped(stopped or "the walking did not complete")
                assessments[item.phase.name] = skipped.as_dict()
                store.add_event(session_id, t_end, "assessment", None,
                                {"phase": item.phase.name, **skipped.as_dict()})
            latency = {name: stats.as_dict() for name, stats in robot.reply_latency().items()}
            stored = summary.as_dict() | {
                "plant": plant.kind,
                "contact_source": plant.contact_source,
                # how the torque came and went, for replay
                "ramp_in": controller.ramp_in,
                "fade_out": True,
                "loop_compute": report.compute.as_dict() if report.compute else None,
                "loop_timing": report.timing(),
                "reply_latency_us": latency,
                "dropped_samples": recorder.dropped,
                "faults": [f.describe() for f in report.faults],
                "controlled_stop": stop_reason,
                "recording_error": recording_error,
                "steps": steps.steps,
                "phases": phase_summaries,
                "param_changes": [[tick, values] for tick, values in controller.changes_],
                "assessments": assessments,
                # the walking loop's ticks in the recording (the battery's are the others)
                "walking_ticks": [int(walk_ticks[0]), int(walk_ticks[1])],
                "progression": [] if plan is None else [c.describe() for c in plan.changes],
            }
            store.finish_session(session_id, status, stored)
        return SessionResult(session_id, status, summary, report, recorder.dropped,
                             {"reply_latency_us": latency},
                             [] if plan is None else plan.changes, stop_reason)


@dataclass
class _Sinks:
    """Where the loop runs of a session push: one recording, ticks continued from run to run,
    and the store's event queue."""

    samples: SampleSink
    events: EventSink
    offset: int = 0

    def shifted(self) -> ShiftedSink:
        """The sample sink of the next loop run."""
        return ShiftedSink(self.samples, self.offset)


def _nobody(instruction: Instruction | None) -> None:
    """No simulated person to instruct: a real one hears the therapist."""


def _to_assessing(plant: Plant) -> None:
    """Before a battery: the treadmill stopped, the person lifted and relaxed."""
    if plant.treadmill is not None:
        plant.treadmill.set_belt_speed(0.0)
        plant.treadmill.set_body_weight_support(1.0)
    if plant.instruct is not None:
        plant.instruct(RELAX)


def _to_walking(plant: Plant, phase: Phase) -> None:
    """After a battery: the treadmill to ``phase``'s speed and support, the person walks."""
    if plant.treadmill is not None:
        plant.treadmill.set_belt_speed(phase.treadmill_speed_mps)
        plant.treadmill.set_body_weight_support(phase.body_weight_support_pct / 100.0)
    if plant.instruct is not None:
        plant.instruct(None)


def build_supervisor(robot: RobotConfig, phase: Phase) -> Supervisor:
    """The supervisor of a session: the robot's hard limits, the phase's range of motion (the
    same in every walking phase) as soft limits."""
    names = robot.joint_names
    return Supervisor.from_config(robot, soft_limits=SoftLimits.from_rom(
        names, phase.range_of_motion_deg.for_joints(names), JointLimits.from_config(robot),
        zone_rad=math.radians(phase.soft_zone_deg),
    ))


def phase_builder(
    joint_names: tuple[str, ...], period_s: float, height_m: float, mass_kg: float
) -> Callable[[Phase], Controller]:
    """Builds the controller of a phase for a robot and a patient."""

    def build(phase: Phase) -> Controller:
        return build_controller(phase, joint_names, guidance_pct=phase.guidance_pct,
                                period_s=period_s, height_m=height_m, mass_kg=mass_kg)

    return build


def _tee_events(first: EventSink, second: EventSink | None) -> EventSink:
    """One event sink that hands each event to ``first`` (the store's queue), then ``second``."""
    if second is None:
        return first

    def both(event: SafetyEvent) -> None:
        first(event)
        second(event)

    return both


def _tick_time(samples: SessionSamples, tick: int) -> float:
    """Loop time (s) of ``tick`` in a recording (the end's, if it was not recorded)."""
    where = int(np.searchsorted(samples.tick, tick))
    if where < samples.t_s.size:
        return float(samples.t_s[where])
    return float(samples.t_s[-1]) if samples.t_s.size else 0.0


def phase_report(
    controller: PhasedController, samples: SessionSamples, total_steps: int, first_tick: int = 0
) -> list[dict[str, object]]:
    """Per phase: when it ran, how it ended, its steps and its own summary (the walking loop's
    ticks start at ``first_tick`` of the recording)."""
    records = controller.phases_
    out = []
    for k, record in enumerate(records):
        end = first_tick + record.end_tick if record.end_tick is not None else int(
            samples.tick[-1] + 1 if samples.tick.size else 0)
        rows = (samples.tick >= first_tick + record.start_tick) & (samples.tick < end)
        next_steps = records[k + 1].start_steps if k + 1 < len(records) else total_steps
        part = summarize(samples.t_s[rows], samples.contact[rows], samples.q[rows],
                         samples.q_ref[rows], samples.tau[rows], tuple(samples.joint_names))
        out.append(record.as_dict() | {"steps": next_steps - record.start_steps,
                                       "summary": part.as_dict()})
    return out


@contextlib.contextmanager
def _ends_aborted(store_path: Path, session_id: int) -> Iterator[None]:
    """A block whose error ends the session ``aborted`` with that error in its summary; the
    error propagates."""
    try:
        yield
    except BaseException as exc:
        with SessionStore.open(store_path) as store:
            store.finish_session(session_id, "aborted", {"error": str(exc)})
        raise


def _stop_recording(recorder: Recorder) -> str | None:
    """Flush and stop ``recorder``; the error that stopped its writer, as text (None: every
    sample pushed is stored)."""
    try:
        recorder.stop()
    except StorageError as exc:
        return str(exc)
    return None
