"""A synthetic walker whose gait events and joint ranges are known exactly.

Per side, over the gait phase φ (cycles, foot strike at φ = 0):

* hip flexion 0.4·cos(2π w(φ)) rad, where w warps φ piecewise linearly so that the hip is most
  flexed at φ = 0 and most extended at φ = ``STANCE``;
* knee flexion 0 except a raised-cosine swing bump of ``KNEE_PEAK_RAD`` centred in swing.

Where the knee is straight the limb reach is 2·sin(hip), so the reach is largest exactly at
φ = 0 (foot strike) and smallest exactly at φ = ``STANCE`` (foot off). The left side runs half a
stride behind the right, which gives 10 % initial and 10 % terminal double support.
"""

from __future__ import annotations

import numpy as np

STRIDE_S = 1.2
STANCE = 0.6
HIP_AMPLITUDE_RAD = 0.4
KNEE_PEAK_RAD = 0.5
RATE_HZ = 1000.0


def side_angles(phase: np.ndarray, hip_amplitude_rad: float = HIP_AMPLITUDE_RAD
                ) -> tuple[np.ndarray, np.ndarray]:
    """Hip and knee flexion (rad) at gait phases ``phase`` (cycles)."""
    phi = np.mod(phase, 1.0)
    warped = np.where(phi < STANCE, 0.5 * phi / STANCE, 0.5 + 0.5 * (phi - STANCE) / (1 - STANCE))
    hip = hip_amplitude_rad * np.cos(2 * np.pi * warped)
    centre, half_width = (1 + STANCE) / 2, 0.1
    bump = np.clip((phi - centre) / half_width, -1.0, 1.0)
    knee = KNEE_PEAK_RAD * 0.5 * (1 + np.cos(np.pi * bump))
    return hip, knee


def walk(duration_s: float = 12.0, start_s: float = 0.0, left_hip_amplitude_rad: float
         = HIP_AMPLITUDE_RAD) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times (s) and joint angles (rad) by OpenSim name of both sides."""
    t = start_s + np.arange(round(duration_s * RATE_HZ)) / RATE_HZ
    hip_r, knee_r = side_angles(t / STRIDE_S)
    hip_l, knee_l = side_angles(t / STRIDE_S - 0.5, left_hip_amplitude_rad)
    return t, {"hip_flexion_r": hip_r, "knee_angle_r": knee_r,
               "hip_flexion_l": hip_l, "knee_angle_l": knee_l}


def true_events(t: np.ndarray, side: str, margin_s: float = 0.0) -> dict[str, np.ndarray]:
    """The exact foot strikes and foot offs (s) of ``side`` strictly inside ``t``'s span widened
    by ``margin_s`` (s) at either end (events that far outside may be detected just inside)."""
    shift = 0.0 if side == "right" else 0.5
    k = np.arange(np.floor(t[0] / STRIDE_S) - 1, np.ceil(t[-1] / STRIDE_S) + 1)
    events = {"foot_strike": (k + shift) * STRIDE_S, "foot_off": (k + shift + STANCE) * STRIDE_S}
    return {name: e[(e > t[0] - margin_s) & (e < t[-1] + margin_s)]
            for name, e in events.items()}
