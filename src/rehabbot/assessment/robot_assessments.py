"""The robot-based assessments by name, for the "assessment" phases of a protocol.

Contract (stable; protocols and reports rely on it):

- :data:`ROBOT_ASSESSMENTS` maps a name (``"passive_rom"``, ``"active_rom"``, ``"stiffness"``,
  ``"isometric"``) to a :class:`RobotAssessment`. Calling it,
  ``ROBOT_ASSESSMENTS[name](profile, height_m=..., mass_kg=..., joints=..., params=...,
  robot=...)``, runs the assessment on a simulated patient of that
  :class:`~rehabbot.sim.patient.PatientProfile` and returns an :class:`AssessmentResult`.
- ``robot``: the robot's :class:`~rehabbot.hal.config.RobotConfig` (its joints' position and
  torque limits bound the tests), ``None`` for the bundled ``sim_exo``.
- ``joints``: simulator joint names (``hip_flexion_r``, ``knee_angle_r``, ``hip_flexion_l``,
  ``knee_angle_l``), ``None`` for :attr:`RobotAssessment.default_joints` (all four).
- ``params``: ``{name: number}``, each name one of :attr:`RobotAssessment.params` (a
  :class:`Param` with its unit, default and bounds), ``None`` or missing names for defaults.
- Bad input (an unknown joint or parameter, a value out of bounds) raises one
  :class:`~rehabbot.errors.ConfigurationError` naming what was wrong and what is allowed.
- :meth:`AssessmentResult.as_dict` is JSON-able: ``{"name", "title", "rows": [...]}``, one row
  per joint (per joint and velocity for the stiffness), each with ``"joint"`` and measured
  values whose keys carry their unit (``_deg``, ``_nm``, ``_nm_per_kg``, ``_nm_per_rad``,
  ``_nms_per_rad``, ``_deg_s``) and booleans ``*_at_robot_limit`` where a value is the robot's
  own range of motion or torque limit rather than the patient's.

>>> sorted(ROBOT_ASSESSMENTS)
['active_rom', 'isometric', 'passive_rom', 'stiffness']
>>> ROBOT_ASSESSMENTS["passive_rom"].params["threshold_nm"].default
10.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rehabbot.assessment.robot_bench import check_joints
from rehabbot.assessment.robot_isometric import DEFAULT_ANGLES_RAD, assess_isometric
from rehabbot.assessment.robot_rom import (
    THRESHOLD_NM,
    THRESHOLD_RANGE_NM,
    RangeOfMotion,
    assess_active_rom,
    assess_passive_rom,
)
from rehabbot.assessment.robot_tests import DEFAULT_VELOCITIES_DEG_S, assess_stiffness
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig
from rehabbot.sim.patient import PatientProfile
from rehabbot.sim.world import ACTUATED_JOINTS

#: A result row: joint name, measured values (keys with units), robot-limit flags.
Row = dict[str, str | float | bool]


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
    """

    name: str
    title: str
    rows: tuple[Row, ...]

    def as_dict(self) -> dict[str, object]:
        """``{"name", "title", "rows"}``, JSON-able."""
        return {"name": self.name, "title": self.title, "rows": [dict(r) for r in self.rows]}


#: The function behind an assessment: (profile, joints, height, mass, params, robot) -> rows.
Runner = Callable[[PatientProfile, tuple[str, ...], float, float, dict[str, float],
                   RobotConfig | None], list[Row]]


@dataclass(frozen=True)
class RobotAssessment:
    """One robot-based assessment: call it to run it (module docstring).

    Attributes:
        name: its name in :data:`ROBOT_ASSESSMENTS`.
        title: a short title for reports.
        default_joints: the joints assessed when none are given.
        allowed_joints: the joints it can assess.
        params: its parameters by name.
        runner: the function that measures.
    """

    name: str
    title: str
    default_joints: tuple[str, ...]
    allowed_joints: tuple[str, ...]
    params: Mapping[str, Param]
    runner: Runner

    def __call__(
        self,
        profile: PatientProfile,
        *,
        height_m: float,
        mass_kg: float,
        joints: Sequence[str] | None = None,
        params: Mapping[str, float] | None = None,
        robot: RobotConfig | None = None,
    ) -> AssessmentResult:
        """Run the assessment on a simulated patient of ``profile`` (height m, mass kg) with
        ``robot`` (default the bundled ``sim_exo``).

        Raises:
            ConfigurationError: an unknown joint or parameter, or a value out of bounds.
        """
        chosen = tuple(joints) if joints is not None else self.default_joints
        check_joints(chosen, self.allowed_joints)
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
        rows = self.runner(profile, chosen, height_m, mass_kg, values, robot)
        return AssessmentResult(self.name, self.title, tuple(rows))


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


