"""The gait-phase sources a controller can be driven by, by name (a protocol names one).

An estimator reads the right hip; its ``_left`` variant reads the left one, for a patient whose
right leg is the paretic one (an estimator locked onto a paretic hip follows its irregular motion,
docs/controllers.md).

>>> sorted(PHASE_SOURCES)
['cadence', 'oscillator', 'oscillator_left', 'portrait', 'portrait_left']
>>> type(make_phase_estimator("portrait_left", 90.0, 0.001)).__name__
'PhasePortrait'
>>> hip_phase("oscillator_left", ("hip_flexion_r", "hip_flexion_l"), 90.0, 0.001).index
1
"""

from __future__ import annotations

from typing import Literal

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
    "oscillator_left": "adaptive oscillators locked onto the left hip angle",
    "portrait_left": "the left hip's normalized phase-portrait angle",
}
#: The suffix of a phase source that reads the left hip.
LEFT = "_left"


def make_phase_estimator(
    name: str, cadence_steps_per_min: float, period_s: float
) -> PhaseEstimator:
    """The phase source ``name`` (a key of :data:`PHASE_SOURCES`), starting at the cadence
    ``cadence_steps_per_min`` (steps/min), stepped every ``period_s`` (s).

    Raises:
        ConfigurationError: unknown name.
    """
    if name not in PHASE_SOURCES:
        raise ConfigurationError(
            f"unknown phase source {name!r}; choose one of {', '.join(sorted(PHASE_SOURCES))}"
        )
    base = name.removesuffix(LEFT)
    if base == "cadence":
        return CadencePhase(cadence_steps_per_min)
    if base == "oscillator":  # a left hip starts half a stride on (the right leg's phase 0)
        return AdaptiveOscillator(cadence_steps_per_min, period_s,
                                  start_phase=0.5 if name.endswith(LEFT) else 0.0)
    return PhasePortrait(cadence_steps_per_min, period_s)


def hip_phase(
    name: str, joint_names: tuple[str, ...], cadence_steps_per_min: float, period_s: float
) -> HipPhase:
    """The phase source ``name`` fed from its hip of a robot with joints ``joint_names``.

    Raises:
        ConfigurationError: unknown name, or an estimator and no hip.
    """
    estimator = make_phase_estimator(name, cadence_steps_per_min, period_s)
    return HipPhase(estimator, joint_names, "left" if name.endswith(LEFT) else "right")


class HipPhase:
    """Feeds a phase estimator one hip of a robot's joint arrays, the ``side`` one preferred.

    The phase is always the right leg's: read from the left hip, it is shifted by half a cycle,
    since the left leg runs half a stride behind the right. A robot without the preferred hip
    drives the estimator with the other one.

    Raises:
        ConfigurationError: the estimator needs a hip and the robot has none.
    """

    def __init__(
        self, estimator: PhaseEstimator, joint_names: tuple[str, ...],
        side: Literal["right", "left"] = "right",
    ) -> None:
        self.estimator = estimator
        self.index, self.shift = 0, 0.0  # a cadence clock reads no joint: any index will do
        order = (("hip_flexion_r", 0.0), ("hip_flexion_l", 0.5))
        hips = [(joint_names.index(name), shift)
                for name, shift in (order if side == "right" else order[::-1])
                if name in joint_names]
        if hips:
            self.index, self.shift = hips[0]
        elif estimator.needs_hip:
            raise ConfigurationError(
                f"{type(estimator).__name__} needs a hip joint; the robot has "
                f"{', '.join(joint_names)}"
            )

    def restart(self, phase: float) -> None:
        """Start the estimator over, going on from the right leg's ``phase`` (cycles)."""
        self.estimator.restart((phase - self.shift) % 1.0)

    def update(self, state: JointState) -> float:
        """The right leg's phase (cycles, in [0, 1)) at this tick."""
        i = self.index
        phase = self.estimator.update(state.t_s, float(state.q[i]), float(state.qd[i]))
        return (phase + self.shift) % 1.0
