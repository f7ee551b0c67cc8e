"""Therapy protocol files: the bundled default loads; bad files get one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.protocols.schema import load_protocol


def test_bundled_standard_gait_protocol_loads() -> None:
    protocol = load_protocol()
    assert protocol.name == "standard_gait"
    assert protocol.treadmill_speed_mps == pytest.approx(protocol.treadmill_speed_kmh / 3.6)
    assert protocol.stiffness_nm_per_rad.for_joint("knee_angle_l") == 600.0
    assert protocol.stiffness_nm_per_rad.for_joint("ankle_angle_r") == 0.0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("guidance_pct = 100", "guidance_pct = 150",
         r"invalid field 'guidance_pct' = 150: Input should be less than or equal to 100"),
        ("treadmill_speed_kmh = 3.0", "treadmill_speed_kmh = -1",
         r"'treadmill_speed_kmh' = -1: Input should be greater than or equal to 0"),
        ("cadence_steps_per_min = 90\n", "",
         r"invalid field 'cadence_steps_per_min': Field required"),
        ('controller = "impedance"', 'controller = "magic"',
         r"'controller' = 'magic': Input should be 'impedance'"),
        ("hip_flexion = [-25, 50]", "hip_flexion = [50, -25]",
         r"'range_of_motion_deg'.*hip_flexion: the lowest angle 50.0 must be below the highest"),
        ("knee_angle = [0, 75]", "knee_angle = [0, 75, 3]",
         r"'range_of_motion_deg.knee_angle' = \[0, 75, 3\]: Tuple should have at most 2 items"),
        ("soft_zone_deg = 3", "soft_zone_deg = 0", r"'soft_zone_deg' = 0: Input should be greater"),
    ],
)
def test_bad_protocol_files_are_refused_with_one_message(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = bundled_file("protocols", "standard_gait.toml").read_text()
    assert old in text
    path = tmp_path / "p.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigurationError, match=message):
        load_protocol(path)
