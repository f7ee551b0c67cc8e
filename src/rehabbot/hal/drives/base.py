"""What every drive protocol module provides: the frames to send and how to read the replies.

A :class:`Drive` is one joint's motor drive seen from the host. In the control loop it only
translates: commands (motor side of the transmission, SI units) into CAN frames, and reply frames
into :class:`DriveFeedback`. It never touches the bus there, so that the HAL can send every joint's
command first and collect every reply afterwards (never send-then-wait per joint), and so that a
protocol module is testable without a bus.

Two optional hooks serve protocols that need more than that:

* :meth:`Drive.setup` runs once at configure time and may block (e.g. CANopen NMT and SDO
  configuration); the default does nothing.
* :meth:`Drive.sync_frame` names a frame the robot sends once per bus after every joint's commands
  (e.g. the CANopen SYNC); the default is none.
* :meth:`Drive.command_batch` builds one tick's command frames of every drive of the protocol
  together (:class:`CommandBatch`; the default asks each drive's :meth:`Drive.command_frames`),
  so that a protocol may encode them all at once (MIT:
  :class:`~rehabbot.hal.drives.mit.MitCommands`).

A protocol is a plug-in (see :mod:`rehabbot.hal.drives.registry`): one module with one
:class:`Drive` subclass, and optionally an emulator for the simulator named by
:attr:`Drive.emulator`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Self, TypeVar

import can

from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import JointConfig, RobotConfig
from rehabbot.hal.types import FloatArray


class DriveFeedback(NamedTuple):
    """One decoded reply of a drive, motor side of the transmission (immutable; a tuple because
    the loop builds one per reply and a tuple is built twice as fast as a frozen dataclass).

    Attributes:
        node_id: the drive's node id on the bus.
        position_rad: motor output position (rad).
        velocity_rad_s: motor output velocity (rad/s).
        torque_nm: motor output torque (N·m).
        temperature_c: drive temperature (°C); NaN when the protocol does not report it.
        fault_code: the drive's fault code, 0 = no fault (protocol specific otherwise).
    """

    node_id: int
    position_rad: float
    velocity_rad_s: float
    torque_nm: float
    temperature_c: float
    fault_code: int


EntryT = TypeVar("EntryT")


@dataclass(frozen=True, slots=True)
class Resolution:
    """The size of one step of a drive's wire encoding, motor side.

    Attributes:
        position_rad: one position step (rad).
        velocity_rad_s: one velocity step (rad/s).
        torque_nm: one torque step (N·m).
    """

    position_rad: float
    velocity_rad_s: float
    torque_nm: float


def table_entry(table: Mapping[str, EntryT], name: str, what: str) -> EntryT:
    """``table[name]``, for a protocol's parameter table (e.g. its motor models).

    Raises:
        ConfigurationError: no such entry; the message names ``what`` and lists the known names.

    >>> table_entry({"a": 1}, "a", "motor model")
    1
    """
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ConfigurationError(f"unknown {what} {name!r}; known: {known}") from None


class Drive(ABC):
    """One joint drive of a given protocol: frames out, feedback in.

    Subclasses set :attr:`protocol` and :attr:`modes`, implement the frame builders and
    :meth:`decode`, and may override :meth:`from_config`, :meth:`setup` and :meth:`sync_frame`.
    Replies are routed to drives without trying every drive: :meth:`reply_key_of` computes a key
    from a frame and :attr:`reply_key` is the key of this drive's replies.
    """

    #: The protocol's registry name, e.g. ``"mit"``.
    protocol: ClassVar[str]
    #: The control modes the protocol offers (``JointConfig.mode``); the first is the default.
    modes: ClassVar[tuple[str, ...]]
    #: ``"module:Class"`` of the simulator's emulator of this protocol, or None if there is none.
    emulator: ClassVar[str | None] = None
    #: Data lengths (bytes) of the feedback frames one drive sends back every tick (the bus
    #: budget's drive-to-host traffic; the host-to-drive traffic is what :meth:`command_frames`
    #: builds): exactly one per frame :meth:`decode` returns feedback for in one command round,
    #: since the robot counts replies beyond these as a second device on the node id.
    reply_payloads: ClassVar[tuple[int, ...]]
    #: Frames a drive sends on its own schedule, as (data bytes, period s), e.g. heartbeats.
    periodic_payloads: ClassVar[tuple[tuple[int, float], ...]] = ()

    def __init__(self, node_id: int, motor: str) -> None:
        """Store the drive's bus address and motor model; no I/O happens here."""
        self.node_id = node_id
        self.motor = motor

    @classmethod
    def mode_of(cls, joint: JointConfig) -> str:
        """The control mode ``joint`` asks of this protocol (its default if none is given).

        Raises:
            ConfigurationError: the protocol has no such mode; the message lists its modes.
        """
        mode = joint.mode or cls.modes[0]
        if mode not in cls.modes:
            raise ConfigurationError(
                f"joint {joint.name!r}: drive protocol {cls.protocol!r} has no mode {mode!r}; "
                f"its modes: {', '.join(cls.modes)}"
            )
        return mode

    @classmethod
    def from_config(cls, joint: JointConfig, robot: RobotConfig) -> Self:
        """The drive of ``joint`` on ``robot``'s bus (checks the mode; no I/O).

        Raises:
            ConfigurationError: unknown motor model, node id or mode out of range.
        """
        cls.mode_of(joint)
        return cls(node_id=joint.node_id, motor=joint.motor)

    def setup(self, bus: can.BusABC, timeout_s: float) -> None:  # noqa: B027 (optional hook)
        """Configure the drive over ``bus`` before activation; may block (default: nothing).

        Args:
            bus: the robot's bus; the hook may read and write it, and must leave no thread
                reading it when it returns (the robot drains the bus itself from then on).
            timeout_s: how long to wait for any one answer of the drive (s).

        Raises:
            CommunicationError: the drive did not answer or refused the configuration.
            ConfigurationError: the drive does not match the configuration (e.g. its units).
        """

    @classmethod
    def command_batch(cls, drives: Sequence[Drive], joints: Sequence[int]) -> CommandBatch:
        """The frame builder of one tick's commands of ``drives`` (all of this protocol), which
        are the robot's joints ``joints``; a protocol may override it to encode them at once."""
        return CommandBatch(drives, joints)

    @classmethod
    def sync_frame(cls) -> can.Message | None:
        """A frame to send once per bus after every joint's frames of a tick, or None."""
        return None

    @property
    @abstractmethod
    def reply_key(self) -> Hashable:
        """The routing key of this drive's replies (see :meth:`reply_key_of`)."""

    @staticmethod
    @abstractmethod
    def reply_key_of(msg: can.Message) -> Hashable | None:
        """The routing key of ``msg`` if it could be a reply of this protocol, else None."""

    @abstractmethod
    def enable_frames(self) -> list[can.Message]:
        """Frames that put the drive into its torque-producing mode."""

    @abstractmethod
    def disable_frames(self) -> list[can.Message]:
        """Frames that take the drive out of its torque-producing mode."""

    @abstractmethod
    def command_frames(
        self, q_rad: float, qd_rad_s: float, kp: float, kd: float, tau_nm: float
    ) -> list[can.Message]:
        """Frames for one impedance command, motor side (rad, rad/s, N·m/rad, N·m·s/rad, N·m)."""

    @abstractmethod
    def decode(self, msg: can.Message) -> DriveFeedback | None:
        """Decode one reply frame of this drive.

        Returns:
            The drive's feedback, or None when the frame only updated the drive's bookkeeping
            (e.g. a heartbeat) and carries no new measurement.

        Raises:
            CommunicationError: the frame is malformed (wrong length or content).
        """

    @property
    @abstractmethod
    def peak_torque_nm(self) -> float:
        """The largest torque the drive can command (N·m, motor side)."""

    @property
    @abstractmethod
    def resolution(self) -> Resolution:
        """One step of the wire encoding of feedback, motor side."""


class CommandBatch:
    """Builds one tick's command frames of several drives of one protocol, drive by drive through
    :meth:`Drive.command_frames` (a protocol's :meth:`Drive.command_batch` may do better).

    Args:
        drives: the drives.
        joints: each drive's joint index in the robot (its column of the command arrays).
    """

    def __init__(self, drives: Sequence[Drive], joints: Sequence[int]) -> None:
        self.drives = list(drives)
        self.joints = list(joints)

    def fill(self, motor: FloatArray, out: list[list[can.Message]]) -> None:
        """Put each drive's frames into ``out[joint]``.

        Args:
            motor: the motor-side command of every robot joint, rows q (rad), qd (rad/s),
                kp (N·m/rad), kd (N·m·s/rad), tau (N·m), one column per joint.
            out: the frames of each robot joint, overwritten for these drives' joints.
        """
        q, qd, kp, kd, tau = motor.tolist()
        for drive, i in zip(self.drives, self.joints, strict=True):
            out[i] = drive.command_frames(q[i], qd[i], kp[i], kd[i], tau[i])
