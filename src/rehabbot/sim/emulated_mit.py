"""Emulated MIT-mode drives: what a T-Motor/CubeMars actuator does, bound to a simulated joint.

Each emulated drive takes the frames addressed to its id, decodes them exactly as the drive's
firmware does (including the quantization of every field), runs the in-drive impedance law
``tau = kp*(p_ref - p) + kd*(v_ref - v) + t_ff`` clamped to the model's torque range on the motor
side of the joint's transmission, and answers every frame with the quantized reply a real drive
sends.

Command watchdog: an enabled drive that gets no frame for the joint's watchdog time
(:meth:`~rehabbot.hal.config.RobotConfig.watchdog_s`) turns its torque off and replies with error
code :data:`~rehabbot.hal.drives.mit.WATCHDOG_ERROR_CODE` until it is enabled again.
"""

from __future__ import annotations

from collections.abc import Sequence

import can
import numpy as np

from rehabbot.errors import CommunicationError
from rehabbot.hal.bus import Frame
from rehabbot.hal.config import JointConfig, RobotConfig, whole_periods
from rehabbot.hal.drives import mit
from rehabbot.hal.types import FloatArray

#: Temperature reported by an emulated drive (°C); a thermal model comes with the safety layer.
AMBIENT_TEMPERATURE_C = 30.0


class EmulatedMitDrive:
    """One MIT-mode drive driving one simulated joint through the joint's transmission.

    >>> from rehabbot.hal.config import JointConfig
    >>> cfg = JointConfig(name="knee_angle_r", motor="AK80-9", node_id=2, position_min_rad=0,
    ...                   position_max_rad=1.5, velocity_max_rad_s=5, torque_max_nm=10)
    >>> drive = EmulatedMitDrive(cfg)
    >>> drive.enabled
    False
    """

    def __init__(self, joint: JointConfig, host_id: int = 0, watchdog_steps: int = 3) -> None:
        """Emulate the drive of ``joint`` (its motor model, node id and transmission).

        Args:
            joint: the joint's configuration.
            host_id: the CAN id replies go to.
            watchdog_steps: control periods without a frame after which an enabled drive faults.
        """
        self.node_id = joint.node_id
        self.model = mit.motor_model(joint.motor)
        self.host_id = host_id
        self.gear_ratio = joint.gear_ratio
        self.sign = float(joint.sign)
        self.offset_rad = joint.offset_rad
        self.watchdog_steps = watchdog_steps
        self.enabled = False
        self.zero_motor_rad = 0.0
        self.command = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.torque_motor_nm = 0.0
        self.fault_code = 0
        self.frames_received = 0
        self.steps_since_frame = 0

    def motor_position(self, q_joint_rad: float) -> float:
        """Motor-side position (rad) reported for joint angle ``q_joint_rad``."""
        return self.sign * self.gear_ratio * (q_joint_rad - self.offset_rad) - self.zero_motor_rad

    def handle(self, data: bytes, q_joint_rad: float) -> None:
        """Act on one frame addressed to this drive (special frame or command)."""
        self.frames_received += 1
        self.steps_since_frame = 0
        if data == mit.ENTER_MOTOR_MODE:
            self.enabled = True
            self.fault_code = 0
        elif data == mit.EXIT_MOTOR_MODE:
            self.enabled = False
            self.command = (0.0, 0.0, 0.0, 0.0, 0.0)
        elif data == mit.SET_ZERO:
            self.zero_motor_rad += self.motor_position(q_joint_rad)
        else:
            self.command = mit.unpack_command(self.model, data)

    def fault(self, code: int) -> None:
        """Fault with ``code``: torque off until the next enter-motor-mode frame."""
        self.enabled = False
        self.fault_code = code

    def joint_torque(self, q_joint_rad: float, qd_joint_rad_s: float) -> float:
        """Run one period of the drive at this joint state; return the torque on the joint (N·m).

        Runs the watchdog first: an enabled drive that got no frame for ``watchdog_steps``
        periods faults.
        """
        if self.enabled and self.steps_since_frame >= self.watchdog_steps:
            self.fault(mit.WATCHDOG_ERROR_CODE)
        self.steps_since_frame += 1
        if not self.enabled:
            self.torque_motor_nm = 0.0
            return 0.0
        p_ref, v_ref, kp, kd, t_ff = self.command
        p = self.motor_position(q_joint_rad)
        v = self.sign * self.gear_ratio * qd_joint_rad_s
        tau = kp * (p_ref - p) + kd * (v_ref - v) + t_ff
        limit = self.model.t_max_nm
        self.torque_motor_nm = min(max(tau, -limit), limit)
        return self.sign * self.gear_ratio * self.torque_motor_nm

    def reply(self, q_joint_rad: float, qd_joint_rad_s: float) -> can.Message:
        """The reply frame for the present joint state."""
        data = mit.pack_reply(
            self.model,
            self.node_id,
            self.motor_position(q_joint_rad),
            self.sign * self.gear_ratio * qd_joint_rad_s,
            self.torque_motor_nm,
            AMBIENT_TEMPERATURE_C,
            self.fault_code,
        )
        return Frame.standard(self.host_id, data)


