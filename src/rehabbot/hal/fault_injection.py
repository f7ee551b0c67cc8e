"""Fault injection on the CAN bus: a python-can bus that wraps any bus and misbehaves on schedule.

:class:`FaultInjectionBus` has the ``send``/``recv`` API of every python-can bus, so the HAL uses
it unchanged (``robot.bus_ = FaultInjectionBus(robot.bus_, rules, tick=lambda: clock.ticks)``
after ``configure()``). Each frame that passes through it, sent (``tx``) or received (``rx``), is
matched against the :class:`FaultRule` list in order; the first rule that matches (direction,
arbitration id, optional predicate, tick window, probability) acts on it:

* ``drop``: the frame is lost;
* ``delay``: the frame is held for ``delay_ticks`` ticks, then delivered (after newer frames);
* ``duplicate``: the frame is delivered twice;
* ``corrupt``: the data bytes are XORed with ``xor_mask``, or ``flip_bits`` random bits flip;
* ``truncate``: the data is cut to ``keep_bytes`` bytes (a wrong DLC);
* ``error_frame``: the frame is replaced by an error frame (a disturbed bus);
* ``stop``: the bus is dead: a send raises :class:`can.CanOperationError` (as a bus-off
  controller does), a received frame is lost.

Time is counted in ticks, deterministically: by default a tick is one *poll*, a ``recv`` that
found the receive queue empty (the HAL drains the queue once per control tick, so polls are
ticks); pass ``tick`` (e.g. the loop clock's tick count) to count the loop's ticks instead.
Random choices (``probability`` < 1, random bit flips) come from one generator seeded by
``seed``, so a run is reproducible.
"""

from __future__ import annotations

import copy
import random
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

import can


class Direction(Enum):
    """Which frames a rule acts on, seen from the wrapped side (the host)."""

    TX = "tx"
    RX = "rx"
    BOTH = "both"


class Action(Enum):
    """What a rule does to a frame it matches."""

    DROP = "drop"
    DELAY = "delay"
    DUPLICATE = "duplicate"
    CORRUPT = "corrupt"
    TRUNCATE = "truncate"
    ERROR_FRAME = "error_frame"
    STOP = "stop"


@dataclass(frozen=True)
class FaultRule:
    """One scheduled fault.

    Attributes:
        action: what happens to a matching frame.
        direction: the frames it acts on: sent (``tx``), received (``rx``) or both.
        ids: arbitration ids it acts on (None: all).
        where: a further predicate on the frame (e.g. the drive id in a reply's first byte).
        start_tick: first tick it acts at.
        stop_tick: first tick it no longer acts at (None: never stops).
        probability: chance that it acts on a matching frame, drawn from the seeded generator.
        delay_ticks: ``delay``: ticks a frame is held, >= 1.
        xor_mask: ``corrupt``: bytes XORed onto the data (from its first byte).
        flip_bits: ``corrupt`` without ``xor_mask``: how many random data bits flip.
        keep_bytes: ``truncate``: data bytes kept.

    >>> FaultRule(Action.DROP, Direction.RX, ids=frozenset({0}), start_tick=10, stop_tick=20)
    ... # doctest: +ELLIPSIS
    FaultRule(action=<Action.DROP: 'drop'>, direction=<Direction.RX: 'rx'>, ids=frozenset({0}), ...)
    """

    action: Action
    direction: Direction = Direction.RX
    ids: frozenset[int] | None = None
    where: Callable[[can.Message], bool] | None = None
    start_tick: int = 0
    stop_tick: int | None = None
    probability: float = 1.0
    delay_ticks: int = 1
    xor_mask: bytes | None = None
    flip_bits: int = 1
    keep_bytes: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"FaultRule: probability must be in [0, 1], got {self.probability}")
        if self.stop_tick is not None and self.stop_tick <= self.start_tick:
            raise ValueError("FaultRule: stop_tick must be after start_tick")
        if self.delay_ticks < 1 or self.flip_bits < 1 or self.keep_bytes < 0:
            raise ValueError("FaultRule: delay_ticks and flip_bits must be >= 1, keep_bytes >= 0")

    def matches(self, msg: can.Message, direction: Direction, tick: int) -> bool:
        """Whether this rule applies to ``msg`` going ``direction`` at ``tick`` (before the
        probability draw)."""
        return (
            self.direction in (direction, Direction.BOTH)
            and self.start_tick <= tick
            and (self.stop_tick is None or tick < self.stop_tick)
            and (self.ids is None or msg.arbitration_id in self.ids)
            and (self.where is None or self.where(msg))
        )


