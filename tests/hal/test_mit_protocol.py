"""The MIT-mode wire protocol: frame layout, quantization and the motor parameter table."""

from __future__ import annotations

import math

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
        # every field at its minimum / maximum (the position's top code is never sent)
        ((-12.5, -50.0, 0.0, 0.0, -18.0), "0000000000000000"),
        ((12.5, 50.0, 500.0, 5.0, 18.0), "fffeffffffffffff"),
        # zero position/velocity/torque sit mid-range; kp 250 = 2048 (0x800), kd 1.25 = 1024 (0x400)
        ((0.0, 0.0, 250.0, 1.25, 0.0), "8000800800400800"),
        # out of range values are clamped, not wrapped
        ((99.0, -99.0, 9999.0, -1.0, 99.0), "fffe000fff000fff"),
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


def command_ranges(model: mit.MitMotorModel) -> list[tuple[float, float, int]]:
    """Each command field's ``(lowest, highest, bits)``: position, velocity, kp, kd, torque."""
    return [
        (-model.p_max_rad, model.p_max_rad, mit.POSITION_BITS),
        (-model.v_max_rad_s, model.v_max_rad_s, mit.VELOCITY_BITS),
        (0.0, model.kp_max, mit.KP_BITS),
        (0.0, model.kd_max, mit.KD_BITS),
        (-model.t_max_nm, model.t_max_nm, mit.TORQUE_BITS),
    ]


@given(
    model=st.sampled_from(MODELS),
    fractions=st.tuples(*[st.floats(0.0, 1.0) for _ in range(5)]),
)
def test_command_round_trip_is_within_half_a_step_over_the_whole_range(
    model: mit.MitMotorModel, fractions: tuple[float, ...]
) -> None:
    ranges = command_ranges(model)
    values = [lo + f * (hi - lo) for f, (lo, hi, _) in zip(fractions, ranges, strict=True)]
    decoded = mit.unpack_command(model, mit.pack_command(model, *values))
    # the position's top code is never sent: positions above the one below it get that one
    top_sent = mit.uint_to_float(mit.POSITION_CODE_MAX, -model.p_max_rad, model.p_max_rad,
                                 mit.POSITION_BITS)
    values[0] = min(values[0], top_sent)
    for got, want, (lo, hi, bits) in zip(decoded, values, ranges, strict=True):
        assert abs(got - want) <= lsb(hi - lo, bits) / 2 + 1e-9


SPECIAL_FRAMES = (mit.ENTER_MOTOR_MODE, mit.EXIT_MOTOR_MODE, mit.SET_ZERO)


@st.composite
def command_values(draw: st.DrawFn, model: mit.MitMotorModel) -> tuple[float, ...]:
    """One command's five values: each the value of any code of its field (hypothesis favours
    the ends), or anything beyond its range, the infinities included."""
    return tuple(
        draw(st.integers(0, (1 << bits) - 1).map(lambda c, lo=lo, hi=hi, b=bits:
                                                  mit.uint_to_float(c, lo, hi, b))
             | st.floats(hi, math.inf) | st.floats(-math.inf, lo))
        for lo, hi, bits in command_ranges(model)
    )


@given(data=st.data(), model=st.sampled_from(MODELS))
def test_no_command_frame_is_a_special_frame(data: st.DataObject, model: mit.MitMotorModel) -> None:
    values = data.draw(command_values(model))
    frame = mit.pack_command(model, *values)
    assert frame not in SPECIAL_FRAMES
    # ... nor one bit pattern away from it: every special frame begins FF FF, no command does
    assert all(special[:2] == b"\xff\xff" for special in SPECIAL_FRAMES)
    assert frame[:2] != b"\xff\xff"


@pytest.mark.parametrize("model", MODELS)
def test_every_torque_with_every_other_field_at_its_top_is_an_ordinary_command(
    model: mit.MitMotorModel,
) -> None:
    """The frames the issue found (``FF FF FF FF FF FF FF FC/FD/FE`` for the top torques): each
    torque code, from the lowest to the highest, with every other field at its maximum."""
    for code in range(1 << mit.TORQUE_BITS):
        tau = mit.uint_to_float(code, -model.t_max_nm, model.t_max_nm, mit.TORQUE_BITS)
        frame = mit.pack_command(model, model.p_max_rad, model.v_max_rad_s, model.kp_max,
                                 model.kd_max, tau)
        assert frame not in SPECIAL_FRAMES
        assert frame[:2] == b"\xff\xfe" and int.from_bytes(frame[6:], "big") & 0xFFF == code


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
