"""The emulated CiA 402 drive: its EDS, SDO/NMT with canopen's own master, the 402 state machine,
heartbeats in simulated time, EMCY, the RPDO deadline, CSP, and whole simulated sessions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import can
import canopen
import numpy as np
import pytest
from canopen.profiles.p402 import BaseNode402, State402
from canopen.sdo.exceptions import SdoAbortedError

from rehabbot.configfile import bundled_file, parse_toml_model
from rehabbot.hal.bus import open_bus
from rehabbot.hal.config import RobotConfig, bundled_robot_path, load_robot_config, whole_periods
from rehabbot.hal.drives import cia402
from rehabbot.hal.types import JointCommand
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.emulated_cia402 import (
    CSP_DAMPING_NMS_PER_RAD,
    CSP_STIFFNESS_NM_PER_RAD,
    TRANSITIONS,
    EmulatedCia402Bank,
    EmulatedCia402Drive,
)
from rehabbot.sim.simulator import DriveEmulators
from rehabbot.storage.store import SessionStore
from tests.conftest import DriveBench, make_bench

ELMO = cia402.motor_model("ELMO-G100")
#: A controlword for each device control command.
COMMANDS = {"shutdown": 0x06, "switch on": 0x07, "enable operation": 0x0F,
            "disable voltage": 0x00, "quick stop": 0x02}


def state_of(statusword: int) -> str:
    """canopen's own decoding of a statusword (the host's view)."""
    return next(name for name, (mask, value) in State402.SW_MASK.items()
                if statusword & mask == value)


def frames_on(bus: can.BusABC) -> list[can.Message]:
    frames = []
    while (msg := bus.recv(0.0)) is not None:
        frames.append(msg)
    return frames


def config_variant(name: str, old: str, new: str) -> RobotConfig:
    text = bundled_robot_path(name).read_text()
    assert old in text
    return parse_toml_model(text.replace(old, new), RobotConfig, source=f"{name} variant")


@pytest.fixture
def bench() -> Iterator[DriveBench]:
    drive_bench = make_bench(load_robot_config("sim_exo_cia402"))
    yield drive_bench
    drive_bench.emulators.close()


def bank_of(bench: DriveBench) -> EmulatedCia402Bank:
    bank = bench.bank
    assert isinstance(bank, EmulatedCia402Bank)
    return bank


def test_the_eds_describes_every_object_the_drives_map() -> None:
    od = canopen.import_od(str(bundled_file("eds", cia402.EDS_FILE)), 1)
    assert od[0x1000].default == 0x00020192  # CiA 402 servo drive
    assert [od[0x1018][s].name for s in range(1, 5)] == [
        "Vendor-ID", "Product code", "Revision number", "Serial number"]
    assert od.device_information.nr_of_RXPDO == od.device_information.nr_of_TXPDO == 4
    assert od[0x1017].writable and len(od[0x1017]) == 16
    for n in range(4):
        assert {0x1400 + n, 0x1600 + n, 0x1800 + n, 0x1A00 + n} <= set(od)
        assert od[0x1400 + n][5].name == "Event timer"
    for index, bits in (*cia402.RPDO1_MAPPING, *cia402.TPDO1_MAPPING, *cia402.TPDO2_MAPPING):
        assert od[index].pdo_mappable and len(od[index]) == bits, hex(index)
    assert od[0x6502].default == 0x0280  # CSP and CST


def test_a_drive_boots_with_a_boot_up_message_into_pre_operational() -> None:
    config = load_robot_config("sim_exo_cia402")
    suffix = f"-test-{uuid.uuid4().hex}"
    monitors = [open_bus(bus, bus.channel + suffix) for bus in config.buses]
    emulators = DriveEmulators(config, [0, 1, 2, 3], np.zeros(4), np.zeros(4),
                               channel_suffix=suffix)
    for monitor in monitors:  # one bus per leg, node ids 1 (hip) and 2 (knee) on each
        assert [(f.arbitration_id, bytes(f.data)) for f in frames_on(monitor)] == [
            (0x701, b"\x00"), (0x702, b"\x00")]
    for bank in emulators.emulators:
        assert isinstance(bank, EmulatedCia402Bank)
        assert {d.node.nmt.state for d in bank.drives} == {"PRE-OPERATIONAL"}
    for monitor in monitors:
        monitor.shutdown()
    emulators.close()


@pytest.mark.parametrize(("start", "command"), sorted(TRANSITIONS))
def test_controlwords_walk_the_cia402_state_machine(
    bench: DriveBench, start: str, command: str
) -> None:
    drive = bank_of(bench).drives[0]
    drive.state = start
    drive.node.sdo[0x6040].raw = COMMANDS[command]
    assert drive.state == TRANSITIONS[(start, command)]
    assert state_of(drive.node.sdo[0x6041].raw) == drive.state


def test_commands_without_a_transition_leave_the_state(bench: DriveBench) -> None:
    drive = bank_of(bench).drives[0]
    drive.node.sdo[0x6040].raw = COMMANDS["enable operation"]  # needs switched on first
    assert drive.state == "SWITCH ON DISABLED"


@pytest.fixture
def canopen_master(bench: DriveBench) -> Iterator[BaseNode402]:
    """canopen's own CiA 402 master for node 2, fed by a Notifier, the drives being served."""
    bus = bench.open()
    network = canopen.Network(bus)
    node = BaseNode402(2, cia402.object_dictionary(2))
    network.add_node(node)
    with can.Notifier(bus, network.listeners, timeout=0.01), bench.emulators.serving():
        yield node
    bus.shutdown()


