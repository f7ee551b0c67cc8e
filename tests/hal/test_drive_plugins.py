"""Drive protocols are plug-ins: a third protocol is one file plus an entry point, found lazily."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import JointConfig, RobotConfig
from rehabbot.hal.drives.registry import available_drives, drive_class
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.simulator import emulator_class
from tests.conftest import write_distribution


def test_an_entry_point_adds_a_protocol_and_its_emulator_from_one_file(acme_site: Path) -> None:
    assert available_drives()["acme"] == ("acme_drive", "AcmeDrive")
    drive = drive_class("acme")
    module = sys.modules[drive.__module__]
    assert Path(module.__file__ or "").parent == acme_site  # the installed file, not the tests'
    assert emulator_class("acme").__module__ == drive.__module__


def test_a_plugin_protocol_runs_a_whole_simulated_session(
    acme_robot: RobotConfig, tmp_path: Path
) -> None:
    request = SessionRequest(acme_robot, load_protocol(), tmp_path / "store.sqlite", duration_s=3.0)
    result = SessionRunner(request).run()
    assert result.status == "completed" and result.loop.faults == []
    assert result.summary.as_dict()["strides_right"] >= 1


def test_a_protocol_without_an_emulator_cannot_be_simulated(
    acme_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drive_class("acme"), "emulator", None)
    with pytest.raises(ConfigurationError, match="drive protocol 'acme' has no emulator"):
        emulator_class("acme")


def test_a_plugin_with_a_missing_dependency_fails_only_when_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_distribution(tmp_path, "broken_drive", "rehabbot.drives",
                       "broken = no_such_module_anywhere:Drive")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "broken" in available_drives()
    assert drive_class("mit").protocol == "mit"
    with pytest.raises(ConfigurationError,
                       match=r"drive protocol 'broken' \(no_such_module_anywhere:Drive\) cannot "
                             r"be loaded: No module named 'no_such_module_anywhere'"):
        drive_class("broken")


@pytest.mark.parametrize(("protocol", "mode", "message"), [
    ("mit", "csp", "drive protocol 'mit' has no mode 'csp'; its modes: impedance"),
    ("cia402", "impedance", "drive protocol 'cia402' has no mode 'impedance'; its modes: cst, csp"),
])
def test_a_mode_the_protocol_lacks_is_refused_naming_its_modes(
    protocol: str, mode: str, message: str
) -> None:
    joint = JointConfig(name="knee_angle_r", drive=protocol, mode=mode, motor="x", node_id=2,
                        position_min_rad=0, position_max_rad=1, velocity_max_rad_s=1,
                        torque_max_nm=1)
    with pytest.raises(ConfigurationError, match=message):
        drive_class(protocol).mode_of(joint)
