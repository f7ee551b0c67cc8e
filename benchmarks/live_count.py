"""Cost of the one step count: the console's live counter and the session PDF report.

Usage::

    python benchmarks/live_count.py [--seconds 60] [--repeats 3]

Records one simulated session (lockstep) of ``--seconds``, then, ``--repeats`` times:

* feeds its samples to :class:`~rehabbot.gui.live_stats.LiveStats` a console frame (30 rows,
  30 ms at 1 kHz) at a time, as the console reads them off the ring, and prints the mean cost of
  a frame and the cost of the frames that re-detect the events (once a second, over the last
  15 s, WINDOW_S); and whether the live count, after ``finish``, equals the stored summary's;
* times :func:`~rehabbot.assessment.summary.gait_counts` over the whole session;
* times writing the session's PDF report.

Figures are wall time on whatever else the machine is doing: repeat them and read the spread.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rehabbot.assessment.report import session_report
from rehabbot.assessment.summary import gait_counts
from rehabbot.gui.live_stats import LiveStats
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.runtime.ring import LiveBlock
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary

FRAME_ROWS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "s.sqlite"
        session_id = SessionRunner(SessionRequest(
            robot=load_robot_config(), protocol=load_protocol(), store_path=store,
            duration_s=args.seconds)).run().session_id
        with SessionStore.open(store) as st:
            s = st.load_samples(session_id)
            summary = st.session_summary(session_id) or StoredSummary()
        rows = np.column_stack((s.tick, s.t_s, s.phase, s.contact.astype(float), s.q, s.qd,
                                s.tau, s.tau_cmd, s.q_ref))
        print(f"session of {args.seconds:g} s: {summary.step_count} steps stored")
        for repeat in range(args.repeats):
            stats = LiveStats(s.joint_names)
            frames, recounts = [], []
            for start in range(0, len(rows), FRAME_ROWS):
                before = stats.recounts
                t0 = time.perf_counter()
                stats.update(LiveBlock(rows[start:start + FRAME_ROWS], s.q.shape[1], 0))
                cost = time.perf_counter() - t0
                (recounts if stats.recounts != before else frames).append(cost)
            stats.finish()
            t0 = time.perf_counter()
            counts = gait_counts(s.t_s, s.q, s.joint_names)
            whole = time.perf_counter() - t0
            t0 = time.perf_counter()
            session_report(store, session_id, Path(folder) / f"r{repeat}.pdf", operator="bench")
            pdf = time.perf_counter() - t0
            print(f"run {repeat + 1}: frame {1e3 * statistics.mean(frames):.3f} ms mean; "
                  f"re-detecting frame {1e3 * statistics.median(recounts):.1f} ms median, "
                  f"{1e3 * max(recounts):.1f} ms max ({len(recounts)} of them); live count "
                  f"{stats.counts.step_count} == stored {summary.step_count}: "
                  f"{stats.counts.step_count == summary.step_count}; whole-session "
                  f"count {1e3 * whole:.0f} ms ({counts.step_count} steps); PDF {pdf:.1f} s")


if __name__ == "__main__":
    main()
