"""Gait phase from both thighs, with a confidence, falling back to the cadence clock.

An estimator locked onto one hip follows that hip's irregular motion: on a paretic leg, dragged
back by the belt and swung late, it reads the phase badly (docs/controllers.md). The difference
of the two thigh angles, ``Δ = q_hip_r - q_hip_l``, is shaped by both legs: the even harmonics and
the mean of the hip pattern cancel in it, its fundamental doubles, and a deviation of one leg
moves it half as much as it moves that leg's own angle. Its phase portrait is the one used by
thigh-angle phase estimators for prostheses and exoskeletons (Quintero et al. 2018; Villarreal,
Poonawala & Gregg 2017 use the thigh angle and its integral); here a pool of adaptive oscillators
(Ronsse et al. 2011, :class:`~rehabbot.controllers.adaptive_oscillator.AdaptiveOscillator`) learns
``Δ``'s waveform, frequency and phase online, starting from the normative ``Δ``
(:func:`~rehabbot.body.normative_gait.thigh_difference_curve`).

**Confidence.** How well the oscillators explain ``Δ``: with ``e`` their error and ``s`` the
signal about its mean, both as running mean squares with time constant ``τ``, the residual ratio
``ρ = √(e²/s²)`` maps to a confidence ``c = clip((ρ_lost - ρ)/(ρ_lost - ρ_good), 0, 1)``; a
learned frequency outside :data:`PLAUSIBLE_FREQUENCY_RATIO` of the cadence, or legs that hardly
move (:data:`MIN_SIGNAL_RAD`), give ``c = 0``.

**Output.** The phase reported follows the oscillators' phase ``φ_e`` and falls back to the
cadence clock as the confidence drops, without a jump: per tick of period ``T``,

    φ ← φ + T · (c f_e + (1 - c) f_c + K c wrap(φ_e - φ))

``f_e`` the learned stride frequency, ``f_c`` the cadence clock's, ``K`` the tracking gain (1/s),
``wrap`` into [-1/2, 1/2). Confident, ``φ`` tracks ``φ_e``; lost, it runs on the clock from where
it was, and picks the estimate up again smoothly when the confidence returns.

**Leash.** A weak leg dragged back by the belt lags, and an estimator that follows it lags with
it: a reference that waits for the leg never leads it into swing. As in path control's moving
window (Duschau-Wicke et al. 2010), the phase reported stays within ``±window_cycles`` of a
centre ``φ_c`` (``φ = φ_c + clip(wrap(φ - φ_c), -W, W)``, the centre restarting with the
estimator): the patient sets the timing within the window. The centre runs at the patient's
cadence ``f_p``, the output's stride frequency (the learned one, blended toward the clock's as
the confidence drops) low-passed with time constant ``τ_f`` (:data:`CADENCE_TIME_CONSTANT_S`,
several strides, so that the frequency's quick reaction to one late or early stride hardly
moves it), and follows the oscillators' phase with time constant ``τ_c``, at most ``D``
cycles/s faster or slower: ``φ_c' = f_p + clip(c wrap(φ_e - φ_c)/τ_c, -D, D)``,
``f_p' = (c f_e + (1 - c) f_c - f_p)/τ_f``. So a steady offset is learned within a few strides
and a cadence other than the clock's costs no lasting lag
(a patient's foot strikes fall up to ~0.15 of a stride from the clock's phase 0, and a centre
fixed on the clock read them that far off, making the robot lead the patient), while a leg that
lags by more than ``D`` per second (a weak leg dragged back within a stride) is still held within
the window. (A centre that ran at the *clock's* rate lagged a patient walking at another cadence
by ``Δf·τ_c``: 0.09 cycles for a 4 % slower patient at ``τ_c = 3 s``, more than the window, and
``sci_incomplete``'s phase was 56-71 ms off; at the learned cadence it is about 15 ms,
docs/controllers.md.)

References: D. Quintero, D. J. Villarreal, D. J. Lambert, S. Kapp, R. D. Gregg, "Continuous-phase
control of a powered knee-ankle prosthesis", IEEE Trans. Robot. 34(3), 686-701, 2018;
D. J. Villarreal, H. A. Poonawala, R. D. Gregg, "A robust parameterization of human gait patterns
across phase-shifting perturbations", IEEE TNSRE 25(3), 265-278, 2017; R. Ronsse et al. 2011 (see
:mod:`~rehabbot.controllers.adaptive_oscillator`).
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from rehabbot.body.normative_gait import thigh_difference_curve
from rehabbot.controllers.adaptive_oscillator import AdaptiveOscillator
from rehabbot.controllers.gait_phase import PhaseEstimator, check_cadence

#: The learned stride frequency is plausible within this ratio of the cadence clock's.
PLAUSIBLE_FREQUENCY_RATIO = (0.6, 1.6)
#: Time constant (s) of the patient's cadence that the window's centre runs at.
CADENCE_TIME_CONSTANT_S = 10.0
#: Below this RMS of the thigh-angle difference (rad) the legs are not walking: no confidence.
MIN_SIGNAL_RAD = 0.05


class ThighDifferencePhase(PhaseEstimator):
    """The right leg's phase from the thigh-angle difference (module docstring).

    ``update`` takes the difference ``q_hip_r - q_hip_l`` (rad) and its velocity (rad/s), as
    :class:`~rehabbot.controllers.phase_sources.HipPhase` feeds it from both hips.

    Args:
        cadence_steps_per_min: the cadence clock's cadence and the oscillators' initial guess
            (steps/min).
        period_s: the control period (s), the integration step.
        time_constant_s: ``τ`` of the confidence's running mean squares (s).
        residual_good: residual ratio ``ρ_good`` at and below which the confidence is 1.
        residual_lost: residual ratio ``ρ_lost`` at and above which the confidence is 0.
        tracking_gain_per_s: ``K``, how fast the output follows the oscillators' phase (1/s).
        window_cycles: ``W``, how far the output may lead or lag the window's centre (cycles).
        centre_time_constant_s: ``τ_c``, how fast the centre follows the oscillators (s).
        centre_drift_cycles_per_s: ``D``, how much faster or slower than the patient's cadence
            ``f_p`` the centre may run (cycles/s).
        speed_class: the normative speed class of the initial waveform and phase 0.

    Attributes:
        confidence_: the confidence ``c`` at the last update (0..1).

    >>> est = ThighDifferencePhase(90.0)
    >>> round(est.update(0.0, est.oscillator_.estimate(), 0.0), 5), est.confidence_
    (0.00075, 1.0)
    """

    hips: ClassVar[Literal["one", "both"]] = "both"

    def __init__(
        self,
        cadence_steps_per_min: float,
        period_s: float = 0.001,
        *,
        time_constant_s: float = 1.0,
        residual_good: float = 0.3,
        residual_lost: float = 0.7,
        tracking_gain_per_s: float = 5.0,
        window_cycles: float = 0.08,
        centre_time_constant_s: float = 3.0,
        centre_drift_cycles_per_s: float = 0.05,
        speed_class: str = "Free",
    ) -> None:
        self.cadence_steps_per_min = check_cadence(cadence_steps_per_min)
        self.period_s = period_s
        self.time_constant_s = time_constant_s
        self.residual_good = residual_good
        self.residual_lost = residual_lost
        self.tracking_gain_per_s = tracking_gain_per_s
        self.window_cycles = window_cycles
        self.centre_time_constant_s = centre_time_constant_s
        self.centre_drift_cycles_per_s = centre_drift_cycles_per_s
        self.oscillator_ = AdaptiveOscillator(
            cadence_steps_per_min, period_s, speed_class=speed_class,
            waveform=thigh_difference_curve(speed_class))
        curve = self.oscillator_
        self._prior_signal_ms = 0.5 * float((curve.alpha_ ** 2).sum())
        self.reset()

    def reset(self) -> None:
        """Back to the normative waveform at the initial cadence, at phase 0."""
        self.restart(0.0)

    def restart(self, phase: float) -> None:
        """Back to the normative waveform at the initial cadence, at ``phase`` (cycles)."""
        self.oscillator_.restart(phase)
        self.phase_ = self.clock_phase_ = phase % 1.0
        #: The patient's stride frequency the window's centre runs at (Hz).
        self.centre_frequency_hz_ = self.clock_frequency_hz
        self.confidence_ = 1.0
        self.error_ms_ = 0.0
        self.signal_ms_ = self._prior_signal_ms

    @property
    def clock_frequency_hz(self) -> float:
        """The cadence clock's stride frequency (Hz)."""
        return self.cadence_steps_per_min / 120.0

    @property
    def stride_frequency_hz(self) -> float:
        """The stride frequency the output advances at (Hz): the learned one, blended toward
        the clock's as the confidence drops."""
        c = self.confidence_
        return c * self.oscillator_.stride_frequency_hz + (1.0 - c) * self.clock_frequency_hz

    def update(self, t_s: float, hip_rad: float, hip_velocity_rad_s: float) -> float:
        """One step on the thigh-angle difference ``hip_rad`` (rad); the phase (cycles)."""
        oscillator = self.oscillator_
        estimate = oscillator.update(t_s, hip_rad, hip_velocity_rad_s)
        a = self.period_s / self.time_constant_s
        self.error_ms_ += a * (oscillator.error_ * oscillator.error_ - self.error_ms_)
        centred = hip_rad - oscillator.alpha0_
        self.signal_ms_ += a * (centred * centred - self.signal_ms_)
        ratio = math.sqrt(self.error_ms_ / max(self.signal_ms_, MIN_SIGNAL_RAD**2))
        confidence = min(max((self.residual_lost - ratio)
                             / (self.residual_lost - self.residual_good), 0.0), 1.0)
        low, high = PLAUSIBLE_FREQUENCY_RATIO
        if not (low <= oscillator.stride_frequency_hz / self.clock_frequency_hz <= high
                and self.signal_ms_ >= MIN_SIGNAL_RAD**2):
            confidence = 0.0
        self.confidence_ = confidence
        lead = (estimate - self.phase_ + 0.5) % 1.0 - 0.5
        step = self.stride_frequency_hz + self.tracking_gain_per_s * confidence * lead
        drift = self.centre_drift_cycles_per_s
        pull = confidence * ((estimate - self.clock_phase_ + 0.5) % 1.0 - 0.5)
        self.centre_frequency_hz_ += self.period_s / CADENCE_TIME_CONSTANT_S * (
            self.stride_frequency_hz - self.centre_frequency_hz_)
        centre_step = self.centre_frequency_hz_ + min(max(
            pull / self.centre_time_constant_s, -drift), drift)
        self.clock_phase_ = (self.clock_phase_ + self.period_s * centre_step) % 1.0
        free = (self.phase_ + self.period_s * step - self.clock_phase_ + 0.5) % 1.0 - 0.5
        window = self.window_cycles
        self.phase_ = (self.clock_phase_ + min(max(free, -window), window)) % 1.0
        return self.phase_
