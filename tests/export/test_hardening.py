"""Exports that cannot lose track of a file (issue 15 items 1, 2, 5, 8, 9, 10).

An export races an erasure, is killed, runs out of file size, meets symbolic links, or is asked
for a running session; in each case no file of the patient stays behind that the store does not
know of, nothing is written or deleted through a link, and no empty or partial file is left.
"""

from __future__ import annotations

import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from rehabbot.errors import ExportError, StorageError
from rehabbot.export import export_sessions
from rehabbot.export.base import SessionData
from rehabbot.export.csv import CsvExporter
from rehabbot.export.registry import BUILTIN_EXPORTERS
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.export.conftest import OPERATOR, record
from tests.storage.filemodes import umask

PATIENT = "P-RACE-1"


def files_below(folder: Path) -> list[Path]:
    """Every file (and link) below ``folder``, hidden staging folders included."""
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with one 3 s session of a consenting patient (copied per test)."""
    store = tmp_path_factory.mktemp("master") / "s.sqlite"
    record(store, 3.0, PATIENT)
    return store


@pytest.fixture
def store(master: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store" / "s.sqlite"
    copy.parent.mkdir()
    with sqlite3.connect(master) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def erase(store: Path) -> None:
    with SessionStore.open(store) as st:
        PatientRecords(st).erase(PATIENT, operator="nurse")


class GatedCsv(CsvExporter):
    """The CSV format, pausing after it has written until the test lets it go on."""

    name = "csv-gated"
    written = threading.Event()
    proceed = threading.Event()

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write the CSV files, say so, and wait."""
        files = super().write(data, out_dir)
        GatedCsv.written.set()
        assert GatedCsv.proceed.wait(60)
        return files


def test_an_erasure_during_an_export_leaves_no_file_of_the_patient(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(BUILTIN_EXPORTERS, "csv-gated", (__name__, "GatedCsv"))
    GatedCsv.written.clear()
    GatedCsv.proceed.clear()
    out = tmp_path / "out"
    failure: list[BaseException] = []

    def export() -> None:
        try:
            export_sessions(store, [1], "csv-gated", out, operator=OPERATOR)
        except BaseException as exc:
            failure.append(exc)

    exporting = threading.Thread(target=export)
    exporting.start()
    assert GatedCsv.written.wait(60)  # the files are written, not yet recorded in place
    erase(store)
    GatedCsv.proceed.set()
    exporting.join(60)
    assert len(failure) == 1 and isinstance(failure[0], StorageError), failure
    assert "erased while it was being exported" in str(failure[0])
    assert files_below(out) == []
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM exports").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM export_intents").fetchone()[0] == 0


KILLED_EXPORT = textwrap.dedent("""
    import os, signal, sys
    from rehabbot.export import export_sessions
    from rehabbot.export.csv import CsvExporter
    from rehabbot.export.registry import BUILTIN_EXPORTERS

    class KilledCsv(CsvExporter):
        name = "csv-killed"
        def write(self, data, out_dir):
            files = super().write(data, out_dir)
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 with every file written
            return files

    sys.modules["killed_csv"] = sys.modules[__name__]
    BUILTIN_EXPORTERS["csv-killed"] = ("killed_csv", "KilledCsv")
    export_sessions(sys.argv[1], [1], "csv-killed", sys.argv[2], operator="r")
""")


