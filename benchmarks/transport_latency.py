"""Round-trip time of one CAN frame and its answer, per transport: why the emulated robot's
buses are ``rehabbot_local`` (docs/hal.md, "The emulated robot's transport").

A host sends one 8-byte command frame; on the other side an echo answers it at once with one
8-byte reply; the host waits for the reply. Measured from ``send`` to the reply's return from
``recv`` (``time.perf_counter``), ``--count`` times, one round trip per millisecond (the rate of
the loop), after ``--warmup`` unmeasured ones. Transports:

* ``virtual``: python-can's in-process ``virtual`` bus, the echo in a thread of the same
  process (the in-process simulation's path);
* ``rehabbot_local``: :mod:`rehabbot.hal.transport`, the echo on a
  :class:`~rehabbot.hal.transport.LocalHub` in another process (the emulated robot's path);
* ``remote``: python-can-remote (a websocket on 127.0.0.1), its server and the echo (on a
  ``virtual`` bus) in another process; measured only if ``can_remote`` is installed
  (``pip install python-can-remote``).

Run: ``python benchmarks/transport_latency.py [--count 5000]``. Prints p50/p99/max (µs) per
transport. Timing figures on a shared machine are noisy: repeat and report the spread.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event

import can
import numpy as np

from rehabbot.hal.transport import SOCKET_DIR_ENV, LocalHub

COMMAND = can.Message(arbitration_id=0x001, data=bytes(8), is_extended_id=False)
REPLY = can.Message(arbitration_id=0x000, data=bytes(range(8)), is_extended_id=False)


def echo(bus: can.BusABC, stop: Callable[[], bool]) -> None:
    """Answer every command on ``bus`` with one reply until ``stop()``."""
    while not stop():
        msg = bus.recv(0.05)
        if msg is not None and msg.arbitration_id == COMMAND.arbitration_id:
            bus.send(REPLY)


def measure(bus: can.BusABC, count: int, warmup: int) -> np.ndarray:
    """Round-trip times (µs) of ``count`` command/reply pairs, one per millisecond."""
    times = []
    for k in range(count + warmup):
        start = time.perf_counter()
        bus.send(COMMAND)
        while (msg := bus.recv(1.0)) is not None and msg.arbitration_id != REPLY.arbitration_id:
            pass
        if msg is None:
            raise RuntimeError("no reply within 1 s")
        elapsed = time.perf_counter() - start
        if k >= warmup:
            times.append(elapsed * 1e6)
        time.sleep(max(0.0, 0.001 - elapsed))
    return np.array(times)


def virtual(count: int, warmup: int) -> np.ndarray:
    host = can.Bus(interface="virtual", channel="rtt")
    drive = can.Bus(interface="virtual", channel="rtt")
    done = threading.Event()
    thread = threading.Thread(target=echo, args=(drive, done.is_set))
    thread.start()
    try:
        return measure(host, count, warmup)
    finally:
        done.set()
        thread.join()
        host.shutdown()
        drive.shutdown()


def _hub_echo(socket_dir: str, ready: Event, stop: Event) -> None:
    os.environ[SOCKET_DIR_ENV] = socket_dir
    hub = LocalHub("rtt")
    ready.set()
    try:
        echo(hub, stop.is_set)
    finally:
        hub.shutdown()


def across_processes(server: Callable[..., None], args: tuple[object, ...],
                     open_host: Callable[[], can.BusABC], count: int, warmup: int) -> np.ndarray:
    """Round trips to an echo that ``server(*args, ready, stop)`` runs in another process."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    process = context.Process(target=server, args=(*args, ready, stop))
    process.start()
    ready.wait(60)
    host = open_host()
    try:
        return measure(host, count, warmup)
    finally:
        host.shutdown()
        stop.set()
        process.join()


def local(count: int, warmup: int) -> np.ndarray:
    socket_dir = tempfile.mkdtemp(prefix="rb-rtt-")
    os.environ[SOCKET_DIR_ENV] = socket_dir
    return across_processes(
        _hub_echo, (socket_dir,),
        lambda: can.Bus(interface="rehabbot_local", channel="rtt"), count, warmup)


def _remote_echo(port: int, ready: Event, stop: Event) -> None:
    from can_remote.server import RemoteServer

    server = RemoteServer(host="127.0.0.1", port=port, interface="virtual", channel="rtt")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    drive = can.Bus(interface="virtual", channel="rtt")
    ready.set()
    try:
        echo(drive, stop.is_set)
    finally:
        drive.shutdown()
        server.shutdown()


def remote(count: int, warmup: int) -> np.ndarray:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def open_host() -> can.BusABC:
        time.sleep(0.5)  # the HTTP server's thread
        return can.Bus(interface="remote", channel=f"ws://127.0.0.1:{port}/")

    return across_processes(_remote_echo, (port,), open_host, count, warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    runs: dict[str, Callable[[int, int], np.ndarray]] = {
        "virtual (in-process)": virtual, "rehabbot_local (cross-process)": local}
    if importlib.util.find_spec("can_remote") is not None:
        runs["python-can-remote (cross-process)"] = remote
    else:
        print("python-can-remote not installed: its row is left out")
    print(f"{'transport':36s} {'p50 µs':>8s} {'p99 µs':>8s} {'max µs':>8s}  (n={args.count})")
    for name, run in runs.items():
        rtt = run(args.count, args.warmup)
        p50, p99 = np.percentile(rtt, [50, 99])
        print(f"{name:36s} {p50:8.0f} {p99:8.0f} {rtt.max():8.0f}", flush=True)


if __name__ == "__main__":
    main()
