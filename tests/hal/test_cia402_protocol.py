"""The CiA 402 drive, host side: wire layout and units, fault codes, and what setup configures."""

from __future__ import annotations

import math
from collections.abc import Iterator

import can
import pytest

from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.config import load_robot_config, whole_periods
from rehabbot.hal.drives import cia402
from rehabbot.hal.drives.cia402 import Cia402Drive
from rehabbot.hal.types import JointCommand
from rehabbot.sim.emulated_cia402 import EmulatedCia402Drive
from tests.conftest import DriveBench, make_bench

ELMO = cia402.motor_model("ELMO-G100")
OPERATION_ENABLED, SWITCHED_ON, FAULT = 0x0237, 0x0233, 0x0208


def frame(cob_id: int, data: bytes) -> can.Message:
    return can.Message(arbitration_id=cob_id, data=data, is_extended_id=False)


def tpdo1(node: int, status: int, counts: int, permille: int) -> can.Message:
    data = (status.to_bytes(2, "little") + counts.to_bytes(4, "little", signed=True)
            + permille.to_bytes(2, "little", signed=True))
    return frame(0x180 + node, data)


def tpdo2(node: int, velocity: int, error: int) -> can.Message:
    return frame(0x280 + node, velocity.to_bytes(4, "little", signed=True)
                 + error.to_bytes(2, "little"))


def emcy(node: int, code: int, register: int = 1) -> can.Message:
    return frame(0x80 + node, code.to_bytes(2, "little") + bytes([register]) + bytes(5))


def test_motor_table_scales_the_wire_units() -> None:
    assert {"EPOS-G50", "ELMO-G100", "COPLEY-G30"} <= set(cia402.MOTOR_MODELS)
    assert ELMO.counts_per_rev == 13_107_200
    assert ELMO.rated_torque_nm == 25.0 and ELMO.peak_torque_nm == 75.0
    assert ELMO.velocity_units_per_rad_s == pytest.approx(ELMO.counts_per_rad)
    epos = cia402.motor_model("EPOS-G50")
    assert epos.velocity_units_per_rad_s == pytest.approx(50 * 60 / (2 * math.pi))  # motor rpm
    with pytest.raises(ConfigurationError, match="known: COPLEY-G30, ELMO-G100, EPOS-G50"):
        cia402.motor_model("AK10-9")


def test_rpdo_carries_controlword_per_mille_torque_and_position_counts() -> None:
    drive = Cia402Drive(node_id=3, motor="ELMO-G100")
    assert drive.enable_frames()[0].data.hex() == "0f00000000000000"
    assert drive.disable_frames()[0].data.hex() == "0700000000000000"
    rpdo = drive.command_frames(0.0, 0.0, 0.0, 0.0, -6.25)[0]  # -250 per mille of 25 N·m
    assert (rpdo.arbitration_id, rpdo.data.hex()) == (0x203, "0f0006ff00000000")
    assert drive.torque_permille(1e6) == 3000 and drive.torque_permille(0.0124) == 0


def test_cst_host_computes_the_impedance_law_from_the_last_feedback() -> None:
    drive = Cia402Drive(node_id=1, motor="ELMO-G100")
    counts = round(0.5 * ELMO.counts_per_rad)
    drive.decode(tpdo1(1, OPERATION_ENABLED, counts, 0))
    drive.decode(tpdo2(1, round(-1.0 * ELMO.velocity_units_per_rad_s), 0))
    rpdo = drive.command_frames(0.7, 0.0, 20.0, 2.0, 1.0)[0]
    expected = 20.0 * (0.7 - 0.5) + 2.0 * (0.0 + 1.0) + 1.0  # 7 N·m = 280 per mille
    assert int.from_bytes(rpdo.data[2:4], "little", signed=True) == round(expected / 25 * 1000)


def test_csp_sends_the_position_and_kp_zero_disables_operation() -> None:
    drive = Cia402Drive(node_id=1, motor="ELMO-G100", mode="csp")
    drive.decode(tpdo1(1, OPERATION_ENABLED, 1234, 0))
    hold = drive.command_frames(0.25, 1.0, 100.0, 1.0, 5.0)[0].data
    assert hold[:2].hex() == "0f00" and hold[2:4].hex() == "0000"  # no torque in CSP
    assert int.from_bytes(hold[4:], "little", signed=True) == round(0.25 * ELMO.counts_per_rad)
    free = drive.command_frames(0.25, 0.0, 0.0, 0.0, 0.0)[0].data
    assert free[:2].hex() == "0700" and int.from_bytes(free[4:], "little") == 1234


