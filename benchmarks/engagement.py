"""Engagement of simulated patients of different strength at the same guidance.

For each patient profile given (default: athletic, healthy, stroke_left, stroke_right,
sci_incomplete) and each seed one simulated session of the default robot with a bundled protocol
(default ``path_control``) is run in-process; its engagement measures
(:mod:`rehabbot.assessment.engagement`) are computed against one target band (default 0.5 to
10 N·m: the patient leads the robot). Printed per profile and seed: strides, the time in the band
per joint and part and overall (%), the patient's share of the positive work in swing from the
simulation's truth (the patient model's muscle torques, stored with the session) and from the
estimate a real robot has (interaction torques and the leg's inverse dynamics), and the
estimate's error against the truth (percentage points, right/left); then per profile the truth's
mean over the seeds.

With ``--per-stride`` it also prints, per profile, seed and side, each complete stride's true
work share in swing with the simulated patient's timing in that swing: ``foot off s: share %
(lead)``, the lead being how far the patient's own intended gait phase ran ahead of the robot's
cadence clock (% of a stride, mean over the swing; negative: the patient lagged). The patient's
phase is read by wrapping the patient model's ``torques`` (as ``benchmarks/controllers.py``
records its torques); the clock is the protocol's cadence from the session's start.

With ``--in-step`` every profile walks without stride-to-stride variability of its own rhythm
(``stride_variability = 0``), in step with the robot: the patient's timing then no longer drifts
against path control's clock-driven window, and the share shows strength alone
(docs/patient-display.md, "What sets the share").

    python benchmarks/engagement.py [--protocol path_control] [--seconds 12]
        [--band 0.5 10] [--profiles athletic healthy ...] [--seeds 0 1 2] [--per-stride]
        [--in-step]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from math import nan
from pathlib import Path
from typing import ClassVar

import numpy as np
from rich.console import Console
from rich.table import Table

import rehabbot.sim.simulator as simulator
from rehabbot.assessment.engagement import Engagement, FeedbackSettings, engagement
from rehabbot.assessment.gait_analysis import GaitAnalysis
from rehabbot.assessment.report import load_report_data
from rehabbot.assessment.work_share import SOURCE_TRUTH
from rehabbot.hal.config import load_robot_config
from rehabbot.hal.types import FloatArray
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.patient import PatientModel
from rehabbot.sim.patient_profiles import PROFILES

SIDES = ("right", "left")


class _PhaseLogged(PatientModel):
    """The patient model, its intended gait phase logged at every step: ``(t_s, phase)``."""

    log: ClassVar[list[tuple[float, float]]] = []

    def torques(self, t_s: float, q: FloatArray, qd: FloatArray, right_contact: bool
                ) -> FloatArray:
        tau = super().torques(t_s, q, qd, right_contact)
        self.log.append((t_s, self.phase_))
        return tau


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", default="path_control")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--band", type=float, nargs=2, default=(0.5, 10.0),
                        metavar=("LOW", "HIGH"), help="target band (N·m)")
    parser.add_argument("--profiles", nargs="+", default=[
        "athletic", "healthy", "stroke_left", "stroke_right", "sci_incomplete"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--per-stride", action="store_true",
                        help="print each stride's true work share and the patient's lead too")
    parser.add_argument("--in-step", action="store_true",
                        help="the profiles without stride-to-stride variability")
    args = parser.parse_args()
    unknown = [name for name in args.profiles if name not in PROFILES]
    if unknown:
        parser.error(f"unknown profile {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    console = Console(width=160)
    record = [(0.0, FeedbackSettings("bars", *args.band))]
    protocol = load_protocol(args.protocol)
    title = (f"{args.protocol}, {args.seconds:g} s, band {args.band[0]:g} to {args.band[1]:g} "
             f"N·m, seeds {' '.join(map(str, args.seeds))}")
    if args.in_step:
        for name in args.profiles:
            PROFILES[name] = replace(PROFILES[name], stride_variability=0.0)
        title += ", in step (no stride-to-stride variability)"
    table = Table(title="time in the band and work share, " + title)
    for column in ("profile", "seed", "strides R/L", "hip stance", "hip swing", "knee stance",
                   "knee swing", "overall", "work share truth R/L (%)", "estimate R/L (%)",
                   "estimate error R/L (pp)"):
        table.add_column(column, justify="right")
    means = Table(title="patient's share of the positive swing work (truth), mean over the "
                        "seeds, " + title)
    for column in ("profile", "right (%)", "left (%)", "both (%)"):
        means.add_column(column, justify="right")
    simulator.PatientModel = _PhaseLogged  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as folder:
        for profile in args.profiles:
            truths = []
            for seed in args.seeds:
                _PhaseLogged.log = []
                store = Path(folder) / f"{profile}-{seed}.sqlite"
                session_id = SessionRunner(SessionRequest(
                    robot=load_robot_config(), protocol=protocol, store_path=store,
                    duration_s=args.seconds, profile=profile, seed=seed)).run().session_id
                analysis = load_report_data(store, session_id).analysis
                found = engagement(analysis, record)
                if found.work_share_source != SOURCE_TRUTH:
                    raise SystemExit(f"{profile}: the session has no simulation truth "
                                     f"(work share from {found.work_share_source!r})")
                truth = [found.work_share_pct.get(s, nan) for s in SIDES]
                truths.append(truth)
                table.add_row(profile, str(seed), *_cells(found, truth))
                if args.per_stride:
                    _print_strides(console, f"{profile} seed {seed}", analysis,
                                   protocol.cadence_steps_per_min)
            mean = np.nanmean(truths, axis=0)
            means.add_row(profile, f"{mean[0]:.1f}", f"{mean[1]:.1f}", f"{mean.mean():.1f}")
    console.print(table)
    console.print(means)


def _cells(found: Engagement, truth: list[float]) -> list[str]:
    """The table's cells after profile and seed."""
    band = [f"{found.time_in_band[key].pct:.0f} %" if key in found.time_in_band else ""
            for key in (("hip", "stance"), ("hip", "swing"), ("knee", "stance"),
                        ("knee", "swing"))]
    estimate = [found.work_share_estimate_pct.get(s, nan) for s in SIDES]
    return ["/".join(str(found.strides[s]["start_s"].size) for s in SIDES), *band,
            f"{found.overall.pct:.0f} %", "/".join(f"{v:.1f}" for v in truth),
            "/".join(f"{v:.1f}" for v in estimate),
            "/".join(f"{e - t:+.1f}" for e, t in zip(estimate, truth, strict=True))]


def _print_strides(console: Console, label: str, analysis: GaitAnalysis,
                   cadence_steps_per_min: float) -> None:
    """Each complete stride's true work share in swing (%) and the patient's mean lead over
    the cadence clock in that swing (% of a stride), per side."""
    log = np.array(_PhaseLogged.log)
    t_s = log[:, 0]
    lead = (log[:, 1] - t_s * cadence_steps_per_min / 120.0 + 0.5) % 1.0 - 0.5
    for side in SIDES:
        strides = analysis.strides[side]
        cells = [f"{off:.1f} s: {share:.0f} ({100 * lead[(t_s >= off) & (t_s < end)].mean():+.0f})"
                 for off, end, share in zip(strides["foot_off_s"], strides["end_s"],
                                            strides["patient_work_share_swing_pct"], strict=True)]
        console.print(f"{label} {side}: " + "  ".join(cells))


if __name__ == "__main__":
    main()
