"""The one plug-in registry helper (rehabbot.plugins): a built-in table extended by entry points,
imported lazily, with one message for an unknown name or a plug-in that cannot be loaded; drives,
exporters, controllers and phase sources all resolve through it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rehabbot.controllers.base import Controller
from rehabbot.controllers.gait_phase import PhaseEstimator
from rehabbot.controllers.phase_sources import PHASE_SOURCES
from rehabbot.controllers.registry import CONTROLLERS
from rehabbot.errors import ConfigurationError
from rehabbot.export.base import Exporter
from rehabbot.export.registry import EXPORTERS, exporter_class
from rehabbot.hal.drives.base import Drive
from rehabbot.hal.drives.registry import DRIVES, drive_class
from rehabbot.plugins import Registry
from tests.conftest import write_distribution


def test_every_plugin_kind_resolves_through_the_shared_registry() -> None:
    kinds = {DRIVES: Drive, EXPORTERS: Exporter, CONTROLLERS: Controller,
             PHASE_SOURCES: PhaseEstimator}
    for registry, base in kinds.items():
        assert isinstance(registry, Registry) and registry.base is base
        for name in registry.names():
            if name not in ("c3d", "hdf5", "fhir"):  # optional dependencies, tested in export
                assert issubclass(registry.load(name), base)
    assert drive_class("mit") is DRIVES.load("mit")
    assert exporter_class("csv") is EXPORTERS.load("csv")


def test_a_module_is_imported_only_when_its_name_is_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lazy_fmt.py").write_text(
        "from rehabbot.export.csv import CsvExporter\n\nclass LazyFmt(CsvExporter):\n"
        "    pass\n")
    write_distribution(tmp_path, "lazy_fmt", "rehabbot.exporters", "lazy = lazy_fmt:LazyFmt")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("lazy_fmt", None)
    assert EXPORTERS.available()["lazy"] == ("lazy_fmt", "LazyFmt")
    assert "lazy" in EXPORTERS and "lazy_fmt" not in sys.modules
    assert EXPORTERS.load("lazy").__name__ == "LazyFmt" and "lazy_fmt" in sys.modules
    sys.modules.pop("lazy_fmt", None)


def test_an_entry_point_cannot_replace_a_builtin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_distribution(tmp_path, "shadow", "rehabbot.controllers",
                       "impedance = shadow_module:Impostor")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert CONTROLLERS.available()["impedance"] == ("rehabbot.controllers.impedance",
                                                    "ImpedanceController")


@pytest.mark.parametrize(("name", "message"), [
    ("nope", "unknown phase source 'nope'; available: cadence, oscillator, oscillator_left, "
             "portrait, portrait_left, thighs"),
    ("not_an_estimator", "phase source 'not_an_estimator' is not a rehabbot PhaseEstimator "
                         "subclass"),
    ("missing_class", "phase source 'missing_class' (rehabbot.errors:NoSuchClass) cannot be "
                      "loaded: module 'rehabbot.errors' has no attribute 'NoSuchClass'"),
])
def test_a_bad_name_or_plugin_is_one_message(name: str, message: str) -> None:
    table = {"cadence": ("rehabbot.controllers.gait_phase", "CadencePhase"),
             "oscillator": ("rehabbot.controllers.adaptive_oscillator", "AdaptiveOscillator"),
             "not_an_estimator": ("rehabbot.errors", "ConfigurationError"),
             "missing_class": ("rehabbot.errors", "NoSuchClass")}
    sources = Registry[PhaseEstimator]("phase source", "rehabbot.phase_sources",
                                       table if name != "nope" else dict(
                                           PHASE_SOURCES.builtins), PhaseEstimator)
    with pytest.raises(ConfigurationError) as info:
        sources.load(name)
    assert str(info.value) == message
