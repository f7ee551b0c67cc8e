"""The robot the control loop drives: a lifecycle, ``read()`` and ``write()``, nothing else.

:class:`Robot` is the interface (ros2_control's hardware component: it only reads and writes; the
runtime owns the loop). :class:`CanRobot` implements it for joints whose drives sit on one CAN
bus, whatever their protocol; the simulator is reached through exactly this class, on a
``virtual`` bus.

Lifecycle (ros2_control's states)::

    unconfigured --configure()--> inactive --activate()--> active
    active --deactivate()--> inactive --close()--> finalized

Each tick :meth:`CanRobot.write` sends every joint's command frames, then the bus's sync frames
(one per protocol that asks for one, e.g. the CANopen SYNC), and the next :meth:`CanRobot.read`
collects every reply that arrived: never send-then-wait per joint. Drives whose protocol needs
configure-time work (e.g. CANopen SDO) do it in :meth:`Robot.configure`, which may block.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from enum import Enum

import can
import numpy as np

from rehabbot.errors import CommunicationError, ConfigurationError, RehabbotError
from rehabbot.hal.bus import open_bus
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.drives.base import Drive
from rehabbot.hal.drives.registry import drive_class
from rehabbot.hal.types import FloatArray, JointCommand, JointState

#: How long a drive's configure-time setup waits for any one answer (s).
SETUP_TIMEOUT_S = 0.5


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
        """Open the bus and set the drives up (unconfigured → inactive); may block.

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
        """Release the bus (inactive or unconfigured → finalized); deactivates first if active."""
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


