"""One range-of-motion type: a joint's range, and the per-kind table a protocol sets."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from rehabbot.body.joints import DIRECTION_SIGN, DIRECTIONS, joint_kind, joint_side
from rehabbot.body.range_of_motion import (
    HEALTHY_PASSIVE_ROM_RAD,
    MODEL_JOINT_RANGE_RAD,
    JointRanges,
    RangeOfMotion,
)


def test_a_range_in_degrees_gives_its_ends_in_radians() -> None:
    rom = RangeOfMotion(min_deg=-10.0, max_deg=60.0)
    assert (rom.min_rad, rom.max_rad) == pytest.approx((math.radians(-10.0), math.radians(60.0)))


@pytest.mark.parametrize(("low", "high"), [(30.0, 10.0), (10.0, 10.0), (math.nan, 10.0),
                                           (0.0, math.inf)])
def test_an_empty_reversed_or_unbounded_range_is_refused(low: float, high: float) -> None:
    with pytest.raises(ValidationError):
        RangeOfMotion(min_deg=low, max_deg=high)


def test_the_reversed_range_message_names_both_ends() -> None:
    with pytest.raises(ValidationError, match="min_deg 30 is not below max_deg 10"):
        RangeOfMotion(min_deg=30, max_deg=10)


def test_joint_ranges_read_pairs_and_dump_them_back_as_pairs() -> None:
    ranges = JointRanges.model_validate({"hip_flexion": [-10, 40], "knee_angle": [0, 75]})
    assert ranges.hip_flexion == RangeOfMotion(min_deg=-10, max_deg=40)
    assert ranges.ankle_angle is None
    dumped = ranges.model_dump()
    assert dumped["knee_angle"] == (0.0, 75.0)
    assert JointRanges.model_validate(dumped) == ranges


@pytest.mark.parametrize("value", [[0, 75, 3], [0], "0..75", 75])
def test_joint_ranges_refuse_anything_but_a_pair(value: object) -> None:
    with pytest.raises(ValidationError, match=r"a range is \[lowest, highest\]"):
        JointRanges.model_validate({"knee_angle": value})


def test_joint_ranges_refuse_a_reversed_pair() -> None:
    with pytest.raises(ValidationError, match="min_deg 75 is not below max_deg 0"):
        JointRanges.model_validate({"knee_angle": [75, 0]})


def test_ranges_for_joints_are_in_radians_and_only_for_kinds_with_a_range() -> None:
    ranges = JointRanges.model_validate({"knee_angle": [0, 90]})
    by_joint = ranges.for_joints(("hip_flexion_r", "knee_angle_r", "knee_angle_l"))
    assert set(by_joint) == {"knee_angle_r", "knee_angle_l"}
    assert by_joint["knee_angle_l"] == pytest.approx((0.0, math.pi / 2))


def test_joint_names_split_into_kind_and_side() -> None:
    assert (joint_kind("hip_flexion_l"), joint_side("hip_flexion_l")) == ("hip_flexion", "l")
    assert joint_kind("ankle_angle_r") == "ankle_angle"


def test_flexion_is_positive_and_extension_the_low_end_of_a_range() -> None:
    assert [DIRECTION_SIGN[d] for d in DIRECTIONS] == [-1.0, 1.0]
    for low, high in (*HEALTHY_PASSIVE_ROM_RAD.values(), *MODEL_JOINT_RANGE_RAD.values()):
        assert low < 0.0 < high

