"""The robot the control loop drives: a lifecycle, ``read()`` and ``write()``, nothing else.

:class:`Robot` is the interface (ros2_control's hardware component: it only reads and writes; the
runtime owns the loop). :class:`CanRobot` implements it for joints whose drives sit on one or
more CAN buses, whatever their protocols; the simulator is reached through exactly this class, on
``virtual`` buses.

Lifecycle (ros2_control's states)::

    unconfigured --configure()--> inactive --activate()--> active
    active --deactivate()--> inactive --close()--> finalized

Each tick :meth:`CanRobot.write` sends, bus by bus, every joint's command frames, then the bus's
sync frames (one per protocol on that bus that asks for one, e.g. the CANopen SYNC), and the next
:meth:`CanRobot.read` collects every reply that arrived on every bus: never send-then-wait per
joint. Drives whose protocol needs configure-time work (e.g. CANopen SDO) do it in
:meth:`Robot.configure`, which may block.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from enum import Enum

import can
import numpy as np

from rehabbot.errors import CommunicationError, ConfigurationError, RehabbotError
from rehabbot.hal.bus import BusOpener, open_bus
from rehabbot.hal.config import BusConfig, JointConfig, RobotConfig
from rehabbot.hal.drives.base import CommandBatch, Drive
from rehabbot.hal.drives.registry import drive_class
from rehabbot.hal.timing import TickTimer, TimingStats
from rehabbot.hal.types import JointCommand, JointState

#: Commands whose reply latency a :class:`CanRobot` keeps per joint (1 min at 1 kHz).
LATENCY_CAPACITY = 60_000

#: How long a drive's configure-time setup waits for any one answer (s).
SETUP_TIMEOUT_S = 0.5

#: Ticks of replies a joint may still be owed (lost or late ones); more are forgotten, so that
#: a burst of this many ticks' late replies is never taken for a second device.
REPLY_BACKLOG_TICKS = 50


class Lifecycle(Enum):
    """Lifecycle states of a :class:`Robot`."""

    UNCONFIGURED = "unconfigured"
    INACTIVE = "inactive"
    ACTIVE = "active"
    FINALIZED = "finalized"


class LifecycleError(RehabbotError):
    """A lifecycle transition was requested from a state that does not allow it."""


class Robot(ABC):
    """The hardware interface the control loop sees.

    Subclasses implement the ``_on_*`` hooks; the public methods enforce the lifecycle.
    """

    def __init__(self, joint_names: tuple[str, ...]) -> None:
        """Store the joint order; nothing is opened here."""
        self.joint_names = joint_names
        self.lifecycle = Lifecycle.UNCONFIGURED

    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return len(self.joint_names)

    def _transition(
        self, allowed: Lifecycle, target: Lifecycle, action: Callable[[], None]
    ) -> None:
        if self.lifecycle is not allowed:
            raise LifecycleError(
                f"cannot go from {self.lifecycle.value} to {target.value}: "
                f"the robot must be {allowed.value}"
            )
        action()
        self.lifecycle = target

    def configure(self) -> None:
        """Open the buses and set the drives up (unconfigured → inactive); may block.

        Raises:
            CommunicationError: a drive did not answer its configuration; the message names it.
            ConfigurationError: a drive does not match the configuration.
        """
        self._transition(Lifecycle.UNCONFIGURED, Lifecycle.INACTIVE, self._on_configure)

    def activate(self, wait: Callable[[], object], timeout_s: float) -> None:
        """Enable every drive and wait for each one's first reply (inactive → active).

        Args:
            wait: advances time by one control period (the loop's clock: sleeps on hardware, steps
                the simulator in lockstep).
            timeout_s: give up after this many seconds of clock time.

        Raises:
            CommunicationError: a drive did not answer; the message names the joints.
        """
        self._transition(
            Lifecycle.INACTIVE, Lifecycle.ACTIVE, lambda: self._on_activate(wait, timeout_s)
        )

    def deactivate(self) -> None:
        """Command zero torque and disable the drives (active → inactive)."""
        self._transition(Lifecycle.ACTIVE, Lifecycle.INACTIVE, self._on_deactivate)

    def close(self) -> None:
        """Release the buses (inactive or unconfigured → finalized); deactivates first if active."""
        if self.lifecycle is Lifecycle.ACTIVE:
            self.deactivate()
        if self.lifecycle is not Lifecycle.FINALIZED:
            self._on_close()
            self.lifecycle = Lifecycle.FINALIZED

    def __enter__(self) -> Robot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @abstractmethod
    def read(self) -> JointState:
        """Collect the feedback that arrived since the last call (call once per tick)."""

    @abstractmethod
    def write(self, command: JointCommand) -> None:
        """Send one command to every joint (call once per tick)."""

    @abstractmethod
    def _on_configure(self) -> None: ...

    @abstractmethod
    def _on_activate(self, wait: Callable[[], object], timeout_s: float) -> None: ...

    @abstractmethod
    def _on_deactivate(self) -> None: ...

    @abstractmethod
    def _on_close(self) -> None: ...


#: A protocol's routing-key function (:meth:`~rehabbot.hal.drives.base.Drive.reply_key_of`).
ReplyKeyOf = Callable[[can.Message], Hashable | None]


@dataclass(eq=False)
class BusLink:
    """One of a :class:`CanRobot`'s buses as the robot drives it: the open python-can bus, the
    joints on it, and what went wrong on it.

    Every frame received on the bus lands in exactly one of ``decoded_frames``,
    ``unexpected_frames``, ``malformed_frames`` and ``error_frames``; ``send_failures`` counts the
    frames the bus refused. A link has the counters the safety supervisor watches
    (:class:`~rehabbot.safety.supervisor.BusErrorCounters`), so one bus can be watched alone.

    Attributes:
        config: the bus's configuration.
        channel: the channel opened (the configured one with the robot's channel suffix).
        bus: the open bus; replaceable by a wrapper, e.g. a
            :class:`~rehabbot.hal.fault_injection.FaultInjectionBus` around it.
        joints: indices, in the robot's joint order, of the joints on this bus.
        decoders: the routing-key functions of the protocols on this bus.
        routes: routing key of a reply → index of its joint.
        sync_frames: sent once per tick after the joints' frames (e.g. the CANopen SYNC).
    """

    config: BusConfig
    channel: str
    bus: can.BusABC
    joints: tuple[int, ...]
    decoders: tuple[ReplyKeyOf, ...]
    routes: dict[Hashable, int]
    sync_frames: tuple[can.Message, ...]
    decoded_frames: int = 0
    unexpected_frames: int = 0
    malformed_frames: int = 0
    error_frames: int = 0
    send_failures: int = 0

    @property
    def where(self) -> str:
        """``interface:channel`` of the open bus, for messages."""
        return f"{self.config.interface}:{self.channel}"

    def send(self, frames: Iterable[can.Message]) -> None:
        """Send ``frames`` without blocking; a refused frame is counted, never raised."""
        for frame in frames:
            try:
                self.bus.send(frame, timeout=0.0)
            except can.CanError:
                self.send_failures += 1


class CanRobot(Robot):
    """Joints whose drives sit on the robot's CAN buses, each drive speaking its protocol.

    Counters for what went wrong (frames nobody expected, malformed replies, error frames, failed
    sends) are kept per bus (:attr:`links_`) for the safety layer and the summary, and summed over
    the buses by the robot's attributes of the same names; none of them raises in the loop.
    """

    def __init__(
        self,
        config: RobotConfig,
        *,
        channel_suffix: str = "",
        time_source: Callable[[], float] = time.monotonic,
        opener: BusOpener = open_bus,
    ) -> None:
        """Store the configuration; nothing is opened here.

        Args:
            config: the robot configuration.
            channel_suffix: appended to every configured channel (e.g. ``"-3f9a0c"``: the
                simulator and tests give each session its own ``virtual`` channels); empty on
                hardware.
            time_source: the loop clock's time (s), stamped on every state.
            opener: opens each bus at configure time (default: the configured interface; the
                in-process simulation gives :func:`~rehabbot.hal.lockstep.open_lockstep_bus`).
        """
        super().__init__(config.joint_names)
        self.config = config
        self.channel_suffix = channel_suffix
        self.time_source = time_source
        self.opener = opener
        n = len(config.joints)
        self._gear = np.array([j.gear_ratio for j in config.joints])
        self._sign = np.array([float(j.sign) for j in config.joints])
        self._offset = np.array([j.offset_rad for j in config.joints])
        self._sign_gear = self._sign * self._gear
        self._ratio = self._sign / self._gear  # motor side → joint side
        self._gear_sq = self._gear * self._gear
        # one tick's motor-side command (rows q, qd, kp, kd, tau) and each joint's frames
        self._motor_command = np.zeros((5, n))
        self._frames: list[list[can.Message]] = [[] for _ in range(n)]
        self._batches: list[CommandBatch] = []
        self._motor_q = np.zeros(n)
        self._motor_qd = np.zeros(n)
        self._motor_tau = np.zeros(n)
        self._temperature = np.zeros(n)
        self._fault = np.zeros(n, dtype=np.int64)
        self._last_reply_tick = np.full(n, -1, dtype=np.int64)
        self._tick = 0
        # reply accounting (a second device on a node id): each joint's replies per command
        # round, the replies it is owed, and this tick's replies beyond those (see _count_reply)
        # (Python lists: touched per frame, where numpy's scalar access costs more)
        self._round = [0] * n
        self._owed = [0] * n
        self._owed_max = [0] * n
        self._surplus = np.zeros(n, dtype=np.int64)
        self._recent: list[list[bytearray | None]] = [[] for _ in range(n)]
        self._no_frames: list[tuple[None, ...]] = [() for _ in range(n)]
        self._recent_next = [0] * n
        self._recent_tick = [-1] * n
        self.links_: dict[str, BusLink] = {}
        # command-to-reply latency: when each joint's last command left (s, the bus's clock,
        # time.time() as python-can stamps frames; NaN once its first reply came back)
        self._sent_s = np.full(n, np.nan)
        self._latency = [TickTimer(LATENCY_CAPACITY, config.period_s) for _ in range(n)]

    def reply_latency(self) -> dict[str, TimingStats]:
        """Per joint, the time from sending its command to the arrival of its first reply
        (µs statistics over the last :data:`LATENCY_CAPACITY` commands; frames' own
        timestamps, so on SocketCAN the kernel's reception time)."""
        return {name: timer.stats() for name, timer in zip(
            self.joint_names, self._latency, strict=True)}

    @property
    def decoded_frames(self) -> int:
        """Frames decoded as replies of a joint, on every bus."""
        return sum(link.decoded_frames for link in self.links_.values())

    @property
    def unexpected_frames(self) -> int:
        """Frames of no joint of their bus, on every bus."""
        return sum(link.unexpected_frames for link in self.links_.values())

    @property
    def malformed_frames(self) -> int:
        """Frames routed to a joint that its drive could not decode, on every bus."""
        return sum(link.malformed_frames for link in self.links_.values())

    @property
    def error_frames(self) -> int:
        """CAN error frames, on every bus."""
        return sum(link.error_frames for link in self.links_.values())

    @property
    def send_failures(self) -> int:
        """Frames a bus refused to send, on every bus."""
        return sum(link.send_failures for link in self.links_.values())

    @property
    def bus_(self) -> can.BusABC:
        """The open bus of a robot on one bus; settable, e.g. to put a fault-injecting wrapper
        between the robot and its drives (a robot on several buses: ``links_[name].bus``).

        Raises:
            LifecycleError: the robot is not configured.
            ConfigurationError: the robot has several buses.
        """
        return self._only_link().bus

    @bus_.setter
    def bus_(self, bus: can.BusABC) -> None:
        self._only_link().bus = bus

    def _only_link(self) -> BusLink:
        if not self.links_:
            raise LifecycleError(f"the robot is {self.lifecycle.value}: no bus is open")
        if len(self.links_) > 1:
            raise ConfigurationError(
                f"robot {self.config.name!r} is on {len(self.links_)} buses "
                f"({', '.join(self.links_)}): use links_[name].bus"
            )
        (link,) = self.links_.values()
        return link

    def _link(self, bus: BusConfig, on_bus: tuple[JointConfig, ...]) -> BusLink:
        """Open ``bus`` and route the replies of the joints ``on_bus``."""
        joints = tuple(self.joint_names.index(j.name) for j in on_bus)
        classes = sorted({type(self.drives_[i]) for i in joints}, key=lambda c: c.protocol)
        syncs = (cls.sync_frame() for cls in classes)
        channel = bus.channel + self.channel_suffix
        return BusLink(
            config=bus,
            channel=channel,
            bus=self.opener(bus, channel),
            joints=joints,
            decoders=tuple(cls.reply_key_of for cls in classes),
            routes={self.drives_[i].reply_key: i for i in joints},
            sync_frames=tuple({f.arbitration_id: f for f in syncs if f is not None}.values()),
        )

    def _on_configure(self) -> None:
        config = self.config
        self.drives_: list[Drive] = [
            drive_class(j.drive).from_config(j, config) for j in config.joints
        ]
        links: dict[str, BusLink] = {}
        try:
            for bus, on_bus in config.joints_by_bus():
                links[bus.name] = self._link(bus, on_bus)
            for joint, drive in zip(config.joints, self.drives_, strict=True):
                try:
                    drive.setup(links[config.bus_of(joint).name].bus, SETUP_TIMEOUT_S)
                except (CommunicationError, ConfigurationError) as exc:
                    raise type(exc)(f"joint {joint.name}: {exc}") from None
        except BaseException:
            for link in links.values():
                link.bus.shutdown()
            raise
        self.links_ = links
        by_protocol: dict[type[Drive], list[int]] = {}
        for i, drive in enumerate(self.drives_):
            by_protocol.setdefault(type(drive), []).append(i)
        self._batches = [cls.command_batch([self.drives_[i] for i in joints], joints)
                         for cls, joints in by_protocol.items()]
        self._round = [len(drive.reply_payloads) for drive in self.drives_]
        self._owed_max = [r * REPLY_BACKLOG_TICKS for r in self._round]
        self._no_frames = [(None,) * r for r in self._round]
        self._recent = [list(none) for none in self._no_frames]

    def _on_activate(self, wait: Callable[[], object], timeout_s: float) -> None:
        self._last_reply_tick[:] = -1
        self._owed[:] = self._round  # the enable frames' (and syncs') round of replies
        for link in self.links_.values():
            for i in link.joints:
                link.send(self.drives_[i].enable_frames())
            link.send(link.sync_frames)
        elapsed = 0.0
        period = self.config.period_s
        while True:
            wait()
            elapsed += period
            self._collect()
            missing = [
                f"{self.joint_names[i]} ({link.where})"
                for link in self.links_.values() for i in link.joints
                if self._last_reply_tick[i] < 0
            ]
            if not missing:
                return
            if elapsed >= timeout_s:
                raise CommunicationError(
                    f"no reply within {timeout_s:g} s from joint(s) {', '.join(missing)}; "
                    "check power, wiring, bitrate and node ids"
                )

    def _on_deactivate(self) -> None:
        self.write(JointCommand.torque_off(self.n_joints))  # still active until this returns
        for link in self.links_.values():
            for i in link.joints:
                link.send(self.drives_[i].disable_frames())
            link.send(link.sync_frames)

    def _on_close(self) -> None:
        for link in self.links_.values():
            link.bus.shutdown()

    def _collect(self) -> None:
        """Drain every bus's receive queue, in configuration order, and store every reply by
        joint (motor side). Of several replies of one joint in one tick (a delayed reply, or a
        second device on its node id) the last gives the motion, the first non-zero the fault
        code and the hottest the temperature: a later reply never hides a fault."""
        drives, tick = self.drives_, self._tick
        for link in self.links_.values():
            recv, decoders, routes = link.bus.recv, link.decoders, link.routes
            while (msg := recv(0.0)) is not None:
                if msg.is_error_frame:
                    link.error_frames += 1
                    continue
                index = None
                for key_of in decoders:
                    key = key_of(msg)
                    if key is not None and (index := routes.get(key)) is not None:
                        break
                if index is None:
                    link.unexpected_frames += 1
                    continue
                try:
                    fb = drives[index].decode(msg)
                except CommunicationError:
                    link.malformed_frames += 1
                    continue
                link.decoded_frames += 1
                if fb is None:
                    continue
                self._count_reply(index, msg.data, tick)
                self._motor_q[index] = fb.position_rad
                self._motor_qd[index] = fb.velocity_rad_s
                self._motor_tau[index] = fb.torque_nm
                if self._last_reply_tick[index] != tick:
                    self._temperature[index] = fb.temperature_c
                    self._fault[index] = fb.fault_code
                else:  # a second reply this tick never hides what the first one reported
                    self._temperature[index] = max(self._temperature[index], fb.temperature_c)
                    if self._fault[index] == 0:
                        self._fault[index] = fb.fault_code
                self._last_reply_tick[index] = tick
                sent = self._sent_s[index]
                if sent == sent:  # not NaN: the first reply to the last command
                    self._latency[index].record(msg.timestamp - sent)
                    self._sent_s[index] = np.nan

    def _count_reply(self, index: int, data: bytearray, tick: int) -> None:
        """Account one feedback frame of joint ``index`` against the replies it is owed.

        A drive answers each command round with a fixed set of feedback frames
        (:attr:`Drive.reply_payloads`: MIT one per command, CiA 402 its TPDOs per SYNC;
        heartbeats and EMCYs are not feedback); :meth:`write` adds a round to what each joint is
        owed (at most :data:`REPLY_BACKLOG_TICKS` rounds), each reply takes one off, so a late
        reply is paid by the round it answers. A frame equal to one of the joint's last frames
        of the same read (one per reply kind) is the bus repeating it (a CAN double reception,
        or a command delivered twice answered alike) and is not counted; any other reply beyond
        what is owed is a surplus reply: a second device answers on the joint's node id."""
        recent = self._recent[index]
        if self._recent_tick[index] != tick:  # a drive at rest may repeat last tick's frame
            self._recent_tick[index] = tick
            recent[:] = self._no_frames[index]
        elif data in recent:
            return
        slot = self._recent_next[index]
        recent[slot] = data
        self._recent_next[index] = (slot + 1) % len(recent)
        owed = self._owed
        if owed[index] > 0:
            owed[index] -= 1
        else:
            self._surplus[index] += 1

    def read(self) -> JointState:
        """Collect the replies that arrived and return the joint-side state of this tick."""
        self._tick += 1
        self._surplus.fill(0)
        self._collect()
        ratio = self._ratio
        q = self._motor_q * ratio
        q += self._offset
        return JointState(
            t_s=self.time_source(),
            q=q,
            qd=self._motor_qd * ratio,
            tau=self._motor_tau * self._sign_gear,
            temperature_c=self._temperature.copy(),
            fault_code=self._fault.copy(),
            age_ticks=self._tick - self._last_reply_tick,
            surplus_replies=self._surplus.copy(),
        )

    def write(self, command: JointCommand) -> None:
        """Convert ``command`` to the motor side; on each bus send one frame set per joint, then
        the bus's syncs.

        Raises:
            LifecycleError: the robot is not active.
        """
        if self.lifecycle is not Lifecycle.ACTIVE:
            raise LifecycleError(f"cannot write commands: the robot is {self.lifecycle.value}")
        motor, frames = self._motor_command, self._frames
        np.subtract(command.q_ref, self._offset, out=motor[0])
        motor[0] *= self._sign_gear
        np.multiply(self._sign_gear, command.qd_ref, out=motor[1])
        np.divide(command.kp, self._gear_sq, out=motor[2])
        np.divide(command.kd, self._gear_sq, out=motor[3])
        np.multiply(self._sign, command.tau_ff, out=motor[4])
        motor[4] /= self._gear
        for batch in self._batches:
            batch.fill(motor, frames)
        self._sent_s.fill(time.time())
        owed, owed_max = self._owed, self._owed_max
        for i, replies in enumerate(self._round):
            owed[i] = min(owed[i] + replies, owed_max[i])
        for link in self.links_.values():
            for i in link.joints:
                link.send(frames[i])
            if link.sync_frames:
                link.send(link.sync_frames)