class CanRobot(Robot):
    """Joints whose drives share one CAN bus, each drive speaking its configured protocol.

    Counters for what went wrong on the bus (frames nobody expected, malformed replies, error
    frames, failed sends) are kept for the safety layer and the summary; none of them raises in the
    loop. Every received frame lands in exactly one of ``decoded_frames``, ``unexpected_frames``,
    ``malformed_frames`` and ``error_frames``.
    """

    def __init__(
        self,
        config: RobotConfig,
        *,
        channel: str | None = None,
        time_source: Callable[[], float] = time.monotonic,
    ) -> None:
        """Store the configuration; nothing is opened here.

        Args:
            config: the robot configuration.
            channel: overrides the configured bus channel.
            time_source: the loop clock's time (s), stamped on every state.
        """
        super().__init__(config.joint_names)
        self.config = config
        self.channel = channel
        self.time_source = time_source
        n = len(config.joints)
        self._gear = np.array([j.gear_ratio for j in config.joints])
        self._sign = np.array([float(j.sign) for j in config.joints])
        self._offset = np.array([j.offset_rad for j in config.joints])
        self._motor_q = np.zeros(n)
        self._motor_qd = np.zeros(n)
        self._motor_tau = np.zeros(n)
        self._temperature = np.zeros(n)
        self._fault = np.zeros(n, dtype=np.int64)
        self._last_reply_tick = np.full(n, -1, dtype=np.int64)
        self._tick = 0
        self.decoded_frames = 0
        self.unexpected_frames = 0
        self.malformed_frames = 0
        self.error_frames = 0
        self.send_failures = 0

    def _on_configure(self) -> None:
        config = self.config
        self.drives_: list[Drive] = [
            drive_class(j.drive).from_config(j, config) for j in config.joints
        ]
        classes = {type(d) for d in self.drives_}
        self._decoders = {cls.reply_key_of for cls in classes}
        self._routes: dict[Hashable, int] = {d.reply_key: i for i, d in enumerate(self.drives_)}
        syncs = (cls.sync_frame() for cls in sorted(classes, key=lambda c: c.protocol))
        self._sync_frames = list({f.arbitration_id: f for f in syncs if f is not None}.values())
        bus = open_bus(config.bus, self.channel)
        for joint, drive in zip(config.joints, self.drives_, strict=True):
            try:
                drive.setup(bus, SETUP_TIMEOUT_S)
            except (CommunicationError, ConfigurationError) as exc:
                bus.shutdown()
                raise type(exc)(f"joint {joint.name}: {exc}") from None
        self.bus_ = bus

    def _send(self, frames: list[can.Message]) -> None:
        for frame in frames:
            try:
                self.bus_.send(frame, timeout=0.0)
            except can.CanError:
                self.send_failures += 1

    def _on_activate(self, wait: Callable[[], object], timeout_s: float) -> None:
        self._last_reply_tick[:] = -1
        for drive in self.drives_:
            self._send(drive.enable_frames())
        self._send(self._sync_frames)
        elapsed = 0.0
        period = self.config.period_s
        while True:
            wait()
            elapsed += period
            self._collect()
            missing = [
                name for name, t in zip(self.joint_names, self._last_reply_tick, strict=True)
                if t < 0
            ]
            if not missing:
                return
            if elapsed >= timeout_s:
                raise CommunicationError(
                    f"no reply within {timeout_s:g} s from joint(s) {', '.join(missing)} on "
                    f"{self.config.bus.interface}:{self.channel or self.config.bus.channel}; "
                    "check power, wiring, bitrate and node ids"
                )

    def _on_deactivate(self) -> None:
        self.write(JointCommand.torque_off(self.n_joints))  # still active until this returns
        for drive in self.drives_:
            self._send(drive.disable_frames())
        self._send(self._sync_frames)

    def _on_close(self) -> None:
        bus = getattr(self, "bus_", None)
        if bus is not None:
            bus.shutdown()

    def _collect(self) -> None:
        """Drain the receive queue and store every reply by joint (motor side)."""
        recv = self.bus_.recv
        while (msg := recv(0.0)) is not None:
            if msg.is_error_frame:
                self.error_frames += 1
                continue
            index = None
            for key_of in self._decoders:
                key = key_of(msg)
                if key is not None and (index := self._routes.get(key)) is not None:
                    break
            if index is None:
                self.unexpected_frames += 1
                continue
            try:
                fb = self.drives_[index].decode(msg)
            except CommunicationError:
                self.malformed_frames += 1
                continue
            self.decoded_frames += 1
            if fb is None:
                continue
            self._motor_q[index] = fb.position_rad
            self._motor_qd[index] = fb.velocity_rad_s
            self._motor_tau[index] = fb.torque_nm
            self._temperature[index] = fb.temperature_c
            self._fault[index] = fb.fault_code
            self._last_reply_tick[index] = self._tick

    def read(self) -> JointState:
        """Collect the replies that arrived and return the joint-side state of this tick."""
        self._tick += 1
        self._collect()
        ratio = self._sign / self._gear
        return JointState(
            t_s=self.time_source(),
            q=self._motor_q * ratio + self._offset,
            qd=self._motor_qd * ratio,
            tau=self._motor_tau * self._sign * self._gear,
            temperature_c=self._temperature.copy(),
            fault_code=self._fault.copy(),
            age_ticks=self._tick - self._last_reply_tick,
        )

    def write(self, command: JointCommand) -> None:
        """Convert ``command`` to the motor side, send one frame set per joint, then the syncs.

        Raises:
            LifecycleError: the robot is not active.
        """
        if self.lifecycle is not Lifecycle.ACTIVE:
            raise LifecycleError(f"cannot write commands: the robot is {self.lifecycle.value}")
        q_m = self._sign * self._gear * (command.q_ref - self._offset)
        qd_m = self._sign * self._gear * command.qd_ref
        gear_sq = self._gear * self._gear
        kp_m = command.kp / gear_sq
        kd_m = command.kd / gear_sq
        tau_m: FloatArray = self._sign * command.tau_ff / self._gear
        rows = zip(
            self.drives_, q_m.tolist(), qd_m.tolist(), kp_m.tolist(), kd_m.tolist(),
            tau_m.tolist(), strict=True,
        )
        for drive, q, qd, kp, kd, tau in rows:
            self._send(drive.command_frames(q, qd, kp, kd, tau))
        if self._sync_frames:
            self._send(self._sync_frames)
