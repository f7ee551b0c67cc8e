"""A person in the exoskeleton walking on a treadmill, in pybullet (DIRECT mode, one client each).

**The treadmill, exactly.** A belt moving backward at speed ``v`` under a body whose pelvis the
harness holds in place is, by Galilean invariance, the same mechanics as a fixed floor under a
harness that moves forward at ``v``: the two differ by a constant-velocity change of frame, which
changes neither forces nor accelerations. The world does the latter: the ground is a static plane
(sole-belt friction 0.9) and the ``harness_x`` joint is driven at ``+v`` by a stiff velocity motor.
Like a real treadmill's drive, the belt changes speed at a bounded rate: a new speed
(:meth:`TreadmillWorld.set_belt_speed`) is reached step by step, speeding up at
:data:`BELT_ACCELERATION_MPS2` (3 km/h in 2.8 s) and slowing down at
:data:`BELT_DECELERATION_MPS2` (from 3 km/h to a stop in 0.83 s). Positions "in the treadmill
frame" (:meth:`TreadmillWorld.foot_positions`) are world positions relative to the harness
carriage; the carriage's travel (:attr:`TreadmillWorld.harness_position_m`) is the length of belt
that has run under the person.

**Body-weight support.** The ``pelvis_z`` joint carries, each step, an upward force
``(bws · m_body + m_exo) · g`` minus a light viscous term ``c · ż`` (``c`` = 5 N·s/m per kg of the
person and orthosis) that keeps the harness from bouncing. As in a Lokomat the orthosis's own
weight is fully compensated by the parallelogram; ``bws`` is the unloaded share of the person's
weight. With ``bws = 1`` the person hangs weightless in the harness.

**Ankles.** The exoskeleton does not drive the ankles. As the Lokomat's elastic foot lifters do,
a torsional spring-damper pulls each ankle toward a slight dorsiflexion
(:data:`ANKLE_REST_ANGLE_RAD`) so that the toes clear the ground in swing; it is added to whatever
torque the caller applies.

Every revolute joint is torque-driven (pybullet's default velocity motors are switched off); a
torque given to :meth:`TreadmillWorld.apply_torques` holds until the next call, like a drive's
setpoint. One :meth:`TreadmillWorld.step` costs one ``setJointMotorControlArray``, one
``stepSimulation`` and one ``getJointStates`` call. Runs are deterministic: the same calls give
bit-identical results.
"""

from __future__ import annotations

import importlib
import math
import os
import tempfile
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import numpy as np

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.orthosis import ExoSegments
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray
from rehabbot.sim.urdf import FOOT_LINKS, build_urdf, pelvis_height_limits_m, sole_points_m

#: The actuated joints (hips and knees), in the order of every joint array of the world.
ACTUATED_JOINTS = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
#: The passive ankles, after the actuated joints in every joint array.
PASSIVE_JOINTS = ("ankle_angle_r", "ankle_angle_l")
#: Every revolute joint, in array order.
JOINT_NAMES = ACTUATED_JOINTS + PASSIVE_JOINTS



