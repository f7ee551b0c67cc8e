"""Where the microseconds of a lockstep tick go: a recorded simulated session under pyinstrument.

Runs ``rehabbot session run --duration S`` in-process (the bundled ``sim_exo`` robot, the
``standard_gait`` protocol, lockstep) under pyinstrument's sampling profiler and prints, for each
part of a tick, its time per tick (µs) and share of the run's loop. A part's time is the
inclusive time of its function wherever it is called from (``SimulatedExoskeleton.step`` runs
inside the lockstep clock's wait). Sampling costs little but is not free, and a loaded machine
stretches every part alike: compare shares between runs, and the µs only between runs made
under the same load. docs/simulation.md keeps the figures of the issue 19 work.

Needs pyinstrument (``pip install pyinstrument``).

Usage: ``python benchmarks/profile_session.py [--seconds 10] [--html PROFILE.html]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame
from rich.console import Console
from rich.table import Table

from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner

#: The parts of a tick: label → (function name, file name ending); nested parts are indented.
PARTS: dict[str, tuple[str, str]] = {
    "control loop (the run)": ("_run", "runtime/loop.py"),
    "  robot.read (HAL: drain buses, decode)": ("read", "hal/robot.py"),
    "  supervisor.check": ("check", "safety/supervisor.py"),
    "  controller.update": ("update", "protocols/phased.py"),
    "  supervisor.limit": ("limit", "safety/supervisor.py"),
    "  robot.write (HAL: encode, send)": ("write", "hal/robot.py"),
    "  recorder.push": ("push", "storage/recorder.py"),
    "  simulator step (in the clock's wait)": ("step", "sim/simulator.py"),
    "    emulators: take frames": ("receive", "sim/simulator.py"),
    "    patient model": ("torques", "sim/patient.py"),
    "    emulators: drive laws": ("joint_torques", "sim/simulator.py"),
    "    physics (world.step)": ("step", "sim/world.py"),
    "    foot contacts": ("foot_contacts", "sim/world.py"),
    "    emulators: replies": ("publish", "sim/simulator.py"),
}


def frames(root: Frame) -> Iterator[Frame]:
    """Every frame of the tree, depth first."""
    stack = [root]
    while stack:
        frame = stack.pop()
        yield frame
        stack.extend(frame.children)


def inclusive_s(root: Frame, function: str, file_end: str) -> float:
    """The time (s) of ``function`` of a file ending in ``file_end``, counted once where it
    calls itself or sits under another frame of the same function."""
    total = 0.0
    for frame in frames(root):
        if frame.function == function and (frame.file_path or "").endswith(file_end):
            parent, nested = frame.parent, False
            while parent is not None:
                if parent.function == function and (parent.file_path or "").endswith(file_end):
                    nested = True
                    break
                parent = parent.parent
            if not nested:
                total += frame.time
    return total


def main() -> None:
    """Profile one session and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="training phase (s)")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = parser.parse_args()
    profiler = Profiler(interval=0.0002)
    with tempfile.TemporaryDirectory(prefix="rehabbot-profile-") as folder:
        request = SessionRequest(load_robot_config(), load_protocol(),
                                 Path(folder) / "profile.sqlite", duration_s=args.seconds)
        runner = SessionRunner(request)
        profiler.start()
        result = runner.run()
        profiler.stop()
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    assert root is not None
    ticks = result.loop.ticks
    loop_s = inclusive_s(root, *PARTS["control loop (the run)"])
    table = Table(title=f"a lockstep tick under pyinstrument: {ticks} ticks, loop "
                        f"{loop_s / ticks * 1e6:.0f} µs/tick, load average "
                        f"{os.getloadavg()[0]:.1f}")
    for column, justify in (("part", "left"), ("µs/tick", "right"), ("share", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for label, (function, file_end) in PARTS.items():
        seconds = inclusive_s(root, function, file_end)
        table.add_row(label, f"{seconds / ticks * 1e6:.1f}", f"{seconds / loop_s:.0%}")
    Console().print(table)
    if args.html is not None:
        args.html.write_text(profiler.output_html())


if __name__ == "__main__":
    main()
