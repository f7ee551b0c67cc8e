"""Joint impedance control along a normative gait reference, with a Lokomat-style guidance level.

Per joint ``tau = g*K*(q_ref - q) + g*D*(qd_ref - qd)`` where ``g`` is the guidance (0..1, the
therapist's 0-100 %), ``K`` and ``D`` the full-guidance stiffness and damping. At 100 % the robot
imposes the reference; at 0 % it adds nothing (no model compensation yet). The reference follows
the gait phase of :class:`~rehabbot.controllers.gait_phase.CadencePhase`; its velocity is the phase
derivative of the reference times the stride frequency.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from rehabbot.controllers.base import Controller, ParamSpec
from rehabbot.controllers.gait_phase import CadencePhase
from rehabbot.controllers.reference import GaitReference
from rehabbot.hal.types import FloatArray, JointCommand, JointState


class ImpedanceController(Controller):
    """Guidance along the normative gait pattern.

    Args:
        joint_names: joints in array order (hip_flexion_* and knee_angle_* get references).
        stiffness_nm_per_rad: full-guidance stiffness ``K`` per joint (N·m/rad).
        damping_nms_per_rad: full-guidance damping ``D`` per joint (N·m·s/rad).
        guidance_pct: guidance level (%), 0..100.
        cadence_steps_per_min: cadence of the reference (steps/min).
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "guidance_pct": ParamSpec("%", 0.0, 100.0, "share of full stiffness and damping"),
        "cadence_steps_per_min": ParamSpec("steps/min", 10.0, 200.0, "cadence of the reference"),
    }
    guidance_pct: float
    cadence_steps_per_min: float

    def __init__(
        self,
        joint_names: tuple[str, ...],
        stiffness_nm_per_rad: FloatArray,
        damping_nms_per_rad: FloatArray,
        guidance_pct: float = 100.0,
        cadence_steps_per_min: float = 90.0,
    ) -> None:
        self.joint_names = joint_names
        self.stiffness_nm_per_rad = np.asarray(stiffness_nm_per_rad, dtype=float)
        self.damping_nms_per_rad = np.asarray(damping_nms_per_rad, dtype=float)
        self.set_params(guidance_pct=guidance_pct, cadence_steps_per_min=cadence_steps_per_min)
        self.reference_ = GaitReference(joint_names)
        self.phase_source_ = CadencePhase(cadence_steps_per_min)

    def set_params(self, **params: float) -> None:
        """Change parameters at a tick boundary; the phase stays continuous (bumpless)."""
        super().set_params(**params)
        if "cadence_steps_per_min" in params and hasattr(self, "phase_source_"):
            self.phase_source_.cadence_steps_per_min = params["cadence_steps_per_min"]

    def update(self, state: JointState) -> JointCommand:
        """The guidance command at ``state.t_s``."""
        self.phase_ = self.phase_source_.advance(state.t_s)
        q_ref, dq_dphase = self.reference_.evaluate(self.phase_)
        g = self.guidance_pct / 100.0
        return JointCommand(
            q_ref=q_ref,
            qd_ref=dq_dphase * self.phase_source_.stride_frequency_hz,
            kp=g * self.stiffness_nm_per_rad,
            kd=g * self.damping_nms_per_rad,
            tau_ff=np.zeros(len(self.joint_names)),
        )
