"""The in-process simulated plant: pybullet behind emulated drives on this process's lockstep
buses (imported by :func:`~rehabbot.session.plant_choice.open_plant` only for a robot on ``virtual``
buses).

The host's robot and the emulated drives both open the robot's buses on the
``rehabbot_lockstep`` interface (:mod:`rehabbot.hal.lockstep`): one process owns both ends, so
frames are handed over without locks, copies or queues, through the same HAL code and the same
frames as on any python-can bus."""

from __future__ import annotations

import uuid

from rehabbot.hal.config import RobotConfig
from rehabbot.hal.lockstep import open_lockstep_bus
from rehabbot.hal.robot import CanRobot
from rehabbot.runtime.clock import Clock, LockstepClock, WallClock
from rehabbot.session.plant import Plant, PlantSettings, instructing
from rehabbot.sim.instructed_patient import instructed
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.sim.simulator import SimulatedExoskeleton, SimulationSettings

#: What a session's parameters say about contact columns from the in-process simulation.
CONTACT_SOURCE = "simulation truth (in-process simulation)"


def simulated_plant(config: RobotConfig, settings: PlantSettings) -> Plant:
    """The simulated exoskeleton on fresh lockstep channels of this process, stepped by the
    loop's clock: lockstep, or the wall clock with ``settings.realtime``.

    Raises:
        ConfigurationError: the simulation cannot be built for ``config``.
    """
    suffix = f"-{uuid.uuid4().hex[:12]}"  # this session's own virtual channels
    simulation = SimulationSettings(
        height_m=settings.height_m, mass_kg=settings.mass_kg,
        belt_speed_mps=settings.belt_speed_mps,
        body_weight_support=settings.body_weight_support,
        cadence_steps_per_min=settings.cadence_steps_per_min,
        profile=PROFILES[settings.profile], seed=settings.seed,
    )
    sim = SimulatedExoskeleton(config, simulation, channel_suffix=suffix,
                               opener=open_lockstep_bus)
    patient = instructed(sim, simulation)
    clock: Clock = (WallClock(config.period_s, step=sim.step) if settings.realtime
                    else LockstepClock(config.period_s, step=sim.step))
    robot = CanRobot(config, channel_suffix=suffix, time_source=clock.now,
                     opener=open_lockstep_bus)
    return Plant("in-process simulation", robot, clock, treadmill=sim,
                 contacts=sim.foot_contacts, contact_source=CONTACT_SOURCE,
                 muscle_torques=sim.muscle_torques, bus_limited=False,
                 ramp_in=False,
                 serving=sim.serving, instruct=instructing(patient.instruct), closers=[sim.close])
