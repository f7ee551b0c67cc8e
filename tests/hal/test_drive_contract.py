"""The drive contract: every drive protocol, through its emulator on a python-can bus (``virtual``
and the simulator's ``rehabbot_lockstep``), does the same for the HAL: enable, disable,
command/feedback round trip, fault report, drive watchdog, reconnect, silent drives, and garbage
on the bus never raising out of ``CanRobot.read()``.

The suite runs over each built-in protocol with an emulator, a bus mixing them, robots with one
bus per leg (node ids reused across the buses), and a third protocol installed as a plug-in
through an entry point (``acme_drive.py``, one file), each over both in-process transports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import can
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabbot.errors import CommunicationError
from rehabbot.hal.bus import BusOpener, open_bus
from rehabbot.hal.config import RobotConfig, load_robot_config, whole_periods
from rehabbot.hal.drives.registry import BUILTIN_DRIVES, drive_class
from rehabbot.hal.lockstep import open_lockstep_bus
from rehabbot.hal.robot import CanRobot, Lifecycle, LifecycleError
from rehabbot.hal.types import FloatArray, JointCommand
from rehabbot.safety.limits import JointLimits
from rehabbot.safety.supervisor import FaultKind, Supervisor
from rehabbot.sim.drive_bank import velocity_noise_rad_s
from rehabbot.sim.emulated_mit import ENCODER_COUNTS_PER_REV
from tests.conftest import DriveBench, make_bench, one_bus

#: Robots the suite runs on: each built-in protocol alone, both on each bus, one bus per leg (the
#: bundled robots) and all joints on one bus.
CONTRACT_ROBOTS: dict[str, Callable[[], RobotConfig]] = {
    "mit": lambda: load_robot_config("sim_exo"),
    "cia402": lambda: load_robot_config("sim_exo_cia402"),
    "mit+cia402": lambda: load_robot_config("sim_exo_mixed"),
    "mit, one bus": lambda: one_bus(load_robot_config("sim_exo")),
    "mit+cia402, one bus": lambda: one_bus(load_robot_config("sim_exo_mixed")),
}
PLUGIN = "acme-plugin"
#: A fault code of each protocol the emulators inject (MIT: over-current; CiA 402: the EMCY
#: code for over-current; ACME: anything).
FAULT_CODES = {"mit": 2, "cia402": 0x2310, "acme": 0x42}
INSIDE_LIMITS = np.array([0.3, 0.5, 0.2, 0.6])

#: The largest velocity noise (rad/s, one standard deviation) of the bundled emulated drives'
#: encoders: an AK80-9's 14-bit rotor encoder read 1 ms apart (docs/simulation.md); CiA 402
#: drives' are smaller (0.2-10.7 mrad/s).
ENCODER_VELOCITY_NOISE_RAD_S = velocity_noise_rad_s(
    2 * math.pi / (ENCODER_COUNTS_PER_REV * 9), 0.001)


def test_every_builtin_protocol_with_an_emulator_is_under_contract() -> None:
    covered = {joint.drive for robot in CONTRACT_ROBOTS.values() for joint in robot().joints}
    with_emulator = {name for name in BUILTIN_DRIVES if drive_class(name).emulator is not None}
    assert covered == with_emulator


#: The in-process transports the suite runs over: python-can's ``virtual`` and the lockstep one.
TRANSPORTS: dict[str, BusOpener] = {"virtual": open_bus, "lockstep": open_lockstep_bus}


@pytest.fixture(params=[(robot, transport) for robot in [*CONTRACT_ROBOTS, PLUGIN]
                        for transport in TRANSPORTS], ids=" over ".join)
def contract_bench(request: pytest.FixtureRequest) -> Iterator[DriveBench]:
    """Emulated drives of one contract robot on fresh channels of one transport."""
    robot, transport = request.param
    config: RobotConfig = (
        request.getfixturevalue("acme_robot") if robot == PLUGIN else CONTRACT_ROBOTS[robot]()
    )
    bench = make_bench(config, TRANSPORTS[transport])
    yield bench
    bench.emulators.close()


def impedance_command() -> JointCommand:
    return JointCommand(
        q_ref=np.array([0.4, 0.4, 0.1, 0.7]),
        qd_ref=np.array([1.0, 0.0, -0.5, 0.0]),
        kp=np.array([400.0, 300.0, 200.0, 100.0]),
        kd=np.array([10.0, 5.0, 2.0, 1.0]),
        tau_ff=np.array([3.0, -2.0, 1.0, 0.0]),
    )


def joint_resolution(robot: CanRobot) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One wire step of each joint's position (rad), velocity (rad/s), torque (N·m), joint side."""
    gear = np.array([j.gear_ratio for j in robot.config.joints])
    res = [d.resolution for d in robot.drives_]
    return (np.array([r.position_rad for r in res]) / gear,
            np.array([r.velocity_rad_s for r in res]) / gear,
            np.array([r.torque_nm for r in res]) * gear)


