"""Emulated CiA 402 drives: canopen LocalNodes bound to simulated joints, stepped in lockstep.

Each drive is a :class:`canopen.LocalNode` with the bundled EDS
(``data/eds/rehabbot_cia402.eds``): canopen answers SDO, keeps the NMT state and the heartbeat
producer, and parses RPDOs. This module adds what canopen lacks for a drive: the CiA 402 state
machine, the cyclic synchronous modes on a simulated joint (same transmission as the MIT emulator:
gear ratio, sign, offset), TPDOs after each SYNC, EMCY on faults and RPDO deadline monitoring.

No thread runs in lockstep: the simulator hands every frame to :meth:`EmulatedCia402Bank.receive`,
which checks it and feeds canopen through :meth:`canopen.Network.notify`; periodic transmissions
(the heartbeat) run on simulated time (:class:`LockstepNetwork`). SDO answers go out at once, so a
background thread that only calls :meth:`~EmulatedCia402Bank.receive` serves a host's configuration.

Per SYNC in NMT operational, the synchronous RPDOs received since the last SYNC are applied (their
objects written, a controlword walks the state machine); after the physics step every enabled
synchronous TPDO due at that SYNC is sent with the quantized actual values (position and velocity
from the joint through the transmission, torque as applied). Asynchronous RPDOs (types 254, 255)
apply on reception. The emulated drive applies a PDO configuration when it enters NMT operational.

Modes of operation (0x6060): CST applies target torque 0x6071 (‰ of 0x6076, clamped to 0x6072);
CSP runs an in-drive position loop on target position 0x607A, ``tau = K*(p_target - p) +
D*(v_ff - v)`` with :data:`CSP_STIFFNESS_NM_PER_RAD`, :data:`CSP_DAMPING_NMS_PER_RAD` (motor side)
and ``v_ff`` the change of the target over one period, clamped to the peak torque. The drive
produces torque only in operation enabled; in quick stop active it holds zero torque.

Encoder: the drive measures its output through the encoder of its commissioning, position in whole
increments (``counts_per_rev`` of the motor model, encoder lines × gear ratio: 0x6064 and the CSP
law use the same counts); the velocity it measures (0x606C and the CSP law) carries the noise of
a velocity from two readings one control period apart, Gaussian with standard deviation
``step / (√6 · T)`` (:func:`~rehabbot.sim.drive_bank.velocity_noise_rad_s`: 0.20 mrad/s at the
output for ELMO-G100, 3.1 mrad/s for EPOS-G50, 10.7 mrad/s for COPLEY-G30 at 1 kHz), seeded by the
simulation's seed and the joints.

Faults: :meth:`EmulatedCia402Drive.fault` (also the test hook
:meth:`EmulatedCia402Bank.inject_fault`) puts the drive in FAULT at once (the fault reaction,
torque off, takes no time), sets 0x603F and the error register 0x1001 and sends an EMCY; a rising
edge of controlword bit 7 resets it (EMCY error reset).

Watchdog: while operation enabled, no RPDO for the smallest RPDO event timer (0x1400+n:05, ms)
triggers the abort-connection option 0x6007: 0 nothing, 1 fault
(:data:`~rehabbot.hal.drives.cia402.EMCY_RPDO_TIMEOUT`), 2 disable voltage, 3 quick stop; 2 and 3
also send that EMCY.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import can
import canopen
from canopen.network import PeriodicMessageTask
from canopen.objectdictionary import ODVariable
from canopen.pdo import PdoMap
from canopen.profiles.p402 import State402
from canopen.sdo.exceptions import SdoAbortedError

from rehabbot.hal.bus import Frame
from rehabbot.hal.config import JointConfig, RobotConfig, whole_periods
from rehabbot.hal.drives import cia402
from rehabbot.hal.drives.cia402 import (
    ABORT_CONNECTION_OPTION,
    CONTROLWORD,
    ERROR_CODE,
    FUNCTION_MASK,
    MAX_TORQUE,
    MODE_CODES,
    MODES_OF_OPERATION,
    MODES_OF_OPERATION_DISPLAY,
    MOTOR_RATED_TORQUE,
    NODE_MASK,
    POSITION_ACTUAL,
    STATUSWORD,
    SYNC_COB_ID,
    TARGET_POSITION,
    TARGET_TORQUE,
    TORQUE_ACTUAL,
    VELOCITY_ACTUAL,
    pdo_value,
)
from rehabbot.sim.drive_bank import DriveBank, velocity_noise_rad_s

#: CSP in-drive position loop stiffness, motor side (N·m/rad).
CSP_STIFFNESS_NM_PER_RAD = 100.0
#: CSP in-drive position loop damping, motor side (N·m·s/rad).
CSP_DAMPING_NMS_PER_RAD = 2.0

NMT_COB_ID = 0x000
RPDO_FUNCTIONS = frozenset({0x200, 0x300, 0x400, 0x500})
SDO_REQUEST_FUNCTION = 0x600
ERROR_REGISTER = 0x1001
RPDO_COMMUNICATION = 0x1400
EVENT_TIMER_SUBINDEX = 5
#: Transmission types: 1..240 synchronous (every n-th SYNC), 254/255 event driven.
MAX_SYNCHRONOUS_TYPE = 240
FIRST_ASYNCHRONOUS_TYPE = 254
#: SDO abort code "value range of parameter exceeded" (CiA 301).
SDO_ABORT_VALUE_RANGE = 0x06090030

STATUSWORD_VOLTAGE_ENABLED = 1 << 4
STATUSWORD_REMOTE = 1 << 9
CONTROLWORD_FAULT_RESET = 1 << 7
#: Error register 0x1001 bits by the first hex digit of an error code (CiA 301); bit 0 always.
ERROR_REGISTER_BITS = {0x2: 1 << 1, 0x3: 1 << 2, 0x4: 1 << 3, 0x8: 1 << 4}
SUPPORTED_MODES = frozenset(MODE_CODES.values())
#: The objects the drive keeps itself that SDO and RPDOs write.
WRITABLE_PROCESS_OBJECTS = frozenset({
    CONTROLWORD, MODES_OF_OPERATION, TARGET_TORQUE, TARGET_POSITION, MAX_TORQUE,
    ABORT_CONNECTION_OPTION,
})

SWITCH_ON_DISABLED = "SWITCH ON DISABLED"
READY_TO_SWITCH_ON = "READY TO SWITCH ON"
SWITCHED_ON = "SWITCHED ON"
OPERATION_ENABLED = "OPERATION ENABLED"
QUICK_STOP_ACTIVE = "QUICK STOP ACTIVE"
FAULT = "FAULT"
POWERED_STATES = frozenset({READY_TO_SWITCH_ON, SWITCHED_ON, OPERATION_ENABLED, QUICK_STOP_ACTIVE})

#: Reaction to a lost connection (RPDO deadline) by abort-connection option 0x6007 (0: none).
ABORT_CONNECTION_REACTIONS = {1: FAULT, 2: SWITCH_ON_DISABLED, 3: QUICK_STOP_ACTIVE}

#: CiA 402 state machine: (state, device control command) → next state (transition number).
TRANSITIONS: dict[tuple[str, str], str] = {
    (SWITCH_ON_DISABLED, "shutdown"): READY_TO_SWITCH_ON,  # 2
    (READY_TO_SWITCH_ON, "switch on"): SWITCHED_ON,  # 3
    (READY_TO_SWITCH_ON, "enable operation"): OPERATION_ENABLED,  # 3 + 4
    (SWITCHED_ON, "enable operation"): OPERATION_ENABLED,  # 4
    (OPERATION_ENABLED, "switch on"): SWITCHED_ON,  # 5
    (SWITCHED_ON, "shutdown"): READY_TO_SWITCH_ON,  # 6
    (READY_TO_SWITCH_ON, "disable voltage"): SWITCH_ON_DISABLED,  # 7
    (READY_TO_SWITCH_ON, "quick stop"): SWITCH_ON_DISABLED,  # 7
    (OPERATION_ENABLED, "shutdown"): READY_TO_SWITCH_ON,  # 8
    (OPERATION_ENABLED, "disable voltage"): SWITCH_ON_DISABLED,  # 9
    (SWITCHED_ON, "disable voltage"): SWITCH_ON_DISABLED,  # 10
    (SWITCHED_ON, "quick stop"): SWITCH_ON_DISABLED,  # 10
    (OPERATION_ENABLED, "quick stop"): QUICK_STOP_ACTIVE,  # 11
    (QUICK_STOP_ACTIVE, "disable voltage"): SWITCH_ON_DISABLED,  # 12
    (QUICK_STOP_ACTIVE, "enable operation"): OPERATION_ENABLED,  # 16
}


def error_register(code: int) -> int:
    """The error register 0x1001 bits of an error code (0: none).

    >>> bin(error_register(0x2310)), bin(error_register(0x8250)), error_register(0)
    ('0b11', '0b10001', 0)
    """
    return 1 | ERROR_REGISTER_BITS.get(code >> 12, 0) if code else 0


def device_command(controlword: int) -> str:
    """The CiA 402 device control command a controlword's bits 0-3 give.

    >>> device_command(0x06), device_command(0x0F), device_command(0x02)
    ('shutdown', 'enable operation', 'quick stop')
    """
    if not controlword & 0x02:
        return "disable voltage"
    if not controlword & 0x04:
        return "quick stop"
    if not controlword & 0x01:
        return "shutdown"
    if not controlword & 0x08:
        return "switch on"
    return "enable operation"


def statusword(state: str) -> int:
    """The statusword of a CiA 402 state (canopen's state bits, voltage enabled, remote).

    >>> hex(statusword("OPERATION ENABLED")), hex(statusword("FAULT"))
    ('0x237', '0x208')
    """
    word = State402.SW_MASK[state][1] | STATUSWORD_REMOTE
    return word | STATUSWORD_VOLTAGE_ENABLED if state in POWERED_STATES else word


class LockstepNetwork(canopen.Network):
    """A canopen network the simulator drives: no Notifier thread, periodic tasks on simulated
    time, cheap-copy :class:`~rehabbot.hal.bus.Frame` out, and nodes whose sends can be muted."""

    def __init__(self, bus: can.BusABC, period_s: float) -> None:
        """A network on ``bus`` whose time advances by ``period_s`` per :meth:`advance`."""
        super().__init__(bus)
        self.out = bus
        self.period_s = period_s
        self.now_s = 0.0
        self.steps = 0
        self.tasks: list[LockstepTask] = []
        self.muted_nodes: set[int] = set()

    def send_message(self, can_id: int, data: bytes, remote: bool = False) -> None:
        """Send one frame now, unless its node (the COB-ID's low 7 bits) is muted."""
        if can_id & NODE_MASK in self.muted_nodes:
            return
        self.out.send(Frame(arbitration_id=can_id, data=bytes(data),
                            is_extended_id=can_id > 0x7FF, is_remote_frame=remote))

    def send_periodic(
        self, can_id: int, data: bytes, period: float, remote: bool = False
    ) -> PeriodicMessageTask:
        """A task that sends every ``period`` seconds of simulated time."""
        return LockstepTask(self, can_id, data, period, remote)

    def advance(self) -> None:
        """One period later: send what periodic tasks have due."""
        self.steps += 1
        self.now_s = self.steps * self.period_s
        for task in self.tasks:
            task.send_due(self.now_s)


class LockstepTask(PeriodicMessageTask):
    """canopen's periodic transmission, run by :meth:`LockstepNetwork.advance`."""

    def __init__(
        self, network: LockstepNetwork, can_id: int, data: bytes, period: float, remote: bool
    ) -> None:
        """Send ``data`` on ``can_id`` every ``period`` s of ``network``'s time, first in one
        period."""
        self.network = network
        self.due_s = network.now_s + period
        super().__init__(can_id, data, period, network.out, remote)

    def _start(self) -> None:
        self.network.tasks.append(self)

    def stop(self) -> None:
        """Stop sending."""
        if self in self.network.tasks:
            self.network.tasks.remove(self)

    def update(self, data: bytes) -> None:
        """Send ``data`` from now on."""
        self.msg.data = bytearray(data)

    def send_due(self, now_s: float) -> None:
        """Send once per period that has elapsed by ``now_s``."""
        while self.due_s <= now_s + 1e-9:
            self.network.send_message(self.msg.arbitration_id, bytes(self.msg.data))
            self.due_s += self.period


class EmulatedCia402Drive:
    """One CiA 402 drive (a canopen LocalNode) driving one simulated joint through its transmission.

    >>> import can
    >>> from rehabbot.hal.config import JointConfig
    >>> cfg = JointConfig(name="knee_angle_r", drive="cia402", motor="ELMO-G100", node_id=2,
    ...                   position_min_rad=0, position_max_rad=1.5, velocity_max_rad_s=5,
    ...                   torque_max_nm=10)
    >>> bus = can.Bus(interface="virtual", channel="doctest-cia402")
    >>> drive = EmulatedCia402Drive(cfg, LockstepNetwork(bus, 0.001))
    >>> drive.state, drive.node.nmt.state
    ('SWITCH ON DISABLED', 'PRE-OPERATIONAL')
    >>> bus.shutdown()
    """

    def __init__(self, joint: JointConfig, network: LockstepNetwork) -> None:
        """Emulate the drive of ``joint`` on ``network``; it boots into NMT pre-operational."""
        self.node_id = joint.node_id
        self.model = cia402.motor_model(joint.motor)
        self.gear_ratio = joint.gear_ratio
        self.sign = float(joint.sign)
        self.offset_rad = joint.offset_rad
        self.network = network
        self.node = canopen.LocalNode(joint.node_id, cia402.object_dictionary(joint.node_id))
        network[joint.node_id] = self.node
        self.node.add_read_callback(self._read_object)  # type: ignore[no-untyped-call]
        self.node.add_write_callback(self._write_object)  # type: ignore[no-untyped-call]
        for pdo_map in self.node.rpdo.values():
            pdo_map.add_callback(self._on_rpdo)
        self.state = SWITCH_ON_DISABLED
        self.controlword = 0
        self.mode = 0
        self.target_torque_permille = 0
        self.target_counts = 0
        self.error_code = 0
        self.torque_motor_nm = 0.0
        self.q_joint_rad = 0.0
        self.qd_joint_rad_s = 0.0
        #: What the drive measures now: position (increments) and velocity (rad/s), output side.
        self.position_counts = 0
        self.velocity_rad_s = 0.0
        #: Standard deviation of the measured velocity at the output (rad/s).
        self.velocity_noise_rad_s = velocity_noise_rad_s(1.0 / self.model.counts_per_rad,
                                                         network.period_s)
        self._previous_target_counts = 0
        self._operational = False
        self._rpdos: dict[int, PdoMap] = {}
        self._tpdos: list[PdoMap] = []
        self._pending: list[PdoMap] = []
        self._due: list[PdoMap] = []
        self._syncs = 0
        self._deadline_steps: int | None = None
        self._steps_since_rpdo = 0
        self.max_torque_permille = int(self._od(MAX_TORQUE).default or 0)
        self.abort_option = int(self._od(ABORT_CONNECTION_OPTION).default or 0)
        # commissioned for its motor: the rated torque that scales the per mille torques
        self.node.set_data(MOTOR_RATED_TORQUE, 0,
                           self._od(MOTOR_RATED_TORQUE).encode_raw(self.model.rated_torque_mnm))
        self._getters: dict[int, Callable[[], int]] = {
            STATUSWORD: lambda: statusword(self.state),
            POSITION_ACTUAL: lambda: self.position_counts,
            VELOCITY_ACTUAL: lambda: round(self.motor_velocity_rad_s
                                           * self.model.velocity_units_per_rad_s),
            TORQUE_ACTUAL: lambda: round(self.torque_motor_nm * 1000.0
                                         / self.model.rated_torque_nm),
            ERROR_CODE: lambda: self.error_code,
            ERROR_REGISTER: self.error_register,
            MODES_OF_OPERATION_DISPLAY: lambda: self.mode,
            MODES_OF_OPERATION: lambda: self.mode,
            CONTROLWORD: lambda: self.controlword,
            TARGET_TORQUE: lambda: self.target_torque_permille,
            TARGET_POSITION: lambda: self.target_counts,
            MAX_TORQUE: lambda: self.max_torque_permille,
            ABORT_CONNECTION_OPTION: lambda: self.abort_option,
        }
        self._boot()

    def _od(self, index: int, subindex: int = 0) -> ODVariable:
        entry = self.node.object_dictionary[index]
        return entry if isinstance(entry, ODVariable) else entry[subindex]

    def _stored(self, index: int, subindex: int = 0) -> int:
        """An object's value as an SDO read gets it (the drive's own, the data store, the EDS)."""
        return int(self._od(index, subindex).decode_raw(self.node.get_data(index, subindex)))

    def _boot(self) -> None:
        """Power-on or NMT reset: boot-up message, NMT pre-operational, switch on disabled."""
        self.node.nmt.state = "INITIALISING"
        self.node.nmt.state = "PRE-OPERATIONAL"
        self._operational = False
        self.state = SWITCH_ON_DISABLED
        self.error_code = 0

    # -- the object dictionary's process objects ---------------------------------------------

    @property
    def motor_position_rad(self) -> float:
        """Motor-side position (rad) the encoder measures (whole increments)."""
        return self.position_counts / self.model.counts_per_rad

    @property
    def motor_velocity_rad_s(self) -> float:
        """Motor-side velocity (rad/s) the drive measures (with its noise)."""
        return self.velocity_rad_s

    def error_register(self) -> int:
        """The error register 0x1001 of the present error code."""
        return error_register(self.error_code)

    def value(self, index: int) -> int | None:
        """The present value of an object the drive keeps itself (process data), else None."""
        getter = self._getters.get(index)
        return None if getter is None else getter()

    def _read_object(self, *, index: int, subindex: int, od: ODVariable) -> int | None:
        return self.value(index)

    def _write_object(self, *, index: int, subindex: int, od: ODVariable, data: bytes) -> None:
        if index in WRITABLE_PROCESS_OBJECTS and not self._set(index, int(od.decode_raw(data))):
            raise SdoAbortedError(SDO_ABORT_VALUE_RANGE)

    def _set(self, index: int, value: int) -> bool:
        """Write a process object; False if the value is out of range (nothing changes)."""
        if index == CONTROLWORD:
            self._apply_controlword(value)
        elif index == MODES_OF_OPERATION:
            if value not in SUPPORTED_MODES:
                return False
            self.mode = value
        elif index == TARGET_TORQUE:
            self.target_torque_permille = value
        elif index == TARGET_POSITION:
            self.target_counts = value
        elif index == MAX_TORQUE:
            self.max_torque_permille = value
        elif index == ABORT_CONNECTION_OPTION:
            self.abort_option = value
        return True

    # -- the CiA 402 state machine ------------------------------------------------------------

    def _enter(self, state: str) -> None:
        if state == OPERATION_ENABLED and self.state != OPERATION_ENABLED:
            self._previous_target_counts = self.target_counts
            self._steps_since_rpdo = 0
        self.state = state

    def _apply_controlword(self, controlword: int) -> None:
        rising_reset = controlword & ~self.controlword & CONTROLWORD_FAULT_RESET
        self.controlword = controlword
        if self.state == FAULT:
            if rising_reset:
                self.error_code = 0
                self.state = SWITCH_ON_DISABLED
                self.node.emcy.reset()
            return
        following = TRANSITIONS.get((self.state, device_command(controlword)))
        if following is not None:
            self._enter(following)

    def fault(self, code: int) -> None:
        """Fault with error code ``code``: torque off, FAULT state, 0x603F, EMCY."""
        self.error_code = code
        self.state = FAULT
        self.torque_motor_nm = 0.0
        self.node.emcy.send(code, self.error_register())

    def _connection_lost(self) -> None:
        """The RPDO deadline expired: the abort-connection option 0x6007 decides."""
        code = cia402.EMCY_RPDO_TIMEOUT
        reaction = ABORT_CONNECTION_REACTIONS.get(self.abort_option)
        if reaction == FAULT:
            self.fault(code)
        elif reaction is not None:
            self._enter(reaction)
            self.node.emcy.send(code, error_register(code))

    # -- NMT, PDO and SYNC --------------------------------------------------------------------

    def after_nmt(self) -> None:
        """Follow an NMT command canopen has applied: reboot on reset, load PDOs on start."""
        state = self.node.nmt.state
        if state == "INITIALISING":
            self._boot()
            return
        operational = state == "OPERATIONAL"
        if operational and not self._operational:
            self._load_pdo_configuration()
        self._operational = operational

    def _load_pdo_configuration(self) -> None:
        rpdo, tpdo = self.node.rpdo, self.node.tpdo
        rpdo.read(from_od=False)  # type: ignore[no-untyped-call]
        tpdo.read(from_od=False)  # type: ignore[no-untyped-call]
        enabled = {n: m for n, m in rpdo.items() if m.enabled and m.cob_id is not None}
        self._rpdos = {m.cob_id: m for m in enabled.values() if m.cob_id is not None}
        self._tpdos = [
            m for m in tpdo.values()
            if m.enabled and m.trans_type is not None and 1 <= m.trans_type <= MAX_SYNCHRONOUS_TYPE
        ]
        deadlines_ms = [
            ms for n in enabled
            if (ms := self._stored(RPDO_COMMUNICATION + n - 1, EVENT_TIMER_SUBINDEX)) > 0
        ]
        self._deadline_steps = (
            whole_periods(min(deadlines_ms) / 1000.0, self.network.period_s)
            if deadlines_ms else None
        )

    def receive(self, msg: can.Message) -> bool:
        """Take an SDO request or an RPDO for this node; False (dropped) if malformed/unmapped."""
        cob_id, data = msg.arbitration_id, msg.data
        if cob_id & FUNCTION_MASK == SDO_REQUEST_FUNCTION:
            if len(data) != 8:
                return False
        else:
            pdo_map = self._rpdos.get(cob_id)
            if pdo_map is None or len(data) != len(pdo_map.data):
                return False
        self.network.notify(cob_id, data, msg.timestamp)
        return True

    def _on_rpdo(self, pdo_map: PdoMap) -> None:
        if not self._operational:
            return
        self._steps_since_rpdo = 0
        trans_type = pdo_map.trans_type or 0
        if trans_type >= FIRST_ASYNCHRONOUS_TYPE:
            self._apply(pdo_map)
        else:
            self._pending.append(pdo_map)

    def _apply(self, pdo_map: PdoMap) -> None:
        for var in pdo_map.map:
            self._set(var.index, pdo_value(var))

    def on_sync(self) -> None:
        """A SYNC: apply the synchronous RPDOs received since the last one; TPDOs become due."""
        if not self._operational:
            return
        self._syncs += 1
        self._previous_target_counts = self.target_counts
        for pdo_map in self._pending:
            self._apply(pdo_map)
        self._pending.clear()
        self._due += [m for m in self._tpdos if self._syncs % (m.trans_type or 1) == 0]

    # -- one simulator step -------------------------------------------------------------------

    def observe(self, q_joint_rad: float, qd_joint_rad_s: float, noise: float = 0.0) -> None:
        """The joint angle (rad) and velocity (rad/s) the drive measures now, through its
        encoder; ``noise`` is a standard normal draw for the velocity."""
        self.q_joint_rad = q_joint_rad
        self.qd_joint_rad_s = qd_joint_rad_s
        self.position_counts = round(self.sign * self.gear_ratio * (q_joint_rad - self.offset_rad)
                                     * self.model.counts_per_rad)
        self.velocity_rad_s = (self.sign * self.gear_ratio * qd_joint_rad_s
                               + noise * self.velocity_noise_rad_s)

    def joint_torque(self) -> float:
        """Run one period: the RPDO deadline, then the mode's law; the joint torque (N·m)."""
        if (self.state == OPERATION_ENABLED and self._deadline_steps is not None
                and self._steps_since_rpdo >= self._deadline_steps):
            self._connection_lost()
        self._steps_since_rpdo += 1
        self.torque_motor_nm = self._motor_torque() if self.state == OPERATION_ENABLED else 0.0
        return self.sign * self.gear_ratio * self.torque_motor_nm

    def _motor_torque(self) -> float:
        model = self.model
        limit_permille = min(self.max_torque_permille, model.max_torque_permille)
        if self.mode == cia402.MODE_CODES["cst"]:
            permille = min(max(self.target_torque_permille, -limit_permille), limit_permille)
            return permille * model.rated_torque_nm / 1000.0
        target_rad = self.target_counts / model.counts_per_rad
        v_ff = ((self.target_counts - self._previous_target_counts) / model.counts_per_rad
                / self.network.period_s)
        tau = (CSP_STIFFNESS_NM_PER_RAD * (target_rad - self.motor_position_rad)
               + CSP_DAMPING_NMS_PER_RAD * (v_ff - self.motor_velocity_rad_s))
        limit = limit_permille * model.rated_torque_nm / 1000.0
        return min(max(tau, -limit), limit)

    def publish(self) -> None:
        """Send the TPDOs due since the last call, with the observed state."""
        for pdo_map in self._due:
            for var in pdo_map.map:
                value = self.value(var.index)
                var.raw = self._stored(var.index, var.subindex) if value is None else value
            pdo_map.transmit()
        self._due.clear()


class EmulatedCia402Bank(DriveBank[EmulatedCia402Drive]):
    """The emulated CiA 402 drives of a robot on one bus, each bound to a joint of the simulator.

    It takes NMT (id 0), SYNC (0x80) and, for its nodes, RPDOs (0x200-0x57F) and SDO requests
    (0x600-0x67F); see :class:`~rehabbot.sim.simulator.DriveEmulator` for one simulator step.
    """

    def __init__(
        self,
        bus: can.BusABC,
        joints: Sequence[JointConfig],
        sim_indices: Sequence[int],
        robot: RobotConfig,
        *,
        seed: int = 0,
    ) -> None:
        """Emulate ``joints`` of ``robot`` on ``bus``; joint ``i`` drives the sim's joint
        ``sim_indices[i]``; ``seed`` seeds the encoders' noise."""
        self.network = LockstepNetwork(bus, robot.period_s)
        super().__init__(sim_indices, seed)
        self.drives = [EmulatedCia402Drive(j, self.network) for j in joints]
        self._by_node = {d.node_id: d for d in self.drives}
        self.ignored_frames = 0

    def receive(self, msg: can.Message) -> bool:
        """Act on one frame if it is CANopen traffic for these drives; malformed ones are counted
        in :attr:`ignored_frames` and dropped."""
        if msg.is_extended_id or msg.is_remote_frame or msg.is_error_frame:
            return False
        cob_id, size = msg.arbitration_id, len(msg.data)
        if cob_id == NMT_COB_ID:
            if size != 2:
                self.ignored_frames += 1
                return True
            self.network.notify(cob_id, msg.data, msg.timestamp)
            for drive in self.drives:
                drive.after_nmt()
            return True
        if cob_id == SYNC_COB_ID:
            if size > 1:
                self.ignored_frames += 1
                return True
            for drive in self.drives:
                drive.on_sync()
            return True
        addressee = self._by_node.get(cob_id & NODE_MASK)
        function = cob_id & FUNCTION_MASK
        if addressee is None or (
            function not in RPDO_FUNCTIONS and function != SDO_REQUEST_FUNCTION
        ):
            return False
        if not addressee.receive(msg):
            self.ignored_frames += 1
        return True

    def publish(self) -> None:
        """Every drive's due TPDOs, then one period of simulated time for heartbeats."""
        for drive in self.drives:
            drive.publish()
        self.network.advance()

    def is_enabled(self, index: int) -> bool:
        """Whether drive ``index`` is in operation enabled."""
        return self.drives[index].state == OPERATION_ENABLED

    def silence(self, index: int) -> None:
        """From now on drive ``index`` sends nothing (its frames are lost)."""
        self.network.muted_nodes.add(self.drives[index].node_id)

    def inject_fault(self, index: int, code: int) -> None:
        """Make drive ``index`` fault with error code ``code`` (e.g. 0x2310, over-current)."""
        self.drives[index].fault(code)
