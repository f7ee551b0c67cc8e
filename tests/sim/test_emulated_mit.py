"""The emulated MIT drive's own behaviour: command watchdog, fault hook, malformed frames; and a
whole simulated session with the drives on one bus per leg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import can
import pytest

from rehabbot.hal.config import RobotConfig, load_robot_config, whole_periods
from rehabbot.hal.drives import mit
from rehabbot.hal.types import JointCommand
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.emulated_mit import EmulatedMitBank
from tests.conftest import DriveBench, one_bus


def mit_bank(bench: DriveBench) -> EmulatedMitBank:
    bank = bench.bank
    assert isinstance(bank, EmulatedMitBank)
    return bank


def replies(bus: can.BusABC, model: mit.MitMotorModel) -> list[int]:
    codes = []
    while (msg := bus.recv(0.0)) is not None:
        if msg.arbitration_id == 0:  # the host id: a reply, not a command
            codes.append(mit.unpack_reply(model, bytes(msg.data)).fault_code)
    return codes


def test_the_watchdog_holds_the_error_code_until_the_drive_is_enabled_again(
    bench: DriveBench,
) -> None:
    robot = bench.active_robot()
    drive = mit_bank(bench).drives[0]
    config = bench.config  # the configured watchdog: twice the command deadline, 40 ms
    assert drive.watchdog_steps == whole_periods(config.watchdog_s(config.joints[0]),
                                                 config.period_s) == 40
    for _ in range(drive.watchdog_steps + 1):
        bench.step()
    assert not drive.enabled and drive.fault_code == mit.WATCHDOG_ERROR_CODE
    monitors = [bench.open(bus.name) for bus in bench.config.buses]
    robot.write(JointCommand.torque_off(4))  # commands alone do not re-enable
    bench.step()
    codes = [code for monitor in monitors for code in replies(monitor, drive.model)]
    assert codes == [mit.WATCHDOG_ERROR_CODE] * 4
    robot.deactivate()
    robot.activate(bench.step, timeout_s=0.01)  # enter motor mode clears it
    assert drive.enabled and drive.fault_code == 0
    for monitor in monitors:
        monitor.shutdown()
    robot.close()


def test_a_disabled_drive_has_no_watchdog(bench: DriveBench) -> None:
    robot = bench.robot()
    bench.configure(robot)
    for _ in range(10):
        bench.step()
    assert [d.fault_code for d in bench.drives()] == [0, 0, 0, 0]
    robot.close()


def test_a_frame_of_the_wrong_length_is_dropped_unanswered(bench: DriveBench) -> None:
    monitor = bench.open()
    monitor.send(can.Message(arbitration_id=1, data=bytes(5), is_extended_id=False))
    bench.step()
    assert mit_bank(bench).ignored_frames == 1
    assert monitor.recv(0.0) is None
    monitor.shutdown()


def walk(robot: RobotConfig, store: Path) -> dict[str, Any]:
    """A 10 s simulated session of the bundled standard_gait protocol on ``robot``: its summary."""
    request = SessionRequest(robot, load_protocol(), store, duration_s=10.0)
    result = SessionRunner(request).run()
    assert result.status == "completed" and result.loop.faults == [], result.loop.faults
    return result.summary.as_dict()


def test_a_robot_with_a_bus_per_leg_walks_like_the_one_bus_robot(tmp_path: Path) -> None:
    """sim_exo has each leg on its own virtual bus (node ids 1 and 2 on both): a whole session
    runs through both buses with the same cadence and ranges of motion as with all four joints
    on one bus."""
    one = walk(one_bus(load_robot_config("sim_exo")), tmp_path / "one.sqlite")
    per_leg = walk(load_robot_config("sim_exo"), tmp_path / "two.sqlite")
    assert per_leg["strides_right"] >= 4 and per_leg["strides_left"] >= 4
    assert per_leg["cadence_steps_per_min"] == pytest.approx(one["cadence_steps_per_min"],
                                                             abs=0.5)
    rom = {j["name"]: j["rom_deg"] for j in per_leg["joints"]}
    reference = {j["name"]: j["rom_deg"] for j in one["joints"]}
    assert rom.keys() == reference.keys() == set(load_robot_config("sim_exo").joint_names)
    for name, deg in rom.items():
        assert abs(deg - reference[name]) <= 1.0, (name, rom, reference)
