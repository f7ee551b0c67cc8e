"""The orthosis on the body: the masses of the exoskeleton's segments.

Each thigh and shank cuff-and-bar assembly is a uniform rod along its body segment's length; the
pelvis frame is a point mass at the mid-point of the hip joint centres. The leg's mechanics
(:mod:`rehabbot.body.leg_mechanics`) and the simulator's URDF add them to the person's segments
(:mod:`rehabbot.body.anthropometry`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rehabbot.errors import ConfigurationError

_MAX_EXO_SEGMENT_KG = 50.0


@dataclass(frozen=True)
class ExoSegments:
    """Orthosis masses added to the body, Lokomat-style defaults.

    Each thigh and shank cuff-and-bar assembly is a uniform rod along its segment's length; the
    pelvis frame is a point mass at the hip-centre mid-point. In a Lokomat the parallelogram
    carries the pelvis frame, hence the default 0.

    Attributes:
        pelvis_frame_kg: mass of the frame moving with the pelvis (kg).
        thigh_kg: mass of one thigh orthosis segment (kg).
        shank_kg: mass of one shank orthosis segment (kg).

    >>> ExoSegments().total_mass_kg
    10.0
    """

    pelvis_frame_kg: float = 0.0
    thigh_kg: float = 3.0
    shank_kg: float = 2.0

    def __post_init__(self) -> None:
        for label, value in (
            ("pelvis_frame_kg", self.pelvis_frame_kg),
            ("thigh_kg", self.thigh_kg),
            ("shank_kg", self.shank_kg),
        ):
            if not (math.isfinite(value) and 0.0 <= value <= _MAX_EXO_SEGMENT_KG):
                raise ConfigurationError(
                    f"exoskeleton {label} = {value} kg is outside the allowed range "
                    f"[0, {_MAX_EXO_SEGMENT_KG}] kg"
                )

    @property
    def total_mass_kg(self) -> float:
        """Mass of the whole orthosis, both legs and the pelvis frame (kg)."""
        return self.pelvis_frame_kg + 2.0 * (self.thigh_kg + self.shank_kg)
