"""The gait-phase sources a controller can be driven by, by name (a protocol names one).

>>> sorted(PHASE_SOURCES)
['cadence', 'oscillator', 'portrait']
>>> type(make_phase_estimator("portrait", 90.0, 0.001)).__name__
'PhasePortrait'
"""

from __future__ import annotations

from rehabbot.controllers.adaptive_oscillator import AdaptiveOscillator
from rehabbot.controllers.gait_phase import CadencePhase, PhaseEstimator
from rehabbot.controllers.phase_portrait import PhasePortrait
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState

#: What each phase source is.
PHASE_SOURCES = {
    "cadence": "a clock at the set cadence (the treadmill's rhythm, classic gait robots)",
    "oscillator": "adaptive oscillators locked onto the right hip angle (Ronsse et al. 2011)",
    "portrait": "the right hip's normalized phase-portrait angle",
}


def make_phase_estimator(
    name: str, cadence_steps_per_min: float, period_s: float
) -> PhaseEstimator:
    """The phase source ``name`` (a key of :data:`PHASE_SOURCES`), starting at the cadence
    ``cadence_steps_per_min`` (steps/min), stepped every ``period_s`` (s).

    Raises:
        ConfigurationError: unknown name.
    """
    if name == "cadence":
        return CadencePhase(cadence_steps_per_min)
    if name == "oscillator":
        return AdaptiveOscillator(cadence_steps_per_min, period_s)
    if name == "portrait":
        return PhasePortrait(cadence_steps_per_min, period_s)
    raise ConfigurationError(
        f"unknown phase source {name!r}; choose one of {', '.join(sorted(PHASE_SOURCES))}"
    )


class HipPhase:
    """Feeds a phase estimator the hip of a robot's joint arrays, right hip preferred.

    A robot with only a left hip drives the estimator with it; the phase is then shifted by half a
    cycle, since the left leg runs half a stride behind the right.

    Raises:
        ConfigurationError: the estimator needs a hip and the robot has none.
    """

    def __init__(self, estimator: PhaseEstimator, joint_names: tuple[str, ...]) -> None:
        self.estimator = estimator
        self.index, self.shift = 0, 0.0  # a cadence clock reads no joint: any index will do
        hips = [(joint_names.index(name), shift)
                for name, shift in (("hip_flexion_r", 0.0), ("hip_flexion_l", 0.5))
                if name in joint_names]
        if hips:
            self.index, self.shift = hips[0]
        elif estimator.needs_hip:
            raise ConfigurationError(
                f"{type(estimator).__name__} needs a hip joint; the robot has "
                f"{', '.join(joint_names)}"
            )

    def update(self, state: JointState) -> float:
        """The right leg's phase (cycles, in [0, 1)) at this tick."""
        i = self.index
        phase = self.estimator.update(state.t_s, float(state.q[i]), float(state.qd[i]))
        return (phase + self.shift) % 1.0