def test_tpdos_decode_to_motor_side_si_units() -> None:
    drive = Cia402Drive(node_id=2, motor="ELMO-G100")
    fb = drive.decode(tpdo1(2, OPERATION_ENABLED, -131072, -250))
    assert fb is not None
    assert fb.position_rad == pytest.approx(-131072 / ELMO.counts_per_rad)
    assert fb.torque_nm == pytest.approx(-6.25) and math.isnan(fb.temperature_c)
    fb = drive.decode(tpdo2(2, 2_086_076, 0))  # counts/s of 1 rad/s, rounded
    assert fb is not None and fb.velocity_rad_s == pytest.approx(1.0, abs=1e-6)
    assert fb.fault_code == 0


@pytest.mark.parametrize(("frames", "code"), [
    ([tpdo2(1, 0, 0x2310), tpdo1(1, FAULT, 0, 0)], 0x2310),  # the drive's error code 0x603F
    ([emcy(1, 0x8250), tpdo1(1, FAULT, 0, 0)], 0x8250),  # else its EMCY
    ([tpdo1(1, FAULT, 0, 0)], cia402.FAULT_GENERIC),  # else the fault bit alone
    ([emcy(1, 0x4310), tpdo1(1, OPERATION_ENABLED, 0, 0)], 0x4310),  # an active EMCY
    ([emcy(1, 0x4310), emcy(1, 0x0000, 0), tpdo1(1, OPERATION_ENABLED, 0, 0)], 0),  # reset
])
def test_faults_surface_as_fault_codes(frames: list[can.Message], code: int) -> None:
    drive = Cia402Drive(node_id=1, motor="ELMO-G100")
    feedback = [drive.decode(f) for f in frames]
    assert feedback[-1] is not None and feedback[-1].fault_code == code


def test_heartbeat_loss_is_a_fault_after_three_producer_periods_of_syncs() -> None:
    drive = Cia402Drive(node_id=1, motor="ELMO-G100", period_s=0.001)
    assert drive.decode(frame(0x701, bytes([5]))) is None  # bookkeeping, no measurement
    limit = cia402.HEARTBEAT_TIMEOUT_PERIODS * cia402.HEARTBEAT_PRODUCER_MS  # SYNCs at 1 kHz
    codes = [drive.decode(tpdo1(1, OPERATION_ENABLED, 0, 0)).fault_code  # type: ignore[union-attr]
             for _ in range(limit + 1)]
    assert codes[:limit] == [0] * limit and codes[limit] == cia402.FAULT_HEARTBEAT_LOST
    drive.decode(frame(0x701, bytes([5])))
    assert drive.fault_code() == 0


def test_a_drive_that_does_not_reach_operation_enabled_is_a_fault() -> None:
    drive = Cia402Drive(node_id=1, motor="ELMO-G100", period_s=0.001)
    drive.enable_frames()
    grace = round(cia402.ENABLE_TIMEOUT_S / 0.001)
    codes = [drive.decode(tpdo1(1, SWITCHED_ON, 0, 0)).fault_code  # type: ignore[union-attr]
             for _ in range(grace + 1)]
    assert codes[:grace] == [0] * grace and codes[grace] == cia402.FAULT_NOT_ENABLED
    drive.disable_frames()  # switched on is what the host asked for now
    assert drive.decode(tpdo1(1, SWITCHED_ON, 0, 0)).fault_code == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("msg", [
    frame(0x181, bytes(7)), frame(0x281, bytes(8)), frame(0x81, bytes(5)), frame(0x701, b""),
    frame(0x701, bytes(2)), frame(0x182, bytes(8)),
])
def test_malformed_frames_are_refused(msg: can.Message) -> None:
    with pytest.raises(CommunicationError):
        Cia402Drive(node_id=1, motor="ELMO-G100").decode(msg)


@pytest.mark.parametrize(("cob_id", "key"), [
    (0x085, ("cia402", 5)), (0x185, ("cia402", 5)), (0x285, ("cia402", 5)),
    (0x705, ("cia402", 5)), (0x080, None), (0x205, None), (0x585, None), (0x385, None),
    (0x000, None),
])
def test_replies_route_by_node_and_function_code(cob_id: int, key: object) -> None:
    assert Cia402Drive.reply_key_of(frame(cob_id, bytes(8))) == key
    assert Cia402Drive.reply_key_of(
        can.Message(arbitration_id=cob_id, data=bytes(8), is_extended_id=True)) is None


def test_sync_is_one_empty_frame_on_0x80() -> None:
    sync = Cia402Drive.sync_frame()
    assert (sync.arbitration_id, sync.dlc, sync.is_extended_id) == (0x80, 0, False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"node_id": 0}, r"1\.\.127"), ({"mode": "csv"}, "cst, csp"), ({"motor": "X"}, "known"),
])
def test_bad_parameters_are_configuration_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"node_id": 1, "motor": "ELMO-G100"} | kwargs
    with pytest.raises(ConfigurationError, match=message):
        Cia402Drive(**args)  # type: ignore[arg-type]


