"""Robot configuration files: the bundled one loads; bad files get one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.hal.budget import FrameLoad, bus_load
from rehabbot.hal.config import MAX_WATCHDOG_S, RobotConfig, bundled_robot_path, load_robot_config
from rehabbot.hal.drives.cia402 import Cia402Drive
from rehabbot.hal.drives.mit import MitDrive
from rehabbot.hal.drives.registry import available_drives, drive_class
from rehabbot.hal.startup_check import check_robot


def test_bundled_simulated_exoskeleton_loads() -> None:
    cfg = load_robot_config("sim_exo")
    assert cfg.simulated
    assert cfg.joint_names == ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
    assert cfg.period_s == pytest.approx(0.001)
    assert {j.sign for j in cfg.joints} == {-1, 1}  # mirrored mounting is exercised


#: A robot on one bus, written with the single ``[bus]`` table (every bundled robot has several).
ONE_BUS_EXO = Path(__file__).with_name("one_bus_exo.toml")


def write_variant(tmp_path: Path, old: str, new: str, robot: str | Path = "sim_exo") -> Path:
    """``robot`` (a bundled name or a file) with the first ``old`` replaced by ``new``."""
    path = robot if isinstance(robot, Path) else bundled_robot_path(robot)
    text = path.read_text()
    assert old in text
    path = tmp_path / "robot.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("node_id = 2", "node_id = 200",
         r"robot.toml: invalid field 'joints.1.node_id' = 200: .*less than or equal to 127"),
        ("node_id = 2", "node_id = 1", r"node ids must be unique"),
        ("position_min_rad = -0.05", "position_min_rad = 2.0",
         r"'joints.1'.*position_min_rad \(2.0\) must be below position_max_rad"),
        ("sign = -1", "sign = 2", r"'joints.1.sign' = 2: Input should be -1 or 1"),
        ('interface = "virtual"', 'interface = "udp_multicast"', r"sends to the network"),
        ("rate_hz = 1000", "rate_hz = 1000\nrate = 3",
         r"'loop.rate' = 3: Extra inputs are not permitted"),
        ('name = "sim-exo"', "name = ", r"robot.toml: not valid TOML"),
        ("torque_max_nm = 120.0", "torque_max_nm = 120.0\nwatchdog_s = 0.0015",
         r"joint 'hip_flexion_r': watchdog_s \(0.0015 s\) must be at least 2 control periods "
         r"\(0.002 s\)"),
        ("torque_max_nm = 120.0", "torque_max_nm = 120.0\nwatchdog_s = 2.0",
         r"'joints.0.watchdog_s' = 2.0: Input should be less than or equal to 1"),
        ("rate_hz = 1000", "rate_hz = 1000\ncommand_deadline_s = 0.0015",
         r"loop.command_deadline_s \(0.0015 s\) must be at least 2 control periods"),
        ("torque_max_nm = 120.0", "torque_max_nm = 120.0\nabort_connection = 0",
         r"'joints.0.abort_connection' = 0: Input should be 1, 2 or 3"),
    ],
)
def test_bad_files_get_one_message_naming_file_field_and_allowed_values(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        load_robot_config(write_variant(tmp_path, old, new))
    assert "\n" not in str(info.value)


def test_bundled_drive_variants_load_with_their_drive_options() -> None:
    cia402 = load_robot_config("sim_exo_cia402")
    assert {(j.drive, j.motor, j.mode) for j in cia402.joints} == {("cia402", "ELMO-G100", "cst")}
    mixed = load_robot_config("sim_exo_mixed")
    assert [j.drive for j in mixed.joints] == ["mit", "cia402", "mit", "cia402"]
    assert [bus.host_id for bus in mixed.buses] == [0x7F0, 0x7F0]
    sim_exo = load_robot_config("sim_exo")
    assert all(j.mode is None and j.watchdog_s is None for j in sim_exo.joints)
    # twice the 20 ms command deadline, within the hazard analysis's 50 ms
    assert sim_exo.loop.command_deadline_s == pytest.approx(0.02)
    assert sim_exo.watchdog_s(sim_exo.joints[0]) == pytest.approx(0.04)


def test_missing_file_and_unknown_name_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the file"):
        load_robot_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigurationError, match=r"or one of .*\bsim_exo\b"):
        load_robot_config("no_such_robot")


def test_drive_registry_finds_builtin_and_refuses_unknown() -> None:
    assert {"mit", "cia402"} <= set(available_drives())
    assert drive_class("mit") is MitDrive
    assert drive_class("cia402") is Cia402Drive
    with pytest.raises(ConfigurationError,
                       match="unknown drive protocol 'foo'; available: cia402, mit"):
        drive_class("foo")


# -- buses: one [bus] table or [[buses]] entries ------------------------------------------------


def test_a_single_bus_table_is_the_robots_only_bus_named_main() -> None:
    cfg = load_robot_config(ONE_BUS_EXO)
    (bus,) = cfg.buses
    assert (bus.name, bus.interface, bus.channel, bus.data_bitrate) == (
        "main", "virtual", "rehabbot-sim", None)
    assert [(b, [j.name for j in joints]) for b, joints in cfg.joints_by_bus()] == [
        (bus, list(cfg.joint_names))]
    assert {cfg.bus_of(j).name for j in cfg.joints} == {"main"}


def test_the_same_bus_as_one_buses_entry_is_the_same_robot(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "[bus]", "[[buses]]", robot=ONE_BUS_EXO)
    assert load_robot_config(path) == load_robot_config(ONE_BUS_EXO)


def test_a_robot_with_a_bus_per_leg_reuses_node_ids_on_each_bus() -> None:
    cfg = load_robot_config("sim_exo")
    assert cfg.simulated and [b.name for b in cfg.buses] == ["right", "left"]
    by_bus = {b.name: [(j.name, j.node_id) for j in joints] for b, joints in cfg.joints_by_bus()}
    assert by_bus == {"right": [("hip_flexion_r", 1), ("knee_angle_r", 2)],
                      "left": [("hip_flexion_l", 1), ("knee_angle_l", 2)]}
    one_bus = load_robot_config(ONE_BUS_EXO)
    assert cfg.joint_names == one_bus.joint_names
    twins = zip(cfg.joints, one_bus.joints, strict=True)
    assert all(a.model_copy(update={"bus": None, "node_id": b.node_id}) == b for a, b in twins)


@pytest.mark.parametrize("name", ["exo_mit_two_bus", "exo_cia402_two_bus"])
def test_the_real_two_bus_examples_put_one_leg_on_each_socketcan_bus(name: str) -> None:
    cfg = load_robot_config(name)
    assert not cfg.simulated
    assert [(b.name, b.interface, b.channel, b.bitrate) for b in cfg.buses] == [
        ("right", "socketcan", "can0", 1_000_000), ("left", "socketcan", "can1", 1_000_000)]
    assert [[j.name[-1] for j in joints] for _, joints in cfg.joints_by_bus()] == [
        ["r", "r"], ["l", "l"]]


def frames_per_tick(config: RobotConfig, joints: int) -> tuple[FrameLoad, ...]:
    """The cyclic frames of ``joints`` joints of ``config``'s protocol on one bus, per tick."""
    if config.joints[0].drive == "mit":
        return (FrameLoad("command", 8, joints), FrameLoad("reply", 8, joints))
    heartbeats_per_tick = joints * config.period_s / 0.1
    return (FrameLoad("RPDO1", 8, joints), FrameLoad("TPDO1", 8, joints),
            FrameLoad("TPDO2", 6, joints), FrameLoad("SYNC", 0),
            FrameLoad("heartbeat", 1, heartbeats_per_tick))


