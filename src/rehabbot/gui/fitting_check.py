"""Does a protocol fit the patient? Its range of motion against the fitting and the robot.

A protocol's range of motion (per joint kind, deg) must lie within the range the patient's
fitting allows (what the therapist measured) and within the robot's hard limits; every range a
protocol sets is checked, the top-level one and each walking phase's.

>>> from rehabbot.protocols.schema import load_protocol
>>> from rehabbot.body.range_of_motion import RangeOfMotion
>>> from rehabbot.storage.records import FittingParameters
>>> fitting = FittingParameters(thigh_length_m=0.42, shank_length_m=0.4, thigh_cuff_m=0.2,
...     shank_cuff_m=0.2, rom_deg={"knee": RangeOfMotion(min_deg=5, max_deg=60)})
>>> fitting_problems(load_protocol("standard_gait"), fitting)
['knee: the protocol allows 0..75 deg, the fitting only 5..60 deg']
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from rehabbot.body.range_of_motion import JointRanges
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import Protocol
from rehabbot.storage.record_models import FittingParameters

#: Protocol joint kinds and the fitting's names for them.
KINDS = {"hip_flexion": "hip", "knee_angle": "knee", "ankle_angle": "ankle"}


def _ranges(protocol: Protocol) -> Iterator[tuple[str, JointRanges]]:
    """Every range of motion the protocol's walking phases set, with where (``""``, or
    ``"phase NAME: "`` for a phase whose range differs from the protocol's)."""
    yield "", protocol.range_of_motion_deg
    for phase in protocol.walking_phases:
        if phase.range_of_motion_deg != protocol.range_of_motion_deg:
            yield f"phase {phase.name}: ", phase.range_of_motion_deg


def fitting_problems(protocol: Protocol, fitting: FittingParameters | None,
                     robot: RobotConfig | None = None) -> list[str]:
    """What does not fit, one line each (empty: it fits).

    Args:
        protocol: the protocol chosen.
        fitting: the patient's fitting (None: not recorded, which is a problem itself).
        robot: the robot, whose hard position limits the ranges must also respect.
    """
    problems: list[str] = []
    if fitting is None:
        problems.append("no fitting recorded for this patient: record it on the patients screen")
    for where, rom in _ranges(protocol):
        for kind, short in KINDS.items():
            bounds = rom.of_kind(kind)
            if bounds is None:
                continue
            low, high = bounds.min_deg, bounds.max_deg
            allowed = None if fitting is None else fitting.rom_deg.get(short)  # type: ignore[call-overload]
            if allowed is not None and (low < allowed.min_deg or high > allowed.max_deg):
                problems.append(f"{where}{short}: the protocol allows {low:g}..{high:g} deg, the "
                                f"fitting only {allowed.min_deg:g}..{allowed.max_deg:g} deg")
            for joint in robot.joints if robot is not None else ():
                if joint.name.rsplit("_", 1)[0] != kind:
                    continue
                lo, hi = (math.degrees(joint.position_min_rad),
                          math.degrees(joint.position_max_rad))
                if low < lo - 1e-9 or high > hi + 1e-9:
                    problems.append(f"{where}{joint.name}: the protocol allows {low:g}..{high:g} "
                                    f"deg, beyond the robot's limits {lo:.1f}..{hi:.1f} deg")
    return problems
