"""How fast the simulated stack runs: full-stack ticks/s next to raw pybullet steps/s.

Both walk the same model (the bundled ``sim_exo`` robot on the default 1.75 m, 75 kg patient, the
``standard_gait`` protocol) for the same simulated time:

* **raw pybullet**: :class:`~rehabbot.sim.world.TreadmillWorld` alone, a joint PD toward the gait
  reference computed in-process (no CAN, no drives, no patient, no loop, no recording);
* **full stack**: ``rehabbot session run`` minus the terminal: control loop, safety supervisor,
  impedance controller, ``CanRobot`` over the python-can lockstep bus, emulated MIT drives,
  patient model, foot contacts and the recorder thread writing SQLite.

The ratio full/raw is the overhead of everything rehabbot adds to the physics (aim: >= 0.5).
Besides steps per wall second, each is given per second of CPU time of the process
(``time.process_time``; for the full stack the marginal CPU of a tick: a run of ``--seconds``
minus a run of a tenth of it, so that building the world and the store does not count), which a
loaded machine distorts less than wall time.

Usage: ``python benchmarks/sim_speed.py [--seconds 20] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.normative_gait import GaitReference
from rehabbot.body.orthosis import ExoSegments
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.runtime.loop import LoopReport
from rehabbot.session.runner import DEMO_PATIENT, SessionRequest, SessionRunner
from rehabbot.sim.simulator import initial_pose
from rehabbot.sim.world import ACTUATED_JOINTS, TreadmillWorld

STIFFNESS_NM_PER_RAD = np.array([800.0, 600.0, 800.0, 600.0])
DAMPING_NMS_PER_RAD = np.array([20.0, 10.0, 20.0, 10.0])


def raw_steps_per_s(seconds: float) -> tuple[float, float]:
    """(steps per wall second, steps per CPU second) of the treadmill world walking under an
    in-process joint PD."""
    protocol = load_protocol()
    config = load_robot_config()
    world = TreadmillWorld(
        BodyModel.from_height_mass(DEMO_PATIENT.height_m, DEMO_PATIENT.mass_kg),
        belt_speed_mps=protocol.treadmill_speed_mps,
        body_weight_support=protocol.body_weight_support_pct / 100.0,
        time_step_s=config.period_s,
        exo=ExoSegments(),
    )
    reference = GaitReference(ACTUATED_JOINTS)
    world.reset_pose(initial_pose(world.joint_names))
    stride_s = 120.0 / protocol.cadence_steps_per_min
    torques = np.zeros(len(world.joint_names))
    n = round(seconds / config.period_s)
    began, began_cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        q, qd = world.read_joints()
        q_ref, dq_ref = reference.evaluate(world.time_s / stride_s)
        torques[:4] = STIFFNESS_NM_PER_RAD * (q_ref - q[:4]) + DAMPING_NMS_PER_RAD * (
            dq_ref / stride_s - qd[:4])
        world.apply_torques(torques)
        world.step()
        world.foot_contacts()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    world.close()
    return n / elapsed, n / cpu


def session(seconds: float) -> tuple[LoopReport, float]:
    """The loop's report of a recorded simulated session and the CPU time (s) of the run."""
    with tempfile.TemporaryDirectory(prefix="rehabbot-bench-") as folder:
        began = time.process_time()
        result = SessionRunner(SessionRequest(
            load_robot_config(), load_protocol(), Path(folder) / "bench.sqlite",
            duration_s=seconds,
        )).run()
        return result.loop, time.process_time() - began


def full_stack(seconds: float) -> tuple[float, float, float, float]:
    """(ticks per wall second, ticks per CPU second, compute p50 µs, p99 µs) of a recorded
    simulated session."""
    short, short_cpu = session(seconds / 10)
    report, cpu = session(seconds)
    compute = report.compute
    assert compute is not None
    per_cpu = (report.ticks - short.ticks) / (cpu - short_cpu)
    return report.ticks / report.wall_s, per_cpu, compute.p50_us, compute.p99_us


def main() -> None:
    """Measure both and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated time per run (s)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of both, to show the spread")
    args = parser.parse_args()
    seconds = args.seconds
    console = Console()
    for run in range(1, args.repeat + 1):
        raw, raw_cpu = raw_steps_per_s(seconds)
        full, full_cpu, p50, p99 = full_stack(seconds)
        table = Table(title=f"simulation speed, {seconds:g} s simulated at 1 kHz, run {run}; "
                            f"load average {os.getloadavg()[0]:.1f}")
        table.add_column("what")
        table.add_column("steps/s", justify="right")
        table.add_column("x real time", justify="right")
        table.add_column("steps/CPU s", justify="right")
        table.add_row("raw pybullet (world + PD)", f"{raw:,.0f}", f"{raw / 1000:.1f}",
                      f"{raw_cpu:,.0f}")
        table.add_row("full stack (CAN, drives, loop, store)", f"{full:,.0f}",
                      f"{full / 1000:.1f}", f"{full_cpu:,.0f}")
        console.print(table)
        console.print(f"ratio full/raw: {full / raw:.2f} wall, {full_cpu / raw_cpu:.2f} CPU "
                      f"(aim >= 0.5); loop compute per tick p50 {p50:.0f} µs, p99 {p99:.0f} µs")


if __name__ == "__main__":
    main()
