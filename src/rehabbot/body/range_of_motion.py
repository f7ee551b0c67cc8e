"""Range of motion: one joint's range as a type, and the ranges the body and the model allow.

Signs as in :mod:`rehabbot.body.joints`: the low end of a range is toward extension
(plantarflexion), the high end toward flexion (dorsiflexion).

- :class:`RangeOfMotion`: one joint's range, ``min_deg`` < ``max_deg``. Ranges are stated in
  degrees wherever people read or write them (a patient's record, a protocol file: goniometry
  is in degrees); :attr:`RangeOfMotion.min_rad` and :attr:`RangeOfMotion.max_rad`
  give them in SI for computing.
- :class:`JointRanges`: a :class:`RangeOfMotion` per joint kind, as a protocol sets the
  patient's allowed range (a protocol file writes each as ``[lowest, highest]``).
- :data:`HEALTHY_PASSIVE_ROM_RAD`: a healthy adult's passive range by joint kind.
- :data:`MODEL_JOINT_RANGE_RAD`: the mechanical range of the modelled leg in the orthosis (the
  simulator's joint stops), which a simulated robot's configured limits must lie inside.

>>> round(RangeOfMotion(min_deg=0, max_deg=90).max_rad, 6)
1.570796
"""

from __future__ import annotations

import math
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_serializer,
    model_validator,
)

from rehabbot.body.joints import joint_kind

#: Passive range of motion of a healthy adult by joint kind: (extension, flexion) limits (rad)
#: (normal values: hip -25..120 deg, knee -5..140 deg; Riener & Edrich 1999, Amankwah et al. 2004).
HEALTHY_PASSIVE_ROM_RAD = {
    "hip_flexion": (math.radians(-25.0), math.radians(120.0)),
    "knee_angle": (math.radians(-5.0), math.radians(140.0)),
}

#: The modelled leg's mechanical range (rad) by joint kind: hip -30..60 deg, knee -0.05 rad
#: (slight hyperextension) ..100 deg, ankle -30..30 deg.
MODEL_JOINT_RANGE_RAD = {
    "hip_flexion": (math.radians(-30.0), math.radians(60.0)),
    "knee_angle": (-0.05, math.radians(100.0)),
    "ankle_angle": (math.radians(-30.0), math.radians(30.0)),
}


class RangeOfMotion(BaseModel):
    """One joint's range of motion (deg): ``min_deg`` (toward extension) < ``max_deg`` (toward
    flexion), both finite.

    >>> RangeOfMotion(min_deg=30, max_deg=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for RangeOfMotion
      Value error, min_deg 30 is not below max_deg 10 ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_deg: float = Field(allow_inf_nan=False)
    max_deg: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.min_deg < self.max_deg:
            raise ValueError(f"min_deg {self.min_deg:g} is not below max_deg {self.max_deg:g}")
        return self

    @property
    def min_rad(self) -> float:
        """The end toward extension (rad)."""
        return math.radians(self.min_deg)

    @property
    def max_rad(self) -> float:
        """The end toward flexion (rad)."""
        return math.radians(self.max_deg)


def _from_pair(value: object) -> object:
    """A ``[lowest, highest]`` pair (deg), as a protocol file writes a range, as the fields of a
    :class:`RangeOfMotion`; a range or its fields unchanged.

    Raises:
        ValueError: anything else.
    """
    if value is None or isinstance(value, RangeOfMotion | dict):
        return value
    if isinstance(value, list | tuple) and len(value) == 2:
        return {"min_deg": value[0], "max_deg": value[1]}
    raise ValueError("a range is [lowest, highest] in deg")


#: A joint kind's range in :class:`JointRanges`: absent, or ``[lowest, highest]`` (deg).
KindRange = Annotated[RangeOfMotion | None, BeforeValidator(_from_pair)]


class JointRanges(BaseModel):
    """The patient's allowed range of motion per joint kind (deg), as a protocol sets it.

    A joint kind left out keeps the robot's hard limits; the supervisor shapes commands softly in
    a zone inside each end of a range and never lets a reference past it. Each range is written
    ``[lowest, highest]`` and dumped the same way.

    >>> ranges = JointRanges.model_validate({"knee_angle": [0, 75]})
    >>> ranges.knee_angle.max_deg, ranges.hip_flexion is None
    (75.0, True)
    >>> {k: round(v[1], 3) for k, v in ranges.for_joints(("knee_angle_l", "hip_flexion_l")).items()}
    {'knee_angle_l': 1.309}
    >>> ranges.model_dump()["knee_angle"]
    (0.0, 75.0)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hip_flexion: KindRange = None
    knee_angle: KindRange = None
    ankle_angle: KindRange = None

    @field_serializer("hip_flexion", "knee_angle", "ankle_angle")
    def _as_pair(self, value: RangeOfMotion | None) -> tuple[float, float] | None:
        return None if value is None else (value.min_deg, value.max_deg)

    def of_kind(self, kind: str) -> RangeOfMotion | None:
        """The range of joint kind ``kind`` (``hip_flexion``, ...), None if it has none."""
        value: RangeOfMotion | None = getattr(self, kind, None)
        return value

    def for_joints(self, joint_names: tuple[str, ...]) -> dict[str, tuple[float, float]]:
        """``{joint name: (lowest, highest)}`` in rad for the joints whose kind has a range."""
        ranges: dict[str, tuple[float, float]] = {}
        for name in joint_names:
            rom = self.of_kind(joint_kind(name))
            if rom is not None:
                ranges[name] = (rom.min_rad, rom.max_rad)
        return ranges
