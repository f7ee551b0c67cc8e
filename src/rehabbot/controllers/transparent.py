"""Transparent mode: the robot gets out of the way.

Zero impedance (``kp = kd = 0``) and a feed-forward torque that carries the legs' and the
orthosis's weight and the joints' friction
(:class:`~rehabbot.controllers.compensation.Compensation`), scaled by ``gravity_pct`` and
``friction_pct``: the wearer moves the robot with as little interaction torque as the models
allow. The commanded reference is the normative pattern at the estimated gait phase; it does not
act (``kp = 0``), it is what a live view and the recording compare the patient with.

Transparent mode is for patients who walk on their own. One who cannot is dragged by the belt
toward a limit of their range of motion; before it, as the joint enters the response band
(:class:`~rehabbot.controllers.rom_response.RomResponse`, closeness ``c`` from 0 to 1 at the limit),
a spring catches it, ``τ_j -= s_j · K_c · b · c_j`` (``s_j`` the direction of the limit, ``b``
the band's width, ``K_c`` :data:`CATCH_STIFFNESS_NM_PER_RAD`), and once ``c`` reaches
:data:`STOP_CLOSENESS` before a limit that normal walking keeps clear of
(:data:`STOP_MIN_BAND_RAD`) the controller asks for a controlled stop (:attr:`stop_reason_`): the
session ends with a fade and its reason in the record, not with a range-of-motion fault.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from rehabbot.controllers.base import ParamSpec, Setup
from rehabbot.controllers.compensation import Compensation
from rehabbot.controllers.gait_following import GaitFollower
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.safety.range_margin import RangeMargin

if TYPE_CHECKING:
    from typing import Self

#: Stiffness (N·m/rad) of the spring that catches a joint in the band before a range limit.
CATCH_STIFFNESS_NM_PER_RAD = 1000.0
#: Closeness to a range limit (0..1 over the response band) at which the session is stopped ...
STOP_CLOSENESS = 0.25
#: ... if that limit's band is at least this wide (rad): a limit normal walking keeps clear of
#: (a healthy knee comes within 1-4 deg of a range starting at 0 deg at every heel strike).
STOP_MIN_BAND_RAD = math.radians(3.0)


class TransparentController(GaitFollower):
    """Compensation only, no guidance.

    Args:
        joint_names: joints in array order.
        compensation: the gravity and friction models.
        gravity_pct: share of the gravity torque applied (%).
        friction_pct: share of the friction torque applied (%).
        phase_source: name of the phase source that reports the gait phase.
        cadence_steps_per_min: initial cadence guess of the phase source (steps/min).
        period_s: the control period (s).
        range_margin: the margins to the patient's range of motion (module docstring; None:
            no catching spring and no stop).
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "gravity_pct": ParamSpec("%", 0.0, 100.0, "share of the legs' weight carried",
                                 rate_per_s=50.0),
        "friction_pct": ParamSpec("%", 0.0, 100.0, "share of the joints' friction compensated",
                                  rate_per_s=50.0),
    }
    gravity_pct: float
    friction_pct: float

    @classmethod
    def build(cls, setup: Setup) -> Self:
        """The controller a protocol names (:meth:`Controller.build`)."""
        return cls(setup.joint_names, setup.compensation, phase_source=setup.phase_source,
                   cadence_steps_per_min=setup.cadence_steps_per_min, period_s=setup.period_s,
                   range_margin=setup.range_margin)

    def __init__(
        self,
        joint_names: tuple[str, ...],
        compensation: Compensation,
        gravity_pct: float = 100.0,
        friction_pct: float = 100.0,
        *,
        phase_source: str = "oscillator",
        cadence_steps_per_min: float = 90.0,
        period_s: float = 0.001,
        range_margin: RangeMargin | None = None,
    ) -> None:
        super().__init__(joint_names, phase_source=phase_source,
                         cadence_steps_per_min=cadence_steps_per_min, period_s=period_s,
                         range_margin=range_margin)
        self.compensation = compensation
        self.cadence_steps_per_min = cadence_steps_per_min
        self.set_params(gravity_pct=gravity_pct, friction_pct=friction_pct)
        self._zeros = np.zeros(len(joint_names))
        self._catch = np.zeros(len(joint_names))


    def update(self, state: JointState) -> JointCommand:
        """The compensation torque at this tick."""
        self.advance_ramps(state.t_s)
        self.phase_ = self.phase_source_.update(state)
        tau = self.compensation.torques(
            state.q, state.qd, self.ramped("gravity_pct") / 100.0,
            self.ramped("friction_pct") / 100.0,
        )
        response = self.rom_response_
        closeness = response.update(state.q)
        np.multiply(closeness, response.toward, out=self._catch)
        self._catch *= CATCH_STIFFNESS_NM_PER_RAD * response.band_rad
        tau -= self._catch
        worst = int(np.argmax(closeness * (response.band_rad >= STOP_MIN_BAND_RAD)))
        if (self.stop_reason_ is None and closeness[worst] >= STOP_CLOSENESS
                and response.band_rad[worst] >= STOP_MIN_BAND_RAD):
            self.stop_reason_ = (
                f"{self.joint_names[worst]} was carried to within "
                f"{np.degrees(response.band_rad[worst] * (1.0 - closeness[worst])):.1f} deg of the "
                f"patient's range of motion at {state.t_s:.1f} s: this patient does not walk "
                "without guidance; choose a guided mode (impedance, assist-as-needed, path "
                "control)")
        zeros = self._zeros
        return JointCommand(self.reference_.evaluate(self.phase_)[0], zeros.copy(), zeros.copy(),
                            zeros.copy(), tau)
