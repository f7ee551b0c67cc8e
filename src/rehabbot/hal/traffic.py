"""CAN traffic logging in python-can's file formats (BLF and ASC for Vector tools, and the rest).

:class:`TrafficLog` opens its own handle on the robot's bus and writes every frame it sees with
python-can's :func:`can.Logger` from python-can's :class:`can.Notifier` thread. The control loop's
thread does no work for it: on SocketCAN (and on the ``virtual`` bus) every socket on an interface
sees the frames the other sockets of the host send, so a second handle sees both directions.
Interfaces that allow one handle per channel (some USB adapters) cannot log this way; the error
says so.

The format follows the file's suffix: ``.blf``, ``.asc``, ``.trc``, ``.log``, ``.csv`` (and
``.gz`` variants), as :func:`can.Logger` documents.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import can

from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.bus import open_bus
from rehabbot.hal.config import BusConfig

#: File suffixes python-can writes without optional dependencies.
SUFFIXES = (".blf", ".asc", ".trc", ".log", ".csv")


class TrafficLog:
    """Writes every frame on a bus to a log file while started.

    Args:
        config: the bus to listen to.
        path: the log file; its suffix picks the format (see :data:`SUFFIXES`).
        channel: overrides the configured channel (as the robot's own).

    Raises:
        ConfigurationError: the suffix is not a format python-can writes.
    """

    def __init__(self, config: BusConfig, path: Path, channel: str | None = None) -> None:
        suffixes = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
        if suffixes.removesuffix(".gz") not in SUFFIXES:
            raise ConfigurationError(
                f"cannot log CAN traffic to {path}: unknown format {path.suffix!r}; "
                f"use one of {', '.join(SUFFIXES)} (optionally with .gz)"
            )
        self.config = config
        self.path = path
        self.channel = channel
        self._bus: can.BusABC | None = None
        self._notifier: can.Notifier | None = None
        self._writer: can.Listener
        self.frames_logged = 0

    def start(self) -> None:
        """Open the listening handle and the file, and start logging.

        Raises:
            CommunicationError: the bus cannot be opened a second time, or the file not created.
        """
        try:
            self._bus = open_bus(self.config, self.channel)
        except CommunicationError as exc:
            raise CommunicationError(
                f"{exc} (traffic logging opens a second handle on the bus; this interface may "
                "allow only one)"
            ) from None
        try:
            writer = can.Logger(self.path)
        except OSError as exc:
            self._bus.shutdown()
            raise CommunicationError(f"cannot create the CAN log {self.path}: {exc}") from None
        self._writer = writer
        self._notifier = can.Notifier(self._bus, [self._log], timeout=0.1)

    def _log(self, msg: can.Message) -> None:
        """Write and count one frame (runs on the notifier's thread).

        The frame's channel is cleared first: the file logs one bus, and the writers turn a
        channel name into a number by its digits, which for a name like ``"sim-3f9a"`` overflows
        the BLF channel field.
        """
        msg.channel = None
        self._writer(msg)
        self.frames_logged += 1

    def stop(self) -> None:
        """Stop logging, flush and close the file and the handle; does nothing if not started."""
        if self._notifier is not None:
            self._notifier.stop()
            self._notifier = None
            self._writer.stop()
        if self._bus is not None:
            self._bus.shutdown()
            self._bus = None

    def __enter__(self) -> TrafficLog:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
