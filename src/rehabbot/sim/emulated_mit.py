"""Emulated MIT-mode drives: what a T-Motor/CubeMars actuator does, bound to a simulated joint.

Each emulated drive listens on the bus for frames addressed to its id, decodes them exactly as the
drive's firmware does (including the quantization of every field), runs the in-drive impedance law
``tau = kp*(p_ref - p) + kd*(v_ref - v) + t_ff`` clamped to the model's torque range on the motor
side of the joint's transmission, and answers every frame with the quantized reply a real drive
sends.
"""

from __future__ import annotations

import can
import numpy as np

from rehabbot.errors import CommunicationError
from rehabbot.hal.bus import Frame
from rehabbot.hal.config import JointConfig
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

    def __init__(self, joint: JointConfig, host_id: int = 0) -> None:
        """Emulate the drive of ``joint`` (its motor model, node id and transmission)."""
        self.node_id = joint.node_id
        self.model = mit.motor_model(joint.motor)
        self.host_id = host_id
        self.gear_ratio = joint.gear_ratio
        self.sign = float(joint.sign)
        self.offset_rad = joint.offset_rad
        self.enabled = False
        self.zero_motor_rad = 0.0
        self.command = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.torque_motor_nm = 0.0
        self.fault_code = 0
        self.frames_received = 0

    def motor_position(self, q_joint_rad: float) -> float:
        """Motor-side position (rad) reported for joint angle ``q_joint_rad``."""
        return self.sign * self.gear_ratio * (q_joint_rad - self.offset_rad) - self.zero_motor_rad

    def handle(self, data: bytes, q_joint_rad: float) -> None:
        """Act on one frame addressed to this drive (special frame or command)."""
        self.frames_received += 1
        if data == mit.ENTER_MOTOR_MODE:
            self.enabled = True
        elif data == mit.EXIT_MOTOR_MODE:
            self.enabled = False
            self.command = (0.0, 0.0, 0.0, 0.0, 0.0)
        elif data == mit.SET_ZERO:
            self.zero_motor_rad += self.motor_position(q_joint_rad)
        else:
            self.command = mit.unpack_command(self.model, data)

    def joint_torque(self, q_joint_rad: float, qd_joint_rad_s: float) -> float:
        """Run the in-drive law at this joint state; return the torque on the joint (N·m)."""
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
        return Frame(arbitration_id=self.host_id, data=data, is_extended_id=False)


class EmulatedMitBank:
    """The emulated drives of a robot on one bus, each bound to an index of the simulator's joints.

    Per simulator step: :meth:`receive` decodes the frames the host sent, :meth:`joint_torques`
    runs every drive's law, and after physics :meth:`send_replies` answers each received frame.
    """

    def __init__(
        self, bus: can.BusABC, joints: list[JointConfig], sim_indices: list[int], host_id: int = 0
    ) -> None:
        """Emulate ``joints`` on ``bus``; joint ``i`` drives simulator joint ``sim_indices[i]``."""
        self.bus = bus
        self.drives = [EmulatedMitDrive(j, host_id) for j in joints]
        self.sim_indices = np.asarray(sim_indices, dtype=np.int64)
        self._by_id = {d.node_id: i for i, d in enumerate(self.drives)}
        self._pending = [0] * len(self.drives)
        self.ignored_frames = 0
        self.silenced: set[int] = set()

    def receive(self, q: FloatArray) -> None:
        """Drain the bus and let each addressed drive act on its frames (``q``: sim angles)."""
        while (msg := self.bus.recv(0.0)) is not None:
            index = self._by_id.get(msg.arbitration_id)
            if index is None or msg.is_extended_id or msg.is_remote_frame:
                self.ignored_frames += 1
                continue
            try:
                self.drives[index].handle(bytes(msg.data), float(q[self.sim_indices[index]]))
            except CommunicationError:
                self.ignored_frames += 1
                continue
            self._pending[index] += 1

    def joint_torques(self, q: FloatArray, qd: FloatArray, out: FloatArray) -> None:
        """Add every drive's joint torque (N·m) into ``out`` (indexed like the sim's joints)."""
        for drive, i in zip(self.drives, self.sim_indices.tolist(), strict=True):
            out[i] += drive.joint_torque(float(q[i]), float(qd[i]))

    def send_replies(self, q: FloatArray, qd: FloatArray) -> None:
        """Answer each frame received since the last call with the present state."""
        for index, count in enumerate(self._pending):
            if count == 0:
                continue
            self._pending[index] = 0
            if index in self.silenced:
                continue
            drive = self.drives[index]
            i = int(self.sim_indices[index])
            frame = drive.reply(float(q[i]), float(qd[i]))
            for _ in range(count):
                self.bus.send(frame)
