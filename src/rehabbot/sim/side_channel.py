"""The emulated robot's side channel: what a simulation knows and a real robot does not.

``rehabbot sim serve ROBOT`` serves, next to the robot's CAN buses, one more local channel named
``<robot name>-sim`` (:func:`side_channel`) that carries no drive traffic:

* from the emulator, after every simulation step, the **foot contacts** of the simulated person
  (ground truth, frame id :data:`CONTACTS_ID`, data ``<IBB``: step count, right, left). A session
  stores them as the recording's contact columns, marked ``simulation truth`` in its parameters;
* from the emulator, after every simulation step with physics, the simulated patient's **muscle
  torques** at the robot's joints (ground truth,
  :meth:`~rehabbot.sim.simulator.SimulatedExoskeleton.muscle_torques`): one frame per joint,
  id :data:`MUSCLE_TORQUE_ID` + the joint's index in the robot configuration, data ``<If``:
  step count, torque (N·m, float32). A session stores them per tick as simulation truth
  (:mod:`rehabbot.storage.truth`); the patient's work share is computed from them;
* to the emulator, the **treadmill speed** (:data:`BELT_ID`, ``<d`` m/s) and **body-weight
  support** (:data:`SUPPORT_ID`, ``<d`` unloaded share 0..1) the protocol asks for: the emulated
  robot's treadmill interface (:class:`~rehabbot.protocols.phased.Treadmill`);
* to the emulator, what a robot assessment asks the simulated person to do (:data:`TASK_ID`,
  data ``<BBB``: walk 0 / relax 1 / push 2, joint index in the robot configuration's order,
  extension 0 / flexion 1), which a real patient hears from the therapist
  (:class:`~rehabbot.sim.instructed_patient.InstructedPatient`).

The channel uses the same local transport as the buses (:mod:`rehabbot.hal.transport`): its
datagrams are CAN frames, so no second wire format exists. This module imports no physics.
"""

from __future__ import annotations

import contextlib
import struct

import can
import numpy as np

from rehabbot.body.joints import Direction
from rehabbot.hal.bus import Frame
from rehabbot.hal.types import FloatArray
from rehabbot.sim.patient import RELAX, PatientTask

#: Foot contacts after a simulation step (emulator → host).
CONTACTS_ID = 0x001
#: Treadmill belt speed, m/s (host → emulator).
BELT_ID = 0x010
#: Body-weight support, unloaded share of the body weight 0..1 (host → emulator).
SUPPORT_ID = 0x011
#: What the simulated person is asked to do (host → emulator).
TASK_ID = 0x020
#: The muscle torque of the robot's first joint after a simulation step (emulator → host); joint
#: ``i`` (the robot configuration's order) uses ``MUSCLE_TORQUE_ID + i``.
MUSCLE_TORQUE_ID = 0x100
#: Most joints whose muscle torques the channel carries.
MAX_TRUTH_JOINTS = 0x40
#: What a session's parameters say about its contact columns when they come from here.
CONTACT_SOURCE = "simulation truth (emulated robot's side channel)"

_CONTACTS = struct.Struct("<IBB")
_TORQUE = struct.Struct("<If")
_VALUE = struct.Struct("<d")
_TASK = struct.Struct("<BBB")
_WALK, _RELAX, _PUSH = 0, 1, 2
_DIRECTIONS: tuple[Direction, Direction] = ("extension", "flexion")


def side_channel(robot_name: str) -> str:
    """The side channel's name for the robot configuration named ``robot_name``."""
    return f"{robot_name}-sim"


def contacts_frame(step: int, right: bool, left: bool) -> Frame:
    """The frame that reports the foot contacts after simulation step ``step``."""
    return Frame(arbitration_id=CONTACTS_ID, is_extended_id=False,
                 data=_CONTACTS.pack(step & 0xFFFFFFFF, right, left))


def muscle_torque_frames(step: int, torques_nm: FloatArray) -> list[Frame]:
    """The frames that report the muscle torques (N·m, one per robot joint) of simulation step
    ``step``.

    >>> frames = muscle_torque_frames(7, np.array([1.5, -2.0]))
    >>> [hex(f.arbitration_id) for f in frames], _TORQUE.unpack(bytes(frames[1].data))
    (['0x100', '0x101'], (7, -2.0))
    """
    if len(torques_nm) > MAX_TRUTH_JOINTS:
        raise ValueError(f"the side channel carries the muscle torques of at most "
                         f"{MAX_TRUTH_JOINTS} joints, not {len(torques_nm)}")
    step &= 0xFFFFFFFF
    return [Frame(arbitration_id=MUSCLE_TORQUE_ID + i, is_extended_id=False,
                  data=_TORQUE.pack(step, float(tau))) for i, tau in enumerate(torques_nm)]


