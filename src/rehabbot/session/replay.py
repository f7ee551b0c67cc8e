"""Deterministic replay: a recorded session's inputs through a freshly built controller, offline.

The store keeps, per tick, what the loop read (``t_s``, ``q``, ``qd``, ``tau``, foot contact)
and what it wrote (``q_ref``, ``tau_cmd`` = the limited command's torque at that state), and
with the session the protocol it ran (after progression), the robot configuration, the
patient's height and mass, the overrides, and every parameter change the controller applied
with its tick. Replay builds the same :class:`~rehabbot.protocols.phased.PhasedController`
and supervisor, feeds them the recorded states tick by tick (the loop's order: parameter
changes → ``Supervisor.check`` → ``update`` → ``Supervisor.limit`` → contacts), and compares
the outputs with the recorded ones per joint. Phase changes happen at the same ticks because
the step counter sees the recorded contacts.

Uses: a regression test built from a real session (the replay of an unchanged controller must
be identical), and "what would this controller or parameter have commanded on that session"
(``controller`` and ``params`` change the rebuilt protocol).

Not replayed, so a session that had them differs from their tick on: supervisor resets and
stop requests made during the session (console or Ctrl-C), faults whose cause was not in the
recorded state (bus errors, command deadlines, drive-reported faults and temperatures: replay sees
fresh feedback, no drive faults and 0 °C).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from rehabbot.configfile import describe_validation_error
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.types import FloatArray, JointState
from rehabbot.protocols.phased import PhasedController, StepCounter
from rehabbot.protocols.schema import (
    SESSION_PARAMETERS,
    ControllerName,
    Phase,
    Protocol,
    has_guidance,
)
from rehabbot.safety.faults import StopCategory
from rehabbot.session.runner import (
    DEMO_PATIENT,
    build_supervisor,
    phase_builder,
    session_phases,
)
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary

#: Default tolerance on the reference angle (deg) and the commanded torque (N·m): replay of
#: the same code is exact, so anything above rounding counts.
Q_REF_TOLERANCE_DEG = 1e-9
TAU_TOLERANCE_NM = 1e-9


@dataclass(frozen=True)
class JointDifference:
    """Where one joint's replayed outputs left the recorded ones.

    Attributes:
        joint: joint name.
        first_tick: the first tick whose ``q_ref`` or ``tau_cmd`` differ beyond tolerance.
        first_t_s: its loop time (s).
        max_q_ref_deg: largest |replayed - recorded| reference angle over the session (deg).
        max_tau_cmd_nm: largest |replayed - recorded| commanded torque (N·m).
    """

    joint: str
    first_tick: int
    first_t_s: float
    max_q_ref_deg: float
    max_tau_cmd_nm: float


@dataclass
class ReplayReport:
    """The outcome of a replay.

    Attributes:
        session_id: the replayed session.
        ticks: ticks replayed.
        differences: the joints whose outputs differ (empty: identical within tolerance).
        max_q_ref_deg: largest reference difference per joint (deg), differing or not.
        max_tau_cmd_nm: largest torque difference per joint (N·m).
    """

    session_id: int
    ticks: int
    differences: list[JointDifference] = field(default_factory=list)
    max_q_ref_deg: dict[str, float] = field(default_factory=dict)
    max_tau_cmd_nm: dict[str, float] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        """Whether every joint's outputs match within tolerance."""
        return not self.differences


def changed_phases(
    phases: tuple[Phase, ...], controller: ControllerName | None, params: Mapping[str, float]
) -> tuple[Phase, ...]:
    """``phases`` with another controller and/or parameters.

    ``params`` maps ``NAME`` (every walking phase) or ``PHASE.NAME`` (one phase) to a value; a
    name is a session parameter (e.g. ``guidance_pct``) or a controller parameter. A new
    controller drops the phases' controller parameters and their bounds.

    Raises:
        ConfigurationError: an unknown phase or parameter, or a value out of range.
    """
    names = {phase.name for phase in phases}
    for key in params:
        phase_name, _, _ = key.rpartition(".")
        if phase_name and phase_name not in names:
            raise ConfigurationError(f"--param {key}: no phase {phase_name!r} in this session; "
                                     f"its phases: {', '.join(sorted(names))}")
    out = []
    for phase in phases:
        data = phase.model_dump()
        if controller is not None and controller != phase.controller:
            data |= {"controller": controller, "controller_params": {}, "adjustable": {
                k: v for k, v in phase.adjustable.items() if k in SESSION_PARAMETERS
                and (k != "guidance_pct" or has_guidance(controller))}}
        for key, value in params.items():
            phase_name, _, name = key.rpartition(".")
            if phase.walking and phase_name in ("", phase.name):
                if name in SESSION_PARAMETERS:
                    data[name] = value
                else:
                    data["controller_params"] = {**data["controller_params"], name: value}
                data["adjustable"] = {k: (min(lo, value), max(hi, value)) if k == name
                                      else (lo, hi) for k, (lo, hi) in data["adjustable"].items()}
        try:
            out.append(Phase.model_validate(data))
        except ValidationError as exc:
            raise ConfigurationError(
                describe_validation_error(f"replay of phase {phase.name!r}", exc)) from None
    return tuple(out)


