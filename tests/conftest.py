"""Shared fixtures: robot configurations and a bench of emulated drives without physics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from rehabbot.hal.bus import open_bus
from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.hal.robot import CanRobot
from rehabbot.sim.emulated_mit import EmulatedMitBank


@dataclass
class DriveBench:
    """Emulated MIT drives on a virtual bus, bound to joints whose state the test sets by hand."""

    config: RobotConfig
    channel: str
    bank: EmulatedMitBank
    q: np.ndarray
    qd: np.ndarray
    tau: np.ndarray

    def step(self) -> None:
        """What the simulator does each tick, without physics: frames in, laws, replies out."""
        self.bank.receive(self.q)
        self.tau[:] = 0.0
        self.bank.joint_torques(self.q, self.qd, self.tau)
        self.bank.send_replies(self.q, self.qd)

    def robot(self, time_source: object = None) -> CanRobot:
        """A host-side robot on the bench's channel."""
        if time_source is None:
            return CanRobot(self.config, channel=self.channel)
        return CanRobot(self.config, channel=self.channel, time_source=time_source)  # type: ignore[arg-type]


@pytest.fixture
def sim_exo() -> RobotConfig:
    """The bundled simulated exoskeleton configuration."""
    return load_robot_config("sim_exo")


@pytest.fixture
def bench(sim_exo: RobotConfig) -> Iterator[DriveBench]:
    """Emulated drives for every joint of sim_exo on a fresh virtual channel."""
    channel = f"test-{uuid.uuid4().hex}"
    bus = open_bus(sim_exo.bus, channel)
    n = len(sim_exo.joints)
    bank = EmulatedMitBank(bus, list(sim_exo.joints), list(range(n)))
    yield DriveBench(sim_exo, channel, bank, np.zeros(n), np.zeros(n), np.zeros(n))
    bus.shutdown()
