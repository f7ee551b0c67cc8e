"""A CAN bus inside one process, for the simulator: the python-can interface ``rehabbot_lockstep``.

The in-process simulation owns both ends of its buses: the host's :class:`~rehabbot.hal.robot.
CanRobot` and the emulated drives run in one process, on one thread while the loop ticks. Such a
bus needs no lock, no per-receiver copy and no thread-safe queue, which python-can's ``virtual``
interface pays for on every frame (about 12 µs a frame there, measured in docs/simulation.md).
:class:`LockstepBus` is still a python-can bus (``can.Bus(interface="rehabbot_lockstep",
channel=...)``, registered through the ``can.interface`` entry point like ``rehabbot_local``) and
carries the same frames through the same HAL code; it only hands them over directly:

* every handle opened on a channel in this process receives, in order, each frame another handle
  on that channel sends (never its own), as on a real bus and on ``virtual``;
* the frame is handed over, not copied: a sender must not change a frame after sending it, and
  receivers must not change what they receive (rehabbot's drives build every frame anew). Sending
  stamps the frame's ``timestamp`` with ``time.time()`` (what ``virtual`` stamps) and marks it
  received (``is_rx``);
* ``recv(0.0)`` takes a waiting frame or returns None at once; a wait (``recv(timeout)``, which
  only configure-time exchanges such as CANopen SDO use, with a serving thread on the other end)
  polls every :data:`POLL_S`. Appending to and popping from a :class:`collections.deque` are
  atomic in CPython, so such a thread needs no lock either;
* ``send`` never blocks and never fails while the handle is open; a closed handle raises
  :class:`can.CanOperationError`, as ``virtual`` does.

What needs the ``virtual`` semantics (a receive queue of bounded size, own messages reflected,
copies a receiver may change) keeps using ``virtual``; the HAL's transport contract
(tests/hal/test_transport_contract.py) runs over both.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import can

from rehabbot.hal.config import BusConfig

#: python-can's interface name of :class:`LockstepBus`.
INTERFACE = "rehabbot_lockstep"
#: How often a waiting ``recv`` looks for a frame (s).
POLL_S = 0.0002

#: The receive queues of the open handles, per channel, in opening order.
_channels: dict[str, list[deque[can.Message]]] = {}


class LockstepBus(can.BusABC):
    """A handle on an in-process lockstep channel (python-can interface ``rehabbot_lockstep``).

    Args:
        channel: the channel's name; handles of this process on the same name share the bus.
        kwargs: other python-can options (bitrates and the like; ignored).

    >>> host = can.Bus(interface="rehabbot_lockstep", channel="doctest-lockstep")
    >>> drive = can.Bus(interface="rehabbot_lockstep", channel="doctest-lockstep")
    >>> host.send(can.Message(arbitration_id=1, data=b"hi", is_extended_id=False))
    >>> bytes(drive.recv(0.0).data), host.recv(0.0)
    (b'hi', None)
    >>> host.shutdown(); drive.shutdown()
    """

    def __init__(self, channel: str, **kwargs: Any) -> None:
        self._channel = str(channel)
        self._queue: deque[can.Message] = deque()
        self._peers = _channels.setdefault(self._channel, [])
        self._peers.append(self._queue)
        self._open = True
        self.channel_info = f"rehabbot_lockstep {self._channel}"
        kwargs.pop("bitrate", None)
        kwargs.pop("data_bitrate", None)
        kwargs.pop("fd", None)
        super().__init__(channel=channel, **kwargs)

    def _recv_internal(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        queue = self._queue
        if queue:
            return queue.popleft(), False
        if not self._open:
            raise can.CanOperationError(f"lockstep channel {self._channel!r}: handle is closed")
        if timeout is not None and timeout <= 0.0:
            return None, False
        deadline = None if timeout is None else time.monotonic() + timeout
        while not queue:
            if deadline is not None and time.monotonic() >= deadline:
                return None, False
            time.sleep(POLL_S)
        return queue.popleft(), False

    def recv(self, timeout: float | None = None) -> can.Message | None:
        """The next frame another handle sent, waiting up to ``timeout`` s (None: for ever).

        Without filters a waiting frame is taken directly (the loop's path, ``recv(0.0)``);
        otherwise python-can's generic receive (filters, waiting) runs.
        """
        if self._queue and self._filters is None:
            return self._queue.popleft()
        return super().recv(timeout)

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        """Hand ``msg`` to every other handle on the channel (stamped, marked received).

        Raises:
            can.CanOperationError: this handle is closed.
        """
        if not self._open:
            raise can.CanOperationError(f"lockstep channel {self._channel!r}: handle is closed")
        msg.timestamp = time.time()
        msg.is_rx = True
        own = self._queue
        for queue in self._peers:
            if queue is not own:
                queue.append(msg)

    def shutdown(self) -> None:
        """Leave the channel (frames still waiting for this handle are dropped)."""
        super().shutdown()
        if self._open:
            self._open = False
            own = self._queue  # by identity: deques compare by content
            self._peers[:] = [queue for queue in self._peers if queue is not own]
            if not self._peers:
                _channels.pop(self._channel, None)


def open_lockstep_bus(config: BusConfig, channel: str) -> can.BusABC:
    """Open ``channel`` of bus ``config`` on the lockstep interface, through python-can's
    ``can.Bus`` and the interface's entry point (a :data:`~rehabbot.hal.bus.BusOpener`)."""
    return can.Bus(interface=INTERFACE, channel=channel)