def test_canopen_master_reads_identity_and_walks_to_operation_enabled(
    bench: DriveBench, canopen_master: BaseNode402
) -> None:
    sdo = canopen_master.sdo
    assert sdo[0x1000].raw == 0x00020192 and sdo[0x1018][2].raw == 0x402
    assert sdo[0x6076].raw == ELMO.rated_torque_mnm  # commissioned for its motor
    with pytest.raises(SdoAbortedError) as refused:
        sdo[0x6060].raw = 9  # cyclic synchronous velocity: not supported
    assert refused.value.code == 0x06090030
    sdo[0x6060].raw = 8
    assert sdo[0x6061].raw == 8
    canopen_master.state = "OPERATION ENABLED"
    assert bank_of(bench).drives[1].state == "OPERATION ENABLED"


def test_heartbeats_follow_simulated_time(bench: DriveBench) -> None:
    monitor = bench.open()
    drive = bank_of(bench).drives[0]
    drive.node.sdo[0x1017].raw = 10  # ms
    for _ in range(round(0.035 / bench.config.period_s)):  # 35 ms of simulated time
        bench.step()
    beats = [bytes(f.data) for f in frames_on(monitor) if f.arbitration_id == 0x701]
    assert beats == [b"\x7f"] * 3  # at 10, 20, 30 ms, pre-operational
    monitor.shutdown()


def test_a_fault_sends_emcy_and_a_fault_reset_clears_it(bench: DriveBench) -> None:
    monitor = bench.open()
    drive = bank_of(bench).drives[0]
    bench.emulators.inject_fault(0, 0x2310)
    assert drive.state == "FAULT"
    assert drive.node.sdo[0x603F].raw == 0x2310 and drive.node.sdo[0x1001].raw == 0b11
    drive.node.sdo[0x6040].raw = 0x00
    drive.node.sdo[0x6040].raw = 0x80  # rising edge of bit 7
    assert drive.state == "SWITCH ON DISABLED" and drive.node.sdo[0x603F].raw == 0
    assert [bytes(f.data[:3]).hex() for f in frames_on(monitor) if f.arbitration_id == 0x81] == [
        "102303", "000000"]  # EMCY over-current, current + generic; then error reset
    monitor.shutdown()


@pytest.mark.parametrize(("option", "state"), [
    (0, "OPERATION ENABLED"), (1, "FAULT"), (2, "SWITCH ON DISABLED"), (3, "QUICK STOP ACTIVE"),
])
def test_rpdo_deadline_reaction_follows_the_abort_connection_option(
    bench: DriveBench, option: int, state: str
) -> None:
    robot = bench.active_robot()
    drive = bank_of(bench).drives[0]
    drive.node.sdo[0x6007].raw = option
    monitor = bench.open()
    robot.write(JointCommand.torque_off(4))
    config = bench.config
    for _ in range(whole_periods(config.watchdog_s(config.joints[0]), config.period_s) + 1):
        bench.step()  # one period beyond the drive watchdog (the RPDO event timer)
    assert drive.state == state
    emcy = [f.data[:2].hex() for f in frames_on(monitor) if f.arbitration_id == 0x81]
    assert emcy == ([] if option == 0 else ["5082"])  # 0x8250, RPDO timeout
    monitor.shutdown()
    robot.close()


def test_csp_holds_the_target_with_the_documented_gains() -> None:
    bench = make_bench(config_variant("sim_exo_cia402", 'mode = "cst"', 'mode = "csp"'))
    robot = bench.active_robot()
    bench.q[:] = [0.2, 0.4, 0.1, 0.3]
    bench.qd[:] = [0.1, -0.2, 0.0, 0.5]
    hold = JointCommand(np.array([0.25, 0.5, 0.1, 0.2]), np.zeros(4), np.full(4, 1.0), np.zeros(4))
    for _ in range(2):  # the second tick has no velocity feed-forward: the target stands still
        robot.read()
        robot.write(hold)
        bench.step()
    gear = np.array([j.gear_ratio for j in bench.config.joints])
    sign = np.array([j.sign for j in bench.config.joints], dtype=float)
    target = np.round(sign * gear * hold.q_ref * ELMO.counts_per_rad) / ELMO.counts_per_rad
    # the law runs on what the drive measures: whole encoder increments, a noisy velocity
    position = np.round(sign * gear * bench.q * ELMO.counts_per_rad) / ELMO.counts_per_rad
    velocity = np.zeros(4)
    for bank in bench.emulators.emulators:
        assert isinstance(bank, EmulatedCia402Bank)
        for drive, i in zip(bank.drives, bank.sim_indices, strict=True):
            velocity[i] = drive.velocity_rad_s
    sigma = bank_of(bench).drives[0].velocity_noise_rad_s
    assert sigma == pytest.approx(2 * np.pi / ELMO.counts_per_rev
                                  / (np.sqrt(6) * bench.config.period_s))
    assert np.all(np.abs(velocity - sign * gear * bench.qd) < 5 * sigma)
    motor = (CSP_STIFFNESS_NM_PER_RAD * (target - position)
             - CSP_DAMPING_NMS_PER_RAD * velocity)
    np.testing.assert_allclose(bench.tau, sign * gear * motor, rtol=1e-9)
    robot.close()
    bench.emulators.close()


