"""A third-party controller, installed by the tests as a distribution of its own: guidance set
apart for the hips and the knees. The distribution registers it through the entry point
``split_guidance = split_guidance:SplitGuidance`` in the group ``rehabbot.controllers``; no
rehabbot file names it."""

from __future__ import annotations

from typing import ClassVar, Unpack

import numpy as np

from rehabbot.controllers.base import ParamSpec
from rehabbot.controllers.impedance import GaitGuidance, GuidanceOptions
from rehabbot.hal.types import FloatArray, JointState

#: Every controller built so far, so that a test can see the one a session ran.
BUILT: list[SplitGuidance] = []


class SplitGuidance(GaitGuidance):
    """Impedance guidance with one level for the hips and one for the knees (%)."""

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "hip_guidance_pct": ParamSpec("%", 0.0, 100.0, "guidance of the hips", rate_per_s=25.0),
        "knee_guidance_pct": ParamSpec("%", 0.0, 100.0, "guidance of the knees",
                                       rate_per_s=25.0),
        **GaitGuidance.param_specs,
    }
    hip_guidance_pct: float
    knee_guidance_pct: float

    def __init__(self, joint_names: tuple[str, ...], stiffness_nm_per_rad: FloatArray,
                 damping_nms_per_rad: FloatArray, **options: Unpack[GuidanceOptions]) -> None:
        super().__init__(joint_names, stiffness_nm_per_rad, damping_nms_per_rad, **options)
        self.set_params(hip_guidance_pct=100.0, knee_guidance_pct=100.0)
        self.knees_ = np.array([name.startswith("knee_angle") for name in joint_names])
        self.level_ = np.zeros(len(joint_names))
        #: Ticks this controller computed a command for.
        self.updates_ = 0
        BUILT.append(self)

    def guidance(self, phase: float, q_ref: FloatArray, state: JointState) -> FloatArray:
        """The hips' level on the hips, the knees' on the knees (ramped)."""
        self.updates_ += 1
        self.level_[:] = np.where(self.knees_, self.ramped("knee_guidance_pct"),
                                  self.ramped("hip_guidance_pct"))
        return self.level_
