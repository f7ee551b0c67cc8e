"""A third drive protocol in one file, as a plug-in distribution would ship it: "ACME" drives.

The tests install this file as the module ``acme_drive`` of a distribution whose entry point
``acme = acme_drive:AcmeDrive`` sits in the group ``rehabbot.drives``; rehabbot finds the drive
and, through :attr:`AcmeDrive.emulator`, its emulator, with nothing in rehabbot changed.

The protocol, invented for the tests (torque mode, the host computes the impedance law):

* command, host → drive, id ``0x100 + node``, 3 bytes: flags (bit 0 run, bit 1 enable and clear
  the fault; 0 disables), torque (int16, 10 mN·m), little-endian;
* reply, drive → host, id ``0x500 + node``, one per command, 8 bytes: position (int24, µrad),
  velocity (int16, mrad/s), torque (int16, 10 mN·m), fault code (uint8).
"""

from __future__ import annotations

import struct
from collections.abc import Hashable, Sequence

import can

from rehabbot.errors import CommunicationError
from rehabbot.hal.config import JointConfig, RobotConfig, whole_periods
from rehabbot.hal.drives.base import Drive, DriveFeedback, Resolution
from rehabbot.hal.types import FloatArray
from rehabbot.safety.thermal import MOTOR_RATINGS, MotorRating

#: The ACME-60 motor's thermal rating, registered for the supervisor's thermal and RMS monitors.
MOTOR_RATINGS.setdefault("ACME-60", MotorRating.from_rated_rise(
    "ACME-60", 2.0, 0.4, continuous_torque_nm=60.0, time_constant_s=120.0))

COMMAND_BASE, REPLY_BASE = 0x100, 0x500
COMMAND = struct.Struct("<Bh")
REPLY = struct.Struct("<3shhB")
POSITION_RAD, VELOCITY_RAD_S, TORQUE_NM = 1e-6, 1e-3, 0.01
PEAK_TORQUE_NM = 300.0
WATCHDOG_FAULT = 0xEE
RUN, ENABLE = 1, 2


def pack_reply(q_rad: float, qd_rad_s: float, tau_nm: float, fault: int) -> bytes:
    """The 8 bytes of a reply (values in range: the emulator's own)."""
    position = round(q_rad / POSITION_RAD).to_bytes(3, "little", signed=True)
    return REPLY.pack(position, round(qd_rad_s / VELOCITY_RAD_S), round(tau_nm / TORQUE_NM), fault)


class AcmeDrive(Drive):
    """An ACME drive: torque commands, one reply per command."""

    protocol = "acme"
    modes = ("torque",)
    emulator = f"{__name__}:AcmeEmulator"
    reply_payloads = (REPLY.size,)

    def __init__(self, node_id: int, motor: str) -> None:
        super().__init__(node_id, motor)
        self._q = self._qd = 0.0

    @property
    def reply_key(self) -> Hashable:
        return REPLY_BASE + self.node_id

    @staticmethod
    def reply_key_of(msg: can.Message) -> Hashable | None:
        in_range = REPLY_BASE < msg.arbitration_id <= REPLY_BASE + 0x7F
        return msg.arbitration_id if in_range and not msg.is_extended_id else None

    def _frame(self, flags: int, tau_nm: float) -> list[can.Message]:
        tau = min(max(tau_nm, -PEAK_TORQUE_NM), PEAK_TORQUE_NM)
        data = COMMAND.pack(flags, round(tau / TORQUE_NM))
        return [can.Message(arbitration_id=COMMAND_BASE + self.node_id, data=data,
                            is_extended_id=False)]

    def enable_frames(self) -> list[can.Message]:
        return self._frame(RUN | ENABLE, 0.0)

    def disable_frames(self) -> list[can.Message]:
        return self._frame(0, 0.0)

    def command_frames(
        self, q_rad: float, qd_rad_s: float, kp: float, kd: float, tau_nm: float
    ) -> list[can.Message]:
        return self._frame(RUN, kp * (q_rad - self._q) + kd * (qd_rad_s - self._qd) + tau_nm)

    def decode(self, msg: can.Message) -> DriveFeedback:
        if len(msg.data) != REPLY.size:
            raise CommunicationError(f"ACME reply must have 8 bytes, got {len(msg.data)}")
        position, velocity, torque, fault = REPLY.unpack(msg.data)
        self._q = int.from_bytes(position, "little", signed=True) * POSITION_RAD
        self._qd = velocity * VELOCITY_RAD_S
        return DriveFeedback(self.node_id, self._q, self._qd, torque * TORQUE_NM, float("nan"),
                             fault)

    @property
    def peak_torque_nm(self) -> float:
        return PEAK_TORQUE_NM

    @property
    def resolution(self) -> Resolution:
        return Resolution(POSITION_RAD, VELOCITY_RAD_S, TORQUE_NM)