class EmulatedMitBank:
    """The emulated MIT drives of a robot on one bus, each bound to an index of the sim's joints.

    One simulator step: :meth:`receive` for each frame on the bus, :meth:`joint_torques`, physics,
    :meth:`observe` the new state, :meth:`publish` (one reply per frame received); see
    :class:`~rehabbot.sim.simulator.DriveEmulator`.
    """

    def __init__(
        self,
        bus: can.BusABC,
        joints: Sequence[JointConfig],
        sim_indices: Sequence[int],
        robot: RobotConfig,
    ) -> None:
        """Emulate ``joints`` of ``robot`` on ``bus``; joint ``i`` drives the sim's joint
        ``sim_indices[i]``."""
        self.bus = bus
        self.drives = [
            EmulatedMitDrive(
                j, robot.bus_of(j).host_id, whole_periods(robot.watchdog_s(j), robot.period_s))
            for j in joints
        ]
        self.sim_indices = [int(i) for i in sim_indices]
        self._by_id = {d.node_id: i for i, d in enumerate(self.drives)}
        self._pending = [0] * len(self.drives)
        self._q: FloatArray = np.zeros(0)
        self._qd: FloatArray = np.zeros(0)
        self.ignored_frames = 0
        self.silenced: set[int] = set()

    def receive(self, msg: can.Message) -> bool:
        """Let the drive ``msg`` is addressed to act on it; False if it is for none of them.

        A frame of a drive's id that is not a valid command is dropped and counted in
        :attr:`ignored_frames`, unanswered, as the firmware does.
        """
        index = self._by_id.get(msg.arbitration_id)
        if index is None or msg.is_extended_id or msg.is_remote_frame or msg.is_error_frame:
            return False
        try:
            self.drives[index].handle(bytes(msg.data), float(self._q[self.sim_indices[index]]))
        except CommunicationError:
            self.ignored_frames += 1
            return True
        self._pending[index] += 1
        return True

    def observe(self, q: FloatArray, qd: FloatArray) -> None:
        """The simulator's joint angles (rad) and velocities (rad/s) the drives measure now."""
        self._q, self._qd = q, qd

    def joint_torques(self, out: FloatArray) -> None:
        """Add every drive's joint torque (N·m) into ``out`` (indexed like the sim's joints)."""
        q, qd = self._q, self._qd
        for drive, i in zip(self.drives, self.sim_indices, strict=True):
            out[i] += drive.joint_torque(float(q[i]), float(qd[i]))

    def publish(self) -> None:
        """Answer each frame received since the last call with the observed state."""
        for index, count in enumerate(self._pending):
            if count == 0:
                continue
            self._pending[index] = 0
            if index in self.silenced:
                continue
            i = self.sim_indices[index]
            frame = self.drives[index].reply(float(self._q[i]), float(self._qd[i]))
            for _ in range(count):
                self.bus.send(frame)

    def is_enabled(self, index: int) -> bool:
        """Whether drive ``index`` is in motor mode."""
        return self.drives[index].enabled

    def silence(self, index: int) -> None:
        """From now on drive ``index`` sends nothing (its replies are lost)."""
        self.silenced.add(index)

    def inject_fault(self, index: int, code: int) -> None:
        """Make drive ``index`` fault with error code ``code`` (:data:`mit.ERROR_CODES`)."""
        self.drives[index].fault(code)