def test_a_killed_export_leaves_no_complete_looking_file_and_erasure_finds_its_files(
    store: Path, tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    ended = subprocess.run([sys.executable, "-c", KILLED_EXPORT, str(store), str(out)],
                           capture_output=True, text=True, timeout=300)
    assert ended.returncode == -signal.SIGKILL, ended.stderr
    staged = files_below(out)
    assert len(staged) == 2  # the CSV tables, written, killed before they were moved in place
    assert list(out.glob("session_*")) == []
    erase(store)
    assert not out.exists()  # the folder the export created goes too


def run_limited(args: list[str], max_file_bytes: int) -> subprocess.CompletedProcess[str]:
    """``rehabbot args`` where no file may grow beyond ``max_file_bytes`` (a full disk for it)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
    return subprocess.run([sys.executable, "-m", "rehabbot", *args], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit)


def test_a_failed_export_leaves_no_partial_or_empty_file(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ended = run_limited(["export", "1", "--format", "csv", "--out", str(out), "--store",
                         str(store), "--operator", "r"], 200_000)
    assert ended.returncode == 2, ended.stderr
    assert ended.stderr.startswith("error: ") and ended.stderr.count("\n") == 1, ended.stderr
    assert files_below(out) == []
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM export_intents").fetchone()[0] == 0


def test_a_failed_report_leaves_no_partial_or_empty_file(store: Path, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "session.html"
    report.parent.mkdir()
    ended = run_limited(["report", "1", "--out", str(report), "--store", str(store),
                         "--operator", "r"], 200_000)  # the report has about 240 kB
    assert ended.returncode == 2, ended.stderr
    assert ended.stderr.startswith("error: ") and ended.stderr.count("\n") == 1, ended.stderr
    assert list(report.parent.iterdir()) == []


def test_export_never_writes_through_a_link(store: Path, tmp_path: Path) -> None:
    victim = tmp_path / "thesis.tex"
    victim.write_text("my thesis")
    victim.chmod(0o644)
    out = tmp_path / "out"
    out.mkdir()
    (out / "session_1.csv").symlink_to(victim)
    with pytest.raises(StorageError, match="symbolic link"):
        export_sessions(store, [1], "csv", out, operator=OPERATOR)
    assert victim.read_text() == "my thesis" and (victim.stat().st_mode & 0o777) == 0o644
    assert files_below(out) == [out / "session_1.csv"]  # the link, nothing else
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM exports").fetchone()[0] == 0


def test_erasure_never_deletes_through_a_link_nor_outside_the_export(
    store: Path, tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    export_sessions(store, [1], "bids", out, operator=OPERATOR)
    (motion,) = out.glob("sub-*/ses-1/motion")
    # someone swaps the export's motion folder for a link to a folder of theirs, holding a file
    # of the same name as an exported one
    elsewhere = tmp_path / "elsewhere"
    shutil.move(motion, elsewhere)
    motion.symlink_to(elsewhere, target_is_directory=True)
    kept = sorted(elsewhere.iterdir())
    # and an entry as versions before schema 4 recorded it: a link's target, outside the folder
    outside = tmp_path / "diary.txt"
    outside.write_text("dear diary")
    with sqlite3.connect(store) as db:
        db.execute("INSERT INTO exports (patient_id, session_id, format, path, root, "
                   "exported_at) SELECT patient_id, id, 'csv', ?, ?, 'x' FROM sessions",
                   (str(outside), str(out.resolve())))
    with SessionStore.open(store) as st:
        report = PatientRecords(st).erase(PATIENT, operator="nurse")
    assert sorted(elsewhere.iterdir()) == kept and len(kept) == 4
    assert outside.read_text() == "dear diary"
    assert outside in report.files_refused and len(report.files_refused) == 5


def test_export_folders_are_created_owner_only_whatever_the_umask(
    store: Path, tmp_path: Path,
) -> None:
    out = tmp_path / "new" / "deeper"
    with umask(0o000):
        files = export_sessions(store, [1], "bids", out, operator=OPERATOR).files
    folders = {f.parent for f in files} | {out, out.parent}
    folders |= {p for f in files for p in f.parents if out in p.parents}
    assert len(folders) == 5  # new, deeper, sub-X, ses-1, motion
    for folder in folders:
        assert (folder.stat().st_mode & 0o777) == 0o700, folder
    for f in files:
        assert (f.stat().st_mode & 0o777) == 0o600, f


def test_a_running_session_is_not_exported(store: Path, tmp_path: Path) -> None:
    with SessionStore.open(store) as st:
        samples = st.load_samples(1)
        patient = st.get_patient(PATIENT).id
        running = st.create_session(patient, "standard_gait", "sim_exo", 0.001,
                                    samples.joint_names, {})
        st.write_block(running, samples)  # recording, not yet ended
    out = tmp_path / "out"
    with pytest.raises(ExportError, match=f"session\\(s\\) {running} are still running"):
        export_sessions(store, [running], "csv", out, operator=OPERATOR)
    result = export_sessions(store, [1, running], "csv", out, operator=OPERATOR)
    assert result.sessions == [1] and result.running == [running]
    assert sorted(p.name for p in out.iterdir()) == ["session_1.csv", "session_1_strides.csv"]