def test_malformed_host_frames_are_dropped_and_counted(bench: DriveBench) -> None:
    robot = bench.active_robot()
    bank = bank_of(bench)
    drive = bank.drives[0]
    intruder = bench.open()
    for cob_id, size in ((0x201, 7), (0x000, 3), (0x080, 2), (0x601, 5)):
        intruder.send(can.Message(arbitration_id=cob_id, data=bytes([0x02] * size),
                                  is_extended_id=False))
    bench.step()
    assert bank.ignored_frames == 4
    assert drive.state == "OPERATION ENABLED" and drive.node.nmt.state == "OPERATIONAL"
    intruder.shutdown()
    robot.close()


def test_an_nmt_reset_reboots_the_drive(bench: DriveBench) -> None:
    robot = bench.active_robot()
    monitor = bench.open()
    monitor.send(can.Message(arbitration_id=0, data=bytes([0x81, 2]), is_extended_id=False))
    bench.step()
    drive = bank_of(bench).drives[1]
    assert drive.node.nmt.state == "PRE-OPERATIONAL" and drive.state == "SWITCH ON DISABLED"
    assert any(f.arbitration_id == 0x702 and bytes(f.data) == b"\x00"
               for f in frames_on(monitor))
    monitor.shutdown()
    robot.close()


def test_a_tpdo_of_type_n_goes_every_nth_sync(bench: DriveBench) -> None:
    robot = bench.robot()
    bench.configure(robot)
    drive: EmulatedCia402Drive = bank_of(bench).drives[0]
    monitor = bench.open()
    monitor.send(can.Message(arbitration_id=0, data=[0x80, 1], is_extended_id=False))
    bench.step()  # pre-operational: the PDO configuration may change
    drive.node.sdo[0x1800][2].raw = 2
    monitor.send(can.Message(arbitration_id=0, data=[0x01, 1], is_extended_id=False))
    bench.step()  # operational again: the drive applies it
    frames_on(monitor)
    for _ in range(4):
        monitor.send(cia402.Cia402Drive.sync_frame())
        bench.step()
    sent = [f.arbitration_id for f in frames_on(monitor)]
    assert sent.count(0x181) == 2 and sent.count(0x182) == 4
    monitor.shutdown()
    robot.close()


CADENCE = 90.0  # the bundled standard_gait protocol's


def test_a_session_on_cia402_drives_is_deterministic(tmp_path: Path) -> None:
    """The configure-time serving thread leaves no trace: same seed, same recording."""
    store = tmp_path / "store.sqlite"
    robot = load_robot_config("sim_exo_mixed")

    def run() -> int:
        request = SessionRequest(robot, load_protocol(), store, duration_s=1.5, seed=3)
        return SessionRunner(request).run().session_id

    first, second = run(), run()
    with SessionStore.open(store) as st:
        a, b = st.load_samples(first), st.load_samples(second)
    rate = robot.loop.rate_hz  # walking 1.5 s, then the 0.5 s fade-out and one tick
    assert a.t_s.size == round(1.5 * rate) + round(0.5 * rate) + 1
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.tau, b.tau)


def summarize_session(robot: str, store: Path) -> dict[str, object]:
    request = SessionRequest(load_robot_config(robot), load_protocol(), store, duration_s=12.0)
    result = SessionRunner(request).run()
    assert result.status == "completed", result.loop.faults
    summary = result.summary.as_dict()
    assert summary["faults"] == [] if "faults" in summary else result.loop.faults == []
    return summary


@pytest.fixture(scope="module")
def mit_session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return summarize_session("sim_exo", tmp_path_factory.mktemp("mit") / "store.sqlite")


@pytest.mark.parametrize("robot", ["sim_exo_cia402", "sim_exo_mixed"])
def test_a_session_on_cia402_drives_walks_like_the_mit_robot(
    robot: str, mit_session: dict[str, object], tmp_path: Path
) -> None:
    summary = summarize_session(robot, tmp_path / "store.sqlite")
    assert summary["cadence_steps_per_min"] == pytest.approx(CADENCE, rel=0.02)
    rom = {j["name"]: j["rom_deg"] for j in summary["joints"]}  # type: ignore[attr-defined]
    reference = {j["name"]: j["rom_deg"] for j in mit_session["joints"]}  # type: ignore[attr-defined]
    for name in ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l"):
        assert abs(rom[name] - reference[name]) <= 5.0, (name, rom, reference)
