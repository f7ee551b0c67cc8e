"""Gravity and friction compensation, and transparent mode built on them."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegGravity, LegSegments
from rehabbot.body.orthosis import ExoSegments
from rehabbot.controllers.compensation import Compensation, JointFriction
from rehabbot.controllers.transparent import TransparentController
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState
from rehabbot.sim.urdf import build_urdf
from rehabbot.sim.world import p

NAMES = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
BODY = BodyModel.from_height_mass(1.75, 75.0)
G = 9.81


def test_a_thigh_held_horizontal_needs_its_whole_leg_s_moment() -> None:
    leg = LegSegments(thigh_moment_kgm=2.0, thigh_length_m=0.4, shank_mass_kg=3.0,
                      shank_moment_kgm=0.6, foot_mass_kg=1.0, foot_below_knee_m=0.45,
                      foot_forward_m=0.05)
    gravity = LegGravity(("hip_flexion_r", "knee_angle_r"), leg)
    # Hip flexed 90 deg, knee straight: thigh and shank horizontal, foot's offset points down.
    hip, knee = gravity.torques(np.array([math.pi / 2, 0.0]))
    shank = 0.6 + 1.0 * 0.45  # first moment of shank and foot about the knee, kg·m
    assert hip == pytest.approx(G * (2.0 + 4.0 * 0.4 + shank))
    assert knee == pytest.approx(-G * shank)
    # Thigh vertical, knee flexed 90 deg: the shank is horizontal behind; the knee holds it.
    hip, knee = gravity.torques(np.array([0.0, math.pi / 2]))
    assert knee == pytest.approx(G * shank)
    assert hip == pytest.approx(-knee)


def test_gravity_model_equals_pybullet_inverse_dynamics_of_the_simulated_leg() -> None:
    exo = ExoSegments()
    client = p.connect(p.DIRECT)
    try:
        p.setGravity(0.0, 0.0, -G, physicsClientId=client)
        with tempfile.TemporaryDirectory() as folder:
            urdf = Path(folder) / "exo.urdf"
            urdf.write_text(build_urdf(BODY, exo), encoding="utf-8")
            body = p.loadURDF(str(urdf), useFixedBase=True,
                              flags=p.URDF_USE_INERTIA_FROM_FILE, physicsClientId=client)
        joints = [p.getJointInfo(body, i, physicsClientId=client)[1].decode()
                  for i in range(p.getNumJoints(body, physicsClientId=client))]
        gravity = LegGravity(NAMES, LegSegments.from_body(BODY, exo))
        rng = np.random.default_rng(7)
        for _ in range(10):
            q = rng.uniform([-0.5, 0.0, -0.5, 0.0], [1.0, 1.7, 1.0, 1.7])
            pose = np.zeros(len(joints))
            pose[[joints.index(n) for n in NAMES]] = q
            zeros = [0.0] * len(joints)
            tau = p.calculateInverseDynamics(body, pose.tolist(), zeros, zeros,
                                              physicsClientId=client)
            expected = [tau[joints.index(n)] for n in NAMES]
            np.testing.assert_allclose(gravity.torques(q), expected, rtol=1e-6, atol=1e-6)
    finally:
        p.disconnect(physicsClientId=client)


def test_friction_is_zero_in_the_deadband_then_ramps_to_coulomb_plus_viscous() -> None:
    friction = JointFriction(np.array([2.0, 1.0]), np.array([0.5, 0.0]), deadband_rad_s=0.1)
    velocities = np.linspace(-1.0, 1.0, 2001)
    tau = np.array([friction.torques(np.array([v, v])) for v in velocities])
    inside = np.abs(velocities) <= 0.1
    np.testing.assert_allclose(tau[inside, 1], 0.0)
    beyond = np.abs(velocities) >= 0.2
    np.testing.assert_allclose(tau[beyond, 0], 2.0 * np.sign(velocities[beyond])
                               + 0.5 * velocities[beyond])
    assert np.abs(np.diff(tau, axis=0)).max() < 0.03  # continuous: no torque step anywhere


def test_friction_refuses_negative_coefficients() -> None:
    with pytest.raises(ConfigurationError, match=">= 0"):
        JointFriction(np.array([-1.0]), np.array([0.0]))


def transparent(**kw: float) -> TransparentController:
    compensation = Compensation(
        LegGravity(NAMES, LegSegments.from_body(BODY, ExoSegments())),
        JointFriction(np.full(4, 1.5), np.full(4, 0.2)),
    )
    return TransparentController(NAMES, compensation, **kw)


def state(t_s: float) -> JointState:
    s = JointState.zeros(4, t_s)
    s.q[:] = [0.4, 0.6, -0.2, 0.1]
    s.qd[:] = [1.0, -2.0, 0.0, 0.5]
    return s


def test_transparent_mode_has_no_impedance_and_commands_the_compensation() -> None:
    ctrl = transparent()
    command = ctrl.update(state(0.0))
    np.testing.assert_array_equal(command.kp, 0.0)
    np.testing.assert_array_equal(command.kd, 0.0)
    expected = ctrl.compensation.torques(state(0.0).q, state(0.0).qd)
    np.testing.assert_allclose(command.tau_ff, expected)
    np.testing.assert_allclose(command.expected_torque(state(0.0).q, state(0.0).qd), expected)


def test_turning_gravity_compensation_off_ramps_instead_of_stepping() -> None:
    ctrl = transparent()
    gravity_only = ctrl.compensation.gravity
    assert gravity_only is not None
    full = ctrl.update(state(0.0)).tau_ff.copy()
    ctrl.set_params(gravity_pct=0.0)  # 50 %/s
    half = ctrl.update(state(1.0)).tau_ff
    np.testing.assert_allclose(full - half, 0.5 * gravity_only.torques(state(1.0).q))
    assert ctrl.get_params() == {"gravity_pct": 0.0, "friction_pct": 100.0}
