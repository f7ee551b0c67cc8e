"""A protocol for battery tests: robot assessments of the left knee, then a short walk."""

from __future__ import annotations

from pathlib import Path

from rehabbot.protocols.schema import Protocol, load_protocol

#: The allowed range (deg) of the battery tests: wide, so that the assessments measure the
#: simulated person's own limits; the knee's extension end (0 deg) comes before theirs.
ROM_DEG = {"hip_flexion": (-25.0, 55.0), "knee_angle": (0.0, 95.0)}
#: The soft zone (deg) inside each end of the range: the assessments stop short of it.
ZONE_DEG = 3.0

_HEAD = f"""name = "knee_battery"
title = "Knee assessment battery"
description = "Robot assessments of the left knee, then a short guided walk."
controller = "impedance"
cadence_steps_per_min = 90
treadmill_speed_kmh = 3.0
body_weight_support_pct = 30
guidance_pct = 100
soft_zone_deg = {ZONE_DEG}

[stiffness_nm_per_rad]
hip_flexion = 800
knee_angle = 600

[damping_nms_per_rad]
hip_flexion = 20
knee_angle = 10

[range_of_motion_deg]
hip_flexion = {list(ROM_DEG["hip_flexion"])}
knee_angle = {list(ROM_DEG["knee_angle"])}
"""


def battery_protocol(directory: Path, assessments: tuple[str, ...], walk_s: float = 2.0,
                     *, after: bool = False) -> Protocol:
    """The protocol: each of ``assessments`` on the left knee, then ``walk_s`` of walking (or
    the walking first, ``after``); written to ``directory`` and loaded as a user's file would
    be."""
    battery = "".join(
        f'\n[[phases]]\nname = "{name}"\nkind = "assessment"\nassessment = "{name}"\n'
        'assessment_joints = ["knee_angle_l"]\n' for name in assessments)
    walk = f'\n[[phases]]\nname = "training"\nkind = "training"\nduration_s = {walk_s}\n'
    phases = walk + battery if after else battery + walk
    path = directory / "knee_battery.toml"
    path.write_text(_HEAD + phases)
    return load_protocol(path)
