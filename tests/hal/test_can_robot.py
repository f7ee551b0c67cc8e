"""CanRobot beyond the drive contract: MIT's exact quantization, mixed buses, several buses,
setup failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import can
import numpy as np
import pytest

from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.config import RobotConfig, bundled_robot_path, load_robot_config
from rehabbot.hal.drives import mit
from rehabbot.hal.fault_injection import Action, Direction, FaultInjectionBus, FaultRule
from rehabbot.hal.robot import CanRobot, Lifecycle
from rehabbot.hal.types import JointCommand
from rehabbot.safety.supervisor import BusErrorCounters
from tests.conftest import DriveBench, make_bench

AK10 = mit.motor_model("AK10-9")
#: sim_exo's belt reductions: hips 6:1, knees 4:1 (both legs)
GEAR = np.array([6.0, 4.0, 6.0, 4.0])
# one quantization step, joint side
Q_STEP = 2 * AK10.p_max_rad / 65535 / GEAR
QD_STEP = 2 * AK10.v_max_rad_s / 4095 / GEAR
TAU_STEP = 2 * AK10.t_max_nm / 4095 * GEAR


def test_mit_command_reaches_the_drive_law_within_the_quantization_of_each_field(
    bench: DriveBench,
) -> None:
    """The torque each emulated MIT drive applies is the joint-space impedance law, after the
    transmission (sign -1 on two joints, gears 6 and 4) and the quantization of every field."""
    assert [j.gear_ratio for j in bench.config.joints] == GEAR.tolist()
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
    assert np.all(np.abs(state.q - mixed.q) <= Q_STEP), (state.q, mixed.q)
    assert state.age_ticks.tolist() == [0, 0, 0, 0]
    assert robot.unexpected_frames == robot.malformed_frames == 0
    assert mixed.emulators.ignored_frames == 0  # MIT replies on 0x7F0 reach no CANopen drive
    robot.close()
    mixed.emulators.close()


@pytest.fixture
def two_bus() -> Iterator[DriveBench]:
    """sim_exo's emulated drives: right leg on one virtual bus, left leg on another, node
    ids 1 (hip) and 2 (knee) on each."""
    drive_bench = make_bench(load_robot_config("sim_exo"))
    yield drive_bench
    drive_bench.emulators.close()


def frames_on(bus: can.BusABC) -> list[can.Message]:
    frames = []
    while (msg := bus.recv(0.0)) is not None:
        frames.append(msg)
    bus.shutdown()
    return frames


def test_each_joint_command_goes_out_on_its_own_bus(two_bus: DriveBench) -> None:
    robot = two_bus.active_robot()
    right, left = two_bus.open("right"), two_bus.open("left")
    tau_ff = np.array([1.0, 2.0, 3.0, 4.0])  # tells the joints apart (joint side, N·m)
    robot.write(JointCommand(np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4), tau_ff))
    config = two_bus.config
    sent = {}
    for name, monitor in (("right", right), ("left", left)):
        for frame in frames_on(monitor):
            joint = next(j for j in config.joints
                         if config.bus_of(j).name == name and j.node_id == frame.arbitration_id)
            motor_tau = mit.unpack_command(AK10, bytes(frame.data))[4]
            sent[joint.name] = motor_tau * joint.sign * joint.gear_ratio
    assert list(sent) == ["hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l"]
    np.testing.assert_allclose(list(sent.values()), tau_ff, atol=TAU_STEP.max())
    robot.close()


def test_replies_from_both_buses_are_collected_by_joint(two_bus: DriveBench) -> None:
    robot = two_bus.active_robot()
    two_bus.q[:] = [0.3, 0.9, -0.2, 0.05]  # node 1 on each bus: different hips
    robot.write(JointCommand.torque_off(4))
    two_bus.step()
    state = robot.read()
    assert np.all(np.abs(state.q - two_bus.q) <= Q_STEP), (state.q, two_bus.q)
    assert state.age_ticks.tolist() == [0, 0, 0, 0]
    assert [link.decoded_frames for link in robot.links_.values()] == [4, 4]  # enable + this
    assert robot.decoded_frames == 8 and robot.unexpected_frames == 0
    robot.close()


def test_what_goes_wrong_is_counted_per_bus_and_summed_for_the_supervisor(
    two_bus: DriveBench,
) -> None:
    robot = two_bus.active_robot()
    right, left = robot.links_["right"], robot.links_["left"]
    left.bus = FaultInjectionBus(left.bus, [FaultRule(Action.STOP, Direction.TX)])
    on_right, on_left = two_bus.open("right"), two_bus.open("left")
    on_right.send(can.Message(arbitration_id=0x123, data=b"\x01", is_extended_id=False))
    on_right.send(can.Message(arbitration_id=0, data=bytes([1, 2, 3]), is_extended_id=False))
    on_left.send(can.Message(is_error_frame=True))
    on_right.shutdown()
    on_left.shutdown()
    robot.write(JointCommand.torque_off(4))  # the left bus is dead: both sends fail
    two_bus.step()
    robot.read()
    counters = ("decoded_frames", "unexpected_frames", "error_frames", "send_failures")
    assert [getattr(right, c) for c in counters] == [4, 2, 0, 0]  # enable and this tick's replies
    assert [getattr(left, c) for c in counters] == [2, 0, 1, 2]  # enable replies only
    assert [getattr(robot, c) for c in counters] == [6, 2, 1, 2]
    assert isinstance(robot, BusErrorCounters) and isinstance(left, BusErrorCounters)
    with pytest.raises(ConfigurationError, match=r"on 2 buses \(right, left\): use links_"):
        robot.bus_  # noqa: B018 (the property raises)
    robot.close()


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
    robot = CanRobot(host, channel_suffix=drives.channel_suffix)
    with pytest.raises(ConfigurationError,
                       match=r"joint hip_flexion_r: .*rated torque 0x6076 = 25000 mN·m"):
        drives.configure(robot)
    assert robot.lifecycle is Lifecycle.UNCONFIGURED
    robot.close()
    drives.emulators.close()


def test_no_drive_on_the_bus_fails_configuration_with_a_communication_error() -> None:
    robot = CanRobot(load_robot_config("sim_exo_cia402"), channel_suffix="-nobody-listens")
    with pytest.raises(CommunicationError, match=r"joint hip_flexion_r: CiA 402 node 1: .*SDO"):
        robot.configure()
    robot.close()
    assert robot.lifecycle is Lifecycle.FINALIZED


def test_reply_latency_is_measured_per_joint_and_a_silent_joint_has_none(
    bench: DriveBench,
) -> None:
    robot = bench.active_robot()
    bench.emulators.silence(3)  # knee_angle_l stops answering
    before = robot.reply_latency()["knee_angle_l"].count
    for _ in range(20):
        robot.write(JointCommand.torque_off(robot.n_joints))
        bench.step()
        robot.read()
    latency = robot.reply_latency()
    for joint in ("hip_flexion_r", "knee_angle_r", "hip_flexion_l"):
        stats = latency[joint]
        assert stats.count >= 20  # every command's first reply (and activation's)
        assert 0.0 <= stats.p50_us <= stats.max_us < 1e6
    assert latency["knee_angle_l"].count == before


def test_a_later_reply_in_the_same_tick_never_hides_a_fault_or_a_temperature(
    bench: DriveBench,
) -> None:
    """Issue 15 item 12: a second device answering on the knee's node id after the knee reported
    an over-current at 90 °C: the state keeps the fault code and the temperature."""
    robot = bench.active_robot()
    forger = bench.open()
    knee = bench.config.joints[1]
    robot.write(JointCommand.torque_off(4))
    bench.step()  # the real replies, healthy
    for temperature_c, error in ((90.0, 2), (30.0, 0)):  # the knee faults, the impostor not
        forger.send(can.Message(
            arbitration_id=bench.config.buses[0].host_id, is_extended_id=False,
            data=mit.pack_reply(AK10, knee.node_id, 0.0, 0.0, 0.0, temperature_c, error)))
    forger.shutdown()
    state = robot.read()
    assert state.fault_code.tolist() == [0, 2, 0, 0]
    assert state.temperature_c[1] == 90.0
    robot.write(JointCommand.torque_off(4))
    bench.step()
    assert robot.read().fault_code.tolist() == [0, 0, 0, 0]  # the next tick is its own
    robot.close()
