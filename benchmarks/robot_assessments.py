"""Accuracy of the robot-based assessments against the simulated patients' true parameters.

For each patient profile it runs one session of :data:`PROTOCOL` on the in-process simulated
plant: the battery of robot assessments (passive and active range of motion, stiffness and
isometric torque of both hips and knees) as controller procedures in the session's control loop
under its supervisor, then a short walk; and prints each stored result next to the patient
model's true one and the error:

* ROM: the model's passive limit at the threshold torque, or its active limit, kept within the
  robot's range of motion (``robot`` marks a value the robot's own limit set); error in deg.
* isometric: the model's largest voluntary torque at the held angle; error in % (``≥``
  marks an effort stronger than the robot holds within its actuator's rating: the measured value
  is a lower bound, and its "error" how far below the truth it is).
* stiffness: the joint's passive stiffness and damping (true below the stretch-reflex
  threshold; above it a spastic knee resists more, which is what the test shows); error in %.

The allowed range of :data:`PROTOCOL` is the robot's own, short of a 1 deg soft zone; ``robot``
marks the end of that range.

Usage: ``python benchmarks/robot_assessments.py [--profiles healthy stroke_left ...]``; it ends
with one line per profile: the session's status, its faults and the wall time.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rehabbot.assessment.robot.range_of_motion import expected_rom
from rehabbot.assessment.robot.recording import RobotSetup
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner, build_supervisor
from rehabbot.sim.patient import PASSIVE_DAMPING, PASSIVE_STIFFNESS, PatientModel
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.sim.world import JOINT_NAMES
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary

HEIGHT_M, MASS_KG = 1.75, 75.0
#: The battery, every hip and knee, then 2 s of walking; the robot's whole range allowed.
PROTOCOL = """name = "battery_benchmark"
title = "Robot assessment battery (benchmark)"
description = "Every robot assessment of every hip and knee, then a short walk."
controller = "impedance"
cadence_steps_per_min = 90
treadmill_speed_kmh = 3.0
body_weight_support_pct = 30
guidance_pct = 100
soft_zone_deg = 1

[stiffness_nm_per_rad]
hip_flexion = 800
knee_angle = 600

[damping_nms_per_rad]
hip_flexion = 20
knee_angle = 10

[range_of_motion_deg]
hip_flexion = [-29.7, 59.5]
knee_angle = [-2.8, 99.6]
""" + "".join(f"""
[[phases]]
name = "{name}"
kind = "assessment"
assessment = "{name}"
""" for name in ("passive_rom", "active_rom", "stiffness", "isometric")) + """
[[phases]]
name = "training"
kind = "training"
duration_s = 2
"""


def run_battery(profile: str) -> tuple[StoredSummary, str, RobotSetup, float]:
    """The stored summary of one battery session of ``profile``, its status, its setup and its
    wall time (s)."""
    robot = load_robot_config()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "battery.toml"
        path.write_text(PROTOCOL)
        protocol = load_protocol(path)
        start = time.perf_counter()
        result = SessionRunner(SessionRequest(robot, protocol, Path(tmp) / "s.sqlite",
                                              profile=profile)).run()
        wall_s = time.perf_counter() - start
        with SessionStore.open(Path(tmp) / "s.sqlite") as store:
            summary = store.session_summary(result.session_id) or StoredSummary()
    soft = build_supervisor(robot, protocol.training_phase).soft_limits
    return summary, result.status, RobotSetup.of(robot, soft, HEIGHT_M, MASS_KG), wall_s


def _flag(at_limit: object) -> str:
    return " robot" if at_limit else ""


def _title(profile: str, result: dict[str, Any]) -> str:
    reason = f", {result['reason']}" if result.get("reason") else ""
    return f"{profile}: {result['title']} ({result['status']}{reason})"


def rom_table(profile: str, result: dict[str, Any], patient: PatientModel,
              setup: RobotSetup) -> Table:
    """Measured vs true range of motion (deg) of every hip and knee."""
    name = result["name"]
    table = Table(title=_title(profile, result))
    for column in ("joint", "end", "measured (deg)", "true (deg)", "error (deg)"):
        table.add_column(column)
    for row in result["rows"]:
        joint = str(row["joint"])
        true = expected_rom(patient, joint, setup, active=name == "active_rom")
        for end, true_rad, true_flag in (
            ("extension", true.extension_rad, true.extension_at_robot_limit),
            ("flexion", true.flexion_rad, true.flexion_at_robot_limit),
        ):
            measured = float(row[f"{end}_deg"])
            table.add_row(joint, end, f"{measured:.2f}{_flag(row[f'{end}_at_robot_limit'])}",
                          f"{math.degrees(true_rad):.2f}{_flag(true_flag)}",
                          f"{measured - math.degrees(true_rad):+.2f}")
    return table


def isometric_table(profile: str, result: dict[str, Any], patient: PatientModel) -> Table:
    """Measured vs true maximal isometric torque (N·m) of every hip and knee."""
    table = Table(title=_title(profile, result))
    for column in ("joint", "angle (deg)", "direction", "measured (N·m)", "N·m/kg",
                   "true (N·m)", "error (%)"):
        table.add_column(column)
    for row in result["rows"]:
        joint, angle = str(row["joint"]), math.radians(float(row["angle_deg"]))
        for direction in ("flexion", "extension"):
            measured = float(row[f"{direction}_nm"])
            true = patient.max_voluntary_torque(joint, direction, angle)
            bound = "≥ " if row[f"{direction}_at_robot_limit"] else ""
            table.add_row(joint, f"{row['angle_deg']:.0f}", direction, f"{bound}{measured:.1f}",
                          f"{float(row[f'{direction}_nm_per_kg']):.2f}", f"{true:.1f}",
                          f"{100.0 * (measured / true - 1.0):+.1f}")
    return table


def stiffness_table(profile: str, result: dict[str, Any]) -> Table:
    """Measured stiffness and damping per joint and velocity vs the passive values."""
    table = Table(title=_title(profile, result))
    for column in ("joint", "velocity (deg/s)", "k (N·m/rad)", "passive k", "error of k (%)",
                   "b (N·m·s/rad)", "passive b", "error of b (%)"):
        table.add_column(column)
    for row in result["rows"]:
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
    outcomes = []
    for profile in args.profiles:
        patient = PatientModel(JOINT_NAMES, PROFILES[profile], MASS_KG, 90.0, seed=0)
        summary, status, setup, wall_s = run_battery(profile)
        results = summary.assessments
        console.print(f"{profile}: battery session {wall_s:.0f} s wall time")
        console.print(rom_table(profile, results["passive_rom"], patient, setup))
        console.print(rom_table(profile, results["active_rom"], patient, setup))
        console.print(isometric_table(profile, results["isometric"], patient))
        console.print(stiffness_table(profile, results["stiffness"]))
        outcomes.append(f"{profile}: {status}, faults: {', '.join(summary.faults) or 'none'}, "
                        f"{wall_s:.0f} s wall time")
    for line in outcomes:
        console.print(line)


if __name__ == "__main__":
    main()
