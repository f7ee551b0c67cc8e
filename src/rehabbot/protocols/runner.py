"""The session runner: one therapy session from protocol to stored recording and summary.

It wires the data path of DESIGN.md: protocol → control loop (robot through CAN, supervisor,
controller) → recorder → SQLite store, and for a robot on a ``virtual`` bus starts the simulated
exoskeleton on that bus first. In simulation the loop runs in lockstep (as fast as the machine
allows, deterministic for a seed) unless ``realtime`` asks for wall-clock pacing.

A recording that fails mid-session (e.g. a full disk) is a ``storage`` fault of the supervisor:
the torque fades out, the session ends as ``faulted`` with the error in its summary
(``recording_error``), and the samples committed before the failure stay readable.
"""

from __future__ import annotations

import math
import queue
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rehabbot.assessment.summary import SessionSummary, summarize
from rehabbot.controllers.factory import build_controller
from rehabbot.errors import ConfigurationError, StorageError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.robot import CanRobot
from rehabbot.protocols.schema import Protocol
from rehabbot.runtime.clock import Clock, LockstepClock, WallClock
from rehabbot.runtime.loop import ControlLoop, LoopReport, SampleSink, TeeSink
from rehabbot.safety.faults import SafetyEvent
from rehabbot.safety.limits import JointLimits, SoftLimits
from rehabbot.safety.supervisor import Supervisor
from rehabbot.sim.patient import PROFILES
from rehabbot.sim.simulator import SimulatedExoskeleton, SimulationSettings
from rehabbot.storage.recorder import Recorder
from rehabbot.storage.store import SessionStore


@dataclass(frozen=True)
class PatientDefaults:
    """The demo patient, created on first use, and the body used when a patient has none."""

    code: str = "DEMO-001"
    display_name: str = "Demo Patient"
    height_m: float = 1.75
    mass_kg: float = 75.0


DEMO_PATIENT = PatientDefaults()
ACTIVATION_TIMEOUT_S = 1.0