def value_frame(frame_id: int, value: float) -> Frame:
    """A set-point frame (:data:`BELT_ID` or :data:`SUPPORT_ID`) carrying ``value``."""
    return Frame(arbitration_id=frame_id, is_extended_id=False, data=_VALUE.pack(value))


def read_value(msg: can.Message) -> float:
    """The value of a set-point frame."""
    return float(_VALUE.unpack(bytes(msg.data))[0])


def task_frame(task: PatientTask | None, joint_names: tuple[str, ...]) -> Frame:
    """The frame that asks the simulated person to do ``task`` (``None``: walk); the task's
    joint is one of ``joint_names`` (the robot's joints, in order).

    >>> read_task(task_frame(PatientTask("knee_angle_l", "extension"), ("knee_angle_l",)),
    ...           ("knee_angle_l",))
    PatientTask(joint='knee_angle_l', direction='extension')
    """
    if task is None:
        data = _TASK.pack(_WALK, 0, 0)
    elif task.joint is None:
        data = _TASK.pack(_RELAX, 0, 0)
    else:
        data = _TASK.pack(_PUSH, joint_names.index(task.joint),
                          _DIRECTIONS.index(task.direction))
    return Frame(arbitration_id=TASK_ID, is_extended_id=False, data=data)


def read_task(msg: can.Message | Frame, joint_names: tuple[str, ...]) -> PatientTask | None:
    """The task a :data:`TASK_ID` frame asks for (``None``: walk)."""
    kind, joint, direction = _TASK.unpack(bytes(msg.data))
    if kind == _WALK:
        return None
    if kind == _RELAX:
        return RELAX
    return PatientTask(joint_names[joint], _DIRECTIONS[direction])


class SimulationTruth:
    """The host's end of the side channel: the latest foot contacts and muscle torques, and the
    treadmill.

    Calling it returns the (right, left) contacts of the newest report (both feet down before the
    first): the loop's ``contacts`` source; :meth:`muscle_torques` the newest muscle torques. Both
    drain what arrived without blocking.
    """

    def __init__(self, bus: can.BusABC, joint_names: tuple[str, ...] = ()) -> None:
        """Use ``bus``, a client on the side channel, for a robot with ``joint_names``."""
        self.bus = bus
        self.joint_names = joint_names
        self.contacts: tuple[bool, bool] = (True, True)
        #: The emulator's step count of the newest report (-1: none yet).
        self.step = -1
        self._muscle_torques: FloatArray = np.zeros(len(joint_names))

    def _drain(self) -> None:
        """Take every report that arrived, without blocking."""
        torques, n = self._muscle_torques, len(self.joint_names)
        while (msg := self.bus.recv(0.0)) is not None:
            joint = msg.arbitration_id - MUSCLE_TORQUE_ID
            if 0 <= joint < n and len(msg.data) == _TORQUE.size:
                torques[joint] = _TORQUE.unpack(bytes(msg.data))[1]
            elif msg.arbitration_id == CONTACTS_ID and len(msg.data) == _CONTACTS.size:
                step, right, left = _CONTACTS.unpack(bytes(msg.data))
                self.step, self.contacts = step, (bool(right), bool(left))

    def __call__(self) -> tuple[bool, bool]:
        """The newest foot contacts (right, left)."""
        self._drain()
        return self.contacts

    def muscle_torques(self) -> FloatArray:
        """The newest muscle torques of the simulated patient (N·m, the robot's joints in
        order; zeros before the first report). The array is updated in place."""
        self._drain()
        return self._muscle_torques

    def set_belt_speed(self, speed_mps: float) -> None:
        """Ask the emulated treadmill for ``speed_mps`` (m/s)."""
        self._send(value_frame(BELT_ID, speed_mps))

    def set_body_weight_support(self, fraction: float) -> None:
        """Ask the emulated harness for ``fraction`` (0..1) of body-weight support."""
        self._send(value_frame(SUPPORT_ID, fraction))

    def instruct(self, task: PatientTask | None) -> None:
        """Ask the simulated person to do ``task`` (``None``: walk)."""
        self._send(task_frame(task, self.joint_names))

    def _send(self, frame: Frame) -> None:
        # the emulator went away: the drives' feedback goes stale and the loop stops
        with contextlib.suppress(can.CanError):
            self.bus.send(frame, timeout=0.0)

    def close(self) -> None:
        """Close the channel."""
        self.bus.shutdown()