class FaultInjectionBus(can.BusABC):
    """A bus that passes frames to and from ``bus`` except where a rule says otherwise.

    Shutting it down shuts ``bus`` down.

    Args:
        bus: the bus to wrap.
        rules: the faults, first match wins.
        seed: seed of the random draws.
        tick: returns the current tick (default: the number of empty polls so far).

    Attributes:
        injected: how many frames each action acted on.
        polls: ``recv`` calls that found nothing to deliver.
    """

    def __init__(
        self,
        bus: can.BusABC,
        rules: Iterable[FaultRule] = (),
        *,
        seed: int = 0,
        tick: Callable[[], int] | None = None,
    ) -> None:
        self.bus = bus
        self.rules = tuple(rules)
        self.injected: Counter[Action] = Counter()
        self.polls = 0
        self.channel_info = f"fault injection on {bus.channel_info}"
        self._rng = random.Random(seed)
        self._tick = tick if tick is not None else lambda: self.polls
        self._ready: deque[can.Message] = deque()
        self._held: dict[Direction, list[tuple[int, can.Message]]] = {
            Direction.TX: [], Direction.RX: []}
        self._can_protocol = bus.protocol
        super().__init__(channel=self.channel_info)

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        """Send ``msg`` as the rules allow, after any held frame now due.

        Raises:
            can.CanOperationError: a ``stop`` rule is in force (or the wrapped bus raised).
        """
        for due in self._release(Direction.TX):
            self.bus.send(due, timeout)
        for out in self._apply(msg, Direction.TX):
            self.bus.send(out, timeout)

    def _recv_internal(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        for due in self._release(Direction.TX):
            self.bus.send(due, 0.0)
        self._ready.extend(self._release(Direction.RX))
        while not self._ready:
            msg = self.bus.recv(timeout)
            if msg is None:
                self.polls += 1
                return None, False
            self._ready.extend(self._apply(msg, Direction.RX))
            timeout = 0.0  # something arrived: do not wait again for what a rule took away
        return self._ready.popleft(), False

    def _release(self, direction: Direction) -> list[can.Message]:
        """The held frames of ``direction`` that are due now, oldest first."""
        held = self._held[direction]
        if not held:
            return []
        now = self._tick()
        due = [msg for when, msg in held if when <= now]
        if due:
            held[:] = [(when, msg) for when, msg in held if when > now]
        return due

    def _apply(self, msg: can.Message, direction: Direction) -> list[can.Message]:
        """What becomes of ``msg``: the frames to pass on now (none, one or two)."""
        tick = self._tick()
        rule = next((r for r in self.rules if r.matches(msg, direction, tick)), None)
        if rule is None or (rule.probability < 1.0 and self._rng.random() >= rule.probability):
            return [msg]
        self.injected[rule.action] += 1
        match rule.action:
            case Action.DROP:
                return []
            case Action.DELAY:
                self._held[direction].append((tick + rule.delay_ticks, msg))
                return []
            case Action.DUPLICATE:
                return [msg, copy.deepcopy(msg)]
            case Action.CORRUPT:
                return [self._corrupted(msg, rule)]
            case Action.TRUNCATE:
                cut = copy.deepcopy(msg)
                cut.data = bytearray(msg.data[: rule.keep_bytes])
                cut.dlc = len(cut.data)
                return [cut]
            case Action.ERROR_FRAME:
                return [can.Message(timestamp=msg.timestamp, is_error_frame=True,
                                    channel=msg.channel)]
        # Action.STOP
        if direction is Direction.TX:
            raise can.CanOperationError("bus off (injected fault)")
        return []

    def _corrupted(self, msg: can.Message, rule: FaultRule) -> can.Message:
        """A copy of ``msg`` with its data XORed by the rule's mask or with random bits flipped."""
        data = bytearray(msg.data)
        if rule.xor_mask is not None:
            mask = rule.xor_mask
        else:
            bits = self._rng.sample(range(8 * len(data)), min(rule.flip_bits, 8 * len(data)))
            flips = bytearray(len(data))
            for bit in bits:
                flips[bit // 8] |= 1 << (bit % 8)
            mask = bytes(flips)
        for i, m in enumerate(mask[: len(data)]):
            data[i] ^= m
        corrupted = copy.deepcopy(msg)
        corrupted.data = data
        return corrupted

    def shutdown(self) -> None:
        """Shut the wrapped bus down too."""
        super().shutdown()
        self.bus.shutdown()
