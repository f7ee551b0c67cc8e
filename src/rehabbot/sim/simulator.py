"""The simulated exoskeleton behind a virtual CAN bus: world + patient + emulated drives.

:class:`SimulatedExoskeleton` opens its own bus on the robot configuration's ``virtual`` channel and
answers the host's frames there, exactly as the real drives would on a real bus. The host side is
the ordinary :class:`~rehabbot.hal.robot.CanRobot`; nothing in the HAL knows it is simulated.

One :meth:`SimulatedExoskeleton.step` (one control period, lockstep):
frames in → in-drive impedance laws + patient torques → physics step → replies out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rehabbot.controllers.reference import GaitReference
from rehabbot.errors import ConfigurationError
from rehabbot.hal.bus import open_bus
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.types import FloatArray
from rehabbot.sim.anthropometry import BodyModel
from rehabbot.sim.body import ExoSegments
from rehabbot.sim.emulated_mit import EmulatedMitBank
from rehabbot.sim.patient import PatientModel, PatientProfile
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
    profile: PatientProfile
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


class SimulatedExoskeleton:
    """A treadmill world with a patient in the exoskeleton, answering on a virtual CAN channel."""

    def __init__(self, config: RobotConfig, settings: SimulationSettings, channel: str) -> None:
        """Build the world and bind emulated drives to the joints ``config`` names.

        Raises:
            ConfigurationError: the bus is not virtual, a joint does not exist in the model, or a
                joint's drive protocol has no emulator.
        """
        if not config.simulated:
            raise ConfigurationError(
                f"robot {config.name!r} is on a {config.bus.interface!r} bus; only robots on a "
                "'virtual' bus can be simulated"
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
            if joint.drive != "mit":
                self.world.close()
                raise ConfigurationError(
                    f"joint {joint.name!r}: no emulator for drive protocol {joint.drive!r}"
                )
            indices.append(names.index(joint.name))
        self.bus = open_bus(config.bus, channel)
        self.drives = EmulatedMitBank(self.bus, list(config.joints), indices, config.bus.host_id)
        self.patient = PatientModel(
            names, settings.profile, settings.mass_kg, settings.cadence_steps_per_min,
            settings.seed,
        )
        self.world.reset_pose(initial_pose(names))
        self._q, self._qd = self.world.read_joints()
        self._contacts = self.world.foot_contacts()

    def step(self) -> None:
        """Advance one control period: frames in, torques, physics, replies out."""
        q, qd = self._q, self._qd
        self.drives.receive(q)
        tau = self.patient.torques(self.world.time_s, q, qd, self._contacts[0])
        self.drives.joint_torques(q, qd, tau)
        self.world.apply_torques(tau)
        self.world.step()
        self._q, self._qd = self.world.read_joints()
        self._contacts = self.world.foot_contacts()
        self.drives.send_replies(self._q, self._qd)

    def foot_contacts(self) -> tuple[bool, bool]:
        """Ground truth: does the (right, left) foot touch the belt (after the last step)."""
        return self._contacts

    def close(self) -> None:
        """Shut the bus and the physics client."""
        self.bus.shutdown()
        self.world.close()
