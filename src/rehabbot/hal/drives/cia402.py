"""CANopen CiA 402 drives (Maxon EPOS, Elmo, Copley style) through the ``canopen`` package.

The drive runs cyclic synchronous torque (CST, mode 10) or position (CSP, mode 8):

* **Configure time** (:meth:`Cia402Drive.setup`, blocking, over SDO with canopen's
  :class:`~canopen.profiles.p402.BaseNode402` and a :class:`can.Notifier` that lives only as long
  as the setup): NMT pre-operational; check the device type (402) and the motor rated torque
  0x6076 against :data:`MOTOR_MODELS`; write the mode of operation 0x6060, the max torque 0x6072,
  the heartbeat producer time 0x1017 and the abort-connection option 0x6007 (fault); map the PDOs
  (:data:`RPDO1_MAPPING`, :data:`TPDO1_MAPPING`, :data:`TPDO2_MAPPING`, all synchronous, the others
  disabled) with the RPDO's event timer as the drive's command watchdog (CiA 301 deadline
  monitoring); NMT start; then the 402 state machine: fault reset if needed, switch on disabled →
  ready to switch on → switched on.
* **Cyclic** (:meth:`command_frames`, :meth:`decode`, never blocking, never send-then-wait): each
  tick the host sends every joint's RPDO (controlword 0x6040, target torque 0x6071, target position
  0x607A) and then one SYNC per bus (:meth:`sync_frame`, sent by the robot); after the SYNC the
  drives send their TPDOs (statusword 0x6041, position 0x6064, torque 0x6077; velocity 0x606C,
  error code 0x603F), which the robot collects with heartbeats (0x700 + id) and EMCY (0x80 + id) on
  the next read. RPDOs are encoded and TPDOs parsed by canopen's :class:`~canopen.pdo.PdoMap`
  objects; canopen's Notifier does not run in the loop.
* **Command law**: in CST the host computes ``tau = kp*(q_ref - q) + kd*(qd_ref - qd) + tau_ff``
  from the last feedback and sends the torque; in CSP the drive gets ``q_ref`` and holds it with
  its own gains (``kp``, ``kd``, ``qd_ref``, ``tau_ff`` are not sent), and a command with ``kp = 0``
  disables the drive's operation (zero torque) instead of sending a position.
* **Activation**: enable = controlword "enable operation" (0x0F), disable = "disable operation"
  (0x07, back to switched on).

Units on the wire follow the motor model (:class:`Cia402MotorModel`): positions in increments,
velocities in the drive's velocity unit, torques in per mille of the motor rated torque 0x6076.

Faults surface as :attr:`DriveFeedback.fault_code` (never as exceptions in the loop): the drive's
error code 0x603F or its last EMCY code while the statusword's fault bit is set (or
:data:`FAULT_GENERIC` without either), an active EMCY, :data:`FAULT_HEARTBEAT_LOST` when no
heartbeat came for :data:`HEARTBEAT_TIMEOUT_PERIODS` producer periods, and
:data:`FAULT_NOT_ENABLED` when the drive is not in operation enabled for :data:`ENABLE_TIMEOUT_S`
while the host commands it to be.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cache
from typing import Self

import can
import canopen
from canopen.emcy import EMCY_STRUCT
from canopen.objectdictionary import ObjectDictionary
from canopen.pdo import PdoMap, PdoVariable
from canopen.profiles.p402 import BaseNode402, OperationMode, State402
from canopen.sdo.base import SdoVariable
from canopen.sdo.exceptions import SdoError

from rehabbot.configfile import bundled_file
from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.bus import Frame
from rehabbot.hal.config import JointConfig, RobotConfig, whole_periods
from rehabbot.hal.drives.base import Drive, DriveFeedback, Resolution, table_entry

#: The object dictionary of the drives (generic, standard objects only; see docs/drives.md).
EDS_FILE = "rehabbot_cia402.eds"

# COB-IDs of CiA 301's predefined connection set: function code + node id.
SYNC_COB_ID = 0x080
EMCY_FUNCTION = 0x080
TPDO1_FUNCTION = 0x180
RPDO1_FUNCTION = 0x200
TPDO2_FUNCTION = 0x280
HEARTBEAT_FUNCTION = 0x700
FUNCTION_MASK = 0x780
NODE_MASK = 0x07F
REPLY_FUNCTIONS = frozenset({EMCY_FUNCTION, TPDO1_FUNCTION, TPDO2_FUNCTION, HEARTBEAT_FUNCTION})

# CiA 301 and CiA 402 objects.
DEVICE_TYPE = 0x1000
PRODUCER_HEARTBEAT_TIME = 0x1017
ERROR_CODE = 0x603F
ABORT_CONNECTION_OPTION = 0x6007
CONTROLWORD = 0x6040
STATUSWORD = 0x6041
MODES_OF_OPERATION = 0x6060
MODES_OF_OPERATION_DISPLAY = 0x6061
POSITION_ACTUAL = 0x6064
VELOCITY_ACTUAL = 0x606C
TARGET_TORQUE = 0x6071
MAX_TORQUE = 0x6072
MOTOR_RATED_TORQUE = 0x6076
TORQUE_ACTUAL = 0x6077
TARGET_POSITION = 0x607A

#: The device profile number in the low 16 bits of the device type 0x1000.
DEVICE_PROFILE_402 = 402

#: The cyclic PDOs: (object, bits) in frame order.
RPDO1_MAPPING = ((CONTROLWORD, 16), (TARGET_TORQUE, 16), (TARGET_POSITION, 32))
TPDO1_MAPPING = ((STATUSWORD, 16), (POSITION_ACTUAL, 32), (TORQUE_ACTUAL, 16))
TPDO2_MAPPING = ((VELOCITY_ACTUAL, 32), (ERROR_CODE, 16))
#: PDO transmission type: synchronous, every SYNC.
SYNCHRONOUS = 1

#: Modes of operation 0x6060 by ``JointConfig.mode``.
MODE_CODES = {
    "cst": OperationMode.CYCLIC_SYNCHRONOUS_TORQUE,
    "csp": OperationMode.CYCLIC_SYNCHRONOUS_POSITION,
}

CW_ENABLE_OPERATION = State402.CW_OPERATION_ENABLED
CW_DISABLE_OPERATION = State402.CW_SWITCH_ON
STATUSWORD_FAULT = 1 << 3
OPERATION_ENABLED_MASK, OPERATION_ENABLED = State402.SW_MASK["OPERATION ENABLED"]

#: 0x6007 value: a lost connection (here also an RPDO deadline miss) makes the drive fault (the
#: default of ``JointConfig.abort_connection``; 2 disables the voltage, 3 quick-stops).
ABORT_CONNECTION_FAULT = 1
#: Heartbeat producer time written to 0x1017 (ms).
HEARTBEAT_PRODUCER_MS = 100
#: The heartbeat counts as lost after this many producer periods without one.
HEARTBEAT_TIMEOUT_PERIODS = 3
#: How long a drive may take to reach operation enabled once commanded (s).
ENABLE_TIMEOUT_S = 0.05

#: Fault code: statusword fault bit without an error code or EMCY.
FAULT_GENERIC = 0x1000
#: Fault code: heartbeat lost (the CiA 301 EMCY code for heartbeat errors).
FAULT_HEARTBEAT_LOST = 0x8130
#: Fault code: the drive is not in operation enabled while the host commands it to be.
FAULT_NOT_ENABLED = 0xFF01
#: EMCY / error code a drive sends when its RPDO deadline expires (CiA 301).
EMCY_RPDO_TIMEOUT = 0x8250
#: EMCY code a drive sends for a PDO of the wrong length (CiA 301).
EMCY_PDO_LENGTH = 0x8210

#: Poll period of the configure-time notifier thread (s); also its longest stop delay.
NOTIFIER_POLL_S = 0.01

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


@dataclass(frozen=True, slots=True)
class Cia402MotorModel:
    """The wire scaling of one drive + actuator combination (output shaft of the actuator).

    Attributes:
        name: the parameter set's name, e.g. ``"ELMO-G100"``.
        counts_per_rev: position increments (0x6064, 0x607A) per output revolution.
        velocity_units_per_rad_s: velocity units (0x606C) per output rad/s.
        velocity_unit: what one velocity unit is, for people.
        rated_torque_mnm: motor rated torque 0x6076 at the output (mN·m), the base of the per
            mille torques 0x6071 and 0x6077.
        max_torque_permille: max torque 0x6072 (‰ of rated); the peak torque.
    """

    name: str
    counts_per_rev: int
    velocity_units_per_rad_s: float
    velocity_unit: str
    rated_torque_mnm: int
    max_torque_permille: int

    @property
    def counts_per_rad(self) -> float:
        """Position increments per output radian."""
        return self.counts_per_rev / (2 * math.pi)

    @property
    def rated_torque_nm(self) -> float:
        """Rated torque at the output (N·m): 1000 ‰."""
        return self.rated_torque_mnm / 1000.0

    @property
    def peak_torque_nm(self) -> float:
        """Peak torque at the output (N·m)."""
        return self.rated_torque_nm * self.max_torque_permille / 1000.0


def _per_rad_s(counts_per_rev: float) -> float:
    return counts_per_rev / (2 * math.pi)


#: Example parameter sets in the scaling conventions of three drive families. Take your drive's
#: values from its commissioning (encoder resolution and gear: 0x608F/0x6091; 0x6076; 0x6072;
#: velocity unit 0x60A9) and add an entry: setup() refuses a drive whose 0x6076 differs.
MOTOR_MODELS: dict[str, Cia402MotorModel] = {
    m.name: m
    for m in (
        # EPOS style: 4096-line encoder (16384 quadcounts) behind a 50:1 gearhead, motor rpm.
        Cia402MotorModel("EPOS-G50", 16384 * 50, 50 * 60 / (2 * math.pi), "motor rpm",
                         15_000, 4000),
        # Elmo style: 17-bit motor encoder behind a 100:1 harmonic drive, counts/s.
        Cia402MotorModel("ELMO-G100", (1 << 17) * 100, _per_rad_s((1 << 17) * 100), "counts/s",
                         25_000, 3000),
        # Copley style: 2000-line encoder (8000 counts) behind a 30:1 gearhead, 0.1 counts/s.
        Cia402MotorModel("COPLEY-G30", 8000 * 30, 10 * _per_rad_s(8000 * 30), "0.1 counts/s",
                         10_000, 3500),
    )
}


def motor_model(name: str) -> Cia402MotorModel:
    """The parameter table entry of motor model ``name``.

    Raises:
        ConfigurationError: unknown model; the message lists the known ones.
    """
    return table_entry(MOTOR_MODELS, name, "CiA 402 motor model")


@cache
def object_dictionary(node_id: int) -> ObjectDictionary:
    """The bundled object dictionary (:data:`EDS_FILE`) for node ``node_id`` (parsed once).

    >>> hex(object_dictionary(5)[0x1800][1].default)
    '0x185'
    """
    return canopen.import_od(str(bundled_file("eds", EDS_FILE)), node_id)


def watchdog_ms(watchdog_s: float) -> int:
    """The RPDO event timer (ms, at least 1) of a watchdog of ``watchdog_s`` seconds.

    >>> watchdog_ms(0.003), watchdog_ms(0.0001)
    (3, 1)
    """
    return max(1, math.ceil(watchdog_s * 1000.0 - 1e-9))


def pdo_value(var: PdoVariable) -> int:
    """The integer value of a mapped object in its map's present data."""
    return int(var.od.decode_raw(var.get_data()))


