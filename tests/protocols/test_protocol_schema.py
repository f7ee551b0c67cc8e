"""Therapy protocol files: the bundled default loads; bad files get one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.protocols.cli import protocols_list, protocols_show
from rehabbot.protocols.schema import bundled_protocols, load_protocol


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
         r"invalid field 'guidance_pct' = 150: Value error, guidance_pct = 150 % is out of "
         r"range \[0, 100\] %"),
        ("treadmill_speed_kmh = 3.0", "treadmill_speed_kmh = -1",
         r"'treadmill_speed_kmh' = -1: Value error, treadmill_speed_kmh = -1 km/h is out of "
         r"range \[0, 5\] km/h"),
        ("cadence_steps_per_min = 90\n", "",
         r"invalid field 'cadence_steps_per_min': Field required"),
        ('controller = "impedance"', 'controller = "magic"',
         r"'controller' = 'magic': Value error, unknown controller 'magic'; available: "
         r"assist_as_needed, impedance, path_control, transparent"),
        ("hip_flexion = [-25, 50]", "hip_flexion = [50, -25]",
         r"'range_of_motion_deg.hip_flexion'.*min_deg 50 is not below max_deg -25"),
        ("knee_angle = [0, 75]", "knee_angle = [0, 75, 3]",
         r"'range_of_motion_deg.knee_angle' = \[0, 75, 3\]: .*a range is \[lowest, highest\]"),
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


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("hip_rom_pct = 100\n", "hip_rom_pct = 300\n", "phases.*",
     "controller_params.hip_rom_pct = 300 % is out of range [50, 120] %"),
    ('name = "warm_up"\nkind = "warm_up"\n', 'name = "warm_up"\nkind = "warm_up"\n'
     'controller_params = { knee_rom_pct = 20 }\n', "phases.0",
     "controller_params.knee_rom_pct = 20 % is out of range [50, 120] %"),
])
def test_a_controller_parameter_out_of_its_param_spec_is_reported_once(
    tmp_path: Path, old: str, new: str, where: str, message: str
) -> None:
    """Inherited by every phase, a bad value is named once (at ``phases.*``), in the words of
    the controller's ParamSpec; set in one phase, it is named at that phase."""
    text = bundled_file("protocols", "standard_gait.toml").read_text()
    assert old in text
    path = tmp_path / "p.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigurationError) as info:
        load_protocol(path)
    assert str(info.value) == f"{path}: invalid field '{where}': Value error, {message}"


LEGACY = """
name = "old_style"
title = "A protocol from before phases"
controller = "impedance"
duration_s = 300
cadence_steps_per_min = 90
treadmill_speed_kmh = 3.0
body_weight_support_pct = 30
guidance_pct = 80
[stiffness_nm_per_rad]
hip_flexion = 800
knee_angle = 600
[damping_nms_per_rad]
hip_flexion = 20
knee_angle = 10
"""


def test_a_file_without_phases_is_one_training_phase(tmp_path: Path) -> None:
    (tmp_path / "old.toml").write_text(LEGACY)
    protocol = load_protocol(tmp_path / "old.toml")
    (phase,) = protocol.phases
    assert (phase.name, phase.kind, phase.duration_s, phase.guidance_pct) == (
        "training", "training", 300.0, 80.0)
    assert protocol.training_phase is phase and protocol.planned_duration_s == 300.0


def test_phases_inherit_the_top_level_and_override_it() -> None:
    protocol = load_protocol("transparent_walk")
    warm_up, test, cool_down = protocol.phases
    assert cool_down.controller == "impedance"
    assert (warm_up.controller, warm_up.phase_source, warm_up.guidance_pct) == (
        "impedance", "cadence", 100.0)
    assert (test.controller, test.phase_source, test.guidance_pct) == (
        "transparent", "oscillator", 0.0)
    assert warm_up.stiffness_nm_per_rad == protocol.stiffness_nm_per_rad  # inherited
    assert test.adjustable == {"treadmill_speed_kmh": (1.0, 3.5),
                               "body_weight_support_pct": (10.0, 60.0)}
    standard = load_protocol("standard_gait")
    assert [p.treadmill_speed_kmh for p in standard.phases] == [2.2, 3.0, 2.2]
    path_control = load_protocol("path_control")
    assert path_control.phases[0].controller_params == {"tunnel_width_rad": 0.15}
    assert path_control.phases[1].controller_params == {
        "tunnel_width_rad": 0.05, "wall_stiffness_nm_per_rad": 1500.0, "flow_nm": 5.0,
        "window_cycles": 0.03}


def test_a_phases_adjustable_table_adds_to_the_top_levels(tmp_path: Path) -> None:
    text = bundled_file("protocols", "standard_gait.toml").read_text().replace(
        'name = "training"\nkind = "training"',
        'name = "training"\nkind = "training"\nadjustable = { knee_rom_pct = [90, 100] }', 1)
    (tmp_path / "p.toml").write_text(text)
    warm_up, training, _ = load_protocol(tmp_path / "p.toml").phases
    assert training.adjustable["knee_rom_pct"] == (90.0, 100.0)
    assert training.adjustable["guidance_pct"] == (50.0, 100.0)
    assert warm_up.adjustable["knee_rom_pct"] == (80.0, 110.0)


def test_a_phase_with_another_controller_drops_the_top_levels_controller_bounds(
    tmp_path: Path,
) -> None:
    text = bundled_file("protocols", "standard_gait.toml").read_text().replace(
        'name = "cool_down"\nkind = "cool_down"',
        'name = "cool_down"\nkind = "cool_down"\ncontroller = "path_control"', 1)
    (tmp_path / "p.toml").write_text(text)
    cool_down = load_protocol(tmp_path / "p.toml").phases[2]
    assert cool_down.controller_params == {}
    assert set(cool_down.adjustable) == {"treadmill_speed_kmh", "body_weight_support_pct"}


@pytest.mark.parametrize("name", bundled_protocols())
def test_every_bundled_protocol_loads_and_is_shown(
    name: str, capsys: pytest.CaptureFixture[str],
) -> None:
    protocol = load_protocol(name)
    assert protocol.name == name
    assert any(p.kind == "training" for p in protocol.phases)
    protocols_show(name)
    out = capsys.readouterr().out
    for phase in protocol.phases:
        assert phase.name[:4] in out


def test_the_library_has_the_protocols_the_clinic_needs() -> None:
    names = bundled_protocols()
    assert {"standard_gait", "assist_as_needed", "transparent_walk", "robot_assessment_battery",
            "high_steps_300", "high_steps_750", "path_control"} <= set(names)
    assert [p.steps for p in load_protocol("high_steps_750").phases] == [None, 750, None]
    battery = load_protocol("robot_assessment_battery")
    assert [p.assessment for p in battery.phases if not p.walking] == [
        "passive_rom", "active_rom", "stiffness", "isometric"]
    assert load_protocol("assist_as_needed").progression


def test_protocols_list_names_every_bundled_protocol_with_its_phases(
    capsys: pytest.CaptureFixture[str],
) -> None:
    protocols_list()
    out = capsys.readouterr().out
    for name in bundled_protocols():
        assert name[:15] in out
    assert "assessment →" in out and "14.0" in out  # standard_gait: 2 + 10 + 2 min
