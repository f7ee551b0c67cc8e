"""Joint names and sign conventions, the same in every package (DESIGN.md, "Core types").

Names are OpenSim's, a joint kind and a side suffix: ``hip_flexion_r``, ``knee_angle_r``,
``ankle_angle_r`` and the same with ``_l``. Angles are in rad and zero in upright standing (leg
straight, foot flat). Signs are the clinical ones:

- ``hip_flexion`` positive swings the thigh forward (flexion), negative backward (extension);
- ``knee_angle`` positive flexes the knee (the shank rotates backward relative to the thigh),
  negative is hyperextension;
- ``ankle_angle`` positive is dorsiflexion (toes up), negative plantarflexion.

So for every joint "flexion" (dorsiflexion at the ankle) is the positive direction and
"extension" (plantarflexion) the negative one: :data:`DIRECTION_SIGN`. A joint torque has the sign
of the angle it drives toward. The exoskeleton holds the pelvis upright, so its hip angle is the
thigh's angle to the vertical. tests/sim/test_world.py pins these signs in the simulated leg.

>>> joint_kind("knee_angle_l"), joint_side("knee_angle_l")
('knee_angle', 'l')
>>> DIRECTION_SIGN["extension"]
-1.0
"""

from __future__ import annotations

from typing import Literal

#: The joint kinds, proximal to distal.
JOINT_KINDS = ("hip_flexion", "knee_angle", "ankle_angle")
#: The side suffixes: right, left.
SIDE_SUFFIXES = ("r", "l")
#: The hips and knees of both legs: the joints a hip-knee exoskeleton drives.
HIP_KNEE_JOINTS = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")

#: The two directions of a joint's motion.
Direction = Literal["flexion", "extension"]
#: Both directions, extension first (the low end of a range first).
DIRECTIONS: tuple[Direction, Direction] = ("extension", "flexion")
#: The sign of each direction in the joint's angle.
DIRECTION_SIGN: dict[str, float] = {"flexion": 1.0, "extension": -1.0}


def joint_kind(joint_name: str) -> str:
    """The kind of a joint: its name without the side suffix (``hip_flexion_r`` is a
    ``hip_flexion``)."""
    return joint_name.rsplit("_", 1)[0]


def joint_side(joint_name: str) -> str:
    """The side suffix of a joint name: ``"r"`` or ``"l"`` (``knee_angle_l`` → ``l``)."""
    return joint_name.rsplit("_", 1)[1]
