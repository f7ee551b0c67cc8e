"""Robot configuration files: the bundled one loads; bad files get one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import bundled_robot_path, load_robot_config
from rehabbot.hal.drives.cia402 import Cia402Drive
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
        ("torque_max_nm = 120.0", "torque_max_nm = 120.0\nwatchdog_s = 0.0015",
         r"joint 'hip_flexion_r': watchdog_s \(0.0015 s\) must be at least 2 control periods "
         r"\(0.002 s\)"),
        ("torque_max_nm = 120.0", "torque_max_nm = 120.0\nwatchdog_s = 2.0",
         r"'joints.0.watchdog_s' = 2.0: Input should be less than or equal to 1"),
    ],
)
def test_bad_files_get_one_message_naming_file_field_and_allowed_values(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        load_robot_config(write_variant(tmp_path, old, new))
    assert "\n" not in str(info.value)


def test_bundled_drive_variants_load_with_their_drive_options() -> None:
    cia402 = load_robot_config("sim_exo_cia402")
    assert {(j.drive, j.motor, j.mode) for j in cia402.joints} == {("cia402", "ELMO-G100", "cst")}
    mixed = load_robot_config("sim_exo_mixed")
    assert [j.drive for j in mixed.joints] == ["mit", "cia402", "mit", "cia402"]
    assert mixed.bus.host_id == 0x7F0
    sim_exo = load_robot_config("sim_exo")
    assert all(j.mode is None and j.watchdog_s is None for j in sim_exo.joints)
    assert sim_exo.watchdog_s(sim_exo.joints[0]) == pytest.approx(0.003)  # 3 stale ticks


def test_missing_file_and_unknown_name_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the file"):
        load_robot_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigurationError, match="one of sim_exo"):
        load_robot_config("no_such_robot")


def test_drive_registry_finds_builtin_and_refuses_unknown() -> None:
    assert {"mit", "cia402"} <= set(available_drives())
    assert drive_class("mit") is MitDrive
    assert drive_class("cia402") is Cia402Drive
    with pytest.raises(ConfigurationError,
                       match="unknown drive protocol 'foo'; available: cia402, mit"):
        drive_class("foo")