def _import_pybullet() -> ModuleType:
    """Import pybullet without the "pybullet build time" banner its C code writes to stderr."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w", encoding="utf-8") as null:
            os.dup2(null.fileno(), 2)
            return importlib.import_module("pybullet")
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _Pybullet:
    """pybullet, imported on first use: importing this module (for its joint names) loads no
    physics engine; the first world built does."""

    _module: ModuleType | None = None

    def __getattr__(self, name: str) -> Any:
        if _Pybullet._module is None:
            _Pybullet._module = _import_pybullet()
        return getattr(_Pybullet._module, name)


p: Any = _Pybullet()

GRAVITY_MPS2 = 9.81
#: Coulomb friction coefficient between sole and belt.
GROUND_FRICTION = 0.9
#: Normal force (N) above which a foot counts as touching the ground.
CONTACT_FORCE_THRESHOLD_N = 5.0
#: Rest angle of the ankle foot-lifter springs (rad, positive = dorsiflexion).
ANKLE_REST_ANGLE_RAD = math.radians(10.0)
#: Vertical harness damping per kg of suspended mass (N·s/m/kg).
HARNESS_DAMPING_NS_PER_M_PER_KG = 5.0
#: Force limit of the harness carriage's velocity motor (N): large enough to never saturate.
HARNESS_MOTOR_FORCE_N = 1.0e6
#: Constraint-solver iterations per step.
SOLVER_ITERATIONS = 10

BELT_SPEED_RANGE_MPS = (0.0, 3.0)
#: How fast the belt speeds up (m/s²): a treadmill's drive ramps its speed, gently when it starts
#: (3 km/h in 2.8 s, about two strides, as the robot's guidance comes in after a reset).
BELT_ACCELERATION_MPS2 = 0.3
#: How fast the belt slows down (m/s²): a stop is quicker (3 km/h to rest in 0.83 s) yet ramped,
#: so as not to throw a standing person off balance.
BELT_DECELERATION_MPS2 = 1.0
TIME_STEP_RANGE_S = (1.0e-4, 1.0e-2)
ANKLE_STIFFNESS_RANGE_NM_PER_RAD = (0.0, 1000.0)
ANKLE_DAMPING_RANGE_NMS_PER_RAD = (0.0, 50.0)

# Places in the cached state tuples: the harness carriage, the pelvis, then JOINT_NAMES.
_HARNESS = 0
_PELVIS = 1
_JOINTS = 2


def _check_range(label: str, value: float, bounds: tuple[float, float], unit: str) -> None:
    """Raise ConfigurationError unless ``value`` is finite and within ``bounds`` (inclusive)."""
    low, high = bounds
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigurationError(
            f"treadmill world: {label} = {value} {unit} is outside the allowed range "
            f"[{low}, {high}] {unit}"
        )


class TreadmillWorld:
    """The person in the exoskeleton on the treadmill: one pybullet DIRECT client.

    Joint arrays are over :data:`JOINT_NAMES`: the actuated hips and knees
    (:data:`ACTUATED_JOINTS`) first, then the ankles; angles in rad, velocities in rad/s,
    torques in N·m.

    >>> body = BodyModel.from_height_mass(1.75, 75.0)
    >>> with TreadmillWorld(body, belt_speed_mps=0.6, body_weight_support=0.3) as world:
    ...     world.reset_pose(np.zeros(len(world.joint_names)))
    ...     for _ in range(10):
    ...         world.step()
    ...     round(world.time_s, 3), world.foot_contacts()
    (0.01, (True, True))
    """

    joint_names: tuple[str, ...] = JOINT_NAMES

    def __init__(
        self,
        body: BodyModel,
        *,
        belt_speed_mps: float,
        body_weight_support: float,
        time_step_s: float = 0.001,
        exo: ExoSegments | None = None,
        ankle_stiffness_nm_per_rad: float = 30.0,
        ankle_damping_nms_per_rad: float = 0.5,
    ) -> None:
        """Build the world and stand the person upright, feet on the ground.

        Args:
            body: the person's segments.
            belt_speed_mps: treadmill belt speed (m/s), 0–3.
            body_weight_support: unloaded share of the person's weight, 0–1.
            time_step_s: physics time step (s), 0.1–10 ms.
            exo: orthosis masses; ``None`` for none.
            ankle_stiffness_nm_per_rad: foot-lifter spring stiffness (N·m/rad), 0–1000.
            ankle_damping_nms_per_rad: foot-lifter damping (N·m·s/rad), 0–50.

        Raises:
            ConfigurationError: a parameter is outside its range.
        """
        _check_range("belt_speed_mps", belt_speed_mps, BELT_SPEED_RANGE_MPS, "m/s")
        _check_range("body_weight_support", body_weight_support, (0.0, 1.0), "(fraction)")
        _check_range("time_step_s", time_step_s, TIME_STEP_RANGE_S, "s")
        _check_range(
            "ankle_stiffness_nm_per_rad", ankle_stiffness_nm_per_rad,
            ANKLE_STIFFNESS_RANGE_NM_PER_RAD, "N·m/rad",
        )
        _check_range(
            "ankle_damping_nms_per_rad", ankle_damping_nms_per_rad,
            ANKLE_DAMPING_RANGE_NMS_PER_RAD, "N·m·s/rad",
        )
        self.body = body
        self.exo = exo
        #: The belt's speed now (m/s), moving toward :attr:`belt_target_mps` step by step.
        self.belt_speed_mps = belt_speed_mps
        #: The speed the belt was last set to (m/s).
        self.belt_target_mps = belt_speed_mps
        self.body_weight_support = body_weight_support
        self.time_step_s = time_step_s
        self.ankle_stiffness_nm_per_rad = ankle_stiffness_nm_per_rad
        self.ankle_damping_nms_per_rad = ankle_damping_nms_per_rad

        exo_kg = exo.total_mass_kg if exo is not None else 0.0
        self._support_n = (body_weight_support * body.mass_kg + exo_kg) * GRAVITY_MPS2
        self._harness_damping = HARNESS_DAMPING_NS_PER_M_PER_KG * (body.mass_kg + exo_kg)
        self._pelvis_limits = pelvis_height_limits_m(body)
        self._soles = sole_points_m(body)
        self._steps = 0
        self._closed = False

        self._client: int = p.connect(p.DIRECT)
        try:
            self._build(build_urdf(body, exo))
        except BaseException:
            p.disconnect(physicsClientId=self._client)
            raise
        self.reset_pose(np.zeros(len(JOINT_NAMES)))

    def _build(self, urdf: str) -> None:
        """Load the ground and the body, set the solver, the friction and the motors."""
        c = self._client
        p.setGravity(0.0, 0.0, -GRAVITY_MPS2, physicsClientId=c)
        p.setPhysicsEngineParameter(
            fixedTimeStep=self.time_step_s, numSolverIterations=SOLVER_ITERATIONS,
            numSubSteps=0, deterministicOverlappingPairs=1, physicsClientId=c,
        )
        plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=c)
        self._ground: int = p.createMultiBody(0.0, plane, physicsClientId=c)
        p.changeDynamics(self._ground, -1, lateralFriction=GROUND_FRICTION, physicsClientId=c)
        with tempfile.TemporaryDirectory(prefix="rehabbot-") as folder:
            path = Path(folder) / "exo.urdf"
            path.write_text(urdf, encoding="utf-8")
            self._robot: int = p.loadURDF(
                str(path), useFixedBase=True, flags=p.URDF_USE_INERTIA_FROM_FILE,
                physicsClientId=c,
            )
        r = self._robot
        joints: dict[str, int] = {}
        links: dict[str, int] = {}
        for index in range(p.getNumJoints(r, physicsClientId=c)):
            info = p.getJointInfo(r, index, physicsClientId=c)
            joints[info[1].decode()] = index
            links[info[12].decode()] = index
        # Friction is the product of the two surfaces' coefficients: soles 1 x ground 0.9.
        self._feet = [links[name] for name in FOOT_LINKS]
        for foot in self._feet:
            p.changeDynamics(r, foot, lateralFriction=1.0, physicsClientId=c)
        p.changeDynamics(r, -1, linearDamping=0.0, angularDamping=0.0, physicsClientId=c)

        self._harness = joints["harness_x"]
        self._pelvis = joints["pelvis_z"]
        self._revolute = [joints[name] for name in JOINT_NAMES]
        # Motor array: pelvis_z force, then the revolute joints' torques.
        self._driven = [self._pelvis, *self._revolute]
        # State array: harness_x, pelvis_z, then the revolute joints.
        self._sensed = [self._harness, *self._driven]
        p.setJointMotorControlArray(
            r, self._driven, p.VELOCITY_CONTROL, forces=[0.0] * len(self._driven),
            physicsClientId=c,
        )
        p.setJointMotorControl2(
            r, self._harness, p.VELOCITY_CONTROL, targetVelocity=self.belt_speed_mps,
            force=HARNESS_MOTOR_FORCE_N, physicsClientId=c,
        )
        # Each ankle's place in the motor array and in the state array.
        self._ankle_slots = [
            (1 + JOINT_NAMES.index(name), _JOINTS + JOINT_NAMES.index(name))
            for name in PASSIVE_JOINTS
        ]
        self._torques: list[float] = [0.0] * len(JOINT_NAMES)
        self._sense()

    def _sense(self) -> None:
        """Cache the positions and velocities of the state array (one pybullet call).

        Plain tuples of floats: cheaper per step than small numpy arrays.
        """
        states = p.getJointStates(self._robot, self._sensed, physicsClientId=self._client)
        position, velocity, _, _ = zip(*states, strict=True)
        self._position: tuple[float, ...] = position
        self._velocity: tuple[float, ...] = velocity

    @property
    def client_id(self) -> int:
        """The pybullet physics client id of this world."""
        return self._client

    @property
    def body_id(self) -> int:
        """The pybullet body id of the person-and-exoskeleton multibody."""
        return self._robot

    @property
    def time_s(self) -> float:
        """Simulated time (s) since the world was built: steps taken times the time step."""
        return self._steps * self.time_step_s

    @property
    def pelvis_height_m(self) -> float:
        """Height of the hip-centre mid-point above the ground (m)."""
        return self._position[_PELVIS]

    @property
    def harness_position_m(self) -> float:
        """Forward travel of the harness carriage (m): the belt length run under the person."""
        return self._position[_HARNESS]

    def joint_index(self, name: str) -> int:
        """Position of joint ``name`` in the joint arrays (:attr:`joint_names` order).

        Raises:
            ConfigurationError: no joint of that name.
        """
        if name not in self.joint_names:
            raise ConfigurationError(
                f"no joint {name!r} in the simulated body (its joints: {', '.join(JOINT_NAMES)})"
            )
        return self.joint_names.index(name)

    def read_joints(self) -> tuple[FloatArray, FloatArray]:
        """Angles (rad) and velocities (rad/s) of the revolute joints, :attr:`joint_names` order."""
        return np.array(self._position[_JOINTS:]), np.array(self._velocity[_JOINTS:])

    def apply_torques(self, torques_nm: FloatArray) -> None:
        """Set the joint torques (N·m, :attr:`joint_names` order) applied from the next step on.

        The ankle springs' torques are added on top.
        """
        torques = np.asarray(torques_nm, dtype=float)
        if torques.shape != (len(JOINT_NAMES),):
            raise ValueError(
                f"expected {len(JOINT_NAMES)} torques ({', '.join(JOINT_NAMES)}), "
                f"got shape {torques.shape}"
            )
        self._torques = torques.tolist()

    def set_belt_speed(self, speed_mps: float) -> None:
        """Set the belt going toward ``speed_mps`` (m/s, 0–3): from the next step on its speed
        rises at :data:`BELT_ACCELERATION_MPS2` or falls at :data:`BELT_DECELERATION_MPS2` until it
        gets there.

        Raises:
            ConfigurationError: the speed is outside its range.
        """
        _check_range("belt_speed_mps", speed_mps, BELT_SPEED_RANGE_MPS, "m/s")
        self.belt_target_mps = speed_mps

    def _ramp_belt(self) -> None:
        """One step of the belt's ramp toward its target speed (a pybullet call only while the
        speed changes)."""
        speed = min(max(self.belt_target_mps,
                        self.belt_speed_mps - BELT_DECELERATION_MPS2 * self.time_step_s),
                    self.belt_speed_mps + BELT_ACCELERATION_MPS2 * self.time_step_s)
        self.belt_speed_mps = speed
        p.setJointMotorControl2(
            self._robot, self._harness, p.VELOCITY_CONTROL, targetVelocity=speed,
            force=HARNESS_MOTOR_FORCE_N, physicsClientId=self._client,
        )

    def set_body_weight_support(self, fraction: float) -> None:
        """Change the unloaded share of the person's weight (0–1) from the next step on.

        Raises:
            ConfigurationError: the share is outside [0, 1].
        """
        _check_range("body_weight_support", fraction, (0.0, 1.0), "(fraction)")
        exo_kg = self.exo.total_mass_kg if self.exo is not None else 0.0
        self.body_weight_support = fraction
        self._support_n = (fraction * self.body.mass_kg + exo_kg) * GRAVITY_MPS2

    def step(self) -> None:
        """Advance one time step: the belt's ramp, harness force, ankle springs and torques,
        then physics."""
        if self.belt_speed_mps != self.belt_target_mps:
            self._ramp_belt()
        position, velocity = self._position, self._velocity
        forces = [self._support_n - self._harness_damping * velocity[_PELVIS], *self._torques]
        stiffness, damping = self.ankle_stiffness_nm_per_rad, self.ankle_damping_nms_per_rad
        for force, state in self._ankle_slots:
            forces[force] -= (
                stiffness * (position[state] - ANKLE_REST_ANGLE_RAD) + damping * velocity[state]
            )
        c = self._client
        p.setJointMotorControlArray(
            self._robot, self._driven, p.TORQUE_CONTROL, forces=forces, physicsClientId=c
        )
        p.stepSimulation(physicsClientId=c)
        self._steps += 1
        self._sense()

    def foot_contacts(self) -> tuple[bool, bool]:
        """Whether the (right, left) foot pressed on the ground in the last step.

        A foot touches when the normal forces of its contact points sum to more than
        :data:`CONTACT_FORCE_THRESHOLD_N`.
        """
        right, left = (
            sum(point[9] for point in p.getContactPoints(
                self._robot, self._ground, foot, -1, physicsClientId=self._client
            ))
            for foot in self._feet
        )
        return right > CONTACT_FORCE_THRESHOLD_N, left > CONTACT_FORCE_THRESHOLD_N

    def foot_positions(self) -> FloatArray:
        """Ankle joint centres in the treadmill frame, rows (right, left), columns (x, z) in m.

        ``x`` is forward of the harness carriage (the pelvis), ``z`` above the ground.
        """
        states = p.getLinkStates(
            self._robot, self._feet, computeForwardKinematics=True, physicsClientId=self._client
        )
        ankles = np.array([state[4] for state in states])
        ankles[:, 0] -= self._position[_HARNESS]
        result: FloatArray = ankles[:, [0, 2]]
        return result

    def reset_pose(self, q: FloatArray) -> None:
        """Put the joints at angles ``q`` (rad, at rest) and lower the pelvis onto the ground.

        The pelvis goes to the height at which the lowest heel or toe just touches the ground
        (kept within the harness's vertical travel); the harness keeps its position and moves at
        the belt speed.
        """
        angles = np.asarray(q, dtype=float)
        if angles.shape != (len(JOINT_NAMES),):
            raise ValueError(
                f"expected {len(JOINT_NAMES)} joint angles ({', '.join(JOINT_NAMES)}), "
                f"got shape {angles.shape}"
            )
        r, c = self._robot, self._client
        for index, angle in zip(self._revolute, angles.tolist(), strict=True):
            p.resetJointState(r, index, angle, 0.0, physicsClientId=c)
        height = self._pelvis_limits[1]
        p.resetJointState(r, self._pelvis, height, 0.0, physicsClientId=c)
        p.resetJointState(
            r, self._harness, self._position[_HARNESS], self.belt_speed_mps, physicsClientId=c
        )
        lowest = min(self._sole_heights())
        low, high = self._pelvis_limits
        height = min(max(height - lowest, low), high)
        p.resetJointState(r, self._pelvis, height, 0.0, physicsClientId=c)
        self._sense()

    def _sole_heights(self) -> list[float]:
        """Heights above the ground (m) of both feet's heel and toe points, at the current pose."""
        states = p.getLinkStates(
            self._robot, self._feet, computeForwardKinematics=True, physicsClientId=self._client
        )
        heights: list[float] = []
        for state in states:
            rotation = np.array(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)
            heights.extend((state[4][2] + self._soles @ rotation[2]).tolist())
        return heights

    def close(self) -> None:
        """Disconnect the physics client; further calls do nothing."""
        if not self._closed:
            self._closed = True
            p.disconnect(physicsClientId=self._client)

    def __enter__(self) -> TreadmillWorld:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
