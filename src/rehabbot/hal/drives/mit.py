"""MIT-mode drives: T-Motor AK series and CubeMars actuators in "MIT mode".

The protocol (from the MIT Mini Cheetah motor controller firmware, adopted by T-Motor/CubeMars):

* Command frame, host → drive, standard id = drive id, 8 bytes, big-endian bit fields:
  position 16 bits, velocity 12, kp 12, kd 12, feed-forward torque 12. Each field maps linearly
  ``[x_min, x_max] → [0, 2**bits - 1]`` with the ranges of the motor model (:data:`MOTOR_MODELS`).
  The drive executes ``tau = kp*(p_ref - p) + kd*(v_ref - v) + t_ff`` itself, at its own rate.
* Special frames, host → drive: ``FF FF FF FF FF FF FF FC`` enter motor mode, ``… FD`` exit motor
  mode, ``… FE`` set the current position as zero. A command with every field at its top code but
  the torque's would be one of them (a drive re-zeroed mid-session), so :func:`pack_command` never
  emits the position's top code (:data:`POSITION_CODE_MAX`): no command frame begins ``FF FF``.
  The vendors' sample code truncates instead of rounding and so stays below the top codes too;
  the cost is one position step (0.4 mrad) at the very end of a ±12.5 rad range no joint reaches.
* Reply frame, drive → host, standard id = the host id (0 by default), 8 bytes: drive id,
  position 16 bits, velocity 12, torque 12, temperature (one byte, °C + 40), error code
  (:data:`ERROR_CODES`).
  A drive replies once to every frame it receives.
* Command watchdog: the drives have a CAN command timeout, set with the vendor's tool, not over
  this protocol. rehabbot's emulated drive keeps one of ``JointConfig.watchdog_s``: with no command
  for that long it turns its torque off and replies with error code 7 until re-enabled.

Positions, velocities and torques are on the actuator's output shaft (after its internal gearbox).

Batched commands: the command encoding of several drives at once, one tick's frames in a few
numpy calls. :func:`pack_command` encodes one drive's frame field by field;
:class:`MitCodec` encodes every drive's command of a tick together, numpy over the drives: clamp,
scale and round the fields of all drives (the same floating-point operations in the same order, so
the frames are bit for bit the scalar function's), put each drive's codes into one 64-bit word and
take the words' big-endian bytes. Nothing is allocated but the frames' bytes. For the four joints
of ``sim_exo`` it takes about two thirds of the scalar function's time (docs/simulation.md).

Replies are not encoded or decoded this way: they arrive, and are answered, one frame at a time
and at most two per bus on the bundled robots, where a numpy call's fixed cost (about 0.5 µs)
outweighs the work; :func:`unpack_reply` decodes each with plain arithmetic instead.

>>> codec = MitCodec([motor_model("AK80-9")] * 2)
>>> values = np.array([[0.0, 12.5], [0.0, 50.0], [250.0, 500.0], [1.25, 5.0], [0.0, 18.0]])
>>> [frame.hex() for frame in codec.pack_commands(values)]
['8000800800400800', 'fffeffffffffffff']
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Self

import can
import numpy as np

from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.bus import Frame
from rehabbot.hal.config import JointConfig, RobotConfig
from rehabbot.hal.drives.base import (
    CommandBatch,
    Drive,
    DriveFeedback,
    Resolution,
    table_entry,
)
from rehabbot.hal.types import FloatArray

POSITION_BITS = 16
VELOCITY_BITS = 12
KP_BITS = 12
KD_BITS = 12
TORQUE_BITS = 12

#: The highest position code a command frame carries: one below the top, so that a command
#: frame never begins ``FF FF`` as every special frame does.
POSITION_CODE_MAX = (1 << POSITION_BITS) - 2

ENTER_MOTOR_MODE = bytes([0xFF] * 7 + [0xFC])
EXIT_MOTOR_MODE = bytes([0xFF] * 7 + [0xFD])
SET_ZERO = bytes([0xFF] * 7 + [0xFE])

#: Data bytes of every MIT frame, command and reply.
FRAME_LENGTH = 8
#: Offset of the temperature byte in a reply (byte = °C + 40, so -40..215 °C fit).
TEMPERATURE_OFFSET_C = 40

#: Error codes of the reply's last byte (CubeMars AK-series manual; 7 is the emulated drive's).
ERROR_CODES: dict[int, str] = {
    0: "no fault",
    1: "over-temperature",
    2: "over-current",
    3: "over-voltage",
    4: "under-voltage",
    5: "encoder fault",
    6: "phase current unbalance (hardware may be damaged)",
    7: "command timeout (drive-side watchdog; rehabbot's emulated drive)",
}

#: The error code of a drive whose command watchdog expired (see :data:`ERROR_CODES`).
WATCHDOG_ERROR_CODE = 7


@dataclass(frozen=True, slots=True)
class MitMotorModel:
    """The value ranges of one motor model's MIT-mode fields (output shaft, SI units).

    Attributes:
        name: the model's name, e.g. ``"AK80-9"``.
        p_max_rad: position range is ``[-p_max_rad, p_max_rad]`` (rad).
        v_max_rad_s: velocity range is ``[-v_max_rad_s, v_max_rad_s]`` (rad/s).
        t_max_nm: torque range is ``[-t_max_nm, t_max_nm]`` (N·m); also the peak torque.
        kp_max: stiffness range is ``[0, kp_max]`` (N·m/rad).
        kd_max: damping range is ``[0, kd_max]`` (N·m·s/rad).
        gear_ratio: the actuator's internal reduction (informational).
    """

    name: str
    p_max_rad: float
    v_max_rad_s: float
    t_max_nm: float
    kp_max: float = 500.0
    kd_max: float = 5.0
    gear_ratio: float = 1.0


#: Field ranges per motor model (CubeMars/T-Motor MIT-mode firmware tables).
MOTOR_MODELS: dict[str, MitMotorModel] = {
    m.name: m
    for m in (
        MitMotorModel("AK80-9", 12.5, 50.0, 18.0, gear_ratio=9.0),
        MitMotorModel("AK70-10", 12.5, 50.0, 25.0, gear_ratio=10.0),
        MitMotorModel("AK60-6", 12.5, 50.0, 15.0, gear_ratio=6.0),
        MitMotorModel("AK10-9", 12.5, 50.0, 65.0, gear_ratio=9.0),
        MitMotorModel("AK80-6", 12.5, 76.0, 12.0, gear_ratio=6.0),
        MitMotorModel("AK80-64", 12.5, 8.0, 144.0, gear_ratio=80.0),
    )
}


def motor_model(name: str) -> MitMotorModel:
    """The parameter table entry of motor model ``name``.

    Raises:
        ConfigurationError: unknown model; the message lists the known ones.
    """
    return table_entry(MOTOR_MODELS, name, "MIT motor model")


def float_to_uint(x: float, x_min: float, x_max: float, bits: int) -> int:
    """Map ``x`` (clamped to ``[x_min, x_max]``) linearly onto ``0 .. 2**bits - 1``, rounding.

    >>> float_to_uint(0.0, -1.0, 1.0, 4), float_to_uint(5.0, -1.0, 1.0, 4)
    (8, 15)
    """
    top = (1 << bits) - 1
    clamped = min(max(x, x_min), x_max)
    return int((clamped - x_min) * top / (x_max - x_min) + 0.5)


def uint_to_float(x: int, x_min: float, x_max: float, bits: int) -> float:
    """Inverse of :func:`float_to_uint`: ``0 .. 2**bits - 1`` onto ``[x_min, x_max]``.

    >>> uint_to_float(15, -1.0, 1.0, 4)
    1.0
    """
    return x * (x_max - x_min) / ((1 << bits) - 1) + x_min


def pack_command(
    model: MitMotorModel, q_rad: float, qd_rad_s: float, kp: float, kd: float, tau_nm: float
) -> bytes:
    """The 8 data bytes of a command frame (values outside the model's ranges are clamped, and
    the position code to :data:`POSITION_CODE_MAX`, so that no command is a special frame)."""
    p = min(float_to_uint(q_rad, -model.p_max_rad, model.p_max_rad, POSITION_BITS),
            POSITION_CODE_MAX)
    v = float_to_uint(qd_rad_s, -model.v_max_rad_s, model.v_max_rad_s, VELOCITY_BITS)
    k = float_to_uint(kp, 0.0, model.kp_max, KP_BITS)
    d = float_to_uint(kd, 0.0, model.kd_max, KD_BITS)
    t = float_to_uint(tau_nm, -model.t_max_nm, model.t_max_nm, TORQUE_BITS)
    return bytes(
        (p >> 8, p & 0xFF, v >> 4, ((v & 0xF) << 4) | (k >> 8), k & 0xFF, d >> 4,
         ((d & 0xF) << 4) | (t >> 8), t & 0xFF)
    )


def unpack_command(model: MitMotorModel, data: bytes) -> tuple[float, float, float, float, float]:
    """Decode a command frame's data: ``(q_rad, qd_rad_s, kp, kd, tau_nm)`` (what a drive does).

    Each field is :func:`uint_to_float` of its code, written out (``x_max - x_min`` of a
    symmetric range is ``x_max + x_max``, exactly) to spare the calls: this runs for every frame.

    Raises:
        CommunicationError: ``data`` is not 8 bytes long.
    """
    if len(data) != FRAME_LENGTH:
        raise CommunicationError(f"MIT command frame must have 8 data bytes, got {len(data)}")
    p_max, v_max, t_max = model.p_max_rad, model.v_max_rad_s, model.t_max_nm
    return (
        ((data[0] << 8) | data[1]) * (p_max + p_max) / 65535 - p_max,
        ((data[2] << 4) | (data[3] >> 4)) * (v_max + v_max) / 4095 - v_max,
        (((data[3] & 0xF) << 8) | data[4]) * model.kp_max / 4095 + 0.0,
        ((data[5] << 4) | (data[6] >> 4)) * model.kd_max / 4095 + 0.0,
        (((data[6] & 0xF) << 8) | data[7]) * (t_max + t_max) / 4095 - t_max,
    )


def pack_reply(
    model: MitMotorModel,
    node_id: int,
    q_rad: float,
    qd_rad_s: float,
    tau_nm: float,
    temperature_c: float,
    error_code: int,
) -> bytes:
    """The 8 data bytes of a reply frame (what a drive sends; used by the emulated drives).

    Each field is :func:`float_to_uint` of its value, written out (``x - x_min`` of a symmetric
    range is ``x + x_max``, exactly) to spare the calls: the emulated drives reply every tick.
    """
    p_max, v_max, t_max = model.p_max_rad, model.v_max_rad_s, model.t_max_nm
    p = int((min(max(q_rad, -p_max), p_max) + p_max) * 65535 / (p_max + p_max) + 0.5)
    v = int((min(max(qd_rad_s, -v_max), v_max) + v_max) * 4095 / (v_max + v_max) + 0.5)
    t = int((min(max(tau_nm, -t_max), t_max) + t_max) * 4095 / (t_max + t_max) + 0.5)
    temp = min(max(round(temperature_c) + TEMPERATURE_OFFSET_C, 0), 255)
    return bytes(
        (node_id & 0xFF, p >> 8, p & 0xFF, v >> 4, ((v & 0xF) << 4) | (t >> 8), t & 0xFF, temp,
         error_code & 0xFF)
    )


def unpack_reply(model: MitMotorModel, data: bytes) -> DriveFeedback:
    """Decode a reply frame's data (each field :func:`uint_to_float` of its code, written out as
    in :func:`unpack_command`).

    Raises:
        CommunicationError: ``data`` is not 8 bytes long.
    """
    if len(data) != FRAME_LENGTH:
        raise CommunicationError(f"MIT reply frame must have 8 data bytes, got {len(data)}")
    p_max, v_max, t_max = model.p_max_rad, model.v_max_rad_s, model.t_max_nm
    return DriveFeedback(
        data[0],
        ((data[1] << 8) | data[2]) * (p_max + p_max) / 65535 - p_max,
        ((data[3] << 4) | (data[4] >> 4)) * (v_max + v_max) / 4095 - v_max,
        (((data[4] & 0xF) << 8) | data[5]) * (t_max + t_max) / 4095 - t_max,
        float(data[6] - TEMPERATURE_OFFSET_C),
        data[7],
    )


class MitDrive(Drive):
    """A drive in MIT mode on a classic CAN bus (standard 11-bit ids).

    >>> drive = MitDrive(node_id=3, motor="AK80-9")
    >>> frame = drive.command_frames(0.0, 0.0, 0.0, 0.0, 0.0)[0]
    >>> frame.arbitration_id, len(frame.data)
    (3, 8)
    """

    protocol = "mit"
    modes = ("impedance",)
    emulator = "rehabbot.sim.emulated_mit:EmulatedMitBank"
    reply_payloads = (FRAME_LENGTH,)

    def __init__(self, node_id: int, motor: str, host_id: int = 0) -> None:
        """Address ``node_id`` (1..127) with replies expected on id ``host_id``.

        Raises:
            ConfigurationError: unknown motor model or node id out of range.
        """
        if not 1 <= node_id <= 0x7F:
            raise ConfigurationError(f"MIT node id must be 1..127, got {node_id}")
        super().__init__(node_id, motor)
        self.model = motor_model(motor)
        self.host_id = host_id

    @classmethod
    def from_config(cls, joint: JointConfig, robot: RobotConfig) -> Self:
        """The drive of ``joint``, replying to the ``host_id`` of the joint's bus."""
        cls.mode_of(joint)
        return cls(node_id=joint.node_id, motor=joint.motor, host_id=robot.bus_of(joint).host_id)

    @property
    def reply_key(self) -> Hashable:
        """Replies come on the host id and carry the drive id in their first byte."""
        return (self.host_id, self.node_id)

    @staticmethod
    def reply_key_of(msg: can.Message) -> Hashable | None:
        """``(arbitration id, first data byte)`` of a standard-id 8-byte frame, else None."""
        if (msg.is_extended_id or msg.dlc != FRAME_LENGTH or msg.is_remote_frame
                or msg.is_error_frame):
            return None
        return (msg.arbitration_id, msg.data[0])

    def _frame(self, data: bytes) -> can.Message:
        return Frame.standard(self.node_id, data)

    @classmethod
    def command_batch(cls, drives: Sequence[Drive], joints: Sequence[int]) -> CommandBatch:
        """Every MIT drive's command frame of a tick, encoded at once
        (:class:`MitCommands`)."""
        return MitCommands(drives, joints)

    def enable_frames(self) -> list[can.Message]:
        """The enter-motor-mode frame."""
        return [self._frame(ENTER_MOTOR_MODE)]

    def disable_frames(self) -> list[can.Message]:
        """The exit-motor-mode frame."""
        return [self._frame(EXIT_MOTOR_MODE)]

    def zero_frames(self) -> list[can.Message]:
        """The set-zero frame: the present position becomes 0 rad."""
        return [self._frame(SET_ZERO)]

    def command_frames(
        self, q_rad: float, qd_rad_s: float, kp: float, kd: float, tau_nm: float
    ) -> list[can.Message]:
        """One command frame; values outside the motor model's ranges are clamped."""
        return [self._frame(pack_command(self.model, q_rad, qd_rad_s, kp, kd, tau_nm))]

    def decode(self, msg: can.Message) -> DriveFeedback:
        """Decode a reply of this drive."""
        return unpack_reply(self.model, bytes(msg.data))

    @property
    def peak_torque_nm(self) -> float:
        """The motor model's torque range limit (N·m, output shaft)."""
        return self.model.t_max_nm

    @property
    def resolution(self) -> Resolution:
        """One step of the reply's position (16 bits), velocity and torque (12 bits) fields."""
        m = self.model
        return Resolution(
            2 * m.p_max_rad / ((1 << POSITION_BITS) - 1),
            2 * m.v_max_rad_s / ((1 << VELOCITY_BITS) - 1),
            2 * m.t_max_nm / ((1 << TORQUE_BITS) - 1),
        )


