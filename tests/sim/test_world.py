"""The treadmill world in pybullet DIRECT mode: the URDF's joints and signs, support, walking.

The URDF tests load :func:`build_urdf`'s text into a bare pybullet client; the world tests drive
:class:`TreadmillWorld` through its public API only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet as p
import pytest

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.normative_gait import GaitReference
from rehabbot.body.orthosis import ExoSegments
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray
from rehabbot.sim.urdf import build_urdf, sole_points_m
from rehabbot.sim.world import (
    ACTUATED_JOINTS,
    ANKLE_REST_ANGLE_RAD,
    JOINT_NAMES,
    TreadmillWorld,
)

BODY = BodyModel.from_height_mass(1.75, 75.0)
Reference = Callable[[float], tuple[FloatArray, FloatArray]]


# --- the URDF --------------------------------------------------------------------------------


@dataclass
class Loaded:
    """A URDF loaded into its own DIRECT client, with joints and links by name."""

    client: int
    robot: int
    joints: dict[str, int]

    def set_angles(self, **angles_deg: float) -> None:
        for name, angle in angles_deg.items():
            p.resetJointState(self.robot, self.joints[name], math.radians(angle),
                              physicsClientId=self.client)

    def frame(self, child_link_of: str) -> tuple[np.ndarray, np.ndarray]:
        """World position and rotation matrix of the link that ``child_link_of`` moves."""
        state = p.getLinkState(self.robot, self.joints[child_link_of],
                               computeForwardKinematics=True, physicsClientId=self.client)
        rotation = np.array(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)
        return np.array(state[4]), rotation


def _load(urdf: str, tmp_path: Path) -> Iterator[Loaded]:
    client = p.connect(p.DIRECT)
    path = tmp_path / "body.urdf"
    path.write_text(urdf, encoding="utf-8")
    robot = p.loadURDF(str(path), useFixedBase=True, flags=p.URDF_USE_INERTIA_FROM_FILE,
                       physicsClientId=client)
    joints = {
        p.getJointInfo(robot, i, physicsClientId=client)[1].decode(): i
        for i in range(p.getNumJoints(robot, physicsClientId=client))
    }
    yield Loaded(client, robot, joints)
    p.disconnect(physicsClientId=client)


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Loaded]:
    """The person without orthosis, standing (all angles 0)."""
    yield from _load(build_urdf(BODY), tmp_path)


@pytest.fixture
def with_exo(tmp_path: Path) -> Iterator[Loaded]:
    """The person in the default orthosis."""
    yield from _load(build_urdf(BODY, ExoSegments()), tmp_path)


def test_urdf_has_the_harness_then_both_legs_in_order(bare: Loaded) -> None:
    kinds = {
        name: p.getJointInfo(bare.robot, index, physicsClientId=bare.client)[2]
        for name, index in bare.joints.items()
    }
    assert list(kinds) == [
        "harness_x", "pelvis_z",
        "hip_flexion_r", "knee_angle_r", "ankle_angle_r",
        "hip_flexion_l", "knee_angle_l", "ankle_angle_l",
    ]
    assert kinds["harness_x"] == kinds["pelvis_z"] == p.JOINT_PRISMATIC
    assert all(kinds[name] == p.JOINT_REVOLUTE for name in JOINT_NAMES)


@pytest.mark.parametrize(
    ("name", "low_deg", "high_deg"),
    [("hip_flexion_r", -30, 60), ("knee_angle_l", -2.9, 100), ("ankle_angle_r", -30, 30)],
)
def test_urdf_joint_limits(bare: Loaded, name: str, low_deg: float, high_deg: float) -> None:
    info = p.getJointInfo(bare.robot, bare.joints[name], physicsClientId=bare.client)
    assert math.degrees(info[8]) == pytest.approx(low_deg, abs=0.1)
    assert math.degrees(info[9]) == pytest.approx(high_deg, abs=0.1)
    assert info[6] == 0.0 and info[7] == 0.0  # no damping, no friction


def test_only_the_feet_collide(bare: Loaded) -> None:
    colliding = [
        name for name, index in bare.joints.items()
        if p.getCollisionShapeData(bare.robot, index, physicsClientId=bare.client)
    ]
    assert colliding == ["ankle_angle_r", "ankle_angle_l"]  # the joints whose child is a foot


def test_hips_are_spaced_by_the_hip_width_right_at_minus_y(bare: Loaded) -> None:
    right, _ = bare.frame("hip_flexion_r")
    left, _ = bare.frame("hip_flexion_l")
    assert left[1] - right[1] == pytest.approx(BODY.hip_width_m)
    assert right[1] < 0.0 < left[1]


def test_standing_sole_is_one_leg_length_below_the_hips(bare: Loaded) -> None:
    hip, _ = bare.frame("hip_flexion_r")
    ankle, rotation = bare.frame("ankle_angle_r")
    soles = ankle + sole_points_m(BODY) @ rotation.T
    assert hip[2] - soles[:, 2] == pytest.approx([BODY.leg_length_m] * 2)
    assert soles[1, 0] - soles[0, 0] == pytest.approx(BODY.foot_length_m)  # toe ahead of heel


def test_positive_hip_flexion_moves_the_knee_forward(bare: Loaded) -> None:
    bare.set_angles(hip_flexion_r=30.0, hip_flexion_l=-20.0)
    hip, _ = bare.frame("hip_flexion_r")
    knee_r, _ = bare.frame("knee_angle_r")
    knee_l, _ = bare.frame("knee_angle_l")
    assert knee_r[0] - hip[0] == pytest.approx(BODY.thigh.length_m * math.sin(math.radians(30)))
    assert knee_l[0] < hip[0]


@pytest.mark.parametrize("hip_deg", [-20.0, 0.0, 40.0])
def test_positive_knee_angle_moves_the_ankle_behind_the_thigh_line(
    bare: Loaded, hip_deg: float
) -> None:
    bare.set_angles(hip_flexion_r=hip_deg, knee_angle_r=45.0)
    hip, _ = bare.frame("hip_flexion_r")
    knee, _ = bare.frame("knee_angle_r")
    ankle, _ = bare.frame("ankle_angle_r")
    thigh, shank = knee - hip, ankle - knee
    # Sagittal cross product (z, x): positive when the shank turns backward from the thigh line.
    turn = thigh[2] * shank[0] - thigh[0] * shank[2]
    assert turn > 0.0
    assert np.degrees(np.arccos(thigh @ shank / np.linalg.norm(thigh) / np.linalg.norm(shank))) \
        == pytest.approx(45.0)


def test_positive_ankle_angle_raises_the_toe(bare: Loaded) -> None:
    bare.set_angles(ankle_angle_r=20.0, ankle_angle_l=-20.0)
    for joint, toe_up in (("ankle_angle_r", True), ("ankle_angle_l", False)):
        ankle, rotation = bare.frame(joint)
        heel, toe = ankle + sole_points_m(BODY) @ rotation.T
        assert bool(toe[2] > heel[2]) is toe_up
        assert math.degrees(math.atan2(toe[2] - heel[2], toe[0] - heel[0])) == pytest.approx(
            20.0 if toe_up else -20.0
        )


def test_orthosis_masses_are_lumped_with_the_parallel_axis_theorem(
    bare: Loaded, with_exo: Loaded
) -> None:
    def dynamics(loaded: Loaded, joint: str) -> tuple[float, tuple[float, float, float], float]:
        info = p.getDynamicsInfo(loaded.robot, loaded.joints[joint], physicsClientId=loaded.client)
        return info[0], info[2], info[3][2]

    thigh = BODY.thigh
    mass, inertia, com_z = dynamics(with_exo, "hip_flexion_r")
    assert mass == pytest.approx(thigh.mass_kg + 3.0)
    expected_com = (thigh.mass_kg * thigh.com_from_proximal_m + 3.0 * thigh.length_m / 2) / mass
    assert -com_z == pytest.approx(expected_com)
    expected_iyy = (
        thigh.inertia_kgm2[1] + thigh.mass_kg * (thigh.com_from_proximal_m - expected_com) ** 2
        + 3.0 * thigh.length_m**2 / 12 + 3.0 * (thigh.length_m / 2 - expected_com) ** 2
    )
    assert inertia[1] == pytest.approx(expected_iyy)
    bare_mass, bare_inertia, bare_com_z = dynamics(bare, "hip_flexion_r")
    assert (bare_mass, bare_inertia[1], -bare_com_z) == pytest.approx(
        (thigh.mass_kg, thigh.inertia_kgm2[1], thigh.com_from_proximal_m)
    )
    assert dynamics(with_exo, "knee_angle_l")[0] == pytest.approx(BODY.shank.mass_kg + 2.0)
    assert dynamics(with_exo, "ankle_angle_l")[0] == pytest.approx(BODY.foot.mass_kg)


# --- the world: parameters, poses, support ---------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("belt_speed_mps", -0.1, "[0.0, 3.0] m/s"),
        ("belt_speed_mps", math.nan, "[0.0, 3.0] m/s"),
        ("body_weight_support", 1.2, "[0.0, 1.0]"),
        ("time_step_s", 0.05, "[0.0001, 0.01] s"),
        ("ankle_stiffness_nm_per_rad", -1.0, "[0.0, 1000.0] N·m/rad"),
    ],
)
def test_out_of_range_parameters_are_refused_naming_the_range(
    option: str, value: float, allowed: str
) -> None:
    kwargs: dict[str, float] = {"belt_speed_mps": 0.5, "body_weight_support": 0.3}
    kwargs[option] = value
    with pytest.raises(ConfigurationError, match=f"{option} = {value}.*{allowed}".replace(
        "[", r"\[").replace("]", r"\]")
    ):
        TreadmillWorld(BODY, **kwargs)  # type: ignore[arg-type]


def test_orthosis_mass_out_of_range_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"thigh_kg = -1.0 kg .*\[0, 50.0\] kg"):
        ExoSegments(thigh_kg=-1.0)


def test_joint_arrays_are_the_actuated_joints_then_the_ankles() -> None:
    with TreadmillWorld(BODY, belt_speed_mps=0.0, body_weight_support=0.0) as world:
        assert world.joint_names[:4] == ACTUATED_JOINTS
        assert world.joint_names == (*ACTUATED_JOINTS, "ankle_angle_r", "ankle_angle_l")
        assert world.joint_index("knee_angle_l") == 3
        assert world.joint_index("ankle_angle_r") == 4
        with pytest.raises(ConfigurationError, match="no joint 'elbow'"):
            world.joint_index("elbow")
        q, qd = world.read_joints()
        assert q.shape == qd.shape == (6,)
        with pytest.raises(ValueError, match="expected 6 torques"):
            world.apply_torques(np.zeros(4))


def test_reset_pose_sets_the_angles_and_puts_the_lower_foot_on_the_ground() -> None:
    with TreadmillWorld(BODY, belt_speed_mps=0.6, body_weight_support=0.3) as world:
        assert world.pelvis_height_m == pytest.approx(BODY.leg_length_m)
        q = np.radians([30.0, 60.0, -10.0, 5.0, 0.0, 0.0])
        world.reset_pose(q)
        angles, velocities = world.read_joints()
        assert angles == pytest.approx(q)
        assert velocities == pytest.approx(np.zeros(6))
        (_, right_z), (_, left_z) = world.foot_positions()
        assert right_z > left_z  # the flexed right leg is lifted
        # The left foot is flat only if its pitch (knee - hip - ankle) is 0: here it is 15 deg
        # toes-down, so its toe touches.
        toe_drop = (BODY.foot_length_m - BODY.heel_to_ankle_m) * math.sin(math.radians(15.0))
        foot_height_on_toe = BODY.foot_height_m * math.cos(math.radians(15.0)) + toe_drop
        assert left_z == pytest.approx(foot_height_on_toe)


@pytest.mark.parametrize("belt_speed_mps", [0.0, 0.6])
def test_full_support_hangs_the_body_above_the_floor(belt_speed_mps: float) -> None:
    with TreadmillWorld(
        BODY, belt_speed_mps=belt_speed_mps, body_weight_support=1.0, exo=ExoSegments()
    ) as world:
        start = world.pelvis_height_m
        heights, ankles = [], []
        for _ in range(1500):
            world.step()
            heights.append(world.pelvis_height_m)
            ankles.append(world.foot_positions()[:, 1].min())
        assert min(heights) > start - 0.005
        assert max(heights) < start + 0.05
        assert min(ankles) > 0.9 * BODY.foot_height_m
        assert world.foot_contacts() == (False, False)
        # The foot lifters hold the ankles near their slight dorsiflexion rest angle.
        ankle_angles = world.read_joints()[0][4:]
        assert np.all((ankle_angles > 0.0) & (ankle_angles < ANKLE_REST_ANGLE_RAD))


def test_without_support_the_body_stands_on_both_feet() -> None:
    with TreadmillWorld(BODY, belt_speed_mps=0.0, body_weight_support=0.0) as world:
        for _ in range(1000):
            q, qd = world.read_joints()
            world.apply_torques(np.r_[-1000.0 * q[:4] - 30.0 * qd[:4], 0.0, 0.0])
            world.step()
        assert world.foot_contacts() == (True, True)
        assert world.pelvis_height_m == pytest.approx(BODY.leg_length_m, abs=0.003)
        assert world.foot_positions()[:, 1] == pytest.approx([BODY.foot_height_m] * 2, abs=0.003)


@pytest.mark.parametrize("joint", ACTUATED_JOINTS)
def test_a_positive_torque_drives_its_joint_toward_positive_angles(joint: str) -> None:
    with TreadmillWorld(BODY, belt_speed_mps=0.0, body_weight_support=1.0) as world:
        index = world.joint_index(joint)
        world.reset_pose(np.radians([10.0, 20.0, 10.0, 20.0, 0.0, 0.0]))
        start = world.read_joints()[0]
        torques = np.zeros(6)
        torques[index] = 20.0
        world.apply_torques(torques)
        for _ in range(200):
            world.step()
        assert world.read_joints()[0][index] > start[index] + math.radians(5.0)


def test_harness_travels_at_belt_speed_and_time_counts_steps() -> None:
    with TreadmillWorld(
        BODY, belt_speed_mps=0.8, body_weight_support=0.5, time_step_s=0.002
    ) as world:
        start = world.harness_position_m
        for _ in range(500):
            world.step()
        assert world.time_s == pytest.approx(1.0)
        assert world.harness_position_m - start == pytest.approx(0.8, abs=1e-3)


def test_close_disconnects_and_can_be_repeated() -> None:
    world = TreadmillWorld(BODY, belt_speed_mps=0.0, body_weight_support=0.0)
    client = world.client_id
    world.close()
    world.close()
    assert p.getConnectionInfo(physicsClientId=client)["isConnected"] == 0


# --- walking -----------------------------------------------------------------------------------


def sinusoid(t_s: float) -> tuple[FloatArray, FloatArray]:
    """Hip ±20 deg and knee 0..60 deg at a 1 Hz stride, the left leg half a cycle behind.

    The knee is straightest at 25 % of the cycle (mid-stance) and most flexed at 75 % (mid-swing).
    """
    phase = np.array([t_s, t_s, t_s + 0.5, t_s + 0.5])
    hip = np.radians(20.0) * np.cos(2 * np.pi * phase)
    knee = np.radians(30.0) * (1 - np.cos(2 * np.pi * (phase - 0.25)))
    return np.array([hip[0], knee[1], hip[2], knee[3]]), np.zeros(4)


NORMATIVE = GaitReference(ACTUATED_JOINTS)


def normative(t_s: float) -> tuple[FloatArray, FloatArray]:
    """The bundled normative hip and knee pattern at a 1 Hz stride (phase rate 1 cycle/s)."""
    return NORMATIVE.evaluate(t_s)


@dataclass
class Walk:
    """What a PD-driven walk recorded at every step."""

    contacts: np.ndarray  # (n, 2) bool
    q: np.ndarray  # (n, 6) rad
    feet: np.ndarray  # (n, 2, 2) m, treadmill frame
    harness_m: np.ndarray  # (n,)
    time_s: np.ndarray  # (n,)


def walk(reference: Reference, belt_speed_mps: float, seconds: float) -> Walk:
    """PD-track ``reference`` (kp 1000 N·m/rad, kd 50 N·m·s/rad) at 30 % body-weight support."""
    with TreadmillWorld(BODY, belt_speed_mps=belt_speed_mps, body_weight_support=0.3) as world:
        world.reset_pose(np.r_[reference(0.0)[0], 0.0, 0.0])
        n = round(seconds / world.time_step_s)
        record = Walk(np.zeros((n, 2), bool), np.zeros((n, 6)), np.zeros((n, 2, 2)),
                      np.zeros(n), np.zeros(n))
        torques = np.zeros(6)
        for k in range(n):
            q, qd = world.read_joints()
            q_ref, qd_ref = reference(world.time_s)
            torques[:4] = 1000.0 * (q_ref - q[:4]) + 50.0 * (qd_ref - qd[:4])
            world.apply_torques(torques)
            world.step()
            record.contacts[k] = world.foot_contacts()
            record.q[k] = world.read_joints()[0]
            record.feet[k] = world.foot_positions()
            record.harness_m[k] = world.harness_position_m
            record.time_s[k] = world.time_s
        return record


@pytest.fixture(scope="module")
def sinusoid_walk() -> Walk:
    return walk(sinusoid, belt_speed_mps=0.6, seconds=5.0)


@pytest.fixture(scope="module")
def normative_walk() -> Walk:
    return walk(normative, belt_speed_mps=1.2, seconds=5.0)


SETTLED = slice(2000, None)  # the last three strides, after two to settle


@pytest.mark.parametrize("record", ["sinusoid_walk", "normative_walk"])
def test_walking_feet_alternate_with_a_stance_phase_of_50_to_70_percent(
    record: str, request: pytest.FixtureRequest
) -> None:
    contacts = request.getfixturevalue(record).contacts[SETTLED]
    right, left = contacts[:, 0], contacts[:, 1]
    for foot in (right, left):
        assert foot.any() and not foot.all()
        assert 0.5 <= foot.mean() <= 0.7
    assert (right & ~left).mean() > 0.2  # single support on the right ...
    assert (left & ~right).mean() > 0.2  # ... and on the left
    assert (~right & ~left).mean() < 0.08  # hardly ever airborne


def test_walking_harness_moves_at_belt_speed(sinusoid_walk: Walk) -> None:
    assert sinusoid_walk.harness_m == pytest.approx(0.6 * sinusoid_walk.time_s, abs=1e-3)


def test_normative_walk_has_a_normal_stance_with_the_foot_flat(normative_walk: Walk) -> None:
    contacts = normative_walk.contacts[SETTLED]
    # about 60 % stance as in healthy walking; the foot lifters' dorsiflexion ends it a little early
    assert contacts.mean(axis=0) == pytest.approx([0.58, 0.58], abs=0.04)
    q = normative_walk.q[SETTLED]
    pitch_deg = np.degrees(np.c_[q[:, 1] - q[:, 0] - q[:, 4], q[:, 3] - q[:, 2] - q[:, 5]])
    for side in (0, 1):
        assert abs(np.median(pitch_deg[contacts[:, side], side])) < 3.0


def test_stance_foot_rides_the_belt_backward(normative_walk: Walk) -> None:
    """In the treadmill frame a planted foot moves backward at the belt speed."""
    contacts = normative_walk.contacts[SETTLED]
    x = normative_walk.feet[SETTLED][:, 0, 0]
    planted = contacts[:-1, 0] & contacts[1:, 0]
    velocity = np.diff(x)[planted] / 0.001
    assert np.median(velocity) == pytest.approx(-1.2, abs=0.05)


def test_runs_are_bit_identical_even_interleaved() -> None:
    worlds = [TreadmillWorld(BODY, belt_speed_mps=0.6, body_weight_support=0.3) for _ in range(2)]
    histories: list[list[np.ndarray]] = [[], []]
    try:
        for world in worlds:
            world.reset_pose(np.r_[sinusoid(0.0)[0], 0.0, 0.0])
        for _ in range(1000):
            for world, history in zip(worlds, histories, strict=True):
                q, qd = world.read_joints()
                world.apply_torques(np.r_[1000.0 * (sinusoid(world.time_s)[0] - q[:4])
                                          - 50.0 * qd[:4], 0.0, 0.0])
                world.step()
                history.append(np.r_[world.read_joints()[0], world.read_joints()[1],
                                     world.foot_contacts(), world.pelvis_height_m])
    finally:
        for world in worlds:
            world.close()
    assert np.array_equal(np.array(histories[0]), np.array(histories[1]))
