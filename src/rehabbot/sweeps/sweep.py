"""Running a sweep: its points on Dask, finished points of an earlier run reused, table and plot.

Output folder layout::

    results.csv, results.parquet   one row per point, in point order (rewritten as points finish,
                                   at most every WRITE_INTERVAL_S, and at the end)
    tradeoff.png                   tracking error vs robot power, Pareto fronts marked
    sessions/<key>.sqlite          each point's session store (open it with rehabbot's tools)

A rerun with the same folder skips every point whose key already has a row that is not an
``error`` (the key hashes the robot, the point's protocol, profile, seed and duration, so an edited
spec reruns exactly the points it changed), and runs failed points again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from distributed import Client
from rich.console import Console

from rehabbot.sweeps.engine import run_tasks
from rehabbot.sweeps.pareto import on_front, plot_tradeoff
from rehabbot.sweeps.point import ERROR, Row, error_row, identity, run_point
from rehabbot.sweeps.spec import SweepPoint
from rehabbot.sweeps.table import read_rows, write_table

RESULTS_STEM = "results"
PLOT_NAME = "tradeoff.png"
SESSIONS_DIR = "sessions"
#: Shortest time between two rewrites of the table while points finish (s).
WRITE_INTERVAL_S = 2.0


@dataclass
class SweepOutcome:
    """What a sweep run did.

    Attributes:
        rows: one row per point, in point order, with a ``pareto`` column.
        ran: keys of the points run this time.
        skipped: keys of the points whose earlier result was reused.
        failed: keys of the points whose row has status ``error``.
        files: the table (CSV, Parquet) and plot written.
        wall_s: wall time of the run (s).
    """

    rows: list[Row]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    wall_s: float = 0.0


def _worker_failure(point: SweepPoint, exc: BaseException) -> Row:
    """The row of a point whose task did not return (e.g. its worker process died)."""
    return error_row(point, f"the worker running it failed: {type(exc).__name__}: {exc}")


def run_sweep(
    points: Sequence[SweepPoint], out_dir: Path, client: Client, *, title: str,
    console: Console | None = None,
) -> SweepOutcome:
    """Run the points of a sweep that ``out_dir`` has no result for, on ``client``.

    Args:
        points: the sweep's points (:func:`rehabbot.sweeps.spec.expand`).
        out_dir: the output folder (created; see the module docstring).
        client: the Dask client to run on.
        title: the plot's title.
        console: where the progress bar goes (default: stderr).

    Raises:
        StorageError: the previous table cannot be read or the new one cannot be written.
    """
    began = time.perf_counter()
    out_dir = out_dir.resolve()
    stem = out_dir / RESULTS_STEM
    finished = {str(r["key"]): r for r in read_rows(stem.with_suffix(".parquet"))
                if r.get("status") != ERROR}
    rows: list[Row | None] = [None] * len(points)
    waiting: dict[str, list[SweepPoint]] = {}
    outcome = SweepOutcome(rows=[])
    for point in points:
        if point.key in finished:
            earlier = {k: v for k, v in finished[point.key].items() if k != "pareto"}
            rows[point.index] = earlier | identity(point)
            outcome.skipped.append(point.key)
        else:
            waiting.setdefault(point.key, []).append(point)
    todo = [same[0] for same in waiting.values()]
    written_at = time.perf_counter()
    for index, row in run_tasks(
        client, run_point, todo, keys=[f"sweep-point-{p.key}" for p in todo],
        on_error=_worker_failure, label="sweep", console=console, extra=(out_dir / SESSIONS_DIR,),
    ):
        key = todo[index].key
        outcome.ran.append(key)
        for point in waiting[key]:
            rows[point.index] = row | identity(point)
        if time.perf_counter() - written_at >= WRITE_INTERVAL_S:  # an interrupted run keeps them
            write_table([r for r in rows if r is not None], stem)
            written_at = time.perf_counter()
    done = [r for r in rows if r is not None]
    outcome.rows = [r | {"pareto": flag} for r, flag in zip(done, on_front(done), strict=True)]
    outcome.failed = [str(r["key"]) for r in outcome.rows if r.get("status") == ERROR]
    outcome.files = [*write_table(outcome.rows, stem), out_dir / PLOT_NAME]
    plot_tradeoff(outcome.rows, out_dir / PLOT_NAME, title)
    outcome.wall_s = time.perf_counter() - began
    return outcome
