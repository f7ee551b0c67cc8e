"""Sweeps on a real Dask LocalCluster bound to 127.0.0.1: same table whatever the number of
workers, reruns skip finished points, a failing point is a row and the others still run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from distributed import Client
from typer.testing import CliRunner

from rehabbot.cli import app
from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.storage.store import SessionStore
from rehabbot.sweeps.engine import dask_client
from rehabbot.sweeps.point import ERROR, point_store
from rehabbot.sweeps.spec import SweepPoint, SweepSpec, expand
from rehabbot.sweeps.sweep import SESSIONS_DIR, run_sweep
from rehabbot.sweeps.table import read_rows

#: 4 points of 3 s: two assist-as-needed error gains on two patients.
AAN = bundled_file("sweeps", "protocols/aan_training.toml")
SPEC = SweepSpec.model_validate({
    "name": "small", "base_protocol": str(AAN), "duration_s": 3.0, "settle_s": 1.0,
    "profiles": ["healthy", "stroke_left"],
    "vary": {"controller_params": {"error_gain_pct_per_rad": [40.0, 400.0]}},
})


@pytest.fixture(scope="module")
def points() -> list[SweepPoint]:
    return expand(SPEC)


def test_two_workers_give_the_table_of_one_worker(
    tmp_path: Path, points: list[SweepPoint], two_workers: Client,
) -> None:
    workers = two_workers.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    assert two_workers.scheduler is not None
    assert two_workers.scheduler.address.startswith("tcp://127.0.0.1:")
    parallel = run_sweep(points, tmp_path / "two", two_workers, title="t")
    with dask_client(workers=1) as one_worker:
        serial = run_sweep(points, tmp_path / "one", one_worker, title="t")
    assert len(parallel.rows) == 4 and not parallel.failed
    assert {r["status"] for r in parallel.rows} <= {"completed", "faulted"}
    assert all(isinstance(r["rms_error_deg"], float) and r["rms_error_deg"] > 0
               for r in parallel.rows)
    # NaN-safe exact comparison, every column, in point order
    assert json.dumps(parallel.rows) == json.dumps(serial.rows)
    assert json.dumps(read_rows(tmp_path / "two" / "results.parquet")) == json.dumps(
        parallel.rows)
    assert (tmp_path / "two" / "results.csv").read_text() == (
        tmp_path / "one" / "results.csv").read_text()
    assert (tmp_path / "two" / "tradeoff.png").stat().st_size > 10_000
    # each point's session is in its own store, where the row says
    row = parallel.rows[2]
    with SessionStore.open(tmp_path / "two" / SESSIONS_DIR / str(row["store"])) as store:
        info = store.get_session(int(row["session_id"] or 0))
        assert info.status == row["status"]
        assert store.session_parameters(info.id)["profile"] == row["profile"]


def test_failing_point_is_reported_and_a_rerun_runs_only_what_is_missing(
    tmp_path: Path, points: list[SweepPoint], two_workers: Client,
) -> None:
    broken = points[1]
    store = point_store(tmp_path / SESSIONS_DIR, broken.key)
    store.parent.mkdir(parents=True)
    store.write_bytes(b"this is not an SQLite database" * 100)

    first = run_sweep(points, tmp_path, two_workers, title="t")
    assert first.failed == [broken.key] and len(first.ran) == 4 and not first.skipped
    row = first.rows[1]
    assert row["status"] == ERROR and row["key"] == broken.key
    assert "StorageError" in str(row["error"]) and str(store.name) in str(row["error"])
    assert [r["status"] != ERROR for r in first.rows] == [True, False, True, True]

    store.unlink()
    second = run_sweep(points, tmp_path, two_workers, title="t")
    assert second.ran == [broken.key] and sorted(second.skipped) == sorted(
        p.key for p in points if p is not broken)
    assert not second.failed
    for before, after in zip(first.rows, second.rows, strict=True):
        if before["key"] != broken.key:  # reused rows are the earlier rows, bit for bit
            assert json.dumps({k: v for k, v in before.items() if k != "pareto"}) == json.dumps(
                {k: v for k, v in after.items() if k != "pareto"})

    third = run_sweep(points, tmp_path, two_workers, title="t")
    assert not third.ran and len(third.skipped) == 4
    assert json.dumps(third.rows) == json.dumps(second.rows)


def test_sweep_command_on_an_existing_scheduler_writes_table_plot_and_front(
    tmp_path: Path, two_workers: Client,
) -> None:
    spec = tmp_path / "tiny.toml"
    shutil.copy(AAN, tmp_path / "base.toml")
    spec.write_text('name = "tiny"\nbase_protocol = "base.toml"\nduration_s = 3\n'
                    'settle_s = 1\n[vary]\nguidance_pct = [60, 100]\n', encoding="utf-8")
    assert two_workers.scheduler is not None
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out), "--scheduler",
                                      two_workers.scheduler.address])
    assert result.exit_code == 0, result.output
    rows = read_rows(out / "results.parquet")
    assert [r["guidance_pct"] for r in rows] == [60.0, 100.0]
    assert all(r["status"] in ("completed", "faulted") for r in rows)
    assert any(r["pareto"] for r in rows) and (out / "tradeoff.png").is_file()
    assert "2 points run, 0 reused" in result.output and "Pareto front" in result.output
    assert len(list((out / SESSIONS_DIR).glob("*.sqlite"))) == 2


def test_workers_and_scheduler_together_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sweep", "aan_gains", "--workers", "2", "--scheduler",
                                      "tcp://127.0.0.1:1"])
    assert isinstance(result.exception, ConfigurationError)
    assert "not both" in str(result.exception)
