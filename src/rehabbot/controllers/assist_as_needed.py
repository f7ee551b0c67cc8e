"""Assist-as-needed: guidance learned per joint and per gait-phase bin from the tracking error.

Error-based learning with forgetting (Emken, Benitez, Reinkensmeyer 2007): after each stride
``k``, for every joint ``j`` and phase bin ``b``,

    g[j, b] ← clip(f · g[j, b] + h · ē[j, b], g_min, g_max)

where ``ē`` is the mean absolute tracking error ``|q_ref - q|`` (rad) in that bin over the stride,
``f`` (0..1) the forgetting factor and ``h`` (%/rad) the error gain. With a steady error the
guidance settles at ``h ē / (1 - f)``: a patient who tracks well is assisted less every stride,
one who cannot is assisted more, within the bounds the therapist sets. The guidance starts at
``g_max`` (full help until the patient shows what they can do).

**Never below what keeps the patient in range.** Guidance starts at ``g_max``, a safe guidance
(the level a therapist would start an unknown patient at). When, in a stride, a joint came within
the response band of a limit of the patient's range of motion
(:class:`~rehabbot.controllers.rom_response.RomResponse`, closeness ``c`` up to 1 at the limit), the
controller has already raised that joint's guidance for the moment; at the stride's end it also
raises a *safe floor* ``s[j, b]`` of the bins where it happened and of the
:data:`ANTICIPATION_BINS` bins before them (the guidance that leads the leg toward the limit):

    s[j, b] ← max(s[j, b], g[j, b] + SAFE_STEP_PCT · c_max[j, b])     where c_max[j, b] > 0
    g[j, b] ← max(g[j, b], s[j, b])

The safe floor never falls within a run, and it starts at the joint's guidance floor (the
protocol's ``guidance_floor_pct``, :class:`~rehabbot.controllers.impedance.GaitGuidance`), so
learning never goes below what kept the patient inside the range. A patient with a weak
(paretic) leg makes larger errors and nears the limits with it, so that side earns more
guidance.

Bumpless: between bin centres the guidance is interpolated linearly in phase, and the guidance
applied follows it at no more than ``rate_pct_per_s``, so the per-stride update never steps the
torque.

Reference: J. L. Emken, R. Benitez, D. J. Reinkensmeyer, "Human-robot cooperative movement
training: learning a novel sensory motor transformation during walking with robotic assistance-
as-needed", J. NeuroEng. Rehabil. 4:8, 2007.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import ClassVar, Unpack

import numpy as np

from rehabbot.controllers.base import GUIDANCE, ParamSpec
from rehabbot.controllers.impedance import GaitGuidance, GuidanceOptions
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray, JointState

#: Guidance (%) added to a bin's safe floor per unit of closeness to a range-of-motion limit.
SAFE_STEP_PCT = 30.0
#: Bins before the one where a joint neared a limit whose safe floor is raised too.
ANTICIPATION_BINS = 2


class AssistAsNeededController(GaitGuidance):
    """Impedance guidance whose level each joint earns, phase bin by phase bin.

    Args:
        joint_names: joints in array order (hip_flexion_* and knee_angle_* get references).
        stiffness_nm_per_rad: full-guidance stiffness ``K`` per joint (N·m/rad).
        damping_nms_per_rad: full-guidance damping ``D`` per joint (N·m·s/rad).
        forgetting: forgetting factor ``f`` per stride, 0..1.
        error_gain_pct_per_rad: error gain ``h`` (% guidance per rad of mean error).
        min_guidance_pct: lower bound ``g_min`` (%).
        max_guidance_pct: upper bound ``g_max`` (%), also the starting guidance.
        phase_bins: number of gait-phase bins, 4..100.
        rate_pct_per_s: largest change of the applied guidance (%/s).
        **options: ``cadence_steps_per_min``, ``phase_source``, ``period_s``,
            ``compensation``, ``speed_class``, ``range_margin`` of :class:`GaitGuidance`
            (the range of motion's margins: module docstring).
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "forgetting": ParamSpec("1", 0.0, 1.0, "share of last stride's guidance kept"),
        "error_gain_pct_per_rad": ParamSpec("%/rad", 0.0, 2000.0,
                                            "guidance added per rad of mean tracking error"),
        "min_guidance_pct": replace(GUIDANCE, description="lowest guidance", rate_per_s=None),
        "max_guidance_pct": replace(GUIDANCE, description="highest guidance, and the start",
                                    rate_per_s=None),
        **GaitGuidance.param_specs,
    }
    forgetting: float
    error_gain_pct_per_rad: float
    min_guidance_pct: float
    max_guidance_pct: float
    guidance_param: ClassVar[str | None] = "max_guidance_pct"

    def __init__(
        self,
        joint_names: tuple[str, ...],
        stiffness_nm_per_rad: FloatArray,
        damping_nms_per_rad: FloatArray,
        forgetting: float = 0.9,
        error_gain_pct_per_rad: float = 60.0,
        min_guidance_pct: float = 0.0,
        max_guidance_pct: float = 100.0,
        *,
        phase_bins: int = 20,
        rate_pct_per_s: float = 50.0,
        **options: Unpack[GuidanceOptions],
    ) -> None:
        super().__init__(joint_names, stiffness_nm_per_rad, damping_nms_per_rad, **options)
        if not 4 <= phase_bins <= 100:
            raise ConfigurationError(f"phase_bins = {phase_bins} is outside [4, 100]")
        if not (math.isfinite(rate_pct_per_s) and rate_pct_per_s > 0.0):
            raise ConfigurationError(f"rate_pct_per_s = {rate_pct_per_s:g} %/s must be > 0")
        self.phase_bins = phase_bins
        self.rate_pct_per_s = rate_pct_per_s
        self.set_params(
            forgetting=forgetting, error_gain_pct_per_rad=error_gain_pct_per_rad,
            min_guidance_pct=min_guidance_pct, max_guidance_pct=max_guidance_pct,
        )
        n = len(joint_names)
        #: Learned guidance per joint and phase bin (%).
        self.table_pct_ = np.full((n, phase_bins), self.max_guidance_pct)
        #: The safe floor per joint and phase bin (%), see the module docstring.
        self.safe_pct_ = np.zeros((n, phase_bins))
        self._closeness = np.zeros((n, phase_bins))
        self._error_sum = np.zeros((n, phase_bins))
        self._samples = np.zeros(phase_bins)
        self._applied = np.zeros(n)
        self._target = np.zeros(n)
        self._last_phase: float | None = None
        self._last_t_s = 0.0
        #: Strides learned from so far.
        self.strides_ = 0

    def set_params(self, **params: float) -> None:
        """Change parameters at a tick boundary; the bounds apply from the next update.

        Raises:
            ConfigurationError: as :meth:`Controller.set_params`; also a lower bound above the
                upper one.
        """
        low = params.get("min_guidance_pct", getattr(self, "min_guidance_pct", 0.0))
        high = params.get("max_guidance_pct", getattr(self, "max_guidance_pct", 100.0))
        if low > high:
            raise ConfigurationError(
                f"min_guidance_pct = {low:g} % is above max_guidance_pct = {high:g} %"
            )
        super().set_params(**params)

    def reset(self, state: JointState) -> None:
        """Start a run: guidance back at its upper bound, nothing learned."""
        super().reset(state)
        self.table_pct_.fill(self.max_guidance_pct)
        self.safe_pct_[:] = np.minimum(self.floors(), self.max_guidance_pct)[:, None]
        self._closeness.fill(0.0)
        self._error_sum.fill(0.0)
        self._samples.fill(0.0)
        self._last_phase = None
        self.strides_ = 0

    def learn_stride(self) -> None:
        """Apply the end-of-stride update to every bin visited in the stride; start a new one."""
        visited = self._samples > 0
        mean_error = self._error_sum[:, visited] / self._samples[visited]
        table, safe = self.table_pct_, self.safe_pct_
        near = self._closeness.copy()
        for shift in range(1, ANTICIPATION_BINS + 1):  # the bins that lead toward the limit
            np.maximum(near, np.roll(self._closeness, -shift, axis=1), out=near)
        raised = np.minimum(table + SAFE_STEP_PCT * near, self.max_guidance_pct)
        np.maximum(safe, raised, out=safe, where=near > 0.0)
        table[:, visited] = self.forgetting * table[:, visited] + (
            self.error_gain_pct_per_rad * mean_error)
        np.clip(table, self.min_guidance_pct, self.max_guidance_pct, out=table)
        np.maximum(table, safe, out=table)
        self._closeness.fill(0.0)
        self._error_sum.fill(0.0)
        self._samples.fill(0.0)
        self.strides_ += 1

    def guidance(self, phase: float, q_ref: FloatArray, state: JointState) -> FloatArray:
        """Record this tick's error, learn at each stride's end; the guidance per joint (%)."""
        if self._last_phase is not None and phase < self._last_phase - 0.5:
            self.learn_stride()
        n = self.phase_bins
        current = min(int(phase * n), n - 1)
        self._error_sum[:, current] += np.abs(q_ref - state.q)
        self._samples[current] += 1.0
        np.maximum(self._closeness[:, current], self.rom_response_.closeness_,
                   out=self._closeness[:, current])
        position = phase * n - 0.5
        below = math.floor(position)
        weight = position - below
        table = self.table_pct_
        np.multiply(table[:, below % n], 1.0 - weight, out=self._target)
        self._target += weight * table[:, (below + 1) % n]
        np.clip(self._target, self.min_guidance_pct, self.max_guidance_pct, out=self._target)
        if self._last_phase is None:
            self._applied[:] = self._target
        else:
            step = self.rate_pct_per_s * max(state.t_s - self._last_t_s, 0.0)
            self._applied += np.clip(self._target - self._applied, -step, step)
        self._last_phase, self._last_t_s = phase, state.t_s
        return self._applied

