"""The stiffness assessment's leg model: its mass matrix is pybullet's."""

from __future__ import annotations

import numpy as np
import pybullet as p
import pytest

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegInertia
from rehabbot.body.orthosis import ExoSegments
from rehabbot.sim.world import TreadmillWorld


@pytest.mark.parametrize("knee_rad", [0.0, 0.2, 1.0])
def test_the_leg_mass_matrix_matches_pybullets(knee_rad: float) -> None:
    body, exo = BodyModel.from_height_mass(1.62, 58.0), ExoSegments()
    with TreadmillWorld(body, belt_speed_mps=0.0, body_weight_support=1.0, exo=exo) as world:
        robot, client = world.body_id, world.client_id
        movable = [
            info[1].decode()
            for info in (p.getJointInfo(robot, i, physicsClientId=client)
                         for i in range(p.getNumJoints(robot, physicsClientId=client)))
            if info[2] != p.JOINT_FIXED
        ]
        angles = {name: 0.0 for name in movable}
        angles["pelvis_z"], angles["knee_angle_l"] = 1.0, knee_rad
        mass = np.array(p.calculateMassMatrix(robot, [angles[n] for n in movable],
                                              physicsClientId=client))
    hip, knee = movable.index("hip_flexion_l"), movable.index("knee_angle_l")
    expected = mass[np.ix_([hip, knee], [hip, knee])]
    model = np.array(LegInertia.from_body(body, exo).matrix(knee_rad), dtype=float)
    np.testing.assert_allclose(model, expected, rtol=1e-6)
