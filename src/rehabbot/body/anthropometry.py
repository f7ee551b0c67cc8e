"""Body segment parameters of the simulated person, scaled from height and body mass.

Source: D. A. Winter, *Biomechanics and Motor Control of Human Movement*, 4th ed., Wiley, 2009,
table 4.1 (segment mass as a fraction of body mass, centre of mass from the proximal end and radius
of gyration about the centre of mass as fractions of segment length) and figure 4.1 (segment
lengths as fractions of body height H: greater trochanter 0.530 H, knee 0.285 H, ankle 0.039 H,
glenohumeral joint 0.818 H, foot length 0.152 H, hip breadth 0.191 H).

Segments:

- HAT (head, arms and trunk), greater trochanter to glenohumeral joint, lumped onto the pelvis;
- thigh, greater trochanter (hip) to femoral condyles (knee);
- shank ("leg" in Winter), femoral condyles to medial malleolus (ankle);
- foot, heel to toe. Winter's foot segment runs from the lateral malleolus to the head of the
  second metatarsal with its centre of mass half-way; that point lies near the middle of the
  heel-to-toe length, so the model puts the foot's centre of mass at mid-length.

Each segment is treated as an equivalent solid cylinder along its long axis: Winter's radius of
gyration gives the moment of inertia about the two transverse axes, and the cylinder radius that
reproduces it gives the moment about the long axis (which does not enter this model's planar
dynamics: every joint axis is mediolateral). Two quantities are model choices, not from the table:
the distance between the hip joint centres (half of Winter's hip breadth) and the ankle's position
along the foot (a quarter of the foot length in front of the heel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rehabbot.errors import ConfigurationError

#: Allowed body height (m) and body mass (kg).
HEIGHT_RANGE_M = (1.0, 2.3)
MASS_RANGE_KG = (20.0, 250.0)

# Winter 2009, figure 4.1: heights of landmarks and breadths as fractions of body height.
_HIP_HEIGHT = 0.530
_KNEE_HEIGHT = 0.285
_ANKLE_HEIGHT = 0.039
_SHOULDER_HEIGHT = 0.818
_FOOT_LENGTH = 0.152
_HIP_BREADTH = 0.191

# Model choices (see the module docstring).
_HIP_JOINT_SPACING = 0.5 * _HIP_BREADTH
_HEEL_TO_ANKLE = 0.25  # fraction of the foot length


@dataclass(frozen=True)
class _WinterRow:
    """One row of Winter's table 4.1: fractions of body mass and of segment length."""

    mass: float
    com_proximal: float
    gyration_com: float


# Winter 2009, table 4.1.
_HAT = _WinterRow(mass=0.678, com_proximal=0.626, gyration_com=0.496)
_THIGH = _WinterRow(mass=0.100, com_proximal=0.433, gyration_com=0.323)
_SHANK = _WinterRow(mass=0.0465, com_proximal=0.433, gyration_com=0.302)
_FOOT = _WinterRow(mass=0.0145, com_proximal=0.50, gyration_com=0.475)


@dataclass(frozen=True)
class Segment:
    """Mass properties of one body segment.

    The inertia is given in the segment's frame at the upright standing pose (x forward, y left,
    z up): HAT, thigh and shank have their long axis along z, the foot along x.

    Attributes:
        name: segment name (``"hat"``, ``"thigh"``, ``"shank"``, ``"foot"``).
        mass_kg: segment mass (kg).
        length_m: segment length (m), proximal to distal end (heel to toe for the foot).
        com_from_proximal_m: distance of the centre of mass from the proximal end (m).
        inertia_kgm2: principal moments of inertia about the centre of mass (kg·m²), about the
            x, y (sagittal plane normal) and z axes.

    >>> s = Segment("thigh", 7.0, 0.43, 0.19, (0.1, 0.1, 0.02))
    >>> s.com_from_proximal_m < s.length_m
    True
    """

    name: str
    mass_kg: float
    length_m: float
    com_from_proximal_m: float
    inertia_kgm2: tuple[float, float, float]


