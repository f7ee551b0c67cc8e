"""Shared fixtures: robot configurations and a bench of emulated drives without physics."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import can
import numpy as np
import pytest

from rehabbot.hal.bus import BusOpener, open_bus
from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.hal.robot import CanRobot
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.simulator import DriveEmulator, DriveEmulators


@dataclass
class DriveBench:
    """Emulated drives on virtual buses, bound to joints whose state the test sets by hand."""

    config: RobotConfig
    channel_suffix: str
    emulators: DriveEmulators
    q: np.ndarray
    qd: np.ndarray
    tau: np.ndarray
    opener: BusOpener = open_bus

    @property
    def bank(self) -> DriveEmulator:
        """The emulator of the first bus, whose joints all speak one protocol (on the bundled
        robots the right leg's: joints 0 and 1)."""
        (emulator,) = self.emulators.buses[0].emulators
        return emulator

    def drives(self) -> list[Any]:
        """Every joint's emulated drive, in the configuration's joint order, whatever its bus and
        protocol (the bench's sim joint ``i`` is robot joint ``i``)."""
        by_joint = {int(i): drive for emulator in self.emulators.emulators
                    for i, drive in zip(emulator.sim_indices,
                                        emulator.drives, strict=True)}
        return [by_joint[i] for i in range(len(self.config.joints))]

    def step(self) -> None:
        """What the simulator does each tick, without physics: frames in, laws, replies out."""
        self.emulators.observe(self.q, self.qd)
        self.emulators.receive()
        self.tau[:] = 0.0
        self.emulators.joint_torques(self.tau)
        self.emulators.publish()

    def robot(self, time_source: Callable[[], float] | None = None) -> CanRobot:
        """A host-side robot on the bench's buses."""
        if time_source is None:
            return CanRobot(self.config, channel_suffix=self.channel_suffix, opener=self.opener)
        return CanRobot(self.config, channel_suffix=self.channel_suffix, time_source=time_source,
                        opener=self.opener)

    def open(self, bus_name: str | None = None) -> can.BusABC:
        """Another handle on the bench's bus ``bus_name`` (default: the first bus, on the bundled
        robots the right leg's), to watch its frames or send some of a test's own (shut it
        down!)."""
        if bus_name is None:
            bus = self.config.buses[0]
        else:
            (bus,) = (b for b in self.config.buses if b.name == bus_name)
        return self.opener(bus, bus.channel + self.channel_suffix)

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


def make_bench(config: RobotConfig, opener: BusOpener = open_bus) -> DriveBench:
    """Emulated drives for every joint of ``config`` on fresh channels (close them!): virtual
    ones, or those ``opener`` opens (e.g. the lockstep interface's)."""
    suffix = f"-test-{uuid.uuid4().hex}"
    n = len(config.joints)
    q, qd = np.zeros(n), np.zeros(n)
    emulators = DriveEmulators(config, list(range(n)), q, qd, channel_suffix=suffix,
                               opener=opener)
    return DriveBench(config, suffix, emulators, q, qd, np.zeros(n), opener)


def one_bus(config: RobotConfig) -> RobotConfig:
    """``config`` (a robot on several buses) with every joint on its first bus, node ids counted
    from 1 in joint order: the layout a real bus cannot carry at 1 kHz (docs/can-budget.md), which
    the simulator's ``virtual`` bus carries all the same."""
    data = config.model_dump()
    data["buses"] = data["buses"][:1]
    for node_id, joint in enumerate(data["joints"], start=1):
        joint |= {"bus": None, "node_id": node_id}
    return RobotConfig.model_validate(data | {"name": f"{config.name}-one-bus"})


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


def write_distribution(site: Path, name: str, group: str, entry: str) -> None:
    """Write the metadata of distribution ``name`` into ``site``: a ``*.dist-info`` whose
    ``entry_points.txt`` registers ``entry`` (``name = module:Class``) in ``group``, as an
    installed plug-in's (its modules, if any, are the caller's to write)."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    dist = name.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n")


def install_plugin(
    site: Path, monkeypatch: pytest.MonkeyPatch, source: Path, group: str, entry: str,
) -> Iterator[Path]:
    """Install ``source`` (one module) as a distribution in ``site`` and put it on ``sys.path``.

    Its ``entry_points.txt`` registers ``entry`` (``name = module:Class``) in ``group``, as a
    third-party plug-in distribution would. Yields ``site``; forgets the module afterwards.
    """
    module = source.stem
    write_distribution(site, module, group, entry)
    shutil.copy(source, site / f"{module}.py")
    sys.modules.pop(module, None)  # doctest collection may have imported the source file
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop(module, None)


def simulate(store: Path, duration_s: float, **request: Any) -> int:
    """Record a simulated session of the default robot and protocol in ``store``; its id.

    ``request`` sets further :class:`SessionRequest` fields (``seed``, ``guidance_pct``,
    ``profile`` ...).
    """
    return SessionRunner(SessionRequest(
        robot=load_robot_config(), protocol=load_protocol(), store_path=store,
        duration_s=duration_s, **request,
    )).run().session_id
