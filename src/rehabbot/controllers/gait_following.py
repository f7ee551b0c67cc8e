"""What the walking controllers share: a phase source, the normative reference and the response
to the range-of-motion margin.

The impedance, assist-as-needed, path-control and transparent modes all follow the patient's
gait: a phase source (:func:`~rehabbot.controllers.phase_sources.hip_phase`) says where in the
stride the right leg is, the normative gait reference
(:class:`~rehabbot.body.normative_gait.GaitReference`) what the legs would do there, and the
response to the range-of-motion margin (:class:`~rehabbot.controllers.rom_response.RomResponse`)
how close each joint is to a limit of the patient's range. :class:`GaitFollower` builds the three
once; each mode says what torque it makes of them.
"""

from __future__ import annotations

from rehabbot.body.normative_gait import GaitReference
from rehabbot.controllers.base import Controller
from rehabbot.controllers.phase_sources import HipPhase, hip_phase
from rehabbot.controllers.rom_response import RomResponse
from rehabbot.safety.range_margin import RangeMargin


class GaitFollower(Controller):
    """A controller that follows the gait (module docstring).

    Args:
        joint_names: joints in array order.
        phase_source: name of the phase source (:mod:`~rehabbot.controllers.phase_sources`).
        cadence_steps_per_min: the cadence clock's cadence, or an estimator's initial guess
            (steps/min).
        period_s: the control period (s), the estimators' fixed step.
        speed_class: the normative speed class of the reference.
        range_margin: the margins to the patient's range of motion (None: no response).

    Raises:
        ConfigurationError: unknown phase source, or one that needs a hip the robot lacks.
    """

    phase_source_: HipPhase  # always one (see hip_phase)

    def __init__(
        self,
        joint_names: tuple[str, ...],
        *,
        phase_source: str,
        cadence_steps_per_min: float,
        period_s: float,
        speed_class: str = "Free",
        range_margin: RangeMargin | None = None,
    ) -> None:
        super().__init__()
        self.joint_names = joint_names
        self.phase_source = phase_source
        self.period_s = period_s
        self.speed_class = speed_class
        self.phase_source_ = hip_phase(phase_source, joint_names, cadence_steps_per_min, period_s)
        self.reference_ = GaitReference(joint_names, speed_class)
        self.rom_response_ = RomResponse(range_margin, self.reference_)
