"""Engagement of simulated patients of different strength at the same guidance.

For each patient profile given (default: athletic, healthy, stroke_left, sci_incomplete) one
simulated session of the default robot with a bundled protocol (default ``path_control``) is run
in-process; its engagement measures (:mod:`rehabbot.assessment.engagement`) are computed against
one target band (default 0.5 to 10 N·m: the patient leads the robot). Printed per profile:
strides, the time in the band per joint and part and overall (%), the patient's share of the
positive work in swing from the simulation's truth (the patient model's muscle torques, stored
with the session) and from the estimate a real robot has (interaction torques and the leg's
inverse dynamics), and the estimate's error against the truth (percentage points, right/left).

With ``--per-stride`` it also prints, per profile and side, each complete stride's true
work share in swing (``foot off s: %``), to show how it changes along the session.

    python benchmarks/engagement.py [--protocol path_control] [--seconds 12]
        [--band 0.5 10] [--profiles athletic healthy stroke_left sci_incomplete] [--seed 0]
        [--per-stride]
"""

from __future__ import annotations

import argparse
import tempfile
from math import nan
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from rehabbot.assessment.engagement import FeedbackSettings, engagement
from rehabbot.assessment.gait_analysis import GaitAnalysis
from rehabbot.assessment.report import load_report_data
from rehabbot.assessment.work_share import SOURCE_TRUTH, true_swing_work_share
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore
from rehabbot.storage.truth import MUSCLE_TORQUE, load_truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", default="path_control")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--band", type=float, nargs=2, default=(0.5, 10.0),
                        metavar=("LOW", "HIGH"), help="target band (N·m)")
    parser.add_argument("--profiles", nargs="+",
                        default=["athletic", "healthy", "stroke_left", "sci_incomplete"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-stride", action="store_true",
                        help="print each stride's true work share too")
    args = parser.parse_args()
    console = Console(width=160)
    record = [(0.0, FeedbackSettings("bars", *args.band))]
    table = Table(title=f"time in the band {args.band[0]:g} to {args.band[1]:g} N·m, "
                        f"{args.protocol}, {args.seconds:g} s, seed {args.seed}")
    for column in ("profile", "strides R/L", "hip stance", "hip swing", "knee stance",
                   "knee swing", "overall", "work share truth R/L (%)", "estimate R/L (%)",
                   "estimate error R/L (pp)"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as folder:
        for profile in args.profiles:
            store = Path(folder) / f"{profile}.sqlite"
            session_id = SessionRunner(SessionRequest(
                robot=load_robot_config(), protocol=load_protocol(args.protocol),
                store_path=store, duration_s=args.seconds, profile=profile,
                seed=args.seed)).run().session_id
            data = load_report_data(store, session_id)
            found = engagement(data.analysis, record)
            cells = [f"{found.time_in_band[key].pct:.0f} %" if key in found.time_in_band
                     else "" for key in (("hip", "stance"), ("hip", "swing"),
                                         ("knee", "stance"), ("knee", "swing"))]
            if found.work_share_source != SOURCE_TRUTH:
                raise SystemExit(f"{profile}: the session has no simulation truth "
                                 f"(work share from {found.work_share_source!r})")
            sides = ("right", "left")
            truth = [found.work_share_pct.get(s, nan) for s in sides]
            estimate = [found.work_share_estimate_pct.get(s, nan) for s in sides]
            strides = "/".join(str(found.strides[s]["start_s"].size) for s in sides)
            table.add_row(profile, strides, *cells, f"{found.overall.pct:.0f} %",
                          "/".join(f"{v:.1f}" for v in truth),
                          "/".join(f"{v:.1f}" for v in estimate),
                          "/".join(f"{e - t:+.1f}" for e, t in zip(estimate, truth, strict=True)))
            if args.per_stride:
                _print_strides(console, profile, store, session_id, data.analysis)
    console.print(table)


def _print_strides(console: Console, profile: str, store: Path, session_id: int,
                   analysis: GaitAnalysis) -> None:
    """Each complete stride's true work share in swing (%), per side."""
    with SessionStore.open(store) as st:
        samples = st.load_walking_samples(session_id)
        truth = load_truth(st, session_id, MUSCLE_TORQUE)
    if truth is None:
        raise SystemExit(f"{profile}: the session has no simulation truth")
    muscle = truth.acting_from(samples.tick)
    for side, suffix in (("right", "_r"), ("left", "_l")):
        joints = [samples.joint_names.index(f"{name}{suffix}")
                  for name in ("hip_flexion", "knee_angle")]
        table = analysis.strides[side]
        shares = [true_swing_work_share(samples.t_s, samples.q[:, joints],
                                        samples.tau[:, joints], muscle[:, joints],
                                        np.array([off]), np.array([end])).patient_pct
                  for off, end in zip(table["foot_off_s"], table["end_s"], strict=True)]
        console.print(f"{profile} {side}: " + "  ".join(
            f"{off:.1f} s: {share:.0f}" for off, share in zip(table["foot_off_s"], shares,
                                                               strict=True)))


if __name__ == "__main__":
    main()
