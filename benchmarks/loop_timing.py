"""How well the control loop keeps a 1 kHz wall-clock pace with the full simulated stack, on an
idle machine and with a busy process on every core, side by side.

Each run is a recorded simulated session paced to the wall clock (``--realtime``), in a process
of its own: every tick reads the emulated drives over the python-can ``virtual`` bus, runs the
supervisor and the impedance controller, writes the commands, steps pybullet, and the recorder
thread writes SQLite. For each run it prints the lateness of the ticks' starts (p50/p99/p99.9/max),
the ticks skipped after stalls, the age of the command the drives executed (p99.9/max, the
quantity the command deadline judges), the compute time per tick, the garbage collections, the
stalls the stall watch recorded (ticks not over after 10 ms; docs/realtime.md) and the faults.
"busy" runs one process per core spinning at normal priority for the whole run.

Real-time settings (Linux): ``--fifo PRIORITY`` (SCHED_FIFO), ``--cpu N`` (affinity),
``--lock-memory`` (mlockall); settings the OS refuses are reported and skipped. ``--both``
runs every condition with and without them.

Usage: ``python benchmarks/loop_timing.py [--seconds 60] [--fifo 80] [--cpu 1] [--lock-memory]
[--both]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _spin() -> None:
    while True:
        pass


def session(seconds: float, fifo: int | None, cpu: int | None, lock: bool) -> dict[str, object]:
    """Run one realtime session through the CLI; its status and summary."""
    with tempfile.TemporaryDirectory(prefix="rehabbot-bench-") as folder:
        command = [sys.executable, "-m", "rehabbot", "session", "run", "--realtime", "--json",
                   "--duration", f"{seconds:g}", "--store", str(Path(folder) / "t.sqlite")]
        if fifo is not None:
            command += ["--fifo-priority", str(fifo)]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        if lock:
            command.append("--lock-memory")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"status": f"error: {done.stderr.strip().splitlines()[-1:]}", "summary": {}}
    result: dict[str, object] = json.loads(done.stdout)
    refused = [line for line in done.stderr.splitlines() if "not applied" in line]
    result["refused"] = refused
    return result


def run(seconds: float, busy: bool, fifo: int | None, cpu: int | None,
        lock: bool) -> dict[str, object]:
    """One session, with a spinning process per core while it runs if ``busy``."""
    spinners = []
    if busy:
        spinners = [multiprocessing.Process(target=_spin, daemon=True)
                    for _ in range(os.cpu_count() or 1)]
        for spinner in spinners:
            spinner.start()
    try:
        return session(seconds, fifo, cpu, lock)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.join()


def _cell(summary: dict[str, object], *path: str, scale: float = 1.0, digits: int = 0) -> str:
    value: object = summary
    for key in path:
        if not isinstance(value, dict) or value.get(key) is None:
            return "-"
        value = value[key]
    return f"{float(value) * scale:.{digits}f}" if isinstance(value, int | float) else str(value)


ROWS = (
    ("status", ("status",), 1.0, 0),
    ("lateness p50 (µs)", ("loop_timing", "lateness_us", "p50_us"), 1.0, 0),
    ("lateness p99 (µs)", ("loop_timing", "lateness_us", "p99_us"), 1.0, 0),
    ("lateness p99.9 (µs)", ("loop_timing", "lateness_us", "p999_us"), 1.0, 0),
    ("lateness max (µs)", ("loop_timing", "lateness_us", "max_us"), 1.0, 0),
    ("skipped ticks", ("loop_timing", "skipped_ticks"), 1.0, 0),
    ("ticks run", ("loop_timing", "command_age_us", "count"), 1.0, 0),
    ("command age p99.9 (ms)", ("loop_timing", "command_age_us", "p999_us"), 1e-3, 2),
    ("command age max (ms)", ("loop_timing", "command_age_us", "max_us"), 1e-3, 2),
    ("compute p99 (µs)", ("loop_compute", "p99_us"), 1.0, 0),
    ("compute max (µs)", ("loop_compute", "max_us"), 1.0, 0),
    ("GC collections (all in slack)", ("loop_timing", "gc", "by_generation"), 1.0, 0),
    ("GC collections outside slack", ("loop_timing", "gc", "outside_slack"), 1.0, 0),
    ("stalls >= 10 ms (loop_stall events)", ("loop_timing", "stalls"), 1.0, 0),
    ("loop thread's CPU share (%)", ("loop_timing", "cpu_share"), 100.0, 0),
)


def main() -> None:
    """Run the conditions and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="session length (s)")
    parser.add_argument("--fifo", type=int, default=None, help="SCHED_FIFO priority 1..99")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--lock-memory", action="store_true", help="mlockall the process")
    parser.add_argument("--both", action="store_true",
                        help="every condition with and without the real-time settings")
    args = parser.parse_args()
    settings = [(args.fifo, args.cpu, args.lock_memory)]
    if args.both:
        settings.insert(0, (None, None, False))
    conditions = [(busy, rt) for rt in settings for busy in (False, True)]
    results = []
    console = Console(stderr=True)
    for busy, (fifo, cpu, lock) in conditions:
        console.print(f"running {args.seconds:g} s, {'busy' if busy else 'idle'}, "
                      f"fifo {fifo}, cpu {cpu}, lock {lock}")
        results.append(run(args.seconds, busy, fifo, cpu, lock))
    table = Table(title=f"1 kHz wall-clock session, {args.seconds:g} s each "
                        f"({os.cpu_count()} cores; 'idle' shares the machine with whatever "
                        "else runs)")
    table.add_column("")
    for busy, (fifo, cpu, _) in conditions:
        rt = "no RT" if fifo is None else f"FIFO {fifo}" + ("" if cpu is None else f", CPU {cpu}")
        table.add_column(f"{'busy cores' if busy else 'idle'}, {rt}", justify="right")
    for label, path, scale, digits in ROWS:
        cells = []
        for result in results:
            merged = {"status": result["status"], **dict(result.get("summary") or {})}
            cells.append(_cell(merged, *path, scale=scale, digits=digits))
        table.add_row(label, *cells)
    faults = [";".join(str(f)[:60] for f in dict(r.get("summary") or {}).get("faults") or [])
              or "none" for r in results]
    table.add_row("faults", *faults)
    Console(width=220).print(table)
    for result in results:
        for line in result.get("refused") or []:
            console.print(f"[yellow]{line}[/yellow]")


if __name__ == "__main__":
    main()