@dataclass
class SessionRequest:
    """What to run.

    Attributes:
        robot: robot configuration.
        protocol: therapy protocol.
        store_path: the session store file.
        patient_code: the patient's code; the demo patient is created if this is its code.
        duration_s: overrides the protocol's duration (s).
        guidance_pct: overrides the protocol's guidance (%).
        seed: seed of the simulation's random draws.
        realtime: pace the simulation to the wall clock instead of lockstep.
        profile: the simulated patient's profile (a key of ``rehabbot.sim.patient.PROFILES``).
        live: a second sample sink that sees every tick (e.g. a console's shared-memory ring);
            it must neither block nor raise.
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


@dataclass
class SessionResult:
    """What a session produced."""

    session_id: int
    status: str
    summary: SessionSummary
    loop: LoopReport
    dropped_samples: int
    extra: dict[str, object] = field(default_factory=dict)


class SessionRunner:
    """Runs one session; :meth:`request_stop` (e.g. from Ctrl-C) ends it with a torque fade."""

    def __init__(self, request: SessionRequest) -> None:
        """Validate the request; nothing is opened yet.

        Raises:
            ConfigurationError: the duration or guidance override is out of range, or the robot
                has no simulator and no hardware path yet.
        """
        self.request = request
        self.duration_s = request.duration_s or request.protocol.duration_s
        self.guidance_pct = (
            request.protocol.guidance_pct if request.guidance_pct is None else request.guidance_pct
        )
        if not 0.0 < self.duration_s <= 7200.0:
            raise ConfigurationError(f"duration {self.duration_s:g} s is outside (0, 7200] s")
        if request.profile not in PROFILES:
            raise ConfigurationError(
                f"unknown patient profile {request.profile!r}; choose one of "
                f"{', '.join(sorted(PROFILES))}"
            )
        if not 0.0 <= self.guidance_pct <= 100.0:
            raise ConfigurationError(f"guidance {self.guidance_pct:g} % is outside [0, 100] %")
        if not request.robot.simulated:
            raise ConfigurationError(
                f"robot {request.robot.name!r} is on real hardware "
                f"({', '.join(b.interface for b in request.robot.buses)}); hardware sessions are "
                "not supported yet, use a robot on a 'virtual' bus such as the bundled sim_exo"
            )
        self._loop: ControlLoop | None = None
        self._stop_requested = False

    @property
    def loop(self) -> ControlLoop | None:
        """The running control loop (None before it starts): its ``request_params``,
        ``request_reset`` and ``request_stop`` and its supervisor's ``estop`` act at the next tick
        boundary, from any thread."""
        return self._loop

    def request_stop(self) -> None:
        """End the session at the next tick boundary."""
        self._stop_requested = True
        if self._loop is not None:
            self._loop.request_stop(fade=True)

    def run(self, on_progress: Callable[[float], None] | None = None) -> SessionResult:
        """Run the session, record it, store its summary; return the result."""
        req = self.request
        robot_cfg, protocol = req.robot, req.protocol
        with SessionStore.open(req.store_path) as store:
            if req.patient_code == DEMO_PATIENT.code:
                patient_id = store.ensure_patient(
                    DEMO_PATIENT.code, DEMO_PATIENT.display_name, DEMO_PATIENT.height_m,
                    DEMO_PATIENT.mass_kg,
                )
            else:
                patient_id = store.ensure_patient(req.patient_code)
            patient = store.get_patient(patient_id)
            parameters = {
                "protocol": protocol.model_dump(),
                "duration_s": self.duration_s,
                "guidance_pct": self.guidance_pct,
                "seed": req.seed,
                "realtime": req.realtime,
                "profile": req.profile,
            }
            session_id = store.create_session(
                patient_id, protocol.name, robot_cfg.name, robot_cfg.period_s,
                list(robot_cfg.joint_names), parameters,
            )
        height_m = patient.height_m or DEMO_PATIENT.height_m
        mass_kg = patient.mass_kg or DEMO_PATIENT.mass_kg
        channel_suffix = f"-{uuid.uuid4().hex[:12]}"  # this session's own virtual channels
        sim = SimulatedExoskeleton(
            robot_cfg,
            SimulationSettings(
                height_m=height_m,
                mass_kg=mass_kg,
                belt_speed_mps=protocol.treadmill_speed_mps,
                body_weight_support=protocol.body_weight_support_pct / 100.0,
                cadence_steps_per_min=protocol.cadence_steps_per_min,
                profile=PROFILES[req.profile],
                seed=req.seed,
            ),
            channel_suffix=channel_suffix,
        )
        clock: Clock = (
            WallClock(robot_cfg.period_s, step=sim.step) if req.realtime
            else LockstepClock(robot_cfg.period_s, step=sim.step)
        )
        robot = CanRobot(robot_cfg, channel_suffix=channel_suffix, time_source=clock.now)
        recorder = Recorder(req.store_path, session_id, len(robot_cfg.joints))
        events: queue.SimpleQueue[SafetyEvent] = queue.SimpleQueue()
        status = "aborted"
        try:
            with sim.serving():  # the drives answer configure-time requests (CANopen SDO)
                robot.configure()
            robot.activate(clock.wait_next_tick, ACTIVATION_TIMEOUT_S)
            names = robot_cfg.joint_names
            controller = build_controller(
                protocol, names, guidance_pct=self.guidance_pct, period_s=robot_cfg.period_s,
                height_m=height_m, mass_kg=mass_kg,
            )
            hard = JointLimits.from_config(robot_cfg)
            supervisor = Supervisor.from_config(robot_cfg, soft_limits=SoftLimits.from_rom(
                names, protocol.range_of_motion_deg.for_joints(names), hard,
                zone_rad=math.radians(protocol.soft_zone_deg),
            ))
            sink: SampleSink = recorder if req.live is None else TeeSink(recorder, req.live)
            self._loop = ControlLoop(
                robot, supervisor, controller, clock, recorder=sink,
                contacts=sim.foot_contacts, events=events.put,
            )
            if self._stop_requested:
                self._loop.request_stop(fade=True)
            recorder.start()
            with SessionStore.open(req.store_path) as store:
                store.add_event(session_id, 0.0, "loop_started", None, {"unix_s": time.time()})
            clock.restart()
            report = self._loop.run(self.duration_s, on_progress)
            status = "faulted" if report.faults else (
                "aborted" if report.stopped_early else "completed")
        except BaseException as exc:  # the session ends aborted, with why; the error propagates
            with SessionStore.open(req.store_path) as store:
                store.finish_session(session_id, "aborted", {"error": str(exc)})
            raise
        finally:
            robot.close()
            sim.close()
            recording_error = _stop_recording(recorder)
        if recording_error is not None:
            status = "faulted"  # the samples committed before the failure stay stored
        with SessionStore.open(req.store_path) as store:
            samples = store.load_samples(session_id)
            summary = summarize(
                samples.t_s, samples.contact, samples.q, samples.q_ref, samples.tau,
                tuple(samples.joint_names),
            )
            while not events.empty():
                event = events.get()
                store.add_event(session_id, event.t_s, event.kind, event.joint, event.payload())
            latency = {name: stats.as_dict() for name, stats in robot.reply_latency().items()}
            stored = summary.as_dict() | {
                "loop_compute": report.compute.as_dict() if report.compute else None,
                "reply_latency_us": latency,
                "dropped_samples": recorder.dropped,
                "faults": [f.describe() for f in report.faults],
                "recording_error": recording_error,
            }
            store.finish_session(session_id, status, stored)
        return SessionResult(session_id, status, summary, report, recorder.dropped,
                             {"reply_latency_us": latency})


def _stop_recording(recorder: Recorder) -> str | None:
    """Flush and stop ``recorder``; the error that stopped its writer, as text (None: every
    sample pushed is stored)."""
    try:
        recorder.stop()
    except StorageError as exc:
        return str(exc)
    return None
