"""The URDF of a person in a bilateral hip-knee exoskeleton, held Lokomat-style over a treadmill.

One multibody, x forward, y left, z up::

    treadmill_frame (fixed, massless)
      └ harness_x   prismatic, +x: the harness carriage travels forward (see world.py)
        harness_carriage
          └ pelvis_z   prismatic, +z: pelvis height above the ground, the body-weight-support DOF
            pelvis   (HAT mass + exoskeleton frame; held upright, no rotation)
              ├ hip_flexion_r → thigh_r → knee_angle_r → shank_r → ankle_angle_r → foot_r
              └ hip_flexion_l → thigh_l → knee_angle_l → shank_l → ankle_angle_l → foot_l

The pelvis link's origin is the mid-point of the hip joint centres, and ``pelvis_z``'s position is
its height above the ground. Joint angles are zero in upright standing (leg straight, foot flat).

Signs are the package's (:mod:`rehabbot.body.joints`): positive ``hip_flexion`` swings the thigh
forward, positive ``knee_angle`` flexes the knee, positive ``ankle_angle`` is dorsiflexion. With the
legs hanging along -z and the feet pointing +x this needs the axes hip -y, knee +y, ankle -y. The
joint stops are the model's mechanical range
(:data:`~rehabbot.body.range_of_motion.MODEL_JOINT_RANGE_RAD`).

Only the feet collide (a box each, sole at the bottom); the other links carry mass only, which keeps
contact detection cheap. Joint damping and friction are zero: the simulator applies them explicitly.
Orthosis masses (:class:`~rehabbot.body.orthosis.ExoSegments`) are lumped into the pelvis, thigh
and shank inertials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rehabbot.body.anthropometry import BodyModel, Segment
from rehabbot.body.arrays import FloatArray
from rehabbot.body.orthosis import ExoSegments
from rehabbot.body.range_of_motion import MODEL_JOINT_RANGE_RAD

#: The sides' name suffixes and the sign of their lateral (y) offset: right at -y, left at +y.
SIDES = (("r", -1.0), ("l", 1.0))
FOOT_LINKS = ("foot_r", "foot_l")

#: Foot box width (m, mediolateral) and height (m, from the sole up).
FOOT_WIDTH_M = 0.10
FOOT_BOX_HEIGHT_M = 0.025

_CARRIAGE_MASS_KG = 1.0


@dataclass(frozen=True)
class _Inertial:
    """A link's mass (kg), centre of mass (m, link frame) and principal inertia (kg·m²)."""

    mass: float
    com: tuple[float, float, float]
    inertia: tuple[float, float, float]


def _on_axis(parts: list[tuple[float, float, tuple[float, float, float]]]) -> _Inertial:
    """Combine bodies ``(mass kg, com z m, inertia kg·m²)`` whose centres lie on the link's z axis.

    Parallel-axis theorem: each part's moment about x and y grows by ``m d²`` with ``d`` its
    distance from the combined centre of mass; moments about z (the common axis) just add.
    """
    mass = sum(m for m, _, _ in parts)
    z = sum(m * c for m, c, _ in parts) / mass
    transverse = [sum(i[k] + m * (c - z) ** 2 for m, c, i in parts) for k in (0, 1)]
    axial = sum(i[2] for _, _, i in parts)
    return _Inertial(mass, (0.0, 0.0, z), (transverse[0], transverse[1], axial))


def _limb(segment: Segment, exo_kg: float) -> _Inertial:
    """A thigh or shank hanging down from its proximal joint, plus its orthosis rod."""
    human = (segment.mass_kg, -segment.com_from_proximal_m, segment.inertia_kgm2)
    rod = exo_kg * segment.length_m**2 / 12.0
    return _on_axis([human, (exo_kg, -0.5 * segment.length_m, (rod, rod, 0.0))])


def _pelvis(body: BodyModel, exo_kg: float) -> _Inertial:
    """The HAT above the hip centres, plus the pelvis frame's point mass at the origin."""
    hat = body.pelvis
    return _on_axis(
        [(hat.mass_kg, hat.com_from_proximal_m, hat.inertia_kgm2), (exo_kg, 0.0, (0.0, 0.0, 0.0))]
    )


def _foot(body: BodyModel) -> _Inertial:
    """The foot, centre of mass at mid-length and half the ankle height above the sole."""
    foot = body.foot
    x = foot.com_from_proximal_m - body.heel_to_ankle_m
    return _Inertial(foot.mass_kg, (x, 0.0, -0.5 * body.foot_height_m), foot.inertia_kgm2)


def sole_points_m(body: BodyModel) -> FloatArray:
    """Heel and toe points of the sole (m) in the foot frame (ankle at the origin), shape (2, 3).

    >>> sole_points_m(BodyModel.from_height_mass(1.75, 75.0)).round(3)[:, [0, 2]].tolist()
    [[-0.066, -0.068], [0.2, -0.068]]
    """
    back = -body.heel_to_ankle_m
    front = body.foot_length_m - body.heel_to_ankle_m
    return np.array([[back, 0.0, -body.foot_height_m], [front, 0.0, -body.foot_height_m]])


