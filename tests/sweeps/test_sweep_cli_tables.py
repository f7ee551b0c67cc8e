"""The sweep command's printed tables: faulted points counted apart, long names wrapped whole."""

from __future__ import annotations

from rich.console import Console

from rehabbot.sweeps.cli import _table, outcome_counts

ROWS = [
    {"key": "p0", "profile": "healthy", "status": "completed"},
    {"key": "p1", "profile": "stroke_left", "status": "faulted",
     "faults": "position_limit on hip_flexion_r at 3.2 s; position_limit on hip_flexion_l"},
    {"key": "p2", "profile": "stroke_left", "status": "aborted"},
    {"key": "p3", "profile": "sci_incomplete", "status": "error", "error": "RuntimeError: x"},
]


def test_faulted_and_aborted_points_are_counted_apart_from_failures() -> None:
    assert outcome_counts(ROWS) == "1 completed, 1 faulted, 1 aborted, 1 failed to run"


def test_tables_wrap_joint_names_instead_of_cutting_them_at_60_columns() -> None:
    console = Console(width=60, record=True)
    console.print(_table("faulted", ROWS[1:2], ["key", "profile", "status", "faults"]))
    shown = console.export_text()
    assert "…" not in shown
    cells = [line.split("│")[4].strip() for line in shown.splitlines() if line.count("│") == 5]
    assert "".join(cells).replace(" ", "") == ROWS[1]["faults"].replace(" ", "")
