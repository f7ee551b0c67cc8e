"""Bringing a plant up before a session, in order, each step with one clear refusal.

1. **Bus budget** (robots on real or cross-process buses): every bus carries one tick's cyclic
   traffic within the allowed share (:func:`~rehabbot.hal.startup_check.check_robot`), else
   :class:`~rehabbot.errors.ConfigurationError` naming the bus, before any frame is sent.
2. **Configure**: the buses open and every drive's configure-time setup runs (CiA 402: boot-up,
   NMT and SDO configuration; MIT: none); a drive that does not answer is named.
3. **Every drive answers** (right before the loop starts, see :func:`enable`): the drives are
   enabled with a zero-torque command (MIT: the reply to
   enter-motor-mode; CiA 402: the 402 state machine to operation enabled and its first TPDOs);
   the joints that stay silent are named (:class:`~rehabbot.errors.CommunicationError`).
4. **Start pose**: the joints' positions and velocities are finite, the positions inside the
   robot's hard limits and inside the patient's range of motion of the first walking phase,
   before any torque is asked; otherwise the drives are disabled again and the first offending
   joint is named with its angle and the bounds (:class:`~rehabbot.errors.SafetyError`).
5. **Treadmill and body-weight support** (before the drives are enabled, see :func:`prepare`):
   a robot with a treadmill interface gets the first
   phase's values; a robot without one asks the operator to set them by hand and confirm
   (``confirm``); a refusal ends the bring-up.

The torque is then ramped in by the session's controller (a fade-in from no torque over
:data:`~rehabbot.protocols.phased.CROSSFADE_S`), and every end of a session fades it out and
disables the drives (:meth:`~rehabbot.hal.robot.Robot.close`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from rehabbot.errors import ConfigurationError, SafetyError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.startup_check import check_robot
from rehabbot.hal.types import JointState
from rehabbot.session.plant import Plant

#: How long the drives have to answer after being enabled (s).
ACTIVATION_TIMEOUT_S = 1.0
#: Asks the operator a yes/no question; True means confirmed.
Confirm = Callable[[str], bool]


def check_budget(config: RobotConfig) -> None:
    """Refuse a robot whose cyclic traffic does not fit one of its buses.

    Raises:
        ConfigurationError: names the bus, its utilisation, the limit and the fix.
    """
    for load in check_robot(config).loads:
        if not load.feasible:
            raise ConfigurationError(
                f"robot {config.name!r}: bus {load.bus} would carry {load.utilisation:.0%} of its "
                f"capacity at {load.rate_hz:g} Hz (limit {load.limit:.0%}; highest feasible rate "
                f"{load.max_rate_hz:.0f} Hz): put fewer drives on it (e.g. one bus per leg) or "
                "lower loop.rate_hz; see `rehabbot can check`")


def check_start_pose(
    state: JointState, config: RobotConfig, rom_rad: Mapping[str, tuple[float, float]]
) -> None:
    """Refuse a start pose that is implausible (no finite position or velocity) or outside the
    hard limits or the patient's range of motion ``rom_rad`` (joint → (low, high) rad; joints
    not named: no patient bound).

    Raises:
        SafetyError: names the first offending joint, its angle and the bounds (degrees).
    """
    for i, joint in enumerate(config.joints):
        q, qd = float(state.q[i]), float(state.qd[i])
        if not (math.isfinite(q) and math.isfinite(qd)):
            raise SafetyError(f"joint {joint.name}: the drive reports no valid position "
                              f"({q}, {qd} rad/s); check its encoder and offset")
        bounds = [("hard limits", joint.position_min_rad, joint.position_max_rad)]
        if joint.name in rom_rad:
            bounds.append(("the patient's range of motion", *rom_rad[joint.name]))
        for what, low, high in bounds:
            if not low <= q <= high:
                raise SafetyError(
                    f"joint {joint.name} is at {math.degrees(q):.1f} deg, outside {what} "
                    f"[{math.degrees(low):.1f}, {math.degrees(high):.1f}] deg: move the leg "
                    "inside by hand (or check the zero: `rehabbot robot zero`) and start again")


def prepare(
    plant: Plant, treadmill_speed_mps: float, body_weight_support: float, confirm: Confirm
) -> None:
    """Steps 1, 2 and 5: budget, configure, treadmill (set through its interface, or by hand and
    confirmed). Nothing is enabled yet, so the operator may take their time. On a refusal the
    robot is left closed.

    Args:
        plant: the plant, its robot unconfigured.
        treadmill_speed_mps: the first phase's treadmill speed (m/s).
        body_weight_support: the first phase's body-weight support (unloaded share, 0..1).
        confirm: asks the operator, for a robot without a treadmill interface.

    Raises:
        ConfigurationError: a bus is over its budget, or a drive does not match the
            configuration.
        CommunicationError: a drive does not answer its configuration.
        SafetyError: the operator did not confirm the treadmill.
    """
    robot, config = plant.robot, plant.robot.config
    try:
        if plant.bus_limited:
            check_budget(config)
        with plant.serving():  # the drives answer configure-time requests (CANopen SDO)
            robot.configure()
        if plant.treadmill is not None:
            plant.treadmill.set_belt_speed(treadmill_speed_mps)
            plant.treadmill.set_body_weight_support(body_weight_support)
        elif not confirm(
            f"robot {config.name!r} has no treadmill interface: set the treadmill to "
            f"{treadmill_speed_mps * 3.6:g} km/h and the body-weight support to "
            f"{body_weight_support * 100:g} % by hand. Done?"
        ):
            raise SafetyError("the operator did not confirm the treadmill speed and body-weight "
                              "support; nothing was started")
    except BaseException:
        robot.close()
        raise


def enable(plant: Plant, rom_rad: Mapping[str, tuple[float, float]]) -> JointState:
    """Steps 3 and 4, right before the loop's first tick (the drives' watchdogs run from here):
    every drive enabled at zero torque and answering, and the start pose checked. On a refusal
    the drives are disabled and the robot closed.

    Args:
        plant: the plant, its robot configured.
        rom_rad: the patient's range of motion (rad) of the first walking phase, per joint.

    Raises:
        CommunicationError: a drive does not answer.
        SafetyError: the start pose is refused.
    """
    robot = plant.robot
    try:
        robot.activate(plant.clock.wait_next_tick, ACTIVATION_TIMEOUT_S)
        state = robot.read()
        check_start_pose(state, robot.config, rom_rad)
    except BaseException:
        robot.close()
        raise
    return state
