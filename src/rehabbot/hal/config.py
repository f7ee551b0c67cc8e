"""Robot configurations: TOML files validated by pydantic (DESIGN.md, "Configuration is data").

A configuration names the bus (as python-can names interface, channel and bitrate), the control
rate, and per joint: the drive protocol, motor model and node id, the external transmission
(``gear_ratio``, ``sign``, ``offset_rad``) and the hard limits. The joint order of the file is
the joint order of every state and command array.

Transmission, joint side ``q`` to motor side ``q_m``:
``q_m = sign * gear_ratio * (q - offset_rad)``; torques scale by ``gear_ratio``, gains by its
square.

Drive-side options: ``mode`` picks the protocol's control mode (MIT: ``impedance``; CiA 402:
``cst`` cyclic synchronous torque, the default, or ``csp`` cyclic synchronous position), and
``watchdog_s`` the drive's own command watchdog: a drive that gets no command for that long turns
its torque off and reports a fault. By default it is the host's stale-feedback time
(``loop.stale_feedback_ticks`` control periods, at least two), so a dead host is caught by the
drive before the host would notice a dead drive.

Protocols may share a bus; MIT drives then reply on ``bus.host_id``, which must not be 0 (the
CANopen NMT id) when CiA 402 drives listen.

A bus whose interface is ``virtual`` has no real drives on it: rehabbot runs the simulator's
emulated drives there.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rehabbot.configfile import bundled_file, load_toml_model, resolve_named_file

JOINT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

#: CANopen's NMT id: MIT drives must not reply there on a bus shared with CiA 402 drives.
CANOPEN_NMT_ID = 0x000

#: A drive watchdog shorter than this many control periods would trip on one late tick.
MIN_WATCHDOG_PERIODS = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusConfig(_Strict):
    """The CAN bus, named as python-can names it."""

    interface: str = Field(description="python-can interface, e.g. socketcan, pcan, virtual")
    channel: str = Field(description="python-can channel, e.g. can0")
    bitrate: int = Field(1_000_000, ge=10_000, le=8_000_000, description="bit/s")
    host_id: int = Field(0, ge=0, le=0x7FF, description="CAN id the drives reply to")

    @model_validator(mode="after")
    def _no_network_interfaces(self) -> BusConfig:
        if self.interface == "udp_multicast":
            raise ValueError("interface 'udp_multicast' sends to the network; use 'virtual'")
        return self


class JointConfig(_Strict):
    """One actuated joint: its drive, transmission and hard limits (SI units, joint side)."""

    name: str = Field(pattern=JOINT_NAME_PATTERN, description="OpenSim name, e.g. knee_angle_r")
    drive: str = Field("mit", description="drive protocol (see rehabbot.hal.drives.registry)")
    motor: str = Field(description="motor model, e.g. AK10-9")
    node_id: int = Field(ge=1, le=127, description="drive's CAN node id")
    gear_ratio: float = Field(1.0, gt=0.0, le=1000.0, description="motor turns per joint turn")
    sign: Literal[-1, 1] = 1
    offset_rad: float = Field(0.0, ge=-6.3, le=6.3, description="joint angle at motor zero (rad)")
    position_min_rad: float = Field(ge=-3.2, le=3.2)
    position_max_rad: float = Field(ge=-3.2, le=3.2)
    velocity_max_rad_s: float = Field(gt=0.0, le=100.0)
    torque_max_nm: float = Field(gt=0.0, le=1000.0)
    mode: str | None = Field(
        None, description="the drive protocol's control mode (default: the protocol's first)"
    )
    watchdog_s: float | None = Field(
        None, gt=0.0, le=1.0,
        description="drive-side command watchdog (s); default: the host's stale-feedback time",
    )

    @model_validator(mode="after")
    def _ordered_limits(self) -> JointConfig:
        if self.position_min_rad >= self.position_max_rad:
            raise ValueError(
                f"position_min_rad ({self.position_min_rad}) must be below "
                f"position_max_rad ({self.position_max_rad})"
            )
        return self


class LoopConfig(_Strict):
    """The control loop's rate and the host's feedback watchdog."""

    rate_hz: float = Field(1000.0, ge=50.0, le=10_000.0, description="control rate (Hz)")
    stale_feedback_ticks: int = Field(
        3, ge=1, le=100, description="ticks without a reply before a joint's feedback is stale"
    )


class RobotConfig(_Strict):
    """A whole robot: bus, loop and joints in array order."""

    name: str
    description: str = ""
    bus: BusConfig
    loop: LoopConfig = LoopConfig()
    joints: list[JointConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent_joints(self) -> RobotConfig:
        names = [j.name for j in self.joints]
        ids = [j.node_id for j in self.joints]
        if len(set(names)) != len(names):
            raise ValueError(f"joint names must be unique, got {names}")
        if len(set(ids)) != len(ids):
            raise ValueError(f"node ids must be unique on one bus, got {ids}")
        protocols = {j.drive for j in self.joints}
        if {"mit", "cia402"} <= protocols and self.bus.host_id == CANOPEN_NMT_ID:
            raise ValueError(
                "bus.host_id must not be 0 with MIT and CiA 402 drives on one bus: MIT drives "
                "reply on the host id and 0 is the CANopen NMT id; use e.g. 0x7F0"
            )
        shortest = MIN_WATCHDOG_PERIODS * self.period_s
        for joint in self.joints:
            if joint.watchdog_s is not None and joint.watchdog_s < shortest:
                raise ValueError(
                    f"joint {joint.name!r}: watchdog_s ({joint.watchdog_s:g} s) must be at least "
                    f"{MIN_WATCHDOG_PERIODS} control periods ({shortest:g} s)"
                )
        return self

    def watchdog_s(self, joint: JointConfig) -> float:
        """The drive-side command watchdog of ``joint`` (s): its own, else the host's
        stale-feedback time (``stale_feedback_ticks`` periods, at least two).

        >>> cfg = load_robot_config("sim_exo")
        >>> round(cfg.watchdog_s(cfg.joints[0]), 6)
        0.003
        """
        if joint.watchdog_s is not None:
            return joint.watchdog_s
        return max(MIN_WATCHDOG_PERIODS, self.loop.stale_feedback_ticks) * self.period_s

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names in array order."""
        return tuple(j.name for j in self.joints)

    @property
    def period_s(self) -> float:
        """Control period (s)."""
        return 1.0 / self.loop.rate_hz

    @property
    def simulated(self) -> bool:
        """True when the bus is python-can's in-process ``virtual`` bus (the simulator's)."""
        return self.bus.interface == "virtual"


def whole_periods(duration_s: float, period_s: float) -> int:
    """``duration_s`` in whole control periods of ``period_s``, rounded up, at least one.

    >>> whole_periods(0.003, 0.001), whole_periods(0.0025, 0.001), whole_periods(0.0, 0.001)
    (3, 3, 1)
    """
    return max(1, math.ceil(duration_s / period_s - 1e-9))


DEFAULT_ROBOT = "sim_exo"


def load_robot_config(name_or_path: str | Path = DEFAULT_ROBOT) -> RobotConfig:
    """Load a robot configuration from a file, or a bundled one by name (e.g. ``"sim_exo"``).

    Raises:
        ConfigurationError: the file is missing or invalid (one message: file, field, allowed).
    """
    path = resolve_named_file("robots", str(name_or_path))
    return load_toml_model(path, RobotConfig)


def bundled_robot_path(name: str = DEFAULT_ROBOT) -> Path:
    """Path of a bundled robot configuration."""
    return bundled_file("robots", f"{name}.toml")
