"""How well the control loop keeps a 1 kHz wall-clock pace with the full simulated stack.

Runs a recorded simulated session paced to the wall clock (sleep-then-spin, ``--realtime``): every
tick reads the emulated drives over the python-can ``virtual`` bus, runs the supervisor and the
impedance controller, writes the commands, steps pybullet, and the recorder thread writes SQLite.
Prints the lateness of each tick's start against its deadline (p50/p99/p99.9/max), the number
of overruns (ticks whose compute alone exceeded the period, or that started a whole period late),
and per joint the latency from sending a command to the arrival of the drive's reply.

Optional real-time settings (Linux): ``--fifo PRIORITY`` (SCHED_FIFO), ``--cpu N`` (affinity),
``--lock-memory`` (mlockall); settings the OS refuses are reported and skipped.

Usage: ``python benchmarks/loop_timing.py [--seconds 60] [--fifo 80] [--cpu 1] [--lock-memory]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.runtime.realtime import RealtimeSettings, apply_realtime
from rehabbot.session.runner import SessionRequest, SessionRunner


def main() -> None:
    """Run the paced session and print its timing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="session length (s)")
    parser.add_argument("--fifo", type=int, default=None, help="SCHED_FIFO priority 1..99")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--lock-memory", action="store_true", help="mlockall the process")
    args = parser.parse_args()
    console = Console()
    report = apply_realtime(RealtimeSettings(
        fifo_priority=args.fifo,
        cpus=frozenset({args.cpu}) if args.cpu is not None else None,
        lock_memory=args.lock_memory,
    ))
    for line in report.applied:
        console.print(f"real-time: {line}")
    for line in report.refused:
        console.print(f"[yellow]real-time setting refused:[/yellow] {line}")
    with tempfile.TemporaryDirectory(prefix="rehabbot-bench-") as folder:
        result = SessionRunner(SessionRequest(
            load_robot_config(), load_protocol(), Path(folder) / "timing.sqlite",
            duration_s=args.seconds, realtime=True,
        )).run()
    loop = result.loop
    assert loop.lateness is not None and loop.compute is not None
    table = Table(title=f"1 kHz wall-clock pacing, {loop.ticks} ticks ({result.status})")
    table.add_column("per tick")
    for name in ("p50", "p99", "p99.9", "max"):
        table.add_column(f"{name} (µs)", justify="right")
    table.add_column("over period", justify="right")
    for label, stats in (("start lateness", loop.lateness), ("compute", loop.compute)):
        table.add_row(label, f"{stats.p50_us:.0f}", f"{stats.p99_us:.0f}",
                      f"{stats.p999_us:.0f}", f"{stats.max_us:.0f}", str(stats.overruns))
    console.print(table)
    latency = Table(title="command-to-reply latency per joint (frame timestamps)")
    latency.add_column("joint")
    for name in ("p50", "p99", "p99.9", "max"):
        latency.add_column(f"{name} (µs)", justify="right")
    latency.add_column("over period", justify="right")
    replies = result.extra["reply_latency_us"]
    assert isinstance(replies, dict)
    for joint, stats in replies.items():
        latency.add_row(joint, f"{stats['p50_us']:.0f}", f"{stats['p99_us']:.0f}",
                        f"{stats['p999_us']:.0f}", f"{stats['max_us']:.0f}",
                        str(stats["overruns"]))
    console.print(latency)
    console.print(f"wall time {loop.wall_s:.1f} s for {loop.duration_s:.1f} s of loop time; "
                  f"dropped samples {result.dropped_samples}")
    for fault in loop.faults:
        console.print(f"fault: {fault.describe()}")


if __name__ == "__main__":
    main()