@pytest.mark.parametrize(("name", "one_bus_pct", "per_leg_pct"), [
    ("exo_mit_two_bus", 108.0, 54.0),  # 2 frames x 135 bits per joint and tick, at 1 kHz
    ("exo_cia402_two_bus", 128.0, 66.1),  # 385 bits per joint, a SYNC per bus, at 800 Hz
])
def test_the_real_two_bus_examples_fit_a_budget_one_bus_would_exceed(
    name: str, one_bus_pct: float, per_leg_pct: float
) -> None:
    cfg = load_robot_config(name)
    (bitrate,) = {b.bitrate for b in cfg.buses}
    one_bus = bus_load("one", frames_per_tick(cfg, 4), cfg.loop.rate_hz, bitrate)
    per_leg = bus_load("leg", frames_per_tick(cfg, 2), cfg.loop.rate_hz, bitrate)
    assert round(100 * one_bus.utilisation, 1) == pytest.approx(one_bus_pct, abs=0.1)
    assert round(100 * per_leg.utilisation, 1) == pytest.approx(per_leg_pct, abs=0.1)
    assert per_leg.feasible and not one_bus.feasible


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('bus = "left"\nnode_id = 1', "node_id = 1",
         r"joint 'hip_flexion_l' names no bus; with several buses each joint needs bus = one of "
         r"left, right"),
        ('bus = "left"', 'bus = "middle"',
         r"joint 'hip_flexion_l': bus 'middle' is not one of the robot's buses \(left, right\)"),
        ("node_id = 2", "node_id = 1",
         r"node ids must be unique on one bus, got \[1, 1\] on 'right'"),
        ('name = "left"\n', "",
         r"buses.1 has no name: each of several buses needs a unique name"),
        ('name = "left"\n', 'name = "right"\n',
         r"bus names must be unique, 'right' is given twice"),
        ('"rehabbot-sim-left"', '"rehabbot-sim-right"',
         r"two buses name the same interface and channel virtual:rehabbot-sim-right"),
        ('interface = "virtual"\nchannel = "rehabbot-sim-left"',
         'interface = "socketcan"\nchannel = "can1"',
         r"buses right \(virtual\), left \(socketcan\) mix the simulator's 'virtual' buses with "
         r"real ones: a robot is either simulated \(every bus virtual\) or real \(none\)"),
        ("[loop]", '[[buses]]\nname = "spare"\ninterface = "virtual"\nchannel = "x"\n\n[loop]',
         r"bus 'spare' has no joints"),
        ('host_id = 0\n', 'host_id = 0\ndata_bitrate = 1000000\n',
         r"invalid field 'buses.0': Value error, data_bitrate \(1000000\) must be above bitrate "
         r"\(1000000\): it is CAN FD's faster data phase"),
    ],
)
def test_bad_bus_layouts_get_one_message_each(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        load_robot_config(write_variant(tmp_path, old, new))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("bitrate = 1000000", "bitrate = 5",
         r"robot.toml: invalid field 'bus.bitrate' = 5: Input should be greater than or equal"),
        ("host_id = 0", "host_id = 0\nport = 3", r"invalid field 'bus.port' = 3: Extra inputs"),
        ("host_id = 0", "host_id = 0\ndata_bitrate = 500000",
         r"invalid field 'bus': Value error, data_bitrate \(500000\) must be above bitrate"),
        ("host_id = 0", 'host_id = 0\n[[buses]]\ninterface = "virtual"\nchannel = "x"',
         r"robot.toml: invalid field '\(top level\)': Value error, give one \[bus\] table or "
         r"\[\[buses\]\] entries, not both"),
        ('[bus]\ninterface = "virtual"\nchannel = "rehabbot-sim"\nbitrate = 1000000\nhost_id = 0',
         "", r"the robot has no bus: give one \[bus\] table or \[\[buses\]\] entries"),
        ('node_id = 1', 'bus = "left"\nnode_id = 1',
         r"joint 'hip_flexion_r': bus 'left' is not one of the robot's buses \(main\)"),
    ],
)
def test_a_bad_single_bus_table_is_named_as_written(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        load_robot_config(write_variant(tmp_path, old, new, robot=ONE_BUS_EXO))
    assert "\n" not in str(info.value)


def test_the_mixed_protocol_host_id_rule_holds_per_bus(tmp_path: Path) -> None:
    """MIT replies on host id 0 are refused on a bus with CiA 402 drives, whatever the other buses
    carry, and harmless on a bus without them."""
    text = bundled_robot_path("sim_exo").read_text()
    knee_l = text.index('name = "knee_angle_l"')
    text = text[:knee_l] + text[knee_l:].replace(
        'drive = "mit"\nmotor = "AK10-9"', 'drive = "cia402"\nmotor = "ELMO-G100"', 1)
    path = tmp_path / "robot.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=r"bus 'left': host_id must not be 0 with MIT "
                                                 r"and CiA 402 drives on one bus"):
        load_robot_config(path)
    left = text.index('name = "left"')
    path.write_text(text[:left] + text[left:].replace("host_id = 0", "host_id = 0x7F0", 1))
    cfg = load_robot_config(path)
    assert [(b.name, b.host_id) for b in cfg.buses] == [("right", 0), ("left", 0x7F0)]
    assert [j.drive for j in cfg.joints] == ["mit", "mit", "mit", "cia402"]