class AcmeEmulator:
    """The simulator's ACME drives (a :class:`rehabbot.sim.simulator.DriveEmulator`)."""

    def __init__(
        self,
        bus: can.BusABC,
        joints: Sequence[JointConfig],
        sim_indices: Sequence[int],
        robot: RobotConfig,
        *,
        seed: int = 0,  # noiseless: this plug-in's emulator measures the joints exactly
    ) -> None:
        self.bus = bus
        self.joints = list(joints)
        self.sim_indices = list(sim_indices)
        self.watchdog = [whole_periods(robot.watchdog_s(j), robot.period_s) for j in joints]
        n = len(self.joints)
        self.enabled, self.tau_nm = [False] * n, [0.0] * n
        self.fault, self.quiet, self.pending = [0] * n, [0] * n, [0] * n
        self.muted: set[int] = set()
        self.q: FloatArray | None = None
        self.qd: FloatArray | None = None
        self._by_id = {COMMAND_BASE + j.node_id: i for i, j in enumerate(self.joints)}

    def receive(self, msg: can.Message) -> bool:
        i = self._by_id.get(msg.arbitration_id)
        if i is None or msg.is_extended_id or msg.is_remote_frame or msg.is_error_frame:
            return False
        if len(msg.data) == COMMAND.size:
            flags, torque = COMMAND.unpack(msg.data)
            if flags & ENABLE:
                self.enabled[i], self.fault[i] = True, 0
            if not flags & RUN:
                self.enabled[i] = False
            self.tau_nm[i] = torque * TORQUE_NM
            self.quiet[i] = 0
            self.pending[i] += 1
        return True

    def observe(self, q: FloatArray, qd: FloatArray) -> None:
        self.q, self.qd = q, qd

    def joint_torques(self, out: FloatArray) -> None:
        for i, joint in enumerate(self.joints):
            if self.enabled[i] and self.quiet[i] >= self.watchdog[i]:
                self.inject_fault(i, WATCHDOG_FAULT)
            self.quiet[i] += 1
            tau = self.tau_nm[i] if self.enabled[i] else 0.0
            out[self.sim_indices[i]] += joint.sign * joint.gear_ratio * tau

    def publish(self) -> None:
        assert self.q is not None and self.qd is not None
        for i, joint in enumerate(self.joints):
            k, ratio = self.sim_indices[i], joint.sign * joint.gear_ratio
            data = pack_reply(ratio * (self.q[k] - joint.offset_rad), ratio * self.qd[k],
                              self.tau_nm[i] if self.enabled[i] else 0.0, self.fault[i])
            for _ in range(0 if i in self.muted else self.pending[i]):
                self.bus.send(can.Message(arbitration_id=REPLY_BASE + joint.node_id, data=data,
                                          is_extended_id=False))
            self.pending[i] = 0

    def is_enabled(self, index: int) -> bool:
        return self.enabled[index]

    def silence(self, index: int) -> None:
        self.muted.add(index)

    def inject_fault(self, index: int, code: int) -> None:
        self.enabled[index], self.fault[index] = False, code
