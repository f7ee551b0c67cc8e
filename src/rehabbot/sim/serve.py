"""The emulated robot: the simulated exoskeleton in a process of its own, behind local CAN buses.

``rehabbot sim serve ROBOT`` runs :class:`EmulatedRobot`: pybullet, the patient and the emulated
drives of the robot configuration, paced to the wall clock, each bus served as a
``rehabbot_local`` channel (:class:`~rehabbot.hal.transport.LocalHub`) that a host in another
process opens as it would open ``can0``. The host runs the ordinary hardware path; nothing in it
knows the robot is emulated, except that the side channel
(:mod:`~rehabbot.sim.side_channel`) gives it the simulation's foot contacts, the simulated
patient's muscle torques and a treadmill, and
takes what a robot assessment asks the simulated person to do.

Time: one simulation step per control period on the wall-clock grid (sleeping between steps,
never replaying missed ones after a stall: :attr:`ServeStats.skipped_steps`). Between steps the
server waits on its buses and answers each frame as it arrives, as a drive's firmware does, with
the state of the last step; the commands act on the next step.

While no drive is enabled the physics holds still (the person stands in the locked exoskeleton,
harnessed) and the drives answer with that pose: what a host finds at bring-up does not depend on
how long the server has been waiting for it. Once a drive is enabled, time runs.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from dataclasses import dataclass

import can

from rehabbot.errors import CommunicationError
from rehabbot.hal.config import BusConfig, RobotConfig
from rehabbot.hal.transport import LocalHub
from rehabbot.sim.instructed_patient import instructed
from rehabbot.sim.side_channel import (
    BELT_ID,
    SUPPORT_ID,
    TASK_ID,
    contacts_frame,
    muscle_torque_frames,
    read_task,
    read_value,
    side_channel,
)
from rehabbot.sim.simulator import EmulatedBus, SimulatedExoskeleton, SimulationSettings


@dataclass
class ServeStats:
    """What a run of the server did.

    Attributes:
        steps: simulation steps with physics.
        held_steps: control periods with the physics held (no drive enabled).
        skipped_steps: periods skipped after stalls (the grid moved on without them).
        max_lateness_s: the latest a step started after its deadline (s).
        dropped_frames: frames a client could not take (its buffer was full).
        longest_silence_s: the longest time (s) without a frame from the host while a drive was
            enabled (what the drives' watchdogs see).
    """

    steps: int = 0
    held_steps: int = 0
    skipped_steps: int = 0
    max_lateness_s: float = 0.0
    dropped_frames: int = 0
    longest_silence_s: float = 0.0


def _hub(bus: BusConfig, channel: str) -> can.BusABC:
    """The emulator's side of a bus: the local channel, served by this process."""
    return LocalHub(channel)


class EmulatedRobot:
    """The simulated exoskeleton of a robot configuration, served on local CAN channels."""

    def __init__(self, config: RobotConfig, settings: SimulationSettings) -> None:
        """Build the world and serve the robot's buses and its side channel.

        Raises:
            ConfigurationError: a joint is not in the simulated body or has no emulator.
            CommunicationError: another process serves one of the channels.
        """
        self.config = config
        try:
            self.sim = SimulatedExoskeleton(config, settings, opener=_hub)
        except can.CanInitializationError as exc:
            raise CommunicationError(str(exc)) from None
        self.patient = instructed(self.sim, settings)
        try:
            self.side = LocalHub(side_channel(config.name))
        except can.CanInitializationError as exc:
            self.sim.close()
            raise CommunicationError(str(exc)) from None
        self.stats = ServeStats()
        self._joints = range(len(config.joints))
        self._hubs = [served.bus for served in self.sim.drives.buses
                      if isinstance(served.bus, LocalHub)]
        self._received = 0
        self._last_frame_s = time.perf_counter()

    @property
    def channels(self) -> list[str]:
        """The socket files served: the buses', then the side channel's."""
        hubs = [served.bus for served in self.sim.drives.buses] + [self.side]
        return [str(hub.path) for hub in hubs if isinstance(hub, LocalHub)]

    def _enabled(self) -> bool:
        drives = self.sim.drives
        return any(drives.is_enabled(j) for j in self._joints)

    def step(self) -> None:
        """One control period: the host's set-points, then a simulation step (or, with every
        drive disabled, the drives answer without time passing), then the contacts report."""
        while (msg := self.side.recv(0.0)) is not None:
            if msg.arbitration_id == BELT_ID:
                self.sim.set_belt_speed(read_value(msg))
            elif msg.arbitration_id == SUPPORT_ID:
                self.sim.set_body_weight_support(read_value(msg))
            elif msg.arbitration_id == TASK_ID:
                self.patient.instruct(read_task(msg, self.config.joint_names))
        received = sum(hub.received_frames for hub in self._hubs)
        now = time.perf_counter()
        if received != self._received:
            self._received, self._last_frame_s = received, now
        if self._enabled():
            self.stats.longest_silence_s = max(self.stats.longest_silence_s,
                                               now - self._last_frame_s)
            self.sim.step()
            self.stats.steps += 1
            for frame in muscle_torque_frames(self.stats.steps, self.sim.muscle_torques()):
                self.side.send(frame)
        else:
            self.sim.drives.receive()
            self.sim.drives.publish()
            self.stats.held_steps += 1
        right, left = self.sim.foot_contacts()
        self.side.send(contacts_frame(self.stats.steps, right, left))

    def answer_until(self, deadline: float) -> None:
        """Answer frames as they arrive until ``deadline`` (``time.perf_counter()`` s)."""
        buses = self.sim.drives.buses
        by_fd = {served.bus.fileno(): served for served in buses}
        while (remaining := deadline - time.perf_counter()) > 0.0:
            ready, _, _ = select.select(list(by_fd), [], [], remaining)
            for fd in ready:
                served: EmulatedBus = by_fd[fd]
                served.drain(0.0)
                for emulator in served.emulators:
                    emulator.publish()

    def serve(self, keep_going: Callable[[], bool]) -> ServeStats:
        """Run paced to the wall clock while ``keep_going()`` is true; return the statistics."""
        period = self.config.period_s
        start = time.perf_counter()
        tick = 0
        while keep_going():
            self.step()
            tick += 1
            deadline = start + tick * period
            late = time.perf_counter() - deadline
            if late > period:  # a stall: move on along the grid, never replay
                skipped = int(late // period)
                tick += skipped
                self.stats.skipped_steps += skipped
                deadline = start + tick * period
            self.stats.max_lateness_s = max(self.stats.max_lateness_s, late)
            self.answer_until(deadline)
        return self.stats

    def close(self) -> None:
        """Stop serving: the clients see their buses go quiet; the socket files are removed."""
        hubs = [served.bus for served in self.sim.drives.buses] + [self.side]
        self.stats.dropped_frames = sum(
            hub.dropped_frames for hub in hubs if isinstance(hub, LocalHub))
        self.side.shutdown()
        self.sim.close()
