"""The controller a protocol names, built for a robot and a patient.

One place maps a protocol's ``controller`` and ``phase_source`` to a controller instance, so the
session runner, benchmarks and sweeps build the same thing. The class comes from the registry
(:data:`~rehabbot.controllers.registry.CONTROLLERS`) and builds itself from a
:class:`~rehabbot.controllers.base.Setup`: every controller gets the patient's leg model for
gravity compensation (planar two-link legs from the anthropometric tables plus the orthosis) and
the margins to the protocol's range of motion it responds to
(:class:`~rehabbot.safety.range_margin.RangeMargin`). The protocol's guidance level, guidance
floors and ``controller_params`` are then applied through ``set_params``, which checks each
against the controller's ``ParamSpec``: the one range check on the way to the torque.

The settings are taken from any object of the shape :class:`ControllerSettings` (a protocol, or
one of its phases): controllers sit below protocols and do not import them.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegGravity, LegSegments
from rehabbot.body.orthosis import ExoSegments
from rehabbot.controllers.base import Controller, Setup
from rehabbot.controllers.compensation import Compensation
from rehabbot.controllers.registry import CONTROLLERS
from rehabbot.safety.range_margin import RangeMargin


class PerJointKind(Protocol):
    """A value per joint kind (a protocol's stiffness or damping table)."""

    def for_joint(self, joint_name: str) -> float:
        """The value of the kind of ``joint_name`` (e.g. ``knee_angle_r`` → knee_angle)."""
        ...


class RangesOfMotion(Protocol):
    """The patient's range of motion per joint (a protocol's ``range_of_motion_deg``)."""

    def for_joints(self, joint_names: tuple[str, ...]) -> dict[str, tuple[float, float]]:
        """``{joint name: (lowest, highest)}`` in rad for the joints that have a range."""
        ...


class ControllerSettings(Protocol):
    """What the factory reads of a protocol or phase (units in the names)."""

    @property
    def controller(self) -> str:
        """The registered controller name."""
        ...

    @property
    def phase_source(self) -> str:
        """The registered phase-source name."""
        ...

    @property
    def cadence_steps_per_min(self) -> float:
        """Cadence of the reference (steps/min)."""
        ...

    @property
    def stiffness_nm_per_rad(self) -> PerJointKind:
        """Full-guidance stiffness per joint kind (N·m/rad)."""
        ...

    @property
    def damping_nms_per_rad(self) -> PerJointKind:
        """Full-guidance damping per joint kind (N·m·s/rad)."""
        ...

    @property
    def range_of_motion_deg(self) -> RangesOfMotion:
        """The patient's range of motion."""
        ...

    @property
    def controller_params(self) -> dict[str, float]:
        """The controller's own parameters the protocol sets."""
        ...

    def guidance_floors(self) -> dict[str, float]:
        """``{floor parameter: %}`` for every joint that can have a guidance floor."""
        ...


def build_controller(
    protocol: ControllerSettings,
    joint_names: tuple[str, ...],
    *,
    guidance_pct: float,
    period_s: float,
    height_m: float,
    mass_kg: float,
) -> Controller:
    """The controller of ``protocol`` for ``joint_names``.

    Args:
        protocol: names the controller, its phase source, gains and parameters (a protocol,
            or one of its phases).
        joint_names: the robot's joints in array order.
        guidance_pct: guidance level (%) for a controller with one (its ``guidance_param``:
            the impedance controller's level, the assist-as-needed controller's ceiling and
            start).
        period_s: control period (s).
        height_m: the patient's height (m), for the leg model.
        mass_kg: the patient's body mass (kg), for the leg model.

    Raises:
        ConfigurationError: unknown controller or phase source, or a controller parameter
            unknown or out of its bounds.
    """
    cls = CONTROLLERS.load(protocol.controller)
    body = BodyModel.from_height_mass(height_m, mass_kg)
    controller = cls.build(Setup(
        joint_names=joint_names,
        stiffness_nm_per_rad=np.array([protocol.stiffness_nm_per_rad.for_joint(n)
                                       for n in joint_names]),
        damping_nms_per_rad=np.array([protocol.damping_nms_per_rad.for_joint(n)
                                      for n in joint_names]),
        cadence_steps_per_min=protocol.cadence_steps_per_min,
        phase_source=protocol.phase_source,
        period_s=period_s,
        compensation=Compensation(LegGravity(joint_names,
                                             LegSegments.from_body(body, ExoSegments()))),
        range_margin=RangeMargin.from_rom(
            joint_names, protocol.range_of_motion_deg.for_joints(joint_names)),
    ))
    params = {k: v for k, v in protocol.guidance_floors().items() if k in cls.param_specs}
    if cls.guidance_param is not None:
        params[cls.guidance_param] = guidance_pct
    controller.set_params(**params | protocol.controller_params)
    return controller
