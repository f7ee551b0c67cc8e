"""The emulated drives measure the joint as real drives do: through an encoder of whole counts,
with the velocity noise of two readings one period apart, seeded."""

from __future__ import annotations

import math
import uuid

import can
import numpy as np
import pytest

from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.hal.drives import cia402, mit
from rehabbot.hal.drives.cia402 import POSITION_ACTUAL, VELOCITY_ACTUAL
from rehabbot.sim.emulated_cia402 import EmulatedCia402Bank
from rehabbot.sim.emulated_mit import ENCODER_COUNTS_PER_REV, EmulatedMitBank, EmulatedMitDrive

Bank = EmulatedMitBank | EmulatedCia402Bank


def bank(kind: type[Bank], config: RobotConfig, seed: int) -> tuple[Bank, can.BusABC]:
    bus = can.Bus(interface="virtual", channel=f"encoders-{uuid.uuid4().hex[:8]}")
    return kind(bus, config.joints[:2], [0, 1], config, seed=seed), bus


def measured_velocities(emulators: Bank, qd: np.ndarray, draws: int) -> np.ndarray:
    """The velocities (rad/s, drive output) the first drive measures over ``draws`` periods."""
    q = np.array([0.3, 0.6])
    drive = emulators.drives[0]
    out = np.empty(draws)
    for k in range(draws):
        emulators.observe(q, qd)
        out[k] = drive.velocity_rad_s
    return out


def test_an_mit_drive_runs_its_law_on_whole_encoder_counts_and_replies_through_the_codec(
) -> None:
    joint = load_robot_config().joints[1]  # an AK10-9 behind a 6:1 transmission
    drive = EmulatedMitDrive(joint)
    drive.handle(mit.ENTER_MOTOR_MODE)
    step = 2 * math.pi / (ENCODER_COUNTS_PER_REV * drive.model.gear_ratio)
    assert drive.encoder_step_rad == pytest.approx(step)
    q = 0.4123456789
    exact = joint.sign * joint.gear_ratio * (q - joint.offset_rad)
    drive.observe(q, 0.0, 0.0)
    counts = drive.encoder_rad / step
    assert counts == pytest.approx(round(counts), abs=1e-9)  # whole counts
    assert abs(drive.encoder_rad - exact) <= step / 2
    assert drive.encoder_rad != exact  # the test sees the quantization
    # the in-drive law on the measured position (the velocity measured 0 here)
    drive.handle(mit.pack_command(drive.model, 0.0, 0.0, 10.0, 0.0, 0.0))
    p_ref, v_ref, kp, kd, t_ff = drive.command  # as the codec decoded them
    law = kp * (p_ref - drive.encoder_rad) + kd * v_ref + t_ff
    assert abs(law) < drive.model.t_max_nm  # not clamped
    assert drive.joint_torque() == pytest.approx(joint.sign * joint.gear_ratio * law, rel=1e-12)
    # the reply's 16-bit position field quantizes the count again, coarser than the encoder
    field_step = 2 * drive.model.p_max_rad / 65535
    assert field_step > step
    reply = mit.unpack_reply(drive.model, bytes(drive.reply().data))
    assert abs(reply.position_rad - drive.encoder_rad) <= field_step / 2 + 1e-12


@pytest.mark.parametrize(("kind", "robot"), [(EmulatedMitBank, "sim_exo"),
                                             (EmulatedCia402Bank, "sim_exo_cia402")])
def test_the_measured_velocity_has_the_documented_noise_and_is_seeded(
        kind: type[Bank], robot: str) -> None:
    config = load_robot_config(robot)
    emulators, bus = bank(kind, config, seed=3)
    again, bus_again = bank(kind, config, seed=3)
    other, bus_other = bank(kind, config, seed=4)
    try:
        drive = emulators.drives[0]
        joint = config.joints[0]
        truth = joint.sign * joint.gear_ratio * 0.5  # rad/s at the drive's output
        if kind is EmulatedMitBank:
            step = 2 * math.pi / (ENCODER_COUNTS_PER_REV * mit.motor_model(joint.motor).gear_ratio)
        else:
            step = 1.0 / cia402.motor_model(joint.motor).counts_per_rad
        sigma = step / (math.sqrt(6.0) * config.period_s)
        assert drive.velocity_noise_rad_s == pytest.approx(sigma)
        qd = np.array([0.5, -0.2])
        velocities = measured_velocities(emulators, qd, 20_000)
        assert np.mean(velocities) == pytest.approx(truth, abs=4 * sigma / math.sqrt(20_000))
        assert np.std(velocities) == pytest.approx(sigma, rel=0.03)
        # the same seed draws the same noise, another seed other noise
        np.testing.assert_array_equal(measured_velocities(again, qd, 200), velocities[:200])
        assert not np.array_equal(measured_velocities(other, qd, 200), velocities[:200])
    finally:
        for b in (bus, bus_again, bus_other):
            b.shutdown()


def test_a_cia402_drive_reports_and_controls_with_whole_increments() -> None:
    config = load_robot_config("sim_exo_cia402")
    emulators, bus = bank(EmulatedCia402Bank, config, seed=0)
    try:
        assert isinstance(emulators, EmulatedCia402Bank)
        drive = emulators.drives[0]
        joint = config.joints[0]
        q = 0.4123456789
        emulators.observe(np.array([q, 0.0]), np.array([0.25, 0.0]))
        exact = joint.sign * joint.gear_ratio * (q - joint.offset_rad) * drive.model.counts_per_rad
        assert drive.value(POSITION_ACTUAL) == round(exact)
        assert drive.motor_position_rad * drive.model.counts_per_rad == pytest.approx(
            round(exact))
        velocity = drive.value(VELOCITY_ACTUAL)
        assert velocity == round(drive.velocity_rad_s * drive.model.velocity_units_per_rad_s)
    finally:
        bus.shutdown()
