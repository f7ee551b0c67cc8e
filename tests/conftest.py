"""Shared fixtures: robot configurations and a bench of emulated drives without physics."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.hal.robot import CanRobot
from rehabbot.sim.simulator import DriveEmulator, DriveEmulators


@dataclass
class DriveBench:
    """Emulated drives on a virtual bus, bound to joints whose state the test sets by hand."""

    config: RobotConfig
    channel: str
    emulators: DriveEmulators
    q: np.ndarray
    qd: np.ndarray
    tau: np.ndarray

    @property
    def bank(self) -> DriveEmulator:
        """The emulator of a robot whose joints all speak one protocol."""
        (emulator,) = self.emulators.emulators
        return emulator

    def step(self) -> None:
        """What the simulator does each tick, without physics: frames in, laws, replies out."""
        self.emulators.observe(self.q, self.qd)
        self.emulators.receive()
        self.tau[:] = 0.0
        self.emulators.joint_torques(self.tau)
        self.emulators.publish()

    def robot(self, time_source: Callable[[], float] | None = None) -> CanRobot:
        """A host-side robot on the bench's channel."""
        if time_source is None:
            return CanRobot(self.config, channel=self.channel)
        return CanRobot(self.config, channel=self.channel, time_source=time_source)

    def configure(self, robot: CanRobot) -> None:
        """Configure ``robot`` while the drives answer (as the session runner does)."""
        with self.emulators.serving():
            robot.configure()

    def active_robot(self) -> CanRobot:
        """A configured, active robot on the bench."""
        robot = self.robot()
        self.configure(robot)
        robot.activate(self.step, timeout_s=0.01)
        return robot


def make_bench(config: RobotConfig) -> DriveBench:
    """Emulated drives for every joint of ``config`` on a fresh virtual channel (close them!)."""
    channel = f"test-{uuid.uuid4().hex}"
    n = len(config.joints)
    q, qd = np.zeros(n), np.zeros(n)
    emulators = DriveEmulators(config, list(range(n)), channel, q, qd)
    return DriveBench(config, channel, emulators, q, qd, np.zeros(n))


@pytest.fixture
def sim_exo() -> RobotConfig:
    """The bundled simulated exoskeleton configuration."""
    return load_robot_config("sim_exo")


@pytest.fixture
def bench(sim_exo: RobotConfig) -> Iterator[DriveBench]:
    """Emulated drives for every joint of sim_exo on a fresh virtual channel."""
    drive_bench = make_bench(sim_exo)
    yield drive_bench
    drive_bench.emulators.close()
