"""The vectorized MIT codec encodes every command frame bit for bit as the scalar reference
function :func:`mit.pack_command`, over the whole range of every field and beyond it, for drives
of different motor models in one batch."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabbot.hal.drives import mit
from rehabbot.hal.drives.mit import MitCodec

MODELS = sorted(mit.MOTOR_MODELS.values(), key=lambda m: m.name)


def field_value(low: float, high: float, bits: int) -> st.SearchStrategy[float]:
    """Any value of a field: the value of one of its codes (the ends favoured), the half-way
    points between codes (where rounding decides), anything inside, beyond it, or infinite."""
    top = (1 << bits) - 1
    code = st.integers(0, top)
    return (code.map(lambda c: mit.uint_to_float(c, low, high, bits))
            | code.map(lambda c: mit.uint_to_float(c, low, high, bits) + (high - low) / top / 2)
            | st.floats(low, high)
            | st.floats(-math.inf, math.inf, allow_nan=False))


def command_fields(m: mit.MitMotorModel) -> tuple[tuple[float, float, int], ...]:
    return ((-m.p_max_rad, m.p_max_rad, mit.POSITION_BITS),
            (-m.v_max_rad_s, m.v_max_rad_s, mit.VELOCITY_BITS),
            (0.0, m.kp_max, mit.KP_BITS), (0.0, m.kd_max, mit.KD_BITS),
            (-m.t_max_nm, m.t_max_nm, mit.TORQUE_BITS))


@st.composite
def drives_and_commands(draw: st.DrawFn) -> tuple[list[mit.MitMotorModel], np.ndarray]:
    models = draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=6))
    columns = [[draw(field_value(*field)) for field in command_fields(m)] for m in models]
    return models, np.array(columns).T.copy()


@settings(max_examples=250)
@given(drives_and_commands())
def test_commands_are_the_scalar_codecs_bit_for_bit(
        batch: tuple[list[mit.MitMotorModel], np.ndarray]) -> None:
    models, values = batch
    codec = MitCodec(models)
    expected = [mit.pack_command(m, *values[:, k].tolist()) for k, m in enumerate(models)]
    assert codec.pack_commands(values) == expected
    assert codec.pack_commands(values) == expected  # the codec's buffers carry nothing over


@settings(max_examples=300)
@given(model=st.sampled_from(MODELS), data=st.binary(min_size=8, max_size=8))
def test_decoding_is_uint_to_float_of_every_field_bit_for_bit(
        model: mit.MitMotorModel, data: bytes) -> None:
    """The decoders write :func:`mit.uint_to_float` out inline; they give its very floats."""
    word = int.from_bytes(data, "big")

    def field(shift: int, bits: int, low: float, high: float) -> float:
        return mit.uint_to_float((word >> shift) & ((1 << bits) - 1), low, high, bits)

    p, v, t = model.p_max_rad, model.v_max_rad_s, model.t_max_nm
    assert mit.unpack_command(model, data) == (
        field(48, 16, -p, p), field(36, 12, -v, v), field(24, 12, 0.0, model.kp_max),
        field(12, 12, 0.0, model.kd_max), field(0, 12, -t, t))
    reply = mit.unpack_reply(model, data)
    assert (reply.position_rad, reply.velocity_rad_s, reply.torque_nm) == (
        field(40, 16, -p, p), field(28, 12, -v, v), field(16, 12, -t, t))
    assert (reply.node_id, reply.temperature_c, reply.fault_code) == (
        data[0], data[6] - mit.TEMPERATURE_OFFSET_C, data[7])


@settings(max_examples=300)
@given(data=st.data(), model=st.sampled_from(MODELS))
def test_a_reply_is_float_to_uint_of_every_field_bit_for_bit(
        data: st.DataObject, model: mit.MitMotorModel) -> None:
    """:func:`mit.pack_reply` writes :func:`mit.float_to_uint` out inline; it gives its codes."""
    p, v, t = model.p_max_rad, model.v_max_rad_s, model.t_max_nm
    q = data.draw(field_value(-p, p, mit.POSITION_BITS))
    qd = data.draw(field_value(-v, v, mit.VELOCITY_BITS))
    tau = data.draw(field_value(-t, t, mit.TORQUE_BITS))
    word = int.from_bytes(mit.pack_reply(model, 5, q, qd, tau, 30.0, 0), "big")
    assert (word >> 40) & 0xFFFF == mit.float_to_uint(q, -p, p, mit.POSITION_BITS)
    assert (word >> 28) & 0xFFF == mit.float_to_uint(qd, -v, v, mit.VELOCITY_BITS)
    assert (word >> 16) & 0xFFF == mit.float_to_uint(tau, -t, t, mit.TORQUE_BITS)
    assert word >> 56 == 5 and (word >> 8) & 0xFF == 70 and word & 0xFF == 0
