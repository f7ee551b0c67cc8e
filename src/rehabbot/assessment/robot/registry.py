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
  :class:`~rehabbot.controllers.assessment_specs.Param` with its unit, default and bounds),
  ``None`` or missing names for defaults.
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

from rehabbot.assessment.robot.isometric_strength import isometric, isometric_steps
from rehabbot.assessment.robot.range_of_motion import (
    RangeMeasurement,
    active_rom,
    active_steps,
    passive_rom,
    passive_steps,
)
from rehabbot.assessment.robot.recording import AssessmentRecording, RobotSetup, Row
from rehabbot.assessment.robot.stiffness import stiffness, stiffness_steps
from rehabbot.controllers.assessment_specs import ASSESSMENT_SPECS, AssessmentSpec
from rehabbot.controllers.procedures import Procedure, Step
from rehabbot.errors import ConfigurationError


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
class RobotAssessment(AssessmentSpec):
    """One robot-based assessment (module docstring): its declaration
    (:class:`~rehabbot.controllers.assessment_specs.AssessmentSpec`: name, title, joints,
    parameters) with its procedure's steps and its analysis.

    Attributes:
        steps: builds its procedure's steps.
        analysis: computes its rows from the recording.
    """

    steps: StepBuilder
    analysis: Analysis

    @classmethod
    def of(cls, spec: AssessmentSpec, steps: StepBuilder, analysis: Analysis) -> RobotAssessment:
        """The assessment declared by ``spec``, run by ``steps`` and analysed by ``analysis``."""
        return cls(spec.name, spec.title, spec.default_joints, spec.allowed_joints, spec.params,
                   steps, analysis)

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


def _rom_rows(results: list[RangeMeasurement]) -> list[Row]:
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


#: The robot-based assessments by name (their declarations:
#: :data:`~rehabbot.controllers.assessment_specs.ASSESSMENT_SPECS`).
ROBOT_ASSESSMENTS: dict[str, RobotAssessment] = {
    name: RobotAssessment.of(ASSESSMENT_SPECS[name], steps, analysis)
    for name, steps, analysis in (
        ("passive_rom",
         lambda joints, params, setup: passive_steps(joints, params["threshold_nm"], setup),
         _passive_rom),
        ("active_rom", lambda joints, params, setup: active_steps(joints, setup), _active_rom),
        ("isometric",
         lambda joints, params, setup: isometric_steps(joints, _angles(params), setup),
         _isometric),
        ("stiffness",
         lambda joints, params, setup: stiffness_steps(joints, _velocities(params), setup),
         _stiffness),
    )
}
