"""``rehabbot sweep SPEC`` and ``rehabbot analyze-batch``: the commands of the Dask engine.

Both are plain functions that ``rehabbot.cli`` registers on the main app. Both run on a new
local cluster (one worker process per core, or ``--workers N``, bound to 127.0.0.1) unless
``--scheduler ADDRESS`` names an existing one. Errors are :class:`~rehabbot.errors.RehabbotError`
with one-line messages, which the main command prints as ``error: ...`` (exit status 2);
``analyze-batch`` exits with status 1 when no item could be analyzed. ``sweep`` counts the
points whose session faulted or was aborted apart from the points that failed to run (an error),
and lists both. Tables wrap long names and values
(joint names, keys, fault lines) onto further lines instead of cutting them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rehabbot.assessment.scores import DEFAULT_LEG_LENGTH_M
from rehabbot.configfile import resolve_named_file
from rehabbot.errors import ConfigurationError
from rehabbot.storage.store import default_store_path
from rehabbot.sweeps.batch import (
    BatchItem,
    analyze_item,
    failed_item,
    select_files,
    select_sessions,
)
from rehabbot.sweeps.point import ERROR, Row
from rehabbot.sweeps.spec import expand, load_sweep_spec
from rehabbot.sweeps.table import write_table

WorkersOption = Annotated[int | None, typer.Option(
    help="worker processes of the local cluster \\[default: one per core]")]
SchedulerOption = Annotated[str | None, typer.Option(
    help="address of an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local "
         "cluster")]
BATCH_STEM = "analysis"
#: Left-aligned (text) columns of the printed tables.
TEXT_COLUMNS = ("item", "key", "profile", "status", "error", "faults")
#: Session statuses of a point that ran but did not complete.
NOT_COMPLETED = ("faulted", "aborted")


def _cell(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def outcome_counts(rows: Sequence[Row]) -> str:
    """How the points ended, in words.

    >>> outcome_counts([{"status": "completed"}, {"status": "faulted"}, {"status": "error"},
    ...                 {"status": "faulted"}])
    '1 completed, 2 faulted, 0 aborted, 1 failed to run'
    """
    counts = {status: sum(r.get("status") == status for r in rows)
              for status in ("completed", *NOT_COMPLETED, ERROR)}
    return (f"{counts['completed']} completed, {counts['faulted']} faulted, "
            f"{counts['aborted']} aborted, {counts[ERROR]} failed to run")


def _table(title: str, rows: Sequence[Row], columns: Sequence[str]) -> Table:
    """A rich table of ``columns`` of ``rows`` (missing cells blank)."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in TEXT_COLUMNS else "right",
                         overflow="fold")  # wrap, never "hip_flexio…"
    for row in rows:
        table.add_row(*("" if row.get(c) is None and c == "error" else _cell(row.get(c))
                        for c in columns))
    return table


