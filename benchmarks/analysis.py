"""Time and memory of the full gait analysis on one hour of 1 kHz data for four joints.

The recording is synthetic: hip and knee flexion of both sides follow the exoskeleton's reference
curves (Schwartz 2008, free speed; the hip as the thigh's angle to the vertical) with a stride
time varying slowly around 1.1 s, the left side half a stride behind, a commanded and a measured
torque per joint and the reference angles; 3.6 million samples. ``analyze_gait`` computes every
metric on it the way a recorded exoskeleton session is analysed (``analyze_samples``: the
exoskeleton's event method, events, per-stride parameters, statistics, symmetry, curves, scores,
assistance, biofeedback, the patient's share of the work in swing).

Figures: the best wall time of a few runs, and the peak of the memory allocated during one run
(tracemalloc, which sees numpy's buffers), next to the size of the raw data (times, angles and
commanded torques as float64). Aim: <= 2 s and total (raw + peak) <= 3x the raw data.

Usage: ``python benchmarks/analysis.py [--hours 1] [--rate 1000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from rehabbot.assessment.gait_analysis import analyze_gait
from rehabbot.assessment.kinematic_events import EXOSKELETON
from rehabbot.assessment.work_share import SwingLeg
from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.normative_gait import joint_curves
from rehabbot.body.orthosis import ExoSegments
from rehabbot.hal.types import FloatArray

JOINTS = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")


def synthetic_recording(hours: float, rate_hz: float
                        ) -> tuple[FloatArray, dict[str, FloatArray], dict[str, FloatArray]]:
    """Times (s), angles (rad) and commanded torques (N·m) of a synthetic walk."""
    t = np.arange(round(hours * 3600.0 * rate_hz)) / rate_hz
    stride_s = 1.1 + 0.05 * np.sin(2 * np.pi * t / 37.0)
    phase = np.cumsum(1.0 / stride_s) / rate_hz
    curves = joint_curves("Free")  # the exoskeleton's angles: the thigh against the vertical
    angles, torques = {}, {}
    for name in JOINTS:
        offset = 0.5 if name.endswith("_l") else 0.0
        angles[name] = curves[name[:-2]].value(phase + offset)
        torques[name] = 20.0 * np.sin(2 * np.pi * (phase + offset))
    return t, angles, torques


def run(t: FloatArray, angles: dict[str, FloatArray], torques: dict[str, FloatArray]) -> int:
    """One full analysis; returns the step count."""
    result = analyze_gait(
        t, angles, bias=EXOSKELETON, hip_reference="vertical", commanded_torque_nm=torques,
        guidance_pct=80.0, speed_m_s=1.2, reference_angle_rad=angles, measured_torque_nm=torques,
        swing_leg=SwingLeg.from_body(BodyModel.from_height_mass(1.75, 75.0), ExoSegments()),
    )
    return result.step_count


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="sample rate (Hz)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t, angles, torques = synthetic_recording(args.hours, args.rate)
    raw_mb = (t.nbytes + sum(a.nbytes for a in angles.values())
              + sum(a.nbytes for a in torques.values())) / 1e6
    times = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        steps = run(t, angles, torques)
        times.append(time.perf_counter() - began)
    tracemalloc.start()
    run(t, angles, torques)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 1e6
    print(f"samples: {t.size:,} at {args.rate:g} Hz × {len(JOINTS)} joints "
          f"({args.hours:g} h), {steps} steps analysed")
    print(f"analysis time: best {min(times):.2f} s, worst {max(times):.2f} s "
          f"of {args.repeat} runs (aim <= 2 s per hour)")
    print(f"raw data: {raw_mb:.0f} MB (times, angles, commanded torques; float64)")
    print(f"peak memory allocated by the analysis: {peak_mb:.0f} MB; raw + peak = "
          f"{(raw_mb + peak_mb) / raw_mb:.2f}× the raw data (aim <= 3×)")


if __name__ == "__main__":
    main()
