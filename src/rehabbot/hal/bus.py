"""Opening a CAN bus a robot configuration names, and the frame type rehabbot sends on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import can

from rehabbot.errors import CommunicationError
from rehabbot.hal.config import BusConfig

#: Opens one bus of a robot: (bus configuration, channel) → bus. :func:`open_bus` opens the
#: configured interface; the in-process simulation opens its buses on the lockstep interface
#: (:func:`rehabbot.hal.lockstep.open_lockstep_bus`).
BusOpener = Callable[[BusConfig, str], can.BusABC]


def open_bus(config: BusConfig, channel: str | None = None) -> can.BusABC:
    """Open the bus of ``config`` (``channel`` overrides the configured channel).

    A bus with a ``data_bitrate`` is opened in CAN FD mode (python-can's ``fd=True`` and
    ``data_bitrate``); it carries classic frames too, at the nominal bitrate. The ``virtual``
    interface ignores the bitrates; on it, every bus opened on the same channel in this process
    sees the others' frames.

    Raises:
        CommunicationError: the interface cannot be opened; the message says which and why.
    """
    chosen = channel or config.channel
    kwargs: dict[str, object] = {"interface": config.interface, "channel": chosen}
    if not config.virtual:
        kwargs["bitrate"] = config.bitrate
        if config.data_bitrate is not None:
            kwargs |= {"fd": True, "data_bitrate": config.data_bitrate}
    try:
        return can.Bus(**kwargs)  # type: ignore[arg-type]
    except (can.CanError, OSError, ValueError, ImportError) as exc:
        raise CommunicationError(
            f"cannot open CAN bus interface={config.interface!r} channel={chosen!r}: {exc}. "
            "Check that the interface is up (e.g. `ip link show can0`) and the names are right."
        ) from None


class Frame(can.Message):
    """A :class:`can.Message` whose deep copy is cheap; every frame rehabbot sends is one.

    python-can's ``virtual`` bus deep-copies each frame for each receiver. ``Message.__deepcopy__``
    copies the payload through the generic ``copy.deepcopy`` (copyreg, reduce), about 15 µs per
    frame, which at 8 frames per 1 kHz tick was most of the simulated bus's cost. A frame holds
    only immutable scalars besides its payload, so copying the payload's bytes is a deep copy.
    Real interfaces read the same fields as from any message.
    """

    __slots__ = ()

    @classmethod
    def standard(cls, arbitration_id: int, data: bytes) -> Frame:
        """A classic data frame with a standard id, built without :class:`can.Message`'s
        argument handling (a third of its cost): the caller's id is below ``0x800`` and its
        ``data`` at most 8 bytes, as every drive protocol's frame builder guarantees.

        >>> frame = Frame.standard(3, b"\x01\x02")
        >>> frame.equals(can.Message(arbitration_id=3, data=b"\x01\x02", is_extended_id=False))
        True
        """
        frame = cls.__new__(cls)
        frame.timestamp = 0.0
        frame.arbitration_id = arbitration_id
        frame.is_extended_id = False
        frame.is_remote_frame = False
        frame.is_error_frame = False
        frame.channel = None
        frame.dlc = len(data)
        frame.data = bytearray(data)
        frame.is_fd = False
        frame.is_rx = True
        frame.bitrate_switch = False
        frame.error_state_indicator = False
        return frame

    def __deepcopy__(self, memo: dict[int, Any] | None) -> Frame:
        copy = Frame.__new__(Frame)
        copy.timestamp = self.timestamp
        copy.arbitration_id = self.arbitration_id
        copy.is_extended_id = self.is_extended_id
        copy.is_remote_frame = self.is_remote_frame
        copy.is_error_frame = self.is_error_frame
        copy.channel = self.channel
        copy.dlc = self.dlc
        copy.data = bytearray(self.data)
        copy.is_fd = self.is_fd
        copy.is_rx = self.is_rx
        copy.bitrate_switch = self.bitrate_switch
        copy.error_state_indicator = self.error_state_indicator
        return copy
