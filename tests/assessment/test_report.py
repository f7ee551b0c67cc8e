"""Session and progress reports: HTML and PDF content of short simulated sessions, errors."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rehabbot.assessment.gait_analysis import analyze_samples
from rehabbot.assessment.report import progress_report, report_command, session_report
from rehabbot.assessment.report.tables import NORMATIVE_LABEL
from rehabbot.errors import RehabbotError, ReportError, StorageError
from rehabbot.storage.store import SessionStore
from tests.conftest import simulate


@dataclass(frozen=True)
class Recorded:
    """A store holding one simulated session, and that session's number of strides."""

    store_path: Path
    session_id: int
    strides: int


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """A 3 s simulated session of the default robot and protocol."""
    store = tmp_path_factory.mktemp("store") / "sessions.sqlite"
    session_id = simulate(store, duration_s=3.0)
    with SessionStore.open(store) as st:
        samples = st.load_samples(session_id)
    return Recorded(store, session_id, analyze_samples(samples).step_count)


def test_html_report(recorded: Recorded, tmp_path: Path) -> None:
    out = session_report(recorded.store_path, recorded.session_id, tmp_path / "report.html")
    text = out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    for joint in ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l"):
        assert joint in text
    assert NORMATIVE_LABEL in text
    assert recorded.strides > 0
    assert text.count('<tr class="stride">') == recorded.strides
    assert text.count('src="data:image/png;base64,') == 2
    assert "http://" not in text and "https://" not in text
    for heading in ("DEMO-001", "standard_gait", "completed", "GPS (deg)", "SI (%)",
                    "cadence (steps/min)", "Safety events and faults"):
        assert heading in text


def test_pdf_report(recorded: Recorded, tmp_path: Path) -> None:
    out = session_report(recorded.store_path, recorded.session_id, tmp_path / "report.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_unsupported_suffix(recorded: Recorded, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"\.html or \.pdf"):
        session_report(recorded.store_path, recorded.session_id, tmp_path / "report.docx")
    assert not (tmp_path / "report.docx").exists()


def test_unknown_session(recorded: Recorded, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no session 999"):
        session_report(recorded.store_path, 999, tmp_path / "report.html")


def test_session_without_strides(tmp_path: Path) -> None:
    store = tmp_path / "sessions.sqlite"
    session_id = simulate(store, duration_s=0.5)
    with pytest.raises(ReportError, match="no complete stride"):
        session_report(store, session_id, tmp_path / "report.html")


def test_report_command(recorded: Recorded, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("other")(lambda: None)  # two commands: "report" stays a sub-command
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(recorded.session_id), "--out", str(out),
                                      "--store", str(recorded.store_path)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and str(out) in result.output


def test_rehabbot_report_from_the_main_cli(recorded: Recorded, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "rehabbot", "report", str(recorded.session_id), "--out", str(out),
         "--store", str(recorded.store_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")


@pytest.fixture(scope="module")
def two_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with two 3 s sessions of the demo patient: 100 % guidance, then 60 %."""
    store = tmp_path_factory.mktemp("progress") / "sessions.sqlite"
    for guidance in (100.0, 60.0):
        simulate(store, duration_s=3.0, guidance_pct=guidance)
    return store


def test_progress_report_html(two_sessions: Path, tmp_path: Path) -> None:
    out = progress_report(two_sessions, "DEMO-001", tmp_path / "progress.html")
    text = out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = re.findall(r'<tr class="session">(.*?)</tr>', text)
    assert len(rows) == 2
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in rows]
    assert cells[0][0] <= cells[1][0]  # date order
    assert int(cells[0][1]) < int(cells[1][1])
    assert [c[5] for c in cells] == ["100", "60"]  # guidance (%)
    for heading in ("DEMO-001", "GPS (deg)", "cadence (steps/min)", "stride time SI (%)",
                    "hip_flexion_r ROM (deg)", "RMS error (deg)"):
        assert heading in text
    assert text.count('src="data:image/png;base64,') == 1
    assert "http://" not in text and "https://" not in text


def test_progress_report_pdf(two_sessions: Path, tmp_path: Path) -> None:
    out = progress_report(two_sessions, "DEMO-001", tmp_path / "progress.pdf")
    assert out.read_bytes().startswith(b"%PDF")


def test_progress_report_unknown_patient(two_sessions: Path, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no patient 'NOBODY'") as info:
        progress_report(two_sessions, "NOBODY", tmp_path / "progress.html")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "progress.html").exists()


@pytest.mark.parametrize("args", [["1", "--patient", "DEMO-001"], []])
def test_report_command_needs_session_or_patient(args: list[str], tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["report", *args, "--out", str(tmp_path / "r.html"),
                                      "--store", str(tmp_path / "none.sqlite")])
    assert result.exit_code != 0
    assert isinstance(result.exception, RehabbotError)
    assert "exactly one of a SESSION id" in str(result.exception)
    assert "\n" not in str(result.exception)


def test_report_command_patient(two_sessions: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "rehabbot", "report", "--patient", "DEMO-001", "--out", str(out),
         "--store", str(two_sessions)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