def _passive_rom(profile: PatientProfile, joints: tuple[str, ...], height_m: float,
                 mass_kg: float, params: dict[str, float], robot: RobotConfig | None
                 ) -> list[Row]:
    return _rom_rows(assess_passive_rom(profile, joints, height_m=height_m, mass_kg=mass_kg,
                                        threshold_nm=params["threshold_nm"], robot=robot))


def _active_rom(profile: PatientProfile, joints: tuple[str, ...], height_m: float,
                mass_kg: float, params: dict[str, float], robot: RobotConfig | None
                ) -> list[Row]:
    return _rom_rows(assess_active_rom(profile, joints, height_m=height_m, mass_kg=mass_kg,
                                       robot=robot))


def _isometric(profile: PatientProfile, joints: tuple[str, ...], height_m: float,
               mass_kg: float, params: dict[str, float], robot: RobotConfig | None
               ) -> list[Row]:
    angles = {"hip_flexion": math.radians(params["hip_angle_deg"]),
              "knee_angle": math.radians(params["knee_angle_deg"])}
    return [
        {
            "joint": r.joint,
            "angle_deg": math.degrees(r.angle_rad),
            "flexion_nm": r.flexion_nm,
            "extension_nm": r.extension_nm,
            "flexion_nm_per_kg": r.flexion_nm / mass_kg,
            "extension_nm_per_kg": r.extension_nm / mass_kg,
            "flexion_at_robot_limit": r.flexion_at_robot_limit,
            "extension_at_robot_limit": r.extension_at_robot_limit,
        }
        for r in assess_isometric(profile, joints, height_m=height_m, mass_kg=mass_kg,
                                  angles_rad=angles, robot=robot)
    ]


def _stiffness(profile: PatientProfile, joints: tuple[str, ...], height_m: float,
               mass_kg: float, params: dict[str, float], robot: RobotConfig | None
               ) -> list[Row]:
    velocities = tuple(params[f"velocity_{n}_deg_s"] for n in (1, 2, 3))
    return [
        {
            "joint": joint,
            "peak_velocity_deg_s": e.peak_velocity_deg_s,
            "stiffness_nm_per_rad": e.stiffness_nm_per_rad,
            "damping_nms_per_rad": e.damping_nms_per_rad,
            "rest_angle_deg": math.degrees(e.rest_angle_rad),
            "rms_residual_nm": e.rms_residual_nm,
        }
        for joint in joints
        for e in assess_stiffness(profile, joint, velocities, height_m=height_m, mass_kg=mass_kg,
                                  robot=robot)
    ]


_VELOCITY_NAMES = ("slow", "medium", "fast")

#: The robot-based assessments by name.
ROBOT_ASSESSMENTS: dict[str, RobotAssessment] = {
    "passive_rom": RobotAssessment(
        "passive_rom", "Passive range of motion (L-ROM)", ACTUATED_JOINTS, ACTUATED_JOINTS,
        {"threshold_nm": Param("N·m", THRESHOLD_NM, *THRESHOLD_RANGE_NM,
                               "resistance at which the passive motion ends")},
        _passive_rom,
    ),
    "active_rom": RobotAssessment(
        "active_rom", "Active range of motion", ACTUATED_JOINTS, ACTUATED_JOINTS, {},
        _active_rom,
    ),
    "isometric": RobotAssessment(
        "isometric", "Maximal isometric torque (L-FORCE)", ACTUATED_JOINTS, ACTUATED_JOINTS,
        {
            "hip_angle_deg": Param("deg", math.degrees(DEFAULT_ANGLES_RAD["hip_flexion"]),
                                   -20.0, 55.0, "hip angle held in the test"),
            "knee_angle_deg": Param("deg", math.degrees(DEFAULT_ANGLES_RAD["knee_angle"]),
                                    0.0, 95.0, "knee angle held in the test"),
        },
        _isometric,
    ),
    "stiffness": RobotAssessment(
        "stiffness", "Joint stiffness at three velocities (L-STIFF)", ACTUATED_JOINTS,
        ACTUATED_JOINTS,
        {
            f"velocity_{n}_deg_s": Param("deg/s", v, 1.0, 400.0,
                                         f"peak velocity of the {label} motion")
            for n, (label, v) in enumerate(
                zip(_VELOCITY_NAMES, DEFAULT_VELOCITIES_DEG_S, strict=True), start=1)
        },
        _stiffness,
    ),
}
