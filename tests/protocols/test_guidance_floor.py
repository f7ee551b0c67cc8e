"""A protocol's guidance floor per joint: validated, applied to the controller, adjustable live
within the protocol's bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.configfile import bundled_file
from rehabbot.controllers.factory import build_controller
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import Protocol, load_protocol

FLOORS = 'guidance_floor_pct = { knee_angle = 20, hip_flexion_l = 40 }\n'


def protocol_with(tmp_path: Path, name: str, lines: str, before: str = "[stiffness") -> Protocol:
    text = bundled_file("protocols", f"{name}.toml").read_text()
    path = tmp_path / "p.toml"
    path.write_text(text.replace(before, lines + before, 1))
    return load_protocol(path)


def test_floors_by_joint_kind_and_joint_reach_the_controller(tmp_path: Path) -> None:
    protocol = protocol_with(tmp_path, "assist_as_needed", FLOORS)
    training = protocol.training_phase
    assert training.guidance_floors() == {
        "floor_hip_flexion_r_pct": 0.0, "floor_knee_angle_r_pct": 20.0,
        "floor_hip_flexion_l_pct": 40.0, "floor_knee_angle_l_pct": 20.0}
    robot = load_robot_config()
    ctrl = build_controller(training, robot.joint_names, guidance_pct=70.0,
                            period_s=robot.period_s, height_m=1.75, mass_kg=75.0)
    params = ctrl.get_params()
    assert params["floor_hip_flexion_l_pct"] == 40.0 and params["floor_knee_angle_r_pct"] == 20.0
    assert params["floor_hip_flexion_r_pct"] == 0.0


def test_a_floor_can_be_made_adjustable_within_bounds_that_hold_it(tmp_path: Path) -> None:
    bounds = "adjustable = { floor_hip_flexion_l_pct = [30, 60] }\n"
    protocol = protocol_with(tmp_path, "assist_as_needed", FLOORS + bounds)
    assert protocol.adjustable["floor_hip_flexion_l_pct"] == (30.0, 60.0)
    with pytest.raises(ConfigurationError, match=r"floor_hip_flexion_l_pct = 40 % is outside its "
                                                 r"adjustable bounds \[50, 60\]"):
        protocol_with(tmp_path, "assist_as_needed",
                      FLOORS + "adjustable = { floor_hip_flexion_l_pct = [50, 60] }\n")


@pytest.mark.parametrize(("name", "lines", "message", "before"), [
    ("assist_as_needed", "guidance_floor_pct = { ankle_angle = 20 }\n",
     r"guidance_floor_pct.ankle_angle: not a joint kind", "[stiffness"),
    ("assist_as_needed", "guidance_floor_pct = { hip_flexion = 120 }\n",
     r"guidance_floor_pct.hip_flexion = 120 % is out of range \[0, 100\] %", "[stiffness"),
    ("path_control", "guidance_floor_pct = { hip_flexion = 20 }\n",
     r"the path_control controller has no guidance to put a floor under", "[stiffness"),
    ("standard_gait", "floor_hip_flexion_r_pct = 20\n",
     r"set guidance floors in the guidance_floor_pct table", "hip_rom_pct = 100"),
])
def test_bad_floors_are_refused_with_one_message(
    tmp_path: Path, name: str, lines: str, message: str, before: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        protocol_with(tmp_path, name, lines, before)


def test_a_phase_with_a_controller_without_guidance_does_not_inherit_the_floors(
    tmp_path: Path,
) -> None:
    text = bundled_file("protocols", "standard_gait.toml").read_text()
    text = text.replace("[stiffness", FLOORS + "[stiffness", 1)
    text = text.replace('name = "cool_down"\nkind = "cool_down"',
                        'name = "cool_down"\nkind = "cool_down"\ncontroller = "transparent"', 1)
    path = tmp_path / "p.toml"
    path.write_text(text)
    protocol = load_protocol(path)
    assert protocol.phases[0].guidance_floor_pct["hip_flexion_l"] == 40.0
    assert protocol.phases[-1].guidance_floor_pct == {}
