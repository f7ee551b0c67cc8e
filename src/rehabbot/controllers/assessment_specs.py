"""The robot-based assessments a protocol may name: each one's joints and parameters.

A robot assessment is a procedure of the control loop (:mod:`rehabbot.controllers.procedures`)
and an analysis of its recording (:mod:`rehabbot.assessment.robot`). What a protocol file may say
about one (its name, the joints, the parameters with their units, defaults and bounds) is declared
here, below both the protocol schema and the assessments, so that the schema checks a protocol
against the same declaration the session's battery runs
(:data:`~rehabbot.assessment.robot.registry.ROBOT_ASSESSMENTS` adds the steps and the analysis).

>>> sorted(ASSESSMENT_SPECS)
['active_rom', 'isometric', 'passive_rom', 'stiffness']
>>> ASSESSMENT_SPECS["passive_rom"].values({"threshold_nm": 15})
{'threshold_nm': 15.0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rehabbot.body.joints import HIP_KNEE_JOINTS
from rehabbot.errors import ConfigurationError

#: Resistance (N·m) at which a passive range-of-motion motion ends (the end-feel criterion of
#: robot ROM tests), and its allowed values (N·m).
THRESHOLD_NM = 10.0
THRESHOLD_RANGE_NM = (2.0, 40.0)
#: Joint angles (rad) held in the isometric test by joint kind: hip 30 deg and knee 45 deg of
#: flexion.
ISOMETRIC_ANGLES_RAD = {"hip_flexion": math.radians(30.0), "knee_angle": math.radians(45.0)}
#: Peak joint velocities of the stiffness assessment (deg/s), slow to fast as in the clinic.
STIFFNESS_VELOCITIES_DEG_S = (30.0, 90.0, 180.0)


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
class AssessmentSpec:
    """What a protocol may say about one robot assessment.

    Attributes:
        name: its name in :data:`ASSESSMENT_SPECS`.
        title: a short title for reports.
        default_joints: the joints assessed when none are given.
        allowed_joints: the joints it can assess.
        params: its parameters by name.
    """

    name: str
    title: str
    default_joints: tuple[str, ...]
    allowed_joints: tuple[str, ...]
    params: Mapping[str, Param]

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


_VELOCITY_NAMES = ("slow", "medium", "fast")

#: The robot-based assessments by name.
ASSESSMENT_SPECS: dict[str, AssessmentSpec] = {
    "passive_rom": AssessmentSpec(
        "passive_rom", "Passive range of motion (L-ROM)", HIP_KNEE_JOINTS, HIP_KNEE_JOINTS,
        {"threshold_nm": Param("N·m", THRESHOLD_NM, *THRESHOLD_RANGE_NM,
                               "resistance at which the passive motion ends")},
    ),
    "active_rom": AssessmentSpec(
        "active_rom", "Active range of motion", HIP_KNEE_JOINTS, HIP_KNEE_JOINTS, {},
    ),
    "isometric": AssessmentSpec(
        "isometric", "Maximal isometric torque (L-FORCE)", HIP_KNEE_JOINTS, HIP_KNEE_JOINTS,
        {
            "hip_angle_deg": Param("deg", math.degrees(ISOMETRIC_ANGLES_RAD["hip_flexion"]),
                                   -20.0, 55.0, "hip angle held in the test"),
            "knee_angle_deg": Param("deg", math.degrees(ISOMETRIC_ANGLES_RAD["knee_angle"]),
                                    0.0, 95.0, "knee angle held in the test"),
        },
    ),
    "stiffness": AssessmentSpec(
        "stiffness", "Joint stiffness at three velocities (L-STIFF)", HIP_KNEE_JOINTS,
        HIP_KNEE_JOINTS,
        {
            f"velocity_{n}_deg_s": Param("deg/s", v, 1.0, 400.0,
                                         f"peak velocity of the {label} motion")
            for n, (label, v) in enumerate(
                zip(_VELOCITY_NAMES, STIFFNESS_VELOCITIES_DEG_S, strict=True), start=1)
        },
    ),
}
