"""Engagement of simulated patients of different strength at the same guidance.

For each patient profile given (default: athletic, healthy, sci_incomplete) one simulated session
of the default robot with a bundled protocol (default ``path_control``, whose tunnel leaves the
patient free to lead) is run in-process; its engagement measures
(:mod:`rehabbot.assessment.engagement`) are computed against one target band (default 0.5 to
10 N·m: the patient leads the robot). Printed per profile: strides, the time in the band per
joint and part and overall (%), and the estimated patient's share of the positive work in swing.

    python benchmarks/engagement.py [--protocol path_control] [--seconds 12]
        [--band 0.5 10] [--profiles athletic healthy sci_incomplete]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rehabbot.assessment.engagement import FeedbackSettings, engagement
from rehabbot.assessment.report import load_report_data
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", default="path_control")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--band", type=float, nargs=2, default=(0.5, 10.0),
                        metavar=("LOW", "HIGH"), help="target band (N·m)")
    parser.add_argument("--profiles", nargs="+",
                        default=["athletic", "healthy", "sci_incomplete"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    record = [(0.0, FeedbackSettings("bars", *args.band))]
    table = Table(title=f"time in the band {args.band[0]:g} to {args.band[1]:g} N·m, "
                        f"{args.protocol}, {args.seconds:g} s, seed {args.seed}")
    for column in ("profile", "strides R/L", "hip stance", "hip swing", "knee stance",
                   "knee swing", "overall", "work share R/L (%)"):
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
            shares = "/".join(f"{found.work_share_pct.get(s, float('nan')):.0f}"
                              for s in ("right", "left"))
            strides = "/".join(str(found.strides[s]["start_s"].size) for s in ("right", "left"))
            table.add_row(profile, strides, *cells, f"{found.overall.pct:.0f} %", shares)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
