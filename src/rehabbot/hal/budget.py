"""CAN bus budget: how much of a bus one control tick uses, worst case.

A frame's time on the wire is counted worst case, bit stuffing included, so that a configuration
that passes here cannot overload the bus however the data bits fall.

**Classic CAN** (ISO 11898-1, Davis et al. 2007, "Controller Area Network (CAN) schedulability
analysis: refuted, revisited and revised", eq. 2): a data frame with ``n`` payload bytes is
``g + 8n + 13 + ⌊(g + 8n − 1)/4⌋`` bits, where ``g`` = 34 control bits exposed to stuffing for
an 11-bit identifier (54 for a 29-bit one), 13 bits are never stuffed (CRC delimiter, ACK, end of
frame and the 3-bit interframe space), and at most one stuff bit follows every 4 bits after the
first. 8 bytes with an 11-bit id: 135 bits, 135 µs at 1 Mbit/s.

**CAN FD** (ISO 11898-1:2015): the arbitration phase and the tail run at the nominal bitrate, the
data phase (from the bit-rate-switch bit to the CRC) at the data bitrate:

* nominal: SOF, identifier, RRS, IDE, FDF, res, BRS (17 bits for an 11-bit id, 36 for 29-bit) plus
  ``⌊(that − 1)/4⌋`` stuff bits; the tail CRC delimiter, ACK, ACK delimiter, EOF, IFS (13 bits);
* data: ESI and DLC (5 bits), the payload padded to a valid FD length (8n bits) with
  ``⌈(5 + 8n)/4⌉`` dynamic stuff bits (conservative: one per 4 bits), the stuff count (4 bits),
  the CRC (17 bits up to 16 bytes, 21 above) and its fixed stuff bits (one before the stuff count,
  then one every 4 bits: ``⌈(4 + crc)/4⌉``).

The utilisation of a bus is the wire time of one tick's frames divided by the control period; the
highest feasible rate is the rate at which it reaches the allowed limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rehabbot.hal.config import JointConfig, RobotConfig
from rehabbot.hal.drives.registry import drive_class

#: Valid CAN FD payload lengths (bytes).
FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)
#: Default largest share of a bus the cyclic traffic may use.
DEFAULT_UTILISATION_LIMIT = 0.70


def classic_frame_bits(payload_bytes: int, extended_id: bool = False) -> int:
    """Worst-case length (bits) of a classic CAN data frame, interframe space included.

    >>> classic_frame_bits(8), classic_frame_bits(0), classic_frame_bits(8, extended_id=True)
    (135, 55, 160)
    """
    if not 0 <= payload_bytes <= 8:
        raise ValueError(f"a classic CAN frame carries 0..8 bytes, not {payload_bytes}")
    g = 54 if extended_id else 34
    bits = g + 8 * payload_bytes
    return bits + 13 + (bits - 1) // 4


def fd_payload_length(payload_bytes: int) -> int:
    """The CAN FD length (bytes) a payload is padded to.

    >>> fd_payload_length(10), fd_payload_length(64)
    (12, 64)
    """
    for length in FD_LENGTHS:
        if length >= payload_bytes:
            return length
    raise ValueError(f"a CAN FD frame carries 0..64 bytes, not {payload_bytes}")


def fd_frame_bits(payload_bytes: int, extended_id: bool = False) -> tuple[int, int]:
    """Worst-case (nominal-rate bits, data-rate bits) of a CAN FD frame with bit-rate switch.

    >>> fd_frame_bits(8)
    (34, 114)
    """
    n = fd_payload_length(payload_bytes)
    arbitration = 36 if extended_id else 17
    nominal = arbitration + (arbitration - 1) // 4 + 13
    crc = 17 if n <= 16 else 21
    dynamic = 5 + 8 * n
    data = dynamic + math.ceil(dynamic / 4) + 4 + crc + math.ceil((4 + crc) / 4)
    return nominal, data


@dataclass(frozen=True)
class FrameLoad:
    """Frames of one kind that cross a bus every tick.

    Attributes:
        label: what they are, for people (e.g. ``"MIT command, knee_angle_r"``).
        payload_bytes: data bytes per frame.
        count: frames per tick (may be fractional for slower periodic frames, e.g. heartbeats).
        extended_id: 29-bit identifiers.
    """

    label: str
    payload_bytes: int
    count: float = 1.0
    extended_id: bool = False


@dataclass(frozen=True)
class BusLoad:
    """The budget of one bus at one control rate.

    Attributes:
        bus: the bus's name (``interface:channel``).
        rate_hz: control rate (Hz).
        frames: what crosses the bus every tick.
        bits_per_tick: worst-case bits per tick (nominal + data bits for CAN FD).
        wire_time_s: worst-case wire time of one tick's frames (s).
        utilisation: ``wire_time_s * rate_hz``, 0..1 (or more when overloaded).
        limit: the allowed utilisation.
        data_bitrate: CAN FD data-phase bitrate (bit/s), None for classic CAN.
    """

    bus: str
    rate_hz: float
    frames: tuple[FrameLoad, ...]
    bits_per_tick: float
    wire_time_s: float
    utilisation: float
    limit: float
    data_bitrate: int | None = None

    @property
    def frames_per_tick(self) -> float:
        """Frames crossing the bus per tick."""
        return sum(f.count for f in self.frames)

    @property
    def max_rate_hz(self) -> float:
        """The highest control rate (Hz) at which the utilisation stays within the limit."""
        return self.limit / self.wire_time_s if self.wire_time_s > 0 else math.inf

    @property
    def feasible(self) -> bool:
        """True when the utilisation is within the limit."""
        return self.utilisation <= self.limit


def frame_bits(frame: FrameLoad, load: BusLoad) -> int:
    """Worst-case bits of one ``frame`` on the bus of ``load`` (classic or CAN FD)."""
    if load.data_bitrate is None:
        return classic_frame_bits(frame.payload_bytes, frame.extended_id)
    return sum(fd_frame_bits(frame.payload_bytes, frame.extended_id))


def bus_load(
    bus: str,
    frames: tuple[FrameLoad, ...],
    rate_hz: float,
    bitrate: int,
    data_bitrate: int | None = None,
    limit: float = DEFAULT_UTILISATION_LIMIT,
) -> BusLoad:
    """The worst-case budget of ``frames`` per tick on one bus.

    Args:
        bus: the bus's name for reports.
        frames: the cyclic traffic of one tick.
        rate_hz: control rate (Hz).
        bitrate: nominal bitrate (bit/s).
        data_bitrate: CAN FD data-phase bitrate (bit/s); ``None`` for classic CAN.
        limit: allowed utilisation, 0..1.

    >>> load = bus_load("can0", (FrameLoad("cmd", 8, 4), FrameLoad("reply", 8, 4)), 1000, 1_000_000)
    >>> load.bits_per_tick, round(load.utilisation, 3), round(load.max_rate_hz)
    (1080.0, 1.08, 648)
    """
    if not 0.0 < limit <= 1.0:
        raise ValueError(f"the utilisation limit must be in (0, 1], not {limit}")
    bits = 0.0
    wire_time = 0.0
    for frame in frames:
        if data_bitrate is None:
            frame_bits = classic_frame_bits(frame.payload_bytes, frame.extended_id)
            bits += frame.count * frame_bits
            wire_time += frame.count * frame_bits / bitrate
        else:
            nominal, data = fd_frame_bits(frame.payload_bytes, frame.extended_id)
            bits += frame.count * (nominal + data)
            wire_time += frame.count * (nominal / bitrate + data / data_bitrate)
    return BusLoad(bus, rate_hz, frames, bits, wire_time, wire_time * rate_hz, limit, data_bitrate)


def joint_traffic(config: RobotConfig, joints: Sequence[JointConfig]) -> tuple[FrameLoad, ...]:
    """The cyclic frames of ``joints`` (all on one bus of ``config``) in one control tick.

    Per joint: the command frames its drive builds, the replies its protocol sends back
    (``Drive.reply_payloads``), and frames on the drive's own schedule (heartbeats) as a fraction
    per tick; per bus: one SYNC when a protocol needs it. No frame is sent to compute this.
    """
    frames: list[FrameLoad] = []
    sync_payload: int | None = None
    for joint in joints:
        cls = drive_class(joint.drive)
        drive = cls.from_config(joint, config)
        for frame in drive.command_frames(0.0, 0.0, 0.0, 0.0, 0.0):
            frames.append(FrameLoad(f"{cls.protocol} command, {joint.name}", frame.dlc,
                                    extended_id=frame.is_extended_id))
        frames.extend(FrameLoad(f"{cls.protocol} reply, {joint.name}", payload)
                      for payload in cls.reply_payloads)
        frames.extend(FrameLoad(f"{cls.protocol} periodic, {joint.name}", payload,
                                count=config.period_s / period_s)
                      for payload, period_s in cls.periodic_payloads)
        sync = cls.sync_frame()
        if sync is not None:
            sync_payload = sync.dlc
    if sync_payload is not None:
        frames.append(FrameLoad("SYNC", sync_payload))
    return tuple(frames)
