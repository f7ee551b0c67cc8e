"""Gait phase from a fixed cadence (the treadmill's clock), until estimators replace it.

Phase is in cycles of the right leg: 0 at right foot strike of the reference, 1 one stride later.
"""

from __future__ import annotations

from rehabbot.errors import ConfigurationError


class CadencePhase:
    """Phase advancing at a constant stride frequency, with bumpless cadence changes.

    >>> p = CadencePhase(cadence_steps_per_min=90.0)
    >>> p.advance(0.0), round(p.advance(1.0 / 0.75), 9)
    (0.0, 0.0)
    """

    def __init__(self, cadence_steps_per_min: float) -> None:
        """Start at phase 0 with ``cadence_steps_per_min`` (steps/min, two steps per stride)."""
        self.cadence_steps_per_min = cadence_steps_per_min
        self._phase = 0.0
        self._last_t_s: float | None = None

    @property
    def cadence_steps_per_min(self) -> float:
        """Cadence (steps/min)."""
        return self._cadence

    @cadence_steps_per_min.setter
    def cadence_steps_per_min(self, value: float) -> None:
        if not 10.0 <= value <= 200.0:
            raise ConfigurationError(f"cadence {value:g} steps/min is outside [10, 200] steps/min")
        self._cadence = value

    @property
    def stride_frequency_hz(self) -> float:
        """Strides per second (Hz)."""
        return self._cadence / 120.0

    def advance(self, t_s: float) -> float:
        """The phase (cycles, in [0, 1)) at ``t_s``; a cadence change keeps the phase continuous."""
        if self._last_t_s is not None:
            self._phase = (self._phase + (t_s - self._last_t_s) * self.stride_frequency_hz) % 1.0
        self._last_t_s = t_s
        return self._phase