def _segment(name: str, row: _WinterRow, body_mass_kg: float, length_m: float) -> Segment:
    """A segment scaled from a table row, as an equivalent solid cylinder.

    Transverse moment ``m (k L)²`` with ``k`` Winter's radius of gyration about the centre of mass;
    the cylinder radius ``r`` with ``m (3 r² + L²) / 12 = m (k L)²`` gives the long-axis moment
    ``m r² / 2``.
    """
    mass = row.mass * body_mass_kg
    transverse = mass * (row.gyration_com * length_m) ** 2
    radius_sq = max(length_m**2 * (12.0 * row.gyration_com**2 - 1.0) / 3.0, 0.0)
    axial = 0.5 * mass * radius_sq
    inertia = (axial, transverse, transverse) if name == "foot" else (transverse, transverse, axial)
    return Segment(name, mass, length_m, row.com_proximal * length_m, inertia)


def _check_range(label: str, value: float, bounds: tuple[float, float], unit: str) -> None:
    """Raise ConfigurationError unless ``bounds[0] <= value <= bounds[1]`` (and finite)."""
    low, high = bounds
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigurationError(
            f"body {label} {value} {unit} is outside the allowed range [{low}, {high}] {unit}"
        )


@dataclass(frozen=True)
class BodyModel:
    """The simulated person's segments (one leg's; both legs are the same) and dimensions.

    Build it with :meth:`from_height_mass`.

    Attributes:
        height_m: body height (m).
        mass_kg: body mass (kg).
        pelvis: the HAT segment (head, arms, trunk), carried by the pelvis link.
        thigh: one thigh.
        shank: one shank.
        foot: one foot.
        hip_width_m: distance between the two hip joint centres (m).
        foot_length_m: heel-to-toe length (m).
        foot_height_m: height of the ankle joint above the sole (m).
        heel_to_ankle_m: horizontal distance from the heel to the ankle joint (m).

    >>> body = BodyModel.from_height_mass(1.75, 75.0)
    >>> round(body.thigh.length_m + body.shank.length_m + body.foot_height_m, 4)
    0.9275
    """

    height_m: float
    mass_kg: float
    pelvis: Segment
    thigh: Segment
    shank: Segment
    foot: Segment
    hip_width_m: float
    foot_length_m: float
    foot_height_m: float
    heel_to_ankle_m: float

    @classmethod
    def from_height_mass(cls, height_m: float, mass_kg: float) -> BodyModel:
        """Scale Winter's tables to a person of ``height_m`` (m) and ``mass_kg`` (kg).

        Raises:
            ConfigurationError: height outside 1.0–2.3 m or mass outside 20–250 kg.
        """
        _check_range("height", height_m, HEIGHT_RANGE_M, "m")
        _check_range("mass", mass_kg, MASS_RANGE_KG, "kg")
        h = height_m
        foot_length = _FOOT_LENGTH * h
        return cls(
            height_m=height_m,
            mass_kg=mass_kg,
            pelvis=_segment("hat", _HAT, mass_kg, (_SHOULDER_HEIGHT - _HIP_HEIGHT) * h),
            thigh=_segment("thigh", _THIGH, mass_kg, (_HIP_HEIGHT - _KNEE_HEIGHT) * h),
            shank=_segment("shank", _SHANK, mass_kg, (_KNEE_HEIGHT - _ANKLE_HEIGHT) * h),
            foot=_segment("foot", _FOOT, mass_kg, foot_length),
            hip_width_m=_HIP_JOINT_SPACING * h,
            foot_length_m=foot_length,
            foot_height_m=_ANKLE_HEIGHT * h,
            heel_to_ankle_m=_HEEL_TO_ANKLE * foot_length,
        )

    @property
    def leg_length_m(self) -> float:
        """Hip joint centre to sole with the leg straight and the foot flat (m)."""
        return self.thigh.length_m + self.shank.length_m + self.foot_height_m

    @property
    def segments_mass_kg(self) -> float:
        """Sum of the masses of all segments, both legs (kg); equals the body mass."""
        legs = self.thigh.mass_kg + self.shank.mass_kg + self.foot.mass_kg
        return self.pelvis.mass_kg + 2.0 * legs
