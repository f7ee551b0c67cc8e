"""The emulated MIT drive's own behaviour: command watchdog, fault hook, malformed frames."""

from __future__ import annotations

import can

from rehabbot.hal.bus import open_bus
from rehabbot.hal.drives import mit
from rehabbot.hal.types import JointCommand
from rehabbot.sim.emulated_mit import EmulatedMitBank
from tests.conftest import DriveBench


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
    assert drive.watchdog_steps == 3  # the host's stale-feedback time at 1 kHz
    for _ in range(3):
        bench.step()
    assert not drive.enabled and drive.fault_code == mit.WATCHDOG_ERROR_CODE
    monitor = open_bus(bench.config.bus, bench.channel)
    robot.write(JointCommand.torque_off(4))  # commands alone do not re-enable
    bench.step()
    assert replies(monitor, drive.model) == [mit.WATCHDOG_ERROR_CODE] * 4
    robot.deactivate()
    robot.activate(bench.step, timeout_s=0.01)  # enter motor mode clears it
    assert drive.enabled and drive.fault_code == 0
    monitor.shutdown()
    robot.close()


def test_a_disabled_drive_has_no_watchdog(bench: DriveBench) -> None:
    robot = bench.robot()
    bench.configure(robot)
    for _ in range(10):
        bench.step()
    assert [d.fault_code for d in mit_bank(bench).drives] == [0, 0, 0, 0]
    robot.close()


def test_a_frame_of_the_wrong_length_is_dropped_unanswered(bench: DriveBench) -> None:
    monitor = open_bus(bench.config.bus, bench.channel)
    monitor.send(can.Message(arbitration_id=1, data=bytes(5), is_extended_id=False))
    bench.step()
    assert mit_bank(bench).ignored_frames == 1
    assert monitor.recv(0.0) is None
    monitor.shutdown()
