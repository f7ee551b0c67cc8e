"""Opening the CAN bus a robot configuration names."""

from __future__ import annotations

import can

from rehabbot.errors import CommunicationError
from rehabbot.hal.config import BusConfig


def open_bus(config: BusConfig, channel: str | None = None) -> can.BusABC:
    """Open the bus of ``config`` (``channel`` overrides the configured channel).

    The ``virtual`` interface ignores the bitrate; on it, every bus opened on the same channel in
    this process sees the others' frames.

    Raises:
        CommunicationError: the interface cannot be opened; the message says which and why.
    """
    chosen = channel or config.channel
    kwargs: dict[str, object] = {"interface": config.interface, "channel": chosen}
    if config.interface != "virtual":
        kwargs["bitrate"] = config.bitrate
    try:
        return can.Bus(**kwargs)  # type: ignore[arg-type]
    except (can.CanError, OSError, ValueError, ImportError) as exc:
        raise CommunicationError(
            f"cannot open CAN bus interface={config.interface!r} channel={chosen!r}: {exc}. "
            "Check that the interface is up (e.g. `ip link show can0`) and the names are right."
        ) from None
