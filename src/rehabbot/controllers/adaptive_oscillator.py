"""Gait phase from adaptive oscillators that learn the hip angle's Fourier series online.

Ronsse et al. (2011) estimate the phase of a periodic movement with a pool of adaptive-frequency
oscillators: oscillator ``i`` (of ``N``) has phase ``φ_i`` and amplitude ``α_i`` and all share one
learned frequency ``ω``; together with an offset ``α_0`` they model the hip angle as
``θ̂ = α_0 + Σ α_i sin φ_i``. The error ``F = θ - θ̂`` drives, with ``S = Σ |α_i|``,

    φ_i' = i ω + ν_φ F cos φ_i / S        ω' = ν_ω F cos φ_1 / S
    α_i' = η F sin φ_i                    α_0' = η F

so the pool locks onto the hip's frequency, phase and waveform without any gait event. The
equations are integrated with explicit Euler at a fixed step, the control period. Phase 0 is put
where the normative hip pattern's fundamental ``A_1 sin(2πp + ψ_1)`` has ``p = 0`` (the right foot
strike): the gait phase is ``(φ_1 - ψ_1) / 2π``. The pool starts from the normative pattern at the
given cadence, at phase 0.

Reference: R. Ronsse, T. Lenzi, N. Vitiello, B. Koopman, E. van Asseldonk, S. M. M. De Rossi,
J. van den Kieboom, H. van der Kooij, M. C. Carrozza, A. J. Ijspeert, "Oscillator-based assistance
of cyclical movements: model-based and model-free approaches", Med. Biol. Eng. Comput. 49(10),
1173-1185, 2011.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from rehabbot.body.normative_gait import PeriodicCurve, joint_curves
from rehabbot.controllers.gait_phase import PhaseEstimator, check_cadence
from rehabbot.errors import ConfigurationError

if TYPE_CHECKING:
    from typing import Self

TWO_PI = 2.0 * math.pi
#: Stride frequencies (Hz) the learned frequency is kept within.
FREQUENCY_RANGE_HZ = (0.2, 2.5)
#: Smallest amplitude sum S (rad) the coupling is normalized by.
MIN_AMPLITUDE_RAD = 0.01


#: The longest Euler step (s): a longer gap between updates (a stall) is integrated as this long.
MAX_STEP_S = 0.05


class AdaptiveOscillator(PhaseEstimator):
    """A pool of adaptive oscillators on the right hip angle.

    Args:
        cadence_steps_per_min: initial guess of the cadence (steps/min).
        period_s: the fixed integration step, the control period (s).
        harmonics: number of oscillators ``N`` (1..8).
        nu_phi: phase coupling gain ``ν_φ`` (rad/s).
        nu_omega: frequency learning gain ``ν_ω`` (rad/s²).
        eta: amplitude learning gain ``η`` (1/s).
        speed_class: the normative speed class that gives the initial waveform and phase 0.
        start_phase: the hip's phase (cycles) at the start and after a reset: 0 for the right
            hip, 0.5 for the left one (half a stride behind the right leg, whose phase 0 starts
            a session).
        waveform: the signal's expected pattern against the right leg's phase (rad), which
            gives the initial waveform and phase 0; default the normative right hip of
            ``speed_class`` (another signal: e.g. the thigh-angle difference,
            :func:`~rehabbot.body.normative_gait.thigh_difference_curve`).

    >>> osc = AdaptiveOscillator(90.0)
    >>> osc.stride_frequency_hz, round(osc.update(0.0, osc.estimate(), 0.0), 6)
    (0.75, 0.00075)
    """

    def __init__(
        self,
        cadence_steps_per_min: float,
        period_s: float = 0.001,
        harmonics: int = 4,
        nu_phi: float = 10.0,
        nu_omega: float = 40.0,
        eta: float = 2.0,
        speed_class: str = "Free",
        start_phase: float = 0.0,
        waveform: PeriodicCurve | None = None,
    ) -> None:
        if not 1 <= harmonics <= 8:
            raise ConfigurationError(f"harmonics = {harmonics} is outside [1, 8]")
        if not 0.0 < period_s <= 0.1:
            raise ConfigurationError(f"period_s = {period_s:g} s is outside (0, 0.1] s")
        self.cadence_steps_per_min = check_cadence(cadence_steps_per_min)
        self.period_s = period_s
        self.harmonics = harmonics
        self.nu_phi = nu_phi
        self.nu_omega = nu_omega
        self.eta = eta
        self.speed_class = speed_class
        self.start_phase = start_phase
        hip = joint_curves(speed_class)["hip_flexion"] if waveform is None else waveform
        a, b = hip.a[:harmonics], hip.b[:harmonics]
        self._prior_alpha0 = hip.a0
        self._prior_alpha = np.hypot(a, b)
        self._prior_phi = np.arctan2(a, b)
        self._psi_1 = float(self._prior_phi[0])
        self._order = np.arange(1.0, harmonics + 1)
        self._sin = np.empty(harmonics)
        self._cos = np.empty(harmonics)
        self._dphi = np.empty(harmonics)
        self._abs = np.empty(harmonics)
        #: The model's error ``F = θ - θ̂`` (rad) at the last update.
        self.error_ = 0.0
        self.reset()

    @classmethod
    def create(cls, cadence_steps_per_min: float, period_s: float, start_phase: float) -> Self:
        """Oscillators at ``cadence_steps_per_min`` (steps/min), stepped every ``period_s`` (s),
        starting (and restarting after a reset) at ``start_phase`` (cycles)."""
        return cls(cadence_steps_per_min, period_s, start_phase=start_phase)

    def reset(self) -> None:
        """Back to the normative waveform at the initial cadence, at the start phase."""
        self.restart(self.start_phase)

    def restart(self, phase: float) -> None:
        """Back to the normative waveform at the initial cadence, at ``phase`` (cycles)."""
        self.omega_ = TWO_PI * self.cadence_steps_per_min / 120.0
        self.alpha0_ = self._prior_alpha0
        self.alpha_ = self._prior_alpha.copy()
        self.phi_ = (self._prior_phi + TWO_PI * self._order * phase) % TWO_PI
        self._last_t_s: float | None = None

    @property
    def stride_frequency_hz(self) -> float:
        """The learned stride frequency (Hz)."""
        return self.omega_ / TWO_PI

    def estimate(self) -> float:
        """The oscillators' model of the hip angle now, ``θ̂`` (rad)."""
        np.sin(self.phi_, out=self._sin)
        return self.alpha0_ + float(self.alpha_ @ self._sin)

    def update(self, t_s: float, hip_rad: float, hip_velocity_rad_s: float) -> float:
        """One Euler step of the pool on the hip angle; the phase (cycles) after it.

        The step is the loop time elapsed since the last update (``t_s``, s; one period at the
        first), so that ticks a wall clock skipped after a stall are integrated, not lost.
        Works in preallocated arrays: no array is allocated per tick."""
        last, self._last_t_s = self._last_t_s, t_s
        dt = self.period_s if last is None else min(max(t_s - last, 0.0), MAX_STEP_S)
        error = self.error_ = hip_rad - self.estimate()
        np.cos(self.phi_, out=self._cos)
        amplitude = float(np.abs(self.alpha_, out=self._abs).sum())
        coupling = error / max(amplitude, MIN_AMPLITUDE_RAD)
        # Every derivative from the state before the step.
        d_omega = self.nu_omega * coupling * float(self._cos[0])
        np.multiply(self._order, self.omega_, out=self._dphi)
        self._cos *= self.nu_phi * coupling
        self._dphi += self._cos
        self._sin *= self.eta * error * dt
        self.alpha_ += self._sin
        self.alpha0_ += self.eta * error * dt
        self._dphi *= dt
        self.phi_ += self._dphi
        np.remainder(self.phi_, TWO_PI, out=self.phi_)
        low, high = FREQUENCY_RANGE_HZ
        self.omega_ = min(max(self.omega_ + d_omega * dt, TWO_PI * low), TWO_PI * high)
        flip = 0.5 if self.alpha_[0] < 0.0 else 0.0
        return ((float(self.phi_[0]) - self._psi_1) / TWO_PI + flip) % 1.0
