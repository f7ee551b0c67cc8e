"""Which plant a robot configuration gets: an in-process simulation for a robot on ``virtual``
buses (:mod:`rehabbot.session.sim_plant`, imported only then: the core install has no physics),
otherwise the hardware plant (:func:`~rehabbot.session.plant.hardware_plant`).
"""

from __future__ import annotations

from rehabbot.hal.config import RobotConfig
from rehabbot.session.plant import Plant, PlantSettings, hardware_plant


def open_plant(config: RobotConfig, settings: PlantSettings) -> Plant:
    """The plant of ``config``: an in-process simulation for a robot on ``virtual`` buses,
    otherwise the hardware plant.

    Raises:
        CommunicationError: a bus or the emulated robot's side channel cannot be opened.
        ConfigurationError: the simulation cannot be built.
    """
    if config.simulated:
        from rehabbot.session.sim_plant import simulated_plant  # pybullet only when needed

        return simulated_plant(config, settings)
    return hardware_plant(config, settings)
