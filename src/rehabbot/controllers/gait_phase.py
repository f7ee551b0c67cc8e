"""Gait phase: where in the stride the right leg is, in cycles (0 at right foot strike, 1 a stride
later).

A :class:`PhaseEstimator` is updated once per tick with the right hip's angle and velocity and
returns the phase. :class:`CadencePhase` ignores them and runs on a fixed cadence, the treadmill's
clock of classic gait robots; the estimators that follow the patient instead live in
:mod:`~rehabbot.controllers.adaptive_oscillator` and :mod:`~rehabbot.controllers.phase_portrait`,
and :func:`~rehabbot.controllers.phase_sources.make_phase_estimator` builds any of them by name
(through :meth:`PhaseEstimator.create`).

Estimators see only the hip, so they place phase 0 where the normative hip pattern
(:func:`~rehabbot.body.normative_gait.joint_curves`) has its right foot strike: a patient whose
hip pattern differs from the normative one is read with a constant bias.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from typing import Self

from rehabbot.errors import ConfigurationError

#: Allowed cadence (steps/min), two steps per stride.
CADENCE_RANGE_STEPS_PER_MIN = (10.0, 200.0)


def check_cadence(cadence_steps_per_min: float) -> float:
    """``cadence_steps_per_min`` if it is within :data:`CADENCE_RANGE_STEPS_PER_MIN`.

    Raises:
        ConfigurationError: it is not.
    """
    low, high = CADENCE_RANGE_STEPS_PER_MIN
    if not (math.isfinite(cadence_steps_per_min) and low <= cadence_steps_per_min <= high):
        raise ConfigurationError(
            f"cadence {cadence_steps_per_min:g} steps/min is outside [{low:g}, {high:g}] steps/min"
        )
    return cadence_steps_per_min


class PhaseEstimator(ABC):
    """The right leg's gait phase, one :meth:`update` per control tick, O(1) work per tick."""

    #: Whether :meth:`update` uses the hip's angle and velocity.
    needs_hip: ClassVar[bool] = True
    #: Which hips feed :meth:`update`: one (the right, or the left for a ``_left`` phase
    #: source), or both (their difference, right minus left).
    hips: ClassVar[Literal["one", "both"]] = "one"

    @classmethod
    def create(cls, cadence_steps_per_min: float, period_s: float, start_phase: float) -> Self:
        """The estimator a phase source builds: at ``cadence_steps_per_min`` (steps/min, the
        initial guess), stepped every ``period_s`` (s), its hip at ``start_phase`` (cycles) when
        a run starts.

        This default calls ``cls(cadence_steps_per_min, period_s)``: it suits an estimator
        whose constructor takes those two first and that reads its phase off the hips (it keeps
        none of its own to start at); another overrides it.

        Raises:
            ConfigurationError: a value out of the estimator's range.
        """
        return cls(cadence_steps_per_min, period_s)  # type: ignore[call-arg]  # the contract above
    #: How much the phase can be trusted now (0..1); an estimator that knows reports it.
    confidence_: float = 1.0

    @abstractmethod
    def update(self, t_s: float, hip_rad: float, hip_velocity_rad_s: float) -> float:
        """The phase (cycles, in [0, 1)) at loop time ``t_s`` (s) from the right hip's angle (rad)
        and velocity (rad/s)."""

    @property
    @abstractmethod
    def stride_frequency_hz(self) -> float:
        """The current estimate of strides per second (Hz)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget what was learned; start again from the initial guess at phase 0."""

    def restart(self, phase: float) -> None:
        """Like :meth:`reset`, but going on from ``phase`` (cycles) instead of 0, where the
        estimator keeps a phase of its own (an estimator that reads the phase off the hip alone
        has none to set)."""
        self.reset()


class CadencePhase(PhaseEstimator):
    """Phase advancing at a set stride frequency; a cadence change keeps the phase continuous.

    >>> p = CadencePhase(cadence_steps_per_min=90.0)
    >>> p.update(0.0, 0.0, 0.0), round(p.update(1.0 / 0.75, 0.0, 0.0), 9)
    (0.0, 0.0)
    """

    needs_hip: ClassVar[bool] = False

    @classmethod
    def create(cls, cadence_steps_per_min: float, period_s: float, start_phase: float) -> Self:
        """A clock at ``cadence_steps_per_min`` (steps/min) starting at phase 0 (it reads no
        hip: ``period_s`` and ``start_phase`` do not apply)."""
        return cls(cadence_steps_per_min)

    def __init__(self, cadence_steps_per_min: float) -> None:
        """Start at phase 0 with ``cadence_steps_per_min`` (steps/min, two steps per stride)."""
        self.cadence_steps_per_min = cadence_steps_per_min
        self._phase = 0.0
        self._last_t_s: float | None = None

    @property
    def cadence_steps_per_min(self) -> float:
        """Cadence (steps/min); setting it takes effect from the next update."""
        return self._cadence

    @cadence_steps_per_min.setter
    def cadence_steps_per_min(self, value: float) -> None:
        self._cadence = check_cadence(value)

    @property
    def stride_frequency_hz(self) -> float:
        """Strides per second (Hz)."""
        return self._cadence / 120.0

    def update(self, t_s: float, hip_rad: float, hip_velocity_rad_s: float) -> float:
        """The phase at ``t_s``: the last one advanced by the elapsed time at the set cadence."""
        if self._last_t_s is not None:
            self._phase = (self._phase + (t_s - self._last_t_s) * self.stride_frequency_hz) % 1.0
        self._last_t_s = t_s
        return self._phase

    def reset(self) -> None:
        """Phase 0 at the next update."""
        self.restart(0.0)

    def restart(self, phase: float) -> None:
        """``phase`` (cycles) at the next update."""
        self._phase = phase % 1.0
        self._last_t_s = None
