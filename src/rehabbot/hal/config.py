"""Robot configurations: TOML files validated by pydantic (DESIGN.md, "Configuration is data").

A configuration names the robot's CAN buses (as python-can names interface, channel and bitrate),
the control rate, and per joint: the drive protocol, motor model, bus and node id, the external
transmission (``gear_ratio``, ``sign``, ``offset_rad``) and the hard limits. The joint order of
the file is the joint order of every state and command array.

Buses, two spellings: one ``[bus]`` table for a robot on one bus (its name is ``"main"`` unless
it gives one), or ``[[buses]]`` entries, each with a unique ``name``, for a robot whose joints sit
on several buses (e.g. one per leg); each joint then names its bus (``bus = "left"``). Either
way code sees :attr:`RobotConfig.buses` and :meth:`RobotConfig.joints_by_bus`. Node ids are unique
per bus, not across buses. A bus is classic CAN unless it gives a ``data_bitrate`` (CAN FD).

Transmission, joint side ``q`` to motor side ``q_m``:
``q_m = sign * gear_ratio * (q - offset_rad)``; torques scale by ``gear_ratio``, gains by its
square.

Deadlines where the hazard is (DESIGN.md; docs/realtime.md): ``loop.command_deadline_s`` is the
oldest command the host lets a drive execute: the loop measures the age of the command the drives
execute, in their own time, and faults beyond it (default :data:`DEFAULT_COMMAND_DEADLINE_S`,
20 ms: twenty 1 kHz periods, so that ordinary operating-system hiccups of a few milliseconds are
statistics, not stops). Each joint's ``watchdog_s`` is the drive's own command watchdog: a drive
that gets no command for that long turns its torque off and reports a fault, which keeps a dead
host safe. By default it is twice the command deadline, at most :data:`MAX_WATCHDOG_S` (the
longest the hazard analysis in docs/safety.md allows); ``rehabbot can check`` refuses a
deadline that is not shorter than a watchdog (the host must react first) and a watchdog above the
maximum. Drive-side options besides: ``mode`` picks the protocol's control mode (MIT:
``impedance``; CiA 402: ``cst`` cyclic synchronous torque, the default, or ``csp`` cyclic
synchronous position), and for CiA 402 ``abort_connection`` the abort-connection option code
0x6007 its watchdog triggers (1 fault, 2 disable voltage, 3 quick stop; 0, no reaction, is
refused).

Protocols may share a bus; MIT drives then reply on the bus's ``host_id``, which must not be 0
(the CANopen NMT id) when CiA 402 drives listen on that bus.

A bus whose interface is ``virtual`` has no real drives on it: rehabbot runs the simulator's
emulated drives there. A robot is simulated (every bus virtual) or real (none): never both.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

from rehabbot.configfile import bundled_file, load_toml_model, resolve_named_file

JOINT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
BUS_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

#: The name of the bus of a robot that gives one ``[bus]`` table without a name.
DEFAULT_BUS_NAME = "main"

#: CANopen's NMT id: MIT drives must not reply there on a bus shared with CiA 402 drives.
CANOPEN_NMT_ID = 0x000

#: A drive watchdog or command deadline shorter than this many control periods would trip on
#: one late tick.
MIN_WATCHDOG_PERIODS = 2
#: The default command deadline (s): see the module docstring and docs/realtime.md.
DEFAULT_COMMAND_DEADLINE_S = 0.020
#: The longest drive watchdog the hazard analysis allows (s; docs/safety.md, hazard 11).
MAX_WATCHDOG_S = 0.050


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusConfig(_Strict):
    """One CAN bus, named as python-can names it."""

    name: str = Field(
        DEFAULT_BUS_NAME, pattern=BUS_NAME_PATTERN,
        description="the bus's name in the robot, e.g. left; joints name it in their `bus`",
    )
    interface: str = Field(description="python-can interface, e.g. socketcan, pcan, virtual")
    channel: str = Field(description="python-can channel, e.g. can0")
    bitrate: int = Field(
        1_000_000, ge=10_000, le=8_000_000, description="bit/s (CAN FD: the nominal bitrate)")
    data_bitrate: int | None = Field(
        None, ge=10_000, le=8_000_000,
        description="CAN FD data-phase bitrate (bit/s), above bitrate; none: classic CAN",
    )
    host_id: int = Field(0, ge=0, le=0x7FF, description="CAN id the drives reply to")

    @model_validator(mode="after")
    def _usable(self) -> BusConfig:
        if self.interface == "udp_multicast":
            raise ValueError("interface 'udp_multicast' sends to the network; use 'virtual'")
        if self.data_bitrate is not None and self.data_bitrate <= self.bitrate:
            raise ValueError(
                f"data_bitrate ({self.data_bitrate}) must be above bitrate ({self.bitrate}): it "
                "is CAN FD's faster data phase"
            )
        return self

    @property
    def virtual(self) -> bool:
        """True for python-can's in-process ``virtual`` interface (the simulator's)."""
        return self.interface == "virtual"


class JointConfig(_Strict):
    """One actuated joint: its drive, transmission and hard limits (SI units, joint side)."""

    name: str = Field(pattern=JOINT_NAME_PATTERN, description="OpenSim name, e.g. knee_angle_r")
    drive: str = Field("mit", description="drive protocol (see rehabbot.hal.drives.registry)")
    motor: str = Field(description="motor model, e.g. AK10-9")
    bus: str | None = Field(
        None, description="the name of the bus the drive is on; required with several buses")
    node_id: int = Field(ge=1, le=127, description="drive's CAN node id, unique on its bus")
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
        description="drive-side command watchdog (s); default: twice loop.command_deadline_s, "
        "at most 50 ms",
    )
    abort_connection: Literal[1, 2, 3] = Field(
        1, description="CiA 402: abort-connection option code 0x6007 on a watchdog timeout "
        "(1 fault, 2 disable voltage, 3 quick stop)",
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
    """The control loop's rate, the host's feedback watchdog and the command deadline."""

    rate_hz: float = Field(1000.0, ge=50.0, le=10_000.0, description="control rate (Hz)")
    stale_feedback_ticks: int = Field(
        3, ge=1, le=100, description="ticks without a reply before a joint's feedback is stale"
    )
    command_deadline_s: float = Field(
        DEFAULT_COMMAND_DEADLINE_S, gt=0.0, le=1.0,
        description="oldest command a drive may execute, in the drives' own time (s)",
    )


def _single_bus_location(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """An error location in the normalised ``buses`` as the ``[bus]`` spelling names it."""
    return ("bus", *loc[2:]) if loc[:2] == ("buses", 0) else loc


class RobotConfig(_Strict):
    """A whole robot: its buses, loop and joints in array order.

    A file's single ``[bus]`` table arrives here as the one entry of :attr:`buses`.
    """

    name: str
    description: str = ""
    buses: tuple[BusConfig, ...] = Field((), description="the robot's CAN buses ([[buses]])")
    loop: LoopConfig = LoopConfig()
    joints: list[JointConfig] = Field(min_length=1)

    @model_validator(mode="wrap")
    @classmethod
    def _one_bus_spelling(
        cls, data: Any, handler: ModelWrapValidatorHandler[RobotConfig]
    ) -> RobotConfig:
        """Take a ``[bus]`` table as the only entry of ``buses``; errors keep naming ``bus``."""
        if not isinstance(data, dict) or "bus" not in data:
            return handler(data)
        if "buses" in data:
            raise ValueError("give one [bus] table or [[buses]] entries, not both")
        normalised = {key: value for key, value in data.items() if key != "bus"}
        try:
            return handler(normalised | {"buses": [data["bus"]]})
        except ValidationError as exc:
            raise ValidationError.from_exception_data(exc.title, [
                InitErrorDetails(type=e["type"], loc=_single_bus_location(e["loc"]),
                                 input=e["input"], ctx=e.get("ctx", {}))
                for e in exc.errors()
            ]) from None

    @model_validator(mode="after")
    def _consistent(self) -> RobotConfig:
        self._check_buses()
        self._check_joints()
        return self

    def _check_buses(self) -> None:
        buses = self.buses
        if not buses:
            raise ValueError("the robot has no bus: give one [bus] table or [[buses]] entries")
        if len(buses) > 1:
            for i, bus in enumerate(buses):
                if "name" not in bus.model_fields_set:
                    raise ValueError(
                        f"buses.{i} has no name: each of several buses needs a unique name, "
                        'e.g. name = "left"'
                    )
        repeated = [name for name, n in Counter(b.name for b in buses).items() if n > 1]
        if repeated:
            raise ValueError(f"bus names must be unique, {repeated[0]!r} is given twice")
        wires = Counter((b.interface, b.channel) for b in buses)
        same = [f"{interface}:{channel}" for (interface, channel), n in wires.items() if n > 1]
        if same:
            raise ValueError(f"two buses name the same interface and channel {same[0]}")
        if len({b.virtual for b in buses}) > 1:
            kinds = ", ".join(f"{b.name} ({b.interface})" for b in buses)
            raise ValueError(
                f"buses {kinds} mix the simulator's 'virtual' buses with real ones: a robot is "
                "either simulated (every bus virtual) or real (none)"
            )

    def _check_joints(self) -> None:
        names = [j.name for j in self.joints]
        if len(set(names)) != len(names):
            raise ValueError(f"joint names must be unique, got {names}")
        known = {b.name for b in self.buses}
        for joint in self.joints:
            if joint.bus is None and len(self.buses) > 1:
                raise ValueError(
                    f"joint {joint.name!r} names no bus; with several buses each joint needs "
                    f"bus = one of {', '.join(sorted(known))}"
                )
            if joint.bus is not None and joint.bus not in known:
                raise ValueError(
                    f"joint {joint.name!r}: bus {joint.bus!r} is not one of the robot's buses "
                    f"({', '.join(sorted(known))})"
                )
        for bus, joints in self.joints_by_bus():
            if not joints:
                raise ValueError(f"bus {bus.name!r} has no joints: remove it or move joints to it")
            ids = [j.node_id for j in joints]
            if len(set(ids)) != len(ids):
                raise ValueError(f"node ids must be unique on one bus, got {ids} on {bus.name!r}")
            protocols = {j.drive for j in joints}
            if {"mit", "cia402"} <= protocols and bus.host_id == CANOPEN_NMT_ID:
                raise ValueError(
                    f"bus {bus.name!r}: host_id must not be 0 with MIT and CiA 402 drives on one "
                    "bus: MIT drives reply on the host id and 0 is the CANopen NMT id; use e.g. "
                    "0x7F0"
                )
        shortest = MIN_WATCHDOG_PERIODS * self.period_s
        if self.loop.command_deadline_s < shortest:
            raise ValueError(
                f"loop.command_deadline_s ({self.loop.command_deadline_s:g} s) must be at least "
                f"{MIN_WATCHDOG_PERIODS} control periods ({shortest:g} s)"
            )
        for joint in self.joints:
            if joint.watchdog_s is not None and joint.watchdog_s < shortest:
                raise ValueError(
                    f"joint {joint.name!r}: watchdog_s ({joint.watchdog_s:g} s) must be at least "
                    f"{MIN_WATCHDOG_PERIODS} control periods ({shortest:g} s)"
                )

    def bus_of(self, joint: JointConfig) -> BusConfig:
        """The bus ``joint``'s drive is on (the only bus when the joint names none).

        >>> cfg = load_robot_config("sim_exo")
        >>> [cfg.bus_of(j).name for j in cfg.joints]
        ['right', 'right', 'left', 'left']
        """
        if joint.bus is None:
            return self.buses[0]
        return next(b for b in self.buses if b.name == joint.bus)

    def joints_by_bus(self) -> tuple[tuple[BusConfig, tuple[JointConfig, ...]], ...]:
        """Each bus, in configuration order, with the joints on it, in array order.

        >>> cfg = load_robot_config("sim_exo")
        >>> [(bus.name, [j.name for j in joints]) for bus, joints in cfg.joints_by_bus()]
        [('right', ['hip_flexion_r', 'knee_angle_r']), ('left', ['hip_flexion_l', 'knee_angle_l'])]
        """
        return tuple(
            (bus, tuple(j for j in self.joints if self.bus_of(j) is bus)) for bus in self.buses
        )

    def watchdog_s(self, joint: JointConfig) -> float:
        """The drive-side command watchdog of ``joint`` (s): its own, else twice the command
        deadline, at most :data:`MAX_WATCHDOG_S` (and at least two periods), so that the host
        faults on an old command before the drive gives up on the host.

        >>> cfg = load_robot_config("sim_exo")
        >>> round(cfg.watchdog_s(cfg.joints[0]), 6)
        0.04
        """
        if joint.watchdog_s is not None:
            return joint.watchdog_s
        return max(MIN_WATCHDOG_PERIODS * self.period_s,
                   min(2.0 * self.loop.command_deadline_s, MAX_WATCHDOG_S))

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
        """True when every bus is python-can's in-process ``virtual`` bus (the simulator's)."""
        return all(b.virtual for b in self.buses)


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