def _num(value: float) -> str:
    """A number for URDF text."""
    return f"{value:.9g}"


def _vec(values: tuple[float, float, float]) -> str:
    """Three numbers for a URDF ``xyz`` attribute."""
    return " ".join(_num(v) for v in values)


def _link(name: str, inertial: _Inertial, collision: str = "") -> str:
    """A URDF link with an inertial and an optional collision element."""
    ixx, iyy, izz = inertial.inertia
    return (
        f'  <link name="{name}">\n'
        f"    <inertial>\n"
        f'      <origin xyz="{_vec(inertial.com)}" rpy="0 0 0"/>\n'
        f'      <mass value="{_num(inertial.mass)}"/>\n'
        f'      <inertia ixx="{_num(ixx)}" ixy="0" ixz="0" iyy="{_num(iyy)}" iyz="0" '
        f'izz="{_num(izz)}"/>\n'
        f"    </inertial>\n"
        f"{collision}"
        f"  </link>\n"
    )


def _joint(
    name: str,
    kind: str,
    parent: str,
    child: str,
    origin: tuple[float, float, float],
    axis: tuple[float, float, float],
    limits: tuple[float, float],
) -> str:
    """A URDF revolute or prismatic joint with limits and zero damping and friction."""
    lower, upper = limits
    return (
        f'  <joint name="{name}" type="{kind}">\n'
        f'    <parent link="{parent}"/>\n'
        f'    <child link="{child}"/>\n'
        f'    <origin xyz="{_vec(origin)}" rpy="0 0 0"/>\n'
        f'    <axis xyz="{_vec(axis)}"/>\n'
        f'    <limit lower="{_num(lower)}" upper="{_num(upper)}" effort="10000" velocity="100"/>\n'
        f'    <dynamics damping="0" friction="0"/>\n'
        f"  </joint>\n"
    )


def _foot_collision(body: BodyModel) -> str:
    """The foot's box: heel to toe, sole at the ankle height below the ankle joint."""
    heel, toe = sole_points_m(body)[:, 0]
    centre = (0.5 * (heel + toe), 0.0, -body.foot_height_m + 0.5 * FOOT_BOX_HEIGHT_M)
    size = (body.foot_length_m, FOOT_WIDTH_M, FOOT_BOX_HEIGHT_M)
    return (
        f"    <collision>\n"
        f'      <origin xyz="{_vec(centre)}" rpy="0 0 0"/>\n'
        f'      <geometry><box size="{_vec(size)}"/></geometry>\n'
        f"    </collision>\n"
    )


def pelvis_height_limits_m(body: BodyModel) -> tuple[float, float]:
    """Travel of ``pelvis_z`` (m above the ground): 60 % of the leg length up to 10 cm above it."""
    return 0.6 * body.leg_length_m, body.leg_length_m + 0.10


def build_urdf(body: BodyModel, exo: ExoSegments | None = None) -> str:
    """URDF text of the person (and orthosis, if ``exo`` is given) in the treadmill harness.

    >>> text = build_urdf(BodyModel.from_height_mass(1.75, 75.0), ExoSegments())
    >>> text.count("<collision>"), text.count('type="revolute"')
    (2, 6)
    """
    exo = exo if exo is not None else ExoSegments(0.0, 0.0, 0.0)
    carriage = _Inertial(_CARRIAGE_MASS_KG, (0.0, 0.0, 0.0), (0.01, 0.01, 0.01))
    parts = [
        '<?xml version="1.0"?>\n<robot name="rehabbot_exo">\n',
        _link("treadmill_frame", _Inertial(0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))),
        # Lower > upper: pybullet puts no limit on the carriage's travel.
        _joint("harness_x", "prismatic", "treadmill_frame", "harness_carriage",
               (0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, -1.0)),
        _link("harness_carriage", carriage),
        _joint("pelvis_z", "prismatic", "harness_carriage", "pelvis",
               (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), pelvis_height_limits_m(body)),
        _link("pelvis", _pelvis(body, exo.pelvis_frame_kg)),
    ]
    stops = MODEL_JOINT_RANGE_RAD
    for side, lateral in SIDES:
        hip_origin = (0.0, lateral * 0.5 * body.hip_width_m, 0.0)
        parts += [
            _joint(f"hip_flexion_{side}", "revolute", "pelvis", f"thigh_{side}",
                   hip_origin, (0.0, -1.0, 0.0), stops["hip_flexion"]),
            _link(f"thigh_{side}", _limb(body.thigh, exo.thigh_kg)),
            _joint(f"knee_angle_{side}", "revolute", f"thigh_{side}", f"shank_{side}",
                   (0.0, 0.0, -body.thigh.length_m), (0.0, 1.0, 0.0), stops["knee_angle"]),
            _link(f"shank_{side}", _limb(body.shank, exo.shank_kg)),
            _joint(f"ankle_angle_{side}", "revolute", f"shank_{side}", f"foot_{side}",
                   (0.0, 0.0, -body.shank.length_m), (0.0, -1.0, 0.0), stops["ankle_angle"]),
            _link(f"foot_{side}", _foot(body), _foot_collision(body)),
        ]
    parts.append("</robot>\n")
    return "".join(parts)
