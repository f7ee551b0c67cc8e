"""Export fixtures: one short simulated session, and a third-party format installed as a plug-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from rehabbot.export import export_session
from rehabbot.export.base import SessionData, load_session
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.conftest import install_plugin, simulate

#: The plug-in's one file, shipped beside the tests.
JSON_SOURCE = Path(__file__).with_name("json_exporter.py")
JSON_MODULE = "json_exporter"


#: Who exports in the tests (the audit log's operator).
OPERATOR = "researcher"
#: The day the simulated patients consented.
CONSENT_DAY = date(2026, 11, 2)


@dataclass(frozen=True)
class RecordedSession:
    """A store holding one simulated session, and that session as the exporters read it."""

    store_path: Path
    session_id: int
    data: SessionData

    def export(self, fmt: str, out_dir: Path) -> list[Path]:
        """Export the session as :data:`OPERATOR`; return the files."""
        return export_session(self.store_path, self.session_id, fmt, out_dir, operator=OPERATOR)


def record(store: Path, duration_s: float, patient_code: str, *, consent: bool = True) -> int:
    """Simulate a session of a patient (who consented to research use, if ``consent``)."""
    session_id = simulate(store, duration_s=duration_s, patient_code=patient_code)
    if consent:
        with SessionStore.open(store) as st:
            PatientRecords(st).set_consent(patient_code, True, CONSENT_DAY, operator=OPERATOR)
    return session_id


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> RecordedSession:
    """A 3 s simulated session of the default robot and protocol, of a consenting patient."""
    store = tmp_path_factory.mktemp("store") / "sessions.sqlite"
    session_id = record(store, 3.0, "P-REC-1")
    return RecordedSession(store, session_id, load_session(store, session_id))


@pytest.fixture
def json_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site directory holding the JSON exporter as an installed distribution, on ``sys.path``.

    Its ``entry_points.txt`` registers ``json = json_exporter:JsonExporter`` in the group
    ``rehabbot.exporters``: the format is this one file plus its registration.
    """
    yield from install_plugin(tmp_path / "site-packages", monkeypatch, JSON_SOURCE,
                              "rehabbot.exporters", f"json = {JSON_MODULE}:JsonExporter")