def sweep_command(
    spec: Annotated[str, typer.Argument(help="sweep spec .toml file, or a bundled spec's name "
                                             "(e.g. aan_gains)")],
    out: Annotated[Path | None, typer.Option(
        help="output folder; a rerun into it skips finished points "
             "\\[default: sweeps/NAME]")] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Run a controller sweep in simulation on Dask: results.csv/.parquet, tradeoff.png and each
    point's session store in the output folder."""
    from rehabbot.sweeps.engine import dask_client  # Dask is imported only when used
    from rehabbot.sweeps.sweep import run_sweep

    path = resolve_named_file("sweeps", spec)
    sweep = load_sweep_spec(path)
    points = expand(sweep, path)
    out_dir = out if out is not None else Path("sweeps") / sweep.name
    console = Console(markup=False)
    console.print(f"sweep {sweep.name}: {len(points)} points of {sweep.duration_s:g} s "
                  f"({sweep.search} search) → {out_dir}")
    with dask_client(workers, scheduler) as client:
        title = f"{sweep.name}: {sweep.description}" if sweep.description else sweep.name
        outcome = run_sweep(points, out_dir, client, title=title)
    settings = list(dict.fromkeys(k for p in points for k in p.settings))
    front = [r for r in outcome.rows if r.get("pareto")]
    console.print(_table("Pareto front per profile (low tracking error, little robot power)",
                         front, ["profile", *settings, "rms_error_deg", "robot_power_w",
                                 "peak_torque_nm", "status"]))
    failed = [r for r in outcome.rows if r.get("status") == ERROR]
    stopped = [r for r in outcome.rows if r.get("status") in NOT_COMPLETED]
    if stopped:
        console.print(_table(f"{len(stopped)} points faulted or aborted (left out of the "
                             "Pareto front)", stopped,
                             ["key", "profile", *settings, "status", "faults"]))
    if failed:
        console.print(_table(f"{len(failed)} failed points (did not run)", failed,
                             ["key", "profile", *settings, "error"]))
    console.print(f"{len(outcome.ran)} points run, {len(outcome.skipped)} reused from an earlier "
                  f"run: {outcome_counts(outcome.rows)}, {outcome.wall_s:.1f} s wall time")
    console.print("wrote " + ", ".join(str(f) for f in outcome.files))


def analyze_batch_command(
    store: Annotated[Path | None, typer.Option(
        help="session store \\[default: $REHABBOT_STORE or user data dir]")] = None,
    session: Annotated[list[int] | None, typer.Option(
        help="a stored session's id (repeatable)")] = None,
    patient: Annotated[list[str] | None, typer.Option(
        help="every session of this patient (repeatable)")] = None,
    all_sessions: Annotated[bool, typer.Option(
        "--all-sessions", help="every session in the store")] = False,
    files: Annotated[list[str] | None, typer.Option(
        help="gait-lab files (.c3d, .mot) by glob pattern, e.g. 'lab/**/*.c3d' (repeatable)")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder of the combined table")] = Path("batch"),
    speed: Annotated[float | None, typer.Option(
        help="walking speed of the gait-lab files (m/s), if known")] = None,
    leg_length: Annotated[float, typer.Option(
        help="leg length for the gait-lab files (m)")] = DEFAULT_LEG_LENGTH_M,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Gait assessment of many stored sessions and/or gait-lab files on Dask: one combined
    table (analysis.csv/.parquet); an item that cannot be analyzed is reported in its row.

    Exit status 0: at least one item analyzed (failed ones are rows of the table); 1: every
    item failed (the table is still written); 2: bad input.
    """
    from rehabbot.sweeps.engine import dask_client, run_tasks  # Dask is imported only when used

    if not 0.0 < leg_length < math.inf:
        raise ConfigurationError(f"--leg-length {leg_length:g}: give the leg length in m, a "
                                 f"number above 0 (default {DEFAULT_LEG_LENGTH_M:g})")
    if speed is not None and not 0.0 < speed < math.inf:
        raise ConfigurationError(f"--speed {speed:g}: give the walking speed in m/s, a number "
                                 "above 0, or leave it out if unknown")
    items: list[BatchItem] = []
    if session or patient or all_sessions:
        items += select_sessions(store or default_store_path(), session or [], patient or [],
                                 all_sessions)
    if files:
        items += select_files(files)
    if not items:
        raise ConfigurationError("nothing to analyze: choose sessions (--session ID, --patient "
                                 "CODE, --all-sessions) and/or gait-lab files (--files GLOB)")
    rows: list[Row | None] = [None] * len(items)
    with dask_client(workers, scheduler) as client:
        for index, row in run_tasks(
            client, analyze_item, items, keys=[item.key for item in items],
            on_error=failed_item,
            label="analysis", extra=(speed, leg_length),
        ):
            rows[index] = row
    done = [r for r in rows if r is not None]
    written = write_table(done, out / BATCH_STEM)
    console = Console(markup=False)
    console.print(_table(f"Gait analysis of {len(done)} items", done, [
        "item", "status", "steps", "cadence_steps_per_min", "stride_time_s_right",
        "stride_time_s_left", "gps_deg", "error"]))
    failed = sum(r.get("status") == ERROR for r in done)
    console.print(f"{len(done) - failed} analyzed, {failed} failed; wrote "
                  + ", ".join(str(f) for f in written))
    if failed == len(done):
        raise typer.Exit(code=1)
