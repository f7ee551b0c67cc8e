"""The start-up checklist of a robot configuration: what must hold before the first frame is sent.

:func:`check_robot` works offline, from the configuration alone (no frame is sent):

* **bus budget**: per bus, the worst-case utilisation of one tick's cyclic traffic at the
  configured rate (:mod:`rehabbot.hal.budget`) within the allowed limit;
* **drive watchdog**: every drive's own command watchdog is longer than the host's command
  deadline (``loop.command_deadline_s``: the host faults on an old command before the drive gives
  up on the host) and no longer than the hazard analysis allows
  (:data:`~rehabbot.hal.config.MAX_WATCHDOG_S`), so that a dead host is safe in time;
* **torque limit**: the configured joint torque limit is within what the drive can produce through
  its transmission (peak motor torque × gear ratio);
* **model range**: for a simulated robot, the configured position limits lie inside the model's
  mechanical range, so the supervisor trips before the model's joint stop is hit;
* **motor table**: whether the drive's firmware parameters can be checked against the motor table
  (CiA 402: read and compared at configure time; MIT mode: the drive cannot report them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rehabbot.body.joints import joint_kind
from rehabbot.body.range_of_motion import MODEL_JOINT_RANGE_RAD
from rehabbot.hal.budget import DEFAULT_UTILISATION_LIMIT, BusLoad, bus_load, joint_traffic
from rehabbot.hal.config import MAX_WATCHDOG_S, RobotConfig
from rehabbot.hal.drives.registry import drive_class


class Status(Enum):
    """Outcome of one checklist item."""

    PASS = "pass"
    FAIL = "fail"
    INFO = "info"


@dataclass(frozen=True)
class CheckItem:
    """One line of the checklist: what was checked, its outcome, and why."""

    check: str
    subject: str
    status: Status
    detail: str


@dataclass(frozen=True)
class RobotCheck:
    """The budget of every bus and the checklist of a robot configuration."""

    loads: tuple[BusLoad, ...]
    items: tuple[CheckItem, ...]

    @property
    def failures(self) -> tuple[CheckItem, ...]:
        """The items that failed."""
        return tuple(item for item in self.items if item.status is Status.FAIL)


def check_robot(config: RobotConfig, limit: float = DEFAULT_UTILISATION_LIMIT) -> RobotCheck:
    """Run the start-up checklist of ``config`` offline; ``limit`` is the allowed bus share."""
    loads = tuple(
        bus_load(f"{bus.interface}:{bus.channel}", joint_traffic(config, joints),
                 config.loop.rate_hz, bus.bitrate, bus.data_bitrate, limit)
        for bus, joints in config.joints_by_bus()
    )
    items = [_budget_item(load) for load in loads]
    deadline_s = config.loop.command_deadline_s
    for joint in config.joints:
        watchdog_s = config.watchdog_s(joint)
        items.append(CheckItem(
            "drive watchdog", joint.name,
            Status.PASS if deadline_s < watchdog_s <= MAX_WATCHDOG_S else Status.FAIL,
            f"{watchdog_s * 1e3:g} ms; must be above the command deadline "
            f"({deadline_s * 1e3:g} ms) and at most {MAX_WATCHDOG_S * 1e3:g} ms (docs/safety.md)"
            + ("; set it as the drive's CAN timeout with the vendor's tool"
               if joint.drive == "mit" else ""),
        ))
        cls = drive_class(joint.drive)
        drive = cls.from_config(joint, config)
        available_nm = drive.peak_torque_nm * joint.gear_ratio
        items.append(CheckItem(
            "torque limit", joint.name,
            Status.PASS if joint.torque_max_nm <= available_nm else Status.FAIL,
            f"{joint.torque_max_nm:g} N·m configured, the drive gives up to {available_nm:g} N·m "
            f"({joint.motor}: {drive.peak_torque_nm:g} N·m × gear {joint.gear_ratio:g})",
        ))
        items.append(_model_item(config, joint.name, joint.position_min_rad,
                                 joint.position_max_rad))
        items.append(CheckItem(
            "motor table", joint.name, Status.INFO,
            "read from the drive and compared at configure time"
            if cls.protocol == "cia402" else
            f"{cls.protocol} drives do not report their model: check that the actuator's label "
            f"says {joint.motor}",
        ))
    return RobotCheck(loads, tuple(items))


def _budget_item(load: BusLoad) -> CheckItem:
    detail = (f"{load.utilisation:.0%} of the bus at {load.rate_hz:g} Hz "
              f"(limit {load.limit:.0%}); highest feasible rate {load.max_rate_hz:.0f} Hz")
    return CheckItem("bus budget", load.bus, Status.PASS if load.feasible else Status.FAIL,
                     detail)


def _model_item(config: RobotConfig, name: str, low_rad: float, high_rad: float) -> CheckItem:
    model = MODEL_JOINT_RANGE_RAD.get(joint_kind(name))
    if not config.simulated or model is None:
        return CheckItem("model range", name, Status.INFO,
                         "no model to compare with (real robot): check the mechanical stops")
    inside = model[0] <= low_rad and high_rad <= model[1]
    return CheckItem(
        "model range", name, Status.PASS if inside else Status.FAIL,
        f"limits [{low_rad:g}, {high_rad:g}] rad, "
        f"model's range [{model[0]:.4f}, {model[1]:.4f}] rad",
    )