def map_pdo(pdo_map: PdoMap, cob_id: int, mapping: tuple[tuple[int, int], ...]) -> PdoMap:
    """Set ``pdo_map`` up locally (no I/O): a synchronous PDO on ``cob_id`` with ``mapping``."""
    pdo_map.clear()
    for index, bits in mapping:
        pdo_map.add_variable(index, 0, bits)
    pdo_map.cob_id = cob_id
    pdo_map.trans_type = SYNCHRONOUS
    pdo_map.enabled = True
    return pdo_map


class Node402(BaseNode402):
    """canopen's CiA 402 node, reading the statusword by SDO.

    The state machine is walked at configure time, when no SYNC runs, so the synchronous TPDO
    that carries the statusword in the loop does not come; canopen would fall back to SDO with a
    warning on every read.
    """

    @property
    def statusword(self) -> int:
        """The statusword 0x6041, read by SDO."""
        return int.from_bytes(self.sdo.upload(STATUSWORD, 0), "little")

    def check_statusword(self, timeout: float | None = None) -> int:
        """The statusword 0x6041, read by SDO (``timeout`` is the SDO client's own)."""
        return self.statusword


class Cia402Drive(Drive):
    """A CiA 402 drive in cyclic synchronous torque (``cst``) or position (``csp``) mode.

    >>> drive = Cia402Drive(node_id=3, motor="ELMO-G100")
    >>> frame = drive.command_frames(0.0, 0.0, 0.0, 0.0, 2.5)[0]
    >>> hex(frame.arbitration_id), frame.data[:4].hex()  # controlword 0x000F, 100 per mille
    ('0x203', '0f006400')
    """

    protocol = "cia402"
    modes = tuple(MODE_CODES)
    emulator = "rehabbot.sim.emulated_cia402:EmulatedCia402Bank"
    reply_payloads = (
        sum(bits for _, bits in TPDO1_MAPPING) // 8, sum(bits for _, bits in TPDO2_MAPPING) // 8)
    periodic_payloads = ((1, HEARTBEAT_PRODUCER_MS / 1000.0),)

    def __init__(
        self,
        node_id: int,
        motor: str,
        mode: str = "cst",
        watchdog_s: float = 0.04,
        period_s: float = 0.001,
        abort_connection: int = ABORT_CONNECTION_FAULT,
    ) -> None:
        """Build the node's PDO maps locally (no I/O).

        Args:
            node_id: CANopen node id, 1..127.
            motor: motor model (:data:`MOTOR_MODELS`).
            mode: ``"cst"`` or ``"csp"``.
            watchdog_s: the drive's command watchdog, written as the RPDO event timer (s).
            period_s: the control period (s): one SYNC per period.
            abort_connection: the abort-connection option code 0x6007 written at configure
                time: what the drive does when its watchdog expires (1 fault, 2 disable
                voltage, 3 quick stop).

        Raises:
            ConfigurationError: unknown motor model or mode, or node id out of range.
        """
        if not 1 <= node_id <= NODE_MASK:
            raise ConfigurationError(f"CANopen node id must be 1..127, got {node_id}")
        if mode not in MODE_CODES:
            raise ConfigurationError(f"CiA 402 mode must be one of {', '.join(MODE_CODES)}")
        super().__init__(node_id, motor)
        self.model = motor_model(motor)
        self.mode = mode
        self.watchdog_s = watchdog_s
        self.period_s = period_s
        self.abort_connection = abort_connection
        self.node_ = Node402(node_id, object_dictionary(node_id))  # type: ignore[no-untyped-call]
        rpdos, tpdos = self.node_.rpdo, self.node_.tpdo
        for pdo_map in (*rpdos.values(), *tpdos.values()):
            pdo_map.clear()
            pdo_map.cob_id = pdo_map.predefined_cob_id
            pdo_map.enabled = False
        self._rpdo_id = RPDO1_FUNCTION + node_id
        self._rpdo = map_pdo(rpdos[1], self._rpdo_id, RPDO1_MAPPING)
        self._rpdo.event_timer = watchdog_ms(watchdog_s)
        self._tpdo1 = map_pdo(tpdos[1], TPDO1_FUNCTION + node_id, TPDO1_MAPPING)
        self._tpdo2 = map_pdo(tpdos[2], TPDO2_FUNCTION + node_id, TPDO2_MAPPING)
        self._controlword, self._target_torque, self._target_position = self._rpdo.map
        self._statusword, self._position, self._torque = self._tpdo1.map
        self._velocity, self._error_code = self._tpdo2.map
        self._emcy_id = EMCY_FUNCTION + node_id
        self._heartbeat_id = HEARTBEAT_FUNCTION + node_id
        self._heartbeat_timeout_syncs = whole_periods(
            HEARTBEAT_TIMEOUT_PERIODS * HEARTBEAT_PRODUCER_MS / 1000.0, period_s)
        self._enable_timeout_syncs = whole_periods(ENABLE_TIMEOUT_S, period_s)
        # the latest feedback, motor side, and the supervision state
        self._counts = 0
        self._q_rad = 0.0
        self._qd_rad_s = 0.0
        self._tau_nm = 0.0
        self._status = 0
        self._error = 0
        self._emcy = 0
        self._syncs_since_heartbeat = 0
        self._enable_requested = False
        self._syncs_not_enabled = 0

    @classmethod
    def from_config(cls, joint: JointConfig, robot: RobotConfig) -> Self:
        """The drive of ``joint``: its mode, its watchdog and abort-connection option, and the
        robot's control period."""
        return cls(
            node_id=joint.node_id, motor=joint.motor, mode=cls.mode_of(joint),
            watchdog_s=robot.watchdog_s(joint), period_s=robot.period_s,
            abort_connection=joint.abort_connection,
        )

    # -- configure time ------------------------------------------------------------------------

    def setup(self, bus: can.BusABC, timeout_s: float) -> None:
        """NMT, SDO configuration, PDO mapping, NMT start, state machine to switched on.

        A :class:`can.Notifier` feeds canopen's SDO client while this runs and is stopped before
        it returns.

        Raises:
            CommunicationError: no SDO answer, an SDO abort, or a state change that did not happen.
            ConfigurationError: not a CiA 402 drive, or its rated torque or modes do not match.
        """
        network = canopen.Network(bus)
        network.add_node(self.node_)
        self.node_.sdo.RESPONSE_TIMEOUT = timeout_s
        try:
            with can.Notifier(bus, network.listeners, timeout=NOTIFIER_POLL_S):
                self._configure()
        except (SdoError, RuntimeError, ValueError) as exc:
            raise CommunicationError(
                f"CiA 402 node {self.node_id}: configuration failed: {exc}; check power, wiring, "
                "bitrate and node id"
            ) from None

    def _sdo(self, index: int) -> SdoVariable:
        var = self.node_.sdo.get_variable(index)
        if not isinstance(var, SdoVariable):
            raise ConfigurationError(f"object 0x{index:04X} is not in {EDS_FILE}")
        return var

    def _read(self, index: int) -> int:
        return int(self._sdo(index).raw)

    def _configure(self) -> None:
        node, model = self.node_, self.model
        node.nmt.state = "PRE-OPERATIONAL"
        device_type = self._read(DEVICE_TYPE)
        if device_type & 0xFFFF != DEVICE_PROFILE_402:
            raise ConfigurationError(
                f"CANopen node {self.node_id} is not a CiA 402 drive "
                f"(device type 0x{device_type:08X})"
            )
        rated = self._read(MOTOR_RATED_TORQUE)
        if rated != model.rated_torque_mnm:
            raise ConfigurationError(
                f"CiA 402 node {self.node_id} has motor rated torque 0x6076 = {rated} mN·m, motor "
                f"model {model.name} says {model.rated_torque_mnm} mN·m: torques would be scaled "
                "wrong; fix the drive or the motor table"
            )
        mode_name = OperationMode.CODE2NAME[MODE_CODES[self.mode]]
        if not node.is_op_mode_supported(mode_name):  # type: ignore[no-untyped-call]
            raise ConfigurationError(
                f"CiA 402 node {self.node_id} does not support {mode_name.lower()} mode"
            )
        for index, value in (
            (MODES_OF_OPERATION, MODE_CODES[self.mode]),
            (MAX_TORQUE, model.max_torque_permille),
            (PRODUCER_HEARTBEAT_TIME, HEARTBEAT_PRODUCER_MS),
            (ABORT_CONNECTION_OPTION, self.abort_connection),
        ):
            self._sdo(index).raw = value
        for pdo_map in (*node.rpdo.values(), *node.tpdo.values()):
            pdo_map.save()
        node.nmt.state = "OPERATIONAL"
        node.controlword = State402.CW_DISABLE_VOLTAGE  # a fault reset needs a rising edge of bit 7
        node.state = "SWITCHED ON"
        self._set_position(self._read(POSITION_ACTUAL))

    # -- the loop ------------------------------------------------------------------------------

    @classmethod
    def sync_frame(cls) -> can.Message:
        """The CANopen SYNC (COB-ID 0x80, no data): drives apply RPDOs and send TPDOs on it."""
        return Frame(arbitration_id=SYNC_COB_ID, data=b"", is_extended_id=False)

    @property
    def reply_key(self) -> Hashable:
        """Every frame this node sends in the loop routes to ``("cia402", node id)``."""
        return (self.protocol, self.node_id)

    @staticmethod
    def reply_key_of(msg: can.Message) -> Hashable | None:
        """``("cia402", node id)`` for an EMCY, TPDO1, TPDO2 or heartbeat frame, else None."""
        if msg.is_extended_id or msg.is_remote_frame or msg.is_error_frame:
            return None
        node = msg.arbitration_id & NODE_MASK
        if node and msg.arbitration_id & FUNCTION_MASK in REPLY_FUNCTIONS:
            return (Cia402Drive.protocol, node)
        return None

    def _request_enabled(self, enabled: bool) -> None:
        if enabled != self._enable_requested:
            self._enable_requested = enabled
            self._syncs_not_enabled = 0

    def _rpdo_frame(self, controlword: int, torque_permille: int, counts: int) -> can.Message:
        self._controlword.raw = controlword
        self._target_torque.raw = torque_permille
        self._target_position.raw = min(max(counts, INT32_MIN), INT32_MAX)
        return Frame(arbitration_id=self._rpdo_id, data=bytes(self._rpdo.data),
                     is_extended_id=False)

    def enable_frames(self) -> list[can.Message]:
        """Enable operation, with zero torque (CST) or the present position as target (CSP)."""
        self._request_enabled(True)
        return [self._rpdo_frame(CW_ENABLE_OPERATION, 0, self._counts)]

    def disable_frames(self) -> list[can.Message]:
        """Disable operation: back to switched on, no torque."""
        self._request_enabled(False)
        return [self._rpdo_frame(CW_DISABLE_OPERATION, 0, self._counts)]

    def torque_permille(self, torque_nm: float) -> int:
        """``torque_nm`` (clamped to the peak torque) in ‰ of the rated torque, rounded.

        >>> Cia402Drive(node_id=1, motor="ELMO-G100").torque_permille(-1000.0)
        -3000
        """
        peak = self.model.peak_torque_nm
        clamped = min(max(torque_nm, -peak), peak)
        return round(clamped * 1000.0 / self.model.rated_torque_nm)

    def command_frames(
        self, q_rad: float, qd_rad_s: float, kp: float, kd: float, tau_nm: float
    ) -> list[can.Message]:
        """The RPDO: CST gets the impedance law's torque, CSP the position (or a disable)."""
        if self.mode == "cst":
            tau = kp * (q_rad - self._q_rad) + kd * (qd_rad_s - self._qd_rad_s) + tau_nm
            return [self._rpdo_frame(CW_ENABLE_OPERATION, self.torque_permille(tau), self._counts)]
        self._request_enabled(kp > 0.0)
        if kp > 0.0:
            counts = round(q_rad * self.model.counts_per_rad)
            return [self._rpdo_frame(CW_ENABLE_OPERATION, 0, counts)]
        return [self._rpdo_frame(CW_DISABLE_OPERATION, 0, self._counts)]

    def _set_position(self, counts: int) -> None:
        self._counts = counts
        self._q_rad = counts / self.model.counts_per_rad

    def decode(self, msg: can.Message) -> DriveFeedback | None:
        """Decode a TPDO (feedback), an EMCY or a heartbeat (bookkeeping only: None)."""
        cob_id, data = msg.arbitration_id, msg.data
        if cob_id == self._tpdo1.cob_id:
            self._parse(self._tpdo1, data)
            self._status = pdo_value(self._statusword)
            self._set_position(pdo_value(self._position))
            self._tau_nm = pdo_value(self._torque) * self.model.rated_torque_nm / 1000.0
            self._syncs_since_heartbeat += 1
            enabled = self._status & OPERATION_ENABLED_MASK == OPERATION_ENABLED
            self._syncs_not_enabled = (
                self._syncs_not_enabled + 1 if self._enable_requested and not enabled else 0)
            return self._feedback()
        if cob_id == self._tpdo2.cob_id:
            self._parse(self._tpdo2, data)
            self._qd_rad_s = pdo_value(self._velocity) / self.model.velocity_units_per_rad_s
            self._error = pdo_value(self._error_code)
            return self._feedback()
        if cob_id == self._emcy_id:
            if len(data) != EMCY_STRUCT.size:
                raise CommunicationError(f"EMCY must have 8 data bytes, got {len(data)}")
            code, _register, _vendor = EMCY_STRUCT.unpack(data)
            self._emcy = code if code & 0xFF00 else 0  # 0x00xx: error reset
            return None
        if cob_id == self._heartbeat_id:
            if len(data) != 1:
                raise CommunicationError(f"heartbeat must have 1 data byte, got {len(data)}")
            self._syncs_since_heartbeat = 0
            return None
        raise CommunicationError(f"frame 0x{cob_id:03X} is not from CiA 402 node {self.node_id}")

    @staticmethod
    def _parse(pdo_map: PdoMap, data: bytearray) -> None:
        if len(data) != len(pdo_map.data):
            raise CommunicationError(
                f"{pdo_map.name} must have {len(pdo_map.data)} data bytes, got {len(data)}")
        pdo_map.data = bytearray(data)

    def fault_code(self) -> int:
        """The fault the drive is in, 0 if none (see the module's docstring for the codes)."""
        if self._status & STATUSWORD_FAULT:
            return self._error or self._emcy or FAULT_GENERIC
        if self._emcy:
            return self._emcy
        if self._syncs_since_heartbeat > self._heartbeat_timeout_syncs:
            return FAULT_HEARTBEAT_LOST
        if self._syncs_not_enabled > self._enable_timeout_syncs:
            return FAULT_NOT_ENABLED
        return 0

    def _feedback(self) -> DriveFeedback:
        return DriveFeedback(
            node_id=self.node_id,
            position_rad=self._q_rad,
            velocity_rad_s=self._qd_rad_s,
            torque_nm=self._tau_nm,
            temperature_c=math.nan,
            fault_code=self.fault_code(),
        )

    @property
    def peak_torque_nm(self) -> float:
        """Rated torque times max torque 0x6072 (N·m, output shaft)."""
        return self.model.peak_torque_nm

    @property
    def resolution(self) -> Resolution:
        """One increment, one velocity unit, one per mille of the rated torque."""
        m = self.model
        return Resolution(1.0 / m.counts_per_rad, 1.0 / m.velocity_units_per_rad_s,
                          m.rated_torque_nm / 1000.0)
