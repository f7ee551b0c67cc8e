"""The runner knows only a plant: importing it loads neither physics nor a drive protocol, and
the plant is chosen by the robot configuration."""

from __future__ import annotations

import subprocess
import sys

from rehabbot.hal.config import load_robot_config
from rehabbot.session.plant import PlantSettings, emulated, hardware_plant
from rehabbot.session.plant_choice import open_plant

SETTINGS = PlantSettings(1.75, 75.0, 0.8, 0.3, 90.0)


def test_importing_the_runner_loads_no_pybullet_and_no_drive_protocol() -> None:
    code = ("import sys, rehabbot.session.runner, rehabbot.session.plant; "
            "print(sorted(m for m in sys.modules if m == 'pybullet' "
            "or m in ('rehabbot.hal.drives.mit', 'rehabbot.hal.drives.cia402', "
            "'rehabbot.sim.simulator', 'rehabbot.sim.emulated_mit')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_robot_on_virtual_buses_runs_in_process_and_a_real_one_on_its_own_buses() -> None:
    simulated = open_plant(load_robot_config("sim_exo"), SETTINGS)
    try:
        assert simulated.kind == "in-process simulation"
        assert not simulated.bus_limited and not simulated.ramp_in
        assert simulated.treadmill is not None and simulated.contacts is not None
    finally:
        simulated.close()
    real = load_robot_config("exo_mit_two_bus")
    assert not emulated(real)
    plant = hardware_plant(real, SETTINGS)  # nothing is opened before configure()
    assert plant.kind == "hardware" and plant.bus_limited and plant.ramp_in
    assert plant.treadmill is None and plant.contacts is None
    assert emulated(load_robot_config("emu_exo"))
