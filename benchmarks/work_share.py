"""The patient's share of the positive work in swing: estimate against the simulated truth.

For each bundled protocol given (default: transparent_walk, path_control, standard_gait) one
simulated session of the default robot and the demo patient (1.75 m, 75 kg) is run with the
simulated patient's torques recorded at every step (``tests/assessment/true_work.py``: its
``torques`` method wrapped, as ``benchmarks/controllers.py`` does). Per leg it prints the
estimated share (:mod:`rehabbot.assessment.work_share`: swing-leg inverse dynamics minus the
drive-measured torque) and the true share (the recorded patient torques, same velocities, same
robot work), and the RMS error of the estimated patient torque in swing (N·m).

    python benchmarks/work_share.py --seconds 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package

from rehabbot.assessment.gait_analysis import analyze_samples
from rehabbot.assessment.work_share import SwingLeg, derivatives, swing_mask, swing_work_share
from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.orthosis import ExoSegments
from rehabbot.session.runner import DEMO_PATIENT
from tests.assessment.true_work import simulate_with_true_torques, true_patient_work_j


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("protocols", nargs="*",
                        default=["transparent_walk", "path_control", "standard_gait"])
    args = parser.parse_args()
    leg = SwingLeg.from_body(
        BodyModel.from_height_mass(DEMO_PATIENT.height_m, DEMO_PATIENT.mass_kg), ExoSegments())
    table = Table(title=f"patient's share of the positive work in swing, {args.seconds:g} s "
                        f"simulated sessions")
    for column in ("protocol", "leg", "estimated (%)", "true (%)", "difference (pp)",
                   "RMS torque error hip/knee (N·m)"):
        table.add_column(column, justify="left" if column in ("protocol", "leg") else "right")
    for protocol in args.protocols:
        with tempfile.TemporaryDirectory() as folder:
            _, samples, true_tau = simulate_with_true_torques(
                protocol, args.seconds, Path(folder) / "store.sqlite")
        period = float(np.median(np.diff(samples.t_s)))
        analysis = analyze_samples(samples)
        for side, joints in (("right", [0, 1]), ("left", [2, 3])):
            strides = analysis.strides[side]
            offs, ends = strides["foot_off_s"], strides["end_s"]
            q = samples.q[:, joints]
            found = swing_work_share(samples.t_s, q, samples.tau[:, joints], offs, ends, leg)
            true_j = true_patient_work_j(samples, true_tau, joints, offs, ends)
            true_pct = 100.0 * true_j / (true_j + found.robot_j)
            swing = swing_mask(samples.t_s, offs, ends)
            qd, qdd = derivatives(q, period)
            estimated = leg.torques(q[swing], qd[swing], qdd[swing]) - samples.tau[swing][:, joints]
            rms = np.sqrt(np.mean((estimated - true_tau[swing][:, joints]) ** 2, axis=0))
            table.add_row(protocol, side, f"{found.patient_pct:.1f}", f"{true_pct:.1f}",
                          f"{found.patient_pct - true_pct:+.1f}", f"{rms[0]:.1f} / {rms[1]:.1f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
