"""What the safety supervisor costs the control loop per tick.

Runs ``Supervisor.check`` then ``Supervisor.limit`` on the bundled sim_exo robot (four joints,
thermal and RMS monitors on, a range of motion on every joint, bus counters watched) with joints
that move a little every tick, and prints the per-tick time (p50/p99/max) of each call.

Usage: ``python benchmarks/safety_tick.py [--ticks 20000]``
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import numpy as np
from rich.console import Console
from rich.table import Table

from rehabbot.hal.config import load_robot_config
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.safety import JointLimits, SoftLimits, Supervisor


def main() -> None:
    """Time the supervisor and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20_000, help="ticks to time")
    args = parser.parse_args()
    config = load_robot_config("sim_exo")
    names = config.joint_names
    rom = {name: (-0.3, 0.9) if name.startswith("hip") else (0.0, 1.2) for name in names}
    soft = SoftLimits.from_rom(names, rom, JointLimits.from_config(config))
    supervisor = Supervisor.from_config(config, soft_limits=soft)
    state = JointState.zeros(len(names))
    command = JointCommand(np.full(4, 0.3), np.zeros(4), np.full(4, 600.0), np.full(4, 10.0))
    bus = SimpleNamespace(error_frames=0, send_failures=0, malformed_frames=0,
                          unexpected_frames=0)  # a bus without errors
    check_s, limit_s = np.zeros(args.ticks), np.zeros(args.ticks)
    perf = time.perf_counter
    for tick in range(args.ticks):
        state.t_s = tick * config.period_s
        state.q[:] = 0.2 + 0.1 * np.sin(2 * np.pi * state.t_s)
        start = perf()
        supervisor.check(state, command_age_s=config.period_s, bus=bus)
        middle = perf()
        supervisor.limit(command, state)
        limit_s[tick] = perf() - middle
        check_s[tick] = middle - start
    if supervisor.faults_:
        raise SystemExit(f"the benchmark tripped the supervisor: {supervisor.faults_}")
    table = Table(title=f"safety supervisor, {args.ticks} ticks, {len(names)} joints")
    for column in ("call", "p50 (µs)", "p99 (µs)", "max (µs)"):
        table.add_column(column, justify="right")
    for label, times in (("check", check_s), ("limit", limit_s), ("both", check_s + limit_s)):
        p50, p99 = np.percentile(times * 1e6, [50, 99])
        table.add_row(label, f"{p50:.1f}", f"{p99:.1f}", f"{times.max() * 1e6:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
