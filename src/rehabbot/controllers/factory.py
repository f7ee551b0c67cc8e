"""The controller a protocol names, built for a robot and a patient.

One place maps a protocol's ``controller`` and ``phase_source`` to a controller instance, so the
session runner, benchmarks and sweeps build the same thing. Every controller gets the patient's
leg model for gravity compensation (planar two-link legs from the anthropometric tables plus the
orthosis) and the margins to the protocol's range of motion it responds to
(:class:`~rehabbot.safety.range_margin.RangeMargin`), and the protocol's ``controller_params``
and guidance floors are applied through ``set_params``, which checks names, units and bounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegGravity, LegSegments
from rehabbot.body.orthosis import ExoSegments
from rehabbot.controllers.assist_as_needed import AssistAsNeededController
from rehabbot.controllers.base import Controller
from rehabbot.controllers.compensation import Compensation
from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.controllers.path_control import PathController
from rehabbot.controllers.transparent import TransparentController
from rehabbot.safety.range_margin import RangeMargin

if TYPE_CHECKING:  # the schema validates controller parameters against CONTROLLER_CLASSES
    from rehabbot.protocols.schema import TrainingSettings

#: The controller class a protocol's ``controller`` names.
CONTROLLER_CLASSES: dict[str, type[Controller]] = {
    "impedance": ImpedanceController,
    "assist_as_needed": AssistAsNeededController,
    "path_control": PathController,
    "transparent": TransparentController,
}
#: The parameter that holds a controller's guidance level (%), for those that have one.
GUIDANCE_PARAM = {"impedance": "guidance_pct", "assist_as_needed": "max_guidance_pct"}


def build_controller(
    protocol: TrainingSettings,
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
        guidance_pct: guidance level (%) for the guided controllers (impedance; the
            assist-as-needed controller starts there and never goes above it).
        period_s: control period (s).
        height_m: the patient's height (m), for the leg model.
        mass_kg: the patient's body mass (kg), for the leg model.

    Raises:
        ConfigurationError: a controller parameter is unknown or out of its bounds.
    """
    body = BodyModel.from_height_mass(height_m, mass_kg)
    compensation = Compensation(LegGravity(joint_names, LegSegments.from_body(body, ExoSegments())))
    stiffness = np.array([protocol.stiffness_nm_per_rad.for_joint(n) for n in joint_names])
    damping = np.array([protocol.damping_nms_per_rad.for_joint(n) for n in joint_names])
    cadence = protocol.cadence_steps_per_min
    source = protocol.phase_source
    rom = RangeMargin.from_rom(joint_names, protocol.range_of_motion_deg.for_joints(joint_names))
    controller: Controller
    if protocol.controller == "impedance":
        controller = ImpedanceController(
            joint_names, stiffness, damping, guidance_pct, cadence, phase_source=source,
            period_s=period_s, compensation=compensation, range_margin=rom)
    elif protocol.controller == "assist_as_needed":
        controller = AssistAsNeededController(
            joint_names, stiffness, damping, max_guidance_pct=guidance_pct,
            cadence_steps_per_min=cadence, phase_source=source, period_s=period_s,
            compensation=compensation, range_margin=rom)
    elif protocol.controller == "path_control":
        controller = PathController(
            joint_names, cadence_steps_per_min=cadence, phase_source=source, period_s=period_s,
            compensation=compensation, range_margin=rom)
    else:
        controller = TransparentController(
            joint_names, compensation, phase_source=source, cadence_steps_per_min=cadence,
            period_s=period_s, range_margin=rom)
    if protocol.controller in GUIDANCE_PARAM:
        controller.set_params(**protocol.guidance_floors())
    if protocol.controller_params:
        controller.set_params(**protocol.controller_params)
    return controller