@pytest.mark.parametrize(
    ("update", "why"),
    [
        ({"watchdog_s": 0.02}, "must be above the command deadline (20 ms)"),  # not shorter
        ({"watchdog_s": 0.015}, "must be above the command deadline (20 ms)"),
        ({"watchdog_s": 0.06}, "at most 50 ms (docs/safety.md)"),  # beyond the hazard limit
    ],
)
def test_can_check_refuses_a_deadline_not_shorter_than_a_watchdog_or_a_watchdog_too_long(
    update: dict[str, float], why: str,
) -> None:
    config = load_robot_config("sim_exo")
    joints = list(config.joints)
    joints[1] = joints[1].model_copy(update=update)
    result = check_robot(config.model_copy(update={"joints": joints}))
    (failure,) = result.failures
    assert (failure.check, failure.subject) == ("drive watchdog", "knee_angle_r")
    assert why in failure.detail
    assert not check_robot(config).failures  # the defaults pass: 20 ms deadline, 40 ms watchdog


def test_a_longer_deadline_moves_the_default_watchdog_up_to_the_hazard_limit() -> None:
    config = load_robot_config("sim_exo")
    loop = config.loop.model_copy(update={"command_deadline_s": 0.03})
    longer = config.model_copy(update={"loop": loop})
    assert longer.watchdog_s(longer.joints[0]) == pytest.approx(MAX_WATCHDOG_S)  # not 60 ms
    assert not check_robot(longer).failures
    loop = config.loop.model_copy(update={"command_deadline_s": 0.05})
    too_long = config.model_copy(update={"loop": loop})
    assert {item.check for item in check_robot(too_long).failures} == {"drive watchdog"}
