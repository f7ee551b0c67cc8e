"""HAL fixtures: a third-party drive protocol installed as a distribution with an entry point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rehabbot.configfile import parse_toml_model
from rehabbot.hal.config import RobotConfig, bundled_robot_path
from tests.conftest import install_plugin

#: The plug-in's one file (drive and emulator), shipped beside the tests.
ACME_SOURCE = Path(__file__).with_name("acme_drive.py")
ACME_MODULE = "acme_drive"


@pytest.fixture
def acme_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site directory holding the ACME plug-in as an installed distribution, on ``sys.path``.

    The distribution is one module plus its metadata, whose ``entry_points.txt`` registers
    ``acme = acme_drive:AcmeDrive`` in the group ``rehabbot.drives``.
    """
    yield from install_plugin(tmp_path / "site-packages", monkeypatch, ACME_SOURCE,
                              "rehabbot.drives", f"acme = {ACME_MODULE}:AcmeDrive")


@pytest.fixture
def acme_robot(acme_site: Path) -> RobotConfig:
    """The sim_exo robot with ACME drives instead of MIT ones."""
    text = bundled_robot_path("sim_exo").read_text()
    text = text.replace('drive = "mit"', 'drive = "acme"').replace('"AK10-9"', '"ACME-60"')
    return parse_toml_model(text, RobotConfig, source="sim_exo_acme.toml")
