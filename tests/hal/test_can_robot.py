"""The HAL's CanRobot against emulated MIT drives on python-can's virtual bus."""

from __future__ import annotations

import can
import numpy as np
import pytest

from rehabbot.errors import CommunicationError
from rehabbot.hal.bus import open_bus
from rehabbot.hal.drives import mit
from rehabbot.hal.robot import CanRobot, Lifecycle, LifecycleError
from rehabbot.hal.types import JointCommand
from tests.conftest import DriveBench

AK10 = mit.motor_model("AK10-9")
GEAR = 3.0
# one quantization step, joint side
Q_STEP = 2 * AK10.p_max_rad / 65535 / GEAR
QD_STEP = 2 * AK10.v_max_rad_s / 4095 / GEAR
TAU_STEP = 2 * AK10.t_max_nm / 4095 * GEAR


def active_robot(bench: DriveBench) -> CanRobot:
    robot = bench.robot()
    robot.configure()
    robot.activate(bench.step, timeout_s=0.01)
    return robot


def test_lifecycle_runs_configure_activate_deactivate_close(bench: DriveBench) -> None:
    robot = bench.robot()
    assert robot.lifecycle is Lifecycle.UNCONFIGURED
    with pytest.raises(LifecycleError, match="must be inactive"):
        robot.activate(bench.step, timeout_s=0.01)
    robot.configure()
    assert robot.lifecycle is Lifecycle.INACTIVE
    robot.activate(bench.step, timeout_s=0.01)
    assert robot.lifecycle is Lifecycle.ACTIVE
    assert all(d.enabled for d in bench.bank.drives)
    robot.deactivate()
    bench.step()
    assert not any(d.enabled for d in bench.bank.drives)
    with pytest.raises(LifecycleError, match="robot is inactive"):
        robot.write(JointCommand.torque_off(4))
    robot.close()
    assert robot.lifecycle is Lifecycle.FINALIZED


def test_activation_names_the_joints_whose_drives_do_not_answer(bench: DriveBench) -> None:
    bench.bank.silenced.add(1)
    robot = bench.robot()
    robot.configure()
    with pytest.raises(CommunicationError, match=r"knee_angle_r.*check power"):
        robot.activate(bench.step, timeout_s=0.005)
    robot.close()


def test_state_round_trip_applies_sign_gear_and_offset(bench: DriveBench) -> None:
    robot = active_robot(bench)
    bench.q[:] = [0.3, 0.9, -0.2, 0.05]
    bench.qd[:] = [1.0, -2.0, 0.5, 0.0]
    robot.write(JointCommand.torque_off(4))
    bench.step()
    state = robot.read()
    np.testing.assert_allclose(state.q, bench.q, atol=Q_STEP)
    np.testing.assert_allclose(state.qd, bench.qd, atol=QD_STEP)
    assert state.age_ticks.tolist() == [0, 0, 0, 0]
    assert state.temperature_c.tolist() == [30.0] * 4
    robot.close()


def test_command_round_trip_reaches_the_drive_law_in_joint_units(bench: DriveBench) -> None:
    """The torque each emulated drive applies is the joint-space impedance law, after the
    transmission (sign -1 on two joints, gear 3) and the wire's quantization."""
    robot = active_robot(bench)
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
    # tolerance: the quantization of every field, propagated through the law (joint side)
    kp_step, kd_step = 500 / 4095 * GEAR**2, 5 / 4095 * GEAR**2
    tol = (command.kp * Q_STEP + command.kd * QD_STEP + kp_step * 0.5 + kd_step * 1.5
           + TAU_STEP) / 2 + 1e-6
    assert np.all(np.abs(bench.tau - expected) <= tol), (bench.tau, expected, tol)
    assert np.all(np.abs(expected) > 5 * tol)  # the check above is not trivially satisfied
    state = robot.read()
    np.testing.assert_allclose(state.tau, bench.tau, atol=TAU_STEP)
    robot.close()


def test_write_sends_every_joint_before_any_reply_is_read(bench: DriveBench) -> None:
    monitor = open_bus(bench.config.bus, bench.channel)
    robot = active_robot(bench)
    while monitor.recv(0.0) is not None:
        pass
    robot.write(JointCommand.torque_off(4))
    sent = []
    while (msg := monitor.recv(0.0)) is not None:
        sent.append(msg.arbitration_id)
    assert sent == [1, 2, 3, 4]
    monitor.shutdown()
    robot.close()


def test_garbage_frames_are_counted_and_the_state_stays_valid(bench: DriveBench) -> None:
    robot = active_robot(bench)
    intruder = open_bus(bench.config.bus, bench.channel)
    robot.read()
    garbage = [
        can.Message(arbitration_id=0, data=bytes([9, 1, 2, 3, 4, 5, 6, 7]), is_extended_id=False),
        can.Message(arbitration_id=0x555, data=bytes(3), is_extended_id=False),
        can.Message(arbitration_id=0x1ABCDE, data=bytes(8), is_extended_id=True),
        can.Message(is_error_frame=True),
    ]
    for msg in garbage:
        intruder.send(msg)
    state = robot.read()
    assert robot.unexpected_frames == 3
    assert robot.error_frames == 1
    assert np.isfinite(state.q).all()
    assert state.age_ticks.tolist() == [2, 2, 2, 2]  # garbage is not a reply: age keeps growing
    intruder.shutdown()
    robot.close()


def test_feedback_age_grows_while_a_drive_is_silent(bench: DriveBench) -> None:
    robot = active_robot(bench)
    bench.bank.silenced.add(2)
    ages = []
    for _ in range(4):
        ages.append(robot.read().age_ticks.tolist())
        robot.write(JointCommand.torque_off(4))
        bench.step()
    # the first read sees no reply yet (nothing was commanded since activation)
    assert ages == [[1, 1, 1, 1], [0, 0, 2, 0], [0, 0, 3, 0], [0, 0, 4, 0]]
    robot.close()
