"""The gait-phase sources a controller can be driven by, by name (a protocol names one).

A :class:`~rehabbot.plugins.Registry` (the python-can way) of
:class:`~rehabbot.controllers.gait_phase.PhaseEstimator` classes, extended by the entry points
of the group ``rehabbot.phase_sources`` and imported only when chosen; an estimator is built by
its class method ``create``. The built-ins:

- ``cadence``: a clock at the set cadence (the treadmill's rhythm, classic gait robots);
- ``oscillator``: adaptive oscillators locked onto the right hip angle (Ronsse et al. 2011);
- ``portrait``: the right hip's normalized phase-portrait angle;
- ``oscillator_left``, ``portrait_left``: the same on the left hip, for a patient whose right
  leg is the paretic one (an estimator locked onto a paretic hip follows its irregular motion,
  docs/controllers.md);
- ``thighs``: adaptive oscillators on the thigh-angle difference (both hips), with a confidence
  and the cadence clock to fall back on (:mod:`~rehabbot.controllers.thigh_phase`); the default
  of the cooperative modes (:data:`DEFAULT_ESTIMATOR`).

A name ending in ``_left`` reads the left hip; an estimator whose ``hips`` is ``"both"`` reads
the two.

>>> PHASE_SOURCES.names()
['cadence', 'oscillator', 'oscillator_left', 'portrait', 'portrait_left', 'thighs']
>>> type(make_phase_estimator("portrait_left", 90.0, 0.001)).__name__
'PhasePortrait'
>>> hip_phase("oscillator_left", ("hip_flexion_r", "hip_flexion_l"), 90.0, 0.001).index
1
"""

from __future__ import annotations

from typing import Literal

from rehabbot.controllers.gait_phase import PhaseEstimator
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState
from rehabbot.plugins import Registry

#: Built-in phase sources: name → (module, estimator class).
BUILTIN_PHASE_SOURCES: dict[str, tuple[str, str]] = {
    "cadence": ("rehabbot.controllers.gait_phase", "CadencePhase"),
    "oscillator": ("rehabbot.controllers.adaptive_oscillator", "AdaptiveOscillator"),
    "portrait": ("rehabbot.controllers.phase_portrait", "PhasePortrait"),
    "oscillator_left": ("rehabbot.controllers.adaptive_oscillator", "AdaptiveOscillator"),
    "portrait_left": ("rehabbot.controllers.phase_portrait", "PhasePortrait"),
    "thighs": ("rehabbot.controllers.thigh_phase", "ThighDifferencePhase"),
}
#: Every phase source: the built-ins and the ``rehabbot.phase_sources`` entry points.
PHASE_SOURCES = Registry[PhaseEstimator]("phase source", "rehabbot.phase_sources",
                                         BUILTIN_PHASE_SOURCES, PhaseEstimator)
#: The phase source of the cooperative modes (transparent, assist-as-needed) by default: within
#: 5 % of a stride for the simulated patients but sci_incomplete, which is at it
#: (docs/controllers.md).
DEFAULT_ESTIMATOR = "thighs"
#: The suffix of a phase source that reads the left hip.
LEFT = "_left"
#: Which hip feeds an estimator: one, or both (their difference, right minus left).
Side = Literal["right", "left", "both"]


def make_phase_estimator(
    name: str, cadence_steps_per_min: float, period_s: float
) -> PhaseEstimator:
    """The phase source ``name`` (see :data:`PHASE_SOURCES`), starting at the cadence
    ``cadence_steps_per_min`` (steps/min), stepped every ``period_s`` (s).

    Raises:
        ConfigurationError: unknown name (the message lists the known ones), or a plug-in that
            cannot be loaded.
    """
    # a left hip starts half a stride on (the right leg's phase 0)
    return PHASE_SOURCES.load(name).create(cadence_steps_per_min, period_s,
                                           0.5 if name.endswith(LEFT) else 0.0)


def hip_phase(
    name: str, joint_names: tuple[str, ...], cadence_steps_per_min: float, period_s: float
) -> HipPhase:
    """The phase source ``name`` fed from its hip of a robot with joints ``joint_names``.

    Raises:
        ConfigurationError: unknown name, or an estimator and no hip.
    """
    estimator = make_phase_estimator(name, cadence_steps_per_min, period_s)
    side: Side = ("both" if estimator.hips == "both" else "left" if name.endswith(LEFT)
                  else "right")
    return HipPhase(estimator, joint_names, side)


class HipPhase:
    """Feeds a phase estimator one hip of a robot's joint arrays, the ``side`` one preferred, or
    (``side="both"``) the difference of the two, right minus left.

    The phase is always the right leg's: read from the left hip, it is shifted by half a cycle,
    since the left leg runs half a stride behind the right. A robot without the preferred hip
    drives the estimator with the other one.

    Raises:
        ConfigurationError: the estimator needs a hip (both, for ``"both"``) and the robot
            has none.
    """

    def __init__(
        self, estimator: PhaseEstimator, joint_names: tuple[str, ...], side: Side = "right",
    ) -> None:
        self.estimator = estimator
        self.index, self.shift = 0, 0.0  # a cadence clock reads no joint: any index will do
        #: The left hip subtracted from the right one (``side="both"``), else None.
        self.minus: int | None = None
        if side == "both":
            if not {"hip_flexion_r", "hip_flexion_l"} <= set(joint_names):
                raise ConfigurationError(
                    f"{type(estimator).__name__} needs both hips; the robot has "
                    f"{', '.join(joint_names)}")
            self.index = joint_names.index("hip_flexion_r")
            self.minus = joint_names.index("hip_flexion_l")
            return
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
        i, j = self.index, self.minus
        if j is None:
            phase = self.estimator.update(state.t_s, float(state.q[i]), float(state.qd[i]))
        else:
            phase = self.estimator.update(state.t_s, float(state.q[i] - state.q[j]),
                                          float(state.qd[i] - state.qd[j]))
        return (phase + self.shift) % 1.0
