"""The in-process transport contract: what the HAL and the emulated drives rely on from a bus,
over python-can's ``virtual`` interface and the simulator's ``rehabbot_lockstep`` (docs/hal.md).

Frames cross between handles of one channel in order with every field; a handle never receives
its own frames; every other handle sees each frame; channels are separate; an empty bus answers
``recv(0.0)`` at once and a wait ends with a frame another thread sends; filters apply; a closed
handle refuses to send.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import can
import pytest

from rehabbot.hal.lockstep import INTERFACE, LockstepBus

Opener = Callable[[str], can.BusABC]

TRANSPORTS: dict[str, Opener] = {
    "virtual": lambda channel: can.Bus(interface="virtual", channel=channel),
    "lockstep": lambda channel: can.Bus(interface=INTERFACE, channel=channel),
}


@pytest.fixture(params=list(TRANSPORTS))
def channel(request: pytest.FixtureRequest) -> Iterator[Callable[[], can.BusABC]]:
    """Opens handles on one fresh channel of the transport; shuts them all at the end."""
    name = f"contract-{uuid.uuid4().hex}"
    opened: list[can.BusABC] = []

    def open_handle() -> can.BusABC:
        bus = TRANSPORTS[request.param](name)
        opened.append(bus)
        return bus

    yield open_handle
    for bus in opened:
        bus.shutdown()


def sample_frames() -> list[can.Message]:
    frames = [can.Message(arbitration_id=k, data=bytes([k] * (k % 9)), is_extended_id=False)
              for k in range(1, 12)]
    frames.append(can.Message(arbitration_id=0x1ABCDEF0, data=b"\x01\x02", is_extended_id=True))
    frames.append(can.Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True))
    frames.append(can.Message(arbitration_id=0x123, data=bytes(range(64)), is_fd=True,
                              bitrate_switch=True, is_extended_id=False))
    return frames


def same_frame(a: can.Message, b: can.Message) -> bool:
    return a.equals(b, timestamp_delta=None, check_channel=False, check_direction=False)


def test_the_lockstep_interface_is_a_python_can_plugin() -> None:
    bus = can.Bus(interface=INTERFACE, channel=f"plugin-{uuid.uuid4().hex}")
    try:
        assert isinstance(bus, LockstepBus)
    finally:
        bus.shutdown()


def test_frames_cross_in_order_both_ways_with_every_field(
        channel: Callable[[], can.BusABC]) -> None:
    host, drive = channel(), channel()
    sent = sample_frames()
    for msg in sent:
        host.send(msg)
    got = [drive.recv(0.0) for _ in sent]
    assert all(g is not None and same_frame(s, g) for s, g in zip(sent, got, strict=True))
    assert all(g is not None and g.is_rx for g in got)
    reply = can.Message(arbitration_id=0, data=b"reply", is_extended_id=False)
    drive.send(reply)
    back = host.recv(0.0)
    assert back is not None and same_frame(reply, back)
    assert host.recv(0.0) is None and drive.recv(0.0) is None


def test_a_handle_never_receives_its_own_frames_and_every_other_handle_does(
        channel: Callable[[], can.BusABC]) -> None:
    host, drive, logger = channel(), channel(), channel()
    host.send(can.Message(arbitration_id=1, data=b"cmd", is_extended_id=False))
    drive.send(can.Message(arbitration_id=0, data=b"rep", is_extended_id=False))
    assert host.recv(0.0) is not None and host.recv(0.0) is None  # the reply only
    seen = [logger.recv(0.0), logger.recv(0.0)]
    assert [bytes(m.data) for m in seen if m is not None] == [b"cmd", b"rep"]
    drive_got = drive.recv(0.0)
    assert drive_got is not None and bytes(drive_got.data) == b"cmd"
    assert drive.recv(0.0) is None


def test_frames_are_stamped_on_the_wall_clock_when_sent(
        channel: Callable[[], can.BusABC]) -> None:
    host, drive = channel(), channel()
    before = time.time()
    host.send(can.Message(arbitration_id=1, data=b"x", is_extended_id=False, timestamp=0.0))
    got = drive.recv(0.0)
    assert got is not None and before <= got.timestamp <= time.time()


def test_channels_are_separate(channel: Callable[[], can.BusABC]) -> None:
    host = channel()
    other = (LockstepBus if isinstance(host, LockstepBus) else can.interfaces.virtual.VirtualBus)(
        channel=f"other-{uuid.uuid4().hex}")
    try:
        host.send(can.Message(arbitration_id=1, data=b"x", is_extended_id=False))
        assert other.recv(0.0) is None
    finally:
        other.shutdown()


def test_a_wait_ends_with_a_frame_another_thread_sends(
        channel: Callable[[], can.BusABC]) -> None:
    host, drive = channel(), channel()
    assert drive.recv(0.0) is None
    assert drive.recv(0.01) is None  # a wait with nothing sent ends empty
    timer = threading.Timer(0.02, lambda: host.send(
        can.Message(arbitration_id=7, data=b"sdo", is_extended_id=False)))
    timer.start()
    try:
        got = drive.recv(2.0)
    finally:
        timer.join()
    assert got is not None and bytes(got.data) == b"sdo"


def test_filters_apply(channel: Callable[[], can.BusABC]) -> None:
    host, drive = channel(), channel()
    drive.set_filters([{"can_id": 0x100, "can_mask": 0x700, "extended": False}])
    for arbitration_id in (0x001, 0x123, 0x200, 0x1FF):
        host.send(can.Message(arbitration_id=arbitration_id, data=b"", is_extended_id=False))
    got = [drive.recv(0.5) for _ in range(2)]  # a wait skips the frames the filters refuse
    assert [m.arbitration_id for m in got if m is not None] == [0x123, 0x1FF]
    assert drive.recv(0.0) is None


def test_a_closed_handle_refuses_to_send_and_the_others_go_on(
        channel: Callable[[], can.BusABC]) -> None:
    host, drive, logger = channel(), channel(), channel()
    drive.shutdown()
    with pytest.raises(can.CanOperationError):
        drive.send(can.Message(arbitration_id=1, data=b"x", is_extended_id=False))
    host.send(can.Message(arbitration_id=1, data=b"y", is_extended_id=False))
    got = logger.recv(0.0)
    assert got is not None and bytes(got.data) == b"y"
