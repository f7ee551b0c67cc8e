"""What a lockstep tick allocates (issue 13 item 4): objects and memory per call of each part.

Runs a recorded simulated session (the bundled ``sim_exo`` robot, the ``standard_gait`` protocol,
lockstep, as ``rehabbot session run`` does) with ``tracemalloc`` on, and wraps each part of the
hot path (``robot.read``, ``supervisor.check``, the controller's ``update``, ``supervisor.limit``,
``robot.write``, the recorder's ``push``; and, off the hot path, the simulator's step) so that
every call is measured after a warm-up of ``--warmup`` calls:

* **kept blocks**: memory blocks alive after the call that were not before it
  (``sys.getallocatedblocks``): what a part returns new or keeps (a fresh state object, a list
  that grows); 0 for a part that makes nothing that outlives it;
* **transient bytes**: how far the traced memory rose above its level at the call's start
  (``tracemalloc`` peak): the temporaries a call makes and frees (numpy results, lists);
* **gc objects**: the change of CPython's young-generation count across the call
  (container objects made minus freed: what fills the young generation and brings a garbage
  collection, which the loop runs between ticks).

It also prints the loop's garbage collections during the run (``LoopReport.gc``). The wrapping
adds its own cost to the timing, never to these counts (they are taken inside the wrapper).

Usage: ``python benchmarks/tick_allocations.py [--seconds 3] [--warmup 500]``
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rehabbot.hal.config import load_robot_config
from rehabbot.hal.robot import CanRobot
from rehabbot.protocols.phased import PhasedController
from rehabbot.protocols.schema import load_protocol
from rehabbot.safety.supervisor import Supervisor
from rehabbot.session.battery import ShiftedSink
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.simulator import SimulatedExoskeleton

#: The parts measured: label → (class, method name).
PARTS: dict[str, tuple[type, str]] = {
    "robot.read": (CanRobot, "read"),
    "supervisor.check": (Supervisor, "check"),
    "controller.update": (PhasedController, "update"),
    "supervisor.limit": (Supervisor, "limit"),
    "robot.write": (CanRobot, "write"),
    "recorder.push": (ShiftedSink, "push"),
    "simulator step (not the hot path)": (SimulatedExoskeleton, "step"),
}


class Tally:
    """Per-call counts of one part after the warm-up."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.calls = 0
        self.kept: list[int] = []
        self.transient: list[int] = []
        self.gc_objects: list[int] = []

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """``method`` measured at every call."""
        blocks, traced, reset_peak = (sys.getallocatedblocks, tracemalloc.get_traced_memory,
                                      tracemalloc.reset_peak)

        def measured(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls <= self.warmup:
                return method(*args, **kwargs)
            reset_peak()
            start_bytes = traced()[0]
            young = gc.get_count()[0]
            start_blocks = blocks()
            result = method(*args, **kwargs)
            kept = blocks() - start_blocks
            young = gc.get_count()[0] - young
            peak = traced()[1]
            self.kept.append(kept)
            self.gc_objects.append(young)
            self.transient.append(peak - start_bytes)
            return result

        return measured


def main() -> None:
    """Run the session with every part wrapped and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="training phase (s)")
    parser.add_argument("--warmup", type=int, default=500, help="calls not counted, per part")
    args = parser.parse_args()
    tallies = {label: Tally(args.warmup) for label in PARTS}
    originals = {label: getattr(cls, name) for label, (cls, name) in PARTS.items()}
    for label, (cls, name) in PARTS.items():
        setattr(cls, name, tallies[label].wrap(originals[label]))
    tracemalloc.start()
    try:
        with tempfile.TemporaryDirectory(prefix="rehabbot-alloc-") as folder:
            result = SessionRunner(SessionRequest(
                load_robot_config(), load_protocol(), Path(folder) / "alloc.sqlite",
                duration_s=args.seconds,
            )).run()
    finally:
        tracemalloc.stop()
        for label, (cls, name) in PARTS.items():
            setattr(cls, name, originals[label])
    table = Table(title=f"allocations per call, {args.seconds:g} s session, "
                        f"after {args.warmup} calls of warm-up")
    for column in ("part", "calls", "kept blocks (mean)", "transient bytes (p50 / max)",
                   "gc objects (mean)"):
        table.add_column(column, justify="right")
    for label, tally in tallies.items():
        if not tally.kept:
            table.add_row(label, str(tally.calls), "-", "-", "-")
            continue
        transient = np.array(tally.transient)
        table.add_row(label, str(len(tally.kept)), f"{np.mean(tally.kept):.2f}",
                      f"{np.median(transient):,.0f} / {transient.max():,.0f}",
                      f"{np.mean(tally.gc_objects):.2f}")
    console = Console()
    console.print(table)
    loop = result.loop
    if loop is not None and loop.gc is not None:
        console.print(f"the loop's garbage collections over {loop.ticks} ticks (generation 0, 1, "
                      f"2): {loop.gc.by_generation}, {loop.gc.collections_in_slack} in the "
                      f"slack between ticks")


if __name__ == "__main__":
    main()
