"""The MIT-mode command encoding of several drives at once: one tick's frames in a few numpy calls.

:func:`~rehabbot.hal.drives.mit.pack_command` encodes one drive's frame field by field;
:class:`MitCodec` encodes every drive's command of a tick together, numpy over the drives: clamp,
scale and round the fields of all drives (the same floating-point operations in the same order, so
the frames are bit for bit the scalar function's), put each drive's codes into one 64-bit word and
take the words' big-endian bytes. Nothing is allocated but the frames' bytes. For the four joints
of ``sim_exo`` it takes about two thirds of the scalar function's time (docs/simulation.md).

Replies are not encoded or decoded this way: they arrive, and are answered, one frame at a time
and at most two per bus on the bundled robots, where a numpy call's fixed cost (about 0.5 µs)
outweighs the work; :func:`~rehabbot.hal.drives.mit.unpack_reply` decodes each with plain
arithmetic instead.

>>> codec = MitCodec([mit.motor_model("AK80-9")] * 2)
>>> values = np.array([[0.0, 12.5], [0.0, 50.0], [250.0, 500.0], [1.25, 5.0], [0.0, 18.0]])
>>> [frame.hex() for frame in codec.pack_commands(values)]
['8000800800400800', 'fffeffffffffffff']
"""

from __future__ import annotations

from collections.abc import Sequence

import can
import numpy as np

from rehabbot.errors import ConfigurationError
from rehabbot.hal.bus import Frame
from rehabbot.hal.drives import mit
from rehabbot.hal.drives.base import CommandBatch, Drive
from rehabbot.hal.types import FloatArray

#: Bits of a command's fields (position, velocity, kp, kd, torque) and where each sits in the
#: frame's big-endian 64-bit word.
_BITS = (mit.POSITION_BITS, mit.VELOCITY_BITS, mit.KP_BITS, mit.KD_BITS, mit.TORQUE_BITS)
_SHIFTS = (48, 36, 24, 12, 0)


class MitCodec:
    """Command frames of drives of the motor models ``models``, all at once.

    Args:
        models: each drive's motor model, in the order of the value arrays' columns.
    """

    def __init__(self, models: Sequence[mit.MitMotorModel]) -> None:
        n = len(models)
        self.n = n
        p = [m.p_max_rad for m in models]
        v = [m.v_max_rad_s for m in models]
        t = [m.t_max_nm for m in models]
        zero = [0.0] * n
        # one row per field, one column per drive
        self._low = np.array([[-x for x in p], [-x for x in v], zero, zero, [-x for x in t]])
        self._high = np.array([p, v, [m.kp_max for m in models], [m.kd_max for m in models], t])
        self._span = self._high - self._low  # x_max - x_min, as mit.float_to_uint computes it
        tops = np.array([(1 << b) - 1 for b in _BITS], dtype=np.uint64)[:, None]
        self._top = np.repeat(tops.astype(np.float64), n, axis=1)
        self._code_max = np.repeat(tops, n, axis=1)
        self._code_max[0] = mit.POSITION_CODE_MAX  # no command frame is a special frame
        self._shifts = np.array(_SHIFTS, dtype=np.uint64)[:, None]
        self._x = np.zeros((5, n))
        self._codes = np.zeros((5, n), dtype=np.uint64)
        self._word = np.zeros(n, dtype=np.uint64)
        self._big_endian = np.zeros(n, dtype=">u8")

    def pack_commands(self, values: FloatArray) -> list[bytes]:
        """Each drive's command frame data, as :func:`~rehabbot.hal.drives.mit.pack_command`
        makes it.

        The code of each value is ``int((min(max(x, low), high) - low) * top / span + 0.5)``:
        :func:`~rehabbot.hal.drives.mit.float_to_uint`'s operations in its order.

        Args:
            values: rows q (rad), qd (rad/s), kp (N·m/rad), kd (N·m·s/rad), tau (N·m), motor
                side, one column per drive; finite or infinite (clamped), never NaN.
        """
        x, codes, word = self._x, self._codes, self._word
        np.maximum(values, self._low, out=x)
        np.minimum(x, self._high, out=x)
        x -= self._low
        x *= self._top
        x /= self._span
        x += 0.5
        np.copyto(codes, x, casting="unsafe")  # truncation: int() of a positive number
        np.minimum(codes, self._code_max, out=codes)
        codes <<= self._shifts
        np.bitwise_or.reduce(codes, axis=0, out=word)
        np.copyto(self._big_endian, word)
        data = self._big_endian.tobytes()
        return [data[k:k + 8] for k in range(0, 8 * self.n, 8)]


class MitCommands(CommandBatch):
    """One tick's command frames of several MIT drives, encoded together by a :class:`MitCodec`
    (bit for bit :func:`~rehabbot.hal.drives.mit.pack_command`'s); what
    :meth:`MitDrive.command_batch <rehabbot.hal.drives.mit.MitDrive.command_batch>` gives.

    Raises:
        ConfigurationError: a drive is not an MIT drive.
    """

    def __init__(self, drives: Sequence[Drive], joints: Sequence[int]) -> None:
        super().__init__(drives, joints)
        mit_drives = [d for d in drives if isinstance(d, mit.MitDrive)]
        if len(mit_drives) != len(self.drives):
            raise ConfigurationError("MitCommands: every drive must be an MIT drive")
        self._codec = MitCodec([d.model for d in mit_drives])
        self._ids = [d.node_id for d in mit_drives]
        self._columns = np.array(self.joints, dtype=np.intp)
        self._values = np.zeros((5, len(self.joints)))

    def fill(self, motor: FloatArray, out: list[list[can.Message]]) -> None:
        """Put each drive's command frame into ``out[joint]`` (see :meth:`CommandBatch.fill`)."""
        np.take(motor, self._columns, axis=1, out=self._values)
        standard = Frame.standard
        for i, node_id, data in zip(self.joints, self._ids,
                                    self._codec.pack_commands(self._values), strict=True):
            out[i] = [standard(node_id, data)]
