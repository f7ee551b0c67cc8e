"""What the loop's sample path costs per tick: one :class:`Sample` through the tee to the
recorder and a live ring.

Each tick fills the loop's one :class:`~rehabbot.storage.samples.Sample` as
:class:`~rehabbot.runtime.loop.ControlLoop` does (its fields repointed at the tick's arrays) and
pushes it through a :class:`~rehabbot.runtime.loop.TeeSink` to a
:class:`~rehabbot.storage.recorder.Recorder` (4 joints, writer thread committing SQLite) and a
:class:`~rehabbot.runtime.ring.RingWriter`. Printed: µs per tick on the loop's side, median, min
and max over ``--repeat`` runs. The time is the pushing thread's CPU time
(``time.thread_time``), which other processes on a shared machine distort less than wall time;
it leaves out the time the thread waits for the CPU or for the GIL (the recorder's writer thread
holds it while it copies a block).

Usage: ``python benchmarks/sample_push.py [--ticks 100000] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rehabbot.runtime.loop import TeeSink
from rehabbot.runtime.ring import LiveRing, RingWriter
from rehabbot.storage.recorder import Recorder
from rehabbot.storage.samples import Sample
from rehabbot.storage.store import SessionStore

JOINTS = 4


def run_once(folder: Path, ticks: int) -> float:
    """Push ``ticks`` samples through the tee; µs per tick on the pushing side."""
    path = folder / f"bench-{time.monotonic_ns()}.sqlite"
    with SessionStore.open(path) as store:
        patient = store.ensure_patient("BENCH-001")
        session = store.create_session(patient, "bench", "bench", 0.001,
                                       [f"joint_{j}" for j in range(JOINTS)], {})
    recorder = Recorder(path, session, JOINTS, capacity_ticks=ticks)
    ring = LiveRing(JOINTS)
    writer = RingWriter(ring.spec)
    tee = TeeSink(recorder, writer)
    rows = np.random.default_rng(0).normal(size=(64, JOINTS))
    sample = Sample.zeros(JOINTS)
    recorder.start()
    began = time.thread_time()
    for tick in range(ticks):
        row = rows[tick % 64]
        sample.tick, sample.t_s, sample.phase = tick, tick * 0.001, 0.5
        sample.contact_r, sample.contact_l = True, False
        sample.q, sample.qd, sample.tau, sample.q_ref = row, row, row, row
        tee.push(sample)
    per_tick_us = (time.thread_time() - began) / ticks * 1e6
    recorder.stop()
    writer.close()
    ring.close()
    return per_tick_us


def main() -> None:
    """Run ``--repeat`` times and print median, min and max."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=100_000, help="ticks per run")
    parser.add_argument("--repeat", type=int, default=7, help="runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_once(Path(folder), args.ticks) for _ in range(args.repeat)]
    print(f"sample path (tee -> recorder + ring), {JOINTS} joints, {args.ticks} ticks x "
          f"{args.repeat}: median {statistics.median(runs):.2f} µs CPU per tick "
          f"(min {min(runs):.2f}, max {max(runs):.2f})")


if __name__ == "__main__":
    main()
