"""The robot-based assessments by name, for the "assessment" phases of a protocol.

Contract (stable; protocols, the session runner and reports rely on it):

- :data:`ROBOT_ASSESSMENTS` maps a name (``"passive_rom"``, ``"active_rom"``, ``"stiffness"``,
  ``"isometric"``) to a :class:`RobotAssessment`.
- :meth:`RobotAssessment.procedure` ``(joints, params, setup)`` gives the assessment's
  :class:`~rehabbot.controllers.procedures.Procedure`, which the session runs in its control loop
  on its robot (:class:`~rehabbot.controllers.procedures.AssessmentBattery`);
  :meth:`RobotAssessment.analyze` ``(recording, joints, params, setup, period_s)`` computes the
  result from the recorded samples and the procedure's steps.
- ``setup``: the robot and person (:class:`~rehabbot.assessment.robot.recording.RobotSetup`):
  the robot's hard limits and the session's range of motion bound every motion.
- ``joints``: robot joint names among :attr:`RobotAssessment.allowed_joints`, ``None`` for
  :attr:`RobotAssessment.default_joints` (all four hips and knees).
- ``params``: ``{name: number}``, each name one of :attr:`RobotAssessment.params` (a
  :class:`Param` with its unit, default and bounds), ``None`` or missing names for defaults.
- Bad input (an unknown joint or parameter, a value out of bounds) raises one
  :class:`~rehabbot.errors.ConfigurationError` naming what was wrong and what is allowed.
- :meth:`AssessmentResult.as_dict` is JSON-able: ``{"name", "title", "status", "rows": [...]}``,
  ``status`` ``"done"``, ``"interrupted"`` (a fault or stop ended it; rows hold what completed)
  or ``"skipped"`` (with ``"reason"``); one row per joint (per joint and velocity for the
  stiffness), each with ``"joint"`` and measured values whose keys carry their unit (``_deg``,
  ``_nm``, ``_nm_per_kg``, ``_nm_per_rad``, ``_nms_per_rad``, ``_deg_s``) and booleans
  ``*_at_robot_limit`` where a value is the robot's own range or torque limit (or the session's
  allowed range) rather than the person's.

>>> sorted(ROBOT_ASSESSMENTS)
['active_rom', 'isometric', 'passive_rom', 'stiffness']
>>> ROBOT_ASSESSMENTS["passive_rom"].params["threshold_nm"].default
10.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rehabbot.assessment.robot.isometric_strength import (
    DEFAULT_ANGLES_RAD,
    isometric,
    isometric_steps,
)
from rehabbot.assessment.robot.range_of_motion import (
    THRESHOLD_NM,
    THRESHOLD_RANGE_NM,
    RangeOfMotion,
    active_rom,
    active_steps,
    passive_rom,
    passive_steps,
)
from rehabbot.assessment.robot.recording import AssessmentRecording, RobotSetup, Row
from rehabbot.assessment.robot.stiffness import DEFAULT_VELOCITIES_DEG_S, stiffness, stiffness_steps
from rehabbot.controllers.procedures import Procedure, Step
from rehabbot.errors import ConfigurationError

#: The hips and knees, the joints every assessment can test.
ASSESSED_JOINTS = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")


@dataclass(frozen=True)
class Param:
    """One parameter of an assessment.

    Attributes:
        unit: its unit, as shown to a user.
        default: value when not given.
        low: smallest allowed value.
        high: largest allowed value.
        doc: what it sets.
    """

    unit: str
    default: float
    low: float
    high: float
    doc: str


@dataclass(frozen=True)
class AssessmentResult:
    """What one assessment measured.

    Attributes:
        name: the assessment's name in :data:`ROBOT_ASSESSMENTS`.
        title: a short title for reports.
        rows: one row per joint (see the module docstring).
        status: ``"done"``, ``"interrupted"`` or ``"skipped"``.
        reason: why it was interrupted or skipped (empty when done).
    """

    name: str
    title: str
    rows: tuple[Row, ...]
    status: str = "done"
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        """``{"name", "title", "status", "rows"}`` (and ``"reason"``), JSON-able."""
        out: dict[str, object] = {"name": self.name, "title": self.title,
                                  "status": self.status, "rows": [dict(r) for r in self.rows]}
        if self.reason:
            out["reason"] = self.reason
        return out


#: Builds an assessment's steps: (joints, params, setup) -> steps.
StepBuilder = Callable[[tuple[str, ...], dict[str, float], RobotSetup], tuple[Step, ...]]
#: Analyses its recording: (recording, joints, params, setup, period_s) -> rows.
Analysis = Callable[[AssessmentRecording, tuple[str, ...], dict[str, float], RobotSetup, float],
                    list[Row]]


@dataclass(frozen=True)
class RobotAssessment:
    """One robot-based assessment (module docstring).

    Attributes:
        name: its name in :data:`ROBOT_ASSESSMENTS`.
        title: a short title for reports.
        default_joints: the joints assessed when none are given.
        allowed_joints: the joints it can assess.
        params: its parameters by name.
        steps: builds its procedure's steps.
        analysis: computes its rows from the recording.
    """

    name: str
    title: str
    default_joints: tuple[str, ...]
    allowed_joints: tuple[str, ...]
    params: Mapping[str, Param]
    steps: StepBuilder
    analysis: Analysis

    def values(self, params: Mapping[str, float] | None) -> dict[str, float]:
        """Every parameter's value: ``params`` checked against their bounds, defaults else.

        Raises:
            ConfigurationError: an unknown parameter or a value out of bounds.
        """
        values = {key: p.default for key, p in self.params.items()}
        for key, value in (params or {}).items():
            spec = self.params.get(key)
            if spec is None:
                allowed = ", ".join(self.params) or "none"
                raise ConfigurationError(
                    f"assessment {self.name!r}: unknown parameter {key!r} (allowed: {allowed})")
            if not (math.isfinite(value) and spec.low <= value <= spec.high):
                raise ConfigurationError(
                    f"assessment {self.name!r}: {key} = {value} {spec.unit} is outside "
                    f"[{spec.low:g}, {spec.high:g}] {spec.unit}")
            values[key] = float(value)
        return values

    def joints(self, joints: Sequence[str] | None) -> tuple[str, ...]:
        """``joints``, or the defaults.

        Raises:
            ConfigurationError: none, or one this assessment cannot test.
        """
        chosen = tuple(joints) if joints is not None else self.default_joints
        unknown = [j for j in chosen if j not in self.allowed_joints]
        if not chosen or unknown:
            raise ConfigurationError(
                f"assessment {self.name!r}: joints {list(chosen)} must be a non-empty selection "
                f"of {', '.join(self.allowed_joints)}")
        return chosen

    def procedure(self, joints: Sequence[str] | None, params: Mapping[str, float] | None,
                  setup: RobotSetup) -> Procedure:
        """The procedure that runs this assessment on ``setup``'s robot.

        Raises:
            ConfigurationError: bad joints or parameters, or a joint the robot does not have.
        """
        chosen = self.joints(joints)
        missing = [j for j in chosen if j not in setup.joint_names]
        if missing:
            raise ConfigurationError(
                f"assessment {self.name!r}: the robot has no joint {', '.join(missing)}; its "
                f"joints: {', '.join(setup.joint_names)}")
        return Procedure(self.name, self.steps(chosen, self.values(params), setup))

    def analyze(self, recording: AssessmentRecording, joints: Sequence[str] | None,
                params: Mapping[str, float] | None, setup: RobotSetup, period_s: float,
                *, status: str = "done", reason: str = "") -> AssessmentResult:
        """The result of this assessment from its ``recording`` (the control period
        ``period_s``, s)."""
        rows = self.analysis(recording, self.joints(joints), self.values(params), setup,
                             period_s)
        return AssessmentResult(self.name, self.title, tuple(rows), status, reason)

    def skipped(self, reason: str) -> AssessmentResult:
        """The result of this assessment when it did not run, and why."""
        return AssessmentResult(self.name, self.title, (), "skipped", reason)


def _rom_rows(results: list[RangeOfMotion]) -> list[Row]:
    return [
        {
            "joint": r.joint,
            "extension_deg": math.degrees(r.extension_rad),
            "flexion_deg": math.degrees(r.flexion_rad),
            "range_deg": math.degrees(r.flexion_rad - r.extension_rad),
            "extension_at_robot_limit": r.extension_at_robot_limit,
            "flexion_at_robot_limit": r.flexion_at_robot_limit,
        }
        for r in results
    ]


def _passive_rom(recording: AssessmentRecording, joints: tuple[str, ...],
                 params: dict[str, float], setup: RobotSetup, period_s: float) -> list[Row]:
    return _rom_rows(passive_rom(recording, joints, params["threshold_nm"], setup))


def _active_rom(recording: AssessmentRecording, joints: tuple[str, ...],
                params: dict[str, float], setup: RobotSetup, period_s: float) -> list[Row]:
    return _rom_rows(active_rom(recording, joints, setup, period_s))


def _angles(params: dict[str, float]) -> dict[str, float]:
    return {"hip_flexion": math.radians(params["hip_angle_deg"]),
            "knee_angle": math.radians(params["knee_angle_deg"])}


def _isometric(recording: AssessmentRecording, joints: tuple[str, ...],
               params: dict[str, float], setup: RobotSetup, period_s: float) -> list[Row]:
    return [
        {
            "joint": r.joint,
            "angle_deg": math.degrees(r.angle_rad),
            "flexion_nm": r.flexion_nm,
            "extension_nm": r.extension_nm,
            "flexion_nm_per_kg": r.flexion_nm / setup.mass_kg,
            "extension_nm_per_kg": r.extension_nm / setup.mass_kg,
            "flexion_at_robot_limit": r.flexion_at_robot_limit,
            "extension_at_robot_limit": r.extension_at_robot_limit,
        }
        for r in isometric(recording, joints, setup, period_s)
    ]


def _velocities(params: dict[str, float]) -> tuple[float, ...]:
    return tuple(params[f"velocity_{n}_deg_s"] for n in (1, 2, 3))


def _stiffness(recording: AssessmentRecording, joints: tuple[str, ...],
               params: dict[str, float], setup: RobotSetup, period_s: float) -> list[Row]:
    return [
        {
            "joint": joint,
            "peak_velocity_deg_s": e.peak_velocity_deg_s,
            "stiffness_nm_per_rad": e.stiffness_nm_per_rad,
            "damping_nms_per_rad": e.damping_nms_per_rad,
            "rest_angle_deg": math.degrees(e.rest_angle_rad),
            "rms_residual_nm": e.rms_residual_nm,
        }
        for joint, e in stiffness(recording, joints, _velocities(params), setup)
    ]


_VELOCITY_NAMES = ("slow", "medium", "fast")

#: The robot-based assessments by name.
ROBOT_ASSESSMENTS: dict[str, RobotAssessment] = {
    "passive_rom": RobotAssessment(
        "passive_rom", "Passive range of motion (L-ROM)", ASSESSED_JOINTS, ASSESSED_JOINTS,
        {"threshold_nm": Param("N·m", THRESHOLD_NM, *THRESHOLD_RANGE_NM,
                               "resistance at which the passive motion ends")},
        lambda joints, params, setup: passive_steps(joints, params["threshold_nm"], setup),
        _passive_rom,
    ),
    "active_rom": RobotAssessment(
        "active_rom", "Active range of motion", ASSESSED_JOINTS, ASSESSED_JOINTS, {},
        lambda joints, params, setup: active_steps(joints, setup),
        _active_rom,
    ),
    "isometric": RobotAssessment(
        "isometric", "Maximal isometric torque (L-FORCE)", ASSESSED_JOINTS, ASSESSED_JOINTS,
        {
            "hip_angle_deg": Param("deg", math.degrees(DEFAULT_ANGLES_RAD["hip_flexion"]),
                                   -20.0, 55.0, "hip angle held in the test"),
            "knee_angle_deg": Param("deg", math.degrees(DEFAULT_ANGLES_RAD["knee_angle"]),
                                    0.0, 95.0, "knee angle held in the test"),
        },
        lambda joints, params, setup: isometric_steps(joints, _angles(params), setup),
        _isometric,
    ),
    "stiffness": RobotAssessment(
        "stiffness", "Joint stiffness at three velocities (L-STIFF)", ASSESSED_JOINTS,
        ASSESSED_JOINTS,
        {
            f"velocity_{n}_deg_s": Param("deg/s", v, 1.0, 400.0,
                                         f"peak velocity of the {label} motion")
            for n, (label, v) in enumerate(
                zip(_VELOCITY_NAMES, DEFAULT_VELOCITIES_DEG_S, strict=True), start=1)
        },
        lambda joints, params, setup: stiffness_steps(joints, _velocities(params), setup),
        _stiffness,
    ),
}