#: Bits of a command's fields (position, velocity, kp, kd, torque) and where each sits in the
#: frame's big-endian 64-bit word.
_BITS = (POSITION_BITS, VELOCITY_BITS, KP_BITS, KD_BITS, TORQUE_BITS)
_SHIFTS = (48, 36, 24, 12, 0)


class MitCodec:
    """Command frames of drives of the motor models ``models``, all at once.

    Args:
        models: each drive's motor model, in the order of the value arrays' columns.
    """

    def __init__(self, models: Sequence[MitMotorModel]) -> None:
        n = len(models)
        self.n = n
        p = [m.p_max_rad for m in models]
        v = [m.v_max_rad_s for m in models]
        t = [m.t_max_nm for m in models]
        zero = [0.0] * n
        # one row per field, one column per drive
        self._low = np.array([[-x for x in p], [-x for x in v], zero, zero, [-x for x in t]])
        self._high = np.array([p, v, [m.kp_max for m in models], [m.kd_max for m in models], t])
        self._span = self._high - self._low  # x_max - x_min, as float_to_uint computes it
        tops = np.array([(1 << b) - 1 for b in _BITS], dtype=np.uint64)[:, None]
        self._top = np.repeat(tops.astype(np.float64), n, axis=1)
        self._code_max = np.repeat(tops, n, axis=1)
        self._code_max[0] = POSITION_CODE_MAX  # no command frame is a special frame
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
        mit_drives = [d for d in drives if isinstance(d, MitDrive)]
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
