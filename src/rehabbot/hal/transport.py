"""A CAN bus between processes of this computer: a python-can interface over a Unix socket.

The interface ``rehabbot_local`` (entry point ``can.interface``) carries whole CAN frames over
``SOCK_SEQPACKET`` Unix sockets, one socket file per channel, so that a robot's host (the control
loop) and the emulated robot (``rehabbot sim serve``) run in separate processes with the wire
protocol between them, as a host and its drives do on a real bus. Nothing leaves the computer: the
socket files live in a directory only their owner may enter (:func:`socket_dir`).

* :class:`LocalHub` is the bus itself: it listens on the channel's socket file, takes every
  frame any connected client sends, hands it to its own owner (the emulated drives) and relays it
  to the other clients, and sends its owner's frames to every client. One process owns a channel.
* :class:`LocalSocketBus` is a client: a host's handle on the channel (``can.Bus(interface=
  "rehabbot_local", channel="emu-right")``), or a second one, such as a traffic logger.

Frames keep their boundaries (one datagram per frame) and order. A client's reception time is the
kernel's (``SO_TIMESTAMPNS``), as SocketCAN stamps frames. A full receive buffer drops the frame
on the sending side and counts it (:attr:`LocalHub.dropped_frames`; a client's ``send`` raises
:class:`can.CanOperationError`, which :class:`~rehabbot.hal.robot.CanRobot` counts as a failed
send). A closed peer is a bus that goes quiet: a client's ``recv`` returns nothing and its
``send`` raises, never blocks.

Why this and not another plug-in: docs/hal.md ("The emulated robot's transport") gives the
measured round-trip times (``benchmarks/transport_latency.py``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import struct
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import can

#: python-can's interface name of :class:`LocalSocketBus`.
INTERFACE = "rehabbot_local"
#: Environment variable naming the directory of the socket files.
SOCKET_DIR_ENV = "REHABBOT_CAN_DIR"

_HEADER = struct.Struct("<dIBB")  # sender's time.time() (s), arbitration id, flags, dlc
_EXTENDED, _REMOTE, _ERROR, _FD, _BRS, _ESI = (1 << k for k in range(6))
_MAX_PACKET = _HEADER.size + 64
_SO_TIMESTAMPNS = 35  # Linux; not exported by the socket module
_TIMESPEC = struct.Struct("qq")


def socket_dir() -> Path:
    """The directory of the channels' socket files: ``$REHABBOT_CAN_DIR``, else
    ``rehabbot-can-UID`` in the temporary directory; created owner-only if missing."""
    configured = os.environ.get(SOCKET_DIR_ENV)
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / (
        f"rehabbot-can-{os.getuid()}")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def socket_path(channel: str) -> Path:
    """The socket file of ``channel``: the channel itself if it is an absolute path, else
    ``CHANNEL.sock`` in :func:`socket_dir`.

    Raises:
        can.CanInitializationError: the channel is empty or a relative path.
    """
    if channel.startswith("/"):
        return Path(channel)
    if not channel or "/" in channel:
        raise can.CanInitializationError(
            f"channel {channel!r}: give a name without '/' (e.g. 'emu-right') or an absolute "
            "socket path")
    return socket_dir() / f"{channel}.sock"


def encode(msg: can.Message) -> bytes:
    """One frame as one datagram."""
    flags = ((_EXTENDED if msg.is_extended_id else 0) | (_REMOTE if msg.is_remote_frame else 0)
             | (_ERROR if msg.is_error_frame else 0) | (_FD if msg.is_fd else 0)
             | (_BRS if msg.bitrate_switch else 0) | (_ESI if msg.error_state_indicator else 0))
    return _HEADER.pack(time.time(), msg.arbitration_id, flags, msg.dlc) + bytes(msg.data)


def decode(packet: bytes, timestamp: float, channel: str) -> can.Message:
    """The frame of one datagram, stamped ``timestamp`` (s, ``time.time()`` scale).

    Raises:
        can.CanOperationError: the datagram is not a frame.
    """
    if len(packet) < _HEADER.size:
        raise can.CanOperationError(f"short datagram ({len(packet)} bytes) on {channel}")
    _sent, arbitration_id, flags, dlc = _HEADER.unpack_from(packet)
    return can.Message(
        timestamp=timestamp, arbitration_id=arbitration_id,
        is_extended_id=bool(flags & _EXTENDED), is_remote_frame=bool(flags & _REMOTE),
        is_error_frame=bool(flags & _ERROR), is_fd=bool(flags & _FD),
        bitrate_switch=bool(flags & _BRS), error_state_indicator=bool(flags & _ESI),
        dlc=dlc, data=packet[_HEADER.size:], channel=channel, is_rx=True,
    )


def _receive(sock: socket.socket) -> tuple[bytes, float] | None:
    """One datagram and its kernel reception time, or None (nothing waiting; b"" when closed)."""
    try:
        packet, ancillary, _flags, _addr = sock.recvmsg(
            _MAX_PACKET, socket.CMSG_SPACE(_TIMESPEC.size), socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except (ConnectionResetError, OSError):
        return b"", 0.0
    stamp = time.time()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack(data[:_TIMESPEC.size])
            stamp = seconds + nanoseconds * 1e-9
    return packet, stamp


def _timestamped(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
    return sock


class LocalSocketBus(can.BusABC):
    """A client's handle on a ``rehabbot_local`` channel (python-can interface
    ``rehabbot_local``).

    Args:
        channel: the channel's name (its socket file in :func:`socket_dir`) or socket path.
        bitrate: the bitrate of the bus it stands for (bit/s); only the budget uses it.
        kwargs: other python-can options (ignored).

    Raises:
        can.CanInitializationError: nobody serves the channel.
    """

    def __init__(self, channel: str, bitrate: int | None = None, **kwargs: Any) -> None:
        path = socket_path(str(channel))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.connect(str(path))
        except OSError as exc:
            sock.close()
            raise can.CanInitializationError(
                f"nobody serves CAN channel {channel!r} ({path}: {exc.strerror}); start the "
                "emulated robot (`rehabbot sim serve ROBOT`) or check the channel name"
            ) from None
        self._sock = _timestamped(sock)
        self._closed = False
        self.channel_info = f"rehabbot_local {path}"
        self._channel = str(channel)
        self.bitrate = bitrate
        super().__init__(channel=channel, **kwargs)

    def fileno(self) -> int:
        """The socket's descriptor (readable when a frame waits)."""
        return self._sock.fileno()

    def _recv_internal(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        if self._closed:
            if timeout:
                time.sleep(timeout)
            return None, False
        got = _receive(self._sock)
        if got is None and timeout != 0.0:
            ready, _, _ = select.select([self._sock], [], [], timeout)
            got = _receive(self._sock) if ready else None
        if got is None:
            return None, False
        packet, stamp = got
        if not packet:  # the serving process went away: the bus is quiet from now on
            self._closed = True
            return None, False
        return decode(packet, stamp, self._channel), False

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        """Send ``msg`` without blocking.

        Raises:
            can.CanOperationError: the receive buffer on the other side is full or the serving
                process went away.
        """
        try:
            self._sock.send(encode(msg), socket.MSG_DONTWAIT)
        except BlockingIOError:
            raise can.CanOperationError("transmit buffer full", errno.ENOBUFS) from None
        except OSError as exc:
            self._closed = True
            raise can.CanOperationError(f"channel {self._channel!r} closed: {exc}",
                                        exc.errno) from None

    def shutdown(self) -> None:
        """Close the socket."""
        super().shutdown()
        self._sock.close()


class LocalHub(can.BusABC):
    """A ``rehabbot_local`` channel served by this process: the bus the clients connect to.

    Its own ``recv`` returns the frames the clients send (each is relayed to the other clients
    too); its ``send`` goes to every client. Nothing runs in the background: clients are accepted
    and frames relayed inside ``recv``. :meth:`fileno` (an epoll descriptor) is readable when a
    client connects or sends, so several hubs can be waited on together with ``select``.

    Args:
        channel: the channel's name or socket path (see :func:`socket_path`).

    Raises:
        can.CanInitializationError: another live process serves the channel, or the socket file
            cannot be made.
    """

    def __init__(self, channel: str, **kwargs: Any) -> None:
        path = socket_path(str(channel))
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            probe.connect(str(path))
        except OSError:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # a stale file of a process that died
        else:
            probe.close()
            raise can.CanInitializationError(
                f"CAN channel {channel!r} ({path}) is served by another process already")
        finally:
            probe.close()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            listener.bind(str(path))
            os.chmod(path, 0o600)
            listener.listen(8)
        except OSError as exc:
            listener.close()
            raise can.CanInitializationError(f"cannot serve {path}: {exc}") from None
        listener.setblocking(False)
        self.path = path
        self._listener = listener
        self._poll = select.epoll()
        self._poll.register(listener.fileno(), select.EPOLLIN)
        self._clients: dict[int, socket.socket] = {}
        self._pending: deque[tuple[can.Message, int]] = deque()
        self._channel = str(channel)
        #: Frames a client could not take (its receive buffer was full).
        self.dropped_frames = 0
        #: Frames received from the clients.
        self.received_frames = 0
        self.channel_info = f"rehabbot_local hub {path}"
        super().__init__(channel=channel, **kwargs)

    @property
    def clients(self) -> int:
        """Clients connected now."""
        return len(self._clients)

    def fileno(self) -> int:
        """An epoll descriptor, readable when a client connects or sends a frame."""
        return self._poll.fileno()

    def _broadcast(self, packet: bytes, skip: int = -1) -> None:
        for fd, client in list(self._clients.items()):
            if fd == skip:
                continue
            try:
                client.send(packet, socket.MSG_DONTWAIT)
            except BlockingIOError:
                self.dropped_frames += 1
            except OSError:
                self._drop(fd)

    def _drop(self, fd: int) -> None:
        client = self._clients.pop(fd)
        self._poll.unregister(fd)
        client.close()

    def _take(self, timeout: float) -> None:
        """Accept clients and read what they sent, waiting up to ``timeout`` (s) for anything."""
        for fd, _event in self._poll.poll(timeout):
            if fd == self._listener.fileno():
                with contextlib.suppress(BlockingIOError):
                    client, _ = self._listener.accept()
                    client = _timestamped(client)
                    self._clients[client.fileno()] = client
                    self._poll.register(client.fileno(), select.EPOLLIN)
                continue
            peer = self._clients.get(fd)
            while peer is not None and (got := _receive(peer)) is not None:
                packet, stamp = got
                if not packet:
                    self._drop(fd)
                    break
                self._pending.append((decode(packet, stamp, self._channel), fd))
                self.received_frames += 1
                self._broadcast(packet, skip=fd)

    def _recv_internal(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        if not self._pending:
            self._take(0.0)
            if not self._pending and timeout != 0.0:
                self._take(-1.0 if timeout is None else timeout)
        if not self._pending:
            return None, False
        return self._pending.popleft()[0], False

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        """Send ``msg`` to every client; a client whose buffer is full misses it (counted)."""
        self._broadcast(encode(msg))

    def shutdown(self) -> None:
        """Disconnect the clients and remove the socket file."""
        super().shutdown()
        for fd in list(self._clients):
            self._drop(fd)
        self._poll.close()
        self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
