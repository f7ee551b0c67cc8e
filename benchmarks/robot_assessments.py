"""Accuracy of the robot-based assessments against the simulated patients' true parameters.

For each patient profile it runs, through :data:`~rehabbot.assessment.robot_assessments.
ROBOT_ASSESSMENTS`, the passive and active range of motion and the isometric torque of both hips
and knees, and their stiffness, and prints each measured value next to the patient model's
true one and the error:

* ROM: the model's passive limit at the threshold torque, or its active limit, kept within the
  robot's range of motion (``robot`` marks a value the robot's own limit set); error in deg.
* isometric: the model's largest voluntary torque at the held angle; error in % (``robot``
  marks an effort stronger than the robot's torque limit: not measured).
* stiffness: the joint's passive stiffness and damping (true below the stretch-reflex
  threshold; above it a spastic knee resists more, which is what the test shows); error in %.

Usage: ``python benchmarks/robot_assessments.py [--profiles healthy stroke_left ...]``
"""

from __future__ import annotations

import argparse
import math
import time

from rich.console import Console
from rich.table import Table

from rehabbot.assessment.robot_assessments import ROBOT_ASSESSMENTS
from rehabbot.assessment.robot_rom import expected_rom
from rehabbot.sim.patient import PASSIVE_DAMPING, PASSIVE_STIFFNESS, PROFILES, PatientModel
from rehabbot.sim.world import JOINT_NAMES

HEIGHT_M, MASS_KG = 1.75, 75.0


def _flag(at_limit: object) -> str:
    return " robot" if at_limit else ""


def rom_table(profile: str, name: str, patient: PatientModel) -> Table:
    """Measured vs true range of motion (deg) of every hip and knee."""
    start = time.perf_counter()
    result = ROBOT_ASSESSMENTS[name](PROFILES[profile], height_m=HEIGHT_M, mass_kg=MASS_KG)
    table = Table(title=f"{profile}: {result.title} ({time.perf_counter() - start:.1f} s)")
    for column in ("joint", "end", "measured (deg)", "true (deg)", "error (deg)"):
        table.add_column(column)
    for row in result.rows:
        joint = str(row["joint"])
        true = expected_rom(patient, joint, active=name == "active_rom")
        for end, true_rad, true_flag in (
            ("extension", true.extension_rad, true.extension_at_robot_limit),
            ("flexion", true.flexion_rad, true.flexion_at_robot_limit),
        ):
            measured = float(row[f"{end}_deg"])
            table.add_row(joint, end, f"{measured:.2f}{_flag(row[f'{end}_at_robot_limit'])}",
                          f"{math.degrees(true_rad):.2f}{_flag(true_flag)}",
                          f"{measured - math.degrees(true_rad):+.2f}")
    return table


def isometric_table(profile: str, patient: PatientModel) -> Table:
    """Measured vs true maximal isometric torque (N·m) of every hip and knee."""
    start = time.perf_counter()
    result = ROBOT_ASSESSMENTS["isometric"](PROFILES[profile], height_m=HEIGHT_M,
                                            mass_kg=MASS_KG)
    table = Table(title=f"{profile}: {result.title} ({time.perf_counter() - start:.1f} s)")
    for column in ("joint", "angle (deg)", "direction", "measured (N·m)", "N·m/kg",
                   "true (N·m)", "error (%)"):
        table.add_column(column)
    for row in result.rows:
        joint, angle = str(row["joint"]), math.radians(float(row["angle_deg"]))
        for direction in ("flexion", "extension"):
            measured = float(row[f"{direction}_nm"])
            true = patient.max_voluntary_torque(joint, direction, angle)
            table.add_row(joint, f"{row['angle_deg']:.0f}", direction,
                          f"{measured:.1f}{_flag(row[f'{direction}_at_robot_limit'])}",
                          f"{float(row[f'{direction}_nm_per_kg']):.2f}", f"{true:.1f}",
                          f"{100.0 * (measured / true - 1.0):+.1f}")
    return table


def stiffness_table(profile: str) -> Table:
    """Measured stiffness and damping per joint and velocity vs the passive values."""
    start = time.perf_counter()
    result = ROBOT_ASSESSMENTS["stiffness"](PROFILES[profile], height_m=HEIGHT_M,
                                            mass_kg=MASS_KG)
    table = Table(title=f"{profile}: {result.title} ({time.perf_counter() - start:.1f} s)")
    for column in ("joint", "velocity (deg/s)", "k (N·m/rad)", "passive k", "error of k (%)",
                   "b (N·m·s/rad)", "passive b", "error of b (%)"):
        table.add_column(column)
    for row in result.rows:
        kind = str(row["joint"]).rsplit("_", 1)[0]
        k, b = float(row["stiffness_nm_per_rad"]), float(row["damping_nms_per_rad"])
        true_k, true_b = PASSIVE_STIFFNESS[kind], PASSIVE_DAMPING[kind]
        table.add_row(str(row["joint"]), f"{row['peak_velocity_deg_s']:.0f}",
                      f"{k:.2f}", f"{true_k:.2f}", f"{100.0 * (k / true_k - 1.0):+.1f}",
                      f"{b:.2f}", f"{true_b:.2f}", f"{100.0 * (b / true_b - 1.0):+.1f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=sorted(PROFILES), choices=sorted(PROFILES))
    args = parser.parse_args()
    console = Console(width=170)
    for profile in args.profiles:
        patient = PatientModel(JOINT_NAMES, PROFILES[profile], MASS_KG, 90.0, seed=0)
        console.print(rom_table(profile, "passive_rom", patient))
        console.print(rom_table(profile, "active_rom", patient))
        console.print(isometric_table(profile, patient))
        console.print(stiffness_table(profile))


if __name__ == "__main__":
    main()
