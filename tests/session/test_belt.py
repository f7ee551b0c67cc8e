"""The belt is commanded without waiting, held stopped by every stop, released by a reset."""

from __future__ import annotations

import threading

from rehabbot.safety.faults import SafetyEvent, StopCategory
from rehabbot.session.belt import Belt


class SlowTreadmill:
    """A treadmill whose link blocks until the test lets it go; records what it was told."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.speeds: list[float] = []
        self.supports: list[float] = []

    def set_belt_speed(self, speed_mps: float) -> None:
        self.go.wait()
        self.speeds.append(speed_mps)

    def set_body_weight_support(self, fraction: float) -> None:
        self.go.wait()
        self.supports.append(fraction)


class Treadmill:
    def __init__(self) -> None:
        self.speeds: list[float] = []

    def set_belt_speed(self, speed_mps: float) -> None:
        self.speeds.append(speed_mps)

    def set_body_weight_support(self, fraction: float) -> None:
        pass


def stop(cause: str) -> SafetyEvent:
    return SafetyEvent(1.0, "stop:category_0", None, {"cause": cause}, StopCategory.TORQUE_OFF)


def test_a_blocking_treadmill_never_blocks_the_caller_and_gets_every_command_in_order() -> None:
    treadmill = SlowTreadmill()
    belt = Belt(treadmill, lambda: 0.0, blocks=True, speed_mps=0.8)
    belt.set_belt_speed(0.6)  # the loop's thread: returns although the link is stuck
    belt(stop("estop"))
    belt.set_body_weight_support(0.4)
    assert treadmill.speeds == [] and not treadmill.go.is_set()
    treadmill.go.set()
    belt.close()
    assert treadmill.speeds == [0.6, 0.0]
    assert treadmill.supports == [0.4]
    assert [c.why for c in belt.log] == ["protocol", "stop (estop)", "protocol"]


def test_a_stop_holds_the_belt_until_a_reset_which_restarts_it_at_the_walking_speed() -> None:
    treadmill = Treadmill()
    belt = Belt(treadmill, lambda: 0.0, blocks=False, speed_mps=0.8)
    belt(stop("position_limit"))
    belt.set_belt_speed(0.7)  # a phase change during the stop: kept, not applied
    belt(stop("standstill"))  # a second stop: the belt is already held
    assert treadmill.speeds == [0.0] and belt.held
    belt(SafetyEvent(2.0, "reset", None, {"cleared": "position_limit"}))
    assert treadmill.speeds == [0.0, 0.7] and not belt.held


def test_at_the_end_the_belt_stops_for_good() -> None:
    treadmill = Treadmill()
    belt = Belt(treadmill, lambda: 0.0, blocks=False, speed_mps=0.8)
    belt.end()
    belt(SafetyEvent(2.0, "reset", None, {}))
    belt.set_belt_speed(0.9)
    assert treadmill.speeds == [0.0]
