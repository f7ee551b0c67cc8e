"""The plant a session runs on: a robot behind its CAN buses, a clock, and what else it has.

The runner knows only :class:`Plant`;
:func:`~rehabbot.session.plant_choice.open_plant` chooses by the robot configuration:

* **hardware** (:func:`hardware_plant`): the configuration's buses and drives, paced to the wall
  clock. A robot whose buses are all ``rehabbot_local`` channels is the emulated robot of
  ``rehabbot sim serve``: the plant also opens its side channel
  (:class:`~rehabbot.sim.side_channel.SimulationTruth`), which gives it a treadmill, the
  simulation's foot contacts (stored marked as simulation truth), the simulated patient's muscle
  torques (stored as simulation truth, :mod:`rehabbot.storage.truth`) and the simulated person's
  ears (what a robot assessment asks them to do). A real robot has none of these: the
  treadmill speed and body-weight support are set by hand and confirmed by the operator
  (:mod:`rehabbot.session.bringup`), and the contact columns stay empty.
* **in-process simulation** (:mod:`rehabbot.session.sim_plant`, imported by
  :mod:`~rehabbot.session.plant_choice` only for a robot on ``virtual`` buses, so that neither
  this module nor the runner imports physics): pybullet behind
  emulated drives on this process's ``virtual`` buses, lockstep or wall clock.

This module imports no drive protocol either: drives come from the registry when the robot is
configured.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from rehabbot.controllers.procedures import Instruct, Instruction
from rehabbot.errors import CommunicationError
from rehabbot.hal.bus import open_bus
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.robot import CanRobot
from rehabbot.hal.transport import INTERFACE
from rehabbot.hal.types import FloatArray
from rehabbot.protocols.phased import Treadmill
from rehabbot.runtime.clock import Clock, WallClock
from rehabbot.sim.patient import PatientTask
from rehabbot.sim.side_channel import CONTACT_SOURCE, SimulationTruth, side_channel

#: Foot contacts (right, left) per tick.
ContactSource = Callable[[], tuple[bool, bool]]
#: The simulated patient's muscle torques (N·m, the robot's joints in order) per tick.
TorqueSource = Callable[[], FloatArray]


@dataclass(frozen=True)
class PlantSettings:
    """What a plant may need beyond the robot configuration (a simulated one: the person).

    Attributes:
        height_m: patient height (m).
        mass_kg: patient body mass (kg).
        belt_speed_mps: treadmill speed at the start (m/s).
        body_weight_support: unloaded share of body weight at the start, 0..1.
        cadence_steps_per_min: the simulated patient's own cadence (steps/min).
        profile: the simulated patient's profile (a key of
            ``rehabbot.sim.patient_profiles.PROFILES``).
        seed: seed of the simulation's random draws.
        realtime: pace an in-process simulation to the wall clock instead of lockstep.
    """

    height_m: float
    mass_kg: float
    belt_speed_mps: float
    body_weight_support: float
    cadence_steps_per_min: float
    profile: str = "healthy"
    seed: int = 0
    realtime: bool = False


def _nothing_to_serve() -> AbstractContextManager[None]:
    return contextlib.nullcontext()


@dataclass
class Plant:
    """A robot ready to be configured, the loop's clock, and the robot's extras.

    Attributes:
        kind: ``hardware``, ``emulated robot`` or ``in-process simulation``.
        robot: the robot (unconfigured).
        clock: the loop's clock.
        treadmill: applies the protocol's treadmill speed and body-weight support (None: the
            robot has no such interface; they are set by hand).
        contacts: ground-truth foot contacts per tick (None: the robot cannot tell).
        contact_source: what :attr:`contacts` are, for the session's record.
        muscle_torques: simulation truth per tick, the simulated patient's muscle torques at the
            robot's joints (None: a real patient, whose muscles nobody measures).
        bus_limited: the buses have a bitrate to respect (not python-can's in-process
            ``virtual`` bus).
        ramp_in: the session ramps the torque in from nothing (a robot with a person standing
            in it as they happen to stand; not the in-process simulation, whose person starts in
            the gait reference's pose, walking).
        serving: a block during which the plant answers the host's configure-time requests
            without its time passing (an in-process simulation; a no-op elsewhere).
        instruct: tells the simulated person what a robot assessment asks of them (None: a real
            person, whom the therapist tells).
        closers: called after the robot is closed, in order.
    """

    kind: str
    robot: CanRobot
    clock: Clock
    treadmill: Treadmill | None = None
    contacts: ContactSource | None = None
    contact_source: str | None = None
    muscle_torques: TorqueSource | None = None
    bus_limited: bool = True
    ramp_in: bool = True
    serving: Callable[[], AbstractContextManager[None]] = _nothing_to_serve
    instruct: Instruct | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Close the robot (deactivating it first if active: zero torque, drives disabled), then
        whatever else the plant opened."""
        try:
            self.robot.close()
        finally:
            for closer in self.closers:
                closer()


def instructing(tell: Callable[[PatientTask | None], None]) -> Instruct:
    """An :data:`~rehabbot.controllers.procedures.Instruct` that hands each instruction to a
    simulated person's ``tell`` as a :class:`~rehabbot.sim.patient.PatientTask`."""

    def instruct(instruction: Instruction | None) -> None:
        tell(None if instruction is None else PatientTask(instruction.joint,
                                                          instruction.direction))

    return instruct


#: Opens the plant of a robot configuration.
PlantFactory = Callable[[RobotConfig, PlantSettings], Plant]


def emulated(config: RobotConfig) -> bool:
    """Whether ``config`` is the emulated robot of ``rehabbot sim serve`` (every bus a
    ``rehabbot_local`` channel)."""
    return all(bus.interface == INTERFACE for bus in config.buses)


def hardware_plant(config: RobotConfig, settings: PlantSettings) -> Plant:
    """The robot's own buses and drives, paced to the wall clock; for the emulated robot (every
    bus a ``rehabbot_local`` channel), its side channel too when it is served."""
    clock = WallClock(config.period_s)
    robot = CanRobot(config, time_source=clock.now)
    if not emulated(config):
        return Plant("hardware", robot, clock)
    try:
        truth = SimulationTruth(open_bus(config.buses[0], side_channel(config.name)),
                                config.joint_names)
    except CommunicationError:  # served without one (e.g. by another emulator): plain robot
        return Plant("hardware", robot, clock)
    return Plant("emulated robot", robot, clock, treadmill=truth, contacts=truth,
                 contact_source=CONTACT_SOURCE, muscle_torques=truth.muscle_torques,
                 instruct=instructing(truth.instruct), closers=[truth.close])
