"""Gait phase from the thigh's phase portrait: the angle of (hip angle, hip velocity), normalized.

The hip (thigh) angle and its velocity trace a closed orbit once per stride. Centred and scaled so
that the orbit is near a unit circle, its polar angle ``θ = atan2(-q̇_n, q_n)`` advances by one
turn per stride, monotonically, and maps linearly to time for a sinusoidal hip angle (Holgate et
al. 2009; Quintero et al. 2018 use the same idea on the thigh angle and its integral). The
normalization is learned online with exponential forgetting (time constant ``τ``):

    m ← m + a (q - m)          σ_q² ← σ_q² + a ((q - m)² - σ_q²)        σ_v² ← σ_v² + a (q̇² - σ_v²)

with ``a = 1 - exp(-Δt/τ)`` for the loop time ``Δt`` since the last update (one period ``T`` at
the first; at most :data:`MAX_STEP_S`): exact forgetting for a sample held over ``Δt``, about
``T/τ`` per tick, and after ticks a wall clock skipped the skipped time is forgotten too;
``q_n = (q - m) / (√2 σ_q)`` and ``q̇_n = q̇ / (√2 σ_v)``.
For a sinusoid ``√2 σ`` is the amplitude and the stride frequency is ``σ_v / (2π σ_q)``; for the
normative hip waveform, ``σ_v / σ_q`` times its ratio of angle to phase-slope spread. Phase 0
is where the normative hip pattern's right foot strike falls on its own normalized portrait.
The statistics start from the normative pattern at the given cadence.

References: M. A. Holgate, T. G. Sugar, A. W. Bohler, "A novel control algorithm for wearable
robotics using phase plane invariants", IEEE ICRA 2009, 3845-3850; D. Quintero, D. J. Villarreal,
D. J. Lambert, S. Kapp, R. D. Gregg, "Continuous-phase control of a powered knee-ankle prosthesis",
IEEE Trans. Robot. 34(3), 686-701, 2018.
"""

from __future__ import annotations

import math

import numpy as np

from rehabbot.body.normative_gait import joint_curves
from rehabbot.controllers.gait_phase import PhaseEstimator, check_cadence
from rehabbot.errors import ConfigurationError

TWO_PI = 2.0 * math.pi
#: Floor of the angle (rad) and velocity (rad/s) scales, so a still leg does not divide by zero.
MIN_SCALE = 1e-3
#: The longest time (s) one sample stands for in the statistics: after a longer stall they are
#: not pulled onto one sample.
MAX_STEP_S = 0.05


class PhasePortrait(PhaseEstimator):
    """The normalized phase-portrait angle of the right hip.

    Args:
        cadence_steps_per_min: initial guess of the cadence (steps/min).
        period_s: the control period (s), the step of the running statistics at the first
            update (later ones use the loop time elapsed).
        time_constant_s: forgetting time constant ``τ`` of the normalization (s).
        speed_class: the normative speed class that gives the initial statistics and phase 0.

    >>> portrait = PhasePortrait(90.0)
    >>> round(portrait.stride_frequency_hz, 2)
    0.75
    """

    def __init__(
        self,
        cadence_steps_per_min: float,
        period_s: float = 0.001,
        time_constant_s: float = 3.0,
        speed_class: str = "Free",
    ) -> None:
        if not 0.0 < period_s <= 0.1:
            raise ConfigurationError(f"period_s = {period_s:g} s is outside (0, 0.1] s")
        if not 0.1 <= time_constant_s <= 60.0:
            raise ConfigurationError(
                f"time_constant_s = {time_constant_s:g} s is outside [0.1, 60] s"
            )
        self.cadence_steps_per_min = check_cadence(cadence_steps_per_min)
        self.period_s = period_s
        self.time_constant_s = time_constant_s
        self.speed_class = speed_class
        hip = joint_curves(speed_class)["hip_flexion"]
        phase = np.linspace(0.0, 1.0, 200, endpoint=False)
        angle, slope = hip.value(phase), hip.derivative(phase)  # rad, rad/cycle
        self._prior_mean = float(angle.mean())
        self._prior_sd = float(angle.std())
        self._prior_slope_sd = float(np.sqrt(np.mean(slope**2)))
        start = math.atan2(-slope[0] / self._prior_slope_sd,
                           (angle[0] - self._prior_mean) / self._prior_sd)
        self._offset = -start / TWO_PI
        self.reset()

    def reset(self) -> None:
        """Back to the normative statistics at the initial cadence."""
        stride_hz = self.cadence_steps_per_min / 120.0
        self.mean_ = self._prior_mean
        self.angle_var_ = self._prior_sd**2
        self.velocity_var_ = (self._prior_slope_sd * stride_hz) ** 2
        self._last_t_s: float | None = None

    @property
    def stride_frequency_hz(self) -> float:
        """Strides per second (Hz), from the ratio of the velocity and angle spreads (exact for
        the normative waveform)."""
        ratio = math.sqrt(self.velocity_var_ / max(self.angle_var_, MIN_SCALE**2))
        return ratio * self._prior_sd / self._prior_slope_sd

    def update(self, t_s: float, hip_rad: float, hip_velocity_rad_s: float) -> float:
        """Update the running statistics over the loop time since the last update (``t_s``, s;
        one period at the first); the phase (cycles) of the normalized portrait."""
        last, self._last_t_s = self._last_t_s, t_s
        dt = self.period_s if last is None else min(max(t_s - last, 0.0), MAX_STEP_S)
        a = -math.expm1(-dt / self.time_constant_s)
        self.mean_ += a * (hip_rad - self.mean_)
        deviation = hip_rad - self.mean_
        self.angle_var_ += a * (deviation * deviation - self.angle_var_)
        self.velocity_var_ += a * (hip_velocity_rad_s * hip_velocity_rad_s - self.velocity_var_)
        angle = math.atan2(
            -hip_velocity_rad_s / max(math.sqrt(self.velocity_var_), MIN_SCALE),
            deviation / max(math.sqrt(self.angle_var_), MIN_SCALE),
        )
        return (angle / TWO_PI + self._offset) % 1.0
