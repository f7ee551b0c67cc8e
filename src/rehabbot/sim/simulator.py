"""The simulated exoskeleton behind virtual CAN buses: world + patient + emulated drives.

:class:`SimulatedExoskeleton` opens its own handle on each of the robot configuration's
``virtual`` buses and answers the host's frames there, exactly as the real drives would on real
buses. The host side is the ordinary :class:`~rehabbot.hal.robot.CanRobot`; nothing in the HAL
knows it is simulated.

The drives of every protocol on every bus are emulated (:class:`DriveEmulators`), each on the bus
its joint names; each protocol's emulator is found through its drive class
(:attr:`~rehabbot.hal.drives.base.Drive.emulator`), the same plug-in route as the drives.

One :meth:`SimulatedExoskeleton.step` (one control period, lockstep):
frames in (bus by bus, in configuration order) → drive laws + patient torques → physics step →
replies out. Configure-time requests of the host (CANopen SDO) are answered by
:meth:`SimulatedExoskeleton.serving`, one thread per bus that only answers frames while the host
configures, stopped before lockstep begins.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, cast

import can
import numpy as np

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.normative_gait import GaitReference
from rehabbot.body.orthosis import ExoSegments
from rehabbot.errors import ConfigurationError
from rehabbot.hal.bus import BusOpener, open_bus
from rehabbot.hal.config import BusConfig, JointConfig, RobotConfig
from rehabbot.hal.drives.registry import drive_class, load_plugin
from rehabbot.hal.types import FloatArray
from rehabbot.sim.patient import PatientModel
from rehabbot.sim.patient_profiles import ImpairmentProfile
from rehabbot.sim.world import TreadmillWorld

#: Largest ankle angle (rad) the start pose uses to put a foot flat.
FOOT_FLAT_LIMIT_RAD = math.radians(30.0)


@dataclass(frozen=True)
class SimulationSettings:
    """What a simulated session needs beyond the robot configuration.

    Attributes:
        height_m: patient height (m).
        mass_kg: patient body mass (kg).
        belt_speed_mps: treadmill speed (m/s).
        body_weight_support: unloaded share of body weight, 0..1.
        cadence_steps_per_min: the patient's own cadence (steps/min).
        profile: the patient's abilities.
        seed: seed of every random draw of the simulation.
    """

    height_m: float
    mass_kg: float
    belt_speed_mps: float
    body_weight_support: float
    cadence_steps_per_min: float
    profile: ImpairmentProfile
    seed: int = 0


def initial_pose(joint_names: tuple[str, ...]) -> FloatArray:
    """The pose a session starts from (rad): the gait reference at the right foot strike.

    Hips and knees take their reference angles; each ankle puts its foot flat on the belt
    (ankle angle = knee − hip, within ±30°), so both feet stand on the ground.
    """
    q = GaitReference(joint_names).evaluate(0.0)[0]
    for i, name in enumerate(joint_names):
        kind, side = name.rsplit("_", 1)
        if kind == "ankle_angle":
            knee, hip = joint_names.index(f"knee_angle_{side}"), joint_names.index(
                f"hip_flexion_{side}")
            q[i] = np.clip(q[knee] - q[hip], -FOOT_FLAT_LIMIT_RAD, FOOT_FLAT_LIMIT_RAD)
    return q


#: How long the serving thread blocks on the bus before it looks for a stop request (s).
SERVING_POLL_S = 0.005


class DriveEmulator(Protocol):
    """The emulated drives of one protocol on one bus (a plug-in's emulator implements this).

    Constructed as ``Emulator(bus, joints, sim_indices, robot, seed=seed)``: joint ``i`` of
    ``joints`` (all on ``bus``) drives the simulator's joint ``sim_indices[i]``; ``robot`` gives
    each joint's bus configuration (:meth:`~rehabbot.hal.config.RobotConfig.bus_of`: the host
    id), the control period and the watchdogs; ``seed`` (the simulation's) seeds whatever noise
    the drives' measurements have (their encoders). One simulator step calls :meth:`receive`
    for every frame on the bus, then :meth:`joint_torques`, steps the physics, then
    :meth:`observe` and :meth:`publish`.
    """

    def __init__(
        self,
        bus: can.BusABC,
        joints: Sequence[JointConfig],
        sim_indices: Sequence[int],
        robot: RobotConfig,
        *,
        seed: int = 0,
    ) -> None: ...

    def receive(self, msg: can.Message) -> bool:
        """Act on ``msg`` if it is for these drives (True), else leave it (False)."""

    def observe(self, q: FloatArray, qd: FloatArray) -> None:
        """The simulator's joint angles (rad) and velocities (rad/s) the drives measure now."""

    def joint_torques(self, out: FloatArray) -> None:
        """Run one control period of the drives; add their joint torques (N·m) into ``out``."""

    def publish(self) -> None:
        """Send what the drives send after a period (replies, TPDOs, heartbeats)."""

    def is_enabled(self, index: int) -> bool:
        """Whether drive ``index`` is in its torque-producing state."""

    def silence(self, index: int) -> None:
        """From now on drive ``index`` sends nothing (a test and fault-injection hook)."""

    def inject_fault(self, index: int, code: int) -> None:
        """Make drive ``index`` fault with its protocol's error code ``code`` (a hook as well)."""


def emulator_class(protocol: str) -> type[DriveEmulator]:
    """The emulator of drive protocol ``protocol``, named by its drive class.

    Raises:
        ConfigurationError: the protocol is unknown, has no emulator, or it cannot be loaded.
    """
    path = drive_class(protocol).emulator
    if path is None:
        raise ConfigurationError(f"drive protocol {protocol!r} has no emulator")
    return cast(type[DriveEmulator], load_plugin(path, f"emulator of drive protocol {protocol!r}"))


class EmulatedBus:
    """One virtual bus of a simulated robot and the emulators of the drives on it.

    Frames are dispatched one by one, in bus order, to the first protocol's emulator that takes
    them; frames none takes are counted in :attr:`ignored_frames`.
    """

    def __init__(self, config: BusConfig, bus: can.BusABC) -> None:
        """Serve ``bus`` (opened for ``config``); emulators are added to :attr:`emulators`."""
        self.config = config
        self.bus = bus
        self.emulators: list[DriveEmulator] = []
        self.ignored_frames = 0

    def drain(self, timeout_s: float) -> None:
        """Take the frames on the bus, in order, waiting up to ``timeout_s`` for the first."""
        recv, emulators = self.bus.recv, self.emulators
        msg = recv(timeout_s)
        while msg is not None:
            for emulator in emulators:
                if emulator.receive(msg):
                    break
            else:
                self.ignored_frames += 1
            msg = recv(0.0)


class DriveEmulators:
    """Every emulated drive of a robot, each on its joint's virtual bus, whatever their protocols.

    Every step handles the buses in configuration order, so that lockstep stays deterministic.
    """

    def __init__(
        self,
        config: RobotConfig,
        sim_indices: Sequence[int],
        q: FloatArray,
        qd: FloatArray,
        *,
        channel_suffix: str = "",
        opener: BusOpener = open_bus,
        seed: int = 0,
    ) -> None:
        """Emulate the drives of ``config``; joint ``i`` drives sim joint ``sim_indices[i]``,
        which is at angle ``q`` and velocity ``qd`` now.

        Args:
            config: the robot (every bus ``virtual``, unless ``opener`` serves its buses).
            sim_indices: the simulator's joint index of each robot joint.
            q: the simulator's joint angles now (rad).
            qd: the simulator's joint velocities now (rad/s).
            channel_suffix: appended to every configured channel, as the host's
                :class:`~rehabbot.hal.robot.CanRobot` is given it.
            opener: opens the emulator's side of each bus (default: as the host opens it, the
                ``virtual`` bus of this process).
            seed: seeds the noise of the drives' encoders.

        Raises:
            ConfigurationError: a joint's protocol has no emulator.
        """
        classes = {drive: emulator_class(drive) for drive in {j.drive for j in config.joints}}
        self.buses: list[EmulatedBus] = []
        self.emulators: list[DriveEmulator] = []
        self._where: dict[int, tuple[DriveEmulator, int]] = {}
        try:
            for bus_config, on_bus in config.joints_by_bus():
                channel = bus_config.channel + channel_suffix
                served = EmulatedBus(bus_config, opener(bus_config, channel))
                self.buses.append(served)
                groups: dict[str, list[int]] = {}
                for joint in on_bus:
                    groups.setdefault(joint.drive, []).append(config.joint_names.index(joint.name))
                for protocol, members in groups.items():
                    emulator = classes[protocol](
                        served.bus, [config.joints[i] for i in members],
                        [sim_indices[i] for i in members], config, seed=seed,
                    )
                    served.emulators.append(emulator)
                    self._where |= {joint: (emulator, k) for k, joint in enumerate(members)}
                self.emulators += served.emulators
        except BaseException:
            self.close()
            raise
        self.observe(q, qd)

    @property
    def ignored_frames(self) -> int:
        """Frames no emulator took, on every bus."""
        return sum(served.ignored_frames for served in self.buses)

    def receive(self) -> None:
        """Take every frame on every bus, bus by bus in configuration order."""
        for served in self.buses:
            served.drain(0.0)

    def observe(self, q: FloatArray, qd: FloatArray) -> None:
        """The simulator's joint angles (rad) and velocities (rad/s) the drives measure now."""
        for emulator in self.emulators:
            emulator.observe(q, qd)

    def joint_torques(self, out: FloatArray) -> None:
        """Run one period of every drive; add their joint torques (N·m) into ``out``."""
        for emulator in self.emulators:
            emulator.joint_torques(out)

    def publish(self) -> None:
        """Every drive's transmissions after a period."""
        for emulator in self.emulators:
            emulator.publish()

    def is_enabled(self, joint: int) -> bool:
        """Whether the drive of robot joint ``joint`` (index in the configuration) is in its
        torque-producing state."""
        emulator, index = self._where[joint]
        return emulator.is_enabled(index)

    def silence(self, joint: int) -> None:
        """From now on the drive of robot joint ``joint`` is mute."""
        emulator, index = self._where[joint]
        emulator.silence(index)

    def inject_fault(self, joint: int, code: int) -> None:
        """Make the drive of robot joint ``joint`` fault with its protocol's code ``code``."""
        emulator, index = self._where[joint]
        emulator.inject_fault(index, code)

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Answer frames from background threads, one per bus (no physics, no time), while the
        block runs.

        For the host's configure-time requests that wait for answers (CANopen SDO) while nobody
        steps the simulation. The threads are stopped and joined before the block's exit returns.
        """
        stop = threading.Event()

        def serve(served: EmulatedBus) -> None:
            while not stop.is_set():
                served.drain(SERVING_POLL_S)

        threads = [
            threading.Thread(target=serve, args=(served,), daemon=True,
                             name=f"rehabbot-sim-serving-{served.config.name}")
            for served in self.buses
        ]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def close(self) -> None:
        """Shut every bus."""
        for served in self.buses:
            served.bus.shutdown()


class SimulatedExoskeleton:
    """A treadmill world with a patient in the exoskeleton, answering on virtual CAN buses."""

    def __init__(
        self,
        config: RobotConfig,
        settings: SimulationSettings,
        *,
        channel_suffix: str = "",
        opener: BusOpener | None = None,
    ) -> None:
        """Build the world and bind emulated drives to the joints ``config`` names, each on its
        bus's channel with ``channel_suffix`` appended (give the host's robot the same suffix).

        ``opener`` opens the emulator's side of each bus; without it every bus must be
        ``virtual`` (the host runs in this process). The in-process plant passes the lockstep
        opener (:func:`~rehabbot.hal.lockstep.open_lockstep_bus`, given to the host's robot
        too); the emulated robot of ``rehabbot sim serve`` passes one that serves its buses to
        other processes.

        Raises:
            ConfigurationError: a bus is not virtual (and no ``opener``), a joint does not exist
                in the model, or a joint's drive protocol has no emulator.
        """
        if opener is None and not config.simulated:
            interfaces = ", ".join(sorted({b.interface for b in config.buses}))
            raise ConfigurationError(
                f"robot {config.name!r} is on {interfaces} buses; only robots on 'virtual' buses "
                "can be simulated"
            )
        body = BodyModel.from_height_mass(settings.height_m, settings.mass_kg)
        self.world = TreadmillWorld(
            body,
            belt_speed_mps=settings.belt_speed_mps,
            body_weight_support=settings.body_weight_support,
            time_step_s=config.period_s,
            exo=ExoSegments(),
        )
        names = self.world.joint_names
        indices = []
        for joint in config.joints:
            if joint.name not in names:
                self.world.close()
                raise ConfigurationError(
                    f"joint {joint.name!r} of robot {config.name!r} is not in the simulated body "
                    f"(its joints: {', '.join(names)})"
                )
            indices.append(names.index(joint.name))
        self.world.reset_pose(initial_pose(names))
        self._q, self._qd = self.world.read_joints()
        self._contacts = self.world.foot_contacts()
        try:
            self.drives = DriveEmulators(
                config, indices, self._q, self._qd, channel_suffix=channel_suffix,
                opener=opener or open_bus, seed=settings.seed)
        except ConfigurationError:
            self.world.close()
            raise
        self.patient = PatientModel(
            names, settings.profile, settings.mass_kg, settings.cadence_steps_per_min,
            settings.seed,
        )
        self._robot_joints = np.array(indices)
        self._muscle_torques: FloatArray = np.zeros(len(indices))

    def serving(self) -> contextlib.AbstractContextManager[None]:
        """A block during which the drives answer the host without simulated time passing (for
        :meth:`~rehabbot.hal.robot.Robot.configure`; see :meth:`DriveEmulators.serving`)."""
        return self.drives.serving()

    def step(self) -> None:
        """Advance one control period: frames in, torques, physics, replies out."""
        q, qd = self._q, self._qd
        self.drives.receive()
        tau = self.patient.torques(self.world.time_s, q, qd, self._contacts[0])
        joints = self._robot_joints
        np.subtract(tau[joints], self.patient.passive_torques(q, qd)[joints],
                    out=self._muscle_torques)
        self.drives.joint_torques(tau)
        self.world.apply_torques(tau)
        self.world.step()
        self._q, self._qd = self.world.read_joints()
        self._contacts = self.world.foot_contacts()
        self.drives.observe(self._q, self._qd)
        self.drives.publish()

    def set_belt_speed(self, speed_mps: float) -> None:
        """Change the treadmill speed (m/s) from the next step on (see
        :meth:`~rehabbot.sim.world.TreadmillWorld.set_belt_speed`)."""
        self.world.set_belt_speed(speed_mps)

    def set_body_weight_support(self, fraction: float) -> None:
        """Change the body-weight support (unloaded share, 0..1) from the next step on."""
        self.world.set_body_weight_support(fraction)

    def muscle_torques(self) -> FloatArray:
        """Simulation truth: the patient model's muscle torques (N·m) at the robot's joints, in
        the robot configuration's order, during the last step.

        The patient's own torque without the passive tissue torques (the active torque toward
        the patient's intended gait, the stretch reflexes, a drop foot's deficit): what a
        patient's muscles did, which a real robot cannot measure. The array is overwritten by
        every step; copy it to keep it.
        """
        return self._muscle_torques

    def foot_contacts(self) -> tuple[bool, bool]:
        """Ground truth: does the (right, left) foot touch the belt (after the last step)."""
        return self._contacts

    def close(self) -> None:
        """Shut the buses and the physics client."""
        self.drives.close()
        self.world.close()