def replay_session(
    store_path: Path,
    session_id: int,
    *,
    controller: ControllerName | None = None,
    params: Mapping[str, float] | None = None,
    q_ref_tolerance_deg: float = Q_REF_TOLERANCE_DEG,
    tau_tolerance_nm: float = TAU_TOLERANCE_NM,
) -> ReplayReport:
    """Replay session ``session_id`` of the store at ``store_path`` (see the module docstring).

    Raises:
        StorageError: no store at ``store_path`` (none is created), or no such session.
        ConfigurationError: a tolerance is negative or not finite, the session was not
            recorded by a phased runner (no protocol or robot stored with it), or a changed
            controller or parameter is invalid.
    """
    for option, value, unit in (("--tolerance-deg", q_ref_tolerance_deg, "deg"),
                                ("--tolerance-nm", tau_tolerance_nm, "N·m")):
        if not 0.0 <= value < math.inf:
            raise ConfigurationError(f"{option} {value:g}: a tolerance is a finite number of "
                                     f"{unit} >= 0 (0 = exact)")
    with SessionStore.open_existing(store_path) as store:
        stored = store.session_parameters(session_id)
        summary = store.session_summary(session_id) or StoredSummary()
        # the walking loop's ticks (a battery of robot assessments may have run before them)
        samples = store.load_walking_samples(session_id)
    if "robot" not in stored or "protocol" not in stored:
        raise ConfigurationError(f"session {session_id} was recorded without its protocol and "
                                 "robot configuration (an older rehabbot); it cannot be replayed")
    robot = RobotConfig.model_validate(stored["robot"])
    protocol = Protocol.model_validate(stored["protocol"])
    phases = session_phases(protocol, stored.get("duration_s"), stored.get("guidance_pct"))
    walking = changed_phases(tuple(p for p in phases if p.walking), controller, params or {})
    changes = dict(summary.param_changes)
    if controller is not None and changes:
        changes = {}  # the recorded live changes named the recorded controller's parameters
    return _run(session_id, robot, walking, samples, changes,
                float(stored.get("height_m", DEMO_PATIENT.height_m)),
                float(stored.get("mass_kg", DEMO_PATIENT.mass_kg)),
                q_ref_tolerance_deg, tau_tolerance_nm, summary.ramp_in, summary.fade_out)


def _run(
    session_id: int,
    robot: RobotConfig,
    walking: tuple[Phase, ...],
    samples: SessionSamples,
    changes: dict[int, dict[str, float]],
    height_m: float,
    mass_kg: float,
    q_ref_tolerance_deg: float,
    tau_tolerance_nm: float,
    ramp_in: bool,
    fade_out: bool,
) -> ReplayReport:
    """Run the recorded ticks through a fresh controller and supervisor, the torque ramped in
    at the start if it was and faded out from the tick after the last phase ended, as the
    session's loop did; compare."""
    names = tuple(samples.joint_names)
    n, joints = samples.q.shape
    if names != robot.joint_names:
        raise ConfigurationError(f"session {session_id} recorded joints {', '.join(names)}; "
                                 f"its robot has {', '.join(robot.joint_names)}")
    feet = ((bool(right), bool(left)) for right, left in samples.contact)
    counter = StepCounter(lambda: next(feet), robot.period_s)
    finished: list[bool] = []
    controller = PhasedController(walking, phase_builder(names, robot.period_s, height_m, mass_kg),
                                  counter, period_s=robot.period_s, ramp_in=ramp_in,
                                  on_finished=lambda: finished.append(fade_out))
    supervisor = build_supervisor(robot, walking[0])
    q_ref = np.empty((n, joints))
    tau_cmd = np.empty((n, joints))
    zeros, fresh = np.zeros(joints), np.zeros(joints, dtype=np.int64)
    for i in range(n):
        state = JointState(float(samples.t_s[i]), samples.q[i], samples.qd[i], samples.tau[i],
                           zeros, fresh, fresh)
        if i == 0:
            controller.reset(state)
        tick = int(samples.tick[i])
        if tick in changes:
            controller.set_params(**changes[tick])
        if finished == [True]:  # the runner's loop fades the torque out after the last phase
            supervisor.request_stop(StopCategory.FADE)
            finished.append(False)
        supervisor.check(state)
        command = supervisor.limit(controller.update(state), state)
        q_ref[i] = command.q_ref
        tau_cmd[i] = command.expected_torque(state.q, state.qd)
        counter()
    return _compare(session_id, samples, names, q_ref, tau_cmd, q_ref_tolerance_deg,
                    tau_tolerance_nm)


def _compare(
    session_id: int,
    samples: SessionSamples,
    names: tuple[str, ...],
    q_ref: FloatArray,
    tau_cmd: FloatArray,
    q_ref_tolerance_deg: float,
    tau_tolerance_nm: float,
) -> ReplayReport:
    dq = np.degrees(np.abs(q_ref - samples.q_ref))
    dtau = np.abs(tau_cmd - samples.tau_cmd)
    report = ReplayReport(session_id, int(samples.t_s.size))
    for j, name in enumerate(names):
        report.max_q_ref_deg[name] = float(dq[:, j].max()) if dq.size else 0.0
        report.max_tau_cmd_nm[name] = float(dtau[:, j].max()) if dtau.size else 0.0
        beyond = np.flatnonzero((dq[:, j] > q_ref_tolerance_deg)
                                | (dtau[:, j] > tau_tolerance_nm)
                                | ~np.isfinite(q_ref[:, j]) | ~np.isfinite(tau_cmd[:, j]))
        if beyond.size:
            first = int(beyond[0])
            report.differences.append(JointDifference(
                name, int(samples.tick[first]), float(samples.t_s[first]),
                report.max_q_ref_deg[name], report.max_tau_cmd_nm[name]))
    return report
