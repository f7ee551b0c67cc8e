"""Zeroing a robot's joints: offsets measured on the robot, stored per robot, audited.

``rehabbot robot zero ROBOT [JOINT]`` reads each joint's angle with the drives disabled (no
drive is enabled: no torque at all), the person out of the robot and each joint held at its
mechanical zero (upright, see docs/conventions.md), and stores the offset that makes that angle
read 0 rad. A disabled drive still tells its state when asked: an MIT drive answers its
exit-motor-mode frame with it, a CiA 402 drive sends its TPDOs on every SYNC whatever its power
state; the emulated robot's physics holds still while no drive is enabled, so there the reading
does not depend on how long it takes. The offsets live in
the store's audit log (action :data:`ZERO_ACTION`, detail ``robot``, ``joint``, ``offset_rad``,
``previous_rad``, ``reading_rad``): every change has who, when and what it was before, and the
newest entry of a robot's joint is its offset. Every session applies its robot's offsets over the
configuration's ``offset_rad`` (:func:`with_stored_offsets`) and records them in its parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from rehabbot.errors import CommunicationError, ConfigurationError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.robot import CanRobot
from rehabbot.hal.types import JointState
from rehabbot.runtime.clock import Clock
from rehabbot.session.bringup import ACTIVATION_TIMEOUT_S, check_budget
from rehabbot.session.plant import Plant
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore

#: The audit-log action of a stored zero offset.
ZERO_ACTION = "robot.zero"
#: Ticks averaged for one zero reading.
ZERO_TICKS = 50


def stored_offsets(store: SessionStore, robot_name: str) -> dict[str, float]:
    """The newest stored offset (rad) of each zeroed joint of robot ``robot_name``."""
    offsets: dict[str, float] = {}
    for entry in PatientRecords(store).audit_log():
        if entry.action == ZERO_ACTION and entry.detail.get("robot") == robot_name:
            offsets[str(entry.detail["joint"])] = float(entry.detail["offset_rad"])
    return offsets


def with_offsets(config: RobotConfig, offsets: Mapping[str, float]) -> RobotConfig:
    """``config`` with the joints named in ``offsets`` given those offsets (rad)."""
    joints = [joint.model_copy(update={"offset_rad": offsets[joint.name]})
              if joint.name in offsets else joint for joint in config.joints]
    return config.model_copy(update={"joints": joints})


def with_stored_offsets(
    store: SessionStore, config: RobotConfig
) -> tuple[RobotConfig, dict[str, float]]:
    """``config`` with its robot's stored offsets applied, and those offsets (rad)."""
    offsets = stored_offsets(store, config.name)
    return (with_offsets(config, offsets) if offsets else config), offsets


def read_angles(plant: Plant, ticks: int = ZERO_TICKS) -> np.ndarray:
    """Bring ``plant``'s robot up with every drive disabled (budget, configure, every drive
    answers), average ``ticks`` readings of the joint angles (rad), and close it.

    Each tick asks every drive for its state with its protocol's disable frames (see the
    module's docstring); no drive is enabled at any time.

    Raises:
        ConfigurationError: a bus is over its budget.
        CommunicationError: a drive does not answer within ``ACTIVATION_TIMEOUT_S``.
    """
    robot, clock = plant.robot, plant.clock
    try:
        if plant.bus_limited:
            check_budget(robot.config)
        with plant.serving():
            robot.configure()
        waited_s = 0.0
        while (state := _read_disabled(robot, clock)).age_ticks.any():
            waited_s += clock.period_s
            if waited_s >= ACTIVATION_TIMEOUT_S:
                missing = [name for name, age in zip(robot.joint_names, state.age_ticks,
                                                      strict=True) if age]
                raise CommunicationError(
                    f"no reply within {ACTIVATION_TIMEOUT_S:g} s from joint(s) "
                    f"{', '.join(missing)}; check power, wiring, bitrate and node ids")
        total = state.q.copy()
        for _ in range(ticks - 1):
            total += _read_disabled(robot, clock).q
        return total / ticks
    finally:
        plant.close()


def _read_disabled(robot: CanRobot, clock: Clock) -> JointState:
    """One tick of a configured robot whose drives stay disabled: ask every drive for its state
    (its disable frames, then each bus's syncs), wait a period, read the replies."""
    for link in robot.links_.values():
        for i in link.joints:
            link.send(robot.drives_[i].disable_frames())
        link.send(link.sync_frames)
    clock.wait_next_tick()
    return robot.read()


def zero_offsets(
    config: RobotConfig, angles_rad: np.ndarray, joints: Sequence[str]
) -> dict[str, float]:
    """The offsets (rad) that make ``joints`` read 0 at ``angles_rad`` (read with ``config``'s
    offsets).

    Raises:
        ConfigurationError: a joint is not one of the robot's.
    """
    unknown = [name for name in joints if name not in config.joint_names]
    if unknown:
        raise ConfigurationError(
            f"robot {config.name!r} has no joint {unknown[0]!r}; its joints: "
            f"{', '.join(config.joint_names)}")
    return {name: config.joints[config.joint_names.index(name)].offset_rad
            - float(angles_rad[config.joint_names.index(name)]) for name in joints}


def store_offsets(
    store: SessionStore, config: RobotConfig, offsets: Mapping[str, float],
    angles_rad: np.ndarray, operator: str,
) -> None:
    """Store ``offsets`` (rad) of ``config``'s robot in the audit log, one entry per joint."""
    records = PatientRecords(store)
    for name, offset in offsets.items():
        i = config.joint_names.index(name)
        previous = config.joints[i].offset_rad
        records.log(ZERO_ACTION, {
            "robot": config.name, "joint": name, "offset_rad": offset,
            "previous_rad": previous, "reading_rad": float(angles_rad[i]),
            "change_deg": math.degrees(offset - previous)}, operator=operator)
