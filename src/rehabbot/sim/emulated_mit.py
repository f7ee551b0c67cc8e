"""Emulated MIT-mode drives: what a T-Motor/CubeMars actuator does, bound to a simulated joint.

Each emulated drive takes the frames addressed to its id, decodes them exactly as the drive's
firmware does (including the quantization of every field), runs the in-drive impedance law
``tau = kp*(p_ref - p) + kd*(v_ref - v) + t_ff`` clamped to the model's torque range on the motor
side of the joint's transmission, and answers every frame with the quantized reply a real drive
sends.

Encoder: the drive measures the joint as a real one does, through a 14-bit single-turn magnetic
encoder on the rotor (:data:`ENCODER_COUNTS_PER_REV`, the AS5047/AS5147 class of the MIT Mini
Cheetah actuator and the CubeMars AK series) before the model's internal reduction
(:attr:`~rehabbot.hal.drives.mit.MitMotorModel.gear_ratio`): the position the drive's law uses is
a whole number of counts, ``2π / (16384 · reduction)`` at the output (43 µrad for an AK80-9),
finer than the reply's 16-bit position field (``2 · p_max / 65535``, 381 µrad for an AK80-9),
which the codec quantizes again. The velocity the drive measures carries the noise of a velocity
taken from two encoder readings one control period ``T`` apart: Gaussian, standard deviation
``step / (√6 · T)`` (the difference of two uniform quantization errors; 17.4 mrad/s ≈ 1.0 °/s
at an AK80-9's output at 1 kHz, below the reply's 12-bit velocity step of 24.4 mrad/s), drawn
from a generator seeded by the simulation's seed and the joints
(:class:`~rehabbot.sim.drive_bank.DriveBank`), so that a lockstep session stays deterministic.

Command watchdog: an enabled drive that gets no frame for the joint's watchdog time
(:meth:`~rehabbot.hal.config.RobotConfig.watchdog_s`) turns its torque off and replies with error
code :data:`~rehabbot.hal.drives.mit.WATCHDOG_ERROR_CODE` until it is enabled again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import can

from rehabbot.errors import CommunicationError
from rehabbot.hal.bus import Frame
from rehabbot.hal.config import JointConfig, RobotConfig, whole_periods
from rehabbot.hal.drives import mit
from rehabbot.sim.drive_bank import DriveBank, velocity_noise_rad_s

#: Temperature reported by an emulated drive (°C); a thermal model comes with the safety layer.
AMBIENT_TEMPERATURE_C = 30.0
#: Counts per rotor revolution of the drive's position encoder (14 bits).
ENCODER_COUNTS_PER_REV = 1 << 14


class EmulatedMitDrive:
    """One MIT-mode drive driving one simulated joint through the joint's transmission.

    >>> from rehabbot.hal.config import JointConfig
    >>> cfg = JointConfig(name="knee_angle_r", motor="AK80-9", node_id=2, position_min_rad=0,
    ...                   position_max_rad=1.5, velocity_max_rad_s=5, torque_max_nm=10)
    >>> drive = EmulatedMitDrive(cfg)
    >>> drive.enabled
    False
    """

    def __init__(self, joint: JointConfig, host_id: int = 0, watchdog_steps: int = 3,
                 period_s: float = 0.001) -> None:
        """Emulate the drive of ``joint`` (its motor model, node id and transmission).

        Args:
            joint: the joint's configuration.
            host_id: the CAN id replies go to.
            watchdog_steps: control periods without a frame after which an enabled drive faults.
            period_s: the control period (s), over which the drive's velocity is measured.
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
        #: One encoder count at the drive's output (rad).
        self.encoder_step_rad = 2 * math.pi / (ENCODER_COUNTS_PER_REV * self.model.gear_ratio)
        #: Standard deviation of the measured velocity at the drive's output (rad/s).
        self.velocity_noise_rad_s = velocity_noise_rad_s(self.encoder_step_rad, period_s)
        #: What the drive measures now: position (rad, before zeroing) and velocity (rad/s).
        self.encoder_rad = 0.0
        self.velocity_rad_s = 0.0

    def observe(self, q_joint_rad: float, qd_joint_rad_s: float, noise: float) -> None:
        """Measure the joint at angle ``q_joint_rad`` (rad) and velocity ``qd_joint_rad_s``
        (rad/s) through the encoder; ``noise`` is a standard normal draw for the velocity."""
        counts = round(self.sign * self.gear_ratio * (q_joint_rad - self.offset_rad)
                       / self.encoder_step_rad)
        self.encoder_rad = counts * self.encoder_step_rad
        self.velocity_rad_s = (self.sign * self.gear_ratio * qd_joint_rad_s
                               + noise * self.velocity_noise_rad_s)

    @property
    def position_rad(self) -> float:
        """The measured position at the drive's output after zeroing (rad)."""
        return self.encoder_rad - self.zero_motor_rad

    def handle(self, data: bytes) -> None:
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
            self.zero_motor_rad = self.encoder_rad
        else:
            self.command = mit.unpack_command(self.model, data)

    def fault(self, code: int) -> None:
        """Fault with ``code``: torque off until the next enter-motor-mode frame."""
        self.enabled = False
        self.fault_code = code

    def joint_torque(self) -> float:
        """Run one period of the drive at the measured state; return the torque on the joint
        (N·m).

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
        tau = kp * (p_ref - self.position_rad) + kd * (v_ref - self.velocity_rad_s) + t_ff
        limit = self.model.t_max_nm
        self.torque_motor_nm = min(max(tau, -limit), limit)
        return self.sign * self.gear_ratio * self.torque_motor_nm

    def reply(self) -> can.Message:
        """The reply frame for the measured state."""
        data = mit.pack_reply(
            self.model,
            self.node_id,
            self.position_rad,
            self.velocity_rad_s,
            self.torque_motor_nm,
            AMBIENT_TEMPERATURE_C,
            self.fault_code,
        )
        return Frame.standard(self.host_id, data)


class EmulatedMitBank(DriveBank[EmulatedMitDrive]):
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
        *,
        seed: int = 0,
    ) -> None:
        """Emulate ``joints`` of ``robot`` on ``bus``; joint ``i`` drives the sim's joint
        ``sim_indices[i]``; ``seed`` seeds the encoders' noise."""
        self.bus = bus
        self.drives = [
            EmulatedMitDrive(
                j, robot.bus_of(j).host_id, whole_periods(robot.watchdog_s(j), robot.period_s),
                robot.period_s)
            for j in joints
        ]
        super().__init__(sim_indices, seed)
        self._by_id = {d.node_id: i for i, d in enumerate(self.drives)}
        self._pending = [0] * len(self.drives)
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
            self.drives[index].handle(bytes(msg.data))
        except CommunicationError:
            self.ignored_frames += 1
            return True
        self._pending[index] += 1
        return True

    def publish(self) -> None:
        """Answer each frame received since the last call with the observed state."""
        for index, count in enumerate(self._pending):
            if count == 0:
                continue
            self._pending[index] = 0
            if index in self.silenced:
                continue
            frame = self.drives[index].reply()
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
