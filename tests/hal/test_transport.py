"""The local cross-process CAN transport (python-can interface ``rehabbot_local``)."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import can
import pytest

from rehabbot.hal.transport import SOCKET_DIR_ENV, LocalHub, socket_path


@pytest.fixture
def channel_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="rb-t-"))  # short: socket paths are limited
    monkeypatch.setenv(SOCKET_DIR_ENV, str(path))
    yield path
    for item in path.iterdir():
        item.unlink()
    path.rmdir()


def frame(arbitration_id: int, data: bytes, **kwargs: bool) -> can.Message:
    return can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=False, **kwargs)


def test_frames_cross_in_order_both_ways_with_every_field(channel_dir: Path) -> None:
    hub = LocalHub("legs")
    host = can.Bus(interface="rehabbot_local", channel="legs", bitrate=1_000_000)
    try:
        sent = [frame(0x001 + k, bytes([k] * (k % 9))) for k in range(20)]
        sent.append(can.Message(arbitration_id=0x1ABCDEF0, data=b"\x01\x02", is_extended_id=True))
        sent.append(frame(0x7FF, b"", is_remote_frame=True))
        sent.append(can.Message(arbitration_id=0x123, data=bytes(range(64)), is_fd=True,
                                bitrate_switch=True, is_extended_id=False))
        for msg in sent:
            host.send(msg)
        got = [hub.recv(1.0) for _ in sent]
        for a, b in zip(sent, got, strict=True):
            assert b is not None
            assert a.equals(b, timestamp_delta=None, check_channel=False), (a, b)
        before = time.time()
        hub.send(frame(0x000, b"reply"))
        reply = host.recv(1.0)
        assert reply is not None and bytes(reply.data) == b"reply"
        # stamped with the kernel's reception time, on time.time()'s scale
        assert before - 0.001 <= reply.timestamp <= time.time()
        assert host.recv(0.0) is None and hub.recv(0.0) is None
    finally:
        host.shutdown()
        hub.shutdown()
    assert not socket_path("legs").exists()  # the hub removes its socket file


def test_a_second_client_sees_the_first_clients_frames(channel_dir: Path) -> None:
    hub = LocalHub("legs")
    host = can.Bus(interface="rehabbot_local", channel="legs")
    logger = can.Bus(interface="rehabbot_local", channel="legs")
    try:
        hub.recv(0.1)  # accepts both clients
        host.send(frame(0x001, b"cmd"))
        assert hub.recv(1.0) is not None
        seen = logger.recv(1.0)
        assert seen is not None and bytes(seen.data) == b"cmd"
        assert hub.clients == 2
    finally:
        logger.shutdown()
        host.shutdown()
        hub.shutdown()


def test_a_dead_serving_process_is_a_quiet_bus_and_failed_sends(channel_dir: Path) -> None:
    hub = LocalHub("legs")
    host = can.Bus(interface="rehabbot_local", channel="legs")
    try:
        hub.recv(0.1)
        hub.shutdown()
        assert host.recv(0.05) is None
        assert host.recv(0.0) is None
        with pytest.raises(can.CanOperationError):
            host.send(frame(0x001, b"cmd"))
    finally:
        host.shutdown()


def test_nobody_serving_and_a_channel_served_twice_are_refused(channel_dir: Path) -> None:
    with pytest.raises(can.CanInitializationError, match="nobody serves CAN channel 'legs'"):
        can.Bus(interface="rehabbot_local", channel="legs")
    hub = LocalHub("legs")
    try:
        with pytest.raises(can.CanInitializationError, match="served by another process"):
            LocalHub("legs")
    finally:
        hub.shutdown()
    with pytest.raises(can.CanInitializationError, match="without '/'"):
        socket_path("a/b")


def test_a_stale_socket_file_of_a_dead_process_is_replaced(channel_dir: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    stale.bind(str(socket_path("legs")))
    stale.close()  # the file stays, nobody listens: what a killed emulator leaves
    assert socket_path("legs").exists()
    hub = LocalHub("legs")
    try:
        host = can.Bus(interface="rehabbot_local", channel="legs")
        host.send(frame(0x001, b"x"))
        assert hub.recv(1.0) is not None
        host.shutdown()
    finally:
        hub.shutdown()


def test_the_socket_directory_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(tempfile.mkdtemp(prefix="rb-t-")) / "sub"
    monkeypatch.setenv(SOCKET_DIR_ENV, str(path))
    hub = LocalHub("legs")
    try:
        assert (path.stat().st_mode & 0o777) == 0o700
        assert (socket_path("legs").stat().st_mode & 0o777) == 0o600
    finally:
        hub.shutdown()
        os.rmdir(path)
        os.rmdir(path.parent)
