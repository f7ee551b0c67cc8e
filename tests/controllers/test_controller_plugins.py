"""Controllers are plug-ins: a third-party controller is one module plus an entry point in its
own distribution, and runs from a protocol file and from a sweep with no rehabbot file touched.

The distribution is written into a temporary site directory (its module and a ``*.dist-info``
with ``entry_points.txt``) and put on ``sys.path``, where :mod:`importlib.metadata` finds it as
it finds any installed distribution; the Dask workers of the sweep find it through
``PYTHONPATH``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rehabbot.configfile import bundled_file
from rehabbot.controllers.registry import CONTROLLERS
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sweeps.engine import dask_client
from rehabbot.sweeps.spec import SweepSpec, expand
from rehabbot.sweeps.sweep import run_sweep
from tests.conftest import install_plugin, write_distribution

#: The plug-in's one file, shipped beside the tests.
SOURCE = Path(__file__).with_name("split_guidance.py")

#: The bundled standard protocol on the plug-in's controller: hips guided fully, knees at 40 %
#: (a therapist may move them within 20-80 %).
PROTOCOL = bundled_file("protocols", "standard_gait.toml").read_text()
for old, new in (('controller = "impedance"', 'controller = "split_guidance"'),
                 ("guidance_pct = [50, 100]\n", ""),  # it has no guidance_pct to adjust
                 ("hip_rom_pct = 100\n", "hip_rom_pct = 100\nhip_guidance_pct = 100\n"
                                         "knee_guidance_pct = 40\n"),
                 ("knee_rom_pct = [80, 110]\n", "knee_rom_pct = [80, 110]\n"
                                                 "knee_guidance_pct = [20, 80]\n")):
    assert old in PROTOCOL
    PROTOCOL = PROTOCOL.replace(old, new, 1)


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The plug-in installed as a distribution in a site directory on ``sys.path``."""
    yield from install_plugin(tmp_path / "site-packages", monkeypatch, SOURCE,
                              "rehabbot.controllers",
                              "split_guidance = split_guidance:SplitGuidance")


def write_protocol(tmp_path: Path, text: str = PROTOCOL) -> Path:
    path = tmp_path / "split.toml"
    path.write_text(text)
    return path


def test_an_entry_point_adds_a_controller_found_by_the_registry(plugin_site: Path) -> None:
    assert "split_guidance" in CONTROLLERS.names()
    cls = CONTROLLERS.load("split_guidance")
    assert Path(sys.modules[cls.__module__].__file__ or "").parent == plugin_site
    assert {"hip_guidance_pct", "knee_guidance_pct"} <= set(cls.param_specs)


def test_a_plugin_controller_runs_a_session_from_a_protocol_file(
    plugin_site: Path, tmp_path: Path
) -> None:
    protocol = load_protocol(write_protocol(tmp_path))
    assert protocol.absolute_range("knee_guidance_pct").unit == "%"
    result = SessionRunner(SessionRequest(load_robot_config(), protocol,
                                          tmp_path / "store.sqlite", duration_s=2.0)).run()
    assert result.status == "completed" and result.loop.faults == []
    built = sys.modules["split_guidance"].BUILT
    assert len(built) == 1  # the session's controller is the plug-in's
    assert built[0].get_params()["knee_guidance_pct"] == 40.0  # the protocol's value, applied
    assert built[0].updates_ >= 1000  # 2 s of 1 kHz ticks drove it


def test_a_plugin_parameter_out_of_its_spec_is_one_clear_message(
    plugin_site: Path, tmp_path: Path
) -> None:
    path = write_protocol(tmp_path, PROTOCOL.replace("knee_guidance_pct = 40",
                                                     "knee_guidance_pct = 140"))
    with pytest.raises(ConfigurationError) as info:
        load_protocol(path)
    message = str(info.value)
    assert message.count("invalid field") == 1
    assert "controller_params.knee_guidance_pct = 140 % is out of range [0, 100] %" in message


def test_a_plugin_controller_runs_in_a_sweep_on_dask_workers(
    plugin_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [str(plugin_site), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))  # the workers' sys.path
    spec = SweepSpec.model_validate({
        "name": "split", "base_protocol": str(write_protocol(tmp_path)), "duration_s": 4.0,
        "settle_s": 1.0, "profiles": ["healthy"],
        "vary": {"controller_params": {"knee_guidance_pct": [20.0, 80.0]}},
    })
    points = expand(spec)
    assert [p.settings["params.knee_guidance_pct"] for p in points] == [20.0, 80.0]
    with dask_client(workers=1) as client:
        outcome = run_sweep(points, tmp_path / "out", client, title="split")
    assert not outcome.failed
    # (a 3 s session of the built-in impedance controller, too, can end in a knee limit fault
    # during the stop at its end; these 4 s end walking)
    assert [row["status"] for row in outcome.rows] == ["completed", "completed"]
    free, guided = (row["rms_error_deg"] for row in outcome.rows)
    assert free > guided  # the knees' guidance is what the plug-in varies: less, more error


def test_an_unknown_controller_in_a_protocol_is_one_message_naming_the_known(
    tmp_path: Path,
) -> None:
    path = write_protocol(tmp_path, PROTOCOL.replace('"split_guidance"', '"magic"'))
    with pytest.raises(ConfigurationError) as info:
        load_protocol(path)
    message = str(info.value)
    assert message.count("invalid field") == 1
    assert ("'controller' = 'magic': Value error, unknown controller 'magic'; available: "
            "assist_as_needed, impedance, path_control, transparent") in message


def test_a_controller_whose_entry_point_fails_to_load_is_refused_when_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_distribution(tmp_path, "broken_ctl", "rehabbot.controllers",
                       "broken = no_such_controller_module:Ctl")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "broken" in CONTROLLERS
    load_protocol("standard_gait")  # the others still load
    with pytest.raises(ConfigurationError,
                       match=r"controller 'broken' \(no_such_controller_module:Ctl\) cannot be "
                             r"loaded: No module named 'no_such_controller_module'"):
        load_protocol(write_protocol(tmp_path, PROTOCOL.replace('"split_guidance"',
                                                                '"broken"')))
