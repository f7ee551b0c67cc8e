"""Robot-based passive and active range of motion, against the simulated patient's true limits."""

from __future__ import annotations

import math

import pytest

from rehabbot.assessment.robot_bench import robot_limits_rad
from rehabbot.assessment.robot_rom import (
    RangeOfMotion,
    assess_active_rom,
    assess_passive_rom,
    expected_rom,
)
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.sim.patient import PROFILES, PatientModel
from rehabbot.sim.world import ACTUATED_JOINTS, JOINT_NAMES

TOLERANCE_RAD = math.radians(3.0)
#: A joint stopped by the robot's wall may press up to this far (rad) past the robot's limit.
WALL_RAD = math.radians(1.5)


def check(measured: list[RangeOfMotion], profile: str, *, active: bool) -> None:
    patient = PatientModel(JOINT_NAMES, PROFILES[profile], 75.0, 90.0, seed=0)
    for result in measured:
        true = expected_rom(patient, result.joint, active=active)
        low, high = robot_limits_rad(load_robot_config(), result.joint)
        assert result.extension_at_robot_limit == true.extension_at_robot_limit, result
        assert result.flexion_at_robot_limit == true.flexion_at_robot_limit, result
        assert result.extension_rad == pytest.approx(true.extension_rad, abs=TOLERANCE_RAD)
        assert result.flexion_rad == pytest.approx(true.flexion_rad, abs=TOLERANCE_RAD)
        assert low - WALL_RAD <= result.extension_rad < result.flexion_rad <= high + WALL_RAD


@pytest.fixture(scope="module")
def passive_stroke() -> list[RangeOfMotion]:
    return assess_passive_rom(PROFILES["stroke_left"])


@pytest.fixture(scope="module")
def active_stroke() -> list[RangeOfMotion]:
    return assess_active_rom(PROFILES["stroke_left"])


def test_passive_rom_finds_the_true_limits_at_the_threshold_torque(
    passive_stroke: list[RangeOfMotion],
) -> None:
    check(passive_stroke, "stroke_left", active=False)
    # the hips' extension limits are the patient's, not the robot's
    hips = [r for r in passive_stroke if r.joint.startswith("hip")]
    assert not any(r.extension_at_robot_limit for r in hips)


def test_active_rom_finds_where_the_patients_strength_meets_their_resistance(
    active_stroke: list[RangeOfMotion],
) -> None:
    check(active_stroke, "stroke_left", active=True)


def test_healthy_ranges_match_the_truth_too() -> None:
    check(assess_passive_rom(PROFILES["healthy"], ("hip_flexion_l", "knee_angle_l")), "healthy",
          active=False)
    check(assess_active_rom(PROFILES["healthy"], ("hip_flexion_l",)), "healthy", active=True)


def test_the_contracted_paretic_side_has_the_smaller_ranges(
    passive_stroke: list[RangeOfMotion], active_stroke: list[RangeOfMotion]
) -> None:
    for results in (passive_stroke, active_stroke):
        by_joint = {r.joint: r for r in results}
        for kind in ("hip_flexion", "knee_angle"):
            paretic, other = by_joint[f"{kind}_l"], by_joint[f"{kind}_r"]
            assert paretic.flexion_rad < other.flexion_rad - math.radians(8.0)
            assert not paretic.flexion_at_robot_limit


def test_the_active_range_lies_within_the_passive_range(
    passive_stroke: list[RangeOfMotion], active_stroke: list[RangeOfMotion]
) -> None:
    for passive, active in zip(passive_stroke, active_stroke, strict=True):
        if not passive.extension_at_robot_limit:
            assert active.extension_rad > passive.extension_rad
        if not passive.flexion_at_robot_limit:
            assert active.flexion_rad < passive.flexion_rad


def test_bad_joints_and_thresholds_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"joints \['ankle_angle_l'\].*hip_flexion_r"):
        assess_passive_rom(PROFILES["healthy"], ("ankle_angle_l",))
    with pytest.raises(ConfigurationError, match="threshold_nm = 100"):
        assess_passive_rom(PROFILES["healthy"], ACTUATED_JOINTS, threshold_nm=100.0)
