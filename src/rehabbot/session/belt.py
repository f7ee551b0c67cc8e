"""The treadmill belt as a session commands it: off the control loop's thread, stopped with every
stop of the robot, restarted (ramped) after an accepted reset.

The belt is a device of the plant (:attr:`~rehabbot.session.plant.Plant.treadmill`), not a
joint: the 1 kHz tick never talks to it. :class:`Belt` takes every command (from the loop's
thread too: a phase change, a therapist's change of speed, a stop) without waiting and hands it
to the treadmill on a thread of its own, in order, for a treadmill whose commands can block (a
serial or network link, the emulated robot's side channel). An in-process simulation's belt is
a number in the simulation stepped by the loop's own clock: it is set at once, on the caller's
thread, so that a lockstep session stays deterministic.

:class:`Belt` is also an event sink of the walking loop: the supervisor's stop of any category
(``stop:category_0/1/2``: a latched fault, E-STOP, a pause) stops the belt and holds it stopped
(a phase change or a therapist's change of speed meanwhile is kept for later), and an accepted
``reset`` starts it again at the walking speed; the treadmill ramps both
(docs/safety.md, "Stops and the belt"). Every command the belt receives is logged with the
loop time and the reason, and stored with the session (``belt`` events).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from rehabbot.protocols.phased import Treadmill
from rehabbot.safety.faults import SafetyEvent

#: How long (s) :meth:`Belt.close` waits for the commands still queued to be handed over.
CLOSE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class BeltCommand:
    """One command the belt received.

    Attributes:
        t_s: loop time when it was given (s).
        speed_mps: belt speed asked for (m/s); None for a change of body-weight support.
        support: unloaded share of body weight asked for (0..1); None for a change of speed.
        why: who or what asked for it (``phase``, ``stop``, ``reset``, ``end``, ...).
    """

    t_s: float
    speed_mps: float | None
    support: float | None
    why: str

    def values(self) -> dict[str, object]:
        """The command as a session event's values."""
        return {"speed_mps": self.speed_mps, "body_weight_support": self.support,
                "why": self.why}


class Belt:
    """The plant's treadmill, commanded without waiting (module docstring).

    The walking speed the protocol asks for (:meth:`set_belt_speed`, a phase change or a
    therapist's change) is applied unless the belt is held stopped (:meth:`hold`, by a stop of
    the robot, or :meth:`end`, at the end of the walk): it is then kept, and applied when the
    hold is released (:meth:`release`, after an accepted reset).

    Args:
        treadmill: the plant's treadmill.
        now: the loop time (s), for the log.
        blocks: the treadmill's commands may wait (a link to a device): they are handed over on
            a thread of this object's; False: an in-process simulation, set at once.
        speed_mps: the belt's speed at the start (m/s).

    Attributes:
        walking_speed_mps: the speed the protocol asks for now (m/s).
        speed_mps: the speed last commanded (m/s).
        log: every command, in order (read it after :meth:`close`).
    """

    def __init__(self, treadmill: Treadmill, now: Callable[[], float], *, blocks: bool,
                 speed_mps: float = 0.0) -> None:
        self.treadmill = treadmill
        self.now = now
        self.walking_speed_mps = self.speed_mps = speed_mps
        self.log: list[BeltCommand] = []
        self._held = False
        self._ended = False
        self._queue: queue.SimpleQueue[BeltCommand | None] | None = None
        self._thread: threading.Thread | None = None
        if blocks:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._hand_over, name="belt", daemon=True)
            self._thread.start()

    @property
    def held(self) -> bool:
        """The belt is held stopped (a stop of the robot, or the end of the walk)."""
        return self._held or self._ended

    def set_belt_speed(self, speed_mps: float) -> None:
        """The protocol's walking speed (m/s): applied now unless the belt is held stopped."""
        self.walking_speed_mps = speed_mps
        if not self.held:
            self.command(speed_mps, None, "protocol")

    def set_body_weight_support(self, fraction: float) -> None:
        """Ask for an unloaded share ``fraction`` (0..1) of body weight; never waits."""
        self.command(None, fraction, "protocol")

    def hold(self, why: str) -> None:
        """Stop the belt (ramped by the treadmill) and hold it stopped until :meth:`release`."""
        if not self.held:
            self.command(0.0, None, why)
        self._held = True

    def release(self, why: str) -> None:
        """End a :meth:`hold`: the belt back to the walking speed (ramped by the treadmill);
        nothing once the walk is ending."""
        if self._held and not self._ended:
            self._held = False
            self.command(self.walking_speed_mps, None, why)

    def end(self) -> None:
        """The walk ends: stop the belt (ramped) for good."""
        if not self.held:
            self.command(0.0, None, "end of session")
        self._ended = True

    def command(self, speed_mps: float | None, support: float | None, why: str) -> None:
        """Ask for a speed (m/s) and/or a support (0..1), logged with ``why``; never waits."""
        if speed_mps is not None:
            self.speed_mps = speed_mps
        command = BeltCommand(self.now(), speed_mps, support, why)
        self.log.append(command)
        if self._queue is not None:
            self._queue.put(command)
        else:
            self._apply(command)

    def _apply(self, command: BeltCommand) -> None:
        if command.speed_mps is not None:
            self.treadmill.set_belt_speed(command.speed_mps)
        if command.support is not None:
            self.treadmill.set_body_weight_support(command.support)

    def _hand_over(self) -> None:
        """The belt's thread: hand each queued command to the treadmill, in order."""
        assert self._queue is not None
        while (command := self._queue.get()) is not None:
            self._apply(command)

    def close(self) -> None:
        """Hand over what is queued, then end the thread (waits at most
        :data:`CLOSE_TIMEOUT_S`)."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join(CLOSE_TIMEOUT_S)

    def __call__(self, event: SafetyEvent) -> None:
        """The walking loop's event sink (on the loop's thread: never waits): a stop of any
        category holds the belt stopped, an accepted reset releases it."""
        if event.kind.startswith("stop:category_"):
            self.hold(f"stop ({event.values.get('cause', event.kind)})")
        elif event.kind == "reset":
            self.release("reset")
