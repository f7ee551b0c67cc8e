"""What every drive protocol module provides: the frames to send and how to read the replies.

A :class:`Drive` is one joint's motor drive seen from the host. It only translates: commands (motor
side of the transmission, SI units) into CAN frames, and reply frames into :class:`DriveFeedback`.
It never touches the bus itself, so that the HAL can send every joint's command first and collect
every reply afterwards (never send-then-wait per joint), and so that a protocol module is testable
without a bus.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass
from typing import ClassVar

import can


@dataclass(frozen=True, slots=True)
class DriveFeedback:
    """One decoded reply of a drive, motor side of the transmission.

    Attributes:
        node_id: the drive's node id on the bus.
        position_rad: motor output position (rad).
        velocity_rad_s: motor output velocity (rad/s).
        torque_nm: motor output torque (N·m).
        temperature_c: drive temperature (°C).
        fault_code: the drive's fault code, 0 = no fault.
    """

    node_id: int
    position_rad: float
    velocity_rad_s: float
    torque_nm: float
    temperature_c: float
    fault_code: int


class Drive(ABC):
    """One joint drive of a given protocol: frames out, feedback in.

    Subclasses set :attr:`protocol` and implement the frame builders and :meth:`decode`. Replies are
    routed to drives without trying every drive: :meth:`reply_key_of` computes a key from a frame
    and :attr:`reply_key` is the key of this drive's replies.
    """

    protocol: ClassVar[str]

    def __init__(self, node_id: int, motor: str) -> None:
        """Store the drive's bus address and motor model; no I/O happens here."""
        self.node_id = node_id
        self.motor = motor

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
    def decode(self, msg: can.Message) -> DriveFeedback:
        """Decode one reply frame of this drive.

        Raises:
            CommunicationError: the frame is malformed (wrong length or content).
        """

    @property
    @abstractmethod
    def peak_torque_nm(self) -> float:
        """The largest torque the drive can command (N·m, motor side)."""