def tick(bench: DriveBench, robot: CanRobot, command: JointCommand) -> None:
    """One loop tick as the control loop runs it: read, write, the drives' period."""
    robot.read()
    robot.write(command)
    bench.step()


def assert_applies_the_impedance_law(bench: DriveBench, robot: CanRobot) -> None:
    """The torque each drive applies to its joint is the joint-space impedance law of the
    command, after the transmission, within the wire's quantization."""
    bench.q[:] = INSIDE_LIMITS
    bench.qd[:] = [0.5, -1.0, 0.0, 0.3]
    off = JointCommand.torque_off(4)
    tick(bench, robot, off)  # the drives report the new state
    command = impedance_command()
    tick(bench, robot, command)
    expected = command.expected_torque(bench.q, bench.qd)
    q_step, qd_step, tau_step = joint_resolution(robot)
    tol = command.kp * q_step + command.kd * qd_step + 2 * tau_step + 0.01 * np.abs(expected)
    assert np.all(np.abs(bench.tau - expected) <= tol), (bench.tau, expected, tol)
    assert np.all(np.abs(expected) > 5 * tol)  # the check above is not trivially satisfied


class TestDriveContract:
    def test_activate_enables_and_deactivate_disables_every_drive(
        self, contract_bench: DriveBench
    ) -> None:
        bench = contract_bench
        robot = bench.robot()
        with pytest.raises(LifecycleError, match="must be inactive"):
            robot.activate(bench.step, timeout_s=0.01)
        bench.configure(robot)
        assert robot.lifecycle is Lifecycle.INACTIVE
        assert not any(bench.emulators.is_enabled(i) for i in range(4))
        robot.activate(bench.step, timeout_s=0.01)
        assert robot.lifecycle is Lifecycle.ACTIVE
        assert all(bench.emulators.is_enabled(i) for i in range(4))
        state = robot.read()
        assert state.fault_code.tolist() == [0, 0, 0, 0]
        robot.deactivate()
        bench.step()
        assert not any(bench.emulators.is_enabled(i) for i in range(4))
        assert bench.tau.tolist() == [0.0] * 4
        with pytest.raises(LifecycleError, match="robot is inactive"):
            robot.write(JointCommand.torque_off(4))
        robot.close()
        assert robot.lifecycle is Lifecycle.FINALIZED

    def test_a_silent_drive_is_named_when_the_robot_comes_up(
        self, contract_bench: DriveBench
    ) -> None:
        bench = contract_bench
        bench.emulators.silence(1)
        robot = bench.robot()
        with pytest.raises(CommunicationError, match=r"knee_angle_r.*check power"):
            bench.configure(robot)
            robot.activate(bench.step, timeout_s=0.005)
        robot.close()

    def test_state_round_trip_is_within_one_wire_step(self, contract_bench: DriveBench) -> None:
        bench = contract_bench
        robot = bench.active_robot()
        bench.q[:] = [0.3, 0.9, -0.2, 0.05]
        bench.qd[:] = [1.0, -2.0, 0.5, 0.0]
        tick(bench, robot, JointCommand.torque_off(4))
        state = robot.read()
        q_step, qd_step, _ = joint_resolution(robot)
        assert np.all(np.abs(state.q - bench.q) <= q_step)
        # the emulated drives measure velocity as real ones do, from encoder readings: seeded
        # noise of at most ENCODER_VELOCITY_NOISE_RAD_S (sigma) on top of the wire's step
        assert np.all(np.abs(state.qd - bench.qd) <= qd_step + 5.0 * ENCODER_VELOCITY_NOISE_RAD_S)
        assert state.age_ticks.tolist() == [0, 0, 0, 0]
        robot.close()

    def test_command_round_trip_applies_the_impedance_law_in_joint_units(
        self, contract_bench: DriveBench
    ) -> None:
        robot = contract_bench.active_robot()
        assert_applies_the_impedance_law(contract_bench, robot)
        state = robot.read()
        _, _, tau_step = joint_resolution(robot)
        assert np.all(np.abs(state.tau - contract_bench.tau) <= tau_step)
        robot.close()

    def test_write_sends_every_joint_on_its_bus_then_the_bus_syncs(
        self, contract_bench: DriveBench
    ) -> None:
        bench = contract_bench
        robot = bench.active_robot()
        monitors = {bus.name: bench.open(bus.name) for bus in bench.config.buses}
        robot.write(JointCommand.torque_off(4))
        for bus, joints in bench.config.joints_by_bus():
            sent = [msg.arbitration_id for msg in drain(monitors[bus.name])]
            syncs = {f.arbitration_id for j in joints if (f := drive_class(j.drive).sync_frame())}
            n = len(joints)
            assert len(sent) == n + len(syncs)
            assert set(sent[n:]) == syncs and len(set(sent[:n])) == n
            monitors[bus.name].shutdown()
        robot.close()

    def test_a_drive_fault_reaches_the_supervisor(self, contract_bench: DriveBench) -> None:
        bench = contract_bench
        robot = bench.active_robot()
        config = bench.config
        supervisor = Supervisor(config.joint_names, JointLimits.from_config(config),
                                config.loop.stale_feedback_ticks)
        bench.q[:] = INSIDE_LIMITS
        tick(bench, robot, JointCommand.torque_off(4))
        assert supervisor.check(robot.read()) == []
        code = FAULT_CODES[config.joints[1].drive]
        bench.emulators.inject_fault(1, code)
        tick(bench, robot, JointCommand.torque_off(4))
        state = robot.read()
        assert state.fault_code.tolist() == [0, code, 0, 0]
        faults = supervisor.check(state)
        assert [(f.kind, f.joint, f.value) for f in faults] == [
            (FaultKind.DRIVE_FAULT, "knee_angle_r", code)]
        assert not bench.emulators.is_enabled(1) and bench.tau[1] == 0.0
        robot.close()

    def test_the_drive_watchdog_turns_torque_off_when_the_host_goes_silent(
        self, contract_bench: DriveBench
    ) -> None:
        bench = contract_bench
        robot = bench.active_robot()
        bench.q[:] = INSIDE_LIMITS
        push = JointCommand.torque_off(4)
        push.tau_ff[:] = 5.0
        tick(bench, robot, push)
        assert np.all(np.abs(bench.tau) > 1.0)
        config = bench.config
        periods = {whole_periods(config.watchdog_s(j), config.period_s) for j in config.joints}
        (watchdog,) = periods
        for _ in range(watchdog - 1):  # the host is silent, the drives keep the last command
            bench.step()
        assert np.all(np.abs(bench.tau) > 1.0)
        bench.step()  # the watchdog's time is up
        assert bench.tau.tolist() == [0.0] * 4
        assert not any(bench.emulators.is_enabled(i) for i in range(4))
        tick(bench, robot, JointCommand.torque_off(4))  # the host comes back: faults reported
        assert np.all(robot.read().fault_code != 0)
        assert bench.tau.tolist() == [0.0] * 4
        robot.close()

    def test_a_new_robot_takes_over_after_close_and_after_a_dead_host(
        self, contract_bench: DriveBench
    ) -> None:
        bench = contract_bench
        first = bench.active_robot()
        tick(bench, first, JointCommand.torque_off(4))
        first.close()
        second = bench.active_robot()
        tick(bench, second, JointCommand.torque_off(4))
        for link in second.links_.values():  # the host dies: no deactivation, no more commands
            link.bus.shutdown()
        config = bench.config
        longest = max(whole_periods(config.watchdog_s(j), config.period_s) for j in config.joints)
        for _ in range(longest + 1):  # one period more than the longest drive watchdog
            bench.step()
        assert not any(bench.emulators.is_enabled(i) for i in range(4))
        third = bench.active_robot()
        assert_applies_the_impedance_law(bench, third)
        assert robot_faults(third) == [0, 0, 0, 0]
        third.close()

    def test_every_reply_was_asked_for_even_late_ones(self, contract_bench: DriveBench) -> None:
        """Issue 15 item 12: a drive sends no feedback beyond what its protocol owes per command
        round (``Drive.reply_payloads``), on time or late (two rounds answered in one read)."""
        bench = contract_bench
        robot = bench.active_robot()
        command = impedance_command()
        surplus = []
        for k in range(40):
            bench.q[:] = INSIDE_LIMITS + 0.002 * k  # moving joints: no reply repeats another
            surplus.append(robot.read().surplus_replies.tolist())
            robot.write(command)
            if k % 5 != 4:  # every fifth tick the drives' period falls in the next tick
                bench.step()
        assert surplus == [[0, 0, 0, 0]] * 40
        robot.close()

    def test_feedback_age_grows_while_a_drive_is_silent(self, contract_bench: DriveBench) -> None:
        bench = contract_bench
        robot = bench.active_robot()
        tick(bench, robot, JointCommand.torque_off(4))
        bench.emulators.silence(2)
        ages = []
        for _ in range(3):
            ages.append(robot.read().age_ticks.tolist())
            robot.write(JointCommand.torque_off(4))
            bench.step()
        assert ages == [[0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 2, 0]]
        robot.close()

    def test_garbage_truncated_and_replayed_frames_are_counted_never_raised(
        self, contract_bench: DriveBench
    ) -> None:
        bench = contract_bench
        robot = bench.active_robot()
        monitors = [bench.open(bus.name) for bus in bench.config.buses]
        bench.q[:] = INSIDE_LIMITS
        for _ in range(110):  # long enough for a heartbeat
            tick(bench, robot, JointCommand.torque_off(4))
        captured = [msg for monitor in monitors for msg in drain(monitor)]
        intruders = [bench.open(bus.name) for bus in bench.config.buses]  # each frame on each

        def counted() -> int:
            return (robot.decoded_frames + robot.unexpected_frames + robot.malformed_frames
                    + robot.error_frames)

        @settings(max_examples=40, deadline=None)
        @given(frames=st.lists(st.one_of(
            arbitrary_frames(), truncated(captured), st.sampled_from(captured)), max_size=12))
        def inject(frames: list[tuple[can.Message, bool]] | list[can.Message]) -> None:
            robot.read()
            before, decoded, n_truncated = counted(), robot.decoded_frames, 0
            for item in frames:
                frame, is_truncated = item if isinstance(item, tuple) else (item, False)
                n_truncated += is_truncated
                for intruder in intruders:
                    intruder.send(frame)
            state = robot.read()
            sent = len(frames) * len(intruders)
            assert counted() - before == sent  # every frame is accounted for
            assert robot.decoded_frames - decoded <= sent - n_truncated * len(intruders)
            assert np.isfinite(state.q).all() and np.isfinite(state.qd).all()
            assert np.isfinite(state.tau).all()
            tick(bench, robot, JointCommand.torque_off(4))  # the drives take the garbage too

        inject()
        for bus in (*intruders, *monitors):
            bus.shutdown()
        robot.close()


