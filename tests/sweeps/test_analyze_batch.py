"""``rehabbot analyze-batch``: stored sessions and gait-lab files on Dask, one combined table; a
malformed file is a row with its error and does not stop the batch."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from distributed import Client
from typer.testing import CliRunner

from rehabbot.assessment.report import load_report_data
from rehabbot.cli import app, main
from rehabbot.errors import ConfigurationError
from tests.conftest import simulate

GAIT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "gait"
MOT = "opensim_subject01_walk_ik.mot"


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A folder with a real OpenSim trial and a malformed .mot file."""
    if not (GAIT_DATA / MOT).is_file():
        pytest.fail(f"reference gait data missing: expected {GAIT_DATA / MOT}")
    folder = tmp_path / "lab"
    folder.mkdir()
    shutil.copy(GAIT_DATA / MOT, folder / MOT)
    (folder / "broken.mot").write_text("not a motion file\nendheader\n1 2 3\n", encoding="utf-8")
    return folder


def test_sessions_and_files_make_one_table_and_a_bad_file_is_a_row(
    tmp_path: Path, lab: Path,
) -> None:
    store = tmp_path / "store.sqlite"
    first = simulate(store, 5.0, seed=1)
    second = simulate(store, 5.0, seed=2, profile="athletic")
    out = tmp_path / "batch"
    result = CliRunner().invoke(app, [
        "analyze-batch", "--store", str(store), "--all-sessions",
        "--files", str(lab / "*.mot"), "--out", str(out), "--workers", "2",
    ])
    assert result.exit_code == 0, result.output
    rows = {r["item"]: r for r in pq.read_table(out / "analysis.parquet").to_pylist()}
    assert set(rows) == {f"store.sqlite#{first}", f"store.sqlite#{second}", MOT, "broken.mot"}
    assert rows["broken.mot"]["status"] == "error"
    assert "broken.mot" in rows["broken.mot"]["error"]
    for session_id in (first, second):
        row = rows[f"store.sqlite#{session_id}"]
        analysis = load_report_data(store, session_id).analysis  # the single-session assessment
        assert row["status"] == "ok" and row["steps"] == analysis.step_count > 0
        assert row["cadence_steps_per_min"] == analysis.cadence_steps_per_min
        assert row["stride_time_s_right"] == analysis.summary["right"]["stride_time_s"].mean
        assert row["gps_deg"] == analysis.movement_analysis_profile["overall"]["gps"]
    assert rows[f"store.sqlite#{second}"]["session_status"] in ("completed", "faulted")
    assert rows[MOT]["status"] == "ok" and rows[MOT]["steps"] > 0
    assert (out / "analysis.csv").read_text().count("\n") == 5  # header and four rows
    assert "1 failed" in result.output


def test_nothing_selected_is_one_clear_error() -> None:
    result = CliRunner().invoke(app, ["analyze-batch"])
    assert isinstance(result.exception, ConfigurationError)
    assert "nothing to analyze" in str(result.exception)


def test_a_glob_without_match_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze-batch", "--files", str(tmp_path / "*.c3d")])
    assert "matches no file" in str(result.exception)


def test_a_batch_where_every_item_failed_exits_with_status_1(
    tmp_path: Path, two_workers: Client,
) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    for name in ("a.mot", "b.mot"):
        (lab / name).write_text("not a motion file\nendheader\n1 2 3\n", encoding="utf-8")
    out = tmp_path / "batch"
    result = CliRunner().invoke(app, [
        "analyze-batch", "--files", str(lab / "*.mot"), "--out", str(out),
        "--scheduler", str(two_workers.scheduler_info()["address"]),
    ])
    assert result.exit_code == 1, result.output
    assert "0 analyzed, 2 failed" in result.output
    rows = pq.read_table(out / "analysis.parquet").to_pylist()  # the table is still written
    assert sorted((r["item"], r["status"]) for r in rows) == [("a.mot", "error"),
                                                              ("b.mot", "error")]


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--leg-length", "-1", "error: --leg-length -1: give the leg length in m, a number above 0 "
                           "(default 0.9)"),
    ("--leg-length", "0", "error: --leg-length 0: give the leg length in m, a number above 0 "
                          "(default 0.9)"),
    ("--speed", "-1.2", "error: --speed -1.2: give the walking speed in m/s, a number above 0, "
                        "or leave it out if unknown"),
])
def test_a_non_positive_leg_length_or_speed_is_one_line_with_status_2(
    tmp_path: Path, option: str, value: str, expected: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "argv", ["rehabbot", "analyze-batch", "--files",
                                      str(tmp_path / "*.mot"), option, value])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 2
    assert capsys.readouterr().err.splitlines() == [expected]
