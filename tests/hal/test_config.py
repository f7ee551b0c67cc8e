"""Robot configuration files: the bundled one loads; bad files get one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import bundled_robot_path, load_robot_config
from rehabbot.hal.drives.mit import MitDrive
from rehabbot.hal.drives.registry import available_drives, drive_class


def test_bundled_simulated_exoskeleton_loads() -> None:
    cfg = load_robot_config("sim_exo")
    assert cfg.simulated
    assert cfg.joint_names == ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
    assert cfg.period_s == pytest.approx(0.001)
    assert {j.sign for j in cfg.joints} == {-1, 1}  # mirrored mounting is exercised


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = bundled_robot_path().read_text()
    assert old in text
    path = tmp_path / "robot.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("node_id = 2", "node_id = 200",
         r"robot.toml: invalid field 'joints.1.node_id' = 200: .*less than or equal to 127"),
        ("node_id = 2", "node_id = 1", r"node ids must be unique"),
        ("position_min_rad = -0.05", "position_min_rad = 2.0",
         r"'joints.1'.*position_min_rad \(2.0\) must be below position_max_rad"),
        ("sign = -1", "sign = 2", r"'joints.1.sign' = 2: Input should be -1 or 1"),
        ('interface = "virtual"', 'interface = "udp_multicast"', r"sends to the network"),
        ("rate_hz = 1000", "rate_hz = 1000\nrate = 3",
         r"'loop.rate' = 3: Extra inputs are not permitted"),
        ('name = "sim-exo"', "name = ", r"robot.toml: not valid TOML"),
    ],
)
def test_bad_files_get_one_message_naming_file_field_and_allowed_values(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        load_robot_config(write_variant(tmp_path, old, new))
    assert "\n" not in str(info.value)


def test_missing_file_and_unknown_name_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the file"):
        load_robot_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigurationError, match="one of sim_exo"):
        load_robot_config("no_such_robot")


def test_drive_registry_finds_builtin_and_refuses_unknown() -> None:
    assert "mit" in available_drives()
    assert drive_class("mit") is MitDrive
    with pytest.raises(ConfigurationError, match="unknown drive protocol 'foo'; available: mit"):
        drive_class("foo")
