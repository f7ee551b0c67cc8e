"""The in-process simulated plant carries its frames on the lockstep transport, both ends."""

from __future__ import annotations

from rehabbot.hal.config import load_robot_config
from rehabbot.hal.lockstep import LockstepBus
from rehabbot.hal.types import JointCommand
from rehabbot.session.plant import PlantSettings
from rehabbot.session.sim_plant import simulated_plant
from rehabbot.sim.simulator import SimulatedExoskeleton


def test_the_host_and_the_emulated_drives_talk_over_lockstep_buses() -> None:
    plant = simulated_plant(load_robot_config(), PlantSettings(1.75, 75.0, 1.0, 0.3, 90.0))
    try:
        with plant.serving():
            plant.robot.configure()
        plant.robot.activate(plant.clock.wait_next_tick, timeout_s=0.05)
        plant.robot.read()
        plant.robot.write(JointCommand.torque_off(4))
        plant.clock.wait_next_tick()  # the simulator's step: frames in, physics, replies out
        state = plant.robot.read()
        sim = plant.treadmill
        assert isinstance(sim, SimulatedExoskeleton)
        assert [type(link.bus) for link in plant.robot.links_.values()] == [LockstepBus] * 2
        assert [type(served.bus) for served in sim.drives.buses] == [LockstepBus] * 2
        # the drives answered the tick's commands over them, and took every frame
        assert state.age_ticks.tolist() == [0, 0, 0, 0]
        assert sim.drives.ignored_frames == 0
    finally:
        plant.close()
