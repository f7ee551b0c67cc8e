"""The registry of robot-based assessments: the contract protocol phases rely on."""

from __future__ import annotations

import json
import math
import re

import pytest

from rehabbot.assessment.robot_assessments import ROBOT_ASSESSMENTS, AssessmentResult
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.sim.patient import PASSIVE_STIFFNESS, PROFILES

UNIT_SUFFIX = re.compile(r"_(deg|nm|nm_per_kg|nm_per_rad|nms_per_rad|deg_s)$")


def run(name: str, **kwargs: object) -> AssessmentResult:
    return ROBOT_ASSESSMENTS[name](PROFILES["stroke_left"], height_m=1.75, mass_kg=75.0,
                                   **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "joints"), [
    ("passive_rom", ["knee_angle_l"]),
    ("active_rom", ["hip_flexion_r"]),
    ("isometric", ["knee_angle_l"]),
    ("stiffness", None),
])
def test_every_assessment_returns_json_rows_with_units_in_the_keys(
    name: str, joints: list[str] | None
) -> None:
    result = run(name, joints=joints)
    data = json.loads(json.dumps(result.as_dict()))
    assert data["name"] == name and data["title"] == result.title
    expected = joints or list(ROBOT_ASSESSMENTS[name].default_joints)
    assert sorted({row["joint"] for row in data["rows"]}) == sorted(expected)
    for row in data["rows"]:
        for key, value in row.items():
            if key == "joint":
                continue
            if isinstance(value, bool):
                assert key.endswith("_at_robot_limit")
            else:
                assert UNIT_SUFFIX.search(key), key


def test_stiffness_through_the_registry_is_the_passive_stiffness_within_10_percent() -> None:
    rows = run("stiffness", joints=["knee_angle_r"],
               params={"velocity_1_deg_s": 30.0, "velocity_2_deg_s": 60.0,
                       "velocity_3_deg_s": 90.0}).rows
    assert [row["peak_velocity_deg_s"] for row in rows] == [30.0, 60.0, 90.0]
    for row in rows:
        assert row["stiffness_nm_per_rad"] == pytest.approx(PASSIVE_STIFFNESS["knee_angle"],
                                                            rel=0.10)


def test_params_change_the_measurement() -> None:
    low = run("passive_rom", joints=["hip_flexion_l"], params={"threshold_nm": 5.0}).rows[0]
    high = run("passive_rom", joints=["hip_flexion_l"], params={"threshold_nm": 20.0}).rows[0]
    assert high["flexion_deg"] > low["flexion_deg"]  # type: ignore[operator]
    assert high["extension_deg"] < low["extension_deg"]  # type: ignore[operator]


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("stiffness", {"joints": ["ankle_angle_l"]}, r"\['ankle_angle_l'\].*knee_angle_r"),
    ("passive_rom", {"params": {"speed": 1.0}}, r"unknown parameter 'speed' \(allowed: thresh"),
    ("active_rom", {"params": {"threshold_nm": 1.0}}, r"unknown parameter .* \(allowed: none\)"),
    ("isometric", {"params": {"knee_angle_deg": 130.0}}, r"knee_angle_deg = 130.0 deg .*0, 95"),
])
def test_bad_input_gets_one_clear_error(name: str, kwargs: dict[str, object],
                                        message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        run(name, **kwargs)


def test_the_robots_own_limits_bound_the_tests() -> None:
    robot = load_robot_config()
    weak = robot.model_copy(update={"joints": [
        j.model_copy(update={"torque_max_nm": 20.0}) for j in robot.joints]})
    row = run("isometric", joints=["knee_angle_l"], robot=weak).rows[0]
    assert row["flexion_at_robot_limit"] and row["extension_at_robot_limit"]
    assert row["extension_nm"] <= 40.0 < 84.0  # the paretic knee gives 84 N·m; the robot 20

    narrow = robot.model_copy(update={"joints": [
        j.model_copy(update={"position_max_rad": 1.2}) if j.name == "knee_angle_l" else j
        for j in robot.joints]})
    row = run("passive_rom", joints=["knee_angle_l"], robot=narrow).rows[0]
    assert row["flexion_at_robot_limit"]
    assert row["flexion_deg"] == pytest.approx(math.degrees(1.2), abs=0.5)  # not the true 78.8


def test_a_robot_without_every_hip_and_knee_is_refused() -> None:
    robot = load_robot_config()
    one_leg = robot.model_copy(update={"joints": robot.joints[:2]})
    with pytest.raises(ConfigurationError, match="does not drive hip_flexion_l, knee_angle_l"):
        run("passive_rom", joints=["knee_angle_r"], robot=one_leg)
