"""The fault-injecting bus wrapper, alone on a virtual bus and between CanRobot and its drives.

Over CAN, tick ``k`` of a run reads and writes while the loop clock is at ``k``, so injected faults
are scheduled in the loop's ticks; the supervisor's reactions are asserted in those ticks too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import can
import pytest

from rehabbot.hal.fault_injection import Action, Direction, FaultInjectionBus, FaultRule
from rehabbot.safety import FaultKind, StopCategory
from tests.safety.conftest import KNEE_R, CanRig, tick_of

# -- the wrapper alone ------------------------------------------------------------------------


class Link:
    """Two ends of a fresh virtual channel: ``far`` and a near end that ``wrap`` wraps."""

    def __init__(self) -> None:
        channel = f"fi-{uuid.uuid4().hex}"
        self.far = can.Bus(interface="virtual", channel=channel)
        self.near: can.BusABC = can.Bus(interface="virtual", channel=channel)

    def wrap(self, rules: Iterable[FaultRule] = (), **kwargs: Any) -> FaultInjectionBus:
        self.near = FaultInjectionBus(self.near, rules, **kwargs)
        return self.near

    def close(self) -> None:
        self.far.shutdown()
        self.near.shutdown()


@pytest.fixture
def link() -> Iterator[Link]:
    link = Link()
    yield link
    link.close()


def frame(arbitration_id: int = 0x10, data: bytes = bytes(range(8))) -> can.Message:
    return can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=False)


def drain(bus: can.BusABC) -> list[can.Message]:
    """Everything receivable now (one poll)."""
    out = []
    while (msg := bus.recv(0.0)) is not None:
        out.append(msg)
    return out


def test_frames_no_rule_matches_pass_unchanged(link: Link) -> None:
    far = link.far
    bus = link.wrap([FaultRule(Action.DROP, ids=frozenset({0x99}))])
    far.send(frame(0x10))
    bus.send(frame(0x11))
    (received,) = drain(bus)
    assert (received.arbitration_id, bytes(received.data)) == (0x10, bytes(range(8)))
    assert [m.arbitration_id for m in drain(far)] == [0x11]
    assert not bus.injected


def test_drop_with_a_probability_is_reproducible_for_a_seed() -> None:
    def survivors(seed: int) -> list[int]:
        link = Link()
        try:
            bus = link.wrap([FaultRule(Action.DROP, probability=0.5)], seed=seed)
            for i in range(200):
                link.far.send(frame(i))
            return [m.arbitration_id for m in drain(bus)]
        finally:
            link.close()

    first, again, other = survivors(7), survivors(7), survivors(8)
    assert first == again != other
    assert 60 < len(first) < 140


def test_delay_holds_frames_for_n_polls(link: Link) -> None:
    far = link.far
    bus = link.wrap([FaultRule(Action.DELAY, delay_ticks=2, ids=frozenset({1}))])
    far.send(frame(1))
    far.send(frame(2))
    assert [m.arbitration_id for m in drain(bus)] == [2]  # poll 0: id 1 is held
    assert drain(bus) == []  # poll 1
    far.send(frame(3))
    assert [m.arbitration_id for m in drain(bus)] == [1, 3]  # poll 2: due first, then new
    assert bus.polls == 3


def test_duplicate_delivers_twice(link: Link) -> None:
    far = link.far
    bus = link.wrap([FaultRule(Action.DUPLICATE, direction=Direction.BOTH)])
    far.send(frame(5))
    assert [m.arbitration_id for m in drain(bus)] == [5, 5]
    bus.send(frame(6))
    assert [m.arbitration_id for m in drain(far)] == [6, 6]
    assert bus.injected[Action.DUPLICATE] == 2


def test_corrupt_flips_the_asked_bits_in_a_copy(link: Link) -> None:
    far = link.far
    bus = link.wrap([
        FaultRule(Action.CORRUPT, direction=Direction.TX, xor_mask=b"\x00\x80"),
        FaultRule(Action.CORRUPT, direction=Direction.RX, flip_bits=3),
    ], seed=3)
    original = frame()
    bus.send(original)
    (sent,) = drain(far)
    assert bytes(sent.data) == bytes([0, 1 ^ 0x80, *range(2, 8)])
    assert bytes(original.data) == bytes(range(8))  # the sender's frame is untouched
    far.send(frame())
    (received,) = drain(bus)
    flipped = sum(bin(a ^ b).count("1") for a, b in zip(received.data, range(8), strict=True))
    assert flipped == 3


def test_truncate_shortens_the_data_and_the_dlc(link: Link) -> None:
    far = link.far
    bus = link.wrap([FaultRule(Action.TRUNCATE, keep_bytes=3)])
    far.send(frame())
    (received,) = drain(bus)
    assert (received.dlc, bytes(received.data)) == (3, bytes([0, 1, 2]))


def test_error_frame_replaces_the_frame(link: Link) -> None:
    far = link.far
    bus = link.wrap([FaultRule(Action.ERROR_FRAME)])
    far.send(frame())
    (received,) = drain(bus)
    assert received.is_error_frame


def test_stop_makes_sends_fail_and_receives_empty_within_its_window(link: Link) -> None:
    far = link.far
    ticks = [0]
    bus = link.wrap([FaultRule(Action.STOP, Direction.BOTH, start_tick=2, stop_tick=4)],
                    tick=lambda: ticks[-1])
    outcomes = []
    for tick in range(6):
        ticks.append(tick)
        far.send(frame(tick))
        try:
            bus.send(frame(0x100))
            sent = True
        except can.CanOperationError:
            sent = False
        outcomes.append((sent, len(drain(bus))))
    assert outcomes == [(True, 1), (True, 1), (False, 0), (False, 0), (True, 1), (True, 1)]
    assert len(drain(far)) == 4


def test_where_selects_frames_by_content(link: Link) -> None:
    far = link.far
    bus = link.wrap([FaultRule(Action.DROP, where=lambda m: m.data[0] == 2)])
    far.send(frame(0, bytes([1] * 8)))
    far.send(frame(0, bytes([2] * 8)))
    assert [m.data[0] for m in drain(bus)] == [1]


@pytest.mark.parametrize("kwargs", [{"probability": 1.5}, {"start_tick": 5, "stop_tick": 5},
                                    {"delay_ticks": 0}, {"flip_bits": 0}, {"keep_bytes": -1}])
def test_nonsense_rules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FaultRule(Action.DROP, **kwargs)  # type: ignore[arg-type]


def test_shutting_the_wrapper_down_shuts_the_bus_down(link: Link) -> None:
    near = link.near
    link.wrap().shutdown()
    assert near._is_shutdown


# -- between CanRobot and its drives, under the supervisor --------------------------------------

def knee_replies(msg: can.Message) -> bool:
    """Replies of the knee_angle_r drive (MIT: on the host id, drive id in the first byte)."""
    return len(msg.data) > 0 and msg.data[0] == KNEE_R + 1


def faults_of(rig: CanRig) -> list[tuple[FaultKind, str | None, int]]:
    return [(f.kind, f.joint, tick_of(f)) for f in rig.supervisor.faults_]


def test_dropped_replies_are_stale_feedback_and_torque_off_on_the_detection_tick(
    rig: CanRig,
) -> None:
    rig.inject(FaultRule(Action.DROP, where=knee_replies, start_tick=20))
    report = rig.loop.run(0.1)
    stale_ticks = rig.bench.config.loop.stale_feedback_ticks
    assert faults_of(rig) == [(FaultKind.STALE_FEEDBACK, "knee_angle_r", 20 + stale_ticks)]
    assert rig.drive_torque_off_from() == 20 + stale_ticks  # written on that very tick
    assert report.ticks == 100 and report.reaction is StopCategory.TORQUE_OFF


@pytest.mark.parametrize(("delay", "faults"), [
    (2, []),
    (5, [(FaultKind.STALE_FEEDBACK, "knee_angle_r", 20 + 3)]),
])
def test_delayed_replies_are_stale_only_beyond_the_stale_limit(
    rig: CanRig, delay: int, faults: list[tuple[FaultKind, str, int]],
) -> None:
    rig.inject(FaultRule(Action.DELAY, where=knee_replies, start_tick=20, delay_ticks=delay))
    rig.loop.run(0.1)
    assert faults_of(rig) == faults


def test_duplicated_frames_are_harmless(rig: CanRig) -> None:
    bus = rig.inject(FaultRule(Action.DUPLICATE, Direction.BOTH))
    report = rig.loop.run(0.1)
    assert report.faults == [] and bus.injected[Action.DUPLICATE] > 300
    assert rig.drive_torque_off_from() == len(rig.sent)  # still commanding torque


@pytest.mark.parametrize(("mask", "kind"), [
    (bytes([0, 0x01]), FaultKind.POSITION_JUMP),  # 256 position steps: 0.03 rad at the knee
    (bytes([0] * 7 + [0x02]), FaultKind.DRIVE_FAULT),  # error code 2: over-current
    (bytes([0] * 6 + [0x80]), FaultKind.OVER_TEMPERATURE),  # +128 °C
])
def test_corrupted_replies_are_caught_on_the_tick_they_arrive(
    rig: CanRig, mask: bytes, kind: FaultKind,
) -> None:
    rig.inject(FaultRule(Action.CORRUPT, where=knee_replies, start_tick=30, stop_tick=31,
                         xor_mask=mask))
    rig.loop.run(0.1)
    assert faults_of(rig)[0] == (kind, "knee_angle_r", 30)
    assert rig.supervisor.reaction_ is not None


@pytest.mark.parametrize("seed", range(8))
def test_random_corruption_never_raises_and_stops_the_robot(rig: CanRig, seed: int) -> None:
    rig.inject(FaultRule(Action.CORRUPT, Direction.RX, probability=0.2, flip_bits=2),
               seed=seed)
    report = rig.loop.run(0.2)
    assert report.ticks == 200  # no exception out of CanRobot.read() or the loop
    assert report.faults and {f.kind for f in report.faults} <= {
        FaultKind.POSITION_JUMP, FaultKind.POSITION_LIMIT, FaultKind.VELOCITY_LIMIT,
        FaultKind.DRIVE_FAULT, FaultKind.OVER_TEMPERATURE, FaultKind.BUS_ERRORS,
        FaultKind.STALE_FEEDBACK,
    }
    assert rig.supervisor.reaction_ is not None


def test_truncated_replies_are_bus_errors_and_stale_feedback(rig: CanRig) -> None:
    rig.inject(FaultRule(Action.TRUNCATE, where=knee_replies, start_tick=20, keep_bytes=6))
    rig.loop.run(0.1)
    error_max = rig.supervisor.settings.bus_error_max
    assert faults_of(rig) == [
        (FaultKind.STALE_FEEDBACK, "knee_angle_r", 23),
        (FaultKind.BUS_ERRORS, None, 20 + error_max),  # one unexpected frame per tick
    ]
    assert rig.robot.unexpected_frames == 100 - 20


def test_error_frames_are_bus_errors(rig: CanRig) -> None:
    rig.inject(FaultRule(Action.ERROR_FRAME, where=knee_replies, start_tick=20))
    rig.loop.run(0.1)
    assert (FaultKind.BUS_ERRORS, None, 20 + rig.supervisor.settings.bus_error_max) in faults_of(
        rig)
    assert rig.robot.error_frames == 100 - 20


def test_a_dead_transmitter_fades_on_bus_errors_then_stops_on_stale_feedback(
    rig: CanRig,
) -> None:
    rig.inject_everywhere(FaultRule(Action.STOP, Direction.TX, start_tick=40))  # both buses
    report = rig.loop.run(0.1)
    # four failed sends a tick, counted at the next tick's check: more than ten at tick 43
    assert faults_of(rig)[0] == (FaultKind.BUS_ERRORS, None, 43)
    # the drives got nothing from tick 40: no replies, stale after the limit
    assert (FaultKind.STALE_FEEDBACK, "knee_angle_r", 40 + 1 + 3) in faults_of(rig)
    assert [e.kind for e in report.events if e.kind.startswith("stop:")] == [
        "stop:category_1", "stop:category_0"]
    assert rig.robot.send_failures == 4 * 60
    assert report.ticks == 100