def robot_faults(robot: CanRobot) -> list[int]:
    return [int(code) for code in robot.read().fault_code]


def drain(bus: can.BusABC) -> list[can.Message]:
    """The frames waiting on ``bus``, in order."""
    frames = []
    while (msg := bus.recv(0.0)) is not None:
        frames.append(msg)
    return frames


def arbitrary_frames() -> st.SearchStrategy[can.Message]:
    """Any classic CAN frame: standard or extended id, 0-8 bytes, remote or error frames."""
    standard = st.builds(
        lambda i, data: can.Message(arbitration_id=i, data=data, is_extended_id=False),
        st.integers(0, 0x7FF), st.binary(max_size=8))
    extended = st.builds(
        lambda i, data: can.Message(arbitration_id=i, data=data, is_extended_id=True),
        st.integers(0, 0x1FFFFFFF), st.binary(max_size=8))
    remote = st.builds(
        lambda i, dlc: can.Message(arbitration_id=i, is_remote_frame=True, dlc=dlc,
                                   is_extended_id=False),
        st.integers(0, 0x7FF), st.integers(0, 8))
    return st.one_of(standard, extended, remote, st.just(can.Message(is_error_frame=True)))


def truncated(frames: list[can.Message]) -> st.SearchStrategy[tuple[can.Message, bool]]:
    """A real frame cut short, marked as truncated."""
    return st.sampled_from([f for f in frames if f.data]).flatmap(
        lambda f: st.integers(0, len(f.data) - 1).map(lambda n: (
            can.Message(arbitration_id=f.arbitration_id, data=f.data[:n],
                        is_extended_id=f.is_extended_id), True)))

