"""The gait cycle's conventions and the shortest stance and swing a step can have.

Phase runs from 0 to 1 over a stride and is the right leg's: phase 0 is the right foot strike, as
in the normative data (:mod:`rehabbot.body.normative_gait`); the left leg runs
:data:`LEFT_PHASE_OFFSET` of a stride behind. A foot contact shorter than :data:`MIN_STANCE_S` is
a toe scuffing the belt in swing, not a stance; a lift shorter than :data:`MIN_SWING_S` is a foot
bouncing as it lands, not a swing (a stance lasts several hundred ms, a swing about 0.4 s).
"""

from __future__ import annotations

#: Shortest stance (s): shorter touches are scuffs.
MIN_STANCE_S = 0.1
#: Shortest swing (s): shorter lifts are bounces.
MIN_SWING_S = 0.15
#: How far (strides) the left leg's phase runs behind the right's.
LEFT_PHASE_OFFSET = 0.5


def leg_phase_offset(joint_name: str) -> float:
    """The phase offset (strides) of the leg a joint belongs to: :data:`LEFT_PHASE_OFFSET` for a
    left joint (``_l``), 0 for a right one.

    >>> leg_phase_offset("knee_angle_l"), leg_phase_offset("knee_angle_r")
    (0.5, 0.0)
    """
    return LEFT_PHASE_OFFSET if joint_name.endswith("_l") else 0.0
