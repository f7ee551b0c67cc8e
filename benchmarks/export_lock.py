"""How long an export holds the store's write lock, and what staging costs.

An export writes into a private staging folder without any lock, then moves its files into place
and records them while holding the store's write lock
(:meth:`~rehabbot.storage.records.PatientRecords.finish_export`); the recorder's writes (and an
erasure) wait meanwhile, up to the store's 5 s busy timeout. This script records a synthetic
session of ``--minutes`` minutes of a 6-joint robot at 1 kHz (random samples written with
``SessionStore.write_block``), then exports it as CSV ``--repeat`` times and prints, per export,
the whole export's wall time and the time ``finish_export`` held the lock (ms), and the time of
the erasure of the patient afterwards (its files and rows, in one transaction, then VACUUM).

Usage: ``python benchmarks/export_lock.py [--minutes 2] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from rehabbot.export.base import prepare_folder, read_session
from rehabbot.export.csv import CsvExporter
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.samples import SampleBlock
from rehabbot.storage.store import SessionStore

JOINTS = ("hip_flexion_r", "knee_angle_r", "ankle_angle_r", "hip_flexion_l", "knee_angle_l",
          "ankle_angle_l")
BLOCK_TICKS = 500


def synthetic_session(store: SessionStore, minutes: float) -> int:
    """A consenting patient's session of random 1 kHz samples; its id."""
    patient = store.ensure_patient("BENCH-EXPORT")
    PatientRecords(store).set_consent("BENCH-EXPORT", True, date(2026, 1, 1), operator="bench")
    session = store.create_session(patient, "bench", "bench", 0.001, list(JOINTS), {})
    rng = np.random.default_rng(0)
    n, j = BLOCK_TICKS, len(JOINTS)
    for first in range(0, round(minutes * 60_000), n):
        tick = np.arange(first, first + n, dtype=np.int64)
        store.write_block(session, SampleBlock(
            tick=tick, t_s=tick * 0.001, phase=(tick % 1000) / 1000.0,
            contact=np.zeros((n, 2), bool), q=rng.normal(size=(n, j)) * 0.3,
            qd=rng.normal(size=(n, j)), tau=rng.normal(size=(n, j)),
            tau_cmd=rng.normal(size=(n, j)), q_ref=rng.normal(size=(n, j)) * 0.3))
    store.finish_session(session, "completed", {})
    return session


def export_once(store: SessionStore, session: int, out: Path) -> tuple[float, float]:
    """One CSV export through the intent, staging and finish steps: (total s, locked s)."""
    records = PatientRecords(store)
    began = time.perf_counter()
    folder, created = prepare_folder(out)
    intent = records.begin_export("csv", folder, root_created=created, session_id=session)
    CsvExporter().write(read_session(store, session), intent.staging)
    locked = time.perf_counter()
    records.finish_export(intent, "csv")
    ended = time.perf_counter()
    return ended - began, ended - locked


def main() -> None:
    """Export ``--repeat`` times, erase, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the session")
    parser.add_argument("--repeat", type=int, default=3, help="exports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, \
            SessionStore.open(Path(folder) / "s.sqlite") as store:
        session = synthetic_session(store, args.minutes)
        runs = [export_once(store, session, Path(folder) / f"out{i}")
                for i in range(args.repeat)]
        size = sum(f.stat().st_size for f in (Path(folder) / "out0").iterdir())
        began = time.perf_counter()
        report = PatientRecords(store).erase("BENCH-EXPORT", operator="bench")
        erased = time.perf_counter() - began
    totals = [t for t, _ in runs]
    locks = [lock for _, lock in runs]
    print(f"session {args.minutes:g} min, 6 joints at 1 kHz; CSV files {size / 1e6:.1f} MB")
    print(f"export wall time: median {statistics.median(totals):.2f} s "
          f"(min {min(totals):.2f}, max {max(totals):.2f}) over {args.repeat} exports")
    print(f"write lock held by finish_export: median {statistics.median(locks) * 1e3:.1f} ms "
          f"(min {min(locks) * 1e3:.1f}, max {max(locks) * 1e3:.1f})")
    print(f"erasure of the patient ({len(report.files_deleted)} files, then VACUUM): "
          f"{erased:.2f} s")


if __name__ == "__main__":
    main()
