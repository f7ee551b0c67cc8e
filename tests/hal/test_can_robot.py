"""CanRobot beyond the drive contract: MIT's exact quantization, mixed buses, setup failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.config import RobotConfig, bundled_robot_path, load_robot_config
from rehabbot.hal.drives import mit
from rehabbot.hal.robot import CanRobot, Lifecycle
from rehabbot.hal.types import JointCommand
from tests.conftest import DriveBench, make_bench

AK10 = mit.motor_model("AK10-9")
GEAR = 3.0
# one quantization step, joint side
Q_STEP = 2 * AK10.p_max_rad / 65535 / GEAR
QD_STEP = 2 * AK10.v_max_rad_s / 4095 / GEAR
TAU_STEP = 2 * AK10.t_max_nm / 4095 * GEAR


def test_mit_command_reaches_the_drive_law_within_the_quantization_of_each_field(
    bench: DriveBench,
) -> None:
    """The torque each emulated MIT drive applies is the joint-space impedance law, after the
    transmission (sign -1 on two joints, gear 3) and the quantization of every field."""
    robot = bench.active_robot()
    bench.q[:] = [0.1, 0.5, -0.1, 0.2]
    bench.qd[:] = [0.5, -1.0, 0.0, 0.3]
    command = JointCommand(
        q_ref=np.array([0.2, 0.4, 0.0, 0.25]),
        qd_ref=np.array([1.0, 0.0, -0.5, 0.0]),
        kp=np.array([400.0, 300.0, 200.0, 100.0]),
        kd=np.array([10.0, 5.0, 2.0, 1.0]),
        tau_ff=np.array([3.0, -2.0, 1.0, 0.0]),
    )
    robot.write(command)
    bench.step()
    expected = command.expected_torque(bench.q, bench.qd)
    kp_step, kd_step = 500 / 4095 * GEAR**2, 5 / 4095 * GEAR**2
    tol = (command.kp * Q_STEP + command.kd * QD_STEP + kp_step * 0.5 + kd_step * 1.5
           + TAU_STEP) / 2 + 1e-6
    assert np.all(np.abs(bench.tau - expected) <= tol), (bench.tau, expected, tol)
    assert np.all(np.abs(expected) > 5 * tol)
    robot.close()


def test_mixed_bus_routes_each_reply_to_its_joint_and_sends_one_sync() -> None:
    mixed = make_bench(load_robot_config("sim_exo_mixed"))
    robot = mixed.active_robot()
    assert [type(d).protocol for d in robot.drives_] == ["mit", "cia402", "mit", "cia402"]
    mixed.q[:] = [0.3, 0.9, -0.2, 0.05]
    robot.write(JointCommand.torque_off(4))
    mixed.step()
    state = robot.read()
    np.testing.assert_allclose(state.q, mixed.q, atol=Q_STEP)
    assert state.age_ticks.tolist() == [0, 0, 0, 0]
    assert robot.unexpected_frames == robot.malformed_frames == 0
    assert mixed.emulators.ignored_frames == 0  # MIT replies on 0x7F0 reach no CANopen drive
    robot.close()
    mixed.emulators.close()


def variant(tmp_path: Path, name: str, old: str, new: str) -> RobotConfig:
    text = bundled_robot_path(name).read_text()
    assert old in text
    path = tmp_path / "robot.toml"
    path.write_text(text.replace(old, new))
    return load_robot_config(path)


def test_mixed_bus_with_mit_replies_on_the_nmt_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"host_id must not be 0 .* CANopen NMT id"):
        variant(tmp_path, "sim_exo_mixed", "host_id = 0x7F0", "host_id = 0")


def test_a_drive_whose_units_differ_from_the_motor_table_is_refused_by_name(
    tmp_path: Path,
) -> None:
    """The emulated drives are commissioned for ELMO-G100 (rated torque 25 N·m); a host that
    believes they are EPOS-G50 (15 N·m) would scale every torque wrong."""
    drives = make_bench(load_robot_config("sim_exo_cia402"))
    host = variant(tmp_path, "sim_exo_cia402", '"ELMO-G100"', '"EPOS-G50"')
    robot = CanRobot(host, channel=drives.channel)
    with pytest.raises(ConfigurationError,
                       match=r"joint hip_flexion_r: .*rated torque 0x6076 = 25000 mN·m"):
        drives.configure(robot)
    assert robot.lifecycle is Lifecycle.UNCONFIGURED
    robot.close()
    drives.emulators.close()


def test_no_drive_on_the_bus_fails_configuration_with_a_communication_error() -> None:
    robot = CanRobot(load_robot_config("sim_exo_cia402"), channel="test-nobody-listens")
    with pytest.raises(CommunicationError, match=r"joint hip_flexion_r: CiA 402 node 1: .*SDO"):
        robot.configure()
    robot.close()
    assert robot.lifecycle is Lifecycle.FINALIZED