@pytest.fixture
def cia402_bench() -> Iterator[DriveBench]:
    bench = make_bench(load_robot_config("sim_exo_cia402"))
    yield bench
    bench.emulators.close()


def emulated(bench: DriveBench, joint: int) -> EmulatedCia402Drive:
    drive = bench.drives()[joint]
    assert isinstance(drive, EmulatedCia402Drive)
    return drive


def stored(drive: EmulatedCia402Drive, index: int, subindex: int = 0) -> int:
    return int.from_bytes(drive.node.get_data(index, subindex), "little")


def test_setup_configures_the_drive_as_documented(cia402_bench: DriveBench) -> None:
    robot = cia402_bench.robot()
    cia402_bench.configure(robot)
    drive = emulated(cia402_bench, 1)
    assert drive.node.nmt.state == "OPERATIONAL" and drive.state == "SWITCHED ON"
    assert stored(drive, 0x6060) == 10 and stored(drive, 0x6061) == 10
    assert stored(drive, 0x1017) == cia402.HEARTBEAT_PRODUCER_MS
    assert stored(drive, 0x6072) == ELMO.max_torque_permille and stored(drive, 0x6007) == 1
    config = cia402_bench.config
    deadline_ms = round(config.watchdog_s(config.joints[0]) * 1000)  # the drive watchdog
    assert [stored(drive, 0x1400, s) for s in (1, 2, 5)] == [0x202, 1, deadline_ms]  # sync
    assert [stored(drive, 0x1600, s) for s in range(4)] == [3, 0x60400010, 0x60710010, 0x607A0020]
    assert [stored(drive, 0x1800, s) for s in (1, 2)] == [0x182, 1]
    assert [stored(drive, 0x1A00, s) for s in range(4)] == [3, 0x60410010, 0x60640020, 0x60770010]
    assert [stored(drive, 0x1801, s) for s in (1, 2)] == [0x282, 1]
    assert [stored(drive, 0x1A01, s) for s in range(3)] == [2, 0x606C0020, 0x603F0010]
    for unused in (0x1401, 0x1402, 0x1403, 0x1802, 0x1803):
        assert stored(drive, unused, 1) & 0x8000_0000  # disabled
    robot.close()


def test_setup_resets_a_faulted_drive(cia402_bench: DriveBench) -> None:
    cia402_bench.emulators.inject_fault(0, 0x2310)
    robot = cia402_bench.robot()
    cia402_bench.configure(robot)
    drive = emulated(cia402_bench, 0)
    assert drive.state == "SWITCHED ON" and drive.error_code == 0
    robot.close()


def test_setup_refuses_a_node_that_is_not_a_cia402_drive(cia402_bench: DriveBench) -> None:
    emulated(cia402_bench, 2).node.set_data(0x1000, 0, (0x00000191).to_bytes(4, "little"))
    robot = cia402_bench.robot()
    with pytest.raises(ConfigurationError,
                       match=r"joint hip_flexion_l: .* not a CiA 402 drive \(device type "
                             r"0x00000191\)"):
        cia402_bench.configure(robot)
    robot.close()


def test_setup_refuses_a_drive_without_the_mode(cia402_bench: DriveBench) -> None:
    emulated(cia402_bench, 0).node.set_data(0x6502, 0, (0x0080).to_bytes(4, "little"))
    robot = cia402_bench.robot()
    with pytest.raises(ConfigurationError,
                       match="does not support cyclic synchronous torque mode"):
        cia402_bench.configure(robot)
    robot.close()


def test_the_configured_abort_connection_option_is_what_the_watchdog_triggers() -> None:
    config = load_robot_config("sim_exo_cia402")
    joints = [j.model_copy(update={"abort_connection": 3}) for j in config.joints]
    bench = make_bench(config.model_copy(update={"joints": joints}))
    try:
        robot = bench.active_robot()
        drive = emulated(bench, 0)
        assert stored(drive, 0x6007) == 3 and drive.state == "OPERATION ENABLED"
        watchdog = whole_periods(config.watchdog_s(config.joints[0]), config.period_s)
        robot.write(JointCommand.torque_off(4))  # the last command: the host then goes silent
        for _ in range(watchdog):  # its period and the watchdog's others: still enabled
            bench.step()
        assert drive.state == "OPERATION ENABLED"
        bench.step()
        assert drive.state == "QUICK STOP ACTIVE" and drive.torque_motor_nm == 0.0
        robot.close()
    finally:
        bench.emulators.close()
