"""Joint impedance control along a normative gait reference, with a Lokomat-style guidance level.

Per joint ``tau = g*K*(q_ref - q) + g*D*(qd_ref - qd) + tau_c`` where ``g`` is the guidance (0..1,
the therapist's 0-100 %), ``K`` and ``D`` the full-guidance stiffness and damping and ``tau_c`` an
optional model compensation (:class:`~rehabbot.controllers.compensation.Compensation`: the legs'
weight and the joints' friction). At 100 % the robot imposes the reference; at 0 % it adds only
the compensation.

The reference follows the gait phase of a phase source chosen by name
(:data:`~rehabbot.controllers.phase_sources.PHASE_SOURCES`): the cadence clock of classic gait
robots, or an estimator that follows the patient's own rhythm from the right hip. Its velocity is
the phase derivative of the reference times the stride frequency. The therapist can scale the
hip's and the knee's range of motion about their means.

Every change is bumpless: guidance, cadence and range-of-motion changes ramp at bounded rates
(:attr:`ImpedanceController.param_specs`), the phase stays continuous through a cadence change,
so the torque never steps.

Two things keep a weak patient inside the range of motion whatever the guidance level: a
**guidance floor per joint** (``floor_<joint>_pct``, set by the protocol's ``guidance_floor_pct``
and adjustable live within its bounds), below which no joint's guidance goes, and the
**response to the range-of-motion margin**
(:class:`~rehabbot.controllers.rom_response.RomResponse`): as a joint nears a limit of the
patient's range, its guidance rises linearly to 100 % at the limit, before the supervisor has to
step in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar, TypedDict, Unpack

import numpy as np

from rehabbot.controllers.base import GUIDANCE, Controller, ParamSpec, Setup
from rehabbot.controllers.compensation import Compensation
from rehabbot.controllers.gait_following import GaitFollower
from rehabbot.controllers.gait_phase import CadencePhase
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray, JointCommand, JointState
from rehabbot.safety.range_margin import RangeMargin

if TYPE_CHECKING:
    from typing import Self

#: The joints that can have a guidance floor, and the parameter that holds each floor (%).
FLOOR_JOINTS = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
FLOOR_PARAMS = {name: f"floor_{name}_pct" for name in FLOOR_JOINTS}


class GuidanceOptions(TypedDict, total=False):
    """The keyword arguments every gait-guidance controller takes (see :class:`GaitGuidance`)."""

    cadence_steps_per_min: float
    phase_source: str
    period_s: float
    compensation: Compensation | None
    speed_class: str
    range_margin: RangeMargin | None


class GaitGuidance(GaitFollower, ABC):
    """What impedance-based gait guidance shares: phase source, reference, compensation, ranges
    of motion and the impedance law; a subclass says how much guidance each joint gets.

    Args:
        joint_names: joints in array order (hip_flexion_* and knee_angle_* get references).
        stiffness_nm_per_rad: full-guidance stiffness ``K`` per joint (N·m/rad).
        damping_nms_per_rad: full-guidance damping ``D`` per joint (N·m·s/rad).
        cadence_steps_per_min: cadence of the reference (steps/min); with an estimator as phase
            source, its initial guess (then it cannot be changed while running).
        phase_source: name of the phase source (``cadence``, ``oscillator``, ``portrait``).
        period_s: the control period (s), the estimators' fixed step.
        compensation: feed-forward model compensation, or None.
        speed_class: the normative speed class of the reference.
        range_margin: the margins to the patient's range of motion the guidance responds to
            (None: no response).
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        **{param: replace(GUIDANCE, description=f"lowest guidance of {joint}")
           for joint, param in FLOOR_PARAMS.items()},
        "cadence_steps_per_min": ParamSpec("steps/min", 10.0, 200.0, "cadence of the reference",
                                           rate_per_s=10.0),
        "hip_rom_pct": ParamSpec("%", 50.0, 120.0, "hip range of motion of the reference",
                                 rate_per_s=10.0),
        "knee_rom_pct": ParamSpec("%", 50.0, 120.0, "knee range of motion of the reference",
                                  rate_per_s=10.0),
    }
    cadence_steps_per_min: float
    hip_rom_pct: float
    knee_rom_pct: float

    def __init__(
        self,
        joint_names: tuple[str, ...],
        stiffness_nm_per_rad: FloatArray,
        damping_nms_per_rad: FloatArray,
        *,
        cadence_steps_per_min: float = 90.0,
        phase_source: str = "cadence",
        period_s: float = 0.001,
        compensation: Compensation | None = None,
        speed_class: str = "Free",
        range_margin: RangeMargin | None = None,
    ) -> None:
        super().__init__(joint_names, phase_source=phase_source,
                         cadence_steps_per_min=cadence_steps_per_min, period_s=period_s,
                         speed_class=speed_class, range_margin=range_margin)
        self.stiffness_nm_per_rad = np.asarray(stiffness_nm_per_rad, dtype=float)
        self.damping_nms_per_rad = np.asarray(damping_nms_per_rad, dtype=float)
        self.compensation = compensation
        Controller.set_params(
            self, cadence_steps_per_min=cadence_steps_per_min, hip_rom_pct=100.0,
            knee_rom_pct=100.0, **dict.fromkeys(FLOOR_PARAMS.values(), 0.0),
        )
        kinds = [name.rsplit("_", 1)[0] for name in joint_names]
        self._hip = np.array([k == "hip_flexion" for k in kinds])
        self._knee = np.array([k == "knee_angle" for k in kinds])
        #: The floor parameter of each joint, None for a joint without one.
        self._floor_param = [FLOOR_PARAMS.get(name) for name in joint_names]
        self._floor = np.zeros(len(joint_names))
        self._g = np.zeros(len(joint_names))

    @classmethod
    def build(cls, setup: Setup) -> Self:
        """The controller a protocol names (:meth:`Controller.build`)."""
        return cls(setup.joint_names, setup.stiffness_nm_per_rad, setup.damping_nms_per_rad,
                   cadence_steps_per_min=setup.cadence_steps_per_min,
                   phase_source=setup.phase_source, period_s=setup.period_s,
                   compensation=setup.compensation, range_margin=setup.range_margin)

    def set_params(self, **params: float) -> None:
        """Change parameters at a tick boundary; each ramps to its new value (bumpless).

        Raises:
            ConfigurationError: as :meth:`Controller.set_params`; also a cadence change while an
                estimator, not the cadence clock, sets the phase.
        """
        if "cadence_steps_per_min" in params and self.phase_source != "cadence":
            raise ConfigurationError(
                f"the cadence follows the patient with phase source {self.phase_source!r}; "
                "it can be set only with the 'cadence' phase source"
            )
        super().set_params(**params)


    def _phase(self, state: JointState) -> float:
        """Advance the phase source to this tick; the right leg's phase (cycles)."""
        estimator = self.phase_source_.estimator
        if isinstance(estimator, CadencePhase):
            estimator.cadence_steps_per_min = self.ramped("cadence_steps_per_min")
        return self.phase_source_.update(state)

    def reference(self, phase: float) -> tuple[FloatArray, FloatArray]:
        """Reference angles (rad) and velocities (rad/s) at right-leg ``phase``, with the ranges
        of motion scaled about their means."""
        q, dq_dphase = self.reference_.evaluate(phase)
        scale = 1.0 + self._hip * (self.ramped("hip_rom_pct") / 100.0 - 1.0) + self._knee * (
            self.ramped("knee_rom_pct") / 100.0 - 1.0)
        mean = self.reference_.mean_rad
        q_ref: FloatArray = mean + scale * (q - mean)
        qd_ref: FloatArray = scale * dq_dphase * self.phase_source_.estimator.stride_frequency_hz
        return q_ref, qd_ref

    def floors(self) -> FloatArray:
        """The guidance floor per joint (%) the control law uses now (ramped)."""
        for i, param in enumerate(self._floor_param):
            self._floor[i] = 0.0 if param is None else self.ramped(param)
        return self._floor

    @abstractmethod
    def guidance(self, phase: float, q_ref: FloatArray, state: JointState) -> FloatArray:
        """Guidance per joint (%, 0..100) at this tick, continuous in time, before the floors and
        the response to the range-of-motion margin."""

    def update(self, state: JointState) -> JointCommand:
        """The guidance command at ``state.t_s``: each joint's guidance is the largest of the
        mode's, its floor and 100 % times its closeness to a range-of-motion limit."""
        self.advance_ramps(state.t_s)
        self.phase_ = self._phase(state)
        q_ref, qd_ref = self.reference(self.phase_)
        closeness = self.rom_response_.update(state.q)
        g = self._g
        np.maximum(self.guidance(self.phase_, q_ref, state), self.floors(), out=g)
        np.maximum(g, 100.0 * closeness, out=g)
        g /= 100.0
        tau_ff = (
            self.compensation.torques(state.q, state.qd) if self.compensation is not None
            else np.zeros(len(self.joint_names))
        )
        return JointCommand(
            q_ref=q_ref,
            qd_ref=qd_ref,
            kp=g * self.stiffness_nm_per_rad,
            kd=g * self.damping_nms_per_rad,
            tau_ff=tau_ff,
        )


