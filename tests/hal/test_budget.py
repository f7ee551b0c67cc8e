"""Worst-case CAN frame lengths and bus utilisation, against hand arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.hal.budget import (
    FrameLoad,
    bus_load,
    classic_frame_bits,
    fd_frame_bits,
    fd_payload_length,
)
from rehabbot.hal.config import DEFAULT_ROBOT, bundled_robot_path, load_robot_config
from rehabbot.hal.startup_check import check_robot

#: Every robot configuration shipped with the package.
BUNDLED_ROBOTS = sorted(bundled_robot_path().parent.glob("*.toml"))


@pytest.mark.parametrize(("payload", "extended", "bits"), [
    (0, False, 55),   # 34 + 13 + floor(33 / 4) = 55
    (8, False, 135),  # 34 + 64 + 13 + floor(97 / 4) = 135 (Davis et al. 2007)
    (6, False, 115),  # 34 + 48 + 13 + floor(81 / 4) = 115
    (8, True, 160),   # 54 + 64 + 13 + floor(117 / 4) = 160
])
def test_classic_frames_count_every_bit_with_worst_case_stuffing(
    payload: int, extended: bool, bits: int
) -> None:
    assert classic_frame_bits(payload, extended) == bits


def test_fd_frames_split_into_nominal_and_data_phase_bits() -> None:
    # 8 bytes: nominal 17 + 4 + 13 = 34; data 69 + 18 + 4 + 17 + 6 = 114
    assert fd_frame_bits(8) == (34, 114)
    # 64 bytes, 29-bit id: nominal 36 + 8 + 13 = 57; data 517 + 130 + 4 + 21 + 7 = 679
    assert fd_frame_bits(64, extended_id=True) == (57, 679)
    # 10 bytes are padded to 12: data 101 + 26 + 4 + 17 + 6 = 154
    assert fd_payload_length(10) == 12
    assert fd_frame_bits(10) == (34, 154)


@pytest.mark.parametrize("payload", [-1, 9])
def test_classic_payloads_outside_0_to_8_are_refused(payload: int) -> None:
    with pytest.raises(ValueError, match=r"0\.\.8 bytes"):
        classic_frame_bits(payload)


def test_fd_payloads_above_64_are_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.64 bytes"):
        fd_payload_length(65)


def test_utilisation_and_highest_feasible_rate_of_a_classic_bus() -> None:
    frames = (FrameLoad("command", 8, 4), FrameLoad("reply", 8, 4), FrameLoad("sync", 0))
    load = bus_load("can0", frames, rate_hz=500.0, bitrate=1_000_000, limit=0.7)
    assert load.frames_per_tick == 9
    assert load.bits_per_tick == 8 * 135 + 55
    assert load.wire_time_s == pytest.approx(1135e-6)
    assert load.utilisation == pytest.approx(0.5675)
    assert load.feasible
    assert load.max_rate_hz == pytest.approx(0.7 / 1135e-6)
    assert not bus_load("can0", frames, rate_hz=1000.0, bitrate=1_000_000).feasible


def test_fd_bus_time_uses_both_bitrates() -> None:
    load = bus_load("can0", (FrameLoad("pdo", 8, 2),), 1000.0, 1_000_000, data_bitrate=5_000_000)
    assert load.wire_time_s == pytest.approx(2 * (34 / 1e6 + 114 / 5e6))


def test_fractional_counts_model_slow_periodic_frames() -> None:
    heartbeat = FrameLoad("heartbeat", 1, count=0.01)  # one every 100 ticks
    load = bus_load("can0", (heartbeat,), 1000.0, 1_000_000)
    assert load.bits_per_tick == pytest.approx(0.01 * classic_frame_bits(1))


@pytest.mark.parametrize("limit", [0.0, 1.5])
def test_limit_outside_0_to_1_is_refused(limit: float) -> None:
    with pytest.raises(ValueError, match="utilisation limit"):
        bus_load("can0", (), 1000.0, 1_000_000, limit=limit)


def test_the_package_ships_the_robots_this_suite_checks() -> None:
    names = {path.stem for path in BUNDLED_ROBOTS}
    assert {DEFAULT_ROBOT, "sim_exo_cia402", "sim_exo_mixed", "exo_mit_two_bus",
            "exo_cia402_two_bus", "emu_exo"} <= names


@pytest.mark.parametrize("path", BUNDLED_ROBOTS, ids=lambda path: path.stem)
def test_every_bundled_robot_passes_can_check(path: Path) -> None:
    """`rehabbot can check` passes on every bundled robot: each bus within the 70 % worst-case
    budget at the robot's control rate, and every other start-up check."""
    result = check_robot(load_robot_config(path))
    assert not result.failures, [(item.subject, item.detail) for item in result.failures]


def test_the_default_robot_puts_at_most_two_mit_joints_on_a_bus_at_1_khz() -> None:
    config = load_robot_config(DEFAULT_ROBOT)
    assert config.loop.rate_hz == 1000
    for bus, joints in config.joints_by_bus():
        assert bus.bitrate == 1_000_000
        assert [j.drive for j in joints] == ["mit", "mit"], bus.name
