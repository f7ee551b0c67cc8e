"""How many samples per second the recorder commits to the SQLite store.

The loop's side pushes ``--samples`` ticks of a 4-joint robot into a
:class:`~rehabbot.storage.recorder.Recorder` as fast as one thread can (its ring holds them all,
so nothing is dropped); the writer thread commits them in blocks every ``commit_interval_s``.
Printed: the push cost per sample on the loop's side (µs), and the committed throughput
(samples/s) from the first push until ``stop()`` returned with everything stored, checked by
reading the samples back. A 1 kHz loop needs 1000 samples/s.

Usage: ``python benchmarks/recorder_throughput.py [--samples 200000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rehabbot.storage.recorder import Recorder
from rehabbot.storage.samples import Sample
from rehabbot.storage.store import SessionStore

JOINTS = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")


def run_once(folder: Path, samples: int) -> tuple[float, float]:
    """One recording of ``samples`` ticks: (push cost µs/sample, committed samples/s)."""
    store_path = folder / f"bench-{time.monotonic_ns()}.sqlite"
    with SessionStore.open(store_path) as store:
        patient = store.ensure_patient("BENCH-001")
        session = store.create_session(patient, "bench", "bench", 0.001, list(JOINTS), {})
    recorder = Recorder(store_path, session, len(JOINTS), capacity_ticks=samples)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(64, len(JOINTS)))  # a few distinct rows, reused
    sample = Sample.zeros(len(JOINTS))  # one sample repointed every tick, as the loop does
    sample.contact_r = True
    recorder.start()
    began = time.perf_counter()
    for tick in range(samples):
        row = q[tick % 64]
        sample.tick, sample.t_s, sample.phase = tick, tick * 0.001, (tick % 1000) / 1000
        sample.q = sample.qd = sample.tau = sample.tau_cmd = sample.q_ref = row
        recorder.push(sample)
    pushed = time.perf_counter()
    recorder.stop()
    stored = time.perf_counter()
    with SessionStore.open(store_path) as store:
        count = len(store.load_samples(session))
    if count != samples or recorder.dropped:
        raise SystemExit(f"stored {count} of {samples} samples, dropped {recorder.dropped}")
    return (pushed - began) / samples * 1e6, samples / (stored - began)


def main() -> None:
    """Record ``--repeat`` times and print the median figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000, help="ticks per recording")
    parser.add_argument("--repeat", type=int, default=3, help="recordings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_once(Path(folder), args.samples) for _ in range(args.repeat)]
    push_us = statistics.median(r[0] for r in runs)
    rate = statistics.median(r[1] for r in runs)
    print(f"recorder, {len(JOINTS)} joints, {args.samples} samples x {args.repeat} recordings "
          "(median):")
    print(f"  push on the loop's side: {push_us:.2f} µs per sample")
    print(f"  committed to SQLite: {rate:,.0f} samples/s ({rate / 1000:.0f}x a 1 kHz loop); "
          "every sample read back")


if __name__ == "__main__":
    main()