class ImpedanceController(GaitGuidance):
    """Guidance along the normative gait pattern at one level the therapist sets.

    Args:
        joint_names: joints in array order (hip_flexion_* and knee_angle_* get references).
        stiffness_nm_per_rad: full-guidance stiffness ``K`` per joint (N·m/rad).
        damping_nms_per_rad: full-guidance damping ``D`` per joint (N·m·s/rad).
        guidance_pct: guidance level (%), 0..100.
        **options: ``cadence_steps_per_min``, ``phase_source``, ``period_s``,
            ``compensation``, ``speed_class``, ``range_margin`` of :class:`GaitGuidance`.
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "guidance_pct": GUIDANCE,
        **GaitGuidance.param_specs,
    }
    guidance_param: ClassVar[str | None] = "guidance_pct"
    guidance_pct: float

    def __init__(
        self,
        joint_names: tuple[str, ...],
        stiffness_nm_per_rad: FloatArray,
        damping_nms_per_rad: FloatArray,
        guidance_pct: float = 100.0,
        **options: Unpack[GuidanceOptions],
    ) -> None:
        super().__init__(joint_names, stiffness_nm_per_rad, damping_nms_per_rad, **options)
        Controller.set_params(self, guidance_pct=guidance_pct)

    def guidance(self, phase: float, q_ref: FloatArray, state: JointState) -> FloatArray:
        """The ramped guidance level (%), the same for every joint."""
        self._g.fill(self.ramped("guidance_pct"))
        return self._g
