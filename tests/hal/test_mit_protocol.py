"""The MIT-mode wire protocol: frame layout, quantization and the motor parameter table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.drives import mit

MODELS = sorted(mit.MOTOR_MODELS.values(), key=lambda m: m.name)


def lsb(span: float, bits: int) -> float:
    return span / ((1 << bits) - 1)


def test_parameter_table_has_the_required_models_with_datasheet_ranges() -> None:
    assert {"AK80-9", "AK70-10", "AK60-6", "AK10-9"} <= set(mit.MOTOR_MODELS)
    ak80 = mit.motor_model("AK80-9")
    assert (ak80.p_max_rad, ak80.v_max_rad_s, ak80.t_max_nm) == (12.5, 50.0, 18.0)
    assert (ak80.kp_max, ak80.kd_max) == (500.0, 5.0)
    assert mit.motor_model("AK10-9").t_max_nm == 65.0


def test_unknown_motor_model_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="AK80-9"):
        mit.motor_model("AK99-1")


def test_special_frames_are_the_documented_bytes() -> None:
    drive = mit.MitDrive(node_id=5, motor="AK80-9")
    assert bytes(drive.enable_frames()[0].data).hex() == "fffffffffffffffc"
    assert bytes(drive.disable_frames()[0].data).hex() == "fffffffffffffffd"
    assert bytes(drive.zero_frames()[0].data).hex() == "fffffffffffffffe"
    assert all(f.arbitration_id == 5 and not f.is_extended_id for f in drive.enable_frames())


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # every field at its minimum / maximum
        ((-12.5, -50.0, 0.0, 0.0, -18.0), "0000000000000000"),
        ((12.5, 50.0, 500.0, 5.0, 18.0), "ffffffffffffffff"),
        # zero position/velocity/torque sit mid-range; kp 250 = 2048 (0x800), kd 1.25 = 1024 (0x400)
        ((0.0, 0.0, 250.0, 1.25, 0.0), "8000800800400800"),
        # out of range values are clamped, not wrapped
        ((99.0, -99.0, 9999.0, -1.0, 99.0), "ffff000fff000fff"),
    ],
)
def test_command_frame_vectors(values: tuple[float, ...], expected: str) -> None:
    assert mit.pack_command(mit.motor_model("AK80-9"), *values).hex() == expected


def test_reply_frame_vector() -> None:
    fb = mit.unpack_reply(mit.motor_model("AK80-9"), bytes.fromhex("03ffff000fff4602"))
    assert fb.node_id == 3
    assert fb.position_rad == 12.5
    assert fb.velocity_rad_s == -50.0
    assert fb.torque_nm == 18.0
    assert fb.temperature_c == 30.0
    assert fb.fault_code == 2 and mit.ERROR_CODES[2] == "over-current"


@given(
    model=st.sampled_from(MODELS),
    fractions=st.tuples(*[st.floats(0.0, 1.0) for _ in range(5)]),
)
def test_command_round_trip_is_within_half_a_step_over_the_whole_range(
    model: mit.MitMotorModel, fractions: tuple[float, ...]
) -> None:
    ranges = [
        (-model.p_max_rad, model.p_max_rad, mit.POSITION_BITS),
        (-model.v_max_rad_s, model.v_max_rad_s, mit.VELOCITY_BITS),
        (0.0, model.kp_max, mit.KP_BITS),
        (0.0, model.kd_max, mit.KD_BITS),
        (-model.t_max_nm, model.t_max_nm, mit.TORQUE_BITS),
    ]
    values = [lo + f * (hi - lo) for f, (lo, hi, _) in zip(fractions, ranges, strict=True)]
    decoded = mit.unpack_command(model, mit.pack_command(model, *values))
    for got, want, (lo, hi, bits) in zip(decoded, values, ranges, strict=True):
        assert abs(got - want) <= lsb(hi - lo, bits) / 2 + 1e-9


@given(
    model=st.sampled_from(MODELS),
    node=st.integers(1, 127),
    fractions=st.tuples(*[st.floats(0.0, 1.0) for _ in range(3)]),
    temperature=st.integers(-40, 215),
    error=st.integers(0, 6),
)
def test_reply_round_trip_is_within_half_a_step_over_the_whole_range(
    model: mit.MitMotorModel,
    node: int,
    fractions: tuple[float, float, float],
    temperature: int,
    error: int,
) -> None:
    p = -model.p_max_rad + fractions[0] * 2 * model.p_max_rad
    v = -model.v_max_rad_s + fractions[1] * 2 * model.v_max_rad_s
    t = -model.t_max_nm + fractions[2] * 2 * model.t_max_nm
    fb = mit.unpack_reply(model, mit.pack_reply(model, node, p, v, t, temperature, error))
    assert fb.node_id == node
    assert abs(fb.position_rad - p) <= lsb(2 * model.p_max_rad, 16) / 2 + 1e-9
    assert abs(fb.velocity_rad_s - v) <= lsb(2 * model.v_max_rad_s, 12) / 2 + 1e-9
    assert abs(fb.torque_nm - t) <= lsb(2 * model.t_max_nm, 12) / 2 + 1e-9
    assert fb.temperature_c == temperature
    assert fb.fault_code == error


@pytest.mark.parametrize("length", [0, 6, 7])
def test_frames_of_the_wrong_length_are_refused(length: int) -> None:
    model = mit.motor_model("AK60-6")
    with pytest.raises(CommunicationError, match="8 data bytes"):
        mit.unpack_reply(model, bytes(length))
    with pytest.raises(CommunicationError, match="8 data bytes"):
        mit.unpack_command(model, bytes(length))


def test_node_id_out_of_range_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"1\.\.127"):
        mit.MitDrive(node_id=0, motor="AK80-9")
