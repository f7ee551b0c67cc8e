"""Export fixtures: one short simulated session, and a third-party format installed as a plug-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rehabbot.export.base import SessionData, load_session
from tests.conftest import install_plugin, simulate

#: The plug-in's one file, shipped beside the tests.
JSON_SOURCE = Path(__file__).with_name("json_exporter.py")
JSON_MODULE = "json_exporter"


@dataclass(frozen=True)
class RecordedSession:
    """A store holding one simulated session, and that session as the exporters read it."""

    store_path: Path
    session_id: int
    data: SessionData


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> RecordedSession:
    """A 3 s simulated session of the default robot and protocol."""
    store = tmp_path_factory.mktemp("store") / "sessions.sqlite"
    session_id = simulate(store, duration_s=3.0)
    return RecordedSession(store, session_id, load_session(store, session_id))


@pytest.fixture
def json_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site directory holding the JSON exporter as an installed distribution, on ``sys.path``.

    Its ``entry_points.txt`` registers ``json = json_exporter:JsonExporter`` in the group
    ``rehabbot.exporters``: the format is this one file plus its registration.
    """
    yield from install_plugin(tmp_path / "site-packages", monkeypatch, JSON_SOURCE,
                              "rehabbot.exporters", f"json = {JSON_MODULE}:JsonExporter")
