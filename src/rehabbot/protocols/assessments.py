"""Assessment phases: robot-based assessments run from a protocol.

An assessment phase names an entry of the robot-assessment registry
(:data:`~rehabbot.assessment.robot_assessments.ROBOT_ASSESSMENTS`): passive and active range of
motion, joint stiffness at several velocities (L-STIFF-like), isometric joint torque (L-FORCE-like).
As on a Lokomat, they are done with the treadmill stopped and the patient lifted, so each runs in
its own simulated world of the session's patient, before the walking phases (or after them), and
never inside the control loop. Each result's ``as_dict()`` is stored in the session summary under
``assessments`` (by phase name) and as an ``assessment`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rehabbot.assessment.robot_assessments import ROBOT_ASSESSMENTS
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import Phase
from rehabbot.sim.patient import PatientProfile


@dataclass(frozen=True)
class AssessedBody:
    """The session's patient as the assessments see it.

    Attributes:
        profile: the simulated patient's profile.
        height_m: body height (m).
        mass_kg: body mass (kg).
        robot: the session's robot: its limits bound the assessments' motions and torques, and
            an assessment phase may only name its joints.
    """

    profile: PatientProfile
    height_m: float
    mass_kg: float
    robot: RobotConfig

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The robot's joints."""
        return self.robot.joint_names


def run_assessments(phases: Sequence[Phase], body: AssessedBody) -> dict[str, dict[str, Any]]:
    """Run the assessment phases in order; their results by phase name.

    Raises:
        ConfigurationError: an unknown assessment, or a joint the robot does not have.
    """
    results: dict[str, dict[str, Any]] = {}
    for phase in phases:
        name = phase.assessment or ""
        assessment = ROBOT_ASSESSMENTS.get(name)
        if assessment is None:
            raise ConfigurationError(f"phase {phase.name!r}: unknown assessment {name!r}; known: "
                                     f"{', '.join(sorted(ROBOT_ASSESSMENTS))}")
        joints = phase.assessment_joints or tuple(
            j for j in assessment.default_joints if j in body.joint_names)
        missing = [j for j in joints if j not in body.joint_names]
        if missing or not joints:
            raise ConfigurationError(f"phase {phase.name!r}: the robot has no joint "
                                     f"{', '.join(missing or assessment.default_joints)}; its "
                                     f"joints: {', '.join(body.joint_names)}")
        result = assessment(body.profile, height_m=body.height_m, mass_kg=body.mass_kg,
                            joints=joints, params=dict(phase.assessment_params),
                            robot=body.robot)
        results[phase.name] = result.as_dict()
    return results
