"""The start-up checklist and `rehabbot can check`, against hand arithmetic (docs/can-budget.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rehabbot.hal.config import load_robot_config
from rehabbot.hal.startup_check import Status, check_robot
from tests.conftest import one_bus

MIT_JOINT_BITS = 135 + 135  # 8-byte command + 8-byte reply, 11-bit ids, worst-case stuffing
CIA402_JOINT_BITS = 135 + 135 + 115  # RPDO 8 bytes, TPDO1 8 bytes, TPDO2 6 bytes
SYNC_BITS = 55  # no data
HEARTBEAT_BITS = 65  # 1 byte, every 100 ms


def test_mit_robot_with_one_bus_per_leg_uses_54_percent_of_each_bus() -> None:
    result = check_robot(load_robot_config("exo_mit_two_bus"))
    assert [load.bus for load in result.loads] == ["socketcan:can0", "socketcan:can1"]
    for load in result.loads:
        assert load.bits_per_tick == 2 * MIT_JOINT_BITS
        assert load.utilisation == pytest.approx(0.54)
        assert load.max_rate_hz == pytest.approx(0.7 / 540e-6)
    assert result.failures == ()


def test_cia402_robot_with_one_bus_per_leg_fits_at_800_hz() -> None:
    result = check_robot(load_robot_config("exo_cia402_two_bus"))
    heartbeats = 2 * HEARTBEAT_BITS * 0.00125 / 0.1  # two drives, 1.25 ms ticks
    for load in result.loads:
        assert load.bits_per_tick == pytest.approx(2 * CIA402_JOINT_BITS + SYNC_BITS + heartbeats)
        assert load.utilisation == pytest.approx(826.625e-6 * 800)
    assert result.failures == ()


def test_four_mit_joints_on_one_bus_at_1_khz_are_refused_with_the_highest_feasible_rate() -> None:
    config = one_bus(load_robot_config("sim_exo"))
    result = check_robot(config)
    (failure,) = result.failures
    assert failure.check == "bus budget"
    assert "108% of the bus at 1000 Hz" in failure.detail
    assert f"highest feasible rate {0.7 / 1080e-6:.0f} Hz" in failure.detail
    assert check_robot(config, limit=1.0).failures  # over 100 % too
    assert not check_robot(load_robot_config("sim_exo"), limit=0.55).failures  # per leg: 54 %


def test_a_watchdog_not_shorter_than_the_stale_time_and_an_unreachable_torque_fail() -> None:
    config = load_robot_config("sim_exo")
    joints = list(config.joints)
    joints[0] = joints[0].model_copy(update={"watchdog_s": 0.003, "torque_max_nm": 500.0})
    result = check_robot(config.model_copy(update={"joints": joints}))
    failed = {(item.check, item.subject) for item in result.failures}
    assert failed == {("drive watchdog", "hip_flexion_r"), ("torque limit", "hip_flexion_r")}
    statuses = {item.status for item in result.items if item.check == "motor table"}
    assert statuses == {Status.INFO}


def test_cli_prints_the_budget_and_refuses_an_overloaded_bus_in_one_error_line() -> None:
    wide = {**os.environ, "COLUMNS": "200"}  # one figure per line, as a wide terminal shows it
    ok = subprocess.run([sys.executable, "-m", "rehabbot", "can", "check", "exo_mit_two_bus"],
                        capture_output=True, text=True, timeout=120, env=wide)
    assert ok.returncode == 0, ok.stderr
    assert "utilisation 54.0%" in ok.stdout and "highest feasible rate 1296 Hz" in ok.stdout
    path = Path(__file__).with_name("one_bus_exo.toml")  # four MIT joints on one bus
    bad = subprocess.run([sys.executable, "-m", "rehabbot", "can", "check", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "bus budget" in bad.stderr and "highest feasible rate 648 Hz" in bad.stderr
